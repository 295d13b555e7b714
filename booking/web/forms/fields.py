"""The sergeant's forms: their shape only. The domain (`booking.appointments.bookings`) judges
the content."""

from __future__ import annotations

import datetime as dt
import re

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovDateInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, ValidationError

from ... import permissions, places
from ...appointments.bookings import BookingDetails
from ...clock import LONDON, local_instant, parse_iso_instant
from ...models import Block, Requirement, TestResult, User
from ..components import Kept, KeptSelect
from ..presentation import REQUIREMENT_NAMES, TEST_RESULT_NAMES

YES_NO = [("yes", "Yes"), ("no", "No")]
REQUIREMENT_HINTS = {
    Requirement.INITIAL: "Required by law after a positive test (Drugs Act 2005, section 9)",
    Requirement.FOLLOW_UP: "Required after an initial assessment (Drugs Act 2005, section 10)",
    Requirement.VOLUNTARY: "No legal requirement: the person agrees to be seen",
}
# "21:30", "9:30", "2130", "21.30"
CLOCK_TIME = re.compile(r"^(?P<hour>\d{1,2})[:.]?(?P<minute>\d{2})$")


class GovRadios(Kept, GovRadioInput):
    """GOV.UK radios without an empty hint when the field has no description; kept once drawn
    (the slot page draws the same earliest slots for every sergeant in turn)."""

    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        if params.get("hint") and not (params["hint"].get("text") or params["hint"].get("html")):
            del params["hint"]
        return params


class GovTelInput(GovTextInput):
    """A text input for a telephone number: the phone keypad on touch screens."""

    input_type = "tel"


class DayMonthYearInput(Kept, GovDateInput):
    """GOV.UK's date input whose boxes are NAME-day, NAME-month and NAME-year.

    The field's own id is its day box, so the error summary links to the box to correct;
    the wrapper takes the bare name, so no id appears twice.
    """

    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        params["id"] = field.name
        return params


class DayMonthYearField(DateField):
    """A date from GOV.UK's three boxes (day, month, year), with GOV.UK's error messages."""

    def __init__(self, label=None, validators=None, *, noun: str, **kwargs):
        super().__init__(label, validators, format="%d %m %Y", widget=DayMonthYearInput(), **kwargs)
        self.noun = noun

    def process_formdata(self, valuelist):
        # The widget unpacks exactly three values; a tampered request may send fewer or more.
        parts = [value.strip() for value in list(valuelist)[:3]]
        parts += [""] * (3 - len(parts))
        self.raw_data = parts
        self.data = None
        day, month, year = parts
        if not any(parts):
            raise ValueError(f"Enter the {self.noun}")
        missing = [
            name for name, value in zip(("day", "month", "year"), parts, strict=True) if not value
        ]
        if missing:
            raise ValueError(f"The {self.noun} must include a {' and a '.join(missing)}")
        if not all(value.isdigit() for value in parts):
            raise ValueError(f"The {self.noun} must be a real date, like 13 1 2027")
        if len(year) != 4:
            raise ValueError(
                f"The year of the {self.noun.removeprefix('date of the ')} must include 4 numbers"
            )
        try:
            self.data = dt.date(int(year), int(month), int(day))
        except ValueError:
            raise ValueError(f"The {self.noun} must be a real date, like 13 1 2027") from None


class OptionalDayMonthYearField(DayMonthYearField):
    """A date from GOV.UK's three boxes that may be left empty (None)."""

    def process_formdata(self, valuelist):
        if not any(str(value).strip() for value in list(valuelist)[:3]):
            self.raw_data = ["", "", ""]
            self.data = None
            return
        super().process_formdata(valuelist)


class ClockTimeField(StringField):
    """A local wall-clock time typed as HH:MM on the 24-hour clock."""

    def __init__(self, label=None, validators=None, *, noun: str, **kwargs):
        super().__init__(label, validators, widget=GovTextInput(), **kwargs)
        self.noun = noun
        self.time: dt.time | None = None

    def process_data(self, value):
        super().process_data(value)
        self.time = parse_clock_time(value) if value else None

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.time = None
        if not (self.data or "").strip():
            raise ValueError(f"Enter the {self.noun}")
        self.time = parse_clock_time(self.data)
        if self.time is None:
            raise ValueError(f"Enter the {self.noun} on the 24-hour clock, like 21:30")


