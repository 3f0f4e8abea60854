"""The gateway's own tables beside its event store, declared once: answers
remembered under idempotency keys, the attempts the rate limits count, and
each account's token version (kept in the database, so every gateway
instance counts the same attempts and honours the same revocations)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Double,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
)

metadata = MetaData()

# answers kept under Idempotency-Keys (services/gateway/replays.py): only what
# a replay needs, the body encrypted, deleted after the retention period
replays = Table(
    "gateway_replays",
    metadata,
    Column("key", Text, primary_key=True),  # digest of the caller and the key
    Column("request", Text, nullable=False),  # digest of the route and body
    Column("status", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("kept_at", Double, nullable=False),
    Index("gateway_replays_by_age", "kept_at"),
)
# what the gateway kept before: whole answers in the clear, forever; dropped
# at start (services/gateway/accounts.py), never written again
LEGACY_IDEMPOTENCY = "gateway_idempotency"

attempts = Table(
    "gateway_attempts",
    metadata,
    Column("limiter", Text, nullable=False),
    Column("attempt_key", Text, nullable=False),
    Column("at", Double, nullable=False),
    Index("gateway_attempts_by_key", "limiter", "attempt_key", "at"),
)

token_versions = Table(
    "gateway_token_versions",
    metadata,
    # one row per account that ever had its sessions ended; none means 0
    Column("username", Text, primary_key=True),
    Column("version", Integer, nullable=False),
)
