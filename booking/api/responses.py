"""The API's answers: one pydantic model per response shape, and errors in the contract's shape.

The routes build these models from the domain's objects and the operation registry
serialises them, and /api/v1/openapi.json describes them, so the two cannot drift. Times are
turned into the block's local time here, and written with their offset to the second.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, get_type_hints
from zoneinfo import ZoneInfo

from flask import jsonify
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    create_model,
)

from .. import clock
from ..appointments.references import ALPHABET, LENGTH
from ..appointments.slots import Slot as FreeSlot
from ..models import AuditEvent as AuditRecord
from ..models import Block as BlockRecord
from ..models import Booking as BookingRecord
from ..models import (
    BookingStatus,
    ClosureReason,
    Entry,
    Finding,
    MessageKind,
    MessageStatus,
    Naloxone,
    NonConversionReason,
    NotCompletedReason,
    OnSiteKind,
    ReferralArea,
    RequestedBy,
    Requirement,
    SentenceOutcome,
    Session,
    Setting,
    SuitabilityStatus,
    TestResult,
)
from ..models import OnSiteAssessment as OnSiteRecord
from ..models import Pathway as PathwayRecord
from ..models import SuitabilityAssessment as SuitabilityRecord
from ..pathway import pathways
from ..reports import figures as reports
from ..rota.cover import Cover as CoverAt
from .schemas import BlockBy

LocalTime = Annotated[
    AwareDatetime,
    PlainSerializer(lambda instant: instant.isoformat(timespec="seconds"), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Count = Annotated[int, Field(ge=0)]
_HALF = LENGTH // 2
REFERENCE_PATTERN = f"^[{ALPHABET}]{{{_HALF}}}-[{ALPHABET}]{{{LENGTH - _HALF}}}$"


def _local(instant: dt.datetime | None, block: BlockRecord) -> dt.datetime | None:
    return instant.astimezone(ZoneInfo(block.timezone)) if instant else None


class Answer(BaseModel):
    """A response body: every field always present, nothing else."""

    model_config = ConfigDict(extra="forbid")


class Error(Answer):
    """Every refusal: one sentence, and a message per field at fault."""

    error: str
    errors: dict[str, str]


class Block(Answer):
    code: str
    name: str
    address: str
    high_activity: bool
    timezone: str

    @classmethod
    def of(cls, block: BlockRecord) -> Block:
        return cls(
            code=block.code,
            name=block.name,
            address=block.address,
            high_activity=block.high_activity,
            timezone=block.timezone,
        )


class Cover(Answer):
    block: str
    at: LocalTime
    on_site: bool
    workers_on_site: Count
    next_on_site_at: LocalTime | None = Field(
        description="When cover next starts; null while a worker is on site."
    )

    @classmethod
    def of(cls, cover: CoverAt) -> Cover:
        block = cover.block
        return cls(
            block=block.code,
            at=_local(cover.at, block),
            on_site=cover.on_site,
            workers_on_site=cover.workers_on_site,
            next_on_site_at=_local(cover.next_on_site_at, block),
        )


class Slot(Answer):
    block: str
    starts_at: LocalTime
    ends_at: LocalTime
    free: int = Field(ge=1)

    @classmethod
    def of(cls, slot: FreeSlot) -> Slot:
        return cls(
            block=slot.block.code,
            starts_at=_local(slot.starts_at, slot.block),
            ends_at=_local(slot.ends_at, slot.block),
            free=slot.free,
        )


class SlotTaken(Error):
    """409: the slot was taken first; the next free slots instead."""

    alternatives: list[Slot]


class Worker(Answer):
    name: str


class Message(Answer):
    kind: MessageKind
    send_at: LocalTime
    status: MessageStatus
    attempts: Count


class Booking(Answer):
    reference: str = Field(pattern=REFERENCE_PATTERN)
    status: BookingStatus
    block: str
    starts_at: LocalTime
    ends_at: LocalTime
    custody_record: str | None = Field(description="null after the retention purge")
    person_name: str | None = Field(description="null after the retention purge")
    mobile: str | None = Field(description="E.164, +447…; null without one or after the purge")
    sms_consent: bool
    requirement: Requirement
    test_result: TestResult
    tested_at: LocalTime
    disputed: bool
    arrest_block: str
    notice_version: int = Field(ge=1)
    worker: Worker | None = Field(description="null while the appointment needs rearranging")
    messages: list[Message]

    @classmethod
    def of(cls, booking: BookingRecord) -> Booking:
        block = booking.block
        return cls(
            reference=booking.reference,
            status=booking.status,
            block=block.code,
            starts_at=_local(booking.starts_at, block),
            ends_at=_local(booking.ends_at, block),
            custody_record=booking.custody_record,
            person_name=booking.person_name,
            mobile=booking.mobile,
            sms_consent=booking.sms_consent,
            requirement=booking.requirement,
            test_result=booking.test_result,
            tested_at=_local(booking.tested_at, block),
            disputed=booking.disputed,
            arrest_block=booking.arrest_block.code,
            notice_version=booking.notice_version,
            worker=Worker(name=booking.worker.name) if booking.worker else None,
            messages=[
                Message(
                    kind=m.kind,
                    send_at=_local(m.send_at, block),
                    status=m.status,
                    attempts=m.attempts,
                )
                for m in booking.messages
            ],
        )


class Court(Answer):
    code: str
    name: str
    address: str

    @classmethod
    def of(cls, court: BlockRecord) -> Court:
        return cls(code=court.code, name=court.name, address=court.address)


class Adjournment(Answer):
    adjourned_to: dt.date
    appointment_reference: str | None = Field(pattern=REFERENCE_PATTERN)


class Suitability(Answer):
    reference: str = Field(pattern=REFERENCE_PATTERN)
    status: SuitabilityStatus
    court: str
    hearing_date: dt.date
    session: Session
    requested_by: RequestedBy
    setting: Setting
    arrest_block: str | None
    custody_record: str | None = Field(description="null after the retention purge")
    person_name: str | None = Field(description="null after the retention purge")
    mobile: str | None = Field(description="E.164, +447…; null without one or after the purge")
    drr: Finding | None
    atr: Finding | None
    willing: bool | None
    completed_at: LocalTime | None
    not_completed_reason: NotCompletedReason | None
    adjournments: list[Adjournment]
    sentence: SentenceOutcome | None
    sentenced_on: dt.date | None

    @classmethod
    def of(cls, record: SuitabilityRecord) -> Suitability:
        court = record.court
        return cls(
            reference=record.reference,
            status=record.status,
            court=court.code,
            hearing_date=record.hearing_date,
            session=record.session,
            requested_by=record.requested_by,
            setting=record.setting,
            arrest_block=record.arrest_block.code if record.arrest_block else None,
            custody_record=record.custody_record,
            person_name=record.person_name,
            mobile=record.mobile,
            drr=record.drr,
            atr=record.atr,
            willing=record.willing,
            completed_at=_local(record.completed_at, court),
            not_completed_reason=record.not_completed_reason,
            adjournments=[
                Adjournment(
                    adjourned_to=a.adjourned_to,
                    appointment_reference=a.booking.reference if a.booking else None,
                )
                for a in record.adjournments
            ],
            sentence=record.sentence,
            sentenced_on=record.sentenced_on,
        )


class CourtList(Answer):
    """A court's duty list for a day: the assessments listed that day, by session."""

    court: str
    date: dt.date
    am: list[Suitability]
    pm: list[Suitability]


