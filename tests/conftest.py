"""Fixtures: a real database (SQLite file, or PostgreSQL from DATABASE_URL) built by the
migrations, a frozen clock, the demo blocks and rota, and signed-in clients for each role."""

from __future__ import annotations

import datetime as dt
import os

import flask_migrate
import pytest
from flask import g
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import text
from werkzeug.routing import Rule

from booking import create_app
from booking.accounts.users import issue_token
from booking.clock import LONDON
from booking.extensions import db
from booking.models import Block, Role, User, Worker
from tests import support


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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres` are skipped unless DATABASE_URL names a PostgreSQL database."""
    if os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL)")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


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


class CompiledTemplates(BytecodeCache):
    """Each test builds an app, and each app's Jinja environment would compile every template
    (and GOV.UK's macros) again; sharing the compiled code across them keeps that once per
    run. Keyed by Jinja on the template's source, so an edited template is compiled anew."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


def _share_url_builders() -> None:
    """Each app compiles a Python function per URL rule to build its URLs (a fifth of a page
    test's CPU, one app per test). The function is made from the rule's parts and defaults
    alone and takes the rule as its first argument, so apps with the same rules can share it."""
    compile_builder = Rule._compile_builder
    built: dict[tuple, object] = {}

    def shared(rule: Rule, append_unknown: bool = True):
        key = (tuple(rule._trace), repr(sorted((rule.defaults or {}).items())), append_unknown)
        if key not in built:
            built[key] = compile_builder(rule, append_unknown)
        return built[key]

    Rule._compile_builder = shared


_share_url_builders()


@pytest.fixture
def app(schema, clock):
    app = create_app({"SQLALCHEMY_DATABASE_URI": schema, "CLOCK": clock})
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES

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
def make_app(app, schema, clock):
    """Another app on the test database, built with some settings of its own.

    Its requests run in app contexts of their own, as in the service (the test app's requests
    share the test's context, and with it `g`: Flask-Login's user, Flask-WTF's token).
    """
    made = []

    def make(**settings):
        db.session.commit()  # nothing of the test's own session may hold the database
        new = create_app({"SQLALCHEMY_DATABASE_URI": schema, "CLOCK": clock, **settings})
        made.append(new)
        return new

    yield make
    for new in made:
        with new.app_context():
            db.engine.dispose()


@pytest.fixture
def is_postgres(app) -> bool:
    return db.engine.dialect.name == "postgresql"


@pytest.fixture
def blocks(app) -> dict[str, Block]:
    """The six demo blocks with their cover rules (07:00-20:00; weekends at three)."""
    return support.add_blocks()


@pytest.fixture
def team(blocks) -> list[Worker]:
    return support.add_team(blocks)


@pytest.fixture
def rostered(team, clock):
    """The rota filled from the clock's date for 35 days."""
    support.fill_rota(clock().astimezone(LONDON).date(), 35)


@pytest.fixture
def users(blocks, clock) -> dict[Role, User]:
    """A test user of each role, based at Stechford, with support.PASSWORD."""
    made = {role: support.add_user(role, clock()) for role in Role}
    db.session.commit()
    return made


@pytest.fixture
def me(users) -> Worker:
    """The worker linked to the worker sign-in (home block Stechford)."""
    return users[Role.WORKER].worker


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
    """Sign the test client in as the test user of a role."""

    def sign_in(role: Role):
        return support.sign_in(client, role)

    return sign_in


@pytest.fixture
def book(users, clock):
    """Book through the domain's one write path, as the sergeant by default, and commit."""

    def make(starts_at: dt.datetime, block: str = "stechford", by: Role = Role.SERGEANT, **changes):
        return support.book(users[by], block, starts_at, clock(), **changes)

    return make
