"""A province's year, written straight into each service's event store.

What the services would have stored over a year, made with their own domain
classes and policies and saved many aggregates a transaction (``save`` of a
chunk of demands at once), instead of through HTTP and RabbitMQ (~50
demands/s end to end here: 10^5 demands would take half an hour):

- catalog: the clause-6 items, the service guide, and the province's
  institutions with their qualifications, seeded from a file in the format of
  the demo accounts (``QI_SEED_ACCOUNTS``), which the gateway reads too;
- intake: each demand registered at a window (7.4.1), taken by a staff member
  (7.4.2), answered at once, or reviewed (contract review) and served
  in-house or referred (8.3.2–8.3.4), and resolved (8.3.5);
- referral: a referral per referred item, opened and matched from intake's
  ``DemandReferred`` as its consumer does, sent, accepted, completed with a
  report and its result fed back; intake records the feedback
  (``ReferralFeedback``) on the demand;
- complaints: a complaint about some resolved demands, handled to the
  communicated decision (ISO 10002);
- evaluation: every fact it subscribes to (intake's, referral's
  ``ReferralCompleted``, complaints' ``ComplaintReceived``) noted in the case
  record by its own ``FactPolicy``, which issues the satisfaction surveys
  (9.2.1); most are rated by the applicant, an unsatisfied rating opens its
  call-back and improvement item (9.3), the others expire as the sweep does.

The integration events each consumer applies are the envelopes the
publisher's relay would have sent: read back from the publisher's store and
made by its ``to_envelope``. Every event is stamped as the service would have
stamped it (actor, channel, the demand as correlation id, the cause) and
carries its hash chain; timestamps are those of a year of work (a clock the
loader sets before each step), up to now: a step that would fall after now
has not happened yet, so the year's last weeks leave open demands, referrals
and surveys, as a live platform has. Each relay's position is set to the end
of its store, as after a year of relaying, so starting the services publishes
nothing old.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import CanCreateTimestamp

from services.evaluation.contract import DIMENSIONS
from shared import calendar as platform_calendar
from shared.audit import Actor, AuditContext

SHANGHAI = platform_calendar.SHANGHAI
# items the windows' demands ask for, each covered by some partners' scopes
ITEMS = ("6.1", "6.1.1", "6.2.1", "6.3", "6.4.3", "6.5.2", "6.8", "6.8.2")
# (institution kind, qualification kind) of the partners, in turn
PARTNER_KINDS = (
    ("lab", "CMA"),
    ("metrology", "METROLOGY"),
    ("lab", "CNAS"),
    ("certification", "CERT_BODY"),
    ("lab", "FOOD"),
)
PASSWORD = "scale-bench-2026"
# what becomes of a demand: shares of answered at once, in-house, referred
OUTCOME_SHARES = (("answered", 0.35), ("in_house", 0.25), ("referred", 0.40))
RATED_SHARE = 0.6  # surveys the applicant rates (the rest expire)
UNSATISFIED_SHARE = 0.05  # of the ratings
COMPLAINED_SHARE = 0.015  # resolved demands a complaint is made about
CHUNK = 250  # demands per chunk: each service saves a chunk in one transaction


# -- the province ---------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """An institution whose window registers demands: its staff and manager."""

    code: str
    staff: tuple[str, ...]
    manager: str


@dataclass
class Province:
    windows: list[Window]
    partners: list[str]  # codes
    seed: dict  # the seed file's content (institutions, accounts)

    def write_seed(self, path: Path) -> Path:
        path.write_text(json.dumps(self.seed, ensure_ascii=False), encoding="utf-8")
        return path


def province(
    institutions: int, staff_per_window: int, boards: int, rng: random.Random
) -> Province:
    """``institutions`` institutions: one in eight (at least one) a one-stop
    window (a service centre; it receives demands and refers them), the others
    partners (labs, metrology, certification) with one to three
    qualifications each. Accounts: the regulator, and the manager and staff of
    the first ``boards`` windows (the boards the bench reads); the other
    windows' staff appear in events only."""
    count = max(2, institutions)
    window_count = max(1, count // 8)
    windows = [
        Window(
            code=f"w{i:03d}",
            staff=tuple(f"w{i:03d}.staff{k}" for k in range(1, staff_per_window + 1)),
            manager=f"w{i:03d}.manager",
        )
        for i in range(1, window_count + 1)
    ]
    partners = [f"p{i:03d}" for i in range(1, count - window_count + 1)]
    seeded = []
    for window in windows:
        seeded.append(
            {
                "code": window.code,
                "name": f"第{window.code[1:]}一站式服务中心（压测）",
                "kind": "service_centre",
                "contact_phone": "025-80000000",
                "address": "压测市服务路1号",
                "qualifications": [],
            }
        )
    for n, code in enumerate(partners):
        kind, qualification = PARTNER_KINDS[n % len(PARTNER_KINDS)]
        # every item has partners: the first scope goes round the items
        first = ITEMS[n % len(ITEMS)]
        others = [i for i in ITEMS if i != first]
        scopes = [first, *rng.sample(others, k=rng.randint(0, 2))]
        seeded.append(
            {
                "code": code,
                "name": f"压测技术机构{code[1:]}",
                "kind": kind,
                "contact_phone": "025-81000000",
                "address": "压测市检测大道2号",
                "qualifications": [
                    {
                        "kind": qualification,
                        "cert_no": f"BENCH-{code}-{q}",
                        "scope_codes": [scope],
                        "scope_text": f"压测资质 {scope}",
                        "valid_from": "2024-01-01",
                        "valid_to": "2029-12-31",
                    }
                    for q, scope in enumerate(scopes, start=1)
                ],
            }
        )
    accounts = [
        {
            "username": "scale.regulator",
            "display_name": "压测监管",
            "role": "regulator",
            "institution": "",
            "password": PASSWORD,
        }
    ]
    for window in windows[:boards]:
        accounts.append(
            {
                "username": window.manager,
                "display_name": f"{window.code}管理",
                "role": "manager",
                "institution": window.code,
                "password": PASSWORD,
            }
        )
        for staff in window.staff:
            accounts.append(
                {
                    "username": staff,
                    "display_name": staff[-6:],
                    "role": "staff",
                    "institution": window.code,
                    "password": PASSWORD,
                }
            )
    seed = {
        "note": "bench.scale: a province generated for the bench, fictitious",
        "institutions": seeded,
        "accounts": accounts,
    }
    return Province(windows, partners, seed)


def spread_moments(
    count: int, start: datetime, end: datetime, rng: random.Random
) -> list[datetime]:
    """``count`` moments between ``start`` and ``end``, in order, each within
    a Beijing working day's hours (Monday to Friday, 08:30 to 17:30): when a
    window registers demands. Aware, in UTC."""
    days = []
    day = start.astimezone(SHANGHAI).date()
    last = end.astimezone(SHANGHAI).date()
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    if not days:
        raise ValueError("no working day between start and end")
    found = []
    while len(found) < count:
        day = rng.choice(days)
        minute = rng.randrange(8 * 60 + 30, 17 * 60 + 30)
        moment = datetime(
            day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=SHANGHAI
        ) + timedelta(seconds=rng.randrange(60))
        if start <= moment <= end:
            found.append(moment.astimezone(UTC))
    return sorted(found)


# -- the clock and the audit stamp -------------------------------------------


class LoadClock:
    """The moment every event made now carries (eventsourcing's
    ``create_timestamp``) and every date rule reads (``shared.calendar.CLOCK``):
    set by the loader before each step of a demand's year."""

    def __init__(self):
        self.moment = datetime.now(UTC)

    def set(self, moment: datetime) -> None:
        self.moment = moment

    @contextmanager
    def installed(self) -> Iterator[None]:
        before_stamp = CanCreateTimestamp.__dict__["create_timestamp"]
        before_clock = platform_calendar.CLOCK
        CanCreateTimestamp.create_timestamp = staticmethod(lambda: self.moment)
        platform_calendar.CLOCK = lambda: self.moment
        try:
            yield
        finally:
            CanCreateTimestamp.create_timestamp = before_stamp
            platform_calendar.CLOCK = before_clock


def stamp(aggregates: Iterable, context: AuditContext) -> None:
    """Stamp the pending events not stamped yet with ``context``, as
    ``ServiceApplication`` stamps them at save inside an ``audit_scope``
    (here many steps of many cases are saved together)."""
    data = context.as_dict()
    for aggregate in aggregates:
        for event in aggregate.pending_events:
            event.__dict__.setdefault("audit", data)


class ChunkRepository:
    """The aggregates of one chunk, for the consumers' policies in place of
    the application's repository: each chunk's demands live their whole year
    within it, so what a policy looks for was made in the chunk or does not
    exist (the loader is the store's only writer)."""

    def __init__(self):
        self.aggregates: dict = {}

    def get(self, aggregate_id, version=None):
        try:
            return self.aggregates[UUID(str(aggregate_id))]
        except KeyError:
            raise AggregateNotFoundError(aggregate_id) from None

    def add(self, *aggregates) -> None:
        for aggregate in aggregates:
            self.aggregates[aggregate.id] = aggregate

    def changed(self) -> list:
        return [a for a in self.aggregates.values() if a.pending_events]


# -- the loader ------------------------------------------------------------------


@dataclass
class Counts:
    demands: int = 0
    referrals: int = 0
    surveys: int = 0
    ratings: int = 0
    complaints: int = 0
    events: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_events(self) -> int:
        return sum(self.events.values())


class Relayed:
    """A publisher's stored events after the last read, as its relay's
    envelopes (``to_envelope``), read back from its store."""

    def __init__(self, app, to_envelope):
        self.app = app
        self.to_envelope = to_envelope
        self.position = app.recorder.max_notification_id() or 0

    def new(self) -> list:
        found = []
        while batch := self.app.recorder.select_notifications(
            start=self.position + 1, limit=2000
        ):
            for notification in batch:
                event = self.app.mapper.to_domain_event(notification)
                envelope = self.to_envelope(event, notification)
                if envelope is not None:
                    found.append(envelope)
            self.position = batch[-1].id
        return found


def minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=rng.uniform(low, high))


def hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


class YearLoader:
    """Writes the year into the stores of ``apps`` (name -> application,
    opened with the run's key): catalog first, then the demands chunk by
    chunk."""

    def __init__(
        self,
        apps: dict,
        place: Province,
        seed_path: Path,
        rng: random.Random,
        now: datetime,
        progress: Callable[[str], None],
    ):
        from services.complaints.schemas import to_envelope as complaints_envelope
        from services.intake.schemas import to_envelope as intake_envelope
        from services.referral.schemas import to_envelope as referral_envelope

        self.apps = apps
        self.place = place
        self.seed_path = seed_path
        self.rng = rng
        self.now = now
        self.progress = progress
        self.clock = LoadClock()
        self.calendar = platform_calendar.calendar_from_env()
        self.counts = Counts()
        self.relayed = {
            "intake": Relayed(apps["intake"], intake_envelope),
            "referral": Relayed(apps["referral"], referral_envelope),
            "complaints": Relayed(apps["complaints"], complaints_envelope),
        }
        self.items: dict[str, dict] = {}
        self.candidates: dict[str, list[dict]] = {}
        self.referral_code = 0
        self.demand_ids: list[str] = []

    # -- catalog -------------------------------------------------------------

    def load_catalog(self) -> None:
        from services.referral.matching import rank_candidates

        catalog = self.apps["catalog"]
        catalog.seed_items()
        catalog.seed_guide()
        catalog.seed_institutions()
        catalog.seed_demo_province(str(self.seed_path))
        today = self.now.astimezone(SHANGHAI).date().isoformat()
        for code in ITEMS:
            self.items[code] = catalog.item(code)
            rows = catalog.qualified_institutions(code, today)
            # the partners' load and record are left out: ranked by fit
            self.candidates[code] = rank_candidates(rows, code, {}, {})

    # -- the demands ---------------------------------------------------------

    def load_demands(self, count: int, start: datetime) -> Counts:
        started = time.perf_counter()
        moments = spread_moments(count, start, self.now, self.rng)
        with self.clock.installed():
            for first in range(0, count, CHUNK):
                self._chunk(moments[first : first + CHUNK])
                done = min(count, first + CHUNK)
                if done % (CHUNK * 20) == 0 or done == count:
                    elapsed = time.perf_counter() - started
                    self.progress(
                        f"loaded {done:,} of {count:,} demands "
                        f"({done / elapsed:,.0f}/s, {elapsed:,.0f}s)"
                    )
        for name, app in self.apps.items():
            self.counts.events[name] = app.recorder.max_notification_id() or 0
        self.counts.seconds = time.perf_counter() - started
        return self.counts

    def _chunk(self, moments: list[datetime]) -> None:
        demands = {}  # id -> (demand, window, owner, plan)
        for moment in moments:
            demand, window, owner, plan = self._demand(moment)
            demands[str(demand.id)] = (demand, window, owner, plan)
        self._save("intake", [d for d, *_ in demands.values()])
        relayed = self.relayed["intake"].new()
        referrals = self._referrals(
            [e for e in relayed if e.type == "DemandReferred"], demands
        )
        from_referral = self.relayed["referral"].new()
        relayed += from_referral
        self._feedback(
            [e for e in from_referral if e.type == "ReferralFeedback"], demands
        )
        self._resolve(demands, referrals)
        self._save("intake", [d for d, *_ in demands.values() if d.pending_events])
        resolved = self.relayed["intake"].new()
        relayed += resolved
        self._complaints([e for e in resolved if e.type == "DemandResolved"])
        relayed += self.relayed["complaints"].new()
        self._evaluation(relayed)

    def _save(self, service: str, aggregates: list) -> None:
        if aggregates:
            self.apps[service].save(*aggregates)

    def _demand(self, registered: datetime):
        """One demand's steps at its window up to its decision (or now)."""
        from services.intake.domain import Demand
        from services.intake.registration import RegistrationForm

        rng = self.rng
        window = rng.choice(self.place.windows)
        owner = rng.choice(window.staff)
        code = rng.choice(ITEMS)
        channel = rng.choice(("window", "window", "phone", "website", "wechat"))
        form = RegistrationForm.parse(
            {
                "applicant": f"压测委托单位{rng.randrange(10**6):06d}",
                "contact_phone": f"138{rng.randrange(10**8):08d}",
                "service_item_code": code,
                "description": "检测需求（压测）",
                "channel": channel,
            }
        )
        staff = Actor(owner, "staff", window.code)
        self.clock.set(registered)
        demand = Demand.register(form, None, window.code)
        case = str(demand.id)
        self.demand_ids.append(case)
        stamp([demand], AuditContext(staff, channel, case))
        at_window = AuditContext(staff, "web", case)
        outcome = self._outcome()
        plan = {"outcome": outcome, "code": code}
        self.counts.demands += 1
        steps = [(minutes(rng, 2, 90), lambda: demand.take(owner))]
        if outcome == "answered":
            answer = {"answer": "已当场答复（压测）"}
            steps.append(
                (
                    minutes(rng, 5, 60),
                    lambda: demand.decide(owner, "answered", answer),
                )
            )
        else:
            checks = {"capability": True, "method": True, "cycle": True, "fee": True}
            steps.append(
                (minutes(rng, 5, 60), lambda: demand.review_contract(owner, checks))
            )
            steps.append(
                (minutes(rng, 5, 120), lambda: self._decide(demand, owner, outcome))
            )
        moment = done = registered
        for delay, step in steps:
            moment += delay
            if moment > self.now:
                break
            self.clock.set(moment)
            step()
            stamp([demand], at_window)
            done = moment
        plan["decided_at"] = done if demand.triage else None
        return demand, window, owner, plan

    def _decide(self, demand, owner: str, outcome: str) -> None:
        """Refer every item, or serve in-house, due at the close of the
        item's cycle in working days (8.3.2), as ``IntakeApplication.decide``
        computes it."""
        if outcome == "referred":
            demand.decide(owner, outcome, {})
            return
        cycle = int(self.items[demand.needs[0]["item_code"]]["cycle_days"])
        due = self.calendar.deadline(self.clock.moment, cycle).isoformat()
        demand.decide(owner, outcome, {"department": "检测一部"}, due)

    def _outcome(self) -> str:
        roll, total = self.rng.random(), 0.0
        for outcome, share in OUTCOME_SHARES:
            total += share
            if roll < total:
                return outcome
        return OUTCOME_SHARES[-1][0]

    # -- referral -----------------------------------------------------------

    def _referrals(self, referred: list, demands: dict) -> dict[str, list]:
        """Open each referred item's referral from ``DemandReferred`` as
        referral's consumer does (matched to the best-ranked candidate), then
        send, accept, complete and feed back, each when it happens."""
        from services.referral.application import ReferralApplication
        from services.referral.policies import PolicyCopy

        rng = self.rng
        unchanged = PolicyCopy.unchanged()
        made: dict[str, list] = {}
        for envelope in referred:
            case = envelope.data["demand_id"]
            _, window, owner, _ = demands[case]
            origin = {
                "kind": "demand",
                "requester": {"kind": "customer", "name": ""},
                "first_responder": envelope.data["first_responder"],
                "origin_institution": envelope.actor.get("institution", ""),
                "green_channel": bool(envelope.data.get("green_channel")),
                "description": "",
            }
            opened = datetime.fromisoformat(envelope.occurred_at) + timedelta(seconds=1)
            for code in dict.fromkeys(envelope.data["items"]):
                self.clock.set(opened)
                referral = ReferralApplication._new_referral(
                    case, code, origin, self.items[code], self.candidates[code]
                )
                stamp([referral], envelope.caused_context("referral"))
                made.setdefault(case, []).append(referral)
                self.counts.referrals += 1
                partner = Actor(
                    f"{referral.assignee_id[:8]}.partner",
                    "partner",
                    referral.assignee_id,
                )
                by_staff = AuditContext(Actor(owner, "staff", window.code), "web", case)
                by_partner = AuditContext(partner, "web", case)
                cycle = max(1, int(referral.cycle_days))
                steps = [
                    (
                        minutes(rng, 10, 240),
                        by_staff,
                        lambda r=referral: (
                            r.apply_policy(unchanged["version"], unchanged["limits"]),
                            r.send(self.clock.moment, self.calendar),
                        ),
                    ),
                    (
                        hours(rng, 1, 40),
                        by_partner,
                        lambda r=referral: r.accept(self.clock.moment, self.calendar),
                    ),
                    (
                        timedelta(days=cycle * rng.uniform(0.3, 1.2)),
                        by_partner,
                        lambda r=referral: self._complete(r),
                    ),
                    (
                        hours(rng, 1, 24),
                        by_partner,
                        lambda r=referral: r.deliver_feedback("已出具报告（压测）"),
                    ),
                ]
                if referral.status != "matched":  # no qualified partner
                    continue
                moment = opened
                for delay, context, step in steps:
                    moment += delay
                    if moment > self.now:
                        break
                    self.clock.set(moment)
                    step()
                    stamp([referral], context)
        self._save("referral", [r for found in made.values() for r in found])
        return made

    def _complete(self, referral) -> None:
        self.referral_code += 1
        at = self.clock.moment
        report = {
            "report_no": f"BENCH-R{self.referral_code:07d}",
            "issued_on": at.date().isoformat(),  # as complete checks it
            "sha256": f"{self.referral_code:064x}",
            "conclusion": "合格",
        }
        referral.complete(report, at, f"V{self.referral_code:09d}")

    def _feedback(self, delivered: list, demands: dict) -> None:
        """Intake's consumer of ``ReferralFeedback``: the result on the
        demand, for its owner (``record_feedback``)."""
        from services.intake.feedback import record_feedback

        chunk = ChunkRepository()
        chunk.add(*(d for d, *_ in demands.values()))
        owner = SimpleNamespace(get_existing=lambda i, kind, label: chunk.get(i))
        summaries = {}
        for envelope in delivered:
            summaries[envelope.data["referral_id"]] = "已出具报告（压测）"
            self.clock.set(
                datetime.fromisoformat(envelope.occurred_at) + timedelta(seconds=1)
            )
            changed = record_feedback(owner, envelope, summaries.get)
            stamp(changed, envelope.caused_context("intake"))

    def _resolve(self, demands: dict, referrals: dict[str, list]) -> None:
        """In-house service ends within its cycle; a referred demand ends
        after every referral's result came back (8.3.5)."""
        rng = self.rng
        for case, (demand, window, owner, plan) in demands.items():
            if demand.status not in ("in_service", "referred"):
                continue
            if plan["outcome"] == "in_house":
                cycle = int(self.items[plan["code"]]["cycle_days"])
                moment = plan["decided_at"] + timedelta(
                    days=cycle * rng.uniform(0.2, 1.3)
                )
            else:
                found = referrals.get(case, [])
                if not found or any(r.feedback is None for r in found):
                    continue
                last = max(r.modified_on for r in found)
                moment = last + hours(rng, 1, 48)
            if moment > self.now:
                continue
            self.clock.set(moment)
            demand.resolve(owner, "服务已完成（压测）")
            stamp(
                [demand], AuditContext(Actor(owner, "staff", window.code), "web", case)
            )

    # -- complaints ---------------------------------------------------------

    def _complaints(self, resolved: list) -> None:
        from services.complaints.domain import Complaint

        rng = self.rng
        made = []
        for envelope in resolved:
            if rng.random() >= COMPLAINED_SHARE:
                continue
            case = envelope.data["demand_id"]
            window = envelope.actor.get("institution", "")
            received = datetime.fromisoformat(envelope.occurred_at) + timedelta(
                days=rng.uniform(1, 10)
            )
            if received > self.now:
                continue
            self.clock.set(received)
            complaint = Complaint.receive(
                {
                    "channel": "hotline",
                    "anonymous": False,
                    "complainant_name": "压测投诉人",
                    "complainant_phone": f"139{rng.randrange(10**8):08d}",
                    "description": "办理时间过长（压测）",
                    "remedy_requested": "说明原因",
                    "received_at": received,
                    "demand_id": case,
                    "institution_id": window,
                    "staff_id": envelope.data.get("resolved_by", ""),
                },
                self.apps["complaints"].new_code(),
            )
            manager = Actor(f"{window}.manager", "manager", window)
            stamp([complaint], AuditContext(CALLER, "phone", case))
            handling = AuditContext(manager, "web", case)
            outcome = rng.choice(("not_upheld", "not_upheld", "partly_upheld"))
            remedy = "" if outcome == "not_upheld" else "致歉并加快办理"
            steps = (
                ("acknowledge", (manager.id,)),
                ("assess", ("low", "low", "个案")),
                ("assign_investigator", (f"{window}.investigator",)),
                ("decide", (outcome, "已调查核实（压测）", remedy)),
                ("communicate", ("电话", "")),
            )
            moment = received
            for command, args in steps:
                moment += hours(rng, 4, 48)
                if moment > self.now:
                    break
                self.clock.set(moment)
                getattr(complaint, command)(*args)
                stamp([complaint], handling)
            made.append(complaint)
            self.counts.complaints += 1
        self._save("complaints", made)

    # -- evaluation ---------------------------------------------------------

    def _evaluation(self, relayed: list) -> None:
        """Evaluation's consumers over the chunk's envelopes in the order
        they happened (``FactPolicy``), then the surveys' year: rated by the
        applicant within the window (an unsatisfied rating with its
        call-back and improvement item), or expired by the sweep."""
        from services.evaluation.policy import FactPolicy
        from services.evaluation.records import FACTS

        facts = set(FACTS)
        chunk = ChunkRepository()
        app = SimpleNamespace(repository=chunk)
        policy = FactPolicy(app, self.calendar)
        for envelope in sorted(relayed, key=lambda e: (e.occurred_at, e.position)):
            if (envelope.source, envelope.type) not in facts:
                continue
            self.clock.set(
                datetime.fromisoformat(envelope.occurred_at) + timedelta(seconds=1)
            )
            changed = policy(envelope)
            stamp(changed, envelope.caused_context("evaluation"))
            chunk.add(*changed)
        self._surveys(chunk)
        self._save("evaluation", chunk.changed())

    def _surveys(self, chunk: ChunkRepository) -> None:
        from services.evaluation.application import EvaluationApplication
        from services.evaluation.domain import Survey

        rng = self.rng
        follow_up = SimpleNamespace(repository=chunk, calendar=self.calendar)
        for survey in [a for a in chunk.aggregates.values() if isinstance(a, Survey)]:
            self.counts.surveys += 1
            ended = datetime.fromisoformat(survey.ended_at)
            case = survey.demand_id
            if rng.random() < RATED_SHARE:
                at = ended + hours(rng, 1, 72)
                if at <= min(self.now, survey.due):
                    unsatisfied = rng.random() < UNSATISFIED_SHARE
                    self.clock.set(at)
                    survey.rate(case, rating_form(rng, unsatisfied), at)
                    changed = [survey]
                    if survey.unsatisfied:
                        changed += EvaluationApplication._follow_up(
                            follow_up, survey, at
                        )
                    stamp(changed, AuditContext(CUSTOMER, "website", case))
                    chunk.add(*changed)
                    self.counts.ratings += 1
                    continue
            expiry = survey.due + hours(rng, 0, 1)
            if expiry <= self.now:
                self.clock.set(expiry)
                survey.expire(expiry)
                stamp([survey], AuditContext(SWEEPER, "internal", case))

    # -- after the year -----------------------------------------------------

    def settle_relays(self) -> None:
        """Each relay's position at the end of its store: a year's events
        were published long ago."""
        from shared.tables import relay_position

        for name, app in self.apps.items():
            newest = app.recorder.max_notification_id() or 0
            saving = app.kernel.insert(relay_position).values(
                service=name, position=newest
            )
            app.kernel.execute(
                saving.on_conflict_do_update(
                    index_elements=[relay_position.c.service],
                    set_={"position": newest},
                )
            )


CALLER = Actor(id="anonymous", role="customer")
CUSTOMER = Actor(id="customer", role="customer")
SWEEPER = Actor(id="service:evaluation", role="system")


def rating_form(rng: random.Random, unsatisfied: bool) -> dict:
    """Appendix C's form: overall and every dimension on five levels."""
    levels = (
        ("不满意", "非常不满意") if unsatisfied else ("非常满意", "满意", "基本满意")
    )
    return {
        "overall": rng.choice(levels),
        "dimensions": {d: rng.choice(levels) for d in DIMENSIONS},
        "comments": "等待时间较长（压测）" if unsatisfied else "",
    }
