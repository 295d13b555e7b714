"""When the reminders of an appointment go: the day before, and a few hours before.

Times are worked out on the local wall clock of the block (Europe/London): the day-before
reminder goes at REMINDER_DAY_BEFORE_AT local whatever the season, and no reminder goes in the
quiet hours. A reminder that would fall in them goes at the last minute before they begin, or
not at all if that is already past or would not come after the message before it. A same-day
reminder that the quiet hours would push into the evening before is not sent when the person
already gets a text that evening: two texts a few hours apart the night before is one too many.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ..clock import LONDON
from ..models import MessageKind

PASSED = "The reminder time had already passed when the appointment was booked"
QUIET_CLASH = "The reminder would fall in the quiet hours and there was no earlier time for it"
EVENING_BEFORE = (
    "The quiet hours would move the reminder to the evening before, and a text goes that evening"
)


def _wall_time(value: str) -> dt.time:
    hours, minutes = value.strip().split(":")
    return dt.time(int(hours), int(minutes))


@dataclass(frozen=True)
class ReminderPolicy:
    day_before_at: dt.time = dt.time(18, 0)
    hours_before: int = 2
    quiet_start: dt.time = dt.time(21, 0)
    quiet_end: dt.time = dt.time(8, 0)
    tz: ZoneInfo = LONDON

    @classmethod
    def from_config(cls, config) -> ReminderPolicy:
        quiet_start, quiet_end = config["SMS_QUIET_HOURS"].split("-")
        return cls(
            day_before_at=_wall_time(config["REMINDER_DAY_BEFORE_AT"]),
            hours_before=int(config["REMINDER_HOURS_BEFORE"]),
            quiet_start=_wall_time(quiet_start),
            quiet_end=_wall_time(quiet_end),
        )

    def is_quiet(self, instant: dt.datetime) -> bool:
        wall = instant.astimezone(self.tz).time()
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= wall < self.quiet_end
        return wall >= self.quiet_start or wall < self.quiet_end

    def last_moment_before_quiet(self, instant: dt.datetime) -> dt.datetime:
        """The minute before the quiet hours that contain `instant` began."""
        local = instant.astimezone(self.tz)
        began_on = local.date()
        if self.quiet_start > self.quiet_end and local.time() < self.quiet_end:
            began_on -= dt.timedelta(days=1)  # the quiet night began the evening before
        began = dt.datetime.combine(began_on, self.quiet_start, tzinfo=self.tz)
        return began.astimezone(dt.UTC) - dt.timedelta(minutes=1)


@dataclass(frozen=True)
class PlannedReminder:
    kind: MessageKind
    send_at: dt.datetime
    skip_reason: str | None = None


def _local_date(instant: dt.datetime, policy: ReminderPolicy) -> dt.date:
    return instant.astimezone(policy.tz).date()


def _day_before(starts_at: dt.datetime, policy: ReminderPolicy) -> dt.datetime:
    day = starts_at.astimezone(policy.tz).date() - dt.timedelta(days=1)
    # combine-then-convert: a wall time in the spring gap lands an hour later, as clocks do.
    return dt.datetime.combine(day, policy.day_before_at, tzinfo=policy.tz).astimezone(dt.UTC)


def plan_reminders(
    starts_at: dt.datetime, now: dt.datetime, policy: ReminderPolicy
) -> list[PlannedReminder]:
    """The day-before and same-day reminders of an appointment booked (or moved) at `now`."""
    wanted = [
        (MessageKind.DAY_BEFORE, _day_before(starts_at, policy)),
        (MessageKind.SAME_DAY, starts_at - dt.timedelta(hours=policy.hours_before)),
    ]
    planned = []
    previous = now  # the confirmation (or change) message goes now
    for kind, send_at in wanted:
        reason = None
        if send_at <= now:
            reason = PASSED
        elif policy.is_quiet(send_at):
            send_at = policy.last_moment_before_quiet(send_at)
            if send_at <= previous:
                reason = QUIET_CLASH
            elif kind == MessageKind.SAME_DAY and _local_date(send_at, policy) == _local_date(
                previous, policy
            ) < _local_date(starts_at, policy):
                reason = EVENING_BEFORE
        elif send_at <= previous:
            reason = QUIET_CLASH
        if send_at >= starts_at:
            reason = reason or PASSED
        planned.append(PlannedReminder(kind, send_at, reason))
        if reason is None:
            previous = send_at
    return planned
