"""The operator's commands: `flask demo load`, `flask rota generate`, `flask users …`, …"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import signal
import sys
import zlib
from collections.abc import Callable, Iterator

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import text

from . import clock, retention, settings
from .accounts import users
from .demo import load as demo
from .errors import InvalidField
from .extensions import db
from .models import Role
from .monitoring import metrics
from .rota import generate as rota
from .sms import dispatch

log = logging.getLogger(__name__)

ROTA_LOOK_AHEAD_DAYS = 56
# The scheduler's jobs by id, with the names its log gives them.
JOB_NAMES = {
    "dispatch": "Send the text messages that are due",
    "rota_look_ahead": f"Keep the rota filled {ROTA_LOOK_AHEAD_DAYS} days ahead",
    "retention_purge": "Remove personal data kept past the retention period",
}

demo_cli = AppGroup("demo", help="The demonstration data.")
rota_cli = AppGroup("rota", help="The rota of workers on site.")
users_cli = AppGroup("users", help="Users and their API tokens.")
scheduler_cli = AppGroup("scheduler", help="The background scheduler (its own process).")
reminders_cli = AppGroup("reminders", help="Text message confirmations and reminders.")
retention_cli = AppGroup("retention", help="Removal of personal data past retention.")


@retention_cli.command("purge")
def retention_purge():
    """Remove personal data from bookings concluded more than RETENTION_DAYS ago."""
    purged = purge_personal_data()
    click.echo(f"Removed personal data from {purged} bookings and suitability assessments.")


def purge_personal_data() -> int:
    return retention.purge(clock.now(), current_app.config["RETENTION_DAYS"])


@reminders_cli.command("dispatch")
def reminders_dispatch():
    """One pass: send every message that is due, then exit."""
    report = dispatch.dispatch(clock.now)
    click.echo(
        f"Sent {report.sent}, skipped {report.skipped}, cancelled {report.cancelled}, "
        f"retrying {report.retrying}, failed {report.failed}."
    )


@demo_cli.command("load")
def demo_load():
    """Load the six West Midlands blocks, a team of workers, 56 days of rota and demo users."""
    created = demo.load(clock.now())
    db.session.commit()
    if created:
        click.echo(
            "Loaded the demo: six custody blocks, five courts, the team, 56 days of rota,"
            " three months of past appointments and court work, and a year of assessments"
            " and what followed them."
        )
    else:
        click.echo("The demo is already loaded; nothing changed.")
    click.echo(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
    for email, role in demo.DEMO_USERS:
        click.echo(f"  {role:<12} {email}")


def _local_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD") from None


@rota_cli.command("generate")
@click.option("--start", required=True, help="First date, YYYY-MM-DD (inclusive).")
@click.option("--end", required=True, help="Last date, YYYY-MM-DD (inclusive).")
def rota_generate(start: str, end: str):
    """Fill the rota's cover windows with workers; keeps existing and manual shifts."""
    first, last = _local_date(start), _local_date(end)
    if last < first:
        raise click.BadParameter("--end is before --start")
    days = (last - first).days + 1
    with click.progressbar(length=days, label="Filling the rota", file=sys.stderr) as bar:
        created = rota.generate(
            first,
            last,
            now=clock.now(),
            max_hours_per_week=current_app.config["ROTA_MAX_HOURS_PER_WEEK"],
            progress=bar.update,
        )
    db.session.commit()
    click.echo(f"Created {created} shifts from {first} to {last}.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--password", required=True)
@click.option("--name", default=None)
@click.option("--block", "block_code", default=None, help="Block code (a worker's home block).")
@click.option("--mobile", default=None)
def users_create(email, role, password, name, block_code, mobile):
    """Create a user with a role."""
    try:
        user = users.create_user(
            email,
            role,
            password,
            now=clock.now(),
            name=name,
            block_code=block_code,
            mobile=mobile,
            allow_test_numbers=settings.allow_test_numbers(),
        )
    except InvalidField as refusal:
        db.session.rollback()
        for field, message in refusal.errors.items():
            click.echo(f"{field}: {message}", err=True)
        raise SystemExit(1) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")


