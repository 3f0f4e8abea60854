"""Load institutions and their qualifications from a CSV file (clause 4.1).

    python -m services.catalog.csv_import FILE.csv

One row is one qualification of one institution. Every row is checked by the
domain and saved on its own, so a bad row is reported (line, Chinese reason)
and never costs the good ones. Importing the same file again changes nothing.
Exit status: 0 all rows imported or unchanged, 1 some rows rejected, 2 the file
itself could not be read (unreadable, not UTF-8, bad header) or the catalog's
stored events cannot be read with the key found.

The catalog's database and cipher key are found as the services find them
(``config.get``: QI_CIPHER_KEY, else the key ``make run`` keeps in
QI_VAR_DIR/cipher.key), and nothing is imported into a store whose events that
key cannot read: plaintext among encrypted events (or ciphertext no service
can decrypt) would make the catalog fail on every read that meets them.
"""

from __future__ import annotations

import csv
import getpass
import io
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from services.catalog.domain import (
    INSTITUTION_KINDS,
    QUALIFICATION_KINDS,
    Institution,
    institution_id,
)
from shared import audit
from shared.errors import ValidationFailed
from shared.verify import key_problem

# column -> domain field; "kind" means something else in each of the two
INSTITUTION_COLUMNS = {
    "机构代码": "code",
    "机构名称": "name",
    "机构类别": "kind",
    "联系电话": "contact_phone",
    "地址": "address",
}
QUALIFICATION_COLUMNS = {
    "资质类别": "kind",
    "证书编号": "cert_no",
    "资质范围": "scope_codes",
    "范围说明": "scope_text",
    "有效期起": "valid_from",
    "有效期止": "valid_to",
}
COLUMNS = (*INSTITUTION_COLUMNS, *QUALIFICATION_COLUMNS)

_INSTITUTION_KIND = {k: k for k in INSTITUTION_KINDS}
_INSTITUTION_KIND.update({label: k for k, label in INSTITUTION_KINDS.items()})
_QUALIFICATION_KIND = {k.upper(): k for k in QUALIFICATION_KINDS}
for _key, _label in QUALIFICATION_KINDS.items():
    _QUALIFICATION_KIND[_label] = _key
    _QUALIFICATION_KIND[re.sub(r"（.*）$", "", _label)] = _key  # without "（CMA）"
_DATE = re.compile(r"^(\d{4})(?:[-/](\d{1,2})[-/](\d{1,2})|年(\d{1,2})月(\d{1,2})日)$")
_SCOPE_SEPARATORS = re.compile(r"[、,;，；\s]+")
Progress = Callable[[int, int], None]


class ImportFileError(Exception):
    """The file as a whole cannot be imported; nothing was stored."""


@dataclass
class ImportReport:
    rows: int = 0
    institutions_created: int = 0
    qualifications_added: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"共 {self.rows} 行：新登记机构 {self.institutions_created} 家，"
            f"新增资质 {self.qualifications_added} 项，"
            f"未变化 {self.unchanged} 项，拒绝 {len(self.rejected)} 行"
        )


class _Rejected(Exception):
    """A row that cannot be imported, with its Chinese reason."""


# -- parsing (no database) ------------------------------------------------


def parse_date(text: str) -> date | None:
    """YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日; None when not a real date."""
    match = _DATE.match(text.strip())
    if not match:
        return None
    year, *parts = match.groups()
    month, day = [int(p) for p in parts if p is not None]
    try:
        return date(int(year), month, day)
    except ValueError:
        return None


def split_scope(text: str) -> list[str]:
    """'6.3、6.4.3' (also , ; ， ；) -> ['6.3', '6.4.3']."""
    return [code for code in _SCOPE_SEPARATORS.split(text.strip()) if code]


def institution_kind(text: str) -> str | None:
    return _INSTITUTION_KIND.get(text.strip())


def qualification_kind(text: str) -> str | None:
    text = text.strip()
    return _QUALIFICATION_KIND.get(text.upper()) or _QUALIFICATION_KIND.get(text)


