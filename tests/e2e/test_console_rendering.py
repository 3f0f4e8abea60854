"""The pages' helpers without a browser: Chinese dates, redirects, CSRF."""

from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.gateway.pages import rendering
from services.gateway.pages.rendering import (
    cn_date,
    cn_datetime,
    event_label,
    field_errors,
    safe_next,
)


def test_dates_are_written_the_chinese_way_in_beijing_time():
    assert cn_date("2026-11-26") == "2026年11月26日"
    # 20:30 UTC is already the next morning in Beijing
    assert cn_date("2026-11-26T20:30:00+00:00") == "2026年11月27日"
    assert cn_datetime("2026-11-26T20:30:00+00:00") == "2026年11月27日 04:30"
    assert cn_datetime("2026-01-05T09:05:00+08:00") == "2026年1月5日 09:05"
    assert cn_date("") == "" and cn_date(None) == ""
    assert cn_date("不是日期") == "不是日期"


def test_after_login_only_a_console_path_is_followed():
    assert safe_next("/console/demands/1") == "/console/demands/1"
    for outside in ("https://evil.example/", "//evil.example/console/", "/", None):
        assert safe_next(outside) == "/console/"
    assert safe_next("/console//evil.example") == "/console/"


def test_errors_are_kept_per_field_and_joined():
    errors = field_errors(
        [
            {"field": "contact_phone", "message": "请填写联系电话"},
            {"field": "contact_phone", "message": "格式不对"},
            {"message": "请求内容有误"},
        ]
    )
    assert errors == {
        "contact_phone": "请填写联系电话；格式不对",
        "form": "请求内容有误",
    }
    # on a page of several forms, each field is named with its form
    assert field_errors(
        [{"field": "outcome", "message": "请选择"}, {}], "decision"
    ) == {
        "decision.outcome": "请选择",
        "decision.form": "填写有误",
    }


def test_a_refused_form_is_shown_again_as_typed_without_its_token():
    form = MultiDict({"applicant": "  某公司 ", "csrf": "t" * 43, "note": ""})
    assert rendering.typed(form) == {"applicant": "某公司", "note": ""}
    assert rendering.typed(form, "supplements") == {
        "supplements.applicant": "某公司",
        "supplements.note": "",
    }


def test_events_read_in_chinese_and_unknown_ones_as_they_are():
    assert event_label("Referral.Accepted") == "签收"
    assert event_label("Taken") == "受理（首问负责）"
    assert event_label("Demand.SomethingNew") == "Demand.SomethingNew"


def _post(form: dict, cookie: str) -> Request:
    builder = EnvironBuilder(method="POST", path="/demand", data=form)
    if cookie:
        builder.headers["Cookie"] = f"{rendering.CSRF_COOKIE}={cookie}"
    return Request(builder.get_environ())


def test_a_form_passes_only_with_the_token_of_its_own_cookie():
    token = "t" * 43
    assert rendering.csrf_ok(_post({"csrf": token}, token))
    assert not rendering.csrf_ok(_post({"csrf": token}, ""))
    assert not rendering.csrf_ok(_post({"csrf": "x" * 43}, token))
    assert not rendering.csrf_ok(_post({}, token))
    assert not rendering.csrf_ok(_post({"csrf": "short"}, "short"))


def test_a_page_sets_the_csrf_cookie_httponly_and_strict_once():
    first = Request(EnvironBuilder(path="/").get_environ())
    page = rendering.render(first, "error.html", 404, message="未找到")
    assert page.status_code == 404
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "未找到" in page.get_data(as_text=True)
    token = cookie.split(";")[0].split("=", 1)[1]
    again = EnvironBuilder(path="/", headers={"Cookie": f"qi_csrf={token}"})
    page = rendering.render(
        Request(again.get_environ()), "login.html", next="/console/", form={}
    )
    assert "Set-Cookie" not in page.headers
    assert f'value="{token}"' in page.get_data(as_text=True)


def test_a_conflict_in_english_is_never_shown():
    from services.gateway.routing.refusals import conflict_message
    from shared.errors import ConflictError

    english = ConflictError("the case was changed by someone else at the same time")
    assert conflict_message(english) == "此记录刚被他人修改，请刷新页面后重试"
    assert conflict_message(ConflictError("登记未能保存，请重试")) == (
        "登记未能保存，请重试"
    )


