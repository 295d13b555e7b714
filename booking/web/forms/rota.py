"""The coordinator's rota forms: their shape only. `booking.rota.changes` judges the content.

Times are local wall-clock times (HH:MM, 24-hour clock) on a date; they become instants with
`zoneinfo` here, and a time the clocks skip is refused on the field that names it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import RadioField, SelectField, SubmitField
from wtforms.validators import InputRequired, Optional, StopValidation, ValidationError

from ...clock import LONDON, local_day_span, local_instant, local_midnight
from ...models import AbsenceKind, Block, Worker
from ..components import KeptSelect
from ..presentation import long_date
from .fields import ClockTimeField, DayMonthYearField, GovRadios, add_errors

TIME_HINT = "Use the 24-hour clock, for example 07:00"
KIND_NAMES = {AbsenceKind.SICKNESS: "Sickness", AbsenceKind.LEAVE: "Leave"}


def worker_choices(workers: list[Worker]) -> list[tuple[str, str]]:
    return [("", "Choose a worker")] + [(str(worker.id), worker.name) for worker in workers]


def block_choices(blocks: list[Block]) -> list[tuple[str, str]]:
    return [("", "Choose a block")] + [(block.code, block.name) for block in blocks]


def skipped_time(field: ClockTimeField, day: dt.date) -> str:
    return (
        f"{field.time:%H:%M} does not exist on {long_date(day)}: the clocks go "
        "forward an hour then. Enter a time before or after the change"
    )


def local_time_on(day: dt.date | None, field: ClockTimeField, tz: ZoneInfo) -> dt.datetime | None:
    """The instant of the field's wall-clock time on `day`; a skipped time is a field error.

    A time that happens twice (in autumn) is taken as its first occurrence, as everywhere else
    in the service.
    """
    if day is None or field.time is None:
        return None
    instant = local_instant(day, field.time, tz)
    if instant is None:
        field.errors = [*field.errors, skipped_time(field, day)]
    return instant


def answered(field_noun: str):
    """A date or time the request left out altogether (browsers send it empty) is missing too."""

    def check(form, field):
        missing = field.data is None or (isinstance(field, ClockTimeField) and field.time is None)
        if missing and not field.errors:
            raise StopValidation(f"Enter the {field_noun}")

    return check


class ShiftForm(FlaskForm):
    """A shift: who, where, and from when to when on one date.

    Field names are those of the domain's `InvalidField.errors` where they mean the same thing.
    """

    worker = SelectField(
        "Worker",
        widget=KeptSelect(),
        validate_choice=False,
        validators=[InputRequired(message="Choose the worker")],
    )
    block = SelectField(
        "Custody block or court",
        widget=KeptSelect(),
        validate_choice=False,
        validators=[InputRequired(message="Choose the custody block or court")],
    )
    # The summary links to the first box, which is where the GOV.UK pattern puts the focus.
    date = DayMonthYearField(
        "Date",
        id="date-day",
        noun="date of the shift",
        description="For example, 14 1 2027",
        validators=[answered("date of the shift")],
    )
    starts = ClockTimeField(
        "Start time", noun="start time", description=TIME_HINT, validators=[answered("start time")]
    )
    ends = ClockTimeField(
        "End time", noun="end time", description=TIME_HINT, validators=[answered("end time")]
    )
    submit = SubmitField("Save the shift", widget=GovSubmitInput())

    DOMAIN_FIELDS = {"starts_at": "starts", "ends_at": "ends"}

    @classmethod
    def with_choices(cls, workers: list[Worker], blocks: list[Block], **kwargs) -> ShiftForm:
        form = cls(**kwargs)
        form.worker.choices = worker_choices(workers)
        form.block.choices = block_choices(blocks)
        return form

    def validate_ends(self, field):
        if self.starts.time and field.time and field.time <= self.starts.time:
            raise ValidationError("The end time must be after the start time")

    def span(self, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime] | None:
        """The shift as UTC instants, or None with the skipped time marked on its field."""
        starts_at = local_time_on(self.date.data, self.starts, tz)
        ends_at = local_time_on(self.date.data, self.ends, tz)
        if starts_at is None or ends_at is None:
            return None
        return starts_at, ends_at

    def add_domain_errors(self, errors: dict[str, str]) -> dict[str, str]:
        return add_errors(self, errors, self.DOMAIN_FIELDS)


class AbsenceForm(FlaskForm):
    """Leave or sickness from a first to a last day: whole days, unless a time is given for
    leaving on the first day or coming back on the last."""

    worker = SelectField(
        "Worker",
        widget=KeptSelect(),
        validate_choice=False,
        validators=[InputRequired(message="Choose the worker who is away")],
    )
    kind = RadioField(
        "Why are they away?",
        choices=[(kind.value, name) for kind, name in KIND_NAMES.items()],
        widget=GovRadios(),
        validate_choice=False,
        validators=[InputRequired(message="Select sickness or leave")],
    )
    first_day = DayMonthYearField(
        "First day away",
        id="first_day-day",
        noun="first day away",
        description="For example, 14 1 2027",
        validators=[answered("first day away")],
    )
    starts = ClockTimeField(
        "Time they leave on the first day (optional)",
        noun="time they leave",
        description="Leave empty if they are away from the start of the day. " + TIME_HINT,
        validators=[Optional()],
    )
    last_day = DayMonthYearField(
        "Last day away",
        id="last_day-day",
        noun="last day away",
        description="The same as the first day if they are away for one day",
        validators=[answered("last day away")],
    )
    ends = ClockTimeField(
        "Time they are back on the last day (optional)",
        noun="time they are back",
        description="Leave empty if they are away until the end of the day. " + TIME_HINT,
        validators=[Optional()],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())

    @classmethod
    def with_choices(cls, workers: list[Worker], **kwargs) -> AbsenceForm:
        form = cls(**kwargs)
        form.worker.choices = worker_choices(workers)
        return form

    def validate_last_day(self, field):
        if self.first_day.data and field.data and field.data < self.first_day.data:
            raise ValidationError("The last day away must be the same as or after the first day")

    def validate_ends(self, field):
        one_day = self.first_day.data and self.first_day.data == self.last_day.data
        if one_day and self.starts.time and field.time and field.time <= self.starts.time:
            raise ValidationError("The time they are back must be after the time they leave")

    def span(self, tz: ZoneInfo = LONDON) -> tuple[dt.datetime, dt.datetime] | None:
        """The absence as UTC instants. Without times it runs from local midnight of the first
        day to local midnight after the last (23 or 25 hours on clock-change days)."""
        starts_at = (
            local_time_on(self.first_day.data, self.starts, tz)
            if self.starts.time
            else local_midnight(self.first_day.data, tz)
        )
        ends_at = (
            local_time_on(self.last_day.data, self.ends, tz)
            if self.ends.time
            else local_day_span(self.last_day.data, tz)[1]
        )
        if starts_at is None or ends_at is None:
            return None
        return starts_at, ends_at

    def add_domain_errors(self, errors: dict[str, str]) -> dict[str, str]:
        ends = "ends" if self.ends.time else "last_day"
        starts = "starts" if self.starts.time else "first_day"
        return add_errors(self, errors, {"starts_at": starts, "ends_at": ends})


class ConfirmRemovalForm(FlaskForm):
    submit = SubmitField("Remove the shift", widget=GovSubmitInput())
