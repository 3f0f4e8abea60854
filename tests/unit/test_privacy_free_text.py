"""Issue 18: an individual applicant is masked like a contact person, and the
free text of a case (needs' descriptions, a hand-over's reason, a partner's
summary) is hidden from readers without need (the regulator)."""

from shared.privacy import mask_applicant, masked_demand, masked_registration

DEMAND = {
    "id": "d-1",
    "applicant": "王小明",
    "customer_kind": "individual",
    "contact_phone": "13912345678",
    "needs": [{"item_code": "6.3.1", "description": "我家孩子王小明的玩具"}],
    "handover": {"from": "wang", "to": "li", "reason": "客户王小明要求换人"},
    "referral_feedback": [{"referral_id": "r-1", "summary": "已联系王小明"}],
    "status": "registered",
    "owner": "wang",
}


def test_a_person_applying_is_masked_an_organisation_is_not():
    assert mask_applicant("王小明", "individual") == "王**"
    assert (
        mask_applicant("苏州某电子科技有限公司", "company") == "苏州某电子科技有限公司"
    )
    assert mask_applicant("某市市场监管局", "government") == "某市市场监管局"
    assert mask_applicant("", "individual") == ""


def test_a_demand_for_the_regulator_keeps_facts_and_hides_people_and_free_text():
    masked = masked_demand(DEMAND)
    assert "王小明" not in str(masked)
    assert "13912345678" not in str(masked)
    assert masked["needs"] == [{"item_code": "6.3.1", "description": "***"}]
    assert masked["handover"] == {"from": "wang", "to": "li", "reason": "***"}
    assert masked["referral_feedback"] == [{"referral_id": "r-1", "summary": "***"}]
    assert (masked["status"], masked["owner"]) == ("registered", "wang")
    assert DEMAND["needs"][0]["description"] == "我家孩子王小明的玩具"  # untouched


def test_the_form_of_an_individual_hides_the_name_and_the_descriptions():
    form = {
        "applicant": "王小明",
        "customer_kind": "individual",
        "contact_phone": "13912345678",
        "contact_person": "王小明",
        "address": "南京市某路1号",
        "credit_code": "",
        "needs": [{"item_code": "6.3.1", "description": "王小明的玩具"}],
    }
    masked = masked_registration(form)
    assert "王小明" not in str(masked) and "南京市" not in str(masked)
    assert masked["applicant"] == masked["contact_person"] == "王**"
    company = masked_registration({**form, "customer_kind": "company"})
    assert company["applicant"] == "王小明"  # an organisation's name is public
