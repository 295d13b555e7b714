"""gunicorn's workers and a dispatcher in a process of its own count into one
PROMETHEUS_MULTIPROC_DIR, and /metrics adds them up: whichever worker answers, and after a
worker dies, the totals are the same."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from booking import create_app
from booking.accounts.users import issue_token
from booking.clock import LONDON
from booking.extensions import db
from booking.models import Role
from tests import support
from tests.monitoring.conftest import Scrape
from tests.test_production import ROOT, gunicorn_environment, gunicorn_serving, http_get

HEALTH_CHECKS = 6


def scrape(base: str) -> Scrape:
    status, _, body = http_get(f"{base}/metrics")
    assert status == 200
    return Scrape(body.decode())


def book_through(base: str, token: str, now: dt.datetime) -> int:
    headers = support.auth(token)
    status, _, body = http_get(f"{base}/api/v1/slots?limit=1", headers)
    assert status == 200, body
    (slot,) = json.loads(body)
    tested_at = (now - dt.timedelta(minutes=45)).isoformat()
    request = urllib.request.Request(
        f"{base}/api/v1/bookings",
        data=json.dumps(support.booking_body(slot, tested_at=tested_at)).encode(),
        headers=headers | {"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def counting_processes(directory: Path) -> set[int]:
    """The processes with a file of counts in the directory, by pid."""
    return {int(path.stem.split("_")[-1]) for path in directory.glob("counter_*.db")}


def test_every_process_counts_into_the_directory_and_metrics_adds_them_up(
    app, schema, clock, tmp_path
):
    # The processes below read the real clock, so the rota and token start now.
    clock.set(dt.datetime.now(dt.UTC))
    blocks = support.add_blocks()
    support.add_team(blocks)
    token = issue_token(support.add_user(Role.SERGEANT, clock()), clock())
    db.session.commit()
    support.fill_rota(clock().astimezone(LONDON).date(), 4)

    directory = tmp_path / "metrics"
    directory.mkdir()
    environment = gunicorn_environment(
        schema,
        WEB_CONCURRENCY="2",
        PROMETHEUS_MULTIPROC_DIR=str(directory),
        SMS_ALLOW_TEST_NUMBERS="true",
    )
    with gunicorn_serving(environment, tmp_path / "gunicorn.log") as base:
        for _ in range(HEALTH_CHECKS - 1):  # gunicorn_serving has made the first
            assert http_get(f"{base}/healthz")[0] == 200
        assert book_through(base, token, clock()) == 201
        # The confirmation goes from a dispatcher of its own, as the scheduler sends it.
        dispatcher = subprocess.Popen(
            [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "reminders", "dispatch"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output, _ = dispatcher.communicate(timeout=120)
        assert dispatcher.returncode == 0, output
        assert "Sent 1," in output

        counted = scrape(base)
        assert counted.value("bookings_total", result="created") == 1
        assert counted.value("sms_messages_total", backend="console", status="sent") == 1
        healthz = {"method": "GET", "route": "/healthz", "status": "200"}
        assert counted.value("http_requests_total", **healthz) == HEALTH_CHECKS
        assert dispatcher.pid in counting_processes(directory)

        # A worker dies; gunicorn starts another. What it counted stays counted.
        workers = counting_processes(directory) - {dispatcher.pid}
        os.kill(workers.pop(), signal.SIGKILL)
        deadline = time.monotonic() + 60
        while True:
            try:
                after = scrape(base)
                break
            except OSError:  # no worker free to answer yet
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert after.value("http_requests_total", **healthz) == HEALTH_CHECKS
        assert after.value("bookings_total", result="created") == 1
        assert after.value("sms_messages_total", backend="console", status="sent") == 1


def test_the_app_does_not_start_without_its_metrics_directory(schema, monkeypatch, tmp_path):
    """Else every count would be lost, each with an error in the log."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "not-made"))
    with pytest.raises(RuntimeError, match="PROMETHEUS_MULTIPROC_DIR is set but is not a dir"):
        create_app({"SQLALCHEMY_DATABASE_URI": schema})
