"""deploy/backup.sh and deploy/restore.sh: a backup taken while bookings are being made
restores into an empty PostgreSQL database with every booking acknowledged before the backup
began and nothing half-written; the app starts on it, with the same figures, and books again.

The PostgreSQL test makes databases of its own on the server DATABASE_URL names
(booking_<purpose>_<random>, owned by a role booking_owner_<random> that the migrations, the
app, the backups and the restores all use) and drops them, and the role, at the end. The
source is migrated and served by booking-web.service's own commands, with the demo loaded;
clients book through the API while the backups are taken.

pg_dump reads the database in one snapshot taken as it starts, so the bookings acknowledged
(201) before backup.sh started must all be in the dump; those acknowledged later may or may
not be. For a comparison row by row, a second backup reads a snapshot the test exported
(`pg_dump --snapshot`, passed through backup.sh): the test reads the tables and works out the
figures in that same snapshot, while the bookings go on, and the restored copy must match.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import subprocess
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from psycopg import sql
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from booking import create_app
from booking.accounts.users import issue_token
from booking.demo import load as demo
from booking.extensions import db
from booking.models import AuditEvent, Booking, User
from booking.reports import figures as reports
from booking.reports import year as year_summary
from tests import support
from tests.deploy.live import DEPLOY, ROOT, api, web_unit

CUSTODY_PREFIX = "BACKUP/"


# DATABASE_URL as libpq environment variables ---------------------------------------------


def libpq_environment(url: str) -> subprocess.CompletedProcess:
    """What backup.sh and restore.sh do with DATABASE_URL: the variables pg_env.py exports."""
    script = f'set -e; v=$("{ROOT}/.venv/bin/python" "{DEPLOY}/pg_env.py"); eval "$v"; env'
    return subprocess.run(
        ["sh", "-c", script],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )


def exported(url: str) -> dict[str, str]:
    done = libpq_environment(url)
    assert done.returncode == 0, done.stderr
    variables = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return {name: value for name, value in variables.items() if name.startswith("PG")}


def test_the_app_s_url_becomes_libpq_s_variables_with_the_password_off_the_command_line():
    assert exported("postgresql+psycopg://booking:p%40ss%20w'rd@db.internal:6432/bookings") == {
        "PGUSER": "booking",
        "PGPASSWORD": "p@ss w'rd",
        "PGHOST": "db.internal",
        "PGPORT": "6432",
        "PGDATABASE": "bookings",
    }
    assert exported(
        "postgresql+psycopg://booking@/booking?host=/var/run/postgresql&sslmode=disable"
    ) == {
        "PGUSER": "booking",
        "PGHOST": "/var/run/postgresql",
        "PGSSLMODE": "disable",
        "PGDATABASE": "booking",
    }


@pytest.mark.parametrize(
    "url",
    [
        "",
        "sqlite:///instance/booking.sqlite",
        "postgresql+psycopg://booking:s3cret-pw@db.internal",  # no database
        "postgresql+psycopg://booking:s3cret-pw@db.internal/booking?no_such_setting=1",
    ],
)
def test_a_url_that_is_not_a_postgresql_database_is_refused_without_showing_it(url):
    done = libpq_environment(url)
    assert done.returncode != 0
    assert done.stderr.startswith("pg_env.py: ")
    assert "s3cret-pw" not in done.stderr + done.stdout


# The scripts ------------------------------------------------------------------------------


@pytest.fixture
def scratch_database():
    """Makes empty databases of the test's own on the server, owned by a role of its own with
    no other rights, as the app's role is in production; drops them all, and the role, at
    the end."""
    server = make_url(os.environ.get("DATABASE_URL", ""))
    admin = server.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    role = f"booking_owner_{secrets.token_hex(4)}"
    made: list[str] = []
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))

    def create(purpose: str) -> str:
        name = f"booking_{purpose}_{secrets.token_hex(4)}"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(role)
                )
            )
        made.append(name)
        url = server.set(database=name, username=role, password=None, query={})
        return url.render_as_string(hide_password=False)

    yield create
    with psycopg.connect(admin, autocommit=True) as connection:
        for name in made:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def run_script(script: str, database_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(DEPLOY / script), *args],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=300,
    )


def backup(folder: Path, database_url: str, *pg_dump_options: str) -> Path:
    done = run_script("backup.sh", database_url, str(folder), *pg_dump_options)
    assert done.returncode == 0, done.stderr
    dump = Path(done.stdout.strip().splitlines()[-1])
    assert dump.parent == folder and dump.name.startswith("booking-")
    assert [path.name for path in folder.iterdir()] == [dump.name]  # no partial file left
    assert dump.stat().st_mode & 0o077 == 0  # personal data: the owner's alone
    return dump


def restore(dump: Path, database_url: str) -> None:
    done = run_script("restore.sh", database_url, str(dump))
    assert done.returncode == 0, done.stderr
    assert "Restored" in done.stdout


def test_a_backup_with_no_postgresql_database_fails_and_leaves_nothing(tmp_path):
    done = run_script("backup.sh", "sqlite:///instance/booking.sqlite", str(tmp_path / "dumps"))
    assert done.returncode != 0
    assert "not a PostgreSQL URL" in done.stderr
    assert not (tmp_path / "dumps").exists()


def test_a_restore_with_no_dump_to_read_fails_before_connecting(tmp_path):
    missing = tmp_path / "booking-20270113T043012Z.dump"
    done = run_script("restore.sh", "postgresql+psycopg://nobody@/none", str(missing))
    assert (done.returncode, done.stderr) == (2, f"restore.sh: no dump to read at {missing}\n")


# Backup and restore under load ------------------------------------------------------------


@dataclass
class Answer:
    status: int | str
    reference: str | None
    done: float  # time.monotonic() when the answer was in


class BookingLoad:
    """Clients booking the free places one after another through the served API, until
    stopped; every answer kept with the moment it arrived."""

    def __init__(self, app_url: str, token: str, places: list[dict], clients: int = 4):
        self.app_url, self.token = app_url, token
        self.places = iter(enumerate(places))
        self.lock = threading.Lock()
        self.answers: list[Answer] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._client) for _ in range(clients)]
        self.tested_at = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()

    def _client(self) -> None:
        while not self.stopping.is_set():
            with self.lock:
                index, slot = next(self.places, (None, None))
            if slot is None:
                return
            body = support.booking_body(
                slot,
                custody_record=f"{CUSTODY_PREFIX}{index:05d}",
                person_name=f"Robin Backupperson {index}",
                mobile=f"07700 900{index % 1000:03d}",
                tested_at=self.tested_at,
                arrest_block=slot["block"],
            )
            try:
                status, booking = api(f"{self.app_url}/api/v1/bookings", self.token, body)
                answer = Answer(status, booking.get("reference"), time.monotonic())
            except OSError as error:
                answer = Answer(type(error).__name__, None, time.monotonic())
            with self.lock:
                self.answers.append(answer)
            time.sleep(0.05)  # a steady load, not a flood: the machine is shared

    def acknowledged(self, before: float | None = None) -> set[str]:
        with self.lock:
            return {
                a.reference
                for a in self.answers
                if a.status == 201 and (before is None or a.done < before)
            }

    def wait_for_acknowledged(self, count: int, after: float = 0.0) -> None:
        deadline = time.monotonic() + 120
        while True:
            with self.lock:
                done = sum(1 for a in self.answers if a.status == 201 and a.done > after)
            if done >= count:
                return
            assert any(t.is_alive() for t in self.threads), "the clients ran out of places"
            assert time.monotonic() < deadline, f"{done} bookings acknowledged of {count}"
            time.sleep(0.05)

    def __enter__(self) -> BookingLoad:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)


def free_places(app_url: str, token: str, pages: int = 5) -> list[dict]:
    """The earliest free slots, a page of 100 at a time, once for each worker free in each;
    none so near that the minimum lead (an hour) could pass it while the test runs."""
    not_before = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=75)
    slots: dict[tuple[str, str], dict] = {}
    after = "&after=" + urllib.parse.quote(not_before.isoformat())
    for _ in range(pages):
        status, page = api(f"{app_url}/api/v1/slots?limit=100{after}", token)
        assert status == 200, page
        if not page:
            break
        slots.update({(slot["block"], slot["starts_at"]): slot for slot in page})  # pages meet
        after = "&after=" + urllib.parse.quote(page[-1]["starts_at"])
    return [slot for slot in slots.values() for _ in range(slot["free"])]


def table_contents() -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of all its rows, read in the session's snapshot."""
    tables = [table.name for table in db.metadata.sorted_tables] + ["alembic_version"]
    contents = {}
    for name in tables:
        query = sql.SQL(
            "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
            "FROM {} AS t"
        ).format(sql.Identifier(name))
        count, digest = db.session.execute(text(query.as_string())).one()
        contents[name] = (count, digest)
    return contents


