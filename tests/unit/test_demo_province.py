"""The demo province of `make run` is coherent: every demo account's institution
is a catalog institution, and every partner holds qualifications valid on the
README's dates and today, covering the items the README's examples use."""

import json
from datetime import date

import pytest

from services.catalog.domain import Institution, institution_id
from services.catalog.seed_institutions import (
    SEED_INSTITUTIONS,
    InstitutionSeed,
    demo_institutions,
)
from services.catalog.seed_items import ITEM_CODES
from services.gateway.accounts import INSTITUTION_ROLES
from shared.qualification import QualificationView, covers
from tests.api_client import DEMO_ACCOUNTS

README_DAY = date(2026, 5, 31)
# the items the README's examples and first walk use (6.1.x: the metrology
# partner's own line of work)
README_ITEMS = (
    *("6.1", "6.1.1", "6.1.2", "6.1.3", "6.1.4"),
    *("6.3", "6.3.1", "6.3.2"),
    "6.4.3",
)


@pytest.fixture(scope="module")
def accounts() -> list[dict]:
    return json.loads(DEMO_ACCOUNTS.read_text(encoding="utf-8"))["accounts"]


@pytest.fixture(scope="module")
def province() -> tuple[InstitutionSeed, ...]:
    found = demo_institutions(DEMO_ACCOUNTS)
    assert found, "the demo accounts file lists no institutions"
    return found


def registered(seed: InstitutionSeed) -> Institution:
    """The institution as the catalog registers it: the domain's checks."""
    institution = Institution.register(
        seed.code, seed.name, seed.kind, seed.contact_phone, seed.address
    )
    for q in seed.qualifications:
        institution.grant(
            q.kind, q.cert_no, q.scope_codes, q.scope_text, q.valid_from, q.valid_to
        )
    return institution


def qualifications(seed: InstitutionSeed) -> list[QualificationView]:
    institution = registered(seed)
    return [
        QualificationView.from_state(q) for q in institution.qualifications.values()
    ]


def by_key(province) -> dict[str, InstitutionSeed]:
    """Seeded institutions as accounts name them: the front door by its code,
    a partner by its catalog id."""
    keys = {seed.code: seed for seed in SEED_INSTITUTIONS}
    keys.update({str(institution_id(seed.code)): seed for seed in province})
    return keys


def test_every_demo_institution_registers_with_valid_qualifications(province):
    codes = [seed.code for seed in province]
    assert len(set(codes)) == len(codes)
    assert not set(codes) & {seed.code for seed in SEED_INSTITUTIONS}
    for seed in province:
        assert seed.qualifications, seed.code
        for view in qualifications(seed):
            assert set(view.scope_codes) <= ITEM_CODES, (seed.code, view.cert_no)
            for day in (README_DAY, date.today()):
                assert view.status_on(day) == "valid", (
                    f"{seed.code} {view.cert_no} is not valid on {day}: extend "
                    "valid_to in services/gateway/demo_accounts.json"
                )


def test_the_province_has_one_institution_of_each_partner_kind(province):
    assert {seed.kind for seed in province} >= {"metrology", "lab", "certification"}


def test_every_demo_accounts_institution_is_a_seeded_catalog_institution(
    accounts, province
):
    keys = by_key(province)
    for account in accounts:
        if account["role"] in INSTITUTION_ROLES:
            assert account["institution"] in keys, account["username"]
        else:
            assert account["institution"] == "", account["username"]


def test_every_demo_partner_has_a_valid_qualification(accounts, province):
    keys = by_key(province)
    partners = [a for a in accounts if a["role"] == "partner"]
    assert partners
    for account in partners:
        seed = keys[account["institution"]]
        assert seed in province, account["username"]  # not the front door
        assert any(q.status_on(date.today()) == "valid" for q in qualifications(seed))


def test_every_demo_partner_institution_has_a_partner_account(accounts, province):
    """Whatever is referred to a demo institution, someone can log in to see it."""
    partner_of = {a["institution"] for a in accounts if a["role"] == "partner"}
    for seed in province:
        assert str(institution_id(seed.code)) in partner_of, seed.code


def test_the_readme_items_are_covered_and_6_3_by_the_demo_partner_alone(
    accounts, province
):
    def qualified(item: str) -> list[str]:
        return [
            seed.code
            for seed in province
            if any(q.qualifies(item, README_DAY) for q in qualifications(seed))
        ]

    for item in README_ITEMS:
        assert qualified(item), item
    # a 6.3 demand (the README's) goes to chen.partner's jsmi whatever the
    # load: no other institution lists 6.3 itself or covers it at all
    assert qualified("6.3") == ["jsmi"]
    (chen,) = [a for a in accounts if a["username"] == "chen.partner"]
    assert chen["institution"] == str(institution_id("jsmi"))


def test_no_demo_scope_lists_a_sub_item_of_6_3_itself(province):
    """Tests and real partners registered for 6.3.1 fit it better (the
    matching's exact scope first), so demo data never takes their work."""
    for seed in province:
        for view in qualifications(seed):
            assert not any(
                code != "6.3" and covers(["6.3"], code) for code in view.scope_codes
            ), (seed.code, view.cert_no)


def test_a_file_without_institutions_seeds_none(tmp_path):
    assert demo_institutions("") == ()
    assert demo_institutions(None) == ()
    plain = tmp_path / "accounts.json"
    plain.write_text(json.dumps({"accounts": []}), encoding="utf-8")
    assert demo_institutions(plain) == ()


def test_a_malformed_institution_names_the_file(tmp_path):
    bad = tmp_path / "accounts.json"
    bad.write_text(
        json.dumps({"institutions": [{"code": "x", "name": "某", "rank": 1}]}),
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="accounts.json"):
        demo_institutions(bad)
