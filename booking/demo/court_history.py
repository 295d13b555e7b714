"""Three months of invented court work for the demo, and a few requests still to be seen.

Suitability assessments asked for by probation, the bench, defence and workers, in custody
and at court: results, assessments not completed and why, adjournments with appointments
booked before the adjourned hearing, the appointments' outcomes, and sentences. Each step is
written through the domain (booking.court.suitability, the booking path, outcomes) with the
time it happened as its `now`, so the records obey the same rules, and leave the same audit
trail, as ones recorded on the day; nothing is recorded that would happen after the load.
Then a handful of requests at each court for today and the next sitting days, so the court
duty list has something to show.

The people are invented and their numbers are Ofcom's drama numbers. Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from .. import places, settings
from ..appointments import outcomes
from ..appointments.slots import SlotRules, free_slots
from ..clock import LONDON, local_instant, local_midnight
from ..court import suitability
from ..errors import SlotTaken
from ..extensions import db
from ..models import (
    Block,
    Booking,
    BookingStatus,
    Finding,
    MessageStatus,
    NotCompletedReason,
    RequestedBy,
    SentenceOutcome,
    Session,
    Setting,
    SuitabilityAssessment,
    SuitabilityStatus,
    User,
)
from ..sms import outbox
from ..sms.reminders import ReminderPolicy
from ..workdays import nth_working_day_before
from .history import FIRST_NAMES, HISTORY_DAYS, LAST_NAMES

# The custody blocks whose detainees go before each court, and where an adjourned
# assessment's appointment is offered when the person was not arrested in custody.
NEAR_BLOCKS = {
    "birmingham-magistrates": ["perry-barr", "stechford"],
    "coventry-magistrates": ["coventry"],
    "wolverhampton-magistrates": ["wolverhampton"],
    "walsall-magistrates": ["bloxwich"],
    "dudley-magistrates": ["oldbury"],
}
# Requests a sitting day, a little above what the service sees so that each court's month
# has something to chart: Birmingham's list is the busiest.
BUSY_COURT = "birmingham-magistrates"
BUSY_DAY = [0, 1, 1, 2, 2]
QUIET_DAY = [0, 0, 0, 1, 1]
# The sitting days ahead (today's included while its list is still sitting) with requests.
UPCOMING_SITTING_DAYS = 3
LAST_LISTING = dt.time(15, 0)
# An adjournment for an assessment is to a sitting day two to four weeks on.
ADJOURNMENT_DAYS = range(14, 28)
# How each request ends on its hearing day: the assessment done, not done, or adjourned for.
ON_THE_DAY = [("completed", 58), ("not_completed", 14), ("adjourned", 28)]
REQUESTED_BY = {
    Setting.CUSTODY: (
        [RequestedBy.WORKER, RequestedBy.PROBATION, RequestedBy.DEFENCE, RequestedBy.BENCH],
        [4, 3, 2, 1],
    ),
    Setting.COURT: (
        [RequestedBy.BENCH, RequestedBy.PROBATION, RequestedBy.DEFENCE, RequestedBy.WORKER],
        [7, 7, 5, 1],
    ),
}
NOT_COMPLETED = (
    [
        NotCompletedReason.DECLINED,
        NotCompletedReason.NOT_PRODUCED,
        NotCompletedReason.UNFIT,
        NotCompletedReason.NO_TIME,
        NotCompletedReason.OTHER,
    ],
    [3, 2, 2, 2, 1],
)
# Sentences passed where no treatment requirement was made.
OTHER_SENTENCES = (
    [
        SentenceOutcome.OTHER_COMMUNITY_ORDER,
        SentenceOutcome.CUSTODY,
        SentenceOutcome.OTHER,
        SentenceOutcome.NOT_KNOWN,
    ],
    [5, 3, 2, 1],
)
# Of those found suitable, the share who receive the requirement: about what the service
# reports (21% for a DRR, 32% for an ATR).
DRR_MADE, ATR_MADE = 0.22, 0.33


@dataclass
class _Demo:
    """What every step needs: who records, the booking rules, and the moment of the load
    (`until`): nothing later has happened yet."""

    rng: random.Random
    until: dt.datetime
    worker: User
    coordinator: User
    rules: SlotRules
    lead_working_days: int
    reminders: ReminderPolicy
    booked: list[Booking] = field(default_factory=list)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A local wall time on a day (minutes past the hour may run over into later hours)."""
    return local_instant(day, dt.time(hour), LONDON) + dt.timedelta(minutes=minute)


