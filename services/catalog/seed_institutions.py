"""Seed data for the catalog: the platform's own front door, and the demo
province that ``make run`` opens.

Customers' online demands go to the institution named by
QI_FRONT_DOOR_INSTITUTION (``jsqi`` by default), and its staff's accounts name
it by that code. Registered here under the same code, the pages can show its
name. It holds no qualification, so it is never matched to a service item
(4.1); referral still goes to qualified partners only. It is seeded on every
installation.

The demo province is seeded only for the demo: the file of QI_SEED_ACCOUNTS
(``make run``: services/gateway/demo_accounts.json) lists the partner
institutions its partner accounts belong to under ``institutions``, each with
its qualifications. A real installation's accounts file has no such list, so
it gets no fictitious partner.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class QualificationSeed:
    kind: str
    cert_no: str
    scope_codes: tuple[str, ...]
    valid_from: str
    valid_to: str
    scope_text: str = ""


@dataclass(frozen=True, slots=True)
class InstitutionSeed:
    code: str
    name: str
    kind: str
    contact_phone: str = ""
    address: str = ""
    qualifications: tuple[QualificationSeed, ...] = ()


FRONT_DOOR = InstitutionSeed(
    code="jsqi",
    name="江苏省质量基础设施一站式服务中心",
    kind="service_centre",
)
SEED_INSTITUTIONS: tuple[InstitutionSeed, ...] = (FRONT_DOOR,)

INSTITUTION_FIELDS = ("code", "name", "kind", "contact_phone", "address")
QUALIFICATION_FIELDS = (
    "kind",
    "cert_no",
    "scope_codes",
    "valid_from",
    "valid_to",
    "scope_text",
)


def demo_institutions(path: str | Path | None) -> tuple[InstitutionSeed, ...]:
    """The institutions listed in a seed file (none without a file or list).

    Only the shape is checked here (a malformed file names itself); the
    values are checked by the domain when they are registered.
    """
    if not path:
        return ()
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    listed = document.get("institutions", []) if isinstance(document, dict) else []
    try:
        return tuple(_institution(entry) for entry in listed)
    except (TypeError, AttributeError, KeyError) as exc:
        raise ValueError(f"{path}: institutions: {exc!r}") from None


def _institution(entry: dict) -> InstitutionSeed:
    unknown = set(entry) - {*INSTITUTION_FIELDS, "qualifications"}
    if unknown:
        raise KeyError(f"unknown fields {sorted(unknown)}")
    return InstitutionSeed(
        **{f: entry[f] for f in INSTITUTION_FIELDS if f in entry},
        qualifications=tuple(
            _qualification(q) for q in entry.get("qualifications", [])
        ),
    )


def _qualification(entry: dict) -> QualificationSeed:
    unknown = set(entry) - set(QUALIFICATION_FIELDS)
    if unknown:
        raise KeyError(f"unknown fields {sorted(unknown)}")
    fields = {f: entry[f] for f in QUALIFICATION_FIELDS if f in entry}
    if isinstance(fields.get("scope_codes"), list):
        fields["scope_codes"] = tuple(fields["scope_codes"])
    return QualificationSeed(**fields)
