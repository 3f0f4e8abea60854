"""Clause-4.1 data loading from CSV, on SQLite and PostgreSQL: 1,000 rows with
10 bad ones, imported twice, then asked who is qualified; and the CLI."""

import csv
import io
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from services.catalog.application import CatalogApplication
from services.catalog.csv_import import COLUMNS, import_csv
from services.catalog.domain import institution_id

REPO = Path(__file__).resolve().parents[2]
CITIES = "南京 无锡 徐州 常州 苏州 南通 连云港 淮安 盐城 扬州 镇江 泰州 宿迁".split()
INSTITUTION_KINDS = ("检验检测机构", "计量技术机构", "认证机构", "lab")
QUALIFICATION_KINDS = ("CMA", "CNAS", "计量授权", "食品检验机构资质", "认证机构批准")
SCOPES = (["6.3", "6.4.3"], ["6.4"], ["6.1", "6.2"], ["6.4.3", "6.5"], ["6.10"])
STARTS = (date(2025, 1, 1), date(2025, 6, 1), date(2026, 3, 1))
ENDS = (date(2027, 12, 31), date(2026, 3, 31), date(2028, 1, 1), date(2026, 7, 1))
SEPARATORS = ("、", ",", ";")


def spell(day: date, n: int) -> str:
    return (
        day.isoformat(),
        day.strftime("%Y/%m/%d"),
        f"{day.year}年{day.month}月{day.day}日",
    )[n % 3]


def generate():
    """1,000 rows: 400 institutions, the first 200 with 3 qualifications."""
    rows = []
    for i in range(400):
        code = f"91320000MA{i:06d}"
        for j in range(3 if i < 200 else 2):
            n = i + j
            scope = SCOPES[n % len(SCOPES)]
            rows.append(
                {
                    "机构代码": code,
                    "机构名称": f"{CITIES[i % len(CITIES)]}市第{i}产品质量检验院",
                    "机构类别": INSTITUTION_KINDS[i % 4],
                    "联系电话": f"025-{8000_0000 + i}",
                    "地址": f"江苏省{CITIES[i % len(CITIES)]}市质检路{i}号",
                    "资质类别": QUALIFICATION_KINDS[n % 5],
                    "证书编号": f"ZZ{i:04d}-{j}",
                    "资质范围": SEPARATORS[n % 3].join(scope),
                    "范围说明": "食品、工业产品检验" if n % 2 else "",
                    "有效期起": spell(STARTS[n % 3], n),
                    "有效期止": spell(ENDS[n % 4], n + 1),
                    "_scope": scope,
                    "_valid": (STARTS[n % 3], ENDS[n % 4]),
                }
            )
    return rows


def first_row(rows, i):
    return next(k for k, r in enumerate(rows) if r["机构代码"] == f"91320000MA{i:06d}")


# (institution, which of its rows, change, expected reason): one per institution
BAD = [
    (3, 0, {"有效期起": "2026-02-30"}, "有效期起：有效期起应为日期"),
    (50, 1, {"有效期起": "2026-06-01", "有效期止": "2026/5/31"}, "不能早于有效期起"),
    (77, 0, {"机构类别": "研究所"}, "机构类别：“研究所”不认识"),
    (120, 2, {"资质类别": "ISO9001"}, "资质类别：“ISO9001”不认识"),
    (150, 1, {"资质范围": "6.3、7.1"}, "资质范围：资质范围应列出第6章服务事项编码"),
    (210, 0, {"证书编号": ""}, "证书编号：请填写证书编号"),
    (250, 1, {"联系电话": "025-" + "1" * 27}, "联系电话：联系电话不能超过30个字"),
    (
        300,
        1,
        {"_copy": 0, "有效期止": "2030/1/1"},
        "证书编号已登记，内容不同：有效期止",
    ),
    (333, 1, {"机构名称": "冒名检测院"}, "机构代码已登记，内容不同：机构名称"),
    (399, 1, {"_cells": 10}, "该行有 10 列，表头有 11 列"),
]


def write_csv(path: Path, rows, header=COLUMNS) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow([r[c] for c in header][: r.get("_cells", len(header))])
    path.write_text("\ufeff" + out.getvalue(), encoding="utf-8")


@pytest.fixture
def catalog(databases):
    app = CatalogApplication()
    yield app
    app.close()