def check_header(header: list[str]) -> dict[str, int]:
    """Column name -> position; ImportFileError names what is wrong."""
    names = [h.strip().lstrip("\ufeff").strip() for h in header]
    problems = [
        f"{what}：" + "、".join(found)
        for what, found in (
            ("缺少列", [c for c in COLUMNS if c not in names]),
            ("不认识的列", [f"“{h}”" for h in names if h not in COLUMNS]),
            ("重复的列", sorted({h for h in COLUMNS if names.count(h) > 1})),
        )
        if found
    ]
    if problems:
        raise ImportFileError("表头不对，" + "；".join(problems))
    return {name: names.index(name) for name in COLUMNS}


def read_rows(source) -> list[tuple[int, dict[str, str] | str]]:
    """(line, {column: text}) per data row, or (line, what is wrong with it).

    ``source`` is a path, or a text or binary stream (UTF-8, with or without BOM).
    The header is line 1; a line is a physical line of the file (blank lines
    count, a quoted cell spanning lines counts from where its row starts).
    """
    try:
        text = source.read() if hasattr(source, "read") else Path(source).read_bytes()
        if isinstance(text, bytes):
            text = text.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportFileError("文件不是 UTF-8 编码，请另存为“CSV UTF-8”") from None
    except OSError as exc:
        raise ImportFileError(f"无法读取文件：{exc.strerror or exc}") from None
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        records, line = [], 0
        for cells in reader:
            start, line = line + 1, reader.line_num
            if any(c.strip() for c in cells):
                records.append((start, cells))
    except csv.Error as exc:
        raise ImportFileError(f"第 {reader.line_num} 行 CSV 格式有误：{exc}") from None
    if not records:
        raise ImportFileError("文件是空的，第 1 行应为表头")
    positions = check_header(records[0][1])
    width = len(records[0][1])
    rows = []
    for start, cells in records[1:]:
        if len(cells) != width:
            rows.append((start, f"该行有 {len(cells)} 列，表头有 {width} 列"))
        else:
            rows.append((start, {c: cells[i].strip() for c, i in positions.items()}))
    return rows


# -- importing ------------------------------------------------------------


def _problems(exc: ValidationFailed, columns: dict[str, str]) -> dict[str, str]:
    """The domain's messages, by Chinese column name (first one per column)."""
    by_field = {f: c for c, f in columns.items()}
    return {by_field[e["field"]]: e["message"] for e in reversed(exc.errors)}


def _check(row: dict[str, str] | str) -> tuple[dict, dict, dict]:
    """Domain-checked (institution, qualification args, stored qualification)."""
    if isinstance(row, str):
        raise _Rejected(row)
    problems: dict[str, str] = {}
    inst = {f: row[c] for c, f in INSTITUTION_COLUMNS.items()}
    qual = {f: row[c] for c, f in QUALIFICATION_COLUMNS.items()}
    for target, column, parse, kinds in (
        (inst, "机构类别", institution_kind, INSTITUTION_KINDS),
        (qual, "资质类别", qualification_kind, QUALIFICATION_KINDS),
    ):
        target["kind"] = parse(row[column]) or row[column]
        if target["kind"] not in kinds:
            labels = "、".join(kinds.values())
            problems[column] = f"“{row[column]}”不认识，应为：{labels}"
    qual["scope_codes"] = split_scope(row["资质范围"])
    for column in ("有效期起", "有效期止"):
        key = QUALIFICATION_COLUMNS[column]
        qual[key] = parse_date(row[column]) or row[column]
    try:
        scratch = Institution.register(**inst)
    except ValidationFailed as exc:
        problems = {**_problems(exc, INSTITUTION_COLUMNS), **problems}
        scratch = Institution.register("-", "-", "lab")
    try:
        scratch.grant(**qual)
    except ValidationFailed as exc:
        problems = {**_problems(exc, QUALIFICATION_COLUMNS), **problems}
    if problems:
        raise _Rejected(
            "；".join(f"{c}：{problems[c]}" for c in COLUMNS if c in problems)
        )
    return inst, qual, scratch.qualifications[qual["cert_no"].strip()]


def _same(columns: dict[str, str], stored: dict, wanted: dict, why: str) -> None:
    differ = [
        c for c, f in columns.items() if f != "cert_no" and stored[f] != wanted[f]
    ]
    if differ:
        raise _Rejected(why + "、".join(differ))


