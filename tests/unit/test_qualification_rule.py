"""Clause 4.1: who is qualified on a given day."""

from datetime import date

import pytest

from services.catalog.domain import Institution
from shared.errors import ValidationFailed
from shared.qualification import QualificationView, covers


def view(history=()) -> QualificationView:
    return QualificationView(
        kind="CMA",
        cert_no="CMA-1",
        scope_codes=("6.3",),
        scope_text="电线电缆",
        valid_from=date(2026, 1, 1),
        valid_to=date(2026, 5, 31),
        history=tuple(history),
    )


@pytest.mark.parametrize(
    "day, status",
    [
        (date(2025, 12, 31), "not_yet_valid"),
        (date(2026, 1, 1), "valid"),
        (date(2026, 5, 31), "valid"),
        (date(2026, 6, 1), "expired"),
    ],
)
def test_validity_includes_both_ends_of_the_range(day, status):
    assert view().status_on(day) == status


def test_a_suspension_counts_from_its_effective_day_until_reinstated():
    q = view([(date(2026, 3, 10), "suspended"), (date(2026, 4, 1), "valid")])
    assert q.status_on(date(2026, 3, 9)) == "valid"
    assert q.status_on(date(2026, 3, 10)) == "suspended"
    assert q.status_on(date(2026, 3, 31)) == "suspended"
    assert q.status_on(date(2026, 4, 1)) == "valid"


def test_a_revocation_is_final_even_past_the_validity_range():
    q = view([(date(2026, 2, 1), "revoked")])
    assert q.status_on(date(2026, 1, 31)) == "valid"
    assert q.status_on(date(2026, 2, 1)) == "revoked"
    assert q.status_on(date(2027, 1, 1)) == "revoked"


def test_a_scope_covers_its_sub_items_only():
    assert covers(("6.3",), "6.3") and covers(("6.3",), "6.3.2")
    assert not covers(("6.3",), "6.1") and not covers(("6.1",), "6.10")
    assert view().qualifies("6.3.1", date(2026, 2, 2))
    assert not view().qualifies("6.4", date(2026, 2, 2))


def lab() -> Institution:
    return Institution.register("91320000MA1XXXXX1", "江苏省某检测院", "lab")


def test_grant_rules_name_the_bad_fields():
    with pytest.raises(ValidationFailed) as caught:
        lab().grant("XYZ", "", ["7.1"], "", "2026-13-01", "2026-01-01")
    fields = {e["field"] for e in caught.value.errors}
    assert fields == {"kind", "cert_no", "scope_codes", "valid_from"}


def test_an_end_before_the_start_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        lab().grant("CMA", "C-1", ["6.3"], "", "2026-06-01", "2026-05-31")
    assert caught.value.errors[0]["field"] == "valid_to"


def test_revoked_is_final_and_repeats_are_refused():
    institution = lab()
    institution.grant("CMA", "C-1", ["6.3"], "", "2026-01-01", "2026-12-31")
    institution.suspend("C-1", "2026-02-01", "监督抽查不合格")
    with pytest.raises(ValidationFailed):
        institution.suspend("C-1", "2026-02-02", "again")
    with pytest.raises(ValidationFailed):
        institution.reinstate("C-1", "2026-01-15", "before the suspension")
    institution.revoke("C-1", "2026-03-01", "资质被撤销")
    with pytest.raises(ValidationFailed):
        institution.reinstate("C-1", "2026-04-01", "no way back")
    assert institution.qualification("C-1").status_on(date(2026, 3, 1)) == "revoked"
