"""The court duty worker's forms: which list, a suitability request, its result, the reason it
was not completed, the adjournment (with an appointment before it) and the sentence.

Their shape only: `booking.court.suitability` judges the content, and its refusals land on
these fields (their names are the domain's, but where a field is split in two on the page).
"""

from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import RadioField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, ValidationError

from ...clock import LONDON, local_instant
from ...court.suitability import Appointment, SuitabilityRequest
from ...models import (
    Block,
    Finding,
    NotCompletedReason,
    RequestedBy,
    SentenceOutcome,
    Session,
    Setting,
)
from ..components import KeptSelect
from ..presentation import (
    FINDING_NAMES,
    NOT_COMPLETED_NAMES,
    REQUESTED_BY_NAMES,
    SENTENCE_NAMES,
    SESSION_NAMES,
    SETTING_NAMES,
)
from .fields import (
    YES_NO,
    ClockTimeField,
    DayMonthYearField,
    GovRadios,
    GovTelInput,
    OptionalDayMonthYearField,
    add_errors,
    parse_slot,
)

NO_APPOINTMENT = "none"
REQUESTED_BY_HINTS = {
    RequestedBy.PROBATION: "The probation officer preparing the report",
    RequestedBy.BENCH: "The magistrates or district judge",
    RequestedBy.DEFENCE: "The person's solicitor",
    RequestedBy.WORKER: "You or a colleague, who spotted the need in custody",
}
FINDING_CHOICES = [(finding.value, FINDING_NAMES[finding]) for finding in Finding]


def _court_choices(courts: list[Block], empty: str | None = None) -> list[tuple[str, str]]:
    return ([("", empty)] if empty else []) + [(court.code, court.name) for court in courts]


class CourtDayForm(FlaskForm):
    """Which court's list, and which day."""

    class Meta:
        csrf = False  # a GET that changes nothing

    court = SelectField("Court", widget=KeptSelect(), validate_choice=False)
    date = DayMonthYearField(
        "Date of the list",
        id="date-day",
        noun="date of the list",
        description="For example, 14 1 2027",
    )

    @classmethod
    def for_courts(cls, courts: list[Block], **kwargs) -> CourtDayForm:
        form = cls(**kwargs)
        form.court.choices = _court_choices(courts)
        return form

    def validate_court(self, field):
        if field.data not in {code for code, _ in field.choices}:
            raise ValidationError("Choose a court from the list")

    def url_values(self) -> dict[str, object]:
        """The list's address arguments: the court and the date as its three boxes send it."""
        day = self.date.data
        return {"court": self.court.data, "date": [day.day, day.month, day.year]}


