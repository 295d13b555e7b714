"""The commissioner's figures (`booking.reports`) and the reporting API.

A known period: March and April 2027. March has 743 hours (the clocks go forward on Sunday
28 March), April 720. Ten appointments fall in it, two just outside it, and two blocks have
shifts, some across midnight, a month's end and the clock change. Every figure is worked out
by hand below and checked exactly. The clock reads Tuesday 20 April 2027, 12:00 in London:
one April appointment has passed with no outcome, another is still to come.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from booking import retention
from booking.clock import LONDON
from booking.extensions import db
from booking.models import Block, Booking, Message, Role, Shift, Worker
from booking.reports import figures as reports
from booking.sms.outbox import OPTED_OUT
from tests.support import auth, booking_body, on_site

START, END = dt.date(2027, 3, 1), dt.date(2027, 4, 30)
KPI = "/api/v1/reports/kpi"
PERIOD = {"start": "2027-03-01", "end": "2027-04-30"}
BLOCK_CODES = ["bloxwich", "coventry", "oldbury", "perry-barr", "stechford", "wolverhampton"]
HOUR = dt.timedelta(hours=1)


def local(*args) -> dt.datetime:
    """A UK wall-clock time as the UTC instant the database keeps."""
    return dt.datetime(*args, tzinfo=LONDON).astimezone(dt.UTC)


NOW = local(2027, 4, 20, 12, 0)


@dataclass(frozen=True)
class Text:
    """One message of an appointment: its kind, where it got to, and why it did not go."""

    kind: str
    status: str
    accepted: bool = False  # the provider took it (it has a provider id)
    reason: str | None = None


@dataclass(frozen=True)
class Planned:
    block: str
    arrest_block: str
    starts: tuple[int, ...]  # local wall-clock time
    requirement: str
    status: str
    hours_since_test: int
    notice_version: int = 1
    police_informed: bool = False
    texts: tuple[Text, ...] = ()


DELIVERED = Text("confirmation", "delivered", accepted=True)
NO_CONSENT = "The person did not agree to text messages"

# fmt: off
KNOWN = [
    # 1. Attended, three texts taken by the provider, two of them delivered.
    Planned(
        "stechford", "stechford", (2027, 3, 3, 10, 0), "initial", "attended", 24,
        texts=(DELIVERED, Text("day_before", "delivered", True), Text("same_day", "sent", True)),
    ),
    # 2. Booked away from the arresting block; did not attend; the police were told.
    #    Its confirmation was taken, then failed; its reminder failed before it was taken.
    Planned(
        "stechford", "perry-barr", (2027, 3, 10, 9, 0), "initial", "did_not_attend", 48,
        police_informed=True,
        texts=(Text("confirmation", "failed", True), Text("day_before", "failed")),
    ),
    # 3. On the day the clocks go forward; left early; the police not told yet; opted out.
    Planned(
        "perry-barr", "perry-barr", (2027, 3, 28, 9, 0), "voluntary", "left_early", 12,
        texts=(
            Text("confirmation", "skipped", reason=OPTED_OUT),
            Text("day_before", "skipped", reason=OPTED_OUT),
        ),
    ),
    # 4. A follow-up, cancelled: its reminder with it.
    Planned(
        "oldbury", "oldbury", (2027, 3, 15, 8, 0), "follow_up", "cancelled", 500,
        texts=(DELIVERED, Text("day_before", "cancelled")),
    ),
    # 5. Moved once (notice version 2), at another block; attended; no consent to texts.
    Planned(
        "oldbury", "stechford", (2027, 3, 20, 10, 0), "initial", "attended", 72,
        notice_version=2,
        texts=(Text("confirmation", "skipped", reason=NO_CONSENT),),
    ),
    # 6. Half past midnight on 1 April, local time (still 31 March in UTC): an April one.
    Planned("stechford", "stechford", (2027, 4, 1, 0, 30), "initial", "attended", 6),
    # 7. A follow-up, so 400 hours after the first test; did not attend; police not told yet.
    Planned(
        "stechford", "oldbury", (2027, 4, 12, 11, 0), "follow_up", "did_not_attend", 400,
        texts=(Text("confirmation", "sent", True),),
    ),
    # 8. Moved twice (version 3), passed with no outcome recorded.
    Planned(
        "perry-barr", "stechford", (2027, 4, 14, 9, 0), "initial", "booked", 30,
        notice_version=3,
        texts=(DELIVERED, Text("same_day", "pending")),
    ),
    # 9. Still to come.
    Planned(
        "perry-barr", "coventry", (2027, 4, 25, 10, 0), "voluntary", "booked", 100,
        texts=(DELIVERED, Text("day_before", "pending")),
    ),
    # 10. Moved, then cancelled: the cancellation text was taken by the provider.
    Planned(
        "coventry", "coventry", (2027, 4, 28, 10, 0), "initial", "cancelled", 20,
        notice_version=2,
        texts=(Text("cancelled", "sent", True),),
    ),
    # Outside the period: the evening before it, and half past midnight on 1 May (local).
    Planned(
        "stechford", "stechford", (2027, 2, 28, 23, 30), "initial", "attended", 10,
        texts=(DELIVERED,),
    ),
    Planned(
        "stechford", "stechford", (2027, 5, 1, 0, 30), "initial", "attended", 10,
        texts=(DELIVERED,),
    ),
]
# fmt: on

# Worker, block, from and to (local). Union of shifts: two workers at once count once.
SHIFTS = [
    # Across the period's start: 2 hours of it in March.
    ("Ellie Barnes", "stechford", (2027, 2, 28, 22, 0), (2027, 3, 1, 2, 0)),
    ("Ellie Barnes", "stechford", (2027, 3, 3, 7, 0), (2027, 3, 3, 20, 0)),
    ("Sam Hollis", "stechford", (2027, 3, 3, 12, 0), (2027, 3, 3, 20, 0)),
    # Across the month's end: 4 hours in March, 2 in April.
    ("Sam Hollis", "stechford", (2027, 3, 31, 20, 0), (2027, 4, 1, 2, 0)),
    ("Ellie Barnes", "stechford", (2027, 4, 5, 7, 0), (2027, 4, 5, 20, 0)),
    ("Ellie Barnes", "stechford", (2027, 5, 1, 7, 0), (2027, 5, 1, 20, 0)),
    # Overnight into the clock change: 11 hours on the wall clock, 10 in fact.
    ("Amira Clarke", "perry-barr", (2027, 3, 27, 20, 0), (2027, 3, 28, 7, 0)),
    ("Dev Sandhu", "perry-barr", (2027, 4, 14, 7, 0), (2027, 4, 14, 20, 0)),
]

# The people in the known bookings: none of this may appear in a report.
PERSONAL = [
    value
    for n in range(1, len(KNOWN) + 1)
    for value in (
        f"Quentin Report{n:02d}",  # name
        f"+4477009002{n:02d}",  # mobile, as kept
        f"07700 9002{n:02d}",  # mobile, as shown
        f"20/7700{n:02d}/27",  # custody record
    )
]


def make_known_period() -> None:
    """Write the known appointments, their messages and the shifts straight to the database."""
    blocks = {block.code: block for block in db.session.scalars(select(Block))}
    workers = {worker.name: worker for worker in db.session.scalars(select(Worker))}
    for n, planned in enumerate(KNOWN, start=1):
        starts_at = local(*planned.starts)
        tested_at = starts_at - planned.hours_since_test * HOUR
        booking = Booking(
            reference=f"RPT{n:04d}",
            status=planned.status,
            block=blocks[planned.block],
            arrest_block=blocks[planned.arrest_block],
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(minutes=30),
            custody_record=f"20/7700{n:02d}/27",
            person_name=f"Quentin Report{n:02d}",
            mobile=f"+4477009002{n:02d}",
            sms_consent=True,
            requirement=planned.requirement,
            test_result="negative" if planned.requirement == "voluntary" else "cocaine",
            tested_at=tested_at,
            notice_version=planned.notice_version,
            created_at=tested_at + HOUR,
            updated_at=tested_at + HOUR,
        )
        if planned.status in ("attended", "left_early", "did_not_attend"):
            booking.outcome_at = starts_at + HOUR
        if planned.status == "cancelled":
            booking.cancelled_at = starts_at - 24 * HOUR
            booking.cancel_reason = "Remanded in custody"
        if planned.police_informed:
            booking.police_informed_at = starts_at + 2 * HOUR
        db.session.add(booking)
        for i, text in enumerate(planned.texts):
            send_at = booking.created_at + i * HOUR
            db.session.add(
                Message(
                    booking=booking,
                    kind=text.kind,
                    send_at=send_at,
                    due_at=send_at,
                    appointment_at=starts_at,
                    status=text.status,
                    skip_reason=text.reason,
                    provider_id=f"SM{n:02d}{i}" if text.accepted else None,
                    sent_at=send_at if text.accepted else None,
                    created_at=booking.created_at,
                )
            )
    for worker, block, starts, ends in SHIFTS:
        on_site(workers[worker], blocks[block], local(*starts), local(*ends))


ZERO = {
    "bookings": 0,
    "initial": 0,
    "follow_up": 0,
    "voluntary": 0,
    "attended": 0,
    "left_early": 0,
    "did_not_attend": 0,
    "cancelled": 0,
    "rearranged": 0,
    "awaiting_outcome": 0,
    "police_to_inform": 0,
    "police_informed": 0,
    "other_block": 0,
    "sms_sent": 0,
    "sms_delivered": 0,
    "sms_failed": 0,
    "sms_opted_out": 0,
    "cover_hours": 0.0,
    "gap_hours": 0.0,
    "suitability_requested": 0,
    "suitability_completed": 0,
    "suitability_adjournments": 0,
    "suitable_drr": 0,
    "suitable_atr": 0,
    "drr_made": 0,
    "atr_made": 0,
    "drr_granted": 0,
    "atr_granted": 0,
    "on_site_required": 0,
    "on_site_voluntary": 0,
    "contacts": 0,
    "required_requested": 0,
    "required_completed": 0,
    "voluntary_assessments": 0,
    "referrals": 0,
    "entries": 0,
    "cases_closed": 0,
    "naloxone_issued": 0,
    "harm_reduction_given": 0,
    "non_conversion": {
        "did_not_attend": 0,
        "declined": 0,
        "unable_to_contact": 0,
        "moved_away": 0,
        "custody": 0,
        "provider_declined": 0,
        "died": 0,
        "already_in_treatment": 0,
        "other": 0,
    },
    "attendance_rate": None,
    "other_block_share": None,
    "median_hours_to_appointment": None,
    "p90_hours_to_appointment": None,
    "engaged": 0,
    "drr_granted_share": None,
    "atr_granted_share": None,
}


def figures(**values) -> dict:
    unknown = set(values) - set(ZERO)
    assert not unknown, unknown
    return ZERO | values


MARCH, APRIL = 743.0, 720.0

EXPECTED_TOTAL = figures(
    bookings=10,
    initial=6,
    follow_up=2,
    voluntary=2,
    attended=3,
    left_early=1,
    did_not_attend=2,
    cancelled=2,
    rearranged=3,
    awaiting_outcome=1,
    attendance_rate=0.5,  # 3 of 6 with an outcome
    police_to_inform=3,
    police_informed=1,
    other_block=5,
    other_block_share=0.625,  # 5 of the 8 not cancelled
    # Initial and voluntary, not cancelled: 6, 12, 24, 30, 48, 72, 100 hours.
    median_hours_to_appointment=30.0,
    p90_hours_to_appointment=83.2,  # 72 + 0.4 * (100 - 72)
    sms_sent=9,
    sms_delivered=5,
    sms_failed=2,
    sms_opted_out=2,
    cover_hours=57.0,  # Stechford 19 + 15, Perry Barr 10 + 13
    gap_hours=6 * (MARCH + APRIL) - 57.0,
    required_requested=6,  # initial or follow-up, not cancelled: 1, 2, 5, 6, 7 and 8
    required_completed=3,  # of those, attended: 1, 5 and 6
    # No voluntary assessment: of the two voluntary bookings, 3 left early and 9 is to come.
    voluntary_assessments=0,
    engaged=4,  # attended 1, 5 and 6; left early 3
)

EXPECTED_BY_BLOCK = {
    "bloxwich": figures(gap_hours=MARCH + APRIL),
    "coventry": figures(
        bookings=1, initial=1, cancelled=1, rearranged=1, sms_sent=1, gap_hours=MARCH + APRIL
    ),
    "oldbury": figures(
        bookings=2,
        initial=1,
        follow_up=1,
        attended=1,
        cancelled=1,
        rearranged=1,
        attendance_rate=1.0,
        other_block=1,
        other_block_share=1.0,
        median_hours_to_appointment=72.0,
        p90_hours_to_appointment=72.0,
        sms_sent=1,
        sms_delivered=1,
        gap_hours=MARCH + APRIL,
        required_requested=1,  # 5, not the cancelled 4
        required_completed=1,
        engaged=1,
    ),
    "perry-barr": figures(
        bookings=3,
        initial=1,
        voluntary=2,
        left_early=1,
        rearranged=1,
        awaiting_outcome=1,
        attendance_rate=0.0,
        police_to_inform=1,
        other_block=2,
        other_block_share=0.667,
        median_hours_to_appointment=30.0,  # 12, 30, 100
        p90_hours_to_appointment=86.0,  # 30 + 0.8 * (100 - 30)
        sms_sent=2,
        sms_delivered=2,
        sms_opted_out=2,
        cover_hours=23.0,
        gap_hours=MARCH + APRIL - 23.0,
        required_requested=1,  # 8, passed with no outcome
        engaged=1,  # 3, voluntary, left early
    ),
    "stechford": figures(
        bookings=4,
        initial=3,
        follow_up=1,
        attended=2,
        did_not_attend=2,
        attendance_rate=0.5,
        police_to_inform=2,
        police_informed=1,
        other_block=2,
        other_block_share=0.5,
        median_hours_to_appointment=24.0,  # 6, 24, 48
        p90_hours_to_appointment=43.2,  # 24 + 0.8 * (48 - 24)
        sms_sent=5,
        sms_delivered=2,
        sms_failed=2,
        cover_hours=34.0,
        gap_hours=MARCH + APRIL - 34.0,
        required_requested=4,  # 1, 2, 6 and 7, whatever their outcome
        required_completed=2,  # 1 and 6
        engaged=2,
    ),
    "wolverhampton": figures(gap_hours=MARCH + APRIL),
}

EXPECTED_BY_MONTH = {
    "2027-03": figures(
        bookings=5,
        initial=3,
        follow_up=1,
        voluntary=1,
        attended=2,
        left_early=1,
        did_not_attend=1,
        cancelled=1,
        rearranged=1,
        attendance_rate=0.5,
        police_to_inform=2,
        police_informed=1,
        other_block=2,
        other_block_share=0.5,
        median_hours_to_appointment=36.0,  # 12, 24, 48, 72
        p90_hours_to_appointment=64.8,  # 48 + 0.7 * (72 - 48)
        sms_sent=5,
        sms_delivered=3,
        sms_failed=2,
        sms_opted_out=2,
        cover_hours=29.0,
        gap_hours=6 * MARCH - 29.0,
        required_requested=3,  # 1, 2 and 5
        required_completed=2,  # 1 and 5
        engaged=3,  # attended 1 and 5; left early 3
    ),
    "2027-04": figures(
        bookings=5,
        initial=3,
        follow_up=1,
        voluntary=1,
        attended=1,
        did_not_attend=1,
        cancelled=1,
        rearranged=2,
        awaiting_outcome=1,
        attendance_rate=0.5,
        police_to_inform=1,
        other_block=3,
        other_block_share=0.75,
        median_hours_to_appointment=30.0,  # 6, 30, 100
        p90_hours_to_appointment=86.0,
        sms_sent=4,
        sms_delivered=2,
        cover_hours=28.0,
        gap_hours=6 * APRIL - 28.0,
        required_requested=3,  # 6, 7 and 8
        required_completed=1,  # 6
        engaged=1,
    ),
}

# The CSV: one row per block and month, every column.
EXPECTED_CSV = """\
block,month,bookings,initial,follow_up,voluntary,attended,left_early,did_not_attend,cancelled,rearranged,awaiting_outcome,attendance_rate,police_to_inform,police_informed,median_hours_to_appointment,p90_hours_to_appointment,other_block,other_block_share,sms_sent,sms_delivered,sms_failed,sms_opted_out,cover_hours,gap_hours,suitability_requested,suitability_completed,suitability_adjournments,suitable_drr,suitable_atr,drr_made,atr_made,drr_granted,drr_granted_share,atr_granted,atr_granted_share,on_site_required,on_site_voluntary,contacts,engaged,required_requested,required_completed,voluntary_assessments,referrals,entries,non_conversion_did_not_attend,non_conversion_declined,non_conversion_unable_to_contact,non_conversion_moved_away,non_conversion_custody,non_conversion_provider_declined,non_conversion_died,non_conversion_already_in_treatment,non_conversion_other,cases_closed,naloxone_issued,harm_reduction_given
bloxwich,2027-03,0,0,0,0,0,0,0,0,0,0,,0,0,,,0,,0,0,0,0,0.0,743.0,0,0,0,0,0,0,0,0,,0,,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
bloxwich,2027-04,0,0,0,0,0,0,0,0,0,0,,0,0,,,0,,0,0,0,0,0.0,720.0,0,0,0,0,0,0,0,0,,0,,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
coventry,2027-03,0,0,0,0,0,0,0,0,0,0,,0,0,,,0,,0,0,0,0,0.0,743.0,0,0,0,0,0,0,0,0,,0,,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
coventry,2027-04,1,1,0,0,0,0,0,1,1,0,,0,0,,,0,,1,0,0,0,0.0,720.0,0,0,0,0,0,0,0,0,,0,,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
oldbury,2027-03,2,1,1,0,1,0,0,1,1,0,1.0,0,0,72.0,72.0,1,1.0,1,1,0,0,0.0,743.0,0,0,0,0,0,0,0,0,,0,,0,0,0,1,1,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
oldbury,2027-04,0,0,0,0,0,0,0,0,0,0,,0,0,,,0,,0,0,0,0,0.0,720.0,0,0,0,0,0,0,0,0,,0,,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
perry-barr,2027-03,1,0,0,1,0,1,0,0,0,0,0.0,1,0,12.0,12.0,0,0.0,0,0,0,2,10.0,733.0,0,0,0,0,0,0,0,0,,0,,0,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
perry-barr,2027-04,2,1,0,1,0,0,0,0,1,1,,0,0,65.0,93.0,2,1.0,2,2,0,0,13.0,707.0,0,0,0,0,0,0,0,0,,0,,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
stechford,2027-03,2,2,0,0,1,0,1,0,0,0,0.5,1,1,36.0,45.6,1,0.5,4,2,2,0,19.0,724.0,0,0,0,0,0,0,0,0,,0,,0,0,0,1,2,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
stechford,2027-04,2,1,1,0,1,0,1,0,0,0,0.5,1,0,6.0,6.0,1,0.5,1,0,0,0,15.0,705.0,0,0,0,0,0,0,0,0,,0,,0,0,0,1,2,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
wolverhampton,2027-03,0,0,0,0,0,0,0,0,0,0,,0,0,,,0,,0,0,0,0,0.0,743.0,0,0,0,0,0,0,0,0,,0,,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
wolverhampton,2027-04,0,0,0,0,0,0,0,0,0,0,,0,0,,,0,,0,0,0,0,0.0,720.0,0,0,0,0,0,0,0,0,,0,,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
"""  # noqa: E501


@pytest.fixture
def known(team, clock):
    make_known_period()
    clock.set(NOW)


def build(**options) -> reports.Report:
    return reports.build(START, END, NOW, **options)


def as_dicts(groups: dict) -> dict:
    return {key: figures.as_dict() for key, figures in groups.items()}


def csv_text(report: reports.Report) -> str:
    lines = [",".join(reports.CSV_COLUMNS)]
    for row in reports.csv_rows(report):
        lines.append(",".join("" if value is None else str(value) for value in row.values()))
    return "\n".join(lines) + "\n"


# The figures ---------------------------------------------------------------------------------


def test_every_figure_of_the_period_in_total(known):
    assert build().total.as_dict() == EXPECTED_TOTAL


def test_every_figure_of_each_block(known):
    assert as_dicts(build().by_block) == EXPECTED_BY_BLOCK


def test_every_figure_of_each_month(known):
    assert as_dicts(build().by_month) == EXPECTED_BY_MONTH


def test_csv_rows_give_every_figure_of_each_block_and_month_in_column_order(known):
    report = build()
    rows = reports.csv_rows(report)
    assert [list(row) for row in rows] == [reports.CSV_COLUMNS] * 12
    assert csv_text(report) == EXPECTED_CSV


def test_blocks_and_months_add_up_to_the_total(known):
    report = build()
    for name, value in EXPECTED_TOTAL.items():
        if isinstance(value, int) and not isinstance(value, bool):
            assert sum(f.as_dict()[name] for f in report.by_block.values()) == value, name
            assert sum(f.as_dict()[name] for f in report.by_month.values()) == value, name
            assert sum(f.as_dict()[name] for f in report.rows.values()) == value, name


def test_a_period_that_ends_before_it_starts_counts_nothing(known):
    report = reports.build(dt.date(2027, 4, 30), dt.date(2027, 3, 1), NOW)
    assert report.total.bookings == 0
    assert report.rows == {}


def test_the_database_settings_of_a_report_are_put_back_after_it(known):
    def settings():
        if db.engine.dialect.name != "postgresql":
            return None
        return db.session.execute(
            select(
                func.current_setting("jit"),
                func.current_setting("work_mem"),
                func.current_setting("random_page_cost"),
            )
        ).one()

    before = settings()
    build()
    assert settings() == before


def test_an_appointment_counts_by_its_local_date_at_both_ends_of_the_period(known):
    """00:30 on 1 April (BST) is 31 March in UTC: April. 00:30 on 1 May is 30 April in UTC:
    outside the period. 23:30 on 28 February is before it."""
    report = build()
    assert report.rows[("stechford", "2027-04")].attended == 1
    assert report.total.attended == 3
    may = reports.build(dt.date(2027, 5, 1), dt.date(2027, 5, 1), NOW)
    assert may.total.bookings == may.total.attended == 1
    february = reports.build(dt.date(2027, 2, 28), dt.date(2027, 2, 28), NOW)
    assert february.total.bookings == february.total.attended == 1


def test_attendance_rate_is_attended_out_of_those_with_an_outcome(known):
    report = build()
    assert report.total.attendance_rate == 0.5
    assert report.by_block["oldbury"].attendance_rate == 1.0
    assert report.by_block["perry-barr"].attendance_rate == 0.0
    assert report.by_block["coventry"].attendance_rate is None  # no outcome: no rate


def test_hours_from_test_to_appointment_leave_out_follow_ups_and_cancellations(known):
    """A follow-up keeps the first test's time, so 400 or 500 hours would say nothing of how
    soon people are seen; a cancelled appointment was never kept."""
    report = build()
    # 6, 12, 24, 30, 48, 72 and 100 hours: not the follow-ups' 400 and 500, nor cancelled 20.
    assert report.total.median_hours_to_appointment == 30.0
    assert report.total.p90_hours_to_appointment == 83.2
    # Stechford in April: 6 hours, and a follow-up's 400 left out.
    april = report.rows[("stechford", "2027-04")]
    assert (april.median_hours_to_appointment, april.p90_hours_to_appointment) == (6.0, 6.0)
    assert report.by_block["coventry"].median_hours_to_appointment is None  # only cancelled


def test_share_booked_at_another_block_is_of_appointments_not_cancelled(known):
    report = build()
    assert (report.total.other_block, report.total.bookings - report.total.cancelled) == (5, 8)
    assert report.total.other_block_share == 0.625


def test_awaiting_outcome_is_a_passed_appointment_with_none_recorded(known):
    report = build()
    assert report.total.awaiting_outcome == 1  # the 14 April one; 25 April is still to come
    later = reports.build(START, END, local(2027, 5, 3, 9, 0))
    assert later.total.awaiting_outcome == 2


def test_police_to_be_informed_are_non_attendances_and_informed_are_those_told(known):
    total = build().total
    assert (total.police_to_inform, total.police_informed) == (3, 1)


def test_sms_figures_count_messages_taken_delivered_failed_and_stopped_by_an_opt_out(known):
    total = build().total
    assert (total.sms_sent, total.sms_delivered, total.sms_failed, total.sms_opted_out) == (
        9,
        5,
        2,
        2,
    )


def test_one_block_by_appointment_block(known):
    report = build(block_code="stechford")
    assert report.total.as_dict() == EXPECTED_BY_BLOCK["stechford"]
    assert list(report.by_block) == ["stechford"]
    assert sorted(report.rows) == [("stechford", "2027-03"), ("stechford", "2027-04")]


def test_counting_by_arrest_block_groups_appointments_where_people_were_arrested(known):
    report = build(block_by=reports.BY_ARREST_BLOCK)
    assert {code: f.bookings for code, f in report.by_block.items()} == {
        "bloxwich": 0,
        "coventry": 2,
        "oldbury": 2,
        "perry-barr": 2,
        "stechford": 4,
        "wolverhampton": 0,
    }
    assert report.total.as_dict() == EXPECTED_TOTAL  # the same appointments, grouped otherwise


def test_one_block_by_arrest_block_counts_its_arrests_with_its_own_cover(known):
    report = build(block_code="stechford", block_by=reports.BY_ARREST_BLOCK)
    # Appointments 1, 5, 6 and 8: people arrested at Stechford, seen at three blocks.
    assert report.total.as_dict() == figures(
        bookings=4,
        initial=4,
        attended=3,
        rearranged=2,
        awaiting_outcome=1,
        attendance_rate=1.0,
        other_block=2,
        other_block_share=0.5,
        median_hours_to_appointment=27.0,  # 6, 24, 30, 72
        p90_hours_to_appointment=59.4,  # 30 + 0.7 * (72 - 30)
        sms_sent=4,
        sms_delivered=3,
        cover_hours=34.0,
        gap_hours=MARCH + APRIL - 34.0,
        required_requested=4,  # all initial, none cancelled
        required_completed=3,  # 1, 5 and 6
        engaged=3,
    )


# Cover and gaps ------------------------------------------------------------------------------


def cover(code: str, start: dt.date, end: dt.date) -> tuple[float, float]:
    figures = reports.build(start, end, NOW, code).total
    return figures.cover_hours, figures.gap_hours


def test_cover_is_the_union_of_shifts_and_the_rest_of_the_month_is_gap(known):
    # 2 (from 28 February), 13 (two workers on the 3rd count once), 4 (to midnight on the 31st)
    assert cover("stechford", dt.date(2027, 3, 1), dt.date(2027, 3, 31)) == (19.0, 724.0)
    assert cover("stechford", dt.date(2027, 4, 1), dt.date(2027, 4, 30)) == (15.0, 705.0)


def test_march_2027_has_743_hours_and_an_overnight_shift_across_the_change_lasts_10(known):
    hours = cover("perry-barr", dt.date(2027, 3, 1), dt.date(2027, 3, 31))
    assert hours == (10.0, 733.0)
    assert sum(hours) == 743
    # The day of the change has 23 hours; 6 of them (00:00 GMT to 07:00 BST) were covered.
    assert cover("perry-barr", dt.date(2027, 3, 28), dt.date(2027, 3, 28)) == (6.0, 17.0)


def test_october_2027_has_745_hours_and_an_overnight_shift_across_the_change_lasts_13(team):
    worker = db.session.scalar(select(Worker).where(Worker.name == "Grace Okafor"))
    db.session.add(
        Shift(
            worker=worker,
            block=worker.home_block,
            starts_at=local(2027, 10, 30, 20, 0),  # BST
            ends_at=local(2027, 10, 31, 8, 0),  # GMT: 12 hours on the wall clock
            generated=False,
        )
    )
    db.session.commit()
    hours = cover("coventry", dt.date(2027, 10, 1), dt.date(2027, 10, 31))
    assert hours == (13.0, 732.0)
    assert sum(hours) == 745
    # The day of the change has 25 hours; 9 of them (00:00 BST to 08:00 GMT) were covered.
    assert cover("coventry", dt.date(2027, 10, 31), dt.date(2027, 10, 31)) == (9.0, 16.0)


def test_rostered_weekday_cover_at_a_block_without_weekend_cover(team, clock):
    """The rota's own shifts: 07:00-20:00 on the 21 working days of March 2027 at Stechford.
    Good Friday (26 March) and Easter Monday (29 March) are bank holidays, kept as Sundays:
    no cover there."""
    from booking.rota import generate as rota

    rota.generate(dt.date(2027, 3, 1), dt.date(2027, 3, 31), now=clock())
    db.session.commit()
    assert cover("stechford", dt.date(2027, 3, 1), dt.date(2027, 3, 31)) == (273.0, 470.0)


# Retention -----------------------------------------------------------------------------------


def test_figures_are_unchanged_after_the_retention_purge(known, clock):
    before = build()
    clock.set(local(2028, 1, 10, 3, 0))
    purged = retention.purge(clock(), 90)
    # All twelve: concluded, cancelled, and the two never concluded, whose time is long past.
    assert purged == 12
    names = db.session.scalars(select(Booking.person_name).order_by(Booking.reference)).all()
    assert names.count(None) == 12
    after = build()
    assert after.total.as_dict() == before.total.as_dict() == EXPECTED_TOTAL
    assert as_dicts(after.by_block) == as_dicts(before.by_block)
    assert as_dicts(after.by_month) == as_dicts(before.by_month)
    assert csv_text(after) == csv_text(before) == EXPECTED_CSV


# The API -------------------------------------------------------------------------------------

CONTRACT_KEYS = {
    "bookings",
    "attended",
    "left_early",
    "did_not_attend",
    "cancelled",
    "rearranged",
    "sms_sent",
    "sms_delivered",
    "sms_failed",
}


def kpi(client, token: str, **params):
    return client.get(KPI, query_string=params, headers=auth(token))


def only_figures(body: dict) -> dict:
    return {key: body[key] for key in ZERO}


def test_kpi_gives_the_contracts_keys_and_every_figure(known, client, tokens):
    body = kpi(client, tokens[Role.ANALYST], **PERIOD).get_json()
    assert set(body) >= CONTRACT_KEYS
    assert {key: body[key] for key in CONTRACT_KEYS} == {
        "bookings": 10,
        "attended": 3,
        "left_early": 1,
        "did_not_attend": 2,
        "cancelled": 2,
        "rearranged": 3,
        "sms_sent": 9,
        "sms_delivered": 5,
        "sms_failed": 2,
    }
    assert only_figures(body) == EXPECTED_TOTAL
    assert (body["start"], body["end"], body["block"], body["block_by"]) == (
        "2027-03-01",
        "2027-04-30",
        None,
        "appointment",
    )
    assert body["by_block"] == EXPECTED_BY_BLOCK
    assert body["by_month"] == EXPECTED_BY_MONTH


def test_kpi_for_one_block_by_appointment_or_by_arrest(known, client, tokens):
    token = tokens[Role.COORDINATOR]
    seen_there = kpi(client, token, block="stechford", **PERIOD).get_json()
    assert only_figures(seen_there) == EXPECTED_BY_BLOCK["stechford"]
    arrested_there = kpi(client, token, block="stechford", block_by="arrest", **PERIOD).get_json()
    assert (arrested_there["bookings"], arrested_there["attended"]) == (4, 3)
    assert arrested_there["did_not_attend"] == 0
    assert list(arrested_there["by_block"]) == ["stechford"]


def test_kpi_defaults_to_this_month_so_far(known, client, tokens):
    body = kpi(client, tokens[Role.ANALYST]).get_json()
    assert (body["start"], body["end"]) == ("2027-04-01", "2027-04-20")
    assert body["bookings"] == 3  # 1, 12 and 14 April
    assert list(body["by_month"]) == ["2027-04"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"start": "2027-13-01"}, "start"),
        ({"start": "1 March 2027"}, "start"),
        ({"end": "2027-02-30"}, "end"),
        ({"start": "2027-04-30", "end": "2027-03-01"}, "end"),
        ({"start": "2025-01-01", "end": "2027-04-30"}, "end"),
        ({"start": "9999-12-30", "end": "9999-12-31"}, "start"),
        ({"block_by": "worker"}, "block_by"),
    ],
)
def test_kpi_refuses_bad_dates_and_parameters_with_400(known, client, tokens, params, field):
    response = kpi(client, tokens[Role.ANALYST], **params)
    assert response.status_code == 400
    assert field in response.get_json()["errors"]


def test_kpi_for_an_unknown_block_is_404(known, client, tokens):
    response = kpi(client, tokens[Role.ANALYST], block="birmingham-central", **PERIOD)
    assert response.status_code == 404
    assert response.get_json()["error"]


@pytest.mark.parametrize(
    "role, status",
    [
        (Role.COORDINATOR, 200),
        (Role.ANALYST, 200),
        (Role.SERGEANT, 403),
        (Role.WORKER, 403),
    ],
)
def test_kpi_is_for_coordinators_and_analysts(known, client, tokens, role, status):
    assert kpi(client, tokens[role], **PERIOD).status_code == status


def test_kpi_without_a_token_is_401(known, client):
    response = client.get(KPI, query_string=PERIOD)
    assert response.status_code == 401
    assert client.get(KPI, headers=auth("not-a-token")).status_code == 401


def test_kpi_carries_no_personal_data(known, client, tokens):
    text = kpi(client, tokens[Role.ANALYST], **PERIOD).get_data(as_text=True)
    for value in PERSONAL:
        assert value not in text
    assert "RPT0" not in text  # nor a booking reference


def test_a_booking_made_texted_and_attended_through_the_service_is_counted(
    app, client, tokens, rostered, clock
):
    """The real write paths: the API books, the dispatcher sends, a coordinator records."""
    sergeant, coordinator = auth(tokens[Role.SERGEANT]), auth(tokens[Role.COORDINATOR])
    slot = client.get("/api/v1/slots", query_string={"limit": 1}, headers=sergeant).get_json()[0]
    made = client.post("/api/v1/bookings", json=booking_body(slot), headers=sergeant)
    assert made.status_code == 201, made.get_json()
    reference = made.get_json()["reference"]
    result = app.test_cli_runner().invoke(args=["reminders", "dispatch"])
    assert result.exit_code == 0, result.output

    clock.set(dt.datetime.fromisoformat(slot["starts_at"]) + dt.timedelta(minutes=10))
    recorded = client.post(
        f"/api/v1/bookings/{reference}/outcome", json={"outcome": "attended"}, headers=coordinator
    )
    assert recorded.status_code == 200, recorded.get_json()

    body = kpi(client, tokens[Role.ANALYST], start="2027-01-01", end="2027-01-31").get_json()
    assert {key: body[key] for key in CONTRACT_KEYS} == {
        "bookings": 1,
        "attended": 1,
        "left_early": 0,
        "did_not_attend": 0,
        "cancelled": 0,
        "rearranged": 0,
        "sms_sent": 1,
        "sms_delivered": 0,
        "sms_failed": 0,
    }
    assert body["attendance_rate"] == 1.0
    assert body["by_block"][slot["block"]]["attended"] == 1
