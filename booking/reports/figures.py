"""The commissioner's figures: counts over appointments, per block and month; over the
courts' suitability assessments, per court and month; over assessments and contacts made on
site; and over what followed every assessment (harm reduction, referral, entry into treatment,
closure), each at the place of its assessment.

Only non-identifying fields are read (status, times, blocks, requirement, message statuses,
findings and sentences), so the figures stay the same after the retention purge, and no row
carries personal data. A court has no appointments or cover of its own: its custody figures
are zero, and a custody block's court figures are.

The database does the counting: one row per block and month comes back, whatever the number
of appointments, and the totals, blocks and months are sums of those rows. The waits from
test to appointment, whose medians and percentiles do not add up, are in `waits`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields

from sqlalchemy import (
    Integer,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.exc import DBAPIError

from .. import places
from ..clock import LONDON, local_day_span, local_midnight
from ..extensions import db
from ..models import (
    Block,
    Booking,
    BookingStatus,
    Finding,
    Message,
    MessageStatus,
    Naloxone,
    NonConversionReason,
    OnSiteAssessment,
    OnSiteKind,
    Pathway,
    Requirement,
    SentenceOutcome,
    Shift,
    SuitabilityAdjournment,
    SuitabilityAssessment,
    SuitabilityStatus,
)
from ..sms.outbox import OPTED_OUT
from .waits import _add_waits, _MicrosecondsBetween

NOT_ATTENDED_STATUSES = (BookingStatus.LEFT_EARLY, BookingStatus.DID_NOT_ATTEND)
REQUIRED = (Requirement.INITIAL, Requirement.FOLLOW_UP)
ON_SITE_REQUIRED = (OnSiteKind.REQUIRED_INITIAL, OnSiteKind.REQUIRED_FOLLOW_UP)
BY_APPOINTMENT_BLOCK = "appointment"
BY_ARREST_BLOCK = "arrest"
# Up to a quarter (in local days), a report finds its appointments' messages through them,
# one appointment at a time; beyond, reading all the messages once is quicker (SQLite).
LOOK_UP_MESSAGES_BY_BOOKING_DAYS = 92


@dataclass
class Figures:
    """The figures for one set of appointments (a block, a month, or everything)."""

    bookings: int = 0
    initial: int = 0
    follow_up: int = 0
    voluntary: int = 0
    attended: int = 0
    left_early: int = 0
    did_not_attend: int = 0
    cancelled: int = 0
    rearranged: int = 0
    awaiting_outcome: int = 0
    police_to_inform: int = 0
    police_informed: int = 0
    other_block: int = 0
    sms_sent: int = 0
    sms_delivered: int = 0
    sms_failed: int = 0
    sms_opted_out: int = 0
    cover_hours: float = 0.0
    gap_hours: float = 0.0
    # Court work, counted at the court: suitability assessments asked for, completed,
    # adjourned and found suitable, and the treatment requirements the court made.
    suitability_requested: int = 0
    suitability_completed: int = 0
    suitability_adjournments: int = 0
    suitable_drr: int = 0
    suitable_atr: int = 0
    drr_made: int = 0
    atr_made: int = 0
    # Of the people found suitable (counted with them, by the result), those given the
    # requirement.
    drr_granted: int = 0
    atr_granted: int = 0
    # Assessments and contacts made on site, in hours, with no appointment.
    on_site_required: int = 0
    on_site_voluntary: int = 0
    contacts: int = 0
    # What the commissioner measures (definitions in the README's "The figures"): required
    # assessments requested (bookings not cancelled, and on site) and
    # completed (attended, or on site); voluntary assessments (attended, or on site).
    required_requested: int = 0
    required_completed: int = 0
    voluntary_assessments: int = 0
    # What followed the assessments, each by its own date.
    referrals: int = 0
    entries: int = 0
    cases_closed: int = 0
    naloxone_issued: int = 0
    harm_reduction_given: int = 0
    non_conversion_did_not_attend: int = 0
    non_conversion_declined: int = 0
    non_conversion_unable_to_contact: int = 0
    non_conversion_moved_away: int = 0
    non_conversion_custody: int = 0
    non_conversion_provider_declined: int = 0
    non_conversion_died: int = 0
    non_conversion_already_in_treatment: int = 0
    non_conversion_other: int = 0
    # Hours from the test to the appointment, over initial and voluntary assessments not
    # cancelled: worked out over the whole set, as they cannot be summed.
    median_hours_to_appointment: float | None = None
    p90_hours_to_appointment: float | None = None

    @property
    def attendance_rate(self) -> float | None:
        concluded = self.attended + self.left_early + self.did_not_attend
        return round(self.attended / concluded, 3) if concluded else None

    @property
    def drr_granted_share(self) -> float | None:
        """DRRs made to people found suitable, out of those found suitable for one (the
        commissioner's share)."""
        return _share(self.drr_granted, self.suitable_drr)

    @property
    def atr_granted_share(self) -> float | None:
        """ATRs made to people found suitable, out of those found suitable for one."""
        return _share(self.atr_granted, self.suitable_atr)

    @property
    def not_attended(self) -> int:
        """Non-attendance: did not attend, or left before the assessment was done."""
        return self.did_not_attend + self.left_early

    @property
    def on_site_assessments(self) -> int:
        """Assessments made on site, required or voluntary (contacts apart)."""
        return self.on_site_required + self.on_site_voluntary

    @property
    def not_converted(self) -> int:
        """Referrals that did not lead into treatment, whatever the reason."""
        return sum(self.non_conversion.values())

    @property
    def engaged(self) -> int:
        """Every contact: attended or left-early appointments, assessments and contacts on
        site, and completed suitability assessments."""
        return (
            self.attended
            + self.left_early
            + self.on_site_required
            + self.on_site_voluntary
            + self.contacts
            + self.suitability_completed
        )

    @property
    def statutory_assessments(self) -> int:
        return self.required_completed

    @property
    def voluntary_and_court_assessments(self) -> int:
        return self.voluntary_assessments + self.suitability_completed

    @property
    def assessments_completed(self) -> int:
        return self.statutory_assessments + self.voluntary_and_court_assessments

    @property
    def assessments_completed_share(self) -> float | None:
        """Completed assessments out of everyone engaged."""
        return _share(self.assessments_completed, self.engaged)

    @property
    def non_conversion(self) -> dict[str, int]:
        """Referrals that did not lead into treatment, by reason."""
        return {
            reason.value: getattr(self, f"non_conversion_{reason.value}")
            for reason in NonConversionReason
        }

    @property
    def other_block_share(self) -> float | None:
        live = self.bookings - self.cancelled
        return round(self.other_block / live, 3) if live else None

    def add(self, other: Figures) -> None:
        """Add the counts and hours of `other` (not the median and percentile)."""
        for name in SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        figures = asdict(self)
        for name in NOT_SUMMED + NON_CONVERSION:
            figures.pop(name)
        figures["non_conversion"] = self.non_conversion
        figures["cover_hours"] = round(self.cover_hours, 1)
        figures["gap_hours"] = round(self.gap_hours, 1)
        figures["attendance_rate"] = self.attendance_rate
        figures["other_block_share"] = self.other_block_share
        figures["median_hours_to_appointment"] = self.median_hours_to_appointment
        figures["p90_hours_to_appointment"] = self.p90_hours_to_appointment
        figures["engaged"] = self.engaged
        figures["drr_granted_share"] = self.drr_granted_share
        figures["atr_granted_share"] = self.atr_granted_share
        return figures


def _share(part: int, whole: int) -> float | None:
    """A fraction from 0 to 1 to three places, or None when there is nothing to share."""
    return round(part / whole, 3) if whole else None


# Every figure but the median and percentile adds up over blocks and months.
NOT_SUMMED = ("median_hours_to_appointment", "p90_hours_to_appointment")
SUMMED = tuple(f.name for f in fields(Figures) if f.name not in NOT_SUMMED)
# Kept one field per reason, so they add up; shown as one mapping of reason to count.
NON_CONVERSION = tuple(f"non_conversion_{reason.value}" for reason in NonConversionReason)


@dataclass
class Report:
    start: dt.date
    end: dt.date
    block_code: str | None
    block_by: str
    total: Figures
    by_block: dict[str, Figures]
    by_month: dict[str, Figures]
    # One row per block and month, for the CSV.
    rows: dict[tuple[str, str], Figures]


@dataclass(frozen=True)
class Month:
    """A local calendar month, clipped to the period, as UTC instants."""

    key: str  # "2027-03"
    starts_at: dt.datetime
    ends_at: dt.datetime


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Local midnight at the start of `start` to local midnight after `end`, in UTC."""
    return local_day_span(start)[0], local_day_span(end)[1]


def _month(instant: dt.datetime) -> str:
    return instant.astimezone(LONDON).strftime("%Y-%m")


def _months(first: dt.datetime, after: dt.datetime) -> list[Month]:
    """The local months from `first` to `after`, each from local midnight on its first day."""
    months = []
    month_start = first
    while month_start < after:
        local = month_start.astimezone(LONDON)
        next_local = (local.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        month_end = min(
            local_midnight(next_local.date()),
            after,
        )
        months.append(Month(_month(month_start), month_start, month_end))
        month_start = month_end
    return months


def _month_number(instant, months: list[Month], first: int = 0, after: int | None = None):
    """The index in `months` of the month an instant falls in, as SQL: comparing with the
    months' UTC bounds keeps local months right across the clock changes, on every database.
    A binary search (CASE within CASE), so that each row meets a few comparisons, not one
    per month."""
    after = len(months) if after is None else after
    if after - first == 1:
        return literal(first, Integer)
    middle = (first + after) // 2
    return case(
        (instant < months[middle].starts_at, _month_number(instant, months, first, middle)),
        else_=_month_number(instant, months, middle, after),
    )


def build(
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    block_code: str | None = None,
    block_by: str = BY_APPOINTMENT_BLOCK,
    *,
    summary_only: bool = False,
) -> Report:
    """Figures over appointments starting between `start` and `end` (inclusive, local dates).

    With `summary_only`, only the figures the year summary reads (appointments' outcomes,
    completed suitability assessments, on-site assessments, referrals): the rest stay 0."""
    first, after = _bounds(start, end)
    months = _months(first, after)
    codes = dict(
        db.session.execute(
            select(Block.id, Block.code).where(places.CUSTODY).order_by(Block.code)
        ).all()
    )
    court_codes = dict(
        db.session.execute(
            select(Block.id, Block.code).where(places.COURT).order_by(Block.code)
        ).all()
    )
    block_column = Booking.arrest_block_id if block_by == BY_ARREST_BLOCK else Booking.block_id
    included = [id_ for id_, code in codes.items() if not block_code or code == block_code]
    courts = [id_ for id_, code in court_codes.items() if not block_code or code == block_code]
    codes_and_courts = codes | court_codes
    places_included = included + courts
    if not months:  # an end before the start: nothing to count
        by_block = {codes_and_courts[b]: Figures() for b in places_included}
        return Report(start, end, block_code, block_by, Figures(), by_block, {}, {})

    conditions = [Booking.starts_at >= first, Booking.starts_at < after]
    if block_code:
        conditions.append(block_column.in_(included))
    appointments = (
        select(
            Booking.id,
            block_column.label("group_block_id"),
            _month_number(Booking.starts_at, months).label("month"),
            Booking.block_id,
            Booking.arrest_block_id,
            Booking.status,
            Booking.requirement,
            Booking.notice_version,
            Booking.starts_at,
            Booking.tested_at,
            Booking.police_informed_at,
        )
        .where(*conditions)
        .subquery("appointments")
    )
    # Every block (and court) and month, in order, even those without a single appointment.
    rows = {
        (codes_and_courts[b], month.key): Figures() for b in places_included for month in months
    }

    def row(block_id: int, month: int) -> Figures:
        return rows[(codes_and_courts[block_id], months[month].key)]

    total = Figures()
    by_block = {codes_and_courts[b]: Figures() for b in places_included}
    by_month = {month.key: Figures() for month in months}
    # Compiling these queries to machine code (PostgreSQL's JIT) took longer than running
    # them, and sorting and hashing a year of appointments wants more than the default 4 MB.
    with _postgresql_settings(jit="off", work_mem="64MB"):
        _add_counts(row, appointments, now)
        if not summary_only:
            _add_messages(row, appointments, (end - start).days + 1)
            _add_cover(row, included, months)
        _add_court_work(row, courts, months, summary_only=summary_only)
        _add_on_site(row, places_included, months)
        _add_pathways(row, places_included, months, summary_only=summary_only)
        for (code, month), figures in rows.items():
            for group in (total, by_block[code], by_month[month]):
                group.add(figures)
        if not summary_only:
            _add_waits(appointments, codes, months, total, by_block, by_month, rows)
    return Report(start, end, block_code, block_by, total, by_block, by_month, rows)


def _count(condition):
    return func.count().filter(condition)


def _add_counts(row, appointments, now: dt.datetime) -> None:
    a = appointments.c
    counts = db.session.execute(
        select(
            a.group_block_id,
            a.month,
            func.count(),
            _count(a.requirement == Requirement.INITIAL),
            _count(a.requirement == Requirement.FOLLOW_UP),
            _count(a.status == BookingStatus.ATTENDED),
            _count(a.status == BookingStatus.LEFT_EARLY),
            _count(a.status == BookingStatus.DID_NOT_ATTEND),
            _count(a.status == BookingStatus.CANCELLED),
            _count(a.notice_version > 1),
            _count(and_(a.status == BookingStatus.BOOKED, a.starts_at < now)),
            _count(and_(a.status.in_(NOT_ATTENDED_STATUSES), a.police_informed_at.is_not(None))),
            _count(and_(a.status != BookingStatus.CANCELLED, a.block_id != a.arrest_block_id)),
            _count(and_(a.requirement.in_(REQUIRED), a.status != BookingStatus.CANCELLED)),
            _count(and_(a.requirement.in_(REQUIRED), a.status == BookingStatus.ATTENDED)),
            _count(
                and_(a.requirement == Requirement.VOLUNTARY, a.status == BookingStatus.ATTENDED)
            ),
        ).group_by(a.group_block_id, a.month)
    ).all()
    for (
        block_id,
        month,
        bookings,
        initial,
        follow_up,
        attended,
        left_early,
        did_not_attend,
        cancelled,
        rearranged,
        awaiting_outcome,
        police_informed,
        other_block,
        required_booked,
        required_attended,
        voluntary_attended,
    ) in counts:
        figures = row(block_id, month)
        figures.bookings = bookings
        figures.initial = initial
        figures.follow_up = follow_up
        figures.voluntary = bookings - initial - follow_up
        figures.attended = attended
        figures.left_early = left_early
        figures.did_not_attend = did_not_attend
        figures.cancelled = cancelled
        figures.rearranged = rearranged
        figures.awaiting_outcome = awaiting_outcome
        # Every non-attendance or early leaving must be reported to the police.
        figures.police_to_inform = left_early + did_not_attend
        figures.police_informed = police_informed
        figures.other_block = other_block
        figures.required_requested += required_booked
        figures.required_completed += required_attended
        figures.voluntary_assessments += voluntary_attended


def _add_messages(row, appointments, days: int) -> None:
    # An appointment's messages are written together when it is booked, so looking them up
    # by booking reads few pages: for a month, far fewer than reading every message. On
    # PostgreSQL the default cost of a random read (4, for spinning disks) hid that; SQLite,
    # without statistics, reads every message unless the appointments come first.
    if days <= LOOK_UP_MESSAGES_BY_BOOKING_DAYS and db.session.get_bind().dialect.name == "sqlite":
        appointments = (
            select(appointments.c.id, appointments.c.group_block_id, appointments.c.month)
            .cte("appointments_first")
            .prefix_with("MATERIALIZED")
        )
    a = appointments.c
    with _postgresql_settings(random_page_cost="1.1"):
        counts = db.session.execute(
            select(
                a.group_block_id,
                a.month,
                _count(Message.provider_id.is_not(None)),
                _count(Message.status == MessageStatus.DELIVERED),
                _count(Message.status == MessageStatus.FAILED),
                _count(Message.skip_reason == OPTED_OUT),
            )
            .select_from(Message)
            .join(appointments, Message.booking_id == a.id)
            # Only the messages that count for something (most skipped ones do not).
            .where(
                or_(
                    Message.provider_id.is_not(None),
                    Message.status.in_((MessageStatus.DELIVERED, MessageStatus.FAILED)),
                    Message.skip_reason == OPTED_OUT,
                )
            )
            .group_by(a.group_block_id, a.month)
        ).all()
    for block_id, month, sent, delivered, failed, opted_out in counts:
        figures = row(block_id, month)
        figures.sms_sent = sent
        figures.sms_delivered = delivered
        figures.sms_failed = failed
        figures.sms_opted_out = opted_out


def _month_number_of_day(day, months: list[Month], first: int = 0, after: int | None = None):
    """As _month_number, for a local date: compared with each month's first local day."""
    after = len(months) if after is None else after
    if after - first == 1:
        return literal(first, Integer)
    middle = (first + after) // 2
    first_day = months[middle].starts_at.astimezone(LONDON).date()
    return case(
        (day < first_day, _month_number_of_day(day, months, first, middle)),
        else_=_month_number_of_day(day, months, middle, after),
    )


def _add_court_work(
    row, courts: list[int], months: list[Month], summary_only: bool = False
) -> None:
    """The suitability assessments' figures at each court: each counts in the month of its own
    event (the request, the result, the adjournment's recording, the sentence). With
    `summary_only`, the results alone (all the year summary reads)."""
    if not courts:
        return
    first, after = months[0].starts_at, months[-1].ends_at
    first_day = first.astimezone(LONDON).date()
    after_day = after.astimezone(LONDON).date()
    s = SuitabilityAssessment
    at_courts = s.court_id.in_(courts)

    def counted(month, *conditions, select_from=s, **figures) -> None:
        query = (
            select(s.court_id, month.label("month"), *figures.values())
            .select_from(select_from)
            .where(at_courts, *conditions)
            .group_by(s.court_id, "month")
        )
        for court_id, number, *counts in db.session.execute(query):
            for name, count in zip(figures, counts, strict=True):
                setattr(row(court_id, number), name, count)

    completed = s.status == SuitabilityStatus.COMPLETED
    drr_made = s.sentence.in_((SentenceOutcome.DRR, SentenceOutcome.DRR_AND_ATR))
    atr_made = s.sentence.in_((SentenceOutcome.ATR, SentenceOutcome.DRR_AND_ATR))
    suitable_drr = s.drr == Finding.SUITABLE
    suitable_atr = s.atr == Finding.SUITABLE
    counted(
        _month_number(s.completed_at, months),
        completed,
        s.completed_at >= first,
        s.completed_at < after,
        suitability_completed=func.count(),
        suitable_drr=_count(suitable_drr),
        suitable_atr=_count(suitable_atr),
        # Of the people found suitable then, those the court gave the requirement (whenever
        # it was sentenced), so the share of them is a true fraction.
        drr_granted=_count(and_(suitable_drr, drr_made)),
        atr_granted=_count(and_(suitable_atr, atr_made)),
    )
    if summary_only:
        return
    counted(
        _month_number(s.requested_at, months),
        s.requested_at >= first,
        s.requested_at < after,
        suitability_requested=func.count(),
    )
    a = SuitabilityAdjournment
    counted(
        _month_number(a.recorded_at, months),
        a.recorded_at >= first,
        a.recorded_at < after,
        select_from=a.__table__.join(s.__table__, a.assessment_id == s.id),
        suitability_adjournments=func.count(),
    )
    counted(
        _month_number_of_day(s.sentenced_on, months),
        s.sentenced_on >= first_day,
        s.sentenced_on < after_day,
        drr_made=_count(drr_made),
        atr_made=_count(atr_made),
    )


def _add_on_site(row, place_ids: list[int], months: list[Month]) -> None:
    """Assessments and contacts made on site, at their place, by when they were made."""
    if not place_ids:
        return
    first, after = months[0].starts_at, months[-1].ends_at
    o = OnSiteAssessment
    counts = db.session.execute(
        select(
            o.place_id,
            _month_number(o.assessed_at, months).label("month"),
            _count(o.kind.in_(ON_SITE_REQUIRED)),
            _count(o.kind == OnSiteKind.VOLUNTARY),
            _count(o.kind == OnSiteKind.CONTACT_ONLY),
        )
        .where(o.place_id.in_(place_ids), o.assessed_at >= first, o.assessed_at < after)
        .group_by(o.place_id, "month")
    )
    for place_id, month, required, voluntary, contacts in counts:
        figures = row(place_id, month)
        figures.on_site_required = required
        figures.on_site_voluntary = voluntary
        figures.contacts = contacts
        figures.required_requested += required
        figures.required_completed += required
        figures.voluntary_assessments += voluntary


def _add_pathways(
    row, place_ids: list[int], months: list[Month], summary_only: bool = False
) -> None:
    """What followed the assessments, at the assessment's place, each event by its own local
    date: the referral, the entry, the non-conversion's becoming known, the closure; naloxone
    and other harm reduction by the assessment's date. With `summary_only`, the referrals
    alone."""
    if not place_ids:
        return
    first_day = months[0].starts_at.astimezone(LONDON).date()
    after_day = months[-1].ends_at.astimezone(LONDON).date()
    p = Pathway

    def counted(day, *conditions, **figures) -> None:
        query = (
            select(p.place_id, _month_number_of_day(day, months).label("month"), *figures.values())
            .where(p.place_id.in_(place_ids), day >= first_day, day < after_day, *conditions)
            .group_by(p.place_id, "month")
        )
        for place_id, number, *counts in db.session.execute(query):
            for name, count in zip(figures, counts, strict=True):
                setattr(row(place_id, number), name, count)

    counted(p.referred_on, p.referred.is_(True), referrals=func.count())
    if summary_only:
        return
    counted(
        p.assessed_on,
        naloxone_issued=_count(p.naloxone == Naloxone.ISSUED),
        harm_reduction_given=_count(p.harm_reduction.is_(True)),
    )
    counted(p.entered_on, entries=func.count())
    counted(p.closed_on, cases_closed=func.count())
    counted(
        p.not_converted_on,
        **{
            f"non_conversion_{reason.value}": _count(p.non_conversion_reason == reason)
            for reason in NonConversionReason
        },
    )


@contextmanager
def _postgresql_settings(**settings: str) -> Iterator[None]:
    """On PostgreSQL, these settings for the statements inside, then back as they were."""
    if db.session.get_bind().dialect.name != "postgresql":
        yield
        return
    previous = {name: db.session.scalar(select(func.current_setting(name))) for name in settings}
    for name, value in settings.items():
        db.session.execute(select(func.set_config(name, value, True)))

    def put_back() -> None:
        for name, value in previous.items():
            db.session.execute(select(func.set_config(name, value, True)))

    try:
        yield
    except DBAPIError:
        raise  # the transaction is lost, and its rollback undoes the settings too
    except BaseException:
        put_back()
        raise
    put_back()


def _add_cover(row, included: list[int], months: list[Month]) -> None:
    """Hours with a worker on site, and hours without (the out-of-hours gaps), per block."""
    if not included:
        return
    covered = _covered_microseconds(included, months)
    for block_id in included:
        for number, month in enumerate(months):
            figures = row(block_id, number)
            whole = (month.ends_at - month.starts_at).total_seconds() / 3600
            figures.cover_hours = covered.get((block_id, number), 0) / 10**6 / 3600
            figures.gap_hours = whole - figures.cover_hours


def _covered_microseconds(included: list[int], months: list[Month]) -> dict[tuple, int]:
    """{(block id, month): microseconds in the union of the block's shifts} in that month.

    Each shift is cut to each month it touches; in start order within a block and month, a
    piece adds only what it reaches beyond the latest end before it, so that two workers on
    site at once count once."""
    first, after = months[0].starts_at, months[-1].ends_at
    month_table = union_all(
        *(
            select(
                literal(number, Integer).label("number"),
                literal(month.starts_at, Shift.starts_at.type).label("starts_at"),
                literal(month.ends_at, Shift.ends_at.type).label("ends_at"),
            )
            for number, month in enumerate(months)
        )
    ).cte("months")
    m = month_table.c
    pieces = (
        select(
            Shift.block_id,
            m.number.label("month"),
            case((Shift.starts_at > m.starts_at, Shift.starts_at), else_=m.starts_at).label(
                "starts_at"
            ),
            case((Shift.ends_at < m.ends_at, Shift.ends_at), else_=m.ends_at).label("ends_at"),
        )
        .join(month_table, and_(Shift.starts_at < m.ends_at, Shift.ends_at > m.starts_at))
        .where(Shift.block_id.in_(included), *Shift.overlapping(first, after))
        .subquery("pieces")
    )
    p = pieces.c
    reached = (
        select(
            p.block_id,
            p.month,
            p.starts_at,
            p.ends_at,
            func.max(p.ends_at)
            .over(
                partition_by=(p.block_id, p.month),
                order_by=(p.starts_at, p.ends_at),
                rows=(None, -1),
            )
            .label("covered_until"),
        )
    ).subquery("reached")
    r = reached.c
    added = case(
        (
            or_(r.covered_until.is_(None), r.covered_until < r.starts_at),
            _MicrosecondsBetween(r.starts_at, r.ends_at),
        ),
        (r.covered_until < r.ends_at, _MicrosecondsBetween(r.covered_until, r.ends_at)),
        else_=0,
    )
    return {
        (block_id, month): int(microseconds)
        for block_id, month, microseconds in db.session.execute(
            select(r.block_id, r.month, func.sum(added)).group_by(r.block_id, r.month)
        )
    }


CSV_COLUMNS = [
    "block",
    "month",
    "bookings",
    "initial",
    "follow_up",
    "voluntary",
    "attended",
    "left_early",
    "did_not_attend",
    "cancelled",
    "rearranged",
    "awaiting_outcome",
    "attendance_rate",
    "police_to_inform",
    "police_informed",
    "median_hours_to_appointment",
    "p90_hours_to_appointment",
    "other_block",
    "other_block_share",
    "sms_sent",
    "sms_delivered",
    "sms_failed",
    "sms_opted_out",
    "cover_hours",
    "gap_hours",
    "suitability_requested",
    "suitability_completed",
    "suitability_adjournments",
    "suitable_drr",
    "suitable_atr",
    "drr_made",
    "atr_made",
    "drr_granted",
    "drr_granted_share",
    "atr_granted",
    "atr_granted_share",
    "on_site_required",
    "on_site_voluntary",
    "contacts",
    "engaged",
    "required_requested",
    "required_completed",
    "voluntary_assessments",
    "referrals",
    "entries",
    *NON_CONVERSION,
    "cases_closed",
    "naloxone_issued",
    "harm_reduction_given",
]


def csv_rows(report: Report) -> list[dict]:
    """One row per block and month, in the CSV's column order."""
    rows = []
    for (code, month), figures in sorted(report.rows.items()):
        values = asdict(figures) | figures.as_dict() | {"block": code, "month": month}
        rows.append({column: values[column] for column in CSV_COLUMNS})
    return rows