def test_the_board_names_which_deadline_a_referral_has_passed():
    from datetime import UTC, datetime

    from services.gateway.usecases.board import overdue_stage

    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    due = {
        "acceptance_due": "2026-11-26T15:00:00+08:00",  # 07:00 UTC: passed
        "completion_due": "2026-12-10T17:30:00+08:00",
    }
    assert overdue_stage({**due, "state": "sent"}, now) == "签收超期"
    assert overdue_stage({**due, "state": "accepted"}, now) == ""
    late = {**due, "completion_due": "2026-11-25T17:30:00+08:00"}
    assert overdue_stage({**late, "state": "in_progress"}, now) == "办结超期"
    # done or not yet sent: no deadline of the partner's is running
    assert overdue_stage({**late, "state": "completed"}, now) == ""
    assert overdue_stage({"state": "sent", "acceptance_due": None}, now) == ""


def test_the_boards_clock_and_hours_are_checked_by_field():
    import pytest

    from services.gateway.pages.manager import board_hours, board_moment
    from shared.errors import ValidationFailed

    # typed without an offset, with or without seconds: Beijing time
    for typed in ("2026-11-26 10:00", "2026-11-26T10:00:00"):
        assert board_moment(typed).isoformat() == "2026-11-26T10:00:00+08:00"
    assert board_moment("2026-11-26T02:00:00+00:00").utcoffset().total_seconds() == 0
    assert board_moment("").tzinfo is not None
    # none typed: the institution's service policy's hours (7.4.2)
    assert board_hours("") is None and board_hours("8") == 8.0
    for typed in ("明天", "2026-11-26 25:00"):
        with pytest.raises(ValidationFailed) as refused:
            board_moment(typed)
        assert refused.value.errors[0] == {
            "field": "now",
            "message": "应写作 2026-11-26 10:00（北京时间）",
        }
    for typed in ("很多", "0", "-3", "1000"):
        with pytest.raises(ValidationFailed) as refused:
            board_hours(typed)
        assert refused.value.errors[0]["field"] == "working_hours"


def test_the_quality_page_looks_for_the_last_four_half_years():
    from datetime import datetime

    from services.gateway.pages.manager import recent_halves

    assert recent_halves(datetime(2026, 11, 26)) == [
        (2026, 2),
        (2026, 1),
        (2025, 2),
        (2025, 1),
    ]
    assert recent_halves(datetime(2026, 3, 1))[:2] == [(2026, 1), (2025, 2)]


def _form(pairs: list[tuple[str, str]]):
    from werkzeug.datastructures import MultiDict

    return MultiDict(pairs)


def test_a_quotes_filled_rows_become_lines_and_errors_name_the_row():
    from services.gateway.pages.work import quote_errors, quote_lines

    rows = [("120.50", "12"), ("", ""), ("80", "x"), ("", "")]
    form = _form(
        [
            pair
            for i, (price, samples) in enumerate(rows)
            for pair in (
                ("item_code", "6.3.1" if price else ""),
                ("parameter", f"参数{i}" if price else ""),
                ("unit_price", price),
                ("samples", samples),
            )
        ]
    )
    lines, kept = quote_lines(form)
    # blank rows are not sent; samples typed as digits are a whole number
    assert kept == [0, 2]
    assert [line["samples"] for line in lines] == [12, "x"]
    errors = quote_errors(
        [
            {"field": "lines[1].samples", "message": "样品数量应为整数"},
            {"field": "discount_percent", "message": "折扣比例应在0到100之间"},
        ],
        lines,
        kept,
        "draft",
    )
    # the second line sent is the third row of the table
    assert errors == {
        "draft.lines.2.samples": "样品数量应为整数",
        "draft.discount_percent": "折扣比例应在0到100之间",
    }
    blank = quote_errors(
        [{"field": "lines[0].unit_price", "message": "单价不是有效的数字"}],
        [{"unit_price": "", "samples": 1}],
        [0],
        "revision",
    )
    assert blank == {"revision.lines.0.unit_price": "请填写单价"}


