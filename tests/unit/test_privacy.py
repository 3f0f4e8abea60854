"""shared/privacy.py: one mask of each kind for readers without need of the
customer's contact data; the record as stored is never changed."""

from shared.privacy import (
    mask_address,
    mask_name,
    mask_phone,
    masked_contact,
    masked_custody,
    masked_registration,
    masked_visit_plan,
)


def test_each_mask():
    assert mask_phone("13912345678") == "139****5678"
    assert mask_phone("025-52123456") == "025****3456"
    assert mask_phone("12345") == "****" and mask_phone("") == ""
    assert mask_phone(None) == ""
    assert mask_name("张三") == "张*" and mask_name("欧阳小明") == "欧***"
    assert mask_name("") == "" and mask_name("王") == "王*"
    assert mask_address("南京市玄武区某路1号") == "***" and mask_address("") == ""


def test_a_registration_keeps_what_is_not_contact_data():
    form = {
        "applicant": "江苏某检测科技有限公司",
        "contact_phone": "13912345678",
        "contact_person": "王小明",
        "address": "南京市江宁区某某路88号",
        "credit_code": "91350100M000100Y43",
        "contact_email": "wang@example.cn",
    }
    masked = masked_registration(form)
    assert masked == {
        "applicant": "江苏某检测科技有限公司",
        "contact_phone": "139****5678",
        "contact_person": "王**",
        "address": "***",
        "credit_code": "***",
        "contact_email": "***",
    }
    assert form["contact_phone"] == "13912345678"
    without_email = {k: v for k, v in form.items() if k != "contact_email"}
    assert "contact_email" not in masked_registration(without_email)


def test_a_contact_a_visit_plan_and_custody():
    card = {"text": "意见", "contact_name": "周先生", "contact_phone": "13955556666"}
    assert masked_contact(card, "contact_name", "contact_phone") == {
        "text": "意见",
        "contact_name": "周**",
        "contact_phone": "139****6666",
    }
    plan = {
        "visits": [
            {
                "visit_id": "V001",
                "record": {"met": {"name": "周建国", "position": "经理"}},
            },
            {"visit_id": "V002", "record": None},
        ]
    }
    masked = masked_visit_plan(plan)
    assert masked["visits"][0]["record"]["met"] == {"name": "周**", "position": "经理"}
    assert masked["visits"][1] == plan["visits"][1]
    assert plan["visits"][0]["record"]["met"]["name"] == "周建国"
    custody = {
        "visits": [{"address": "某地", "contact": "刘洋", "phone": "13812345678"}],
        "deliveries": [{"report_no": "R1", "address": "某路", "email": None}],
        "samples": [{"id": "S1"}],
    }
    shown = masked_custody(custody)
    assert shown["visits"] == [
        {"address": "***", "contact": "刘*", "phone": "138****5678"}
    ]
    assert shown["deliveries"] == [{"report_no": "R1", "address": "***", "email": None}]
    assert shown["samples"] == custody["samples"]
