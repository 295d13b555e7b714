"""The service's data: places, the rota, bookings with their notices, messages and users.

Instants are stored in UTC (timezone-aware); cover rules are local wall-clock times.
"""

from __future__ import annotations

import datetime as dt
import enum

from flask_login import UserMixin
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


class UTCDateTime(TypeDecorator):
    """An aware datetime stored as UTC; SQLite gives back naive values, so re-attach UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Role(enum.StrEnum):
    SERGEANT = "sergeant"
    WORKER = "worker"
    COORDINATOR = "coordinator"
    ANALYST = "analyst"


class PlaceKind(enum.StrEnum):
    """A custody block (appointments, out-of-hours cover) or a magistrates' court (court duty)."""

    CUSTODY = "custody"
    COURT = "court"


class Requirement(enum.StrEnum):
    INITIAL = "initial"
    FOLLOW_UP = "follow_up"
    VOLUNTARY = "voluntary"
    # An appointment for a suitability assessment the court adjourned for: no Drugs Act
    # requirement, so no written notice and no offence warning.
    SUITABILITY = "suitability"


class TestResult(enum.StrEnum):
    OPIATES = "opiates"
    COCAINE = "cocaine"
    BOTH = "both"
    NEGATIVE = "negative"


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"
    ATTENDED = "attended"
    LEFT_EARLY = "left_early"
    DID_NOT_ATTEND = "did_not_attend"
    CANCELLED = "cancelled"


class MessageKind(enum.StrEnum):
    CONFIRMATION = "confirmation"
    DAY_BEFORE = "day_before"
    SAME_DAY = "same_day"
    CHANGED = "changed"
    CANCELLED = "cancelled"


class MessageStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


def _enum_check(column: str, values: type[enum.StrEnum]) -> CheckConstraint:
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_allowed")


class Block(db.Model):
    """A place the service works at: a custody block or, with kind `court`, a magistrates'
    court. Every list of blocks (slots, cover, reports, feeds) means custody blocks unless it
    asks for courts or for every place."""

    __tablename__ = "blocks"
    __table_args__ = (_enum_check("kind", PlaceKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(
        String(20), default=PlaceKind.CUSTODY, server_default=PlaceKind.CUSTODY.value
    )
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200))
    # What an SMS may say about the place (no mention of police or custody), short enough
    # that every message fits one segment.
    venue_label: Mapped[str] = mapped_column(String(30))
    short_address: Mapped[str] = mapped_column(String(30))
    high_activity: Mapped[bool] = mapped_column(default=False)
    timezone: Mapped[str] = mapped_column(String(40), default="Europe/London")
    # The secret in the coordinators' calendar feed URL of this block; replaced to revoke it.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Bank holidays follow the weekend (Sunday) rules unless the block has rules for weekday 7.
    cover_rules: Mapped[list[CoverRule]] = relationship(
        back_populates="block", cascade="all, delete-orphan", order_by="CoverRule.starts"
    )


# Weekday numbers as in Python (Monday 0 .. Sunday 6); 7 is a block's own bank-holiday rule.
BANK_HOLIDAY = 7


