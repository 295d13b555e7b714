"""The shapes of API requests: bodies and query parameters.

Pydantic checks only the shape; the meaning (lengths, valid mobiles, free slots) is checked
by the domain, so the web and the API refuse the same things with the same words. Unknown
body fields and wrong types are refused (422); a query parameter that cannot be read is a 400
naming it, in the words of the field's own message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, get_origin

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from werkzeug.datastructures import MultiDict

from .. import clock
from ..reports import figures as reports


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*")
    @classmethod
    def no_nul_characters(cls, value):
        # No text field may hold a NUL: PostgreSQL refuses it, and no person's name has one.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("Remove the NUL character")
        # A time near datetime's own limits would overflow in the first sum made with it.
        if isinstance(value, dt.date) and not clock.in_range(value):
            raise ValueError(clock.OUT_OF_RANGE)
        return value


class BookingIn(Body):
    block: str = Field(max_length=40)
    starts_at: AwareDatetime
    custody_record: str = Field(max_length=200)
    person_name: str = Field(max_length=400)
    mobile: str | None = Field(default=None, max_length=40)
    sms_consent: bool = False
    requirement: str = Field(max_length=20)
    test_result: str = Field(max_length=20)
    tested_at: AwareDatetime
    disputed: bool = False
    arrest_block: str = Field(max_length=40)


class RearrangeIn(Body):
    block: str = Field(max_length=40)
    starts_at: AwareDatetime


class CancelIn(Body):
    reason: str = Field(max_length=2000)


class OutcomeIn(Body):
    outcome: str = Field(max_length=20)


class SuitabilityIn(Body):
    court: str = Field(max_length=40)
    hearing_date: dt.date = Field(description="A sitting day: Monday to Friday, not a bank holiday")
    session: str = Field(max_length=20, description="am or pm")
    requested_by: str = Field(max_length=20, description="probation, bench, defence or worker")
    setting: str = Field(max_length=20, description="custody or court")
    arrest_block: str | None = Field(
        default=None, max_length=40, description="A custody block; required for custody"
    )
    custody_record: str = Field(max_length=200)
    person_name: str = Field(max_length=400)
    mobile: str | None = Field(default=None, max_length=40)
    sms_consent: bool = False


class SuitabilityResultIn(Body):
    drr: str = Field(max_length=20, description="suitable, not_suitable or not_assessed")
    atr: str = Field(max_length=20, description="suitable, not_suitable or not_assessed")
    willing: bool
    completed_at: AwareDatetime


class NotCompletedIn(Body):
    reason: str = Field(max_length=20, description="declined, not_produced, unfit, no_time, other")


class AppointmentIn(Body):
    block: str = Field(max_length=40)
    starts_at: AwareDatetime


class AdjournIn(Body):
    adjourned_to: dt.date = Field(description="A sitting day after the hearing")
    appointment: AppointmentIn | None = None


class SentenceIn(Body):
    outcome: str = Field(max_length=30)
    sentenced_on: dt.date


class OnSiteIn(Body):
    block: str | None = Field(default=None, max_length=40, description="A custody block's code")
    court: str | None = Field(default=None, max_length=40, description="A court's code")
    assessed_at: AwareDatetime = Field(description="Not in the future")
    kind: str = Field(
        max_length=20,
        description="required_initial, required_follow_up, voluntary or contact_only",
    )


class PathwayIn(Body):
    """Every field optional; a field given (null included) replaces the old value."""

    naloxone: str | None = Field(
        default=None, max_length=20, description="issued, declined, already_has, not_appropriate"
    )
    harm_reduction: bool | None = None
    referred: bool | None = None
    referral_area: str | None = Field(
        default=None,
        max_length=20,
        description="birmingham, coventry, dudley, sandwell, solihull, walsall, wolverhampton, "
        "out_of_area or unknown; required when referred",
    )
    referred_on: dt.date | None = None
    entry: str | None = Field(
        default=None, max_length=20, description="awaiting, entered or not_converted"
    )
    entered_on: dt.date | None = Field(
        default=None, description="Not before referred_on, not in the future"
    )
    non_conversion_reason: str | None = Field(
        default=None, max_length=30, description="Required exactly when entry is not_converted"
    )
    closed_on: dt.date | None = None
    closure_reason: str | None = Field(default=None, max_length=20)

    def given(self) -> dict:
        """The fields the request named, with their values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class MalformedBody(Exception):
    """Not JSON, or not a JSON object: a 400, not a field error."""


class InvalidFields(Exception):
    """Fields of the body that fail validation: a 422 naming each one."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("Some fields are not valid.")
        self.errors = errors


def parse(model: type[Body], raw: bytes) -> Body:
    """The body as `model`, MalformedBody (400) or InvalidFields (422)."""
    try:
        return model.model_validate_json(raw or b"")
    except ValidationError as error:
        if any(e["type"] in ("json_invalid", "model_type") or not e["loc"] for e in error.errors()):
            raise MalformedBody("The request body must be a JSON object.") from None
        raise InvalidFields(field_errors(error)) from None


def field_errors(error: ValidationError) -> dict[str, str]:
    """Pydantic's errors as the contract's {"field": "message"}."""
    messages = {}
    for e in error.errors():
        field = str(e["loc"][0])
        if e["type"] == "extra_forbidden":
            messages[field] = "Unknown field"
        elif e["type"] == "missing":
            messages[field] = "This field is required"
        elif e["type"] == "value_error":
            messages[field] = str(e["ctx"]["error"])
        elif e["type"] == "timezone_aware":
            messages[field] = "A time needs a UTC offset, such as +00:00 or Z"
        else:
            messages[field] = e["msg"]
    return messages


# Query parameters ------------------------------------------------------------------------------


class BadParameter(Exception):
    """A query parameter that cannot be read, or does not fit the others: a 400 naming it."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name
        self.message = message


