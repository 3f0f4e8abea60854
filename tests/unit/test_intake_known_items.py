"""Intake asks the catalog about a service item once (clause 6; issue 22):
a code the catalog confirmed is kept, since an item is never withdrawn; an
unknown code, or a catalog that does not answer, is asked again next time."""

from __future__ import annotations

import pytest

from services.catalog.domain import ServiceItem
from services.intake.registration import KnownItems
from shared.errors import DependencyUnavailable


class Catalog:
    """What the catalog answers, and every code it was asked about."""

    def __init__(self, items: set[str]):
        self.items = items
        self.asked: list[str] = []

    def has(self, code: str) -> bool:
        self.asked.append(code)
        return code in self.items


def test_a_confirmed_item_is_asked_of_the_catalog_once():
    catalog, known = Catalog({"6.3"}), KnownItems()

    assert [known.check("6.3", catalog.has) for _ in range(3)] == [True] * 3
    assert catalog.asked == ["6.3"]


def test_an_unknown_item_is_asked_each_time_and_found_once_defined():
    catalog, known = Catalog(set()), KnownItems()

    assert known.check("6.9", catalog.has) is False
    assert known.check("6.9", catalog.has) is False
    catalog.items.add("6.9")  # the admin defines it meanwhile
    assert known.check("6.9", catalog.has) is True
    assert known.check("6.9", catalog.has) is True
    assert catalog.asked == ["6.9", "6.9", "6.9"]


def test_a_catalog_that_does_not_answer_is_said_and_nothing_is_kept():
    known = KnownItems()

    def unavailable(code: str) -> bool:
        raise DependencyUnavailable("catalog.item did not answer within 5s")

    with pytest.raises(DependencyUnavailable):
        known.check("6.3", unavailable)
    catalog = Catalog({"6.3"})
    assert known.check("6.3", catalog.has) is True
    assert catalog.asked == ["6.3"]


def test_keeping_a_yes_rests_on_items_never_being_withdrawn():
    """If the catalog ever learns to withdraw an item, KnownItems must learn
    to forget it (on the catalog's event): this fails first."""
    events = {
        name
        for name in vars(ServiceItem)
        if isinstance(vars(ServiceItem)[name], type)
        and issubclass(vars(ServiceItem)[name], ServiceItem.Event)
    }
    assert (
        {"Defined", "Revised"} <= events <= {"Defined", "Revised", "Event", "Created"}
    )
