"""Per-aggregate hash chain over stored domain events (audit contract).

Each event records ``prev_hash`` (the hash of the event before it in the same
stream, empty for the first) and ``chain_hash`` (the hash of its own content,
``prev_hash`` included). Altering any stored event breaks its own hash;
removing or reordering one breaks the link of the next.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

CHAIN_FIELDS = ("prev_hash", "chain_hash")


def canonical(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )


def event_hash(topic: str, state: dict) -> str:
    """Hash of one event: its topic and every attribute but its own hash."""
    content = {k: v for k, v in state.items() if k != "chain_hash"}
    payload = canonical({"topic": topic, "state": content})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    originator_id: str
    version: int
    reason: str


def verify_stream(events: Iterable[tuple[str, dict]]) -> ChainBreak | None:
    """Check one stream, given (topic, decoded state) in version order.

    Returns the first event whose content or link no longer holds, or None.
    """
    previous = ""
    for topic, state in events:
        version = state["originator_version"]
        oid = str(state["originator_id"])
        if state.get("prev_hash", None) != previous:
            return ChainBreak(oid, version, "link to the previous event is broken")
        recomputed = event_hash(topic, state)
        if state.get("chain_hash") != recomputed:
            return ChainBreak(oid, version, "content does not match its hash")
        previous = recomputed
    return None
