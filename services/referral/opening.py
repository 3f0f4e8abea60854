"""Opening referrals: from intake's DemandReferred (8.3.4), or directly as a
government-commissioned task (5.2.2 b) or product-recall support (6.9).

Catalog is asked first (the item's cycle, the qualified candidates); the
referrals are then built inside ``process`` from those answers, afresh on each
attempt, so a retried attempt stores them too.
"""

from __future__ import annotations

import json
from uuid import uuid4

from services.referral import access
from services.referral.domain import Referral
from services.referral.rules import (
    KINDS,
    RECALL_ITEM,
    REQUESTER_KINDS,
)
from services.referral.views import summary
from shared import audit
from shared.envelope import Envelope
from shared.errors import NotFound, ValidationFailed
from shared.parking import PARKED, ParkingLot
from shared.validation import optional_text, require_choice, require_text


class OpeningMixin:
    """Part of ``ReferralApplication``."""

    def on_demand_referred(self, envelope: Envelope, catalog) -> bool:
        """Open (and match) a referral per referred item; exactly once."""
        if self.has_processed(envelope.source, envelope.position):
            return False
        data = envelope.data
        actor = envelope.actor or {}
        origin = {
            "kind": "demand",
            "requester": {"kind": "customer", "name": ""},
            # older messages lack it: the decider is the envelope's actor
            "first_responder": data.get("first_responder") or actor.get("id", ""),
            "origin_institution": actor.get("institution", ""),
            "green_channel": bool(data.get("green_channel")),
            "description": "",
        }
        case_id = data["demand_id"]
        facts = {
            code: self._routing_facts(code, catalog)
            for code in dict.fromkeys(str(c) for c in data["items"])
            if not self._exists(Referral.create_id(case_id, code))
        }

        def policy(_):
            return [
                self._new_referral(case_id, code, origin, item, candidates)
                for code, (item, candidates) in facts.items()
            ]

        return self.process(envelope, policy)

    def _exists(self, referral_id) -> bool:
        try:
            self.get_existing(referral_id, Referral, "referral")
            return True
        except NotFound:
            return False

    def _routing_facts(self, item_code: str, catalog) -> tuple[dict, list[dict]]:
        try:
            item = catalog.item(item_code)
        except NotFound:  # said in Chinese: the manager's board shows it
            raise ValidationFailed.single(
                "item_code", f"服务目录中没有服务事项 {item_code}，无法开立转办"
            ) from None
        return item, self.candidates(item_code, catalog)

    def unopened(self, institution: str) -> list[dict]:
        """Referred demands of ``institution`` whose referrals could not be
        opened, for whatever reason (their ``DemandReferred`` was parked):
        the demand, its items and the reason, for the manager's board
        (8.3.4) until ops replay the message with success."""
        found = []
        for row in ParkingLot(self.kernel).list(PARKED):
            if row["event_type"] != "DemandReferred":
                continue
            try:
                envelope = json.loads(row["payload"])
            except ValueError:
                continue
            actor = envelope.get("actor") or {}
            if actor.get("institution", "") != institution:
                continue
            data = envelope.get("data") or {}
            found.append(
                {
                    "demand_id": str(data.get("demand_id", "")),
                    "items": [str(c) for c in data.get("items", [])],
                    "reason": unopened_reason(row["error"]),
                    "parked_at": row["parked_at"],
                    "attempts": row["attempts"],
                }
            )
        return found

    @staticmethod
    def _new_referral(case_id, item_code, origin: dict, item, candidates) -> Referral:
        details = dict(origin)
        details["description"] = details["description"] or item.get("name", "")
        referral = Referral.request(
            case_id, item_code, cycle_days=int(item["cycle_days"]), **details
        )
        if candidates:
            referral.match(candidates)
        return referral

    def open_task(self, form: dict, catalog) -> dict:
        """A government-commissioned task (5.2.2 b) or product-recall support
        for a regulator (6.9), registered by staff for the requester; the task
        is its own case."""
        actor = access.require_platform_staff()
        if not isinstance(form, dict):
            raise ValidationFailed.single("form", "请填写任务信息")
        kind = require_choice(form.get("kind"), "kind", "任务类型", KINDS)
        if kind == "demand":
            raise ValidationFailed.single(
                "kind", "需求转办由需求登记转入，不能直接创建"
            )
        item_code = RECALL_ITEM if kind == "recall" else form.get("item_code")
        item_code = require_text(item_code, "item_code", "服务事项", 20)
        requester_kind = "regulator" if kind == "recall" else "department"
        requester = {
            "kind": requester_kind,
            "name": require_text(
                form.get("requester_name"),
                "requester_name",
                REQUESTER_KINDS[requester_kind] + "名称",
                100,
            ),
        }
        origin = {
            "kind": kind,
            "requester": requester,
            "first_responder": actor.id,
            "origin_institution": actor.institution,
            "green_channel": bool(form.get("green_channel", False)),
            "description": optional_text(
                form.get("description"), "description", "任务说明", 2000
            ),
        }
        case_id = str(uuid4())
        item, candidates = self._routing_facts(item_code, catalog)
        referral = self._new_referral(case_id, item_code, origin, item, candidates)
        with audit.audit_scope(audit.current().with_correlation(case_id)):
            self.save(referral)
        return summary(referral)


def unopened_reason(error: str) -> str:
    """The parked error as a manager reads it: the rule's own Chinese words,
    or a plain statement that the platform failed (ops have the details)."""
    last = error.strip().splitlines()[-1] if error.strip() else ""
    message = last.rpartition(": ")[2]
    if any("\u4e00" <= c <= "\u9fff" for c in message):
        return message
    return "系统未能开立转办，已转运维人员处理"