class CalendarFeed(Answer):
    url: str = Field(description="The worker's own calendar feed; keep it private.")


class AuditEvent(Answer):
    at: LocalTime
    user: str | None = Field(description="email; null for the service itself")
    action: str
    reference: str | None

    @classmethod
    def of(cls, event: AuditRecord) -> AuditEvent:
        return cls(
            at=event.at.astimezone(clock.LONDON),
            user=event.user.email if event.user else None,
            action=event.action,
            reference=event.reference,
        )


def _figure_field(kind: Any) -> tuple[Any, Any]:
    # Counts and hours are never negative; rates and waits are null when nothing counts.
    if kind in (int, float):
        return kind, Field(ge=0)
    return kind, ...


_FIGURE_TYPES = get_type_hints(reports.Figures)


def _figure_type(name: str) -> Any:
    """A figure's type: its dataclass field's, or the return type of the property it reads."""
    if name in _FIGURE_TYPES:
        return _FIGURE_TYPES[name]
    attribute = getattr(reports.Figures, name, None)
    if isinstance(attribute, property):
        return get_type_hints(attribute.fget).get("return", Any)
    return Any


# The report's figures, named once: those booking/reports/figures.py gives for a report.
Figures = create_model(
    "Figures",
    __base__=Answer,
    __doc__="The figures for one set of appointments: a block, a month, or all.",
    **{name: _figure_field(_figure_type(name)) for name in reports.Figures().as_dict()},
)


