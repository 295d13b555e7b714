"""The operator's commands, run through Flask's CLI runner."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from booking.accounts.users import user_for_token
from booking.extensions import db
from booking.models import (
    ApiToken,
    AuditEvent,
    Block,
    Booking,
    Message,
    Shift,
    SuitabilityAdjournment,
    SuitabilityAssessment,
    User,
    Worker,
)
from tests.support import count


def test_demo_load_twice_changes_nothing_and_prints_the_logins(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    for email in (
        "sergeant@demo.test",
        "worker@demo.test",
        "coordinator@demo.test",
        "analyst@demo.test",
    ):
        assert email in first.output
    loaded = (
        Block,
        Worker,
        User,
        Shift,
        Booking,
        Message,
        SuitabilityAssessment,
        SuitabilityAdjournment,
        AuditEvent,
    )
    counts = [count(m) for m in loaded]
    kinds = db.session.execute(select(Block.kind, func.count()).group_by(Block.kind)).all()
    assert dict(kinds) == {"custody": 6, "court": 5}
    assert all(counts), dict(zip(loaded, counts, strict=True))

    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0
    assert "nothing changed" in second.output
    assert [count(m) for m in loaded] == counts


def test_the_demo_worker_has_shifts(app):
    app.test_cli_runner().invoke(args=["demo", "load"])
    worker = db.session.scalar(select(Worker).where(Worker.user.has(email="worker@demo.test")))
    assert worker is not None
    assert db.session.scalar(select(func.count()).where(Shift.worker_id == worker.id)) > 0


def test_rota_generate_is_idempotent(app, team):
    runner = app.test_cli_runner()
    args = ["rota", "generate", "--start", "2027-03-22", "--end", "2027-04-04"]
    first = runner.invoke(args=args)
    assert first.exit_code == 0, first.output
    made = count(Shift)
    assert made > 0
    second = runner.invoke(args=args)
    assert second.exit_code == 0
    assert "Created 0 shifts" in second.output
    assert count(Shift) == made


def test_rota_generate_refuses_a_bad_date(app, team):
    result = app.test_cli_runner().invoke(
        args=["rota", "generate", "--start", "22/03/2027", "--end", "2027-04-04"]
    )
    assert result.exit_code != 0
    assert count(Shift) == 0


def test_users_create_and_token(app, blocks, clock):
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=[
            "users",
            "create",
            "Sam.Worker@Example.test",
            "--role",
            "worker",
            "--password",
            "long enough password",
            "--name",
            "Sam Worker",
            "--block",
            "oldbury",
            "--mobile",
            "07700 900456",
        ]
    )
    assert created.exit_code == 0, created.output
    user = db.session.scalar(select(User).where(User.email == "sam.worker@example.test"))
    assert user.worker.home_block.code == "oldbury"
    assert user.mobile == "+447700900456"
    assert user.password_hash.startswith(("scrypt", "pbkdf2"))

    issued = runner.invoke(args=["users", "token", "sam.worker@example.test"])
    assert issued.exit_code == 0
    token = issued.output.strip().splitlines()[-1]
    found = user_for_token(token, now=clock(), lifetime=dt.timedelta(days=90))
    assert found.id == user.id
    stored = db.session.scalar(select(ApiToken.token_hash))
    assert token not in stored


def test_users_create_refuses_a_bad_role_and_writes_nothing(app, blocks):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "x@example.test", "--role", "admin", "--password", "p" * 12]
    )
    assert result.exit_code != 0
    assert count(User) == 0


def test_users_create_refuses_a_worker_without_a_home_block(app, blocks):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "x@example.test", "--role", "worker", "--password", "p" * 12]
    )
    assert result.exit_code == 1
    assert "block" in result.output
    assert count(User) == count(Worker) == 0


def test_the_nightly_rota_look_ahead_fills_56_days(app, team, clock):
    from booking.cli import extend_rota

    extend_rota()
    last = db.session.scalar(select(func.max(Shift.starts_at)))
    today = clock().date()
    assert last.date() - today >= dt.timedelta(days=54)


def test_the_scheduler_stops_cleanly_on_sigterm(schema):
    """A process manager stops the scheduler with SIGTERM: it finishes and exits 0."""
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "DATABASE_URL": schema,
        "SECRET_KEY": "scheduler-test-secret",
        "SERVICE_PHONE": "0121 496 0000",
    }
    flask = Path(sys.executable).parent / "flask"
    scheduler = subprocess.Popen(
        [str(flask), "--app", "wsgi", "scheduler", "run"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        started = scheduler.stdout.readline()
        deadline = time.monotonic() + 60
        while "Scheduler running" not in started and time.monotonic() < deadline:
            started = scheduler.stdout.readline()
        assert "Scheduler running" in started
        scheduler.send_signal(signal.SIGTERM)
        output, _ = scheduler.communicate(timeout=60)
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
            scheduler.communicate()
    assert scheduler.returncode == 0, output
    assert "Scheduler stopped." in output


def test_a_nightly_job_runs_in_one_scheduler_at_a_time(app, team, clock, is_postgres):
    """Several schedulers may run; the one that finds a nightly job taken skips it."""
    from booking.cli import extend_rota, held_alone, run_alone

    if is_postgres:
        with held_alone("extend_rota") as mine:
            assert mine
            with held_alone("extend_rota") as theirs:
                assert not theirs
            assert run_alone(extend_rota)() is None  # skipped: another one holds it
            assert count(Shift) == 0
    assert run_alone(extend_rota)() > 0
    assert count(Shift) > 0
