"""What the deployment tests share: the files under deploy/ read the way systemd reads them,
and the service's own commands run as child processes on loopback.

The files name the paths of a machine (/srv/booking, /etc/booking, /var/log/nginx); a test
runs them here by replacing each such path with one of its own, and every replacement must
find what it replaces, so that a changed file fails its test rather than going untested.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
INSTALLED_AT = "/srv/booking"
# What the example environment file leaves for each force to fill in.
# Sign-in counters in memory rather than the machine's Redis.
TEST_SETTINGS = {
    "SECRET_KEY": "deploy-test-secret",
    "SMS_ALLOW_TEST_NUMBERS": "true",
    "RATELIMIT_STORAGE_URI": "memory://",
}


def rewritten(text: str, replacements: dict[str, str]) -> str:
    """`text` with each key replaced by its value; each key must be there."""
    for old, new in replacements.items():
        assert old in text, f"{old!r} is no longer in the file: update the test's replacement"
        text = text.replace(old, new)
    return text


def unit_settings(path: Path) -> dict[str, list[str]]:
    """A systemd unit's settings as "Section.Key": [values in order] (keys may repeat)."""
    settings: dict[str, list[str]] = {}
    section = ""
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        settings.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return settings


def environment_file(path: Path) -> dict[str, str]:
    """NAME=value lines, as systemd's EnvironmentFile= reads those with no quotes."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def unit_command(path: Path, key: str, root: Path = ROOT) -> list[str]:
    """The one command of a unit's ExecStart= or ExecStartPre=, with the code at `root`."""
    (command,) = unit_settings(path)[f"Service.{key}"]
    return shlex.split(rewritten(command, {INSTALLED_AT: str(root)}))


def unit_environment(path: Path, **overrides: str) -> dict[str, str]:
    """The environment a unit gives its commands: its Environment= lines and the example
    environment file in place of /etc/booking/booking.env, with the test's settings."""
    settings = unit_settings(path)
    assert settings["Service.EnvironmentFile"] == ["/etc/booking/booking.env"]
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        **environment_file(DEPLOY / "booking.env.example"),
        **TEST_SETTINGS,
    }
    for assignment in settings.get("Service.Environment", []):
        name, _, value = assignment.partition("=")
        environment[name] = value
    if "PROMETHEUS_MULTIPROC_DIR" in environment:
        # A folder of its own stands in for /run/booking-metrics, which tmpfiles makes at boot.
        environment["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="booking-metrics-")
    environment.update(overrides)
    return environment


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    """(status, headers, body) of a plain-HTTP GET, whatever the status."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def api(url: str, token: str, body: dict | None = None) -> tuple[int, object]:
    """(status, JSON) of an API GET, or a POST when there is a body, whatever the status."""
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"null")


class Child:
    """A child process in a process group of its own, its output in a log file."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path):
        self.log_path = log_path
        with log_path.open("w") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_answering(self, url: str, timeout: float = 90) -> None:
        """Until `url` answers 200, or fail with the child's log."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError):
                if http_get(url)[0] == 200:
                    return
            assert self.process.poll() is None, f"it stopped:\n{self.log()[-3000:]}"
            assert time.monotonic() < deadline, f"no answer at {url}:\n{self.log()[-3000:]}"
            time.sleep(0.2)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM to the main process, as systemd stops a unit (KillMode=mixed); the group is
        killed if it outlives `timeout`."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # workers left behind, if any
        return self.process.returncode


@contextlib.contextmanager
def web_unit(database_url: str, log_dir: Path, **overrides: str) -> Iterator[str]:
    """booking-web.service's commands, run here: its ExecStartPre (the migrations), then its
    ExecStart (gunicorn) on a free loopback port until the block ends. Yields the app's URL."""
    unit = UNITS / "booking-web.service"
    port = free_port()
    env = unit_environment(
        unit,
        DATABASE_URL=database_url,
        WEB_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        WEB_THREADS="4",
        **overrides,
    )
    migrated = subprocess.run(
        unit_command(unit, "ExecStartPre"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    app = Child(unit_command(unit, "ExecStart"), env, log_dir / f"web-{port}.log")
    try:
        url = f"http://127.0.0.1:{port}"
        app.wait_until_answering(f"{url}/healthz")
        yield url
    finally:
        exit_code = app.stop()
    assert exit_code == 0, app.log()[-3000:]
