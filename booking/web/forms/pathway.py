"""The worker's forms for an assessment made on site and for what followed an assessment.

Their shape only: `booking.pathway` judges the content, and its refusals land on these fields
(named as the domain names them, but where a time is split into a date and a clock time).
"""

from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import RadioField, SelectField, SubmitField
from wtforms.validators import InputRequired, ValidationError

from ...clock import LONDON, local_instant
from ...models import Block, PlaceKind
from ..components import KeptSelect
from ..presentation import (
    CLOSURE_NAMES,
    ENTRY_NAMES,
    NALOXONE_NAMES,
    NON_CONVERSION_NAMES,
    ON_SITE_KIND_HINTS,
    ON_SITE_KIND_NAMES,
    REFERRAL_AREA_NAMES,
)
from .fields import (
    YES_NO,
    ClockTimeField,
    DayMonthYearField,
    GovRadios,
    OptionalDayMonthYearField,
    add_errors,
    yes_no,
)


def _choices(names: dict[str, str]) -> list[tuple[str, str]]:
    return list(names.items())


def _place_name(place: Block) -> str:
    return f"{place.name} (court)" if place.kind == PlaceKind.COURT else place.name


class OnSiteForm(FlaskForm):
    """Where, when and what kind: the defaults (where the worker is rostered now, and now)
    leave one choice to make."""

    place = SelectField("Where", widget=KeptSelect(), validate_choice=False)
    kind = RadioField(
        "What was it?",
        choices=_choices(ON_SITE_KIND_NAMES),
        widget=GovRadios(),
        validate_choice=False,
        validators=[InputRequired(message="Select what kind of assessment or contact it was")],
    )
    assessed_on = DayMonthYearField(
        "Date", id="assessed_on-day", noun="date", description="For example, 14 1 2027"
    )
    assessed_time = ClockTimeField(
        "Time", noun="time", description="Use the 24-hour clock, for example 11:30"
    )
    submit = SubmitField("Save and continue", widget=GovSubmitInput())

    DOMAIN_FIELDS = {"assessed_at": "assessed_time"}

    @classmethod
    def for_places(cls, places: list[Block], **kwargs) -> OnSiteForm:
        form = cls(**kwargs)
        form.place.choices = [("", "Choose where")] + [
            (place.code, _place_name(place)) for place in places
        ]
        return form

    @staticmethod
    def initial_data(now: dt.datetime, place: Block | None) -> dict[str, object]:
        local_now = now.astimezone(LONDON)
        return {
            "place": place.code if place else "",
            "assessed_on": local_now.date(),
            "assessed_time": f"{local_now:%H:%M}",
        }

    def kind_items(self) -> list[dict]:
        return [{"hint": {"text": ON_SITE_KIND_HINTS[value]}} for value, _ in self.kind.choices]

    def validate_assessed_time(self, field):
        if self.assessed_on.data and field.time and self.assessed_at() is None:
            raise ValidationError(
                f"{field.time:%H:%M} did not happen on {self.assessed_on.data.day} "
                f"{self.assessed_on.data:%B}: the clocks went forward an hour at 1am"
            )

    def assessed_at(self) -> dt.datetime | None:
        """The instant, read as London wall-clock time (None in the spring gap)."""
        if self.assessed_on.data is None or self.assessed_time.time is None:
            return None
        return local_instant(self.assessed_on.data, self.assessed_time.time, LONDON)

    def add_domain_errors(self, errors: dict[str, str]) -> None:
        """The domain's messages on their fields; any other on the kind."""
        add_errors(self, errors, self.DOMAIN_FIELDS, fallback="kind")


def _optional_radios(label: str, names: dict[str, str], **kwargs) -> RadioField:
    return RadioField(
        label, choices=_choices(names), widget=GovRadios(), validate_choice=False, **kwargs
    )


def _optional_select(label: str, names: dict[str, str], empty: str) -> SelectField:
    return SelectField(
        label, choices=[("", empty), *_choices(names)], widget=KeptSelect(), validate_choice=False
    )


