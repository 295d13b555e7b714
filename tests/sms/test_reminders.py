"""When reminders go: 18:00 local the day before, two hours before, never in the quiet hours.

Times are local wall-clock times in Europe/London whatever the season; the clocks change on
Sunday 28 March 2027 (GMT to BST) and Sunday 31 October 2027 (BST to GMT).
"""

from __future__ import annotations

import datetime as dt

import pytest

from booking.clock import LONDON
from booking.extensions import db
from booking.models import MessageKind, MessageStatus, Role
from booking.sms import dispatch, reminders
from booking.sms.reminders import (
    EVENING_BEFORE,
    PASSED,
    QUIET_CLASH,
    ReminderPolicy,
    plan_reminders,
)
from tests.support import book, fill_rota, local, utc

POLICY = ReminderPolicy()


def plan(starts_at, now, policy=POLICY) -> dict[str, reminders.PlannedReminder]:
    return {r.kind: r for r in plan_reminders(starts_at, now, policy)}


def test_the_policy_defaults_are_those_of_the_contract():
    assert POLICY.day_before_at == dt.time(18, 0)
    assert POLICY.hours_before == 2
    assert (POLICY.quiet_start, POLICY.quiet_end) == (dt.time(21, 0), dt.time(8, 0))


def test_the_policy_is_read_from_the_configuration():
    policy = ReminderPolicy.from_config(
        {
            "REMINDER_DAY_BEFORE_AT": "17:30",
            "REMINDER_HOURS_BEFORE": "3",
            "SMS_QUIET_HOURS": "22:00-07:30",
        }
    )
    assert policy.day_before_at == dt.time(17, 30)
    assert policy.hours_before == 3
    assert (policy.quiet_start, policy.quiet_end) == (dt.time(22, 0), dt.time(7, 30))


def test_a_monday_after_the_spring_change_gets_its_reminders_at_local_times():
    # Monday 29 March 2027 10:00 BST, booked the Friday before (in GMT).
    planned = plan(local(2027, 3, 29, 10, 0), local(2027, 3, 26, 12, 0))
    day_before, same_day = planned[MessageKind.DAY_BEFORE], planned[MessageKind.SAME_DAY]
    # Sunday 28 March 18:00 BST is 17:00 UTC (not 18:00 UTC, as a fixed offset would give).
    assert day_before.send_at == utc(2027, 3, 28, 17, 0)
    assert day_before.skip_reason is None
    # 08:00 BST on the day: 07:00 UTC, the first minute after the quiet hours.
    assert same_day.send_at == utc(2027, 3, 29, 7, 0)
    assert same_day.skip_reason is None


def test_a_monday_after_the_autumn_change_gets_its_reminders_at_local_times():
    # Monday 1 November 2027 10:00 GMT, booked the Thursday before (in BST).
    planned = plan(local(2027, 11, 1, 10, 0), local(2027, 10, 28, 12, 0))
    # Sunday 31 October 18:00 GMT is 18:00 UTC (not 17:00 UTC).
    assert planned[MessageKind.DAY_BEFORE].send_at == utc(2027, 10, 31, 18, 0)
    assert planned[MessageKind.SAME_DAY].send_at == utc(2027, 11, 1, 8, 0)
    assert all(r.skip_reason is None for r in planned.values())


@pytest.mark.parametrize(
    ("starts_at", "day_before", "same_day"),
    [
        # The Sunday of the spring change: Saturday 18:00 GMT; 08:00 BST.
        (local(2027, 3, 28, 10, 0), utc(2027, 3, 27, 18, 0), utc(2027, 3, 28, 7, 0)),
        # The Sunday of the autumn change: Saturday 18:00 BST; 08:00 GMT.
        (local(2027, 10, 31, 10, 0), utc(2027, 10, 30, 17, 0), utc(2027, 10, 31, 8, 0)),
    ],
    ids=["spring-sunday", "autumn-sunday"],
)
def test_appointments_on_the_days_the_clocks_change(starts_at, day_before, same_day):
    planned = plan(starts_at, starts_at - dt.timedelta(days=5))
    assert planned[MessageKind.DAY_BEFORE].send_at == day_before
    assert planned[MessageKind.SAME_DAY].send_at == same_day


