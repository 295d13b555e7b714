"""The production set-up: the database connection pool, and gunicorn as gunicorn.conf.py sets it up.

Two app processes and two schedulers on one PostgreSQL database, and a restart of the database
under load, are shown by bench/scale_out.py and bench/pg_restart.py (scripts, not tests).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from booking import create_app
from booking.extensions import db

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
SECRET_TOKEN = "a-secret-feed-token-0123456789"


# The connection pool ------------------------------------------------------------------------

POOL_OF_A_FRESH_PROCESS = """
import json
from booking import create_app
from booking.extensions import db

app = create_app()
with app.app_context():
    pool = db.engine.pool
    print(json.dumps({
        "size": pool.size(),
        "max_overflow": pool._max_overflow,
        "recycle": pool._recycle,
        "timeout": pool._timeout,
        "pre_ping": pool._pre_ping,
    }))
"""


POOL_SETTINGS = (
    "DATABASE_POOL_SIZE",
    "DATABASE_MAX_OVERFLOW",
    "DATABASE_POOL_RECYCLE",
    "DATABASE_POOL_TIMEOUT",
)
A_POSTGRESQL_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/pool-test"


def pool_of_a_fresh_process(**environment: str) -> dict:
    """The pool of the engine `create_app()` builds in a new process with this environment."""
    env = {k: v for k, v in os.environ.items() if k not in POOL_SETTINGS}
    env.update(SECRET_KEY="pool-test-secret", SERVICE_PHONE="0121 496 0000", **environment)
    done = subprocess.run(
        [sys.executable, "-c", POOL_OF_A_FRESH_PROCESS],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_pool_settings_from_the_environment_reach_the_postgresql_engine():
    # Building the engine does not connect, so this needs no PostgreSQL server.
    pool = pool_of_a_fresh_process(
        DATABASE_URL=A_POSTGRESQL_URL,
        DATABASE_POOL_SIZE="7",
        DATABASE_MAX_OVERFLOW="3",
        DATABASE_POOL_RECYCLE="600",
        DATABASE_POOL_TIMEOUT="4",
    )
    assert pool == {"size": 7, "max_overflow": 3, "recycle": 600, "timeout": 4, "pre_ping": True}


def test_the_postgresql_pool_has_defaults_and_checks_each_connection_before_use():
    pool = pool_of_a_fresh_process(DATABASE_URL=A_POSTGRESQL_URL)
    assert pool == {"size": 5, "max_overflow": 10, "recycle": 1800, "timeout": 10, "pre_ping": True}


def test_sqlite_keeps_its_own_set_up(tmp_path):
    """No pool sizes for SQLite (an in-memory database refuses them); its pragmas still hold."""
    settings = {"DATABASE_POOL": {"pool_size": 3, "max_overflow": 1}}
    in_memory = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", **settings})
    in_file = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'file.sqlite'}", **settings}
    )
    with in_memory.app_context():
        assert db.engine.pool._pre_ping is True
        db.engine.dispose()
    with in_file.app_context():
        assert db.engine.pool._pre_ping is True
        assert db.engine.pool.size() != 3
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        db.engine.dispose()


@pytest.mark.postgres  # drops a connection from the server side
def test_a_connection_the_database_dropped_is_replaced_without_a_failed_request(app, client):
    """What a database restart does to a pooled connection: the next request still succeeds."""
    assert client.get("/healthz").status_code == 200
    db.session.remove()
    with db.engine.connect() as pooled:
        pid = pooled.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    # The pool now holds that connection; end it from another one, as a restart would.
    killer = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    with killer.app_context():
        with db.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        db.engine.dispose()

    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    with db.engine.connect() as replaced:
        assert replaced.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid


# gunicorn.conf.py ---------------------------------------------------------------------------


def gunicorn_settings(monkeypatch, **environment: str) -> dict:
    for name in ("WEB_BIND", "WEB_CONCURRENCY", "WEB_THREADS", "WEB_TIMEOUT", "WEB_ACCESS_LOG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PROXY_FIX_HOPS", raising=False)
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_gunicorn_serves_on_loopback_with_workers_for_the_cores_by_default(monkeypatch):
    settings = gunicorn_settings(monkeypatch)
    assert settings["bind"] == ["127.0.0.1:8000"]
    assert settings["workers"] == 2 * (os.cpu_count() or 1) + 1
    assert settings["worker_class"] == "gthread"
    assert settings["threads"] == 4
    assert settings["graceful_timeout"] > 0
    assert settings["accesslog"] == "-"


def test_gunicorn_takes_its_size_and_address_from_the_environment(monkeypatch):
    settings = gunicorn_settings(
        monkeypatch,
        WEB_BIND="0.0.0.0:8080",
        WEB_CONCURRENCY="3",
        WEB_THREADS="2",
        WEB_TIMEOUT="90",
        WEB_ACCESS_LOG="",
    )
    assert settings["bind"] == ["0.0.0.0:8080"]
    assert (settings["workers"], settings["threads"], settings["timeout"]) == (3, 2, 90)
    assert settings["accesslog"] is None


def test_gunicorn_trusts_forwarded_headers_only_when_the_app_does(monkeypatch):
    assert gunicorn_settings(monkeypatch)["forwarded_allow_ips"] == ""
    assert gunicorn_settings(monkeypatch, PROXY_FIX_HOPS="1")["forwarded_allow_ips"] == "*"
    behind = gunicorn_settings(monkeypatch, PROXY_FIX_HOPS="1", FORWARDED_ALLOW_IPS="10.0.0.0/8")
    assert behind["forwarded_allow_ips"] == "10.0.0.0/8"


def test_every_setting_is_one_gunicorn_knows(monkeypatch):
    from gunicorn.config import Config

    config = Config()
    settings = gunicorn_settings(monkeypatch, PROXY_FIX_HOPS="1")
    known = {name: value for name, value in settings.items() if name in config.settings}
    assert {"bind", "workers", "worker_class", "forwarded_allow_ips", "logger_class"} <= set(known)
    for name, value in known.items():
        config.set(name, value)  # gunicorn's own validation
    assert config.worker_class_str == "gthread"


def access_line(monkeypatch, capsys, path: str, status: str = "200 OK", query: str = "") -> str:
    from gunicorn.config import Config

    settings = gunicorn_settings(monkeypatch)
    config = Config()
    config.set("accesslog", "-")
    logger = settings["AccessLog"](config)
    response = SimpleNamespace(
        status=status, headers=[("X-Request-Id", "req-1")], sent=120, response_length=120
    )
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "RAW_URI": f"{path}?{query}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.10",
        "HTTP_REFERER": f"https://booking.example.test{path}?{query}",
        "HTTP_USER_AGENT": "Calendar/1.0",
    }
    request = SimpleNamespace(headers=[("HOST", "booking.example.test")])
    logger.access(response, request, environ, dt.timedelta(milliseconds=12))
    return capsys.readouterr().out.strip()


def test_the_access_log_hides_calendar_tokens_and_query_strings(monkeypatch, capsys):
    line = access_line(monkeypatch, capsys, f"/calendar/{SECRET_TOKEN}.ics", query="name=Jo+Bloggs")
    entry = json.loads(line)
    assert entry["path"] == "/calendar/[token].ics"
    assert (entry["method"], entry["status"], entry["request_id"]) == ("GET", 200, "req-1")
    for withheld in (SECRET_TOKEN, "Bloggs", "192.0.2.10", "Calendar/1.0"):
        assert withheld not in line


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_successful_checks_and_scrapes_are_not_logged_but_failed_ones_are(
    monkeypatch, capsys, path
):
    assert access_line(monkeypatch, capsys, path) == ""
    assert (
        json.loads(access_line(monkeypatch, capsys, path, "503 SERVICE UNAVAILABLE"))["status"]
        == 503
    )


def test_a_worker_gone_keeps_its_counts_in_the_metrics_directory(monkeypatch, tmp_path):
    """prometheus-client's multiprocess mode: only a dead worker's live gauges go."""
    for name in ("counter_4242.db", "histogram_4242.db", "gauge_livesum_4242.db"):
        (tmp_path / name).write_bytes(b"")
    settings = gunicorn_settings(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    settings["child_exit"](None, SimpleNamespace(pid=4242))
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "counter_4242.db",
        "histogram_4242.db",
    ]


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    """(status, headers, body) of a GET, whatever the status."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn_serving(environment: dict[str, str], log_path: Path) -> Iterator[str]:
    """`gunicorn wsgi:app` from the repository with this environment, its output in
    `log_path`; its base URL once it answers /healthz. Stopped with SIGTERM after, and it
    must then exit cleanly."""
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "wsgi:app"],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://{environment['WEB_BIND']}"
        deadline = time.monotonic() + 60
        while True:
            try:
                http_get(f"{base}/healthz")
                break
            except OSError:  # not listening yet
                assert server.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        exit_code = server.wait(timeout=60)
    assert exit_code == 0, log_path.read_text()


