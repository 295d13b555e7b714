"""The demonstration data: the six West Midlands custody blocks, the magistrates' courts, a
team, a rota and users, with their history.

Everything personal here is invented. Running `load` again changes nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from .. import places
from ..accounts.users import create_user, find_by_email
from ..clock import LONDON
from ..errors import InvalidField
from ..extensions import db
from ..models import Block, CoverRule, PlaceKind, Role, SuitabilityAssessment, User, Worker
from ..rota import changes as rota_changes
from ..rota import generate as rota
from . import court_history as demo_court_history
from . import history as demo_history
from . import pathway_history as demo_pathway_history

DEMO_PASSWORD = "demo-password-2026"
DEMO_USERS = [
    ("sergeant@demo.test", Role.SERGEANT),
    ("worker@demo.test", Role.WORKER),
    ("coordinator@demo.test", Role.COORDINATOR),
    ("analyst@demo.test", Role.ANALYST),
]
ROTA_DAYS = 56
WEEKDAYS = range(0, 5)
WEEKEND = (5, 6)
DAY_START, DAY_END = dt.time(7, 0), dt.time(20, 0)

# code, name, address with postcode (to be confirmed with the force before live use), the
# entrance named in texts, the town and postcode named in texts, high activity
BLOCKS = [
    (
        "perry-barr",
        "Perry Barr",
        "Holford Drive, Perry Barr, Birmingham B42 2TU",
        "Holford Drive reception",
        "Birmingham B42 2TU",
        True,
    ),
    (
        "oldbury",
        "Oldbury",
        "Bromford Road, Oldbury B69 3AN",
        "Bromford Road reception",
        "Oldbury B69 3AN",
        True,
    ),
    (
        "coventry",
        "Coventry",
        "Little Park Street, Coventry CV1 2JX",
        "Little Park Street reception",
        "Coventry CV1 2JX",
        True,
    ),
    (
        "wolverhampton",
        "Wolverhampton",
        "Bilston Street, Wolverhampton WV1 3AA",
        "Bilston Street reception",
        "Wolverhampton WV1 3AA",
        False,
    ),
    (
        "bloxwich",
        "Bloxwich",
        "Station Street, Bloxwich, Walsall WS3 2PD",
        "Station Street reception",
        "Bloxwich WS3 2PD",
        False,
    ),
    (
        "stechford",
        "Stechford",
        "Station Road, Stechford, Birmingham B33 8QR",
        "Station Road reception",
        "Stechford B33 8QR",
        False,
    ),
]

# The West Midlands magistrates' courts that hear criminal cases (checked against GOV.UK's
# court finder): code, name, address, and the venue label and short address the places table
# needs (no text ever names a court: appointments are never offered there).
COURTS = [
    (
        "birmingham-magistrates",
        "Birmingham Magistrates' Court",
        "Victoria Law Courts, Corporation Street, Birmingham B4 6QA",
        "Corporation Street",
        "Corporation St, B4 6QA",
    ),
    (
        "coventry-magistrates",
        "Coventry Magistrates' Court",
        "Little Park Street, Coventry CV1 2SQ",
        "Little Park Street",
        "Little Park St, CV1 2SQ",
    ),
    (
        "wolverhampton-magistrates",
        "Wolverhampton Magistrates' Court",
        "North Street, Wolverhampton WV1 1RA",
        "North Street",
        "North St, WV1 1RA",
    ),
    (
        "walsall-magistrates",
        "Walsall Magistrates' Court",
        "Stafford Street, Walsall WS2 8HA",
        "Stafford Street",
        "Stafford St, WS2 8HA",
    ),
    (
        "dudley-magistrates",
        "Dudley Magistrates' Court",
        "The Inhedge, Dudley DY1 1RY",
        "The Inhedge",
        "The Inhedge, DY1 1RY",
    ),
]
# Court duty: the courts sit Monday to Friday; bank holidays have no rules, so no duty.
COURT_DAYS = range(0, 5)
COURT_START, COURT_END = dt.time(9, 0), dt.time(17, 0)

# Two workers per block, and two who cover anywhere at weekends. Invented names.
TEAM = [
    ("Amira Clarke", "perry-barr"),
    ("Dev Sandhu", "perry-barr"),
    ("Nia Edwards", "oldbury"),
    ("Tom Whitlock", "oldbury"),
    ("Grace Okafor", "coventry"),
    ("Liam Foster", "coventry"),
    ("Priya Nair", "wolverhampton"),
    ("Owen Price", "wolverhampton"),
    ("Hannah Moss", "bloxwich"),
    ("Ravi Kapoor", "bloxwich"),
    ("Ellie Barnes", "stechford"),
    ("Sam Hollis", "stechford"),
    ("Jade Cooper", "perry-barr"),
    ("Marcus Hale", "coventry"),
]
# One court duty worker per court. Invented names.
COURT_TEAM = [
    ("Rosa Delgado", "birmingham-magistrates"),
    ("Kwame Mensah", "coventry-magistrates"),
    ("Beth Lowry", "wolverhampton-magistrates"),
    ("Imran Qureshi", "walsall-magistrates"),
    ("Sian Rees", "dudley-magistrates"),
]
DEMO_WORKER_NAME = "Amira Clarke"
# The demo worker also sits at this court: today when it sits, and every Thursday ahead.
DEMO_WORKER_COURT = "birmingham-magistrates"
DEMO_WORKER_COURT_WEEKDAY = 3


def court(row: tuple) -> Block:
    """A court from a row of COURTS, with its court duty cover rules."""
    code, name, address, venue, short_address = row
    return Block(
        code=code,
        kind=PlaceKind.COURT,
        name=name,
        address=address,
        venue_label=venue,
        short_address=short_address,
        high_activity=False,
        timezone="Europe/London",
        cover_rules=[CoverRule(weekday=d, starts=COURT_START, ends=COURT_END) for d in COURT_DAYS],
    )


def _load_courts() -> bool:
    """The courts and their duty team, once (a demo loaded before courts existed gets them)."""
    if db.session.scalar(select(Block.id).where(Block.kind == PlaceKind.COURT).limit(1)):
        return False
    courts = {row[0]: court(row) for row in COURTS}
    db.session.add_all(courts.values())
    db.session.add_all(Worker(name=name, home_block=courts[code]) for name, code in COURT_TEAM)
    db.session.flush()
    return True


def _load_blocks() -> bool:
    if db.session.scalar(select(Block.id).where(Block.kind == PlaceKind.CUSTODY).limit(1)):
        return False
    for code, name, address, venue, short_address, high_activity in BLOCKS:
        block = Block(
            code=code,
            name=name,
            address=address,
            venue_label=venue,
            short_address=short_address,
            high_activity=high_activity,
            timezone="Europe/London",
        )
        days = list(WEEKDAYS) + (list(WEEKEND) if high_activity else [])
        block.cover_rules = [CoverRule(weekday=d, starts=DAY_START, ends=DAY_END) for d in days]
        db.session.add(block)
    db.session.flush()
    return True


def _load_team(now: dt.datetime) -> None:
    if db.session.scalar(
        select(Worker.id).join(Worker.home_block).where(Block.kind == PlaceKind.CUSTODY)
    ):
        return
    blocks = {b.code: b for b in db.session.scalars(select(Block))}
    for name, block_code in TEAM:
        if name == DEMO_WORKER_NAME:
            continue  # the demo worker comes with their login below
        db.session.add(Worker(name=name, home_block=blocks[block_code]))
    db.session.flush()


def _load_users(now: dt.datetime) -> None:
    homes = {
        Role.SERGEANT: "stechford",
        Role.WORKER: "perry-barr",
        Role.COORDINATOR: None,
        Role.ANALYST: None,
    }
    names = {
        Role.SERGEANT: "Sgt Chris Demo",
        Role.WORKER: DEMO_WORKER_NAME,
        Role.COORDINATOR: "Jo Coordinator",
        Role.ANALYST: "Alex Analyst",
    }
    for email, role in DEMO_USERS:
        if find_by_email(email) is None:
            create_user(
                email, role, DEMO_PASSWORD, now=now, name=names[role], block_code=homes[role]
            )


def _court_days_for_the_demo_worker(today: dt.date, now: dt.datetime, by: User) -> int:
    """Court duty for the worker who signs in, so their day, calendar feed and the court list
    show court work: at DEMO_WORKER_COURT today (when it sits) and each Thursday of the
    rota's weeks, entered on the rota by hand as a coordinator would, before the generator
    fills the rest around it. A day they are already rostered elsewhere is left as it is."""
    worker = find_by_email("worker@demo.test").worker
    court = places.court_with_code(DEMO_WORKER_COURT)
    if worker is None or court is None:
        return 0
    added = 0
    for day in rota.dates(today, today + dt.timedelta(days=ROTA_DAYS - 1)):
        if day != today and day.weekday() != DEMO_WORKER_COURT_WEEKDAY:
            continue
        # The court's duty hours: none at weekends or on a bank holiday.
        for window in rota.cover_windows(court, day):
            try:
                rota_changes.add_shift(
                    worker, court, window.starts_at, window.ends_at, now=now, by=by
                )
            except InvalidField:
                continue  # already on the rota then
            added += 1
    return added


def load(now: dt.datetime) -> bool:
    """Load the demo (with three months of past appointments and court work, and a year of
    on-site work and what followed the assessments); True if anything was created."""
    created = _load_blocks()
    _load_team(now)
    created = _load_courts() or created
    _load_users(now)
    db.session.flush()
    today = now.astimezone(LONDON).date()
    coordinator = find_by_email("coordinator@demo.test")
    worker_user = find_by_email("worker@demo.test")
    court_days = 0
    if not db.session.scalar(select(SuitabilityAssessment.id).limit(1)):
        # Court work comes once, with the demo worker's court days.
        court_days = _court_days_for_the_demo_worker(today, now, coordinator)
    shifts = rota.generate(today, today + dt.timedelta(days=ROTA_DAYS - 1), now=now)
    history = demo_history.load(now, find_by_email("sergeant@demo.test"), worker_user)
    court_work = demo_court_history.load(now, worker_user, coordinator)
    # After the appointments and court work: what followed some of their assessments too.
    pathway_work = demo_pathway_history.load(now, worker_user)
    return (
        created or court_days > 0 or shifts > 0 or history > 0 or court_work > 0 or pathway_work > 0
    )