def load(now: dt.datetime, worker_user: User, coordinator: User) -> int:
    """Add the court work once; 0 when there are already suitability assessments."""
    if db.session.scalar(select(SuitabilityAssessment.id).limit(1)):
        return 0
    demo = _Demo(
        rng=random.Random(2028),
        until=now,
        worker=worker_user,
        coordinator=coordinator,
        rules=settings.slot_rules(),
        lead_working_days=settings.suitability_lead_working_days(),
        reminders=ReminderPolicy.from_config(current_app.config),
    )
    courts = places.courts_by_code()
    today = now.astimezone(LONDON).date()
    made = 0
    # Up to today: today's cases too, as far as they have got, and at each court at least
    # one that stays on today's list (not adjourned to another day).
    for day in _dates(today - dt.timedelta(days=HISTORY_DAYS), today):
        if not suitability.is_sitting_day(day):
            continue
        for court in courts:
            cases = demo.rng.choice(BUSY_DAY if court.code == BUSY_COURT else QUIET_DAY)
            if day == today:
                made += _one_case(demo, court, day, may_adjourn=False)
            for _ in range(cases):
                made += _one_case(demo, court, day)
    made += _upcoming(demo, courts, today)
    _settle_messages(demo)
    db.session.flush()
    return made


def _dates(start: dt.date, end: dt.date):
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def _request(
    demo: _Demo, court: Block, hearing: dt.date, requested_at: dt.datetime, setting: str
) -> SuitabilityAssessment:
    rng = demo.rng
    session = rng.choices([Session.AM, Session.PM], [2, 1])[0]
    near = NEAR_BLOCKS.get(court.code) or [b.code for b in places.blocks_by_code()]
    held = setting == Setting.CUSTODY or rng.random() < 0.4
    mobile = f"07700 900{rng.randint(0, 999):03d}" if rng.random() < 0.75 else None
    return suitability.request(
        suitability.SuitabilityRequest(
            court=court.code,
            hearing_date=hearing,
            session=session,
            requested_by=rng.choices(*REQUESTED_BY[Setting(setting)])[0],
            setting=setting,
            arrest_block=rng.choice(near) if held else None,
            custody_record=f"20/{rng.randint(10000, 99999)}/{hearing:%y}",
            person_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            mobile=mobile,
            sms_consent=mobile is not None and rng.random() < 0.85,
        ),
        by=demo.worker,
        now=requested_at,
        allow_test_numbers=True,
    )


def _one_case(demo: _Demo, court: Block, hearing: dt.date, may_adjourn: bool = True) -> int:
    """A request for a hearing, and everything that followed it up to now; 0 when the
    request would come after now."""
    rng = demo.rng
    setting = rng.choices([Setting.CUSTODY, Setting.COURT], [11, 9])[0]
    if setting == Setting.CUSTODY:
        # Held overnight: asked the evening before (the worker spots it), or first thing.
        if rng.random() < 0.3:
            evening_before = hearing - dt.timedelta(days=1)
            requested_at = _at(evening_before, rng.randint(18, 21), rng.randrange(0, 60, 5))
            seen_from = _at(hearing, 7, 30)
        else:
            requested_at = _at(hearing, 7, rng.randrange(0, 135, 5))
            seen_from = requested_at
    else:
        requested_at = _at(hearing, rng.choice([9, 10, 11, 12, 13]), rng.randrange(0, 60, 5))
        seen_from = requested_at
    if requested_at > demo.until:
        return 0
    record = _request(demo, court, hearing, requested_at, setting)

    endings = [(end, weight) for end, weight in ON_THE_DAY if may_adjourn or end != "adjourned"]
    ending = rng.choices(*zip(*endings, strict=True))[0]
    if ending == "completed":
        completed_at = seen_from + dt.timedelta(minutes=rng.randint(30, 100))
        _result(demo, record, completed_at)
    elif ending == "not_completed":
        _not_completed(demo, record, seen_from + dt.timedelta(minutes=rng.randint(45, 180)))
    else:
        _adjourned(demo, record, seen_from, again=True)
    _sentence(demo, record)
    return 1