def test_an_efficiency_period_is_whole_beijing_days():
    from datetime import date

    import pytest

    from services.gateway.pages.work import efficiency_period, period_days
    from shared.errors import ValidationFailed

    since, until = efficiency_period("2026-07-01", "2026-11-26", date(2026, 11, 27))
    assert (since, until) == ("2026-07-01T00:00:00+08:00", "2026-11-27T00:00:00+08:00")
    assert period_days(since, until) == ("2026-07-01", "2026-11-26")
    # by default this half-year so far, today included
    assert efficiency_period("", "", date(2026, 3, 5)) == (
        "2026-01-01T00:00:00+08:00",
        "2026-03-06T00:00:00+08:00",
    )
    # the evaluation service answers in UTC; the days read the same
    assert period_days("2026-06-30T16:00:00+00:00", "2026-11-26T16:00:00+00:00") == (
        "2026-07-01",
        "2026-11-26",
    )
    for since, until, field in (
        ("2026-02-30", "", "since"),
        ("", "明天", "until"),
        ("2026-06-30", "2026-01-01", "until"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            efficiency_period(since, until, date(2026, 11, 27))
        assert refused.value.errors[0]["field"] == field


def test_custody_forms_become_the_intake_calls_arguments():
    import pytest

    from services.gateway.pages.custody import custody_arguments
    from shared.errors import ValidationFailed

    handover = _form(
        [
            ("sample_ids", "YP-1"),
            ("sample_ids", "YP-2"),
            ("from_party", "customer"),
            ("to_party", "wang.staff"),
            ("at", "2026-11-26T09:30"),
            ("place", "服务窗口"),
            ("condition", "完好"),
        ]
    )
    assert custody_arguments("handover", handover) == [
        ["YP-1", "YP-2"],
        "customer",
        "wang.staff",
        "2026-11-26T09:30:00+08:00",  # typed in Beijing time
        "服务窗口",
        "完好",
        "",
    ]
    sample = _form([("sample_id", "YP-3"), ("description", "电缆"), ("quantity", "2")])
    assert custody_arguments("sample", sample)[:3] == ["YP-3", "电缆", 2]
    with pytest.raises(ValidationFailed) as refused:
        custody_arguments("return", _form([("at", "2026-11-26T09:30")]))
    assert {e["field"] for e in refused.value.errors} == {
        "sample_ids",
        "from_party",
        "place",
    }
    disposal = _form(
        [
            ("sample_ids", "YP-1"),
            ("from_party", "南京检测中心"),
            ("at", "2026-12-01 16:00"),
            ("place", "南京检测中心"),
            ("method", "按危险废物交有资质单位处置"),
        ]
    )
    assert custody_arguments("disposal", disposal) == [
        ["YP-1"],
        "南京检测中心",
        "2026-12-01T16:00:00+08:00",
        "南京检测中心",
        "按危险废物交有资质单位处置",
    ]
    bad_time = handover.copy()
    bad_time["at"] = "昨天上午"
    with pytest.raises(ValidationFailed) as refused:
        custody_arguments("handover", bad_time)
    assert refused.value.errors[0]["field"] == "at"


def test_the_regulator_reads_custody_without_contact_data():
    from services.gateway.pages.custody import holder_label
    from shared.privacy import masked_custody

    found = {
        "visits": [
            {
                "kind": "pickup",
                "address": "南京市玄武区某路1号",
                "contact": "张三",
                "phone": "13912345678",
            }
        ],
        "deliveries": [{"report_no": "R-1", "email": "zhang@example.com"}],
        "samples": [],
        "movements": [],
    }
    masked = masked_custody(found)
    assert masked["visits"][0]["address"] == "***"
    assert masked["visits"][0]["contact"] == "张*"
    assert masked["visits"][0]["phone"] == "139****5678"
    assert masked["deliveries"][0]["email"] == "***"
    assert found["visits"][0]["phone"] == "13912345678"  # the record is untouched
    assert holder_label("customer") == "客户" and holder_label(None) == "—"


def test_rates_read_as_percentages_and_institutions_by_catalog_id():
    from uuid import NAMESPACE_URL, uuid5

    from services.gateway.pages.rendering import percent
    from services.gateway.usecases.catalog import catalog_key

    assert percent(0.875) == "87.5%" and percent(None) == "—" and percent(1) == "100.0%"
    partner = str(uuid5(NAMESPACE_URL, "some partner"))
    assert catalog_key(partner) == partner
    front_door = uuid5(NAMESPACE_URL, "qi-onestop:institution:jsqi")
    assert catalog_key("jsqi") == str(front_door)
