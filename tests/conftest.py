"""Fixtures: a real database (SQLite file, or PostgreSQL from DATABASE_URL) built by the
migrations, a frozen clock, the demo blocks and rota, and signed-in clients for each role."""

from __future__ import annotations

import datetime as dt
import os

import flask_migrate
import pytest
from flask import g
from sqlalchemy import text

from booking import create_app
from booking.accounts.users import create_user, issue_token
from booking.clock import LONDON, now
from booking.demo.load import BLOCKS, DAY_END, DAY_START, TEAM, WEEKDAYS, WEEKEND
from booking.extensions import db
from booking.models import Block, CoverRule, Role, Worker
from booking.rota import generate as rota

PASSWORD = "correct horse battery"


class FrozenClock:
    """The service's clock in tests: set it, move it, and it stays put."""

    def __init__(self, instant: dt.datetime):
        self.instant = instant

    def __call__(self) -> dt.datetime:
        return self.instant

    def set(self, instant: dt.datetime) -> None:
        self.instant = instant

    def set_local(self, *args) -> None:
        self.instant = dt.datetime(*args, tzinfo=LONDON).astimezone(dt.UTC)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """SQLite in a temporary file, or DATABASE_URL (PostgreSQL) in a schema of this run's own,
    so that runs sharing one database server do not trip over each other."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    if url.startswith("postgresql"):
        separator = "&" if "?" in url else "?"
        return f"{url}{separator}options=-csearch_path%3D{RUN_SCHEMA}"
    return url


RUN_SCHEMA = f"test_run_{os.getpid()}"


@pytest.fixture(scope="session")
def schema(database_url):
    """The schema, built once per run by the migrations (not create_all)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        if postgres:
            with db.engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {RUN_SCHEMA} CASCADE"))
                connection.execute(text(f"CREATE SCHEMA {RUN_SCHEMA}"))
        flask_migrate.upgrade()
        db.engine.dispose()
    yield database_url
    if postgres:
        with app.app_context():
            with db.engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {RUN_SCHEMA} CASCADE"))
            db.engine.dispose()


def _empty_tables() -> None:
    db.session.remove()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def clock() -> FrozenClock:
    # A Wednesday evening in January, after weekday cover has ended.
    return FrozenClock(dt.datetime(2027, 1, 13, 21, 0, tzinfo=dt.UTC))


@pytest.fixture
def app(schema, clock):
    app = create_app({"SQLALCHEMY_DATABASE_URI": schema, "CLOCK": clock})

    @app.teardown_request
    def forget_the_signed_in_user(exc):
        # In service each request has an app context of its own. Here requests share the
        # test's, so forget the user a request loaded, or it would leak into the next client.
        g.pop("_login_user", None)

    with app.app_context():
        _empty_tables()
        yield app
        _empty_tables()
        db.engine.dispose()


@pytest.fixture
def is_postgres(app) -> bool:
    return db.engine.dialect.name == "postgresql"


@pytest.fixture
def blocks(app) -> dict[str, Block]:
    """The six demo blocks with their cover rules (07:00-20:00; weekends at three)."""
    created = {}
    for code, name, address, venue, short_address, high_activity in BLOCKS:
        block = Block(
            code=code,
            name=name,
            address=address,
            venue_label=venue,
            short_address=short_address,
            high_activity=high_activity,
        )
        days = list(WEEKDAYS) + (list(WEEKEND) if high_activity else [])
        block.cover_rules = [CoverRule(weekday=d, starts=DAY_START, ends=DAY_END) for d in days]
        db.session.add(block)
        created[code] = block
    db.session.commit()
    return created


@pytest.fixture
def team(blocks) -> list[Worker]:
    workers = [Worker(name=name, home_block=blocks[code]) for name, code in TEAM]
    db.session.add_all(workers)
    db.session.commit()
    return workers


def fill_rota(start: dt.date, days: int) -> int:
    created = rota.generate(start, start + dt.timedelta(days=days - 1), now=now())
    db.session.commit()
    return created


@pytest.fixture
def rostered(team, clock):
    """The rota filled from the clock's date for 35 days."""
    fill_rota(clock().astimezone(LONDON).date(), 35)


@pytest.fixture
def users(blocks, clock):
    made = {}
    for role in Role:
        made[role] = create_user(
            f"{role}@test.example",
            role,
            PASSWORD,
            now=clock(),
            name=f"Test {role}",
            block_code="stechford",
        )
    db.session.commit()
    return made


@pytest.fixture
def tokens(users, clock) -> dict[Role, str]:
    issued = {role: issue_token(user, clock()) for role, user in users.items()}
    db.session.commit()
    return issued


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(client):
    def sign_in(role: Role):
        return client.post("/login", data={"email": f"{role}@test.example", "password": PASSWORD})

    return sign_in
