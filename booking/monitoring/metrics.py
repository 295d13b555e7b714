"""The service's counters, one definition each, and the calls that count.

Each is counted as it happens, in the process where it happens: requests in the web workers,
booking attempts wherever the one write path runs, texts in the dispatcher (the scheduler) and
in the delivery receipts, job runs in the scheduler. With PROMETHEUS_MULTIPROC_DIR set,
prometheus-client keeps each process's counts in a file of its own in that directory, and
/metrics adds up every file there (exposition.py), so gunicorn's workers and a scheduler beside
them are counted together. Without it (development, tests) a process counts in memory.

Counting never fails what it counts: a count that cannot be made is logged and dropped.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from flask import current_app
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from ..errors import InvalidField, SlotTaken
from ..extensions import db

log = logging.getLogger(__name__)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

# Counters are the same with or without multiprocess mode, which has no `_created` series.
disable_created_metrics()

# This process's metrics. In multiprocess mode their values are kept in files as well, and the
# files, not this registry, are what /metrics reads.
PROCESS = CollectorRegistry()

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by method, URL rule (never the path itself) and status.",
    ["method", "route", "status"],
    registry=PROCESS,
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time from a request's arrival to its answer, by method and URL rule.",
    ["method", "route"],
    # A year's report at national scale takes tens of seconds (WEB_TIMEOUT is 60).
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=PROCESS,
)
BOOKINGS = Counter(
    "bookings_total",
    "Attempts to book through the one write path, by result: created (counted once "
    "committed), slot_taken (the slot filled first: 409) or refused (the details or the time "
    "break a booking rule: 422).",
    ["result"],
    registry=PROCESS,
)
SMS_MESSAGES = Counter(
    "sms_messages_total",
    "Text messages reaching a status, by backend: sent (the provider accepted it), "
    "delivered or failed (a delivery receipt, or a refusal at sending), skipped or cancelled "
    "(stopped by the dispatcher), and retrying (a transient failure, to be tried again).",
    ["backend", "status"],
    registry=PROCESS,
)
JOB_RUNS = Counter(
    "scheduler_job_runs_total",
    "Runs of the scheduler's jobs that finished, whether or not they failed, by job id.",
    ["job"],
    registry=PROCESS,
)
JOB_FAILURES = Counter(
    "scheduler_job_failures_total",
    "Runs of the scheduler's jobs that ended with an error, by job id.",
    ["job"],
    registry=PROCESS,
)

CREATED, SLOT_TAKEN, REFUSED = "created", "slot_taken", "refused"


def check_multiprocess_dir() -> None:
    """Refuse to start when PROMETHEUS_MULTIPROC_DIR is set but is not a directory: every
    count would fail (and be dropped) otherwise."""
    path = os.environ.get(MULTIPROCESS_DIR)
    if path is not None and not os.path.isdir(path):
        raise RuntimeError(
            f"{MULTIPROCESS_DIR} is set but is not a directory: make it (empty, writable by the "
            "app and the scheduler), or unset it to count in this process only"
        )


def _count(counter: Counter, *labels: str) -> None:
    try:
        counter.labels(*labels).inc()
    except Exception:  # a count lost is better than a booking or a text refused for it
        log.exception("metrics.not_counted", extra={"metric": counter.describe()[0].name})


# Requests


def request_answered(method: str, route: str, status: int, seconds: float) -> None:
    try:
        HTTP_REQUESTS.labels(method, route, str(status)).inc()
        HTTP_LATENCY.labels(method, route).observe(seconds)
    except Exception:  # the answer matters more than its count
        log.exception("metrics.not_counted", extra={"metric": "http_requests"})


# Bookings


def counts_booking_attempts(book: Callable) -> Callable:
    """Wrap the one write path that books: each attempt counted by its result."""

    @functools.wraps(book)
    def counted(*args, **kwargs):
        try:
            booking = book(*args, **kwargs)
        except SlotTaken:
            _count(BOOKINGS, SLOT_TAKEN)
            raise
        except InvalidField:
            _count(BOOKINGS, REFUSED)
            raise
        after_commit(lambda: _count(BOOKINGS, CREATED))
        return booking

    return counted


_AFTER_COMMIT = "booking.metrics.after_commit"


def after_commit(count: Callable[[], None]) -> None:
    """Make `count` once the session's transaction commits; never if it rolls back."""
    db.session.info.setdefault(_AFTER_COMMIT, []).append(count)


@event.listens_for(Session, "after_commit")
def _count_what_was_committed(session: Session) -> None:
    for count in session.info.pop(_AFTER_COMMIT, []):
        count()


@event.listens_for(Session, "after_transaction_end")
def _forget_what_was_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outer transaction: after a commit, nothing is left
        session.info.pop(_AFTER_COMMIT, None)


# Text messages


def sms_message(status: str, backend: str | None = None) -> None:
    """A text reached `status`; counted under `backend`, by default the configured one."""
    _count(SMS_MESSAGES, backend or current_app.config["SMS_BACKEND"], status)


# The scheduler


def count_job_runs(scheduler) -> None:
    """Count each run of the scheduler's jobs as it ends, and each that failed, by job id."""

    def ended(job_event: JobExecutionEvent) -> None:
        _count(JOB_RUNS, job_event.job_id)
        if job_event.exception is not None:
            _count(JOB_FAILURES, job_event.job_id)

    scheduler.add_listener(ended, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
