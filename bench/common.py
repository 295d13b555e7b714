"""What the benchmarks share: the database each one runs on, the app, timing, gunicorn, results.

Two databases, chosen with `--db`:

- `sqlite`: a file under /tmp (`/tmp/booking-bench/national.sqlite`);
- `postgres`: postgresql+psycopg://postgres@127.0.0.1:5432/test, in a schema of the benchmarks'
  own (`bench`, through `?options=-csearch_path%3Dbench`), never `public`.

`--database-url` overrides either. The environment is set here, before the service's `config`
module is first imported, because `config.Config` reads it once at import time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
# Scripts are run as `python bench/NAME.py`: put the repository first and the bench folder out
# of the path, so that bench/calendar.py does not stand in for the standard `calendar` module.


def fix_sys_path() -> None:
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


fix_sys_path()

WORK_DIR = Path(os.environ.get("BENCH_WORK_DIR", "/tmp/booking-bench"))
RESULTS_DIR = BENCH_DIR / "results"
PROFILES_DIR = WORK_DIR / "profiles"
# BENCH_SCHEMA / BENCH_NAME choose another data set (a quick one beside the national one).
SCHEMA = os.environ.get("BENCH_SCHEMA", "bench")
SQLITE_NAME = os.environ.get("BENCH_NAME", "national")
POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SECRET_KEY = "bench-secret-key-not-for-service"
BASE_URL = "http://127.0.0.1"

PASSWORD = "bench-password-2026"
SERGEANT_EMAIL = "bench-sergeant@bench.test"
COORDINATOR_EMAIL = "bench-coordinator@bench.test"


def database_url(db: str, override: str | None = None) -> str:
    if override:
        return override
    if db == "sqlite":
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{WORK_DIR / (SQLITE_NAME + '.sqlite')}"
    if db == "postgres":
        return f"{POSTGRES_SERVER}?options=-csearch_path%3D{SCHEMA}"
    raise SystemExit(f"--db must be sqlite or postgres, not {db!r}")


def dialect_of(url: str) -> str:
    return "postgres" if url.startswith("postgresql") else "sqlite"


def service_env(url: str, **extra: str) -> dict[str, str]:
    """The environment the service runs with under the benchmarks (in process or gunicorn)."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        SECRET_KEY=SECRET_KEY,
        SMS_ALLOW_TEST_NUMBERS="true",
        SERVICE_PHONE="0121 496 0000",
        SMS_BACKEND="console",
        PUBLIC_BASE_URL="http://127.0.0.1:5000",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def make_app(url: str, **extra_env: str):
    """The service's app with its production configuration (config.Config), on `url`."""
    os.environ.update({k: v for k, v in service_env(url, **extra_env).items() if k != "PATH"})
    if "config" in sys.modules:
        import importlib

        importlib.reload(sys.modules["config"])
    from booking import create_app

    return create_app()


# (worker, slot start) pairs holding two live bookings: must be 0 after any run.
DOUBLE_BOOKINGS = """
SELECT count(*) FROM (
    SELECT worker_id, starts_at FROM bookings
    WHERE status <> 'cancelled' AND worker_id IS NOT NULL
    GROUP BY worker_id, starts_at HAVING count(*) > 1
) AS doubled
"""


# Timing ------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


class Timings(list):
    """Wall-clock seconds per run, with the process's CPU seconds per run beside them.

    On a machine shared with other work, wall time includes waiting for a core; the CPU time
    of this process is what the run itself cost here (the database server's work on
    PostgreSQL is not in it)."""

    def __init__(self):
        super().__init__()
        self.cpu: list[float] = []


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    summary = {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "max_ms": round(max(ms), 2),
    }
    cpu = getattr(seconds, "cpu", None)
    if cpu:
        summary["cpu_p50_ms"] = round(percentile([c * 1000 for c in cpu], 50), 2)
        summary["cpu_p95_ms"] = round(percentile([c * 1000 for c in cpu], 95), 2)
    return summary