def the_figures(now: dt.datetime) -> dict:
    """The commissioner's figures, from three months back to the rota's end, and the year's."""
    today = now.date()
    return {
        "kpi": reports.build(today - dt.timedelta(days=100), today + dt.timedelta(days=60), now),
        "year": year_summary.summary(year_summary.current_financial_year(now), now),
    }


def load_references() -> set[str]:
    return set(
        db.session.scalars(
            select(Booking.reference).where(Booking.custody_record.startswith(CUSTODY_PREFIX))
        )
    )


@contextlib.contextmanager
def app_on(database_url: str, now: dt.datetime) -> Iterator[Flask]:
    """The app on that database, its clock at `now`; its connections closed at the end."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "CLOCK": lambda: now})
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.mark.postgres
def test_a_backup_under_booking_load_restores_every_acknowledged_booking(
    scratch_database, tmp_path
):
    now = dt.datetime.now(dt.UTC)
    source_url = scratch_database("source")
    with web_unit(source_url, tmp_path) as app_url:
        with app_on(source_url, now):
            demo.load(now)
            token = issue_token(demo_user("sergeant"), now)
            db.session.commit()
        places = free_places(app_url, token)

        with BookingLoad(app_url, token, places) as load:
            load.wait_for_acknowledged(10)
            nightly_started = time.monotonic()
            nightly = backup(tmp_path / "nightly", source_url)
            load.wait_for_acknowledged(5, after=time.monotonic())
            with app_on(source_url, now):
                # A transaction on the source whose snapshot the second backup reads too.
                db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                snapshot_taken = time.monotonic()
                snapshot = db.session.execute(text("SELECT pg_export_snapshot()")).scalar()
                in_snapshot = backup(tmp_path / "snapshot", source_url, f"--snapshot={snapshot}")
                load.wait_for_acknowledged(5, after=time.monotonic())
                source_tables, source_figures = table_contents(), the_figures(now)
        # Every place was free: each booking was acknowledged, none refused or lost on the way.
        assert Counter(a.status for a in load.answers) == {201: len(load.answers)}

    nightly_copy = scratch_database("restored")
    restore(nightly, nightly_copy)
    with app_on(nightly_copy, now):
        restored = load_references()
        assert load.acknowledged(before=nightly_started) <= restored
        assert restored <= load.acknowledged()
        # Nothing half-written: each booking came with its audit event, in one transaction.
        created = set(
            db.session.scalars(select(AuditEvent.reference).where(AuditEvent.action == "created"))
        )
        assert restored <= created
        nightly_tables = table_contents()

    # Only into an empty database: into this one now, it is refused and changes nothing.
    refused = run_script("restore.sh", nightly_copy, str(in_snapshot))
    assert refused.returncode == 1
    assert "not empty" in refused.stderr
    with app_on(nightly_copy, now):
        assert table_contents() == nightly_tables

    snapshot_copy = scratch_database("restored")
    restore(in_snapshot, snapshot_copy)
    with app_on(snapshot_copy, now) as copy:
        assert table_contents() == source_tables
        assert the_figures(now) == source_figures
        assert load.acknowledged(before=snapshot_taken) <= load_references()
        check_the_app_serves_the_copy(copy, now, source_figures["kpi"])


def demo_user(role: str) -> User:
    return db.session.scalar(select(User).where(User.email == f"{role}@demo.test"))


def check_the_app_serves_the_copy(copy, now: dt.datetime, kpi: reports.Report) -> None:
    """The app starts on the copy at the latest migration, answers with the same figures,
    and books again (the id sequences came back with the rows)."""
    (version,) = db.session.execute(text("SELECT version_num FROM alembic_version")).one()
    assert version == ScriptDirectory(str(ROOT / "migrations")).get_current_head()
    client = copy.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready"}

    analyst_token = issue_token(demo_user("analyst"), now)
    sergeant_token = issue_token(demo_user("sergeant"), now)
    db.session.commit()
    answer = client.get(
        f"/api/v1/reports/kpi?start={kpi.start}&end={kpi.end}", headers=support.auth(analyst_token)
    )
    assert answer.status_code == 200
    assert answer.get_json()["bookings"] == kpi.total.bookings

    (slot,) = client.get("/api/v1/slots?limit=1", headers=support.auth(sergeant_token)).get_json()
    booked = client.post(
        "/api/v1/bookings",
        json=support.booking_body(
            slot,
            tested_at=(now - dt.timedelta(hours=1)).isoformat(),
            arrest_block=slot["block"],
        ),
        headers=support.auth(sergeant_token),
    )
    assert booked.status_code == 201, booked.get_json()