def _date(label: str, name: str) -> OptionalDayMonthYearField:
    return OptionalDayMonthYearField(
        label, id=f"{name}-day", noun=label.lower(), description="For example, 14 1 2027"
    )


class PathwayForm(FlaskForm):
    """The whole pathway on one page: each question may be left for later. A part hidden by
    an answer (the referral's details when there was none) is cleared, not kept."""

    naloxone = _optional_radios("Naloxone", NALOXONE_NAMES)
    harm_reduction = _optional_radios(
        "Was other harm reduction given?",
        dict(YES_NO),
        description="For example, injecting equipment, overdose advice or blood-borne virus "
        "testing",
    )
    referred = _optional_radios("Was the person referred into treatment?", dict(YES_NO))
    referral_area = _optional_select(
        "Area of the treatment service", REFERRAL_AREA_NAMES, "Choose the area"
    )
    referred_on = _date("Date of the referral", "referred_on")
    entry = _optional_radios("Did the person enter treatment?", ENTRY_NAMES)
    entered_on = _date("Date of entry into treatment", "entered_on")
    non_conversion_reason = _optional_select("Why not?", NON_CONVERSION_NAMES, "Choose the reason")
    closed = _optional_radios("Is the case closed?", dict(YES_NO))
    closed_on = _date("Date the case closed", "closed_on")
    closure_reason = _optional_select("Reason for closing", CLOSURE_NAMES, "Choose the reason")
    submit = SubmitField("Save", widget=GovSubmitInput())

    @staticmethod
    def initial_data(values: dict, today: dt.date) -> dict[str, object]:
        """The form filled from the pathway's values; the dates of a referral not yet made
        and of a closure default to today."""
        data = {name: value for name, value in values.items() if value is not None}
        for name in ("harm_reduction", "referred"):
            data[name] = yes_no(values[name])
        data["closed"] = "yes" if values["closed_on"] else None
        data.setdefault("referred_on", today)
        data.setdefault("closed_on", today)
        return data

    def _shown(self) -> dict[str, bool]:
        """Which conditional parts the answers reveal: the referral's details, an entry's
        date, a non-conversion's reason, the closure's details."""
        referral = self.referred.data == "yes"
        return {
            "referral": referral,
            "entered": referral and self.entry.data == "entered",
            "not_converted": referral and self.entry.data == "not_converted",
            "closed": self.closed.data == "yes",
        }

    def changes(self) -> dict:
        """Every field of the pathway, as this form says it is now."""
        shown = self._shown()
        referred = self.referred.data or None
        return {
            "naloxone": self.naloxone.data or None,
            "harm_reduction": None
            if not self.harm_reduction.data
            else self.harm_reduction.data == "yes",
            "referred": None if referred is None else shown["referral"],
            "referral_area": (self.referral_area.data or None) if shown["referral"] else None,
            "referred_on": self.referred_on.data if shown["referral"] else None,
            "entry": (self.entry.data or None) if shown["referral"] else None,
            "entered_on": self.entered_on.data if shown["entered"] else None,
            "non_conversion_reason": (self.non_conversion_reason.data or None)
            if shown["not_converted"]
            else None,
            "closed_on": self.closed_on.data if shown["closed"] else None,
            "closure_reason": (self.closure_reason.data or None) if shown["closed"] else None,
        }

    def without_hidden_date_errors(self) -> None:
        """A date box hidden by an answer (a referral's date when there was none) is not read,
        so its errors are dropped."""
        shown = self._shown()
        dates = {
            "referred_on": shown["referral"],
            "entered_on": shown["entered"],
            "closed_on": shown["closed"],
        }
        for name, showing in dates.items():
            if not showing:
                self[name].errors = []
                self[name].data = None

    def add_domain_errors(self, errors: dict[str, str]) -> None:
        """The domain's messages on their fields; any other on the first question."""
        add_errors(self, errors, {}, fallback="naloxone")
