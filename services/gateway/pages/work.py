"""The forms of the staff work pages as the use cases' inputs: a fee quote's
lines (5.3.1.5, pages/quotes.py) and the period of the staff efficiency page
(9.2.2, pages/efficiency.py), and the use cases' errors by the forms' fields.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from services.gateway.pages.rendering import BEIJING, field_errors
from shared.validation import Errors, require_day

# blank line rows the draft form offers; rows left blank are not sent
QUOTE_ROWS = 4
LINE_INPUTS = ("item_code", "parameter", "unit_price", "samples")
BLANK_NUMBERS = {"unit_price": "单价", "samples": "样品数量"}
LINE_ERROR = re.compile(r"^lines\[(\d+)\]\.(\w+)$")


# -- quotes: the form's rows as the API's ``lines`` ----------------------------


def quote_lines(form) -> tuple[list[dict], list[int]]:
    """The filled rows of the lines table as API lines, and the row of each.

    Samples typed as digits are sent as a whole number, anything else as
    typed, so the catalog's rule names the row and field that is wrong."""
    columns = {name: form.getlist(name) for name in LINE_INPUTS}
    count = max((len(values) for values in columns.values()), default=0)
    lines, rows = [], []
    for row in range(count):
        cells = {
            name: (values[row] if row < len(values) else "").strip()
            for name, values in columns.items()
        }
        if not any(cells.values()):
            continue
        samples = cells["samples"]
        lines.append(
            {**cells, "samples": int(samples) if samples.isdigit() else samples}
        )
        rows.append(row)
    return lines, rows


def quote_errors(
    errors: list[dict], lines: list[dict], rows: list[int], prefix: str
) -> dict[str, str]:
    """The catalog's errors by the page's field names: ``lines[1].samples``
    of the second filled row becomes ``<prefix>.lines.<row>.samples``; a
    number left blank is asked for, not called "not a number"."""
    renamed = []
    for error in errors:
        field = str(error.get("field") or "form")
        found = LINE_ERROR.match(field)
        if found and int(found.group(1)) < len(rows):
            index, name = int(found.group(1)), found.group(2)
            field = f"lines.{rows[index]}.{name}"
            if name in BLANK_NUMBERS and lines[index].get(name) == "":
                error = {**error, "message": f"请填写{BLANK_NUMBERS[name]}"}
        renamed.append({**error, "field": f"{prefix}.{field}"})
    return field_errors(renamed)


def shown_rows(form, count: int = QUOTE_ROWS) -> list[dict]:
    """The rows as typed, to show again after a refusal (at least ``count``)."""
    columns = {name: form.getlist(name) for name in LINE_INPUTS}
    total = max([count, *(len(values) for values in columns.values())])
    return [
        {
            name: (values[row] if row < len(values) else "")
            for name, values in columns.items()
        }
        for row in range(total)
    ]


def rows_of(lines: list[dict], count: int = QUOTE_ROWS) -> list[dict]:
    """A quote's lines as rows of the form, with blank rows to add more."""
    rows = [{name: str(line.get(name, "")) for name in LINE_INPUTS} for line in lines]
    blank = dict.fromkeys(LINE_INPUTS, "")
    return rows + [dict(blank) for _ in range(max(count - len(rows), 1))]


# -- efficiency: a period typed as two days, Beijing time ---------------------


def efficiency_period(since: str, until: str, today: date) -> tuple[str, str]:
    """``[since, until]`` days (both included) as the aware ``[since, until)``
    moments the evaluation service counts; by default this half-year so far."""
    first = date(today.year, 1 if today.month <= 6 else 7, 1)
    errors = Errors()
    days = {
        field: errors.check(require_day, value, field, label) if value else default
        for field, value, label, default in (
            ("since", since, "起始日期", first),
            ("until", until, "截止日期", today),
        )
    }
    if not errors and days["until"] < days["since"]:
        errors.add("until", "截止日期不能早于起始日期")
    errors.raise_if_any()
    start = datetime.combine(days["since"], time(0), BEIJING)
    end = datetime.combine(days["until"] + timedelta(days=1), time(0), BEIJING)
    return start.isoformat(), end.isoformat()


def period_days(since: str, until: str) -> tuple[str, str]:
    """The aware ``[since, until)`` moments as the days a person typed."""
    start = datetime.fromisoformat(since).astimezone(BEIJING).date()
    end = datetime.fromisoformat(until).astimezone(BEIJING).date() - timedelta(days=1)
    return start.isoformat(), end.isoformat()