def test_two_hours_before_is_two_real_hours_across_the_change():
    # 03:30 BST on the spring Sunday is 02:30 UTC; two hours before is 00:30 UTC, 00:30 GMT:
    # in the quiet hours, so it goes at 20:59 GMT on the Saturday.
    planned = plan(local(2027, 3, 28, 3, 30), local(2027, 3, 25, 12, 0))
    assert planned[MessageKind.SAME_DAY].send_at == utc(2027, 3, 27, 20, 59)


def test_a_same_day_reminder_the_quiet_hours_push_into_the_evening_before_is_not_sent_too():
    # A 09:00 appointment: two hours before is 07:00, in the quiet hours (21:00-08:00). The
    # minute before they begin is 20:59 the evening before, three hours after the day-before
    # reminder: a second text that evening would say nothing new.
    planned = plan(local(2027, 1, 15, 9, 0), local(2027, 1, 13, 21, 0))
    day_before, same_day = planned[MessageKind.DAY_BEFORE], planned[MessageKind.SAME_DAY]
    assert day_before.send_at == local(2027, 1, 14, 18, 0)
    assert day_before.skip_reason is None
    assert same_day.send_at == local(2027, 1, 14, 20, 59)
    assert same_day.skip_reason == EVENING_BEFORE


def test_the_quiet_hours_move_is_by_the_local_clock_in_summer_too():
    # Monday 29 March 09:00 BST: 07:00 BST is quiet; 20:59 BST on Sunday is 19:59 UTC.
    planned = plan(local(2027, 3, 29, 9, 0), local(2027, 3, 26, 12, 0))
    assert planned[MessageKind.SAME_DAY].send_at == utc(2027, 3, 28, 19, 59)
    assert planned[MessageKind.SAME_DAY].skip_reason == EVENING_BEFORE


def test_a_reminder_whose_time_has_passed_at_booking_is_skipped_not_sent_late():
    # Booked at 19:00 for 10:00 tomorrow: 18:00 today has passed.
    now = local(2027, 1, 14, 19, 0)
    planned = plan(local(2027, 1, 15, 10, 0), now)
    assert planned[MessageKind.DAY_BEFORE].skip_reason == PASSED
    assert planned[MessageKind.DAY_BEFORE].send_at < now  # its time, for the record
    assert planned[MessageKind.SAME_DAY].skip_reason is None
    assert planned[MessageKind.SAME_DAY].send_at == local(2027, 1, 15, 8, 0)


def test_booked_in_the_small_hours_for_the_same_morning_only_the_same_day_reminder_goes():
    planned = plan(local(2027, 1, 14, 10, 0), local(2027, 1, 14, 2, 0))
    assert planned[MessageKind.DAY_BEFORE].skip_reason == PASSED
    assert planned[MessageKind.SAME_DAY].send_at == local(2027, 1, 14, 8, 0)
    assert planned[MessageKind.SAME_DAY].skip_reason is None


def test_a_quiet_hours_reminder_whose_earlier_moment_is_already_past_is_skipped():
    # Booked at 21:30 for 09:00 tomorrow: 07:00 is quiet and 20:59 tonight is past.
    planned = plan(local(2027, 1, 15, 9, 0), local(2027, 1, 14, 21, 30))
    same_day = planned[MessageKind.SAME_DAY]
    assert same_day.skip_reason == QUIET_CLASH


def test_a_quiet_hours_reminder_half_an_hour_after_the_confirmation_is_not_sent():
    # Booked at 20:30 for 09:00 tomorrow: 20:59 tonight is still ahead, but the confirmation
    # has just said the same.
    now = local(2027, 1, 14, 20, 30)
    planned = plan(local(2027, 1, 15, 9, 0), now)
    assert planned[MessageKind.DAY_BEFORE].skip_reason == PASSED
    assert planned[MessageKind.SAME_DAY].send_at == local(2027, 1, 14, 20, 59)
    assert planned[MessageKind.SAME_DAY].skip_reason == EVENING_BEFORE


def test_a_quiet_hours_reminder_not_after_the_previous_message_is_skipped():
    # With the day-before reminder at 20:59, the moved same-day one would coincide with it.
    policy = ReminderPolicy(day_before_at=dt.time(20, 59))
    planned = plan(local(2027, 1, 15, 9, 0), local(2027, 1, 13, 12, 0), policy)
    assert planned[MessageKind.DAY_BEFORE].send_at == local(2027, 1, 14, 20, 59)
    assert planned[MessageKind.DAY_BEFORE].skip_reason is None
    assert planned[MessageKind.SAME_DAY].skip_reason == QUIET_CLASH