class OnSite(Answer):
    """An assessment or contact made on site: a reference and coded facts only."""

    reference: str = Field(pattern=REFERENCE_PATTERN)
    block: str | None = Field(description="The custody block, or null at a court")
    court: str | None = Field(description="The court, or null at a custody block")
    assessed_at: LocalTime
    kind: OnSiteKind

    @classmethod
    def of(cls, record: OnSiteRecord) -> OnSite:
        place = record.place
        at_court = place.kind == "court"
        return cls(
            reference=record.reference,
            block=None if at_court else place.code,
            court=place.code if at_court else None,
            assessed_at=_local(record.assessed_at, place),
            kind=record.kind,
        )


class PathwayAssessment(Answer):
    """The assessment the pathway follows."""

    source: str = Field(description="booking, on_site or suitability")
    kind: str = Field(description="The booking's requirement, the on-site kind, or suitability")
    place: str = Field(description="The block's or court's code")
    assessed_at: LocalTime


class Pathway(Answer):
    reference: str = Field(pattern=REFERENCE_PATTERN)
    assessment: PathwayAssessment
    naloxone: Naloxone | None
    harm_reduction: bool | None
    referred: bool | None
    referral_area: ReferralArea | None
    referred_on: dt.date | None
    entry: Entry | None
    entered_on: dt.date | None
    non_conversion_reason: NonConversionReason | None
    closed_on: dt.date | None
    closure_reason: ClosureReason | None
    updated_at: LocalTime | None = Field(description="null until something is recorded")

    @classmethod
    def of(cls, found: pathways.Assessment, record: PathwayRecord | None) -> Pathway:
        return cls(
            reference=found.reference,
            assessment=PathwayAssessment(
                source=found.source,
                kind=found.kind,
                place=found.place.code,
                assessed_at=_local(found.assessed_at, found.place),
            ),
            **pathways.values_of(record),
            updated_at=_local(record.updated_at, found.place) if record else None,
        )


Share = Annotated[float | None, Field(ge=0, le=1, description="0 to 1, or null")]


class YearSummary(Answer):
    """The financial year's figures, as the commissioner publishes them."""

    start: dt.date
    end: dt.date
    engaged: Count
    assessments_completed: Count
    assessments_completed_share: Share
    statutory_assessments: Count
    voluntary_and_court_assessments: Count
    transferred_to_treatment: Count
    suitable_drr: Count
    drr_granted: Count
    drr_granted_share: Share
    suitable_atr: Count
    atr_granted: Count
    atr_granted_share: Share


class Kpi(Figures):
    """The figures over the whole range and place, then by block and by month."""

    start: dt.date
    end: dt.date
    block: str | None
    block_by: BlockBy
    by_block: dict[str, Figures]
    by_month: dict[str, Figures]

    @classmethod
    def of(cls, report: reports.Report) -> Kpi:
        return cls(
            start=report.start,
            end=report.end,
            block=report.block_code,
            block_by=report.block_by,
            **report.total.as_dict(),
            by_block={code: f.as_dict() for code, f in sorted(report.by_block.items())},
            by_month={month: f.as_dict() for month, f in sorted(report.by_month.items())},
        )


def error_response(message: str, status: int, errors: dict | None = None, **extra):
    """A refusal in the contract's shape (the Error model), with any further keys given."""
    body = Error(error=message, errors=errors or {}).model_dump(mode="json")
    return jsonify(body | extra), status
