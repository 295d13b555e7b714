"""A year of invented on-site assessments and contacts, and what followed the demo's
assessments: harm reduction, referral into treatment, entry or the reason there was none, and
the case's closure.

So that the year summary and the figures' charts have a year to show, at about the scale the
service publishes (some sixteen thousand people engaged a year). Coded facts and dates only:
neither table holds anything personal. Thousands of rows are too many to write one at a time
and still load the demo in seconds, so most are written in bulk with values the domain would
accept; a sample of the pathways goes through the domain's own write path, step by step at the
times the steps happened, as a worker would have recorded them.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import insert, select

from .. import places
from ..appointments.references import new_reference
from ..clock import LONDON, local_instant
from ..extensions import db
from ..models import (
    Block,
    Booking,
    BookingStatus,
    ClosureReason,
    Entry,
    Naloxone,
    NonConversionReason,
    OnSiteAssessment,
    OnSiteKind,
    Pathway,
    PlaceKind,
    ReferralArea,
    Requirement,
    SuitabilityAssessment,
    SuitabilityStatus,
    User,
)
from ..pathway import pathways
from ..rota import generate as rota
from ..workdays import is_working_day

HISTORY_DAYS = 365
# Pathways written through pathways.record; the rest are written in bulk.
RECORDED_THROUGH_DOMAIN = 200

# Assessments and contacts on site in a day, on average: the busy blocks see most people.
HIGH_ACTIVITY_DAY, WEEKEND_DAY, BLOCK_DAY, COURT_DAY = 7.5, 5.0, 5.0, 3.0
# Busier in the winter months, quieter in the summer holidays.
SEASON = {1: 1.1, 2: 1.05, 3: 1.0, 4: 0.95, 5: 1.0, 6: 0.95, 7: 0.9, 8: 0.8, 9: 1.0}
SEASON |= {10: 1.05, 11: 1.1, 12: 1.0}
KINDS = [
    OnSiteKind.REQUIRED_INITIAL,
    OnSiteKind.REQUIRED_FOLLOW_UP,
    OnSiteKind.VOLUNTARY,
    OnSiteKind.CONTACT_ONLY,
]
# Most people seen in custody are a contact only; at court, fewer are tested on arrest.
BLOCK_KINDS = [18, 5, 6, 71]
COURT_KINDS = [4, 2, 14, 80]

# Of each kind of assessment, the share whose pathway is recorded.
WITH_PATHWAY = {"assessment": 0.85, "contact": 0.12}
NALOXONE = ([*Naloxone, None], [25, 15, 15, 30, 15])
HARM_REDUCTION = ([True, False, None], [6, 3, 1])
# Referred into treatment, not referred, or not yet recorded.
REFERRED = {"assessment": [45, 42, 13], "contact": [5, 70, 25]}
REFERRED_LATER = 0.2
# Where the person lives, mostly the area the place serves.
HOME_AREA = {
    "perry-barr": ReferralArea.BIRMINGHAM,
    "stechford": ReferralArea.BIRMINGHAM,
    "oldbury": ReferralArea.SANDWELL,
    "coventry": ReferralArea.COVENTRY,
    "wolverhampton": ReferralArea.WOLVERHAMPTON,
    "bloxwich": ReferralArea.WALSALL,
    "birmingham-magistrates": ReferralArea.BIRMINGHAM,
    "coventry-magistrates": ReferralArea.COVENTRY,
    "wolverhampton-magistrates": ReferralArea.WOLVERHAMPTON,
    "walsall-magistrates": ReferralArea.WALSALL,
    "dudley-magistrates": ReferralArea.DUDLEY,
}
HOME = 0.7
# What the treatment service says in the end, and how long it takes to say it. Some never say,
# so that the follow-through list has referrals long overdue as well as recent ones.
OUTCOMES = ([Entry.ENTERED, Entry.NOT_CONVERTED, None], [55, 35, 10])
OUTCOME_DAYS = range(3, 36)
NON_CONVERSION = (list(NonConversionReason), [22, 16, 20, 6, 10, 5, 1, 8, 4])
CLOSED = 0.8
CLOSURES = {
    Entry.ENTERED: ([ClosureReason.TREATMENT_ENTERED, ClosureReason.TRANSFERRED], [9, 1]),
    Entry.NOT_CONVERTED: (
        [
            ClosureReason.DISENGAGED,
            ClosureReason.CUSTODY,
            ClosureReason.TRANSFERRED,
            ClosureReason.NO_FURTHER_ACTION,
            ClosureReason.OTHER,
        ],
        [4, 2, 1, 2, 1],
    ),
    "not_referred": (
        [ClosureReason.NO_FURTHER_ACTION, ClosureReason.OTHER, ClosureReason.CUSTODY],
        [8, 1, 1],
    ),
}
CLOSURE_DAYS = {Entry.ENTERED: range(14, 91), Entry.NOT_CONVERTED: range(0, 21)}
CLOSURE_DAYS["not_referred"] = range(0, 15)
# A referral the service never answers is closed with no further action after a while.
UNANSWERED_CLOSED_AFTER = range(60, 120)


@dataclass(frozen=True)
class Subject:
    """An assessment a pathway may follow, as the pathway's row needs it."""

    reference: str
    column: str  # the pathway's column naming it
    id: int
    place_id: int
    place_code: str
    assessed_at: dt.datetime
    contact: bool

    @property
    def assessed_on(self) -> dt.date:
        return self.assessed_at.astimezone(LONDON).date()