class CoverRule(db.Model):
    """A block's on-site hours for one weekday, as local wall-clock times."""

    __tablename__ = "cover_rules"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 7", name="weekday_range"),
        CheckConstraint("ends > starts", name="ends_after_starts"),
        CheckConstraint("workers >= 1", name="workers_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("blocks.id", ondelete="CASCADE"))
    weekday: Mapped[int]
    starts: Mapped[dt.time]
    ends: Mapped[dt.time]
    workers: Mapped[int] = mapped_column(default=1)
    block: Mapped[Block] = relationship(back_populates="cover_rules")


class User(UserMixin, db.Model):
    """A person who signs in: with a password, or with the force's OpenID Connect provider.

    Someone who signs in with the provider is known by the provider's issuer and subject,
    never by email alone: a new one waits with no role until it is given (by a coordinator, or
    by the provider's role claim), and has no password and perhaps no email address.
    """

    __tablename__ = "users"
    __table_args__ = (
        _enum_check("role", Role),
        UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_users_oidc_identity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    oidc_issuer: Mapped[str | None] = mapped_column(String(255))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    block_id: Mapped[int | None] = mapped_column(ForeignKey("blocks.id"))
    mobile: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Raised at sign-out, password reset and disabling: every earlier session cookie then stops
    # working, even a copied one.
    session_version: Mapped[int] = mapped_column(default=0)

    block: Mapped[Block | None] = relationship()
    worker: Mapped[Worker | None] = relationship(back_populates="user")

    @property
    def is_active(self) -> bool:
        return self.active


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 digest is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Worker(db.Model):
    """A drug worker who can be rostered on site; linked to a login when they have one."""

    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    home_block_id: Mapped[int] = mapped_column(ForeignKey("blocks.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    # The secret in the worker's calendar feed URL; replaced to revoke the old URL.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    home_block: Mapped[Block] = relationship()
    user: Mapped[User | None] = relationship(back_populates="worker")


# No shift lasts longer (rota.changes refuses longer ones; generated shifts lie within a day).
# Stating it as a lower bound on starts_at lets a range scan of the shifts index start near
# the window instead of at the first shift ever rostered.
MAX_SHIFT_LENGTH = dt.timedelta(hours=24)


class Shift(db.Model):
    """A worker on site at a block from `starts_at` to `ends_at` (UTC)."""

    __tablename__ = "shifts"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_starts"),
        UniqueConstraint("worker_id", "starts_at", name="uq_shifts_worker_starts"),
        Index("ix_shifts_block_starts", "block_id", "starts_at"),
        Index("ix_shifts_starts_ends", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    block_id: Mapped[int] = mapped_column(ForeignKey("blocks.id"))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Generated from the cover rules, or entered by hand (never overwritten by generation).
    generated: Mapped[bool] = mapped_column(default=True)
    # Calendar bookkeeping: SEQUENCE rises with every change, LAST-MODIFIED is the change.
    sequence: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    worker: Mapped[Worker] = relationship()
    block: Mapped[Block] = relationship()

    @classmethod
    def overlapping(cls, starts_at: dt.datetime, ends_at: dt.datetime) -> tuple:
        """Conditions for the shifts that overlap [starts_at, ends_at)."""
        return (
            cls.starts_at > starts_at - MAX_SHIFT_LENGTH,
            cls.starts_at < ends_at,
            cls.ends_at > starts_at,
        )

    @classmethod
    def covering(cls, starts_at: dt.datetime, ends_at: dt.datetime) -> tuple:
        """Conditions for the shifts that cover all of [starts_at, ends_at]."""
        return (
            cls.starts_at >= ends_at - MAX_SHIFT_LENGTH,
            cls.starts_at <= starts_at,
            cls.ends_at >= ends_at,
        )


class AbsenceKind(enum.StrEnum):
    LEAVE = "leave"
    SICKNESS = "sickness"


class Absence(db.Model):
    """A worker away (leave or sickness) for a span of time; their shifts in it are cut."""

    __tablename__ = "absences"
    __table_args__ = (
        _enum_check("kind", AbsenceKind),
        CheckConstraint("ends_at > starts_at", name="ends_after_starts"),
        Index("ix_absences_worker_starts", "worker_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    kind: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    worker: Mapped[Worker] = relationship()


class RotaRemoval(db.Model):
    """Rostered time a coordinator took away (removed, moved or cut by an absence).

    Rota generation leaves these periods empty: a manual change is never overwritten.
    """

    __tablename__ = "rota_removals"
    __table_args__ = (Index("ix_rota_removals_block_starts", "block_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("blocks.id"))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


# A custody record number as it is compared (spaces out, lower case), in SQL: the query and its
# index must say it in the same words for the database to use the index.
CUSTODY_RECORD_KEY_SQL = "lower(replace(custody_record, ' ', ''))"


class Booking(db.Model):
    __tablename__ = "bookings"
    __table_args__ = (
        _enum_check("status", BookingStatus),
        _enum_check("requirement", Requirement),
        _enum_check("test_result", TestResult),
        CheckConstraint("ends_at > starts_at", name="ends_after_starts"),
        # The guarantee against double booking: a worker holds at most one live booking per
        # slot. Every write path (booking, rearranging, reassigning) goes through it.
        Index(
            "uq_bookings_worker_slot",
            "worker_id",
            "starts_at",
            unique=True,
            sqlite_where=text("status <> 'cancelled'"),
            postgresql_where=text("status <> 'cancelled'"),
        ),
        Index("ix_bookings_block_starts", "block_id", "starts_at"),
        # A worker's calendar lists cancelled bookings too, which the index above leaves out.
        Index("ix_bookings_worker_starts", "worker_id", "starts_at"),
        Index("ix_bookings_starts_at", "starts_at"),
        # The check for a person's live appointments before booking (appointments.queries.
        # live_duplicates): by custody record number as compared, and by mobile. Without them
        # every booking's check page read every booking there has ever been.
        Index("ix_bookings_custody_record_key", text(CUSTODY_RECORD_KEY_SQL)),
        Index("ix_bookings_mobile", "mobile"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=BookingStatus.BOOKED)
    block_id: Mapped[int] = mapped_column(ForeignKey("blocks.id"))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Personal data: nulled by the retention purge.
    custody_record: Mapped[str | None] = mapped_column(String(40))
    person_name: Mapped[str | None] = mapped_column(String(100))
    mobile: Mapped[str | None] = mapped_column(String(20))
    sms_consent: Mapped[bool] = mapped_column(default=False)
    requirement: Mapped[str] = mapped_column(String(20))
    test_result: Mapped[str] = mapped_column(String(20))
    tested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    disputed: Mapped[bool] = mapped_column(default=False)
    arrest_block_id: Mapped[int] = mapped_column(ForeignKey("blocks.id"))
    notice_version: Mapped[int] = mapped_column(default=1)
    # The calendar SEQUENCE: rises with every change a calendar must show (move, cancel).
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    outcome_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A non-attendance or early leaving must be reported to the arresting block's police.
    police_informed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    police_informed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A follow-up assessment points at its initial one; the initial records the decision.
    follow_up_of_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    follow_up_decision: Mapped[str | None] = mapped_column(String(20))
    follow_up_decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When the retention purge removed the personal data above.
    purged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    block: Mapped[Block] = relationship(foreign_keys=[block_id])
    arrest_block: Mapped[Block] = relationship(foreign_keys=[arrest_block_id])
    worker: Mapped[Worker | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    police_informed_by: Mapped[User | None] = relationship(foreign_keys=[police_informed_by_id])
    follow_up_of: Mapped[Booking | None] = relationship(
        remote_side="Booking.id", back_populates="follow_ups"
    )
    follow_ups: Mapped[list[Booking]] = relationship(back_populates="follow_up_of")
    notices: Mapped[list[Notice]] = relationship(
        back_populates="booking", order_by="Notice.version", cascade="all, delete-orphan"
    )
    messages: Mapped[list[Message]] = relationship(
        back_populates="booking", order_by="Message.id", cascade="all, delete-orphan"
    )

    @property
    def is_live(self) -> bool:
        return self.status == BookingStatus.BOOKED

    @property
    def has_notice(self) -> bool:
        """Whether a Drugs Act written notice goes with it (not for a suitability appointment)."""
        return self.requirement != Requirement.SUITABILITY


class Notice(db.Model):
    """One version of the written notice; every version is kept, the latest one counts."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("booking_id", "version", name="uq_notices_booking_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    version: Mapped[int]
    block_id: Mapped[int] = mapped_column(ForeignKey("blocks.id"))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    booking: Mapped[Booking] = relationship(back_populates="notices")
    block: Mapped[Block] = relationship()
    issued_by: Mapped[User | None] = relationship()


class Message(db.Model):
    """One text message to the person, as an outbox row."""

    __tablename__ = "messages"
    __table_args__ = (
        _enum_check("kind", MessageKind),
        _enum_check("status", MessageStatus),
        Index("ix_messages_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    # When it was planned to go; `due_at` moves on with each retry.
    send_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The appointment time the message speaks of: a moved booking makes it stale.
    appointment_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=MessageStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    # A dispatcher's claim: until then no other dispatcher touches the message.
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Why a message was skipped or failed, in words a sergeant can act on.
    skip_reason: Mapped[str | None] = mapped_column(String(200))
    error_code: Mapped[str | None] = mapped_column(String(20))
    # Set once the provider accepted it: a message with a provider id is never sent again.
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    status_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    booking: Mapped[Booking] = relationship(back_populates="messages")


class InboundMessage(db.Model):
    """A text received from a person, by the provider's id only: an opt-out word is acted on
    once, so a replayed STOP cannot undo a later START."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class OptOut(db.Model):
    """A mobile number that replied STOP (and, perhaps later, START)."""

    __tablename__ = "opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(String(20), unique=True)
    opted_out_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    opted_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def active(self) -> bool:
        return self.opted_in_at is None or self.opted_in_at < self.opted_out_at


class AuditEvent(db.Model):
    """Append-only record of who created, consulted, changed or disclosed what, and from where."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_reference_at", "reference", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    # Kept as text too, so the trail still reads after a booking's personal data is purged.
    reference: Mapped[str | None] = mapped_column(String(12))
    detail: Mapped[str | None] = mapped_column(Text)
    remote_addr: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User | None] = relationship()
    booking: Mapped[Booking | None] = relationship()


class BookingDraft(db.Model):
    """A booking being entered in the web journey, kept on the server (never in the cookie)."""

    __tablename__ = "booking_drafts"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    data: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class IdempotencyRecord(db.Model):
    """The first answer to a POST made with an `Idempotency-Key`, replayed for its retries."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# Court work -------------------------------------------------------------------------------------


class Session(enum.StrEnum):
    AM = "am"
    PM = "pm"


class RequestedBy(enum.StrEnum):
    PROBATION = "probation"
    BENCH = "bench"
    DEFENCE = "defence"
    WORKER = "worker"


class Setting(enum.StrEnum):
    """Where the person is seen: in custody before the hearing, or at court."""

    CUSTODY = "custody"
    COURT = "court"


class SuitabilityStatus(enum.StrEnum):
    REQUESTED = "requested"
    COMPLETED = "completed"
    NOT_COMPLETED = "not_completed"
    ADJOURNED = "adjourned"


class Finding(enum.StrEnum):
    SUITABLE = "suitable"
    NOT_SUITABLE = "not_suitable"
    NOT_ASSESSED = "not_assessed"


class NotCompletedReason(enum.StrEnum):
    DECLINED = "declined"
    NOT_PRODUCED = "not_produced"
    UNFIT = "unfit"
    NO_TIME = "no_time"
    OTHER = "other"


class SentenceOutcome(enum.StrEnum):
    DRR = "drr"
    ATR = "atr"
    DRR_AND_ATR = "drr_and_atr"
    OTHER_COMMUNITY_ORDER = "other_community_order"
    CUSTODY = "custody"
    OTHER = "other"
    NOT_KNOWN = "not_known"


class SuitabilityAssessment(db.Model):
    """A court's request for a DRR/ATR suitability assessment, its result and the sentence.

    Coded facts only: what the assessment found in detail stays in the provider's
    case-management system.
    """

    __tablename__ = "suitability_assessments"
    __table_args__ = (
        _enum_check("status", SuitabilityStatus),
        _enum_check("session", Session),
        _enum_check("requested_by", RequestedBy),
        _enum_check("setting", Setting),
        _enum_check("drr", Finding),
        _enum_check("atr", Finding),
        _enum_check("not_completed_reason", NotCompletedReason),
        _enum_check("sentence", SentenceOutcome),
        CheckConstraint(
            "setting <> 'custody' OR arrest_block_id IS NOT NULL", name="custody_has_arrest_block"
        ),
        Index("ix_suitability_assessments_court_listed", "court_id", "listed_for"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=SuitabilityStatus.REQUESTED)
    court_id: Mapped[int] = mapped_column(ForeignKey("blocks.id"))
    hearing_date: Mapped[dt.date]
    # The hearing the record is listed for now: the first, or the latest adjourned one.
    listed_for: Mapped[dt.date]
    session: Mapped[str] = mapped_column(String(2))
    requested_by: Mapped[str] = mapped_column(String(20))
    setting: Mapped[str] = mapped_column(String(20))
    arrest_block_id: Mapped[int | None] = mapped_column(ForeignKey("blocks.id"))
    # Personal data: nulled by the retention purge.
    custody_record: Mapped[str | None] = mapped_column(String(40))
    person_name: Mapped[str | None] = mapped_column(String(100))
    mobile: Mapped[str | None] = mapped_column(String(20))
    sms_consent: Mapped[bool] = mapped_column(default=False)
    drr: Mapped[str | None] = mapped_column(String(20))
    atr: Mapped[str | None] = mapped_column(String(20))
    willing: Mapped[bool | None]
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    not_completed_reason: Mapped[str | None] = mapped_column(String(20))
    # When the result or the reason it was not completed was recorded.
    concluded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sentence: Mapped[str | None] = mapped_column(String(30))
    sentenced_on: Mapped[dt.date | None]
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    purged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    court: Mapped[Block] = relationship(foreign_keys=[court_id])
    arrest_block: Mapped[Block | None] = relationship(foreign_keys=[arrest_block_id])
    adjournments: Mapped[list[SuitabilityAdjournment]] = relationship(
        back_populates="assessment",
        order_by="SuitabilityAdjournment.id",
        cascade="all, delete-orphan",
    )


class SuitabilityAdjournment(db.Model):
    """One adjournment for the assessment: every one is kept, the latest sets the hearing."""

    __tablename__ = "suitability_adjournments"
    __table_args__ = (CheckConstraint("adjourned_to > hearing_date", name="later_hearing"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("suitability_assessments.id", ondelete="CASCADE"), index=True
    )
    # The hearing adjourned, and the one it was adjourned to.
    hearing_date: Mapped[dt.date]
    adjourned_to: Mapped[dt.date]
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    assessment: Mapped[SuitabilityAssessment] = relationship(back_populates="adjournments")
    booking: Mapped[Booking | None] = relationship()


# What follows an assessment -------------------------------------------------------------------


class OnSiteKind(enum.StrEnum):
    """An assessment or contact a worker made on site, with no appointment."""

    REQUIRED_INITIAL = "required_initial"
    REQUIRED_FOLLOW_UP = "required_follow_up"
    VOLUNTARY = "voluntary"
    CONTACT_ONLY = "contact_only"


class Naloxone(enum.StrEnum):
    ISSUED = "issued"
    DECLINED = "declined"
    ALREADY_HAS = "already_has"
    NOT_APPROPRIATE = "not_appropriate"


class ReferralArea(enum.StrEnum):
    """The local authority area whose treatment service the person was referred to: the seven
    West Midlands areas, or elsewhere."""

    BIRMINGHAM = "birmingham"
    COVENTRY = "coventry"
    DUDLEY = "dudley"
    SANDWELL = "sandwell"
    SOLIHULL = "solihull"
    WALSALL = "walsall"
    WOLVERHAMPTON = "wolverhampton"
    OUT_OF_AREA = "out_of_area"
    UNKNOWN = "unknown"


class Entry(enum.StrEnum):
    """Whether a referral led into treatment."""

    AWAITING = "awaiting"
    ENTERED = "entered"
    NOT_CONVERTED = "not_converted"


class NonConversionReason(enum.StrEnum):
    DID_NOT_ATTEND = "did_not_attend"
    DECLINED = "declined"
    UNABLE_TO_CONTACT = "unable_to_contact"
    MOVED_AWAY = "moved_away"
    CUSTODY = "custody"
    PROVIDER_DECLINED = "provider_declined"
    DIED = "died"
    ALREADY_IN_TREATMENT = "already_in_treatment"
    OTHER = "other"


class ClosureReason(enum.StrEnum):
    TREATMENT_ENTERED = "treatment_entered"
    NO_FURTHER_ACTION = "no_further_action"
    TRANSFERRED = "transferred"
    DISENGAGED = "disengaged"
    CUSTODY = "custody"
    OTHER = "other"


class OnSiteAssessment(db.Model):
    """An assessment or contact a worker made on site at a block or court, in hours.

    A reference and coded facts only: no name, mobile or custody record is ever kept, so
    there is nothing here for the retention purge to remove.
    """

    __tablename__ = "on_site_assessments"
    __table_args__ = (
        _enum_check("kind", OnSiteKind),
        Index("ix_on_site_assessments_assessed_at", "assessed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("blocks.id"))
    kind: Mapped[str] = mapped_column(String(20))
    assessed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    place: Mapped[Block] = relationship()


class Pathway(db.Model):
    """What followed one assessment (an attended booking, an on-site assessment or contact, or a
    completed suitability assessment): harm reduction, referral into treatment, entry or the
    coded reason there was none, and the case's closure.

    Coded facts and dates only. The assessment's reference, place and local date are copied
    here when the pathway is first recorded, so every figure is counted from this table alone
    and stays right after the assessment's personal data is purged.
    """

    __tablename__ = "pathways"
    __table_args__ = (
        _enum_check("naloxone", Naloxone),
        _enum_check("referral_area", ReferralArea),
        _enum_check("entry", Entry),
        _enum_check("non_conversion_reason", NonConversionReason),
        _enum_check("closure_reason", ClosureReason),
        CheckConstraint(
            "(CASE WHEN booking_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN on_site_assessment_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN suitability_assessment_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_assessment",
        ),
        CheckConstraint(
            "COALESCE(referred, false)"
            " OR (referral_area IS NULL AND referred_on IS NULL AND entry IS NULL)",
            name="referral_facts_need_referral",
        ),
        CheckConstraint("entered_on IS NULL OR entered_on >= referred_on", name="entry_after"),
        CheckConstraint(
            "(COALESCE(entry, '') = 'not_converted') = (non_conversion_reason IS NOT NULL)",
            name="reason_when_not_converted",
        ),
        CheckConstraint(
            "(closed_on IS NULL) = (closure_reason IS NULL)", name="closed_with_reason"
        ),
        Index("ix_pathways_referred_on", "referred_on"),
        Index("ix_pathways_entered_on", "entered_on"),
        Index("ix_pathways_closed_on", "closed_on"),
        Index("ix_pathways_assessed_on", "assessed_on"),
        Index("ix_pathways_not_converted_on", "not_converted_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), unique=True)
    on_site_assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("on_site_assessments.id"), unique=True
    )
    suitability_assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("suitability_assessments.id"), unique=True
    )
    # Where and on which local day the assessment was made.
    place_id: Mapped[int] = mapped_column(ForeignKey("blocks.id"))
    assessed_on: Mapped[dt.date]
    naloxone: Mapped[str | None] = mapped_column(String(20))
    harm_reduction: Mapped[bool | None]
    referred: Mapped[bool | None]
    referral_area: Mapped[str | None] = mapped_column(String(20))
    referred_on: Mapped[dt.date | None]
    entry: Mapped[str | None] = mapped_column(String(20))
    entered_on: Mapped[dt.date | None]
    non_conversion_reason: Mapped[str | None] = mapped_column(String(30))
    # The local day the referral was found not to have converted: the event it counts by.
    not_converted_on: Mapped[dt.date | None]
    closed_on: Mapped[dt.date | None]
    closure_reason: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    place: Mapped[Block] = relationship()
    booking: Mapped[Booking | None] = relationship()
    on_site_assessment: Mapped[OnSiteAssessment | None] = relationship()
    suitability_assessment: Mapped[SuitabilityAssessment | None] = relationship()
