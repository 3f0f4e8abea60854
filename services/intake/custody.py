"""Convenience services of 7.4.4: door-to-door visits, samples, report delivery.

One ``SampleCustody`` aggregate per demand (its id derives from the demand's),
so every hand-over of the demand's samples sees one consistent state: a sample
moves only from its current holder, and of two concurrent hand-overs the one
that saves second is retried on fresh state and refused. Business time is
passed in as aware datetimes, never read from the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import event

from services.intake.contract import (
    CONDITIONS,
    CUSTOMER,
    INTACT,
    REPORT_METHODS,
    VISITS,
)
from services.intake.domain import Demand
from shared import audit
from shared.application import AuditedAggregate, ServiceApplication
from shared.errors import NotFound, ValidationFailed
from shared.validation import (
    aware,
    require_day,
    require_email,
    require_phone,
    require_text,
)

T = TypeVar("T")
ENDED = {"returned": "已退还", "disposed": "已处置"}
MOVEMENTS = {"handed_over": "交接", "returned": "退还", "disposed": "处置"}


# -- rules on values --------------------------------------------------------


def _condition(condition: Any, note: Any) -> tuple[str, str]:
    """A condition of CONDITIONS; anything but 完好 needs a note."""
    if condition not in CONDITIONS:
        message = "样品状态应为：" + "、".join(CONDITIONS)
        raise ValidationFailed.single("condition", message)
    if condition == INTACT and (note is None or note == ""):
        return condition, ""
    return condition, require_text(note, "note", f"样品{condition}的情况说明", 500)


def _demand_key(demand_id: Any) -> str:
    try:
        return str(UUID(str(demand_id)))
    except ValueError:
        raise ValidationFailed.single("demand_id", "需求编号无效") from None


# -- the aggregate ----------------------------------------------------------


class SampleCustody(AuditedAggregate):
    """A demand's door-to-door visits, samples, their custody and reports."""

    @staticmethod
    def create_id(demand_id: Any) -> UUID:
        return uuid5(NAMESPACE_URL, f"qi-onestop:custody:{_demand_key(demand_id)}")

    @event("CustodyOpened")
    def __init__(self, demand_id: str):
        self.demand_id = _demand_key(demand_id)
        self.visits: list[dict] = []
        self.samples: dict[str, dict] = {}
        self.chains: dict[str, list[dict]] = {}
        self.deliveries: dict[str, list[dict]] = {}

    # -- door-to-door visits --------------------------------------------------

    def request_visit(self, kind, address, preferred_date, contact, phone) -> dict:
        """Ask for door-to-door acceptance (上门受理) or a sample pickup."""
        if not isinstance(kind, str) or kind not in VISITS:
            message = "上门服务应为：" + "、".join(VISITS.values())
            raise ValidationFailed.single("kind", message)
        address = require_text(address, "address", "上门地址", 200)
        preferred_date = require_day(preferred_date, "preferred_date", "期望日期")
        contact = require_text(contact, "contact", "联系人", 50)
        phone = require_phone(phone, "phone")
        visit = {"kind": kind, "address": address, "preferred_date": preferred_date}
        visit.update(contact=contact, phone=phone)
        if kind == "pickup":
            self._pickup_requested(visit)
        else:
            self._acceptance_visit_requested(visit)
        return dict(self.visits[-1])

    @event("AcceptanceVisitRequested")
    def _acceptance_visit_requested(self, visit: dict) -> None:
        self.visits.append(dict(visit))

    @event("PickupRequested")
    def _pickup_requested(self, visit: dict) -> None:
        self.visits.append(dict(visit))

    # -- samples and their chain of custody -------------------------------------

    def register_sample(
        self, sample_id, description, quantity, condition, note="", courier=None
    ) -> dict:
        """Register a sample held by the customer, or by the courier of a pickup."""
        sample_id = require_text(sample_id, "sample_id", "样品编号", 64)
        if sample_id in self.samples:
            raise ValidationFailed.single("sample_id", f"样品编号 {sample_id} 已登记")
        description = require_text(description, "description", "样品描述", 500)
        if type(quantity) is not int or quantity < 1:
            raise ValidationFailed.single("quantity", "样品数量应为正整数")
        condition, note = _condition(condition, note)
        holder = CUSTOMER
        if courier is not None:
            holder = require_text(courier, "courier", "取样人员", 100)
            if not any(v["kind"] == "pickup" for v in self.visits):
                message = "没有上门取样申请，不能登记为取样人员持有"
                raise ValidationFailed.single("courier", message)
        sample = {"id": sample_id, "description": description, "quantity": quantity}
        sample.update(condition=condition, note=note, holder=holder)
        self._sample_registered(sample)
        return dict(self.samples[sample_id])

    @event("SampleRegistered")
    def _sample_registered(self, sample: dict) -> None:
        self.samples[sample["id"]] = {**sample, "state": "held"}
        self.chains[sample["id"]] = []

    def _movable(self, sample_ids: Any, holder: Any, at: Any) -> dict:
        """The start of a movement: samples ``holder`` holds and may move at ``at``."""
        if not isinstance(sample_ids, list | tuple) or not sample_ids:
            raise ValidationFailed.single("sample_ids", "请列出交接的样品编号")
        if len(set(map(str, sample_ids))) != len(sample_ids):
            raise ValidationFailed.single("sample_ids", "样品编号重复")
        holder = require_text(holder, "from_party", "交出人", 100)
        at = aware(at, "at", "交接时间")
        for sid in sample_ids:
            sample = self.samples.get(sid) if isinstance(sid, str) else None
            if sample is None:
                raise ValidationFailed.single("sample_ids", f"没有样品 {sid}")
            if sample["state"] in ENDED:
                message = f"样品 {sid} {ENDED[sample['state']]}，不能再交接"
                raise ValidationFailed.single("sample_ids", message)
            if sample["holder"] != holder:
                message = f"样品 {sid} 当前由 {sample['holder']} 持有，只能由持有人交出"
                raise ValidationFailed.single("from_party", message)
            chain = self.chains[sid]
            if chain and at < chain[-1]["at"]:
                message = f"交接时间早于样品 {sid} 的上一次交接"
                raise ValidationFailed.single("at", message)
        return {"samples": list(sample_ids), "from_party": holder, "at": at}

    def _handing(self, movement: dict, to_party, place, condition, note) -> dict:
        to_party = require_text(to_party, "to_party", "接收人", 100)
        if to_party == movement["from_party"]:
            raise ValidationFailed.single("to_party", "不能交接给自己")
        place = require_text(place, "place", "交接地点", 200)
        condition, note = _condition(condition, note)
        movement.update(to_party=to_party, place=place, condition=condition)
        return {**movement, "note": note}

    def hand_over(
        self, sample_ids, from_party, to_party, at, place, condition, note=""
    ) -> dict:
        """The holder hands samples to someone else, noting where and their state."""
        movement = self._movable(sample_ids, from_party, at)
        self._handed_over(self._handing(movement, to_party, place, condition, note))
        return self.custody_chain(movement["samples"][0])[-1]

    @event("SampleHandedOver")
    def _handed_over(self, movement: dict) -> None:
        self._move("handed_over", movement)

    def return_samples(
        self, sample_ids, from_party, at, place, condition, note="", to_party=CUSTOMER
    ) -> dict:
        """Samples go back to the customer (or whom they name); custody ends."""
        movement = self._movable(sample_ids, from_party, at)
        self._returned(self._handing(movement, to_party, place, condition, note))
        return self.custody_chain(movement["samples"][0])[-1]

    @event("SampleReturned")
    def _returned(self, movement: dict) -> None:
        self._move("returned", movement)

    def dispose_samples(self, sample_ids, from_party, at, place, method) -> dict:
        """The holder disposes of samples (noting the method); custody ends."""
        movement = self._movable(sample_ids, from_party, at)
        movement.update(
            to_party=None, place=require_text(place, "place", "处置地点", 200)
        )
        movement.update(
            condition=None, note=require_text(method, "method", "处置方式", 500)
        )
        self._disposed(movement)
        return self.custody_chain(movement["samples"][0])[-1]

    @event("SampleDisposed")
    def _disposed(self, movement: dict) -> None:
        self._move("disposed", movement)

    def _move(self, action: str, movement: dict) -> None:
        for sid in movement["samples"]:
            self.chains[sid].append({"action": action, **movement})
            sample = self.samples[sid]
            sample["holder"] = movement["to_party"]
            sample["condition"] = movement["condition"] or sample["condition"]
            sample["state"] = action if action in ENDED else "held"

    def custody_chain(self, sample_id: str) -> list[dict]:
        """Every movement of the sample, oldest first."""
        if sample_id not in self.chains:
            raise ValidationFailed.single("sample_id", f"没有样品 {sample_id}")
        return [{**e, "samples": list(e["samples"])} for e in self.chains[sample_id]]

    # -- report delivery ----------------------------------------------------------

    def deliver_report(
        self,
        report_no,
        method,
        by,
        at,
        *,
        address=None,
        email=None,
        tracking_no=None,
        reason=None,
    ) -> dict:
        """Post a report, or send the free e-report; again only with a reason."""
        report_no = require_text(report_no, "report_no", "报告编号", 64)
        if not isinstance(method, str) or method not in REPORT_METHODS:
            message = "送达方式应为：" + "、".join(REPORT_METHODS.values())
            raise ValidationFailed.single("method", message)
        delivery = {"report_no": report_no, "method": method, "fee": 0}
        delivery["by"] = require_text(by, "by", "经办人", 100)
        delivery["at"] = aware(at, "at", "送达时间")
        if method == "post":  # postage is charged by the price list, not here
            delivery.update(
                address=require_text(address, "address", "邮寄地址", 200), fee=None
            )
            if tracking_no not in (None, ""):
                delivery["tracking_no"] = require_text(
                    tracking_no, "tracking_no", "快递单号", 200
                )
        elif method == "email":
            delivery["email"] = require_email(email, "email")
        if report_no not in self.deliveries:
            self._report_delivered(delivery)
        else:
            label = f"重新送达原因（报告 {report_no} 已送达）"
            delivery["reason"] = require_text(reason, "reason", label, 500)
            self._report_redelivered(delivery)
        return dict(self.deliveries[report_no][-1])

    @event("ReportDelivered")
    def _report_delivered(self, delivery: dict) -> None:
        self.deliveries[delivery["report_no"]] = [dict(delivery)]

    @event("ReportRedelivered")
    def _report_redelivered(self, delivery: dict) -> None:
        self.deliveries[delivery["report_no"]].append(dict(delivery))