def parse_clock_time(raw: str) -> dt.time | None:
    match = CLOCK_TIME.match(raw.strip())
    if not match:
        return None
    hour, minute = int(match["hour"]), int(match["minute"])
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


class DetailsForm(FlaskForm):
    """Everything recorded about the person and the test before a slot is chosen.

    Field names match the keys of the domain's `InvalidField.errors`, so its refusals land on
    the field they are about.
    """

    arrest_block = SelectField(
        "Custody block",
        description="Where the person was arrested and is held now",
        widget=KeptSelect(),
        validate_choice=False,
        validators=[InputRequired(message="Choose the block where the person was arrested")],
    )
    custody_record = StringField(
        "Custody record number",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the custody record number")],
    )
    person_name = StringField(
        "Full name",
        description="As on the custody record",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the person's full name")],
    )
    test_result = RadioField(
        "Test result",
        choices=[(result.value, TEST_RESULT_NAMES[result]) for result in TestResult],
        widget=GovRadios(),
        validate_choice=False,
        validators=[InputRequired(message="Select the test result")],
    )
    # The summary links to the first box, which is where the GOV.UK pattern puts the focus.
    tested_on = DayMonthYearField(
        "Date of the test",
        id="tested_on-day",
        noun="date of the test",
        description="For example, 13 1 2027",
    )
    tested_time = ClockTimeField(
        "Time of the test",
        noun="time of the test",
        description="Use the 24-hour clock, for example 21:30",
    )
    disputed = RadioField(
        "Does the person dispute the result?",
        description="A disputed sample goes to a laboratory; the appointment is then at least "
        "5 working days after the test",
        choices=YES_NO,
        widget=GovRadios(),
        validate_choice=False,
        validators=[InputRequired(message="Select yes if the person disputes the result")],
    )
    requirement = RadioField(
        "Type of assessment",
        widget=GovRadios(),
        validate_choice=False,
        validators=[InputRequired(message="Select the type of assessment")],
    )
    mobile = StringField(
        "Mobile number (optional)",
        description="For a text confirming the appointment and reminders before it",
        widget=GovTelInput(),
    )
    sms_consent = RadioField(
        "Does the person agree to text messages?",
        description="Texts give only the date, time, place and reference: nothing about drugs, "
        "tests or the police",
        choices=YES_NO,
        widget=GovRadios(),
        validate_choice=False,
        validators=[InputRequired(message="Select yes if the person agrees to text messages")],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())

    # Where each of the domain's field names shows its message on this form.
    DOMAIN_FIELDS = {"tested_at": "tested_on"}

    @classmethod
    def for_user(cls, user: User, blocks: list[Block], **kwargs) -> DetailsForm:
        form = cls(**kwargs)
        form.arrest_block.choices = [("", "Choose a block")] + [(b.code, b.name) for b in blocks]
        offered = [Requirement.INITIAL, Requirement.VOLUNTARY]
        if permissions.may(user, permissions.FOLLOW_UP):
            offered.insert(1, Requirement.FOLLOW_UP)
        form.requirement.choices = [(r.value, REQUIREMENT_NAMES[r]) for r in offered]
        return form

    @staticmethod
    def initial_data(
        details: BookingDetails | None, user: User, now: dt.datetime
    ) -> dict[str, object]:
        """What the form shows first: a draft being changed, or the user's block and now."""
        if details is None:
            local_now = now.astimezone(LONDON)
            return {
                "arrest_block": user.block.code if user.block else None,
                "tested_on": local_now.date(),
                "tested_time": f"{local_now:%H:%M}",
                "requirement": Requirement.INITIAL.value,
            }
        tested = details.tested_at.astimezone(LONDON)
        return {
            "arrest_block": details.arrest_block,
            "custody_record": details.custody_record,
            "person_name": details.person_name,
            "test_result": details.test_result,
            "tested_on": tested.date(),
            "tested_time": f"{tested:%H:%M}",
            "disputed": yes_no(details.disputed),
            "requirement": details.requirement,
            "mobile": details.mobile,
            "sms_consent": yes_no(details.sms_consent),
        }

    def requirement_items(self) -> list[dict]:
        """A hint under each type of assessment, in the order offered."""
        return [
            {"hint": {"text": REQUIREMENT_HINTS[value]}} for value, _ in self.requirement.choices
        ]

    def validate_tested_time(self, field):
        if self.tested_on.data and field.time and self.tested_at() is None:
            raise ValidationError(
                f"{field.time:%H:%M} did not happen on {self.tested_on.data.day} "
                f"{self.tested_on.data:%B}: the clocks went forward an hour at 1am. "
                "Enter the time the custody clock showed"
            )

    def tested_at(self) -> dt.datetime | None:
        """The instant of the test, read as Europe/London wall-clock time.

        A time in the spring gap did not happen (None). A time in the autumn hour that happens
        twice is taken as its first occurrence, as everywhere else in the service: the two
        readings are an hour apart, which changes nothing the test time is used for.
        """
        if self.tested_on.data is None or self.tested_time.time is None:
            return None
        return local_instant(self.tested_on.data, self.tested_time.time, LONDON)

    def details(self) -> BookingDetails:
        """The answers as the domain takes them (only after `validate()` has passed)."""
        return BookingDetails(
            custody_record=self.custody_record.data or "",
            person_name=self.person_name.data or "",
            mobile=(self.mobile.data or "").strip() or None,
            sms_consent=self.sms_consent.data == "yes",
            requirement=self.requirement.data,
            test_result=self.test_result.data,
            tested_at=self.tested_at(),
            disputed=self.disputed.data == "yes",
            arrest_block=self.arrest_block.data,
        )

    def add_domain_errors(self, errors: dict[str, str]) -> dict[str, str]:
        """Show the domain's messages on their fields; returns those this form has no field for."""
        return add_errors(self, errors, self.DOMAIN_FIELDS)