def timed_runs(
    fn: Callable[[], object], runs: int, warmup: int = 3, max_seconds: float = 120.0
) -> Timings:
    """Time `fn` `runs` times after `warmup` untimed calls; stops early after `max_seconds`."""
    for _ in range(warmup):
        fn()
    times = Timings()
    started = time.perf_counter()
    for _ in range(runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        times.cpu.append(time.process_time() - c0)
        if time.perf_counter() - started > max_seconds:
            break
    return times


def repeated(series: Callable[[], list[float]], repeats: int, key: str = "p95_ms") -> dict:
    """Run a timed series `repeats` times: the summary of the run whose `key` is the median,
    with the spread of `key` over all runs (fastest to slowest) and the number of runs."""
    summaries = [summary_ms(series()) for _ in range(repeats)]
    ordered = sorted(summaries, key=lambda summary: summary[key])
    middle = ordered[len(ordered) // 2]
    return middle | {"runs": len(ordered), "spread_ms": [ordered[0][key], ordered[-1][key]]}


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


# Results -----------------------------------------------------------------------------------


def save_results(name: str, db: str, measures: list[dict], notes: dict | None = None) -> Path:
    """Write bench/results/{db}-{name}.json (read by bench/table.py) and print the measures."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": name,
        "db": db,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "load_average_at_end": load_average(),
        "measures": measures,
        "notes": notes or {},
    }
    path = RESULTS_DIR / f"{db}-{name}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\n== {name} on {db} (load average {record['load_average_at_end']})")
    for m in measures:
        print("  " + ", ".join(f"{k}={v}" for k, v in m.items()))
    print(f"results: {path.relative_to(ROOT)}")
    return path


def measure(
    name: str,
    value: float,
    unit: str,
    *,
    goal: str = "",
    floor: float | None = None,
    floor_name: str = "",
    ratio: float | None = None,
    met: bool | None = None,
    **extra,
) -> dict:
    row = {"measure": name, "value": value, "unit": unit, "goal": goal}
    if floor is not None:
        row["floor"] = floor
        row["floor_name"] = floor_name
    if ratio is not None:
        row["ratio"] = round(ratio, 2)
    if met is not None:
        row["met"] = met
    row.update(extra)
    return row


# Profiling ---------------------------------------------------------------------------------


@contextlib.contextmanager
def maybe_profile(enabled: bool, label: str) -> Iterator[None]:
    """Profile the block with pyinstrument (requirements-bench.txt) into /tmp, if asked to."""
    if not enabled:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        PROFILES_DIR.mkdir(parents=True, exist_ok=True)
        path = PROFILES_DIR / f"{label}.txt"
        path.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
        print(f"profile: {path}")


# Servers on loopback -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout: float = 180.0) -> None:
    import requests

    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=10).status_code < 500:
                return
        except requests.RequestException as error:
            last = error
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s ({last})")


class Gunicorn:
    """`gunicorn APP` on 127.0.0.1, started and stopped by pid (never by name)."""

    def __init__(
        self,
        app: str,
        env: dict[str, str],
        workers: int = 4,
        worker_class: str = "sync",
        threads: int = 1,
        health_path: str = "/healthz",
        chdir: Path = ROOT,
        access_log: Path | None = None,
    ):
        self.port = free_port()
        self.url = f"{BASE_URL}:{self.port}"
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.command = [
            str(gunicorn),
            app,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            "--threads",
            str(threads),
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
            "--chdir",
            str(chdir),
        ]
        if access_log is not None:
            # The service's own settings and access line (JSON, with the server's own time for
            # each request in duration_ms), whichever folder the benchmark was started from.
            self.command += [
                "--config",
                str(ROOT / "gunicorn.conf.py"),
                "--access-logfile",
                str(access_log),
            ]
        self.env = env
        self.health_path = health_path
        self.process: subprocess.Popen | None = None
        self.log_path = WORK_DIR / f"gunicorn-{self.port}.log"

    def __enter__(self) -> Gunicorn:
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            self.command, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        try:
            wait_for_http(self.url + self.health_path)
        except Exception:
            self.__exit__(None, None, None)
            print(self.log_path.read_text()[-3000:], file=sys.stderr)
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


# The data set ------------------------------------------------------------------------------


def require_data(app) -> dict:
    """The generated data set's summary (bench_meta), or exit saying how to make it."""
    from sqlalchemy import inspect, text

    from booking.extensions import db

    with app.app_context():
        if not inspect(db.engine).has_table("bench_meta"):
            raise SystemExit(
                "No benchmark data here: run `python bench/generate.py --db ...` first."
            )
        rows = db.session.execute(text("SELECT name, value FROM bench_meta")).all()
        db.session.remove()
        catch_up_schema()
    return {name: json.loads(value) for name, value in rows}


def catch_up_schema() -> None:
    """Add the columns the models gained since the data set was made (the first migration is
    still being rewritten before the first release): nullable, or with the model's scalar
    default as the server default, so that a national data set need not be made again."""
    from sqlalchemy import inspect, text

    from booking.extensions import db

    inspector = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            kind = column.type.compile(dialect=db.engine.dialect)
            default = column.default.arg if column.default is not None else None
            clause = ""
            if isinstance(default, bool):
                clause = f" NOT NULL DEFAULT {'true' if default else 'false'}"
            elif isinstance(default, int | float):
                clause = f" NOT NULL DEFAULT {default}"
            elif isinstance(default, str):
                clause = " NOT NULL DEFAULT '{}'".format(default.replace("'", "''"))
            with db.engine.begin() as conn:
                conn.execute(
                    text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}{clause}")
                )
            print(f"schema catch-up: added {table.name}.{column.name} {kind}{clause}")


def api_token(app, email: str = SERGEANT_EMAIL) -> str:
    """A fresh API token for a bench user (only its digest is stored)."""
    from booking.accounts.users import find_by_email, issue_token
    from booking.extensions import db

    with app.app_context():
        user = find_by_email(email)
        token = issue_token(user, dt.datetime.now(dt.UTC))
        db.session.commit()
        db.session.remove()
    return token


def add_common_options(parser) -> None:
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", help="any SQLAlchemy URL instead of --db's default")
    parser.add_argument(
        "--profile", action="store_true", help="profile with pyinstrument into /tmp"
    )
