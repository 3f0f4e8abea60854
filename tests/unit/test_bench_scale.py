"""The province-scale bench's pure helpers: when demands arrive, which
half-year is summarised, and the province it generates."""

import random
from datetime import UTC, date, datetime

from bench.scale import last_whole_half
from bench.scale_load import SHANGHAI, province, spread_moments


def test_moments_fall_in_beijing_working_hours_in_order():
    start = datetime(2025, 12, 1, tzinfo=UTC)
    end = datetime(2026, 12, 1, tzinfo=UTC)
    moments = spread_moments(2000, start, end, random.Random(3))
    assert len(moments) == 2000
    assert moments == sorted(moments)
    for moment in moments:
        assert start <= moment <= end
        local = moment.astimezone(SHANGHAI)
        assert local.weekday() < 5
        assert (8, 30) <= (local.hour, local.minute) < (17, 31)


def test_moments_cover_the_whole_year():
    start = datetime(2025, 12, 1, tzinfo=UTC)
    end = datetime(2026, 12, 1, tzinfo=UTC)
    moments = spread_moments(5000, start, end, random.Random(4))
    months = {(m.year, m.month) for m in moments}
    assert len(months) >= 12


def test_the_last_whole_half_year_has_ended():
    assert last_whole_half(date(2026, 12, 3)) == (2026, 1)
    assert last_whole_half(date(2026, 7, 1)) == (2026, 1)
    assert last_whole_half(date(2026, 6, 30)) == (2025, 2)


def test_province_windows_partners_and_accounts():
    place = province(100, 8, 5, random.Random(1))
    assert len(place.windows) == 12
    assert len(place.partners) == 88
    assert len(place.seed["institutions"]) == 100
    roles = [a["role"] for a in place.seed["accounts"]]
    assert roles.count("regulator") == 1
    assert roles.count("manager") == 5
    assert roles.count("staff") == 40
    partners = [i for i in place.seed["institutions"] if i["kind"] != "service_centre"]
    assert all(i["qualifications"] for i in partners)