class SlotForm(FlaskForm):
    """The choice of one free slot, offered as "block|start" values."""

    slot = RadioField(
        "Choose an appointment",
        widget=GovRadios(),
        validate_choice=False,
        validators=[InputRequired(message="Choose a time for the appointment")],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())

    # Every refusal about the slot (its time, block or availability) shows on the one choice.
    DOMAIN_FIELDS = {"starts_at": "slot", "block": "slot"}

    def validate_slot(self, field):
        chosen = parse_slot(field.data)
        # A value changed in the browser may name a block that does not exist.
        if chosen is None or places.block_with_code(chosen[0]) is None:
            raise ValidationError("Choose a time for the appointment from the list")

    def chosen(self) -> tuple[str, dt.datetime]:
        return parse_slot(self.slot.data)

    def add_domain_errors(self, errors: dict[str, str]) -> dict[str, str]:
        return add_errors(self, errors, self.DOMAIN_FIELDS)


class SlotDayForm(FlaskForm):
    """The day from which slots are offered (the earliest, when left empty)."""

    class Meta:
        csrf = False  # a filter by GET changes nothing

    day = OptionalDayMonthYearField(
        "Show slots from",
        id="day-day",
        noun="date to show slots from",
        description="For example, 16 1 2027. Leave it empty for the earliest slots",
    )

    def check_window(self, first: dt.date, last: dt.date) -> bool:
        """Whether the day chosen (if any) lies in the booking window, `first` to `last`."""
        chosen = self.day.data
        if chosen is None:
            return True
        if chosen < first:
            self.day.errors = [
                *self.day.errors,
                "The date to show slots from must be today or later",
            ]
        elif chosen > last:
            self.day.errors = [
                *self.day.errors,
                f"The date to show slots from must be {last.day} {last:%B %Y} or earlier: "
                "appointments are booked at most that far ahead",
            ]
        return not self.day.errors

    def url_values(self) -> list[str]:
        """The day as the query string gives it (day, month, year), when one is chosen."""
        return (
            [str(self.day.data.day), str(self.day.data.month), str(self.day.data.year)]
            if self.day.data
            else []
        )


