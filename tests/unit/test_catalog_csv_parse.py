"""CSV import of institutions (4.1): parsing, without a database."""

import io
from datetime import date

import pytest

from services.catalog.csv_import import (
    COLUMNS,
    ImportFileError,
    ProgressBar,
    _check,
    _Rejected,
    check_header,
    institution_kind,
    parse_date,
    qualification_kind,
    read_rows,
    split_scope,
)

HEADER = ",".join(COLUMNS)
GOOD = (
    "91320000A1,甲检测院,检验检测机构,025-1234,南京,"
    "CMA,CMA-1,6.3、6.4.3,,2026-01-01,2026-12-31"
)


def rows_of(text: str):
    return read_rows(io.StringIO(text))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-05-31", date(2026, 5, 31)),
        ("2026/05/31", date(2026, 5, 31)),
        ("2026/5/3", date(2026, 5, 3)),
        ("2026年5月31日", date(2026, 5, 31)),
        ("2026年05月03日", date(2026, 5, 3)),
        (" 2026-05-31 ", date(2026, 5, 31)),
        ("2026-02-30", None),
        ("2026-13-01", None),
        ("31/05/2026", None),
        ("2026-05", None),
        ("2026年5月31", None),
        ("", None),
    ],
)
def test_dates_in_three_spellings(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("6.3、6.4.3", ["6.3", "6.4.3"]),
        ("6.3,6.4.3;6.10", ["6.3", "6.4.3", "6.10"]),
        ("6.3， 6.4.3；6.1", ["6.3", "6.4.3", "6.1"]),
        (" 6.3 、、6.4 ", ["6.3", "6.4"]),
        ("6.3", ["6.3"]),
        ("", []),
    ],
)
def test_scope_codes_split_on_any_separator(text, expected):
    assert split_scope(text) == expected


def test_kinds_accept_keys_and_chinese_labels():
    assert institution_kind("检验检测机构") == "lab"
    assert institution_kind("计量技术机构") == "metrology"
    assert institution_kind("标准化技术机构") == "standardisation"
    assert institution_kind("lab") == "lab"
    assert institution_kind("研究所") is None
    assert qualification_kind("CMA") == "CMA"
    assert qualification_kind("cnas") == "CNAS"
    assert qualification_kind("实验室认可（CNAS）") == "CNAS"
    assert qualification_kind("实验室认可") == "CNAS"
    assert qualification_kind("计量授权") == "METROLOGY"
    assert qualification_kind("认证机构批准") == "CERT_BODY"
    assert qualification_kind("ISO") is None


def test_header_in_any_order_with_a_bom():
    shuffled = list(reversed(COLUMNS))
    positions = check_header(["\ufeff" + shuffled[0], *shuffled[1:]])
    assert positions["有效期止"] == 0 and positions["机构代码"] == len(COLUMNS) - 1


def test_a_missing_or_unknown_header_is_named():
    header = [c for c in COLUMNS if c != "资质范围"] + ["备注"]
    with pytest.raises(ImportFileError) as caught:
        check_header(header)
    assert "缺少列：资质范围" in str(caught.value)
    assert "不认识的列：“备注”" in str(caught.value)
    with pytest.raises(ImportFileError, match="重复的列：地址"):
        check_header([*COLUMNS, "地址"])


def test_a_bad_header_fails_the_whole_file():
    with pytest.raises(ImportFileError, match="缺少列：有效期止"):
        rows_of(HEADER.replace(",有效期止", "") + "\n" + GOOD + "\n")
    with pytest.raises(ImportFileError, match="空"):
        rows_of("\n\n")


def test_rows_carry_their_line_number_counting_the_header_as_one():
    text = "\ufeff" + HEADER + "\r\n" + GOOD + "\r\n\r\n" + GOOD + "\r\n1,2\r\n"
    rows = rows_of(text)
    assert [line for line, _ in rows] == [2, 4, 5]
    assert rows[0][1]["机构名称"] == "甲检测院"
    assert rows[2][1] == "该行有 2 列，表头有 11 列"


def test_a_quoted_cell_may_span_lines():
    multi = GOOD.replace(",,2026", ',"第一行\n第二行",2026')
    rows = rows_of(f"{HEADER}\n{multi}\n{GOOD}\n")
    assert [line for line, _ in rows] == [2, 4]
    assert rows[0][1]["范围说明"] == "第一行\n第二行"


def test_a_file_that_is_not_utf8_is_a_file_error(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes((HEADER + "\n" + GOOD + "\n").encode("gbk"))
    with pytest.raises(ImportFileError, match="UTF-8"):
        read_rows(path)
    with pytest.raises(ImportFileError, match="无法读取"):
        read_rows(tmp_path / "missing.csv")


def row(**changes):
    [(_, parsed)] = rows_of(f"{HEADER}\n{GOOD}\n")
    return {**parsed, **changes}


def reason(**changes) -> str:
    with pytest.raises(_Rejected) as caught:
        _check(row(**changes))
    return str(caught.value)


def test_a_good_row_is_normalised_by_the_domain():
    inst, qual, wanted = _check(row(有效期止="2026年12月31日", 资质范围="6.4.3,6.3"))
    assert inst["kind"] == "lab" and qual["kind"] == "CMA"
    assert wanted["scope_codes"] == ["6.3", "6.4.3"]
    assert (wanted["valid_from"], wanted["valid_to"]) == ("2026-01-01", "2026-12-31")


def test_bad_rows_give_the_domain_reason_under_the_chinese_column():
    assert reason(有效期起="2026-13-01") == "有效期起：有效期起应为日期，如 2026-05-31"
    assert reason(有效期止="2025-12-31") == "有效期止：有效期止不能早于有效期起"
    assert reason(证书编号="") == "证书编号：请填写证书编号"
    assert reason(资质范围="7.1").startswith("资质范围：资质范围应列出第6章")
    assert reason(联系电话="1" * 31) == "联系电话：联系电话不能超过30个字"
    assert reason(机构类别="研究所").startswith("机构类别：“研究所”不认识，应为：检验")
    assert reason(资质类别="ISO").startswith("资质类别：“ISO”不认识")


def test_every_problem_of_a_row_is_reported_in_column_order():
    text = reason(有效期止="x", 机构名称="", 资质范围="")
    assert text.split("；") == [
        "机构名称：请填写机构名称",
        "资质范围：资质范围应列出第6章服务事项编码，如 6.3、6.4.3",
        "有效期止：有效期止应为日期，如 2026-05-31",
    ]


def test_the_progress_bar_redraws_at_most_ten_times_a_second():
    now = [0.0]
    out = io.StringIO()
    bar = ProgressBar(out, width=10, clock=lambda: now[0])
    for done in range(1, 1001):
        now[0] = done * 0.001  # one row per millisecond: one second in all
        bar(done, 1000)
    frames = out.getvalue().split("\r")[1:]
    assert 10 <= len(frames) <= 12
    assert frames[-1] == "[##########] 1000/1000\n"
    assert frames[0] == "[          ] 1/1000"