# -- commands on a stored custody record --------------------------------------


def _load(app: ServiceApplication, demand_id: Any) -> SampleCustody:
    """The stored custody record, or a new one if the demand exists."""
    try:
        return app.repository.get(SampleCustody.create_id(demand_id))
    except AggregateNotFoundError:
        pass
    app.get_existing(_demand_key(demand_id), Demand, "demand")
    return SampleCustody(_demand_key(demand_id))


def change(app: ServiceApplication, demand_id: Any, command: Callable[..., T]) -> T:
    """Load (or open), apply ``command(custody)``, save; retried on fresh state.

    ``NotFound`` if the demand does not exist; ``ValidationFailed`` names the
    bad field and nothing is stored.
    """

    def attempt() -> T:
        custody = _load(app, demand_id)
        result = command(custody)
        # custody belongs to the demand's case, whoever handles it
        with audit.audit_scope(audit.current().with_correlation(str(demand_id))):
            app.save(custody)
        return result

    return app.retry_on_conflict(attempt)


def custody_for(app: ServiceApplication, demand_id: Any) -> SampleCustody:
    """The demand's custody record, opened and stored on first use."""
    return change(app, demand_id, lambda custody: custody)


def request_visit(app, demand_id, *args, **kwargs) -> dict:
    return change(app, demand_id, lambda c: c.request_visit(*args, **kwargs))


