"""Mainland-China working days and office hours for SLA clocks.

Referral acceptance, complaint acknowledgement, satisfaction "within 5 working
days" (T/JAS 12—2023 9.2.1) and "no owner action for N working hours" (7.4.2)
count working days and office hours, not calendar time.

Where a day's status comes from, first match wins:

1. the override file (``QI_CALENDAR_OVERRIDES``, see :func:`load_overrides`);
2. ``chinese_calendar`` for the years it has data for (``DATA_YEARS``, read from
   its tables at import): official holidays and adjusted working weekends;
3. the fallback rule for any other year: Monday–Friday are working days except
   the public holidays fixed to Gregorian dates, 1 Jan (元旦), 1–2 May (劳动节)
   and 1–3 Oct (国庆节); Saturday and Sunday are rest days. Lunar holidays
   (春节, 清明, 端午, 中秋), substitute days for a holiday on a weekend, and
   the State Council's bridged days and working weekends are NOT predicted:
   put them in the override file. Each lookup by the rule increments
   ``qi_calendar_fallback_total{year}``; the first one of a year in a process
   logs a WARNING naming the year and ``QI_CALENDAR_OVERRIDES``.

Counting conventions: ``add_working_days(day, n)`` is the n-th working day
*after* ``day`` (``day`` itself never counts; n=0 gives ``day``), and
``working_days_between(a, b)`` counts the working days in ``(a, b]``, so
``working_days_between(d, add_working_days(d, n)) == n``. Hours count only
time inside the office periods of working days (default 08:30–12:00 and
13:30–17:30, Asia/Shanghai); a moment outside them starts at the next opening.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar import constants as _cc_data
from prometheus_client import Counter

from shared import config

log = logging.getLogger(__name__)

OVERRIDES_VAR = "QI_CALENDAR_OVERRIDES"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_HOURS = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))
# (month, day) of the statutory holidays fixed to the Gregorian calendar
# (全国年节及纪念日放假办法, as revised with effect from 2025).
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})
DATA_YEARS = (min(_cc_data.holidays).year, max(_cc_data.holidays).year)

FALLBACK = Counter(
    "qi_calendar_fallback_total",
    "Working-day lookups answered by the fallback rule (no calendar data).",
    ["year"],
)
_warned_years: set[int] = set()
_warn_lock = threading.Lock()


def fallback_is_working_day(day: date) -> bool:
    """The fallback rule: Monday–Friday, except 1 Jan, 1–2 May and 1–3 Oct."""
    return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS


@functools.lru_cache(maxsize=8192)
def _official_working_day(day: date) -> bool:
    """chinese_calendar's answer, kept: it checks its argument at every call,
    and the staff efficiency figures ask about the same days for every case
    (issue 22: 12 % of the manager's board at 30,000 demands). The data does
    not change while the process runs; a missing year raises and is not kept."""
    return chinese_calendar.is_workday(day)


def _fallback(day: date) -> bool:
    FALLBACK.labels(year=str(day.year)).inc()
    with _warn_lock:
        first = day.year not in _warned_years
        _warned_years.add(day.year)
    if first:
        log.warning(
            "no official holiday data for %d (chinese_calendar covers %d-%d): "
            "using Monday-Friday minus 1 Jan, 1-2 May and 1-3 Oct; lunar holidays "
            "and adjusted days must come from the file named by %s",
            day.year,
            *DATA_YEARS,
            OVERRIDES_VAR,
        )
    return fallback_is_working_day(day)


def load_overrides(path: str | Path) -> dict[date, bool]:
    """Read an override file: ``{"2027-02-10": "holiday", "2027-02-20": "workday"}``.

    Keys are ISO dates, values ``"holiday"`` (a rest day) or ``"workday"``; keys
    starting with ``_`` (e.g. ``"_comment"``) are ignored. Raises ``ValueError``
    naming the file on anything else.
    """
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a JSON object of date: holiday|workday")
    result: dict[date, bool] = {}
    for key, value in raw.items():
        if key.startswith("_"):
            continue
        try:
            day = date.fromisoformat(key)
        except ValueError:
            raise ValueError(f"{path}: {key!r} is not an ISO date") from None
        if value not in ("holiday", "workday"):
            raise ValueError(f"{path}: {key}: {value!r} is not holiday|workday")
        result[day] = value == "workday"
    return result


def _overrides_path() -> str:
    return config.get(OVERRIDES_VAR)


def system_clock() -> datetime:
    """The machine's clock, aware (UTC)."""
    return datetime.now(UTC)


# The one clock of every date rule in every service; a test replaces it
# (``monkeypatch.setattr(shared.calendar, "CLOCK", ...)``) instead of sleeping.
CLOCK = system_clock


def now() -> datetime:
    """This moment in Asia/Shanghai: business days are Beijing's everywhere."""
    return CLOCK().astimezone(SHANGHAI)


def today() -> date:
    """Today's date in Asia/Shanghai, whatever the server's own time zone:
    between 00:00 and 08:00 Beijing time the UTC date is still yesterday."""
    return now().date()


def calendar_from_env() -> WorkingCalendar:
    """A calendar with the overrides of ``QI_CALENDAR_OVERRIDES`` (empty: none).

    Reads the file on every call: build one at start-up and keep it.
    """
    path = _overrides_path()
    return WorkingCalendar(load_overrides(path) if path else None)


class WorkingCalendar:
    def __init__(
        self,
        overrides: dict[date, bool] | None = None,
        hours: tuple[tuple[time, time], ...] = DEFAULT_HOURS,
        tz: tzinfo = SHANGHAI,
    ):
        hours = tuple((start, end) for start, end in hours)
        bounds = [t for period in hours for t in period]
        if not hours or bounds != sorted(bounds) or any(s == e for s, e in hours):
            raise ValueError(f"office hours must be ordered, disjoint periods: {hours}")
        self.overrides = dict(overrides or {})
        self.hours = hours
        self.tz = tz

    # -- days ---------------------------------------------------------------

    def _day(self, day: date) -> date:
        if isinstance(day, datetime):
            return (day.astimezone(self.tz) if day.tzinfo else day).date()
        return day

    def is_working_day(self, day: date) -> bool:
        day = self._day(day)
        if day in self.overrides:
            return self.overrides[day]
        if DATA_YEARS[0] <= day.year <= DATA_YEARS[1]:
            try:
                return _official_working_day(day)
            except NotImplementedError:
                pass
        return _fallback(day)

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after ``day`` (``day`` does not count; n=0: day)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, not {n}")
        day = self._day(day)
        while n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]``; negative when ``end`` is earlier."""
        start, end = self._day(start), self._day(end)
        if end < start:
            return -self.working_days_between(end, start)
        days = (start + timedelta(days=i) for i in range(1, (end - start).days + 1))
        return sum(self.is_working_day(d) for d in days)

    # -- hours --------------------------------------------------------------

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"an aware datetime is required, not {moment!r}")
        return moment.astimezone(self.tz)

    def _periods(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return []
        return [
            (datetime.combine(day, s, self.tz), datetime.combine(day, e, self.tz))
            for s, e in self.hours
        ]

    def add_working_hours(self, moment: datetime, hours: float) -> datetime:
        """The moment ``hours`` office hours after ``moment`` (local time zone).

        A moment outside office hours starts at the next opening, so adding 0
        moves it there; a result exactly at a closing time stays there.
        """
        if hours < 0:
            raise ValueError(f"hours must be >= 0, not {hours}")
        remaining = timedelta(hours=hours)
        now = self._local(moment)
        day = now.date()
        while True:
            for start, end in self._periods(day):
                if end <= now:
                    continue
                begin = max(start, now)
                if begin + remaining <= end:
                    return begin + remaining
                remaining -= end - begin
            day += timedelta(days=1)

    def working_hours_between(self, a: datetime, b: datetime) -> float:
        """Office hours from ``a`` to ``b``; negative when ``b`` is earlier."""
        a, b = self._local(a), self._local(b)
        if b < a:
            return -self.working_hours_between(b, a)
        total = timedelta()
        day = a.date()
        while day <= b.date():
            for start, end in self._periods(day):
                overlap = min(end, b) - max(start, a)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total / timedelta(hours=1)

    def deadline(self, start_moment: datetime, working_days: int) -> datetime:
        """Close of office on the n-th working day after ``start_moment``'s day.

        "Within 5 working days" of something received on a Monday ends at the
        close of the following Monday (the day of receipt does not count).
        """
        day = self.add_working_days(self._local(start_moment).date(), working_days)
        return datetime.combine(day, self.hours[-1][1], self.tz)

    def is_overdue(
        self, start_moment: datetime, working_days: int, now: datetime
    ) -> bool:
        return self._local(now) > self.deadline(start_moment, working_days)