def test_a_day_before_time_in_the_quiet_hours_is_brought_forward_too():
    policy = ReminderPolicy(day_before_at=dt.time(22, 0))
    planned = plan(local(2027, 1, 15, 10, 0), local(2027, 1, 13, 12, 0), policy)
    assert planned[MessageKind.DAY_BEFORE].send_at == local(2027, 1, 14, 20, 59)
    assert planned[MessageKind.SAME_DAY].send_at == local(2027, 1, 15, 8, 0)


def test_quiet_hours_that_do_not_cross_midnight():
    policy = ReminderPolicy(quiet_start=dt.time(0, 0), quiet_end=dt.time(7, 0))
    assert policy.is_quiet(local(2027, 1, 15, 6, 59))
    assert not policy.is_quiet(local(2027, 1, 15, 7, 0))
    assert not policy.is_quiet(local(2027, 1, 14, 23, 59))
    # An 08:00 appointment: 06:00 is quiet; the minute before midnight goes instead.
    planned = plan(local(2027, 1, 15, 8, 0), local(2027, 1, 13, 12, 0), policy)
    assert planned[MessageKind.SAME_DAY].send_at == local(2027, 1, 14, 23, 59)


@pytest.mark.parametrize(
    ("wall", "quiet"),
    [
        ((20, 59), False),
        ((21, 0), True),
        ((23, 59), True),
        ((0, 0), True),
        ((7, 59), True),
        ((8, 0), False),
        ((12, 0), False),
    ],
)
def test_the_quiet_hours_run_from_21_00_to_08_00_local(wall, quiet):
    for day in (dt.date(2027, 1, 14), dt.date(2027, 7, 14)):  # in GMT and in BST
        instant = dt.datetime.combine(day, dt.time(*wall), tzinfo=LONDON).astimezone(dt.UTC)
        assert POLICY.is_quiet(instant) is quiet


def test_no_reminder_is_planned_for_after_the_appointment_starts():
    # Booked 90 minutes ahead: both reminder times are past.
    now = local(2027, 1, 14, 12, 0)
    planned = plan(now + dt.timedelta(minutes=90), now)
    assert {r.skip_reason for r in planned.values()} == {PASSED}


# Through the booking: the outbox rows carry these times.


@pytest.fixture
def spring(team, users, clock):
    """Good Friday 26 March 2027, noon, with the rota over Easter and the clock change.

    Easter Monday is a bank holiday: only the three blocks with weekend cover are open.
    """
    clock.set_local(2027, 3, 26, 12, 0)
    fill_rota(dt.date(2027, 3, 26), 4)


def test_a_booking_over_the_spring_change_queues_its_reminders_at_local_times(spring, users, clock):
    booking = book(
        users[Role.SERGEANT],
        "oldbury",
        local(2027, 3, 29, 10, 0),
        clock(),
        test_result="opiates",
        tested_at=clock() - dt.timedelta(hours=1),
    )
    times = {m.kind: (m.send_at, m.due_at, m.status) for m in booking.messages}
    assert times == {
        MessageKind.CONFIRMATION: (clock(), clock(), MessageStatus.PENDING),
        MessageKind.DAY_BEFORE: (
            utc(2027, 3, 28, 17, 0),
            utc(2027, 3, 28, 17, 0),
            MessageStatus.PENDING,
        ),
        MessageKind.SAME_DAY: (
            utc(2027, 3, 29, 7, 0),
            utc(2027, 3, 29, 7, 0),
            MessageStatus.PENDING,
        ),
    }
    assert all(m.appointment_at == booking.starts_at for m in booking.messages)

    # The dispatcher (console backend) sends the day-before reminder at 18:00 BST, not before.
    assert dispatch.dispatch(clock).sent == 1  # the confirmation
    clock.set(utc(2027, 3, 28, 16, 59))
    assert dispatch.dispatch(clock).claimed == []
    clock.set(utc(2027, 3, 28, 17, 0))
    assert dispatch.dispatch(clock).sent == 1
    db.session.expire_all()
    sent = {m.kind: m.sent_at for m in booking.messages if m.status == MessageStatus.SENT}
    assert sent == {
        MessageKind.CONFIRMATION: local(2027, 3, 26, 12, 0),
        MessageKind.DAY_BEFORE: utc(2027, 3, 28, 17, 0),
    }
