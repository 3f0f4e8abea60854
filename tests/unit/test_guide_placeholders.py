"""A guide seeded with the first version's placeholder contacts reads them as
not set (Published v2's upcaster); an admin's own values stay."""

from eventsourcing.application import Application

from services.catalog.guide import DEFAULTS, PLACEHOLDERS, ServiceGuide


def test_placeholders_published_by_v1_read_as_not_set():
    state = {**DEFAULTS, **PLACEHOLDERS}
    ServiceGuide.Published.upcast_v1_v2(state)
    assert all(state[field] == "" for field in PLACEHOLDERS)
    own = {**DEFAULTS, "complaint_phone": "025-66668888"}
    ServiceGuide.Published.upcast_v1_v2(own)
    assert own["complaint_phone"] == "025-66668888"


def test_a_new_guide_invents_no_contact():
    app = Application()
    guide = ServiceGuide(**DEFAULTS)
    app.save(guide)
    shown = app.repository.get(guide.id).as_dict()
    assert {shown[f] for f in PLACEHOLDERS} == {""}
    guide.revise({"service_phone": "025-83210000"})
    assert guide.service_phone == "025-83210000" and guide.address == ""