def _result(demo: _Demo, record: SuitabilityAssessment, completed_at: dt.datetime) -> None:
    """Findings for a DRR, an ATR or both: a suitable finding only with the person willing."""
    rng = demo.rng
    recorded_at = completed_at + dt.timedelta(minutes=rng.randint(5, 25))
    if recorded_at > demo.until:
        return
    assessed = rng.choices(["drr", "atr", "both"], [4, 3, 3])[0]
    findings = {}
    for requirement in ("drr", "atr"):
        if assessed in (requirement, "both"):
            fits = rng.random() < 0.55
            findings[requirement] = Finding.SUITABLE if fits else Finding.NOT_SUITABLE
        else:
            findings[requirement] = Finding.NOT_ASSESSED
    suitable = Finding.SUITABLE in findings.values()
    suitability.record_result(
        record,
        drr=findings["drr"],
        atr=findings["atr"],
        willing=True if suitable else rng.random() < 0.5,
        completed_at=completed_at,
        by=demo.worker,
        now=recorded_at,
    )


def _not_completed(demo: _Demo, record: SuitabilityAssessment, at: dt.datetime) -> None:
    if at <= demo.until:
        reason = demo.rng.choices(*NOT_COMPLETED)[0]
        suitability.record_not_completed(record, reason, by=demo.worker, now=at)


def _hearing_time(demo: _Demo, record: SuitabilityAssessment, day: dt.date) -> dt.datetime:
    """When the case is called on a day: in the session it is listed for."""
    if record.session == Session.AM:
        return _at(day, demo.rng.choice([10, 11, 12]), demo.rng.randrange(0, 60, 5))
    return _at(day, demo.rng.choice([14, 15]), demo.rng.randrange(0, 60, 5))


def _adjourned(
    demo: _Demo, record: SuitabilityAssessment, not_before: dt.datetime, *, again: bool
) -> None:
    """The court adjourns for the assessment, mostly with an appointment booked before the
    adjourned hearing; then the appointment and that hearing, as far as they have happened."""
    rng = demo.rng
    hearing = record.listed_for
    recorded_at = max(_hearing_time(demo, record, hearing), not_before + dt.timedelta(minutes=20))
    if recorded_at > demo.until:
        return
    sitting = [
        hearing + dt.timedelta(days=n)
        for n in ADJOURNMENT_DAYS
        if suitability.is_sitting_day(hearing + dt.timedelta(days=n))
    ]
    adjourned_to = rng.choice(sitting)
    appointment = None
    if rng.random() < 0.8:
        appointment = _free_appointment(demo, record, adjourned_to, recorded_at)
    try:
        adjournment = _adjourn(demo, record, adjourned_to, appointment, recorded_at)
    except SlotTaken:
        adjournment = _adjourn(demo, record, adjourned_to, None, recorded_at)
    booking = adjournment.booking
    if booking is not None:
        demo.booked.append(booking)
        _appointment_kept_or_not(demo, record, booking)
    if record.status != SuitabilityStatus.ADJOURNED:
        return
    called_at = _hearing_time(demo, record, adjourned_to)
    if called_at > demo.until:
        return
    roll = rng.random()
    if again and roll < 0.2:
        _adjourned(demo, record, called_at, again=False)
    elif roll < 0.65:
        _result(demo, record, called_at + dt.timedelta(minutes=rng.randint(30, 90)))
    else:
        _not_completed(demo, record, called_at + dt.timedelta(minutes=rng.randint(20, 60)))


def _adjourn(demo, record, adjourned_to, appointment, recorded_at):
    return suitability.adjourn(
        record,
        adjourned_to,
        appointment,
        by=demo.worker,
        now=recorded_at,
        rules=demo.rules,
        lead_working_days=demo.lead_working_days,
        allow_test_numbers=True,
        reminders=demo.reminders,
    )


def _free_appointment(
    demo: _Demo, record: SuitabilityAssessment, adjourned_to: dt.date, now: dt.datetime
) -> suitability.Appointment | None:
    """A free slot at the person's block (or one near the court) on a day after the hearing
    and at least the lead working days before the adjourned one, as offered at `now`."""
    rng = demo.rng
    first_day = now.astimezone(LONDON).date() + dt.timedelta(days=1)
    last_day = nth_working_day_before(adjourned_to, demo.lead_working_days)
    days = list(_dates(first_day, last_day))
    if record.arrest_block is not None:
        codes = [record.arrest_block.code]
    else:
        codes = NEAR_BLOCKS.get(record.court.code) or [b.code for b in places.blocks_by_code()]
    for day in rng.sample(days, k=min(4, len(days))):
        offered = free_slots(
            demo.rules,
            now,
            after=_at(day, 9),
            before=local_midnight(day + dt.timedelta(days=1)),
            block_codes=codes,
            limit=6,
        )
        if offered:
            slot = rng.choice(offered)
            return suitability.Appointment(slot.block.code, slot.starts_at)
    return None


