"""Catalog on SQLite and PostgreSQL: seeded items, qualified institutions (4.1),
and a revocation reaching referral over RabbitMQ."""

from datetime import date

import pytest

from services.catalog.application import CatalogApplication
from services.catalog.seed_items import SEED_ITEMS
from services.catalog.service import CatalogService
from services.referral.service import ReferralService
from shared.errors import ValidationFailed
from shared.providers import application_of
from tests import support


@pytest.fixture
def catalog(databases):
    app = CatalogApplication()
    yield app
    app.close()


def lab(catalog, code="91320000LAB000001", name="江苏省某产品质量检验院"):
    return catalog.register_institution({"code": code, "name": name, "kind": "lab"})


def grant(catalog, institution, cert_no, scope, valid_from, valid_to):
    return catalog.grant_qualification(
        institution["id"],
        {
            "kind": "CMA",
            "cert_no": cert_no,
            "scope_codes": scope,
            "valid_from": valid_from,
            "valid_to": valid_to,
        },
    )


def names(found) -> list[str]:
    return sorted(f["cert_no"] for f in found)


def test_every_clause_6_item_is_seeded_with_its_materials_once(catalog):
    assert catalog.seed_items() == len(SEED_ITEMS)
    assert catalog.seed_items() == 0  # idempotent
    items = catalog.items()
    assert [i["code"] for i in items] == [s.code for s in SEED_ITEMS]
    assert all(i["materials"] and i["cycle_days"] > 0 for i in items)
    assert catalog.item("6.4.3")["parent"] == "6.4"


def test_an_admin_edit_is_a_new_version_of_the_item(catalog):
    catalog.seed_items()
    before = catalog.item("6.3.1")
    after = catalog.revise_item("6.3.1", {"cycle_days": 12})
    assert after["cycle_days"] == 12 and after["version"] == before["version"] + 1
    assert after["materials"] == before["materials"]
    with pytest.raises(ValidationFailed) as caught:
        catalog.revise_item("6.3.1", {"cycle_days": 0, "owner": "x"})
    assert caught.value.errors[0]["field"] == "owner"


def test_only_valid_covering_qualifications_count_on_the_day_boundaries(catalog):
    a = lab(catalog, "A-1", "甲检测院")
    b = lab(catalog, "B-1", "乙检测院")
    c = lab(catalog, "C-1", "丙检测院")
    grant(catalog, a, "CMA-A", ["6.3"], "2026-01-01", "2026-05-31")
    grant(catalog, b, "CMA-B", ["6.3.1"], "2026-01-01", "2026-12-31")
    grant(catalog, c, "CMA-C", ["6.1"], "2026-01-01", "2026-12-31")
    catalog.change_qualification_status(
        b["id"], "CMA-B", "suspend", "2026-03-10", "监督抽查不合格"
    )

    def on(day, item="6.3.1"):
        return names(catalog.qualified_institutions(item, day))

    assert on("2025-12-31") == []
    assert on("2026-01-01") == ["CMA-A", "CMA-B"]
    assert on("2026-03-09") == ["CMA-A", "CMA-B"]
    assert on("2026-03-10") == ["CMA-A"]  # suspended from that day
    assert on("2026-05-31") == ["CMA-A"]  # last valid day
    assert on("2026-06-01") == []  # expired
    assert on("2026-03-01", "6.3.2") == ["CMA-A"]  # B's scope is 6.3.1 only

    catalog.change_qualification_status(
        a["id"], "CMA-A", "revoke", "2026-02-01", "撤销"
    )
    assert on("2026-01-31") == ["CMA-A", "CMA-B"]
    assert on("2026-02-01") == ["CMA-B"]
    catalog.renew_qualification(a["id"], "CMA-A", "2027-05-31")
    assert on("2026-12-01") == []  # renewal does not undo a revocation


def test_the_read_model_rebuilds_to_the_same_answer(catalog):
    a = lab(catalog)
    grant(catalog, a, "CMA-1", ["6.3"], "2026-01-01", "2026-12-31")
    before = catalog.qualified_institutions("6.3", date(2026, 7, 1))
    assert catalog.view.rebuild() == 2
    assert catalog.qualified_institutions("6.3", "2026-07-01") == before


def test_a_duplicate_institution_code_is_refused(catalog):
    lab(catalog)
    with pytest.raises(ValidationFailed) as caught:
        lab(catalog)
    assert caught.value.errors[0]["field"] == "code"


def test_a_revocation_published_by_catalog_is_consumed_by_referral(
    databases, runner_factory
):
    runner = runner_factory(CatalogService, ReferralService)
    catalog = application_of(support.container_of(runner, "catalog"))
    referral = application_of(support.container_of(runner, "referral"))
    institution = lab(catalog)
    grant(catalog, institution, "CMA-9", ["6.3"], "2026-01-01", "2026-12-31")

    def status_on(day):
        standing = referral.partner_standing(institution["id"], day)
        return standing[0]["status"] if standing else None

    support.wait_for(lambda: status_on("2026-06-01") == "valid")
    catalog.change_qualification_status(
        institution["id"], "CMA-9", "revoke", "2026-06-01", "资质证书被撤销"
    )
    support.wait_for(lambda: status_on("2026-06-01") == "revoked")
    assert status_on("2026-05-31") == "valid"


def test_the_public_guide_is_published_once_and_edits_are_versions(catalog):
    catalog.start()
    catalog.start()  # a second instance starting: nothing doubles
    first = catalog.guide()
    assert first["version"] == 1 and first["complaint_phone"] == ""  # not set yet
    revised = catalog.revise_guide({"complaint_phone": "025-66668888"})
    assert revised["complaint_phone"] == "025-66668888" and revised["version"] == 2
    assert revised["process"] == first["process"]
    with pytest.raises(ValidationFailed) as caught:
        catalog.revise_guide({"process": [], "fax": "1"})
    assert caught.value.errors[0]["field"] == "fax"


def test_certification_bodies_are_listed_with_their_scopes(catalog):
    body = catalog.register_institution(
        {"code": "CNCA-R-2002-001", "name": "某质量认证中心", "kind": "certification"}
    )
    catalog.grant_qualification(
        body["id"],
        {
            "kind": "CERT_BODY",
            "cert_no": "CNCA-R-2002-001",
            "scope_codes": ["6.6"],
            "scope_text": "质量、环境、职业健康安全管理体系认证",
            "valid_from": "2024-01-01",
            "valid_to": "2028-12-31",
        },
    )
    lab(catalog)
    (listed,) = catalog.institutions("certification", "2026-05-31")
    assert listed["name"] == "某质量认证中心"
    (qualification,) = listed["qualifications"]
    assert (
        qualification["scope_codes"] == ["6.6"] and qualification["status"] == "valid"
    )
    assert len(catalog.institutions(None, "2026-05-31")) == 2
    with pytest.raises(ValidationFailed):
        catalog.institutions("bank")