def slot_value(block_code: str, starts_at: dt.datetime) -> str:
    return f"{block_code}|{starts_at.astimezone(dt.UTC).isoformat()}"


def parse_slot(value: str | None) -> tuple[str, dt.datetime] | None:
    """("perry-barr", 2027-01-18 07:00 UTC) from "perry-barr|2027-01-18T07:00:00+00:00"."""
    code, _, starts = (value or "").partition("|")
    if not code or not starts:
        return None
    try:
        return code, parse_iso_instant(starts)
    except ValueError:
        return None


class ConfirmForm(FlaskForm):
    # Asked only when the person may already have a live appointment.
    book_anyway = BooleanField(
        "Book another appointment anyway",
        description="Only when the appointment above is not this person’s, "
        "or they need a second one",
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Confirm booking", widget=GovSubmitInput())

    def confirms_another(self) -> bool:
        """Whether the sergeant chose to book despite a live appointment; says why if not."""
        if self.book_anyway.data:
            return True
        self.book_anyway.errors = [
            *self.book_anyway.errors,
            "Select that you want to book another appointment, or keep the one already booked",
        ]
        return False


class CancelForm(FlaskForm):
    reason = TextAreaField(
        "Why is the appointment cancelled?",
        description="For example, the person was charged and remanded in custody",
        widget=GovTextArea(),
        validators=[InputRequired(message="Enter why the appointment is cancelled")],
    )
    submit = SubmitField("Cancel appointment", widget=GovSubmitInput())

    def add_domain_errors(self, errors: dict[str, str]) -> dict[str, str]:
        return add_errors(self, errors, {})


class ReferenceSearchForm(FlaskForm):
    """Find a booking by the reference read out by phone or printed on the notice."""

    class Meta:
        csrf = False  # a search by GET changes nothing

    reference = StringField(
        "Booking reference",
        description="For example, K7PM-3QXR",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter a booking reference")],
    )


ALL_BLOCKS = "all"


class AppointmentsFilterForm(FlaskForm):
    """Narrow the appointments list: by person, by block and by day."""

    class Meta:
        csrf = False  # a search by GET changes nothing

    person = StringField(
        "Name or custody record number",
        description="Part of the name is enough; the custody record number in full",
        widget=GovTextInput(),
    )
    block = SelectField(
        "Block",
        description="Appointments there, and of people arrested there",
        widget=KeptSelect(),
        validate_choice=False,
    )
    day = OptionalDayMonthYearField(
        "Date",
        id="day-day",
        noun="date of the appointments",
        description="Leave it empty for every appointment from now. For example, 15 1 2027",
    )

    FIELDS = ("person", "block", "day")

    @classmethod
    def for_user(cls, user: User, blocks: list[Block], formdata) -> AppointmentsFilterForm:
        """The filter as asked for, or the user's own block when nothing is asked."""
        form = cls(formdata=formdata)
        form.block.choices = [(ALL_BLOCKS, "All blocks")] + [(b.code, b.name) for b in blocks]
        if not form.block.data:
            form.block.data = user.block.code if user.block else ALL_BLOCKS
        return form

    def validate_person(self, field):
        if len((field.data or "").strip()) > 100:
            raise ValidationError("Enter a name or custody record number of up to 100 characters")

    def validate_block(self, field):
        if field.data not in {value for value, _ in field.choices}:
            raise ValidationError("Choose a block from the list")

    def chosen_block(self) -> str | None:
        """The block code chosen; None for all blocks."""
        return None if self.block.data == ALL_BLOCKS else self.block.data


def add_errors(
    form: FlaskForm, errors: dict[str, str], renames: dict[str, str], fallback: str | None = None
) -> dict[str, str]:
    """Append each message to its field's errors; returns the messages with no field here,
    or, given a `fallback` field, shows them there and returns none."""
    unplaced = {}
    for name, message in errors.items():
        target = renames.get(name, name)
        if target not in form or target in ("csrf_token", "submit"):
            unplaced[name] = message
            continue
        form[target].errors = [*form[target].errors, message]
    if fallback is not None and unplaced:
        form[fallback].errors = [*form[fallback].errors, *unplaced.values()]
        return {}
    return unplaced
