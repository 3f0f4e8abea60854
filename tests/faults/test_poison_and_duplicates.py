"""Faults at the consumer: poison messages among good ones, a handler that
raises, every message delivered twice, and the consumer killed (SIGKILL) in
the middle of handling.

Each good message opens one referral; a poison message is parked and the
consumer goes on with the next (delivery contract 2 and 3).
"""

from __future__ import annotations

import time

import amqp
import pytest

from services.catalog.service import CatalogService
from services.referral.application import ReferralApplication
from services.referral.service import ReferralService
from shared import parked as parked_command
from shared.parking import PARKED, REPLAYING, RESOLVED, ParkingLot
from shared.providers import application_of
from tests import support
from tests.faults import tally


def poison_messages(position: int) -> list:
    """Four messages no handler can take, each in its own way."""
    good = tally.referred_envelopes(1, position)[0]
    unparseable = amqp.Message(
        b"{\xff not json", content_type="application/json", delivery_mode=2
    )
    not_an_object = ["DemandReferred", good["aggregate_id"]]
    missing_fields = {k: v for k, v in good.items() if k != "position"}
    # a newer contract than this consumer knows (signed by intake, as it
    # would be): it must not guess at it
    unknown_version = support.signed(
        {**good, "schema_version": 2, "position": position + 1}
    )
    return [unparseable, not_an_object, missing_fields, unknown_version]


@pytest.mark.parametrize("backend", ["postgres"])
def test_poison_messages_park_and_the_consumer_goes_on(
    databases, runner_factory, amqp_uri, fault_report
):
    runner_factory(ReferralService, CatalogService)
    good = tally.referred_envelopes(40)
    poison = poison_messages(1000)
    mixed = good[:10] + poison[:2] + good[10:30] + poison[2:] + good[30:]

    tally.publish(amqp_uri, mixed)

    referral_url = databases["referral"]
    support.wait_for(
        lambda: tally.referrals_opened(referral_url)[1] >= len(good), timeout=30
    )
    support.wait_for(lambda: len(tally.parked_rows(referral_url)) >= len(poison))
    time.sleep(0.3)  # room for a late duplicate or a second parking
    opened, distinct = tally.referrals_opened(referral_url)
    parked = tally.parked_rows(referral_url)
    fault_report(
        "poison message",
        sent=len(mixed),
        effects=distinct,
        lost=len(good) - distinct,
        duplicated=opened - distinct,
        parked=len(parked),
        note=f"{len(poison)} poison among {len(good)} good",
    )
    assert distinct == len(good) and opened == distinct
    assert len(parked) == len(poison)
    errors = " | ".join(row[2] for row in parked)
    assert "schema version 2" in errors


@pytest.mark.parametrize("backend", ["postgres"])
def test_every_message_twice_and_the_consumer_killed_mid_handler(
    databases, runner_factory, amqp_uri, fault_report
):
    runner_factory(CatalogService)  # referral asks it for the item's partners
    env = {"QI_METRICS_REFRESH_SECONDS": "0.5"}
    first = support.ServiceInstance("referral", env).start()
    bodies = tally.referred_envelopes(120)
    referral_url = databases["referral"]
    try:
        # the whole stream, then the whole stream again: as a relay that
        # re-published everything after losing its position would
        tally.publish(amqp_uri, bodies + bodies)
        support.wait_for(
            lambda: tally.referrals_opened(referral_url)[1] >= 40, timeout=30
        )
    finally:
        first.kill()  # SIGKILL while handlers are at work: unacked come back
    killed_at = tally.referrals_opened(referral_url)[1]

    second = support.ServiceInstance("referral", env).start()
    try:
        support.wait_for(
            lambda: tally.referrals_opened(referral_url)[1] >= len(bodies),
            timeout=60,
            interval=0.2,
        )
        time.sleep(0.5)  # room for a late duplicate
        ignored = support.metric_value(
            second.scrape(), "qi_referral_duplicates_ignored_total"
        )
    finally:
        second.kill()
    opened, distinct = tally.referrals_opened(referral_url)
    parked = tally.parked_rows(referral_url)
    fault_report(
        "duplicate delivery + kill -9 mid-handler",
        sent=2 * len(bodies),
        effects=distinct,
        lost=len(bodies) - distinct,
        duplicated=opened - distinct,
        parked=len(parked),
        note=f"{len(bodies)} distinct; killed after {killed_at}; "
        f"{ignored:.0f} duplicates ignored after the restart",
    )
    assert distinct == len(bodies) and opened == distinct
    assert killed_at < len(bodies)  # the kill came mid-stream
    assert parked == []
    assert ignored >= len(bodies) - killed_at


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_handler_that_raises_parks_and_a_replay_after_the_fix_applies_it(
    databases, runner_factory, amqp_uri, fault_report
):
    runner = runner_factory(ReferralService, CatalogService)
    lot = ParkingLot(application_of(support.container_of(runner, "referral")).kernel)
    bodies = tally.referred_envelopes(50)
    doomed = {b["aggregate_id"] for b in bodies[::10]}  # one in ten
    opening = ReferralApplication._new_referral

    def broken_for_some(case_id, *args):
        if case_id in doomed:
            raise RuntimeError("referral rules broken for this case")
        return opening(case_id, *args)

    referral_url = databases["referral"]
    with pytest.MonkeyPatch.context() as bug:
        bug.setattr(ReferralApplication, "_new_referral", staticmethod(broken_for_some))
        tally.publish(amqp_uri, bodies)
        support.wait_for(lambda: len(lot.list(PARKED)) >= len(doomed), timeout=30)
        support.wait_for(
            lambda: (
                tally.referrals_opened(referral_url)[1] >= len(bodies) - len(doomed)
            ),
            timeout=30,
            interval=0.1,
        )
    before_replay = tally.referrals_opened(referral_url)[1]
    parked_count = len(lot.list(PARKED))

    # the bug is fixed: ops replay what was parked
    assert parked_command.main(["--service", "referral", "replay", "--all"]) == 0
    support.wait_for(
        lambda: tally.referrals_opened(referral_url)[1] >= len(bodies), timeout=30
    )
    support.wait_for(lambda: not lot.list(PARKED) and not lot.list(REPLAYING))
    opened, distinct = tally.referrals_opened(referral_url)
    resolved = lot.list(RESOLVED)
    fault_report(
        "handler that raises",
        sent=len(bodies),
        effects=distinct,
        lost=len(bodies) - distinct,
        duplicated=opened - distinct,
        parked=parked_count,
        note=f"{before_replay} applied at once, {len(resolved)} after "
        "the fix and a replay",
    )
    assert before_replay == len(bodies) - len(doomed)
    assert parked_count == len(doomed) and len(resolved) == len(doomed)
    assert (opened, distinct) == (len(bodies), len(bodies))
