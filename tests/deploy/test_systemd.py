"""The systemd units under deploy/systemd: valid to systemd itself, hardened, and their
commands working as written. (The web unit's commands serve in tests/deploy/test_nginx.py and
test_backup_restore.py.)

systemd-analyze (Debian's systemd package) needs no running systemd for `verify` and for
`security --offline`; without it those tests are skipped.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from tests.deploy.live import (
    INSTALLED_AT,
    ROOT,
    UNITS,
    Child,
    rewritten,
    unit_command,
    unit_environment,
    unit_settings,
)

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd_analyze = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None, reason="no systemd-analyze (apt-get install systemd)"
)
SERVICES = ("booking-web.service", "booking-scheduler.service", "booking-backup.service")
ALL_UNITS = (*SERVICES, "booking-backup.timer")
# systemd-analyze security's exposure score (0 to 10) times ten: "OK" is below 2.
EXPOSURE_THRESHOLD = 20


def units_here(folder) -> list[str]:
    """The units with their paths on this machine (systemd checks that commands exist)."""
    paths = []
    for name in ALL_UNITS:
        text = (UNITS / name).read_text()
        if INSTALLED_AT in text:
            text = rewritten(text, {INSTALLED_AT: str(ROOT)})
        (folder / name).write_text(text)
        paths.append(str(folder / name))
    return paths


@needs_systemd_analyze
def test_systemd_finds_nothing_wrong_with_the_units(tmp_path):
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *units_here(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Unknown keys and bad values are warnings only: any output at all fails.
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


@needs_systemd_analyze
@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_hardened(tmp_path, service):
    units_here(tmp_path)
    done = subprocess.run(
        [
            SYSTEMD_ANALYZE,
            "security",
            "--offline=true",
            f"--threshold={EXPOSURE_THRESHOLD}",
            "--no-pager",
            str(tmp_path / service),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr


def test_the_services_run_alike_as_the_service_user():
    """One user, one environment file, one working directory, and the same hardening."""
    hardening = None
    for service in SERVICES:
        settings = unit_settings(UNITS / service)
        assert settings["Service.User"] == settings["Service.Group"] == ["booking"]
        assert settings["Service.EnvironmentFile"] == ["/etc/booking/booking.env"]
        assert settings["Service.WorkingDirectory"] == [INSTALLED_AT]
        assert settings["Service.NoNewPrivileges"] == ["yes"]
        assert settings["Service.ProtectSystem"] == ["strict"]
        assert settings["Service.PrivateTmp"] == ["yes"]
        assert settings["Service.CapabilityBoundingSet"] == [""]
        if service != "booking-backup.service":
            # Both count into one metrics directory, the only place either may write.
            environment = settings["Service.Environment"]
            assert "PROMETHEUS_MULTIPROC_DIR=/run/booking-metrics" in environment
            assert settings["Service.ReadWritePaths"] == ["/run/booking-metrics"]
        protections = {
            key: values
            for key, values in settings.items()
            if key.startswith(("Service.Protect", "Service.Restrict", "Service.SystemCall"))
        }
        assert protections, f"{service} has no Protect, Restrict or SystemCall settings"
        assert hardening in (None, protections), f"{service} is hardened differently"
        hardening = protections


def test_the_long_running_services_restart_on_failure_and_stop_gracefully():
    for service in ("booking-web.service", "booking-scheduler.service"):
        settings = unit_settings(UNITS / service)
        assert settings["Service.Restart"] == ["on-failure"]
        assert settings["Service.KillMode"] == ["mixed"]  # SIGTERM to the main process only
        # More than gunicorn's graceful_timeout (30 s) and a scheduler's pass.
        assert int(settings["Service.TimeoutStopSec"][0]) > 30
        assert settings["Install.WantedBy"] == ["multi-user.target"]
    web = unit_settings(UNITS / "booking-web.service")
    assert web["Service.Type"] == ["notify"]  # gunicorn says READY=1 once it listens
    assert unit_command(UNITS / "booking-web.service", "ExecStartPre")[1:] == [
        "--app",
        "wsgi",
        "db",
        "upgrade",
    ]


def test_the_scheduler_unit_runs_one_scheduler_that_stops_cleanly_on_sigterm(schema, tmp_path):
    unit = UNITS / "booking-scheduler.service"
    command = unit_command(unit, "ExecStart")
    assert command[1:] == ["--app", "wsgi", "scheduler", "run"]
    scheduler = Child(
        command, unit_environment(unit, DATABASE_URL=schema), tmp_path / "scheduler.log"
    )
    try:
        deadline = time.monotonic() + 60
        while "Scheduler running" not in scheduler.log():
            assert scheduler.process.poll() is None, scheduler.log()
            assert time.monotonic() < deadline, scheduler.log()
            time.sleep(0.2)
    finally:
        exit_code = scheduler.stop()
    assert exit_code == 0, scheduler.log()
    assert "Scheduler stopped." in scheduler.log()
