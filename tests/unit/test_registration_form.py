"""Demand registration rules (8.2.3): bad input names its field, nothing else."""

import pytest

from services.intake.domain import Demand
from services.intake.registration import RegistrationForm, demand_id_for
from shared.errors import ValidationFailed

VALID = {
    "applicant": "江苏某检测科技有限公司",
    "contact_phone": "13912345678",
    "service_item_code": "6.3",
    "description": "电线电缆阻燃性能检测",
    "channel": "window",
}


def fields_of(exc: ValidationFailed) -> set[str]:
    return {e["field"] for e in exc.errors}


def test_a_complete_form_is_accepted():
    form = RegistrationForm.parse(VALID)
    assert form.applicant == VALID["applicant"]
    assert form.channel == "window"


@pytest.mark.parametrize("phone", ["13912345678", "025-83456789", "02583456789"])
def test_mainland_mobile_and_landline_numbers_are_accepted(phone):
    assert RegistrationForm.parse({**VALID, "contact_phone": phone}).contact_phone


@pytest.mark.parametrize("phone", ["12345678901", "1391234567", "phone", "+1 555"])
def test_other_phone_numbers_are_refused(phone):
    with pytest.raises(ValidationFailed) as caught:
        RegistrationForm.parse({**VALID, "contact_phone": phone})
    assert fields_of(caught.value) == {"contact_phone"}


def test_every_bad_field_is_named_at_once():
    with pytest.raises(ValidationFailed) as caught:
        RegistrationForm.parse(
            {
                "applicant": " ",
                "contact_phone": "1",
                "service_item_code": "7.1",
                "channel": "fax",
            }
        )
    assert fields_of(caught.value) == {
        "applicant",
        "contact_phone",
        "service_item_code",
        "description",
        "channel",
    }
    assert all(e["message"] for e in caught.value.errors)


def test_unknown_fields_are_refused_not_stored():
    with pytest.raises(ValidationFailed) as caught:
        RegistrationForm.parse({**VALID, "status": "resolved"})
    assert fields_of(caught.value) == {"status"}


def test_oversized_text_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        RegistrationForm.parse({**VALID, "description": "长" * 2001})
    assert fields_of(caught.value) == {"description"}


@pytest.mark.parametrize("code", ["6.1", "6.10", "6.3.2"])
def test_service_items_are_clause_6_entries(code):
    assert RegistrationForm.parse({**VALID, "service_item_code": code})


def test_a_non_object_body_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        RegistrationForm.parse(["not", "a", "form"])
    assert fields_of(caught.value) == {"body"}


def test_registering_records_the_need_and_a_progress_code():
    demand = Demand.register(RegistrationForm.parse(VALID))
    assert demand.needs == [{"item_code": "6.3", "description": VALID["description"]}]
    assert len(demand.progress_code) == 10
    assert demand.status == "registered"


def test_the_same_idempotency_key_names_the_same_demand():
    assert demand_id_for("k-1") == demand_id_for("k-1") != demand_id_for("k-2")
    demand = Demand.register(RegistrationForm.parse(VALID), demand_id_for("k-1"))
    assert demand.id == demand_id_for("k-1")
    assert demand.same_registration(RegistrationForm.parse(VALID))


APPENDIX_B = {
    "applicant": "江苏某检测科技有限公司",
    "address": "南京市江宁区某某路88号3栋",
    "contact_person": "王小明",
    "position": "质量部经理",
    "contact_phone": "025-52123456",
    "contact_email": "wang.xm@example.cn",
    "service_staff": "窗口一 李工",
    "feedback_time": "2026-12-05",
    "main_business": "电线电缆研发与生产",
    "customer_kind": "company",
    "credit_code": "91350100M000100Y43",
    "channel": "window",
    "needs": [
        {"item_code": "6.3.1", "description": "电线电缆阻燃性能检测"},
        {"item_code": "6.1.2", "description": "拉力试验机校准"},
    ],
}


def test_the_whole_appendix_b_form_is_kept_line_by_line():
    form = RegistrationForm.parse(APPENDIX_B)
    fields = form.as_event_fields()
    assert fields["needs"] == APPENDIX_B["needs"]
    for line in (
        "address",
        "contact_person",
        "position",
        "service_staff",
        "feedback_time",
        "main_business",
        "credit_code",
        "contact_email",
    ):
        assert fields[line] == APPENDIX_B[line]
    assert Demand.register(form).registration() == fields


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L"])
def test_valid_credit_codes_pass_their_checksum(code):
    assert RegistrationForm.parse({**APPENDIX_B, "credit_code": code})


@pytest.mark.parametrize("code", ["91350100M000100Y44", "9135010OM000100Y43", "123"])
def test_a_credit_code_with_a_wrong_checksum_is_refused(code):
    with pytest.raises(ValidationFailed) as caught:
        RegistrationForm.parse({**APPENDIX_B, "credit_code": code})
    assert fields_of(caught.value) == {"credit_code"}


def test_individuals_and_government_departments_have_no_credit_code():
    for kind in ("individual", "government"):
        assert (
            RegistrationForm.parse(
                {**APPENDIX_B, "customer_kind": kind, "credit_code": ""}
            ).customer_kind
            == kind
        )
        with pytest.raises(ValidationFailed):
            RegistrationForm.parse({**APPENDIX_B, "customer_kind": kind})


def test_each_bad_need_is_named_by_its_place():
    with pytest.raises(ValidationFailed) as caught:
        RegistrationForm.parse(
            {
                **APPENDIX_B,
                "needs": [
                    {"item_code": "9.9", "description": "x"},
                    {"item_code": "6.3"},
                ],
            }
        )
    assert fields_of(caught.value) == {"needs[0].item_code", "needs[1].description"}
    with pytest.raises(ValidationFailed) as caught:
        RegistrationForm.parse({**APPENDIX_B, "needs": []})
    assert fields_of(caught.value) == {"needs"}


def test_bad_optional_lines_are_named():
    with pytest.raises(ValidationFailed) as caught:
        RegistrationForm.parse(
            {
                **APPENDIX_B,
                "feedback_time": "下周",
                "position": "长" * 51,
                "customer_kind": "alien",
            }
        )
    assert fields_of(caught.value) == {"feedback_time", "position", "customer_kind"}


def test_the_customers_e_mail_is_optional_and_checked():
    assert RegistrationForm.parse(VALID).contact_email == ""
    form = RegistrationForm.parse({**VALID, "contact_email": "li@example.cn"})
    assert form.as_event_fields()["contact_email"] == "li@example.cn"
    assert Demand.register(form).contact_email == "li@example.cn"
    with pytest.raises(ValidationFailed) as caught:
        RegistrationForm.parse({**VALID, "contact_email": "not an address"})
    assert fields_of(caught.value) == {"contact_email"}


def test_a_demand_registered_before_the_e_mail_line_reads_as_without_one():
    state = {"institution": "jsqi"}
    Demand.Registered.upcast_v3_v4(state)
    assert state == {"institution": "jsqi", "contact_email": ""}