def _appointment_kept_or_not(demo: _Demo, record: SuitabilityAssessment, booking: Booking) -> None:
    """The appointment's outcome once it is over; the assessment done there if attended."""
    rng = demo.rng
    outcome_at = booking.starts_at + dt.timedelta(minutes=rng.randint(20, 50))
    if outcome_at > demo.until:
        return
    outcome = rng.choices(
        [BookingStatus.ATTENDED, BookingStatus.DID_NOT_ATTEND, BookingStatus.LEFT_EARLY],
        [70, 24, 6],
    )[0]
    outcomes.record_outcome(booking, outcome, by=demo.coordinator, now=outcome_at)
    if outcome == BookingStatus.ATTENDED:
        _result(demo, record, booking.ends_at)


def _sentence(demo: _Demo, record: SuitabilityAssessment) -> None:
    """The sentence, at the last hearing or a later one, once it has been passed; most are
    recorded, some not yet."""
    if record.status not in (SuitabilityStatus.COMPLETED, SuitabilityStatus.NOT_COMPLETED):
        return
    rng = demo.rng
    day = record.listed_for
    if rng.random() < 0.25:
        day += dt.timedelta(days=rng.randint(7, 21))
        while not suitability.is_sitting_day(day):
            day += dt.timedelta(days=1)
    recorded_at = _at(day, rng.choice([15, 16]), rng.randrange(0, 60, 5))
    if recorded_at > demo.until or rng.random() < 0.08:
        return
    drr = record.drr == Finding.SUITABLE
    atr = record.atr == Finding.SUITABLE
    outcome = None
    if drr and atr:
        # Found suitable for both: both requirements, one of them, or neither.
        roll = rng.random()
        if roll < DRR_MADE:
            outcome = SentenceOutcome.DRR_AND_ATR
        elif roll < ATR_MADE:
            outcome = SentenceOutcome.ATR
    elif drr and rng.random() < DRR_MADE:
        outcome = SentenceOutcome.DRR
    elif atr and rng.random() < ATR_MADE:
        outcome = SentenceOutcome.ATR
    outcome = outcome or rng.choices(*OTHER_SENTENCES)[0]
    suitability.record_sentence(record, outcome, day, by=demo.worker, now=recorded_at)


def _upcoming(demo: _Demo, courts: list[Block], today: dt.date) -> int:
    """A few requests at each court for today (while its list still sits) and the next
    sitting days, made in the last hours, still to be seen."""
    rng = demo.rng
    local_now = demo.until.astimezone(LONDON)
    days: list[dt.date] = []
    day = today
    if not suitability.is_sitting_day(today) or local_now.time() >= LAST_LISTING:
        day += dt.timedelta(days=1)
    while len(days) < UPCOMING_SITTING_DAYS:
        if suitability.is_sitting_day(day):
            days.append(day)
        day += dt.timedelta(days=1)
    made = 0
    for day in days:
        for court in courts:
            for _ in range(rng.randint(1, 3)):
                requested_at = demo.until - dt.timedelta(minutes=rng.randint(0, 180))
                setting = rng.choices([Setting.CUSTODY, Setting.COURT], [11, 9])[0]
                _request(demo, court, day, requested_at, setting)
                made += 1
    return made


def _settle_messages(demo: _Demo) -> None:
    """The appointments' texts that fell due before now went out then, as the dispatcher
    would have sent them; those still to come stay queued."""
    rng = demo.rng
    for booking in demo.booked:
        for message in booking.messages:
            if message.status != MessageStatus.PENDING or message.send_at > demo.until:
                continue
            failed = rng.random() < 0.05
            message.status = MessageStatus.FAILED if failed else MessageStatus.DELIVERED
            message.skip_reason = outbox.NOT_DELIVERED if failed else None
            message.attempts = 1
            message.provider_id = f"SMdemo{rng.getrandbits(96):024x}"
            message.sent_at = message.send_at
            message.status_at = message.send_at