@dataclass
class Plan:
    """A pathway as it was recorded: each step's time and the fields it gave."""

    subject: Subject
    steps: list[tuple[dt.datetime, dict]]


def load(now: dt.datetime, worker_user: User) -> int:
    """Add the year once; 0 when there are already on-site assessments."""
    if db.session.scalar(select(OnSiteAssessment.id).limit(1)):
        return 0
    rng = random.Random(2029)
    made = _on_site_year(rng, now, worker_user)
    subjects = _subjects(rng)
    plans = [what_followed(rng, subject, now) for subject in subjects]
    plans = [p for p in plans if p.steps]
    through_domain = rng.sample(range(len(plans)), k=min(RECORDED_THROUGH_DOMAIN, len(plans)))
    for index in sorted(through_domain):
        _record(plans[index], worker_user)
    chosen = set(through_domain)
    rows = [pathway_row(p, worker_user.id) for i, p in enumerate(plans) if i not in chosen]
    if rows:
        db.session.execute(insert(Pathway), rows)
    db.session.flush()
    return made + len(plans)


def _on_site_year(rng: random.Random, now: dt.datetime, worker_user: User) -> int:
    """Assessments and contacts in each place's hours over the year: weekdays at every block
    and court, weekends and bank holidays at the busy blocks too."""
    since = now - dt.timedelta(days=HISTORY_DAYS)
    today = now.astimezone(LONDON).date()
    taken = _references_taken()
    every_place = [*places.blocks_by_code(), *places.courts_by_code()]
    rows = []
    for day in rota.dates(since.astimezone(LONDON).date(), today):
        for place in every_place:
            for window in rota.cover_windows(place, day):
                minutes = int((window.ends_at - window.starts_at).total_seconds() // 60)
                for _ in range(_how_many(rng, _mean(place, day))):
                    assessed_at = window.starts_at + dt.timedelta(minutes=rng.randrange(minutes))
                    if not since <= assessed_at <= now:
                        continue
                    weights = COURT_KINDS if place.kind == PlaceKind.COURT else BLOCK_KINDS
                    rows.append(
                        {
                            "reference": _reference(rng, taken),
                            "place_id": place.id,
                            "kind": rng.choices(KINDS, weights)[0],
                            "assessed_at": assessed_at,
                            "recorded_at": min(
                                assessed_at + dt.timedelta(minutes=rng.randint(5, 40)), now
                            ),
                            "recorded_by_id": worker_user.id,
                        }
                    )
    rows.sort(key=lambda row: row["assessed_at"])
    if rows:
        db.session.execute(insert(OnSiteAssessment), rows)
    return len(rows)


def _mean(place: Block, day: dt.date) -> float:
    if place.kind == PlaceKind.COURT:
        mean = COURT_DAY
    elif place.high_activity:
        mean = HIGH_ACTIVITY_DAY if is_working_day(day) else WEEKEND_DAY
    else:
        mean = BLOCK_DAY
    return mean * SEASON[day.month]


def _how_many(rng: random.Random, mean: float) -> int:
    """A day's number, spread about the mean (from nought to twice it)."""
    return int(rng.uniform(0, 2 * mean) + rng.random())


def _references_taken() -> set[str]:
    taken = set(db.session.scalars(select(Booking.reference)))
    taken |= set(db.session.scalars(select(SuitabilityAssessment.reference)))
    return taken


def _reference(rng: random.Random, taken: set[str]) -> str:
    """A reference in the service's form, from the demo's own random numbers (so the demo is
    the same each time), that names nothing else."""
    while True:
        reference = new_reference(rng.choice)
        if reference not in taken:
            taken.add(reference)
            return reference


def _subjects(rng: random.Random) -> list[Subject]:
    """The assessments whose pathway is recorded: a share of the attended appointments (those
    for a suitability assessment count once, as the completed assessment), of the on-site
    assessments and contacts, and of the completed suitability assessments."""
    codes = dict(db.session.execute(select(Block.id, Block.code)).all())
    has_pathway = set(db.session.scalars(select(Pathway.reference)))
    found = []
    bookings = db.session.execute(
        select(Booking.reference, Booking.id, Booking.block_id, Booking.starts_at)
        .where(
            Booking.status == BookingStatus.ATTENDED,
            Booking.requirement != Requirement.SUITABILITY,
        )
        .order_by(Booking.id)
    )
    found += [Subject(r, "booking_id", i, p, codes[p], at, False) for r, i, p, at in bookings]
    on_site = db.session.execute(
        select(
            OnSiteAssessment.reference,
            OnSiteAssessment.id,
            OnSiteAssessment.place_id,
            OnSiteAssessment.assessed_at,
            OnSiteAssessment.kind,
        ).order_by(OnSiteAssessment.id)
    )
    found += [
        Subject(r, "on_site_assessment_id", i, p, codes[p], at, kind == OnSiteKind.CONTACT_ONLY)
        for r, i, p, at, kind in on_site
    ]
    completed = db.session.execute(
        select(
            SuitabilityAssessment.reference,
            SuitabilityAssessment.id,
            SuitabilityAssessment.court_id,
            SuitabilityAssessment.completed_at,
        )
        .where(SuitabilityAssessment.status == SuitabilityStatus.COMPLETED)
        .order_by(SuitabilityAssessment.id)
    )
    found += [
        Subject(r, "suitability_assessment_id", i, p, codes[p], at, False)
        for r, i, p, at in completed
    ]
    return [
        subject
        for subject in found
        if subject.reference not in has_pathway
        and rng.random() < WITH_PATHWAY["contact" if subject.contact else "assessment"]
    ]


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    """A time in the working day, when a worker would record what they heard."""
    return local_instant(day, dt.time(rng.randint(9, 16), rng.randrange(0, 60, 5)), LONDON)


def what_followed(rng: random.Random, subject: Subject, until: dt.datetime) -> Plan:
    """What followed the assessment, step by step, as far as it had got by `until`."""
    steps: list[tuple[dt.datetime, dict]] = []

    def step(at: dt.datetime, **changes) -> bool:
        if steps:
            # Never before the step it follows, though it be the same day.
            at = max(at, steps[-1][0] + dt.timedelta(minutes=rng.randint(5, 30)))
        if at > until:
            return False
        steps.append((at, changes))
        return True

    kind = "contact" if subject.contact else "assessment"
    first = {
        "naloxone": rng.choices(*NALOXONE)[0],
        "harm_reduction": rng.choices(*HARM_REDUCTION)[0],
    }
    referred = rng.choices([True, False, None], REFERRED[kind])[0]
    recorded_at = subject.assessed_at + dt.timedelta(minutes=rng.randint(35, 120))
    if referred is False:
        first["referred"] = False
    referral = None
    if referred:
        area = HOME_AREA.get(subject.place_code) if rng.random() < HOME else None
        referral = {
            "referred": True,
            "referral_area": area or rng.choice(list(ReferralArea)),
            "entry": Entry.AWAITING if rng.random() < 0.8 else None,
        }
    if referral and rng.random() >= REFERRED_LATER:
        first |= referral | {"referred_on": subject.assessed_on}
        referral = None
    if not step(recorded_at, **first):
        return Plan(subject, [])
    referred_on = subject.assessed_on
    if referral:
        referred_on += dt.timedelta(days=rng.randint(1, 5))
        if not step(_at(referred_on, rng), **referral, referred_on=referred_on):
            return Plan(subject, steps)

    if referred is None:
        # Nothing more was heard: some cases are closed with no further action.
        if rng.random() < 0.5:
            day = subject.assessed_on + dt.timedelta(days=rng.choice(UNANSWERED_CLOSED_AFTER))
            _close(rng, step, day, ClosureReason.NO_FURTHER_ACTION)
        return Plan(subject, steps)
    if referred is False:
        day = subject.assessed_on + dt.timedelta(days=rng.choice(CLOSURE_DAYS["not_referred"]))
        if rng.random() < CLOSED:
            _close(rng, step, day, rng.choices(*CLOSURES["not_referred"])[0])
        return Plan(subject, steps)

    outcome = rng.choices(*OUTCOMES)[0]
    heard_on = referred_on + dt.timedelta(days=rng.choice(OUTCOME_DAYS))
    if outcome is None:
        if rng.random() < 0.5:
            day = referred_on + dt.timedelta(days=rng.choice(UNANSWERED_CLOSED_AFTER))
            _close(rng, step, day, ClosureReason.NO_FURTHER_ACTION)
        return Plan(subject, steps)
    if outcome == Entry.ENTERED:
        entered_on = max(referred_on, heard_on - dt.timedelta(days=rng.randint(0, 3)))
        heard = step(_at(heard_on, rng), entry=Entry.ENTERED, entered_on=entered_on)
    else:
        reason = rng.choices(*NON_CONVERSION)[0]
        heard = step(_at(heard_on, rng), entry=Entry.NOT_CONVERTED, non_conversion_reason=reason)
    if heard and rng.random() < CLOSED:
        day = heard_on + dt.timedelta(days=rng.choice(CLOSURE_DAYS[outcome]))
        _close(rng, step, day, rng.choices(*CLOSURES[outcome])[0])
    return Plan(subject, steps)


def _close(rng: random.Random, step, day: dt.date, reason: str) -> None:
    step(_at(day, rng), closed_on=day, closure_reason=reason)


def _record(plan: Plan, worker_user: User) -> None:
    """The pathway through the domain, each step when it happened."""
    found = pathways.assessment(plan.subject.reference)
    for at, changes in plan.steps:
        pathways.record(found, changes, by=worker_user, now=at)


def pathway_row(plan: Plan, updated_by_id: int) -> dict:
    """The pathway's row as the domain would have left it after the plan's steps (the
    benchmarks' data set is made of these too)."""
    subject = plan.subject
    values = pathways.values_of(None)
    not_converted_on = None
    for at, changes in plan.steps:
        values |= changes
        if "entry" in changes:
            # As the domain keeps it: the day the referral was found not to have converted.
            not_converted = changes["entry"] == Entry.NOT_CONVERTED
            not_converted_on = at.astimezone(LONDON).date() if not_converted else None
    return {
        "reference": subject.reference,
        "booking_id": None,
        "on_site_assessment_id": None,
        "suitability_assessment_id": None,
        subject.column: subject.id,
        "place_id": subject.place_id,
        "assessed_on": subject.assessed_on,
        **values,
        "not_converted_on": not_converted_on,
        "created_at": plan.steps[0][0],
        "updated_at": plan.steps[-1][0],
        "updated_by_id": updated_by_id,
    }