def test_a_thousand_rows_import_once_and_only_once(catalog, backend, tmp_path):
    rows = generate()
    assert len(rows) == 1000
    expected = {}
    for i, which, change, reason in BAD:
        k = first_row(rows, i) + which
        if "_copy" in change:  # the qualification of another row of this one
            rows[k] = {**rows[k], **{c: rows[k - which][c] for c in COLUMNS[5:]}}
        rows[k] = {**rows[k], **change, "_bad": True}
        expected[k + 2] = reason  # the header is line 1
    header = [*COLUMNS[5:], *reversed(COLUMNS[:5])]  # any order will do
    path = tmp_path / "机构资质.csv"
    write_csv(path, rows, header)
    calls = []

    started = time.perf_counter()
    report = import_csv(catalog, path, lambda done, total: calls.append(done))
    elapsed = time.perf_counter() - started
    print(f"\n{backend}: 1,000 rows imported in {elapsed:.2f} s")
    assert calls == list(range(1, 1001))
    assert [line for line, _ in report.rejected] == sorted(expected)
    for line, reason in report.rejected:
        assert expected[line] in reason, (line, reason)
    assert report.institutions_created == 400
    assert report.qualifications_added == 990 and report.unchanged == 0

    position = catalog.recorder.max_notification_id()
    with open(path, encoding="utf-8-sig", newline="") as stream:
        again = import_csv(catalog, stream)
    assert (again.institutions_created, again.qualifications_added) == (0, 0)
    assert again.unchanged == 990 and again.rejected == report.rejected
    assert catalog.recorder.max_notification_id() == position

    impostor = catalog.institution(str(institution_id("91320000MA000333")))
    assert impostor["name"] == "盐城市第333产品质量检验院"  # not 冒名检测院
    assert [q["cert_no"] for q in impostor["qualifications"]] == ["ZZ0333-0"]
    assert catalog.institution(str(institution_id("91320000MA000077")))["kind"] == (
        "metrology"  # from its good row: 计量技术机构, not 研究所
    )

    day = date(2026, 7, 1)
    covering = {
        r["证书编号"]
        for r in rows
        if not r.get("_bad")
        and any(c == "6.4.3" or "6.4.3".startswith(c + ".") for c in r["_scope"])
        and r["_valid"][0] <= day <= r["_valid"][1]
    }
    found = catalog.qualified_institutions("6.4.3", day)
    assert {f["cert_no"] for f in found} == covering and len(covering) > 100
    some = next(f for f in found if f["cert_no"] == "ZZ0000-0")
    assert some["institution_name"] == "南京市第0产品质量检验院"
    assert some["valid_to"] == "2027-12-31" and some["scope_codes"] == ["6.3", "6.4.3"]


def run_cli(path: Path):
    return subprocess.run(
        [sys.executable, "-m", "services.catalog.csv_import", str(path)],
        cwd=REPO,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_command_line_reports_bad_lines_and_exits_1(databases, tmp_path):
    rows = generate()[:3]
    rows[1] = {**rows[1], "有效期止": "2026-13-01"}
    path = tmp_path / "small.csv"
    write_csv(path, rows)

    done = run_cli(path)
    assert done.returncode == 1, done.stderr
    assert "新登记机构 1 家，新增资质 2 项，未变化 0 项，拒绝 1 行" in done.stdout
    assert "第 3 行未导入：有效期止：有效期止应为日期" in done.stdout

    rows[1]["有效期止"] = "2027年1月1日"
    write_csv(path, rows)
    done = run_cli(path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "新增资质 1 项，未变化 2 项，拒绝 0 行" in done.stdout

    write_csv(path, rows, [c for c in COLUMNS if c != "资质范围"])
    done = run_cli(path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"无法导入 {path}：表头不对，缺少列：资质范围"
    ]
    assert run_cli(tmp_path / "missing.csv").returncode == 2


def test_a_row_whose_institution_changed_meanwhile_is_retried(databases, tmp_path):
    rows = generate()[:3]
    path = tmp_path / "three.csv"
    write_csv(path, rows)
    importer, other = CatalogApplication(), CatalogApplication()
    try:

        def someone_else_writes(done, total):
            if done == 1:  # the importer holds version 2 of the institution now
                other.change_qualification_status(
                    str(institution_id(rows[0]["机构代码"])),
                    "ZZ0000-0",
                    "suspend",
                    "2026-05-01",
                    "监督抽查",
                )

        with path.open("rb") as stream:  # a binary stream will do too
            report = import_csv(importer, stream, someone_else_writes)
        assert report.rejected == [] and report.qualifications_added == 3
        found = importer.institution(str(institution_id(rows[0]["机构代码"])))
        assert [q["cert_no"] for q in found["qualifications"]] == [
            "ZZ0000-0",
            "ZZ0000-1",
            "ZZ0000-2",
        ]
        assert found["version"] == 5  # registered, granted, suspended, 2 granted
    finally:
        importer.close()
        other.close()
