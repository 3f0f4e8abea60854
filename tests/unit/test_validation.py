"""The kernel's field checks: one rule each, one Chinese message each, and a
collector that names every bad field of a form at once."""

from datetime import UTC, date, datetime

import pytest

from shared.errors import ValidationFailed
from shared.validation import (
    Errors,
    aware,
    optional_email,
    optional_phone,
    optional_text,
    require_choice,
    require_day,
    require_email,
    require_filled,
    require_given,
    require_phone,
    require_text,
    typed_moment,
)


def refusal(rule, *args) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        rule(*args)
    [error] = caught.value.errors
    return error


def test_required_text_is_trimmed_and_bounded():
    assert require_text("  电缆检测 ", "d", "需求描述", 10) == "电缆检测"
    assert refusal(require_text, " ", "d", "需求描述") == {
        "field": "d",
        "message": "请填写需求描述",
    }
    assert refusal(require_text, None, "d", "需求描述")["message"] == "请填写需求描述"
    assert refusal(require_text, 12, "d", "需求描述")["message"] == "需求描述应为文字"
    too_long = refusal(require_text, "一" * 11, "d", "需求描述", 10)
    assert too_long["message"] == "需求描述不能超过10个字"


def test_optional_text_may_be_left_out_but_not_too_long():
    assert optional_text(None, "n", "备注") == optional_text("", "n", "备注") == ""
    assert refusal(optional_text, "长" * 6, "n", "备注", 5)["field"] == "n"


def test_a_choice_is_a_key_and_anything_unhashable_is_refused_not_a_crash():
    kinds = {"lab": "检验检测机构", "metrology": "计量技术机构"}
    assert require_choice("lab", "kind", "机构类别", kinds) == "lab"
    assert refusal(require_choice, ["lab"], "kind", "机构类别", kinds) == {
        "field": "kind",
        "message": "机构类别应为：lab、metrology",
    }


@pytest.mark.parametrize(
    "phone", ["13912345678", "025-83210000", "02583210000", "0512-6688123-801"]
)
def test_a_phone_is_a_mobile_or_a_landline_with_its_area_code(phone):
    assert require_phone(f" {phone} ", "contact_phone") == phone


@pytest.mark.parametrize("phone", ["12345", "8321000", "400-800-1234", "1391234567x"])
def test_other_numbers_are_refused(phone):
    error = refusal(require_phone, phone, "phone")
    assert error == {
        "field": "phone",
        "message": "联系电话应为11位手机号或带区号的固定电话",
    }


def test_an_optional_phone_may_be_left_out():
    assert optional_phone("", "phone") == ""
    assert refusal(optional_phone, "12345", "phone")["field"] == "phone"


def test_an_email_has_a_local_part_and_a_domain_with_a_top_level_name():
    assert (
        require_email(" zhang.ming@jsqi.org.cn ", "email") == "zhang.ming@jsqi.org.cn"
    )
    for bad in ("zhang@", "zhang ming@jsqi.cn", "zhang@jsqi", "a@b_c.cn"):
        assert refusal(require_email, bad, "email") == {
            "field": "email",
            "message": "电子邮箱格式不正确，如 name@example.cn",
        }
    assert optional_email(None, "email") == ""


def test_a_day_is_a_date_or_iso_text_never_a_datetime():
    assert require_day("2026-05-31", "on") == date(2026, 5, 31)
    assert require_day(date(2026, 5, 31), "on") == date(2026, 5, 31)
    assert refusal(require_day, "2026-02-30", "on", "生效日期") == {
        "field": "on",
        "message": "生效日期应为日期，如 2026-05-31",
    }
    moment = datetime(2026, 5, 31, 9, tzinfo=UTC)
    assert refusal(require_day, moment, "on", "生效日期")["message"] == (
        "生效日期应为日期，不含时间"
    )
    assert refusal(require_day, None, "on")["message"] == "应为日期，如 2026-05-31"


def test_a_moment_carries_its_offset():
    assert aware("2026-05-06T09:00:00+08:00", "at").utcoffset().total_seconds() == (
        8 * 3600
    )
    given = datetime(2026, 5, 6, 1, tzinfo=UTC)
    assert aware(given, "at") is given
    assert refusal(aware, "2026-05-06T09:00", "at", "交接时间") == {
        "field": "at",
        "message": "交接时间应带时区",
    }
    assert refusal(aware, "next tuesday", "at")["message"] == (
        "应为带时区的时间，如 2026-05-06T09:00:00+08:00"
    )


def test_a_moment_typed_on_a_page_is_on_chinas_clock_unless_it_names_another():
    for typed in ("2026-11-26 10:00", "2026-11-26T10:00", "2026-11-26T10:00:00"):
        moment = typed_moment(typed, "at", "交接时间")
        assert moment.isoformat() == "2026-11-26T10:00:00+08:00"
    assert typed_moment("2026-11-26T02:00:00+00:00", "at").utcoffset().seconds == 0
    assert refusal(typed_moment, "明天上午", "at", "交接时间") == {
        "field": "at",
        "message": "交接时间应写作 2026-11-26 10:00（北京时间）",
    }
    assert refusal(typed_moment, None, "now")["field"] == "now"


def test_required_fields_are_each_named_and_a_prompt_is_said_as_it_is():
    assert require_given(["s-1"], "sample_ids", "请勾选样品") == ["s-1"]
    assert require_given(0, "quantity", "样品数量") == 0
    assert refusal(require_given, "  ", "place", "交接地点") == {
        "field": "place",
        "message": "请填写交接地点",
    }
    assert refusal(require_given, [], "sample_ids", "请勾选交接的样品") == {
        "field": "sample_ids",
        "message": "请勾选交接的样品",
    }
    require_filled({"note": ("同意", "签发意见")})
    with pytest.raises(ValidationFailed) as caught:
        require_filled(
            {
                "year": ("", "年份"),
                "half": (None, "请选择半年"),
                "note": ("同意", "签发意见"),
            }
        )
    assert caught.value.errors == [
        {"field": "year", "message": "请填写年份"},
        {"field": "half", "message": "请选择半年"},
    ]


def test_errors_name_every_bad_field_then_raise_them_together():
    errors = Errors()
    name = errors.check(require_text, "  名称 ", "name", "名称", 10)
    day = errors.check(require_day, "not a day", "on", "日期")
    with errors.collect("demands[1]."):
        require_phone("12345", "contact_phone")
    errors.add("hours", "请至少填写一个营业时段")
    assert (name, day, len(errors)) == ("名称", None, 3)
    with pytest.raises(ValidationFailed) as caught:
        errors.raise_if_any()
    assert [e["field"] for e in caught.value.errors] == [
        "on",
        "demands[1].contact_phone",
        "hours",
    ]


def test_no_errors_raise_nothing():
    errors = Errors()
    assert errors.check(optional_text, None, "note", "备注") == ""
    errors.raise_if_any()