@users_cli.command("token")
@click.argument("email")
def users_token(email):
    """Issue a new API token; it is printed once, alone on the last line."""
    user = users.find_by_email(email)
    if user is None:
        click.echo(f"No user {email}.", err=True)
        raise SystemExit(1)
    token = users.issue_token(user, clock.now())
    db.session.commit()
    click.echo(f"API token for {user.email} (shown once; store it safely):")
    click.echo(token)


def send_due_messages() -> None:
    dispatch.dispatch(clock.now)


def extend_rota() -> int:
    """Nightly: keep the rota filled for the next 56 days."""
    now = clock.now()
    today = now.astimezone(clock.LONDON).date()
    created = rota.generate(
        today,
        today + dt.timedelta(days=ROTA_LOOK_AHEAD_DAYS - 1),
        now=now,
        max_hours_per_week=current_app.config["ROTA_MAX_HOURS_PER_WEEK"],
    )
    db.session.commit()
    return created


@contextlib.contextmanager
def held_alone(name: str) -> Iterator[bool]:
    """Whether this process may run the job `name` now: no other scheduler is running it.

    On PostgreSQL a session advisory lock on its own connection, held for the job's length (a
    lost connection releases it); SQLite serialises every write, so it needs none.
    """
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    key = zlib.crc32(f"booking.scheduler.{name}".encode())
    with db.engine.connect() as connection:
        held = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
        connection.commit()
        try:
            yield held
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()


def run_alone(job: Callable[[], object]) -> Callable[[], object]:
    """A nightly job that one scheduler runs while the others, due at the same time, skip it."""

    def run():
        with held_alone(job.__name__) as mine:
            if mine:
                return job()
            log.info("scheduler.job_skipped", extra={"job": job.__name__})
            return None

    run.__name__ = job.__name__
    return run


@scheduler_cli.command("run")
def scheduler_run():
    """Run the scheduler until stopped: text messages every 30 seconds and the nightly jobs.

    It is its own process, never inside the web workers; several may run at once, since each
    message is claimed by one dispatcher only, and each nightly job runs in one of them.
    """
    from apscheduler.schedulers.blocking import BlockingScheduler

    app = current_app._get_current_object()
    logging.basicConfig(level=logging.INFO)

    def in_app(job):
        def run():
            with app.app_context():
                try:
                    job()
                finally:
                    db.session.remove()

        run.__name__ = job.__name__
        return run

    scheduler = BlockingScheduler(
        timezone="Europe/London",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    metrics.count_job_runs(scheduler)
    # Named, or the scheduler's log calls each of them by the wrapper's name.
    scheduler.add_job(
        in_app(send_due_messages),
        "interval",
        seconds=30,
        id="dispatch",
        name=JOB_NAMES["dispatch"],
        misfire_grace_time=60,
    )
    scheduler.add_job(
        in_app(run_alone(extend_rota)),
        "cron",
        hour=2,
        minute=30,
        id="rota_look_ahead",
        name=JOB_NAMES["rota_look_ahead"],
    )
    scheduler.add_job(
        in_app(run_alone(purge_personal_data)),
        "cron",
        hour=3,
        minute=15,
        id="retention_purge",
        name=JOB_NAMES["retention_purge"],
    )

    def stop(signum, frame):
        raise KeyboardInterrupt

    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        # A process manager stops it with SIGTERM: treated as Ctrl-C, so that the pass in
        # hand finishes (each message is recorded the moment it is sent) before it ends.
        signal.signal(signal.SIGTERM, stop)
        click.echo("Scheduler running; Ctrl-C to stop.")
        scheduler.start()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # already stopping
    if scheduler.running:
        scheduler.shutdown(wait=True)
    click.echo("Scheduler stopped.")


def register(app: Flask) -> None:
    for group in (demo_cli, rota_cli, users_cli, scheduler_cli, reminders_cli, retention_cli):
        app.cli.add_command(group)