def gunicorn_environment(schema: str, **settings: str) -> dict[str, str]:
    """The environment of a gunicorn on the test database, on a free port of its own."""
    environment = {
        **os.environ,
        "DATABASE_URL": schema,
        "SECRET_KEY": "gunicorn-test-secret",
        "SERVICE_PHONE": "0121 496 0000",
        "WEB_BIND": f"127.0.0.1:{free_port()}",
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "2",
        **settings,
    }
    environment.pop("PROXY_FIX_HOPS", None)
    return environment


def test_gunicorn_wsgi_app_serves_with_this_configuration(schema, tmp_path):
    """`gunicorn wsgi:app` from the repository reads gunicorn.conf.py: it serves, ignores a
    forwarded https from a client without a proxy, logs no token, and stops on SIGTERM."""
    log_path = tmp_path / "gunicorn.log"
    with gunicorn_serving(gunicorn_environment(schema), log_path) as base:
        status, _, body = http_get(f"{base}/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        _, forged_headers, _ = http_get(f"{base}/healthz", {"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" not in forged_headers
        assert http_get(f"{base}/calendar/{SECRET_TOKEN}.ics?refresh=1")[0] == 404
    logged = log_path.read_text()
    assert '"path": "/calendar/[token].ics"' in logged
    assert SECRET_TOKEN not in logged
    assert "refresh" not in logged
