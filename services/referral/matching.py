"""Ranking the institutions qualified for an item (4.1, 8.3.4).

Who is qualified is catalog's answer (``qualified_institutions``, the one
implementation of the 4.1 rule, asked at the moment of each routing decision);
how well each fits is referral's own knowledge:

1. scope fit: a qualification listing the item itself before one listing only
   its parent item ("6.3.2" before "6.3");
2. open load: fewer referrals currently with the institution first;
3. past on-time rate: completions within the completion deadline, smoothed as
   (on time + 1) / (completed + 2) so a newcomer ranks as an average partner
   rather than a perfect or a hopeless one;
4. then by name and id, so the order is stable.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.errors import ValidationFailed

EXACT, PARENT = 2, 1


def scope_fit(scope_codes: Iterable[str], item_code: str) -> int:
    return EXACT if item_code in set(scope_codes) else PARENT


def on_time_rate(on_time: int, completed: int) -> float:
    return (on_time + 1) / (completed + 2)


def rank_candidates(
    qualified: Iterable[dict],
    item_code: str,
    load: dict[str, int],
    record: dict[str, tuple[int, int]],
    exclude: Iterable[str] = (),
) -> list[dict]:
    """One row per qualified institution not in ``exclude``, best first.

    ``qualified`` are catalog's rows (one per qualification); ``load`` is the
    open referrals per institution, ``record`` (on time, completed) per one.
    """
    skip = set(exclude)
    best: dict[str, dict] = {}
    for row in qualified:
        institution = row["institution_id"]
        if institution in skip:
            continue
        fit = scope_fit(row.get("scope_codes", ()), item_code)
        if institution in best and best[institution]["scope_fit"] >= fit:
            continue
        on_time, completed = record.get(institution, (0, 0))
        best[institution] = {
            "kind": "institution",
            "id": institution,
            "institution_id": institution,
            "name": row.get("institution_name", ""),
            "cert_no": row.get("cert_no", ""),
            "scope_fit": fit,
            "open_load": int(load.get(institution, 0)),
            "on_time_rate": round(on_time_rate(on_time, completed), 4),
        }
    return sorted(
        best.values(),
        key=lambda c: (
            -c["scope_fit"],
            c["open_load"],
            -c["on_time_rate"],
            c["name"],
            c["id"],
        ),
    )


def require_candidate(candidates: list[dict], institution_id, field: str) -> dict:
    """A staff pick must be one of the qualified candidates (4.1)."""
    for candidate in candidates:
        if candidate["id"] == institution_id:
            return candidate
    raise ValidationFailed.single(
        field, "该机构不具备承担此服务事项的有效资质（或不在可选范围内），不能转办"
    )


def expert_assignee(expert: dict) -> dict:
    """An expert coordinated instead of an institution (5.2.2 c)."""
    return {
        "kind": "expert",
        "id": expert["id"],
        "institution_id": expert.get("institution_id") or "",
        "name": expert.get("name", ""),
        "cert_no": "",
        "scope_fit": 0,
        "open_load": 0,
        "on_time_rate": 0.0,
    }