def register_sample(app, demand_id, *args, **kwargs) -> dict:
    return change(app, demand_id, lambda c: c.register_sample(*args, **kwargs))


def hand_over(app, demand_id, *args, **kwargs) -> dict:
    """Of two concurrent hand-overs of a sample one wins; the other is retried
    on fresh state and refused: its ``from_party`` no longer holds the sample."""
    return change(app, demand_id, lambda c: c.hand_over(*args, **kwargs))


def return_samples(app, demand_id, *args, **kwargs) -> dict:
    return change(app, demand_id, lambda c: c.return_samples(*args, **kwargs))


def dispose_samples(app, demand_id, *args, **kwargs) -> dict:
    return change(app, demand_id, lambda c: c.dispose_samples(*args, **kwargs))


def deliver_report(app, demand_id, *args, **kwargs) -> dict:
    return change(app, demand_id, lambda c: c.deliver_report(*args, **kwargs))


# -- reading a custody record as JSON (over RPC and HTTP) ---------------------


def as_json(value: Any) -> Any:
    """``value`` with its dates and times as ISO text, ready for JSON."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    return value


def _stored(app: ServiceApplication, demand_id: Any) -> SampleCustody | None:
    """The stored record; None if nothing was done yet (``NotFound``: no demand)."""
    app.get_existing(demand_id, Demand, "demand")
    try:
        return app.repository.get(SampleCustody.create_id(demand_id))
    except AggregateNotFoundError:
        return None


def _sample_view(sample: dict, movements: int) -> dict:
    state = ENDED.get(sample["state"], "保管中")
    return {**sample, "state_label": state, "movements": movements}


def custody_view(app: ServiceApplication, demand_id: Any) -> dict:
    """The demand's visits, samples with their holders, every movement (oldest
    first) and report deliveries; reading opens no record."""
    found = _stored(app, demand_id)
    if found is None:
        empty: dict = {"visits": [], "samples": [], "movements": [], "deliveries": []}
        return {"demand_id": _demand_key(demand_id), **empty, "version": 0}
    movements: dict[tuple, dict] = {}
    for chain in found.chains.values():
        for entry in chain:  # a movement of several samples is in each chain
            key = (entry["action"], entry["at"], entry["from_party"])
            labelled = {**entry, "action_label": MOVEMENTS[entry["action"]]}
            movements.setdefault((*key, tuple(entry["samples"])), labelled)
    visits = [{**v, "kind_label": VISITS[v["kind"]]} for v in found.visits]
    deliveries = [
        {**d, "method_label": REPORT_METHODS[d["method"]]}
        for delivered in found.deliveries.values()
        for d in delivered
    ]
    view = {
        "demand_id": found.demand_id,
        "visits": visits,
        "samples": [
            _sample_view(s, len(found.chains[sid])) for sid, s in found.samples.items()
        ],
        "movements": sorted(movements.values(), key=lambda m: m["at"]),
        "deliveries": sorted(deliveries, key=lambda d: d["at"]),
        "version": found.version,
    }
    return as_json(view)


def sample_chain(app: ServiceApplication, demand_id: Any, sample_id: Any) -> dict:
    """One sample as it stands and every movement of it; ``NotFound`` if the
    demand has no such sample."""
    found = _stored(app, demand_id)
    if found is None or not isinstance(sample_id, str):
        raise NotFound(f"sample {sample_id}")
    if sample_id not in found.samples:
        raise NotFound(f"sample {sample_id}")
    chain = [
        {**entry, "action_label": MOVEMENTS[entry["action"]]}
        for entry in found.custody_chain(sample_id)
    ]
    sample = _sample_view(found.samples[sample_id], len(chain))
    return as_json({"demand_id": found.demand_id, "sample": sample, "chain": chain})
