"""The scheduler's jobs: each has an id and a name that says what it does, for its log."""

from __future__ import annotations

import pytest
from apscheduler.schedulers.blocking import BlockingScheduler


class ScheduledOnly(BlockingScheduler):
    """APScheduler's own scheduler, whose start hands over its jobs instead of running them."""

    jobs: list = []

    def start(self, *args, **kwargs):
        ScheduledOnly.jobs = self.get_jobs()


@pytest.fixture
def scheduled(app, monkeypatch):
    monkeypatch.setattr("apscheduler.schedulers.blocking.BlockingScheduler", ScheduledOnly)
    result = app.test_cli_runner().invoke(args=["scheduler", "run"])
    assert result.exit_code == 0, result.output
    return {job.id: job for job in ScheduledOnly.jobs}


def test_each_job_has_an_id_and_a_name_that_says_what_it_does(scheduled):
    assert {job_id: job.name for job_id, job in scheduled.items()} == {
        "dispatch": "Send the text messages that are due",
        "rota_look_ahead": "Keep the rota filled 56 days ahead",
        "retention_purge": "Remove personal data kept past the retention period",
    }
    # APScheduler's log reads a job as str(job): its name, then its trigger.
    assert not any("<locals>" in str(job) for job in scheduled.values())