class RequestForm(FlaskForm):
    """A court's request for a suitability assessment, and who the person is."""

    court = SelectField(
        "Magistrates' court",
        widget=KeptSelect(),
        validate_choice=False,
        validators=[InputRequired(message="Choose the magistrates' court")],
    )
    hearing_date = DayMonthYearField(
        "Date of the hearing",
        id="hearing_date-day",
        noun="date of the hearing",
        description="For example, 14 1 2027",
    )
    session = RadioField(
        "Which list is the case in?",
        choices=[(session.value, SESSION_NAMES[session]) for session in Session],
        widget=GovRadios(),
        validate_choice=False,
        validators=[InputRequired(message="Select the morning or the afternoon list")],
    )
    requested_by = RadioField(
        "Who asked for the assessment?",
        choices=[(who.value, REQUESTED_BY_NAMES[who]) for who in RequestedBy],
        widget=GovRadios(),
        validate_choice=False,
        validators=[InputRequired(message="Select who asked for the assessment")],
    )
    setting = RadioField(
        "Where is the person assessed?",
        choices=[(setting.value, SETTING_NAMES[setting]) for setting in Setting],
        widget=GovRadios(),
        validate_choice=False,
        validators=[InputRequired(message="Select whether the person is assessed in custody")],
    )
    arrest_block = SelectField(
        "Custody block",
        description="Where the person is held, when they are assessed in custody",
        widget=KeptSelect(),
        validate_choice=False,
    )
    custody_record = StringField(
        "Custody record number",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the custody record number")],
    )
    person_name = StringField(
        "Full name",
        description="As on the court list or the custody record",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the person's full name")],
    )
    mobile = StringField(
        "Mobile number (optional)",
        description="For texts about an appointment, if the court adjourns for the assessment",
        widget=GovTelInput(),
    )
    sms_consent = RadioField(
        "Does the person agree to text messages?",
        description="Texts give only the date, time, place and reference: nothing about courts, "
        "drugs or the police",
        choices=YES_NO,
        widget=GovRadios(),
        validate_choice=False,
        validators=[InputRequired(message="Select yes if the person agrees to text messages")],
    )
    submit = SubmitField("Request the assessment", widget=GovSubmitInput())

    @classmethod
    def for_places(cls, courts: list[Block], blocks: list[Block], **kwargs) -> RequestForm:
        form = cls(**kwargs)
        form.court.choices = _court_choices(courts, "Choose a court")
        form.arrest_block.choices = [("", "Not in custody")] + [
            (block.code, block.name) for block in blocks
        ]
        return form

    def requested_by_items(self) -> list[dict]:
        return [
            {"hint": {"text": REQUESTED_BY_HINTS[value]}} for value, _ in self.requested_by.choices
        ]

    def request(self) -> SuitabilityRequest:
        """The answers as the domain takes them (only after `validate()` has passed)."""
        return SuitabilityRequest(
            court=self.court.data,
            hearing_date=self.hearing_date.data,
            session=self.session.data,
            requested_by=self.requested_by.data,
            setting=self.setting.data,
            arrest_block=self.arrest_block.data or None,
            custody_record=self.custody_record.data or "",
            person_name=self.person_name.data or "",
            mobile=(self.mobile.data or "").strip() or None,
            sms_consent=self.sms_consent.data == "yes",
        )

    def add_domain_errors(self, errors: dict[str, str]) -> None:
        """The domain's messages on their fields; any other on the court."""
        add_errors(self, errors, {}, fallback="court")


class ResultForm(FlaskForm):
    """What the assessment found for each requirement, and when it was done."""

    drr = RadioField(
        "Drug rehabilitation requirement (DRR)",
        choices=FINDING_CHOICES,
        widget=GovRadios(),
        validate_choice=False,
        validators=[InputRequired(message="Select the finding for a DRR")],
    )
    atr = RadioField(
        "Alcohol treatment requirement (ATR)",
        choices=FINDING_CHOICES,
        widget=GovRadios(),
        validate_choice=False,
        validators=[InputRequired(message="Select the finding for an ATR")],
    )
    willing = RadioField(
        "Is the person willing to comply with the requirement?",
        description="The court can make a treatment requirement only with the person's consent",
        choices=YES_NO,
        widget=GovRadios(),
        validate_choice=False,
        validators=[InputRequired(message="Select yes if the person is willing to comply")],
    )
    completed_on = DayMonthYearField(
        "Date the assessment was completed",
        id="completed_on-day",
        noun="date the assessment was completed",
        description="For example, 14 1 2027",
    )
    completed_time = ClockTimeField(
        "Time the assessment was completed",
        noun="time the assessment was completed",
        description="Use the 24-hour clock, for example 11:30",
    )
    submit = SubmitField("Save the result", widget=GovSubmitInput())

    # The domain's time of completion is shown on the time box; "already concluded" on the first.
    DOMAIN_FIELDS = {"completed_at": "completed_time", "reference": "drr"}

    @staticmethod
    def initial_data(now: dt.datetime) -> dict[str, object]:
        local_now = now.astimezone(LONDON)
        return {"completed_on": local_now.date(), "completed_time": f"{local_now:%H:%M}"}

    def validate_completed_time(self, field):
        if self.completed_on.data and field.time and self.completed_at() is None:
            raise ValidationError(
                f"{field.time:%H:%M} did not happen on {self.completed_on.data.day} "
                f"{self.completed_on.data:%B}: the clocks went forward an hour at 1am"
            )

    def completed_at(self) -> dt.datetime | None:
        """The instant of completion, read as London wall-clock time (None in the spring gap)."""
        if self.completed_on.data is None or self.completed_time.time is None:
            return None
        return local_instant(self.completed_on.data, self.completed_time.time, LONDON)

    def add_domain_errors(self, errors: dict[str, str]) -> None:
        """The domain's messages on their fields; any other on the drr."""
        add_errors(self, errors, self.DOMAIN_FIELDS, fallback="drr")


