"""Venues, equipment and experts stored and reloaded, on SQLite and PostgreSQL.

Every stream keeps an intact hash chain, and rules that depend on stored dates
(an equipment check falling due, an expert's leave) give the same answers
after reloading from the database as before.
"""

from datetime import date, datetime, timedelta, timezone

import pytest
from eventsourcing.persistence import IntegrityError

from services.catalog.experts import Expert, match_experts
from services.catalog.venues import Equipment, Venue, overdue
from shared.application import ServiceApplication

CST = timezone(timedelta(hours=8))


class CatalogTestApplication(ServiceApplication):
    name = "catalog"


@pytest.fixture
def app(databases):
    application = CatalogTestApplication()
    yield application
    application.close()


def test_stored_venues_equipment_and_experts_reload_with_intact_chains(app):
    window = Venue.open(
        institution_id="jsqi",
        kind="window",
        name="一站式服务受理窗口",
        address="南京市玄武区光华路1号",
        hours={"mon": ["08:30-12:00", "13:30-17:30"], "sat": ["09:00-12:00"]},
        accepts=["6.3", "6.1"],
        contact_phone="025-83210000",
    )
    window.change_hours({"mon": ["08:30-12:00", "13:30-17:00"]})
    window.change_accepted_items(["6.1", "6.3", "6.7"])
    extinguisher = Equipment.register(
        str(window.id), "干粉灭火器", "fire", "XF-001", 30, date(2025, 1, 1)
    )
    extinguisher.check(date(2025, 1, 31), "ok", "王工")  # on its due date
    extinguisher.check(date(2025, 2, 20), "needs_repair", "王工", "压力不足")
    printer = Equipment.register(
        window.id, "打印机", "office", "BG-017", 180, date(2025, 1, 15)
    )
    printer.change_schedule(90)
    expert = Expert.register(
        "张明", ["6.3.2"], "正高级工程师", phone="13912345678", institution_id="jsqi"
    )
    expert.add_unavailability(date(2025, 3, 24), date(2025, 3, 28), "leave")
    other = Expert.register("李娜", ["6.3"], "高级工程师", email="lina@jsqi.org.cn")
    other.retire(date(2025, 6, 30), "退休")
    app.save(window, extinguisher, printer, expert, other)

    reloaded = CatalogTestApplication()
    try:
        assert reloaded.verify_all() == (5, [])
        venue = reloaded.repository.get(window.id)
        assert venue.version == 3
        assert venue.accepts == ["6.1", "6.3", "6.7"]
        assert venue.is_open_at(datetime(2025, 3, 3, 16, 59, tzinfo=CST))
        assert not venue.is_open_at(datetime(2025, 3, 3, 17, 0, tzinfo=CST))
        assert not venue.is_open_at(datetime(2025, 3, 8, 10, 0, tzinfo=CST))

        fire = reloaded.repository.get(extinguisher.id)
        office = reloaded.repository.get(printer.id)
        assert fire.version == 3 and fire.condition == "needs_repair"
        assert fire.next_due() == date(2025, 3, 22)
        assert not fire.is_overdue(date(2025, 3, 22))
        assert fire.is_overdue(date(2025, 3, 23))
        assert office.next_due() == date(2025, 4, 15)
        assert overdue([office, fire], date(2025, 3, 23)) == [fire]

        people = [reloaded.repository.get(e.id) for e in (expert, other)]
        names = [e.name for e in match_experts(people, "6.3.2", date(2025, 3, 21))]
        assert names == ["张明", "李娜"]  # exact sub-item match first
        names = [e.name for e in match_experts(people, "6.3.2", date(2025, 3, 28))]
        assert names == ["李娜"]  # 张明 is on leave to the 28th inclusive
        assert match_experts(people, "6.3.2", date(2025, 6, 30)) == [people[0]]
    finally:
        reloaded.close()


def test_a_second_venue_of_the_same_name_at_an_institution_is_refused(app):
    details = {
        "institution_id": "jsqi",
        "kind": "site",
        "name": "综合服务大厅",
        "address": "南京市玄武区光华路1号",
        "hours": {"mon": ["09:00-17:00"]},
        "accepts": [],
        "contact_phone": "13912345678",
    }
    app.save(Venue.open(**details))
    with pytest.raises(IntegrityError):
        app.save(Venue.open(**details))
    assert app.verify_all() == (1, [])
