"""Counting what came of the messages a fault test sent, in the stores."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

import amqp
import psycopg
from kombu import Connection

from services.referral.domain import Referral
from shared import topology
from tests import support
from tests.integration.test_application_kernel import demand_referred

INTAKE_EXCHANGE = topology.event_exchange("intake").name


def schema_of(url: str) -> str:
    return url.split("schema=")[1]


def connect(url: str) -> psycopg.Connection:
    """A connection to the server and database of a service's URL."""
    return psycopg.connect(url.split("?")[0])


def referrals_opened(referral_url: str) -> tuple[int, int]:
    """(referrals opened, distinct referrals) in referral's PostgreSQL store:
    the first event of each Referral stream, so a second opening would show."""
    table = f"{schema_of(referral_url)}.referral_events"
    with connect(referral_url) as conn:
        row = conn.execute(
            f"SELECT COUNT(*), COUNT(DISTINCT originator_id) FROM {table} "
            "WHERE originator_version = 1 AND topic LIKE '%:Referral.%'"
        ).fetchone()
    return int(row[0]), int(row[1])


def parked_rows(url: str) -> list[tuple]:
    with connect(url) as conn:
        return conn.execute(
            f"SELECT event_type, position, error FROM {schema_of(url)}"
            ".qi_parked_messages ORDER BY id"
        ).fetchall()


def referred_envelopes(count: int, first_position: int = 1) -> list[dict]:
    """``count`` DemandReferred messages of distinct demands, item 6.3, signed
    with intake's key as its relay would sign them."""
    return [
        support.signed(demand_referred(first_position + i, str(uuid.uuid4())))
        for i in range(count)
    ]


def referral_ids(bodies: list[dict]) -> set:
    return {Referral.create_id(b["aggregate_id"], "6.3") for b in bodies}


def as_message(body: dict) -> amqp.Message:
    return amqp.Message(
        json.dumps(body, ensure_ascii=False),
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=2,
    )


def publish(amqp_uri: str, messages: list, exchange: str = INTAKE_EXCHANGE) -> None:
    """Publish, in order, bodies (as JSON) or ready ``amqp.Message``s
    as DemandReferred, each confirmed by the broker."""
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        topology.declare_for_source(channel, "intake")
        for message in messages:
            if not isinstance(message, amqp.Message):
                message = as_message(message)
            channel.basic_publish_confirm(
                message, exchange=exchange, routing_key="DemandReferred"
            )


def facts_noted(evaluation_url: str) -> tuple[int, int]:
    """(facts noted, distinct messages processed) by evaluation from intake:
    each integration event it takes in is one ``CaseRecord.Noted``, stored
    with one tracking record of its position (one row each, however often
    it came)."""
    schema = schema_of(evaluation_url)
    with connect(evaluation_url) as conn:
        (noted,) = conn.execute(
            f"SELECT COUNT(*) FROM {schema}.evaluation_events "
            "WHERE topic LIKE '%:CaseRecord.Noted'"
        ).fetchone()
        (tracked,) = conn.execute(
            f"SELECT COUNT(*) FROM {schema}.evaluation_tracking "
            "WHERE application_name = 'intake'"
        ).fetchone()
    return int(noted), int(tracked)


def first_events(url: str) -> int:
    """How many streams a service's PostgreSQL store holds: their first events."""
    service = schema_of(url).rsplit("_", 1)[1]
    with connect(url) as conn:
        row = conn.execute(
            f"SELECT COUNT(*) FROM {schema_of(url)}.{service}_events "
            "WHERE originator_version = 1"
        ).fetchone()
    return int(row[0])


# the services whose stores a whole-system fault test keeps on PostgreSQL
ON_POSTGRES = ("intake", "referral", "evaluation")


@dataclass(frozen=True)
class ReferralOutcome:
    """What came of ``sent`` demands filed and referred through the system."""

    sent: int
    stored: int  # demands intake stored
    opened: int  # referrals opened, counting any second opening
    distinct: int  # distinct referrals
    noted: int  # facts evaluation noted
    tracked: int  # distinct messages evaluation processed
    parked: list

    @property
    def figures(self) -> dict:
        return {
            "sent": self.sent,
            "effects": self.distinct,
            "lost": self.sent - self.distinct,
            "duplicated": (self.opened - self.distinct)
            + (self.stored - self.sent)
            + (self.noted - self.tracked),
            "parked": len(self.parked),
        }

    @property
    def note(self) -> str:
        return (
            f"{self.stored} demands stored, {self.tracked} facts noted by "
            "evaluation once each"
        )

    def assert_clean(self) -> None:
        assert self.stored == self.sent
        assert (self.opened, self.distinct) == (self.sent, self.sent)
        assert self.noted == self.tracked
        assert self.parked == [], self.parked


def settled_referral_outcome(urls: dict, sent: int, timeout: float) -> ReferralOutcome:
    """The outcome once every sent demand's referral is open, and a second
    later, which leaves room for a late duplicate to land."""
    support.wait_for(
        lambda: referrals_opened(urls["referral"])[1] >= sent,
        timeout=timeout,
        interval=0.2,
    )
    time.sleep(1.0)
    return referral_outcome(urls, sent)


def referral_outcome(urls: dict, sent: int) -> ReferralOutcome:
    noted, tracked = facts_noted(urls["evaluation"])
    return ReferralOutcome(
        sent,
        first_events(urls["intake"]),
        *referrals_opened(urls["referral"]),
        noted,
        tracked,
        parked_rows(urls["referral"]) + parked_rows(urls["evaluation"]),
    )


def streams(url: str) -> dict[str, str]:
    """Every stream of a service's PostgreSQL store: id -> its first topic."""
    service = schema_of(url).rsplit("_", 1)[1]
    with connect(url) as conn:
        rows = conn.execute(
            f"SELECT originator_id, topic FROM {schema_of(url)}.{service}_events "
            "WHERE originator_version = 1"
        ).fetchall()
    return {str(oid): topic for oid, topic in rows}