class NotCompletedForm(FlaskForm):
    reason = RadioField(
        "Why was the assessment not completed?",
        choices=[(reason.value, NOT_COMPLETED_NAMES[reason]) for reason in NotCompletedReason],
        widget=GovRadios(),
        validate_choice=False,
        validators=[InputRequired(message="Select why the assessment was not completed")],
    )
    submit = SubmitField("Save the reason", widget=GovSubmitInput())

    def add_domain_errors(self, errors: dict[str, str]) -> None:
        """The domain's messages on their fields; any other on the reason."""
        add_errors(self, errors, {"reference": "reason"}, fallback="reason")


class AdjournForm(FlaskForm):
    """The adjourned hearing, and perhaps an appointment before it among those offered for
    that hearing (the "show" button offers them again for the day typed)."""

    adjourned_to = DayMonthYearField(
        "Date of the adjourned hearing",
        id="adjourned_to-day",
        noun="date of the adjourned hearing",
        description="For example, 19 1 2027",
    )
    slots_from = OptionalDayMonthYearField(
        "Show appointments from (optional)",
        id="slots_from-day",
        noun="date to show appointments from",
        description="A day the person can come. Leave it empty for the earliest appointments",
    )
    show = SubmitField("Show appointments before this hearing", widget=GovSubmitInput())
    appointment = RadioField(
        "Book an appointment for the assessment",
        widget=GovRadios(),
        validate_choice=False,
        validators=[InputRequired(message="Choose an appointment, or that none is booked now")],
    )
    submit = SubmitField("Record the adjournment", widget=GovSubmitInput())

    # Every refusal about the appointment (its time, place or the person's details for it).
    DOMAIN_FIELDS = {
        "starts_at": "appointment",
        "block": "appointment",
        "reference": "adjourned_to",
    }

    def showing(self) -> bool:
        """Whether the appointments were asked for, rather than the adjournment recorded."""
        return bool(self.show.data)

    def chosen(self) -> Appointment | None:
        """The appointment chosen (None for none); only after `validate()` has passed."""
        if self.appointment.data == NO_APPOINTMENT:
            return None
        block, starts_at = parse_slot(self.appointment.data)
        return Appointment(block, starts_at)

    def validate_appointment(self, field):
        if field.data != NO_APPOINTMENT and parse_slot(field.data) is None:
            raise ValidationError("Choose an appointment from the list")

    def add_domain_errors(self, errors: dict[str, str]) -> None:
        add_errors(self, errors, self.DOMAIN_FIELDS, fallback="appointment")


class SentenceForm(FlaskForm):
    outcome = RadioField(
        "What sentence did the court pass?",
        choices=[(outcome.value, SENTENCE_NAMES[outcome]) for outcome in SentenceOutcome],
        widget=GovRadios(),
        validate_choice=False,
        validators=[InputRequired(message="Select the sentence")],
    )
    sentenced_on = DayMonthYearField(
        "Date of sentence",
        id="sentenced_on-day",
        noun="date of sentence",
        description="For example, 14 1 2027",
    )
    submit = SubmitField("Save the sentence", widget=GovSubmitInput())

    def add_domain_errors(self, errors: dict[str, str]) -> None:
        """The domain's messages on their fields; any other on the outcome."""
        add_errors(self, errors, {}, fallback="outcome")