def _read(parse: Callable[[str], Any], message: str) -> BeforeValidator:
    """Read the parameter's text with `parse`; if it cannot, `message` is the field's error."""

    def read(raw: Any) -> Any:
        if not isinstance(raw, str):
            return raw
        try:
            return parse(raw)
        except ValueError:
            raise ValueError(message) from None

    return BeforeValidator(read)


def _instant(raw: str) -> dt.datetime | None:
    # An unescaped "+" in a query string arrives as a space.
    return clock.parse_iso_instant(raw.replace(" ", "+")) if raw else None


def _yes_or_no(raw: str) -> bool:
    answer = raw.strip().lower()
    if answer not in ("true", "false", "1", "0"):
        raise ValueError(answer)
    return answer in ("true", "1")


def _date(raw: str) -> dt.date | None:
    day = dt.date.fromisoformat(raw) if raw else None
    if day is not None and not clock.in_range(day):
        raise ValueError(clock.OUT_OF_RANGE)
    return day


def _limit(maximum: int) -> Any:
    def whole_number(raw: str) -> int:
        limit = int(raw)
        if not 1 <= limit <= maximum:
            raise ValueError(raw)
        return limit

    return Annotated[
        int, Field(ge=1, le=maximum), _read(whole_number, f"Use a whole number from 1 to {maximum}")
    ]


class BlockBy(StrEnum):
    """Which block a report counts a booking at."""

    APPOINTMENT = reports.BY_APPOINTMENT_BLOCK
    ARREST = reports.BY_ARREST_BLOCK


Instant = Annotated[AwareDatetime | None, _read(_instant, "Use an ISO 8601 time with a UTC offset")]
YesOrNo = Annotated[bool, _read(_yes_or_no, "Use true or false")]
Day = Annotated[dt.date | None, _read(_date, "Use a date as YYYY-MM-DD")]
MAX_SLOTS = 100
MAX_AUDIT = 10_000
SlotLimit = _limit(MAX_SLOTS)
AuditLimit = _limit(MAX_AUDIT)


class Query(BaseModel):
    """Query parameters: those not named here are ignored, as a browser's would be."""

    model_config = ConfigDict(extra="ignore")


class CoverQuery(Query):
    at: Instant = Field(None, description="Defaults to now")


class SlotsQuery(Query):
    after: Instant = Field(None, description="No slot starting before this")
    before: Instant = Field(None, description="No slot starting at or after this")
    block: list[str] = Field(
        default_factory=list, description="Only these blocks; repeat it for more than one"
    )
    limit: SlotLimit = 10
    disputed: YesOrNo = False
    tested_at: Instant = Field(None, description="When the disputed sample was taken")


class AuditQuery(Query):
    reference: str | None = Field(None, description="Only this booking's events")
    limit: AuditLimit = 1000


class CourtListQuery(Query):
    date: Day = Field(None, description="Defaults to today")


def _year(raw: str) -> int | None:
    if not raw:
        return None
    year = int(raw)
    if not clock.EARLIEST_YEAR <= year < clock.LATEST_YEAR:
        raise ValueError(raw)
    return year


FIRST_YEAR, LAST_YEAR = clock.EARLIEST_YEAR, clock.LATEST_YEAR - 1


class YearQuery(Query):
    year: Annotated[
        int | None,
        Field(ge=FIRST_YEAR, le=LAST_YEAR),
        _read(_year, f"Use a year as YYYY, from {FIRST_YEAR} to {LAST_YEAR}"),
    ] = Field(
        None,
        description="The financial year from 1 April of this year; defaults to the current one",
    )


class KpiQuery(Query):
    start: Day = Field(None, description="Defaults to the first of this month")
    end: Day = Field(None, description="Inclusive; defaults to today")
    block: str | None = Field(None, description="Only this block, or only this court")
    block_by: Annotated[BlockBy, _read(BlockBy, "Use appointment or arrest")] = Field(
        BlockBy.APPOINTMENT, description="Count a booking at its appointment's or arrest's block"
    )


def parse_query(model: type[Query], args: MultiDict) -> Query:
    """The query string as `model`, or BadParameter (400) for the first that cannot be read."""
    given = {}
    for name, info in model.model_fields.items():
        if get_origin(info.annotation) is list:
            given[name] = args.getlist(name)
        elif name in args:
            given[name] = args[name]
    try:
        return model.model_validate(given)
    except ValidationError as error:
        first = error.errors()[0]
        message = first["ctx"]["error"] if first["type"] == "value_error" else first["msg"]
        raise BadParameter(str(first["loc"][0]), str(message)) from None
