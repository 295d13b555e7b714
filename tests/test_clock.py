"""A local day runs from local midnight to the next, however many hours the clocks make it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from booking.clock import LONDON, local_day_span, local_midnight
from booking.web.presentation import long_date, short_date

UTC = dt.UTC


@pytest.mark.parametrize(
    ("day", "hours", "starts_at"),
    [
        # The last Sunday of March 2027: the clocks go forward at 01:00 GMT.
        (dt.date(2027, 3, 28), 23, dt.datetime(2027, 3, 28, 0, 0, tzinfo=UTC)),
        # The last Sunday of October 2027: the clocks go back at 02:00 BST.
        (dt.date(2027, 10, 31), 25, dt.datetime(2027, 10, 30, 23, 0, tzinfo=UTC)),
        (dt.date(2027, 1, 13), 24, dt.datetime(2027, 1, 13, 0, 0, tzinfo=UTC)),
        (dt.date(2027, 7, 14), 24, dt.datetime(2027, 7, 13, 23, 0, tzinfo=UTC)),
    ],
)
def test_a_local_day_lasts_from_midnight_to_midnight_across_the_clock_changes(
    day, hours, starts_at
):
    starts, ends = local_day_span(day)
    assert starts == starts_at
    assert ends - starts == dt.timedelta(hours=hours)
    assert starts.utcoffset() == ends.utcoffset() == dt.timedelta(0)
    assert starts.astimezone(LONDON).replace(tzinfo=None) == dt.datetime.combine(day, dt.time(0))
    assert ends.astimezone(LONDON).replace(tzinfo=None) == dt.datetime.combine(
        day + dt.timedelta(days=1), dt.time(0)
    )


def test_consecutive_local_days_meet_without_a_gap():
    day = dt.date(2027, 3, 27)
    for _ in range(3):
        assert local_day_span(day)[1] == local_day_span(day + dt.timedelta(days=1))[0]
        day += dt.timedelta(days=1)


def test_a_day_whose_midnight_is_skipped_starts_when_the_clocks_change():
    """Santiago's clocks went forward at midnight on 6 September 2026: 00:00 never showed."""
    santiago = ZoneInfo("America/Santiago")
    starts, ends = local_day_span(dt.date(2026, 9, 6), santiago)
    assert starts == dt.datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    assert ends - starts == dt.timedelta(hours=23)
    assert local_midnight(dt.date(2026, 9, 6), santiago) == starts


def test_dates_read_the_same_whether_given_as_a_day_or_an_instant():
    late_on_saturday = dt.datetime(2027, 3, 27, 23, 30, tzinfo=UTC)
    # Still summer time: 23:30 UTC on Saturday 30 October is 00:30 on Sunday in London.
    late_in_october = dt.datetime(2027, 10, 30, 23, 30, tzinfo=UTC)
    assert (
        long_date(dt.date(2027, 3, 27)) == long_date(late_on_saturday) == "Saturday 27 March 2027"
    )
    assert short_date(dt.date(2027, 3, 27)) == short_date(late_on_saturday) == "Sat 27 Mar"
    assert long_date(late_in_october) == "Sunday 31 October 2027"
