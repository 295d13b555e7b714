"""Working days and bank holidays in England and Wales."""

import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def is_bank_holiday(day: dt.date) -> bool:
    return day in _bank_holidays(day.year)


def bank_holiday_name(day: dt.date) -> str | None:
    return _bank_holidays(day.year).get(day)


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday, and not a bank holiday in England and Wales."""
    return day.weekday() < 5 and not is_bank_holiday(day)


def nth_working_day_before(day: dt.date, n: int) -> dt.date:
    """The n-th working day before `day` (not counting `day` itself)."""
    current = day
    counted = 0
    while counted < n:
        current -= dt.timedelta(days=1)
        if is_working_day(current):
            counted += 1
    return current


def nth_working_day_after(day: dt.date, n: int) -> dt.date:
    """The n-th working day after `day` (not counting `day` itself)."""
    current = day
    counted = 0
    while counted < n:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            counted += 1
    return current