class _Importer:
    def __init__(self, app, report: ImportReport):
        self.app = app
        self.report = report
        self.known: dict[str, Institution | None] = {}  # code -> aggregate

    def institution(self, code: str) -> Institution | None:
        if code not in self.known:
            try:
                self.known[code] = self.app.repository.get(institution_id(code))
            except AggregateNotFoundError:
                self.known[code] = None
        return self.known[code]

    def import_row(self, row: dict[str, str] | str) -> None:
        inst, qual, wanted = _check(row)
        code = inst["code"]
        for attempt in range(3):
            try:
                return self._apply(code, inst, qual, wanted)
            except RecordConflictError:  # someone else wrote it meanwhile
                self.known.pop(code, None)
                if attempt == 2:
                    raise _Rejected("该机构正被同时修改，请稍后重新导入") from None

    def _apply(self, code, inst, qual, wanted) -> None:
        existing = self.institution(code)
        if existing is None:
            created = Institution.register(**inst)
            created.grant(**qual)
            self.app.save(created)
            self.known[code] = created
            self.report.institutions_created += 1
            self.report.qualifications_added += 1
            return
        identity = {"机构名称": "name", "机构类别": "kind"}
        _same(identity, existing.__dict__, inst, "机构代码已登记，内容不同：")
        held = existing.qualifications.get(wanted["cert_no"])
        if held is not None:
            _same(QUALIFICATION_COLUMNS, held, wanted, "证书编号已登记，内容不同：")
            self.report.unchanged += 1
            return
        existing.grant(**qual)
        self.app.save(existing)  # on conflict import_row forgets and reloads it
        self.report.qualifications_added += 1


def import_csv(app, source, progress: Progress | None = None) -> ImportReport:
    """Import a CSV path or text stream into ``app`` (a CatalogApplication).

    ``progress(done, total)`` is called after each row.
    Raises ImportFileError, before storing anything, when the file cannot be
    read or its header is wrong.
    """
    return import_rows(app, read_rows(source), progress)


def import_rows(app, rows, progress: Progress | None = None) -> ImportReport:
    """Import what ``read_rows`` returned, each row saved on its own."""
    report = ImportReport(rows=len(rows))
    importer = _Importer(app, report)
    for done, (line, row) in enumerate(rows, start=1):
        try:
            importer.import_row(row)
        except _Rejected as exc:
            report.rejected.append((line, str(exc)))
        if progress is not None:
            progress(done, len(rows))
    return report


# -- command line -----------------------------------------------------------


class ProgressBar:
    """``\\r[####    ] 512/1000`` on a stream, redrawn at most ``rate`` times/s."""

    def __init__(self, stream, width: int = 30, rate: float = 10.0, clock=None):
        self.stream, self.width, self.interval = stream, width, 1.0 / rate
        self.clock = clock or time.monotonic
        self.last = float("-inf")

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if done < total and now - self.last < self.interval:
            return
        self.last = now
        filled = self.width * done // max(total, 1)
        bar = "#" * filled + " " * (self.width - filled)
        self.stream.write(f"\r[{bar}] {done}/{total}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("用法：python -m services.catalog.csv_import 文件.csv", file=sys.stderr)
        return 2
    path = args[0]
    try:
        rows = read_rows(path)  # fail on the file before opening the database
    except ImportFileError as exc:
        print(f"无法导入 {path}：{exc}", file=sys.stderr)
        return 2
    large = len(rows) >= 200 and sys.stderr.isatty()
    from services.catalog.application import CatalogApplication

    app = CatalogApplication()
    actor = audit.Actor(id=f"cli:{getpass.getuser()}", role="system")
    try:
        problem = key_problem(app)
        if problem is not None:
            print(f"无法导入 {path}：{problem}", file=sys.stderr)
            return 2
        with audit.audit_scope(audit.AuditContext(actor=actor, channel="csv_import")):
            report = import_rows(app, rows, ProgressBar(sys.stderr) if large else None)
    finally:
        app.close()
    print(f"导入 {os.path.basename(path)} 完成。{report.summary()}。")
    for line, reason in report.rejected:
        print(f"第 {line} 行未导入：{reason}")
    return 1 if report.rejected else 0


if __name__ == "__main__":
    sys.exit(main())
