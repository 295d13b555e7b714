"""A PostgreSQL restart under booking load: no acknowledged booking lost, and the apps recover
by themselves.

    python bench/pg_restart.py [--cluster throwaway|main] [--seconds 30] [--restart-at 10]

`--cluster throwaway` (the default) makes a PostgreSQL cluster of its own under /tmp (initdb,
as the postgres user when run as root) on a free loopback port, and removes it at the end: the
machine's main server is never disturbed. `--cluster main` runs against the local server
(127.0.0.1:5432, database `test`, in a schema `db_restart_<pid>` dropped at the end) and
restarts it with `pg_ctlcluster --skip-systemctl-redirect VERSION main restart`: that cuts
every other session on the server, so only do it when nobody else is testing.

Set-up as in production (see bench/scale_out.py): `flask db upgrade`, `flask demo load`, two
`gunicorn wsgi:app` processes with gunicorn.conf.py (the pool's pre-ping on). Clients (threads,
alternating between the apps) book one free place after another over the HTTP API for
`--seconds`; `--restart-at` seconds in, the database is restarted. A thread polls /healthz.

Checks: every booking acknowledged with 201 is in the database afterwards; while the database
was away the failures were 5xx or connection errors only; after the restart bookings succeed
again, with no app process restarted. Reports the counts, the restart's length, the time from
the database being back to the first booking acknowledged again, and the /healthz answers.
Writes bench/results/postgres-pg_restart.json. The database server is always left running.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale_out  # noqa: E402  (it imports common, which then takes bench/ out of the path)

common = scale_out.common

MAIN_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA_PREFIX = "db_restart_"  # PostgreSQL reserves the prefix pg_


# The database server -----------------------------------------------------------------------


def postgres_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not versions:
        raise SystemExit("No PostgreSQL binaries under /usr/lib/postgresql")
    return versions[-1]


def pg_isready(port: int) -> bool:
    done = subprocess.run(
        [str(postgres_bin() / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-t", "2"],
        capture_output=True,
    )
    return done.returncode == 0


def wait_until_ready(port: int, max_seconds: float) -> bool:
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        if pg_isready(port):
            return True
        time.sleep(0.2)
    return False


class ThrowawayCluster:
    """A PostgreSQL cluster of this run's own, under /tmp, removed at the end."""

    def __init__(self):
        self.port = common.free_port()
        self.base = Path(f"/tmp/booking-pg-restart-{os.getpid()}")
        self.data = self.base / "data"
        self.server = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.name = f"throwaway cluster on port {self.port}"

    def _as_postgres(self, *command: str, timeout: float = 120) -> None:
        # initdb and the server refuse to run as root.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=timeout)

    def pg_ctl(self, *args: str, timeout: float = 120) -> None:
        self._as_postgres(
            str(postgres_bin() / "pg_ctl"), "-D", str(self.data), *args, timeout=timeout
        )

    def __enter__(self) -> ThrowawayCluster:
        self.base.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        self._as_postgres(
            str(postgres_bin() / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.base} -c max_connections=60"
        )
        self.pg_ctl("-o", options, "-l", str(self.base / "server.log"), "-w", "start")
        return self

    def restart(self) -> None:
        # pg_ctl restarts with the options the server was started with (postmaster.opts).
        self.pg_ctl("-m", "fast", "-w", "-l", str(self.base / "server.log"), "restart")

    def ensure_running(self) -> bool:
        return pg_isready(self.port)

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.pg_ctl("-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(self.base, ignore_errors=True)


class MainCluster:
    """The machine's own PostgreSQL server; left running whatever happens."""

    port = 5432
    server = MAIN_SERVER

    def __init__(self):
        self.version = sorted(os.listdir("/etc/postgresql"), key=int)[-1]
        self.name = f"main cluster {self.version} on port 5432"

    def _pg_ctlcluster(self, action: str) -> None:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", self.version, "main", action],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def __enter__(self) -> MainCluster:
        if not pg_isready(self.port):
            raise SystemExit("PostgreSQL is not answering on 127.0.0.1:5432")
        return self

    def other_sessions(self) -> int:
        """Client sessions on the server besides this one: a restart cuts them all."""
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as connection:
            return connection.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).fetchone()[0]

    def restart(self) -> None:
        print(f"restarting {self.name}: {self.other_sessions()} client sessions will be cut")
        self._pg_ctlcluster("restart")

    def ensure_running(self) -> bool:
        if wait_until_ready(self.port, 10):
            return True
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._pg_ctlcluster("start")
        return wait_until_ready(self.port, 60)

    def __exit__(self, *exc) -> None:
        if not self.ensure_running():
            print("PostgreSQL did not come back: start it by hand", file=sys.stderr)


# Load --------------------------------------------------------------------------------------


def free_places(app: str, token: str, wanted: int) -> list[dict]:
    """The earliest free places (a slot once for each worker free in it), up to `wanted`."""
    slots = scale_out.earliest_free_slots(app, token, wanted)
    return [slot for slot in slots for _ in range(slot["free"])][:wanted]


class Load:
    """Clients booking one place after another; every answer recorded with its time."""

    def __init__(self, apps: list[str], token: str, places: list[dict], clients: int, pause: float):
        self.apps = apps
        self.token = token
        self.places = iter(enumerate(places))
        self.clients = clients
        self.pause = pause  # a steady load, not a flood: the machine is shared
        self.lock = threading.Lock()
        self.answers: list[dict] = []
        self.health: list[tuple[float, str, object]] = []
        self.stop = threading.Event()
        self.t0 = time.monotonic()
        self.now = dt.datetime.now(dt.UTC)

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def _client(self, n: int) -> None:
        import requests

        app = self.apps[n % len(self.apps)]
        session = requests.Session()
        headers = {"Authorization": f"Bearer {self.token}"}
        while not self.stop.is_set():
            with self.lock:
                item = next(self.places, None)
            if item is None:
                break
            index, slot = item
            body = scale_out.booking_body(slot, index, self.now)
            body["custody_record"] = f"RESTART/{index:06d}"
            began = self.elapsed()
            answer = {"t": began, "app": app}
            try:
                response = session.post(
                    f"{app}/api/v1/bookings", json=body, headers=headers, timeout=30
                )
                answer["status"] = response.status_code
                if response.status_code == 201:
                    answer["reference"] = response.json()["reference"]
            except requests.RequestException as error:
                answer["status"] = type(error).__name__
                session.close()
                session = requests.Session()  # a fresh connection after a broken one
            answer["done"] = self.elapsed()
            with self.lock:
                self.answers.append(answer)
            time.sleep(self.pause)
        session.close()

    def _poll_health(self) -> None:
        import requests

        with requests.Session() as session:
            while not self.stop.is_set():
                for app in self.apps:
                    try:
                        status: object = session.get(f"{app}/healthz", timeout=5).status_code
                    except requests.RequestException as error:
                        status = type(error).__name__
                    self.health.append((self.elapsed(), app, status))
                time.sleep(0.25)

    def __enter__(self) -> Load:
        self.threads = [
            threading.Thread(target=self._client, args=(n,)) for n in range(self.clients)
        ]
        self.threads.append(threading.Thread(target=self._poll_health))
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=90)


def stored_references(url: str) -> set[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT reference FROM bookings WHERE custody_record LIKE 'RESTART/%'")
            )
            return {reference for (reference,) in rows}
    finally:
        engine.dispose()


def double_bookings(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(common.DOUBLE_BOOKINGS)).scalar()
    finally:
        engine.dispose()


def acceptable(status: int | str) -> bool:
    """201, or what a database outage may cause: a 5xx or a connection error (its name)."""
    return status == 201 or not isinstance(status, int) or status >= 500


def workers_booted(log: str) -> int:
    return log.count("Booting worker")


# The run -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cluster", choices=["throwaway", "main"], default="throwaway")
    parser.add_argument("--seconds", type=float, default=30, help="length of the load")
    parser.add_argument("--restart-at", type=float, default=10, help="seconds into the load")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--places", type=int, default=2000, help="free places to book at most")
    parser.add_argument(
        "--pause", type=float, default=0.2, help="seconds each client waits between requests"
    )
    args = parser.parse_args()

    cluster = ThrowawayCluster() if args.cluster == "throwaway" else MainCluster()
    schema = f"{SCHEMA_PREFIX}{os.getpid()}"
    url = scale_out.schema_url(schema, cluster.server)
    log_dir = common.WORK_DIR / f"pg_restart-{os.getpid()}"
    notes: dict = {
        "cluster": cluster.name,
        "schema": schema,
        "commit": scale_out.source_commit(),
        "load_average_at_start": common.load_average(),
    }

    with cluster:
        scale_out.create_schema(schema, cluster.server)
        try:
            with scale_out.Children(log_dir) as children:
                env = common.service_env(url)
                env.pop("PROXY_FIX_HOPS", None)
                scale_out.run_flask(env, "db", "upgrade")
                scale_out.run_flask(env, "demo", "load")
                token = scale_out.run_flask(env, "users", "token", scale_out.SERGEANT)
                token = token.strip().splitlines()[-1]
                apps = [scale_out.start_app(children, f"app-{n}", env) for n in (1, 2)]
                booted = {f"app-{n}": workers_booted(children.log(f"app-{n}")) for n in (1, 2)}
                places = free_places(apps[0], token, args.places)
                print(f"{cluster.name}; apps at {', '.join(apps)}; {len(places)} free places")

                restart: dict = {}
                with Load(apps, token, places, args.clients, args.pause) as load:
                    time.sleep(args.restart_at)
                    restart["began"] = load.elapsed()
                    try:
                        cluster.restart()
                    finally:
                        restart["back"] = load.elapsed()
                        restart["ready"] = cluster.ensure_running()
                    print(f"restarted in {restart['back'] - restart['began']:.1f} s")
                    while load.elapsed() < args.seconds and any(
                        t.is_alive() for t in load.threads[:-1]
                    ):
                        time.sleep(0.5)

                answers = sorted(load.answers, key=lambda a: a["t"])
                health = load.health
                still_running = {
                    name: process.poll() is None for name, process, _ in children.started
                }
                booted_after = {
                    f"app-{n}": workers_booted(children.log(f"app-{n}")) for n in (1, 2)
                }
            acknowledged = [a["reference"] for a in answers if a["status"] == 201]
            stored = stored_references(url)
            doubled = double_bookings(url)
        finally:
            with contextlib.suppress(Exception):
                cluster.ensure_running()
                scale_out.drop_schema(schema, cluster.server)

    began, back = restart["began"], restart["back"]
    before = [a for a in answers if a["done"] < began]
    failures = [a for a in answers if a["status"] != 201]
    first_failure = min((a["t"] for a in failures if a["done"] >= began), default=None)
    first_after = next((a for a in answers if a["status"] == 201 and a["t"] >= back), None)
    recovered_at = first_after["done"] if first_after else None
    after = [a for a in answers if recovered_at is not None and a["t"] > recovered_at]
    outage = [
        a
        for a in answers
        if a["done"] >= began and (recovered_at is None or a["t"] <= recovered_at)
    ]
    unexpected = Counter(str(a["status"]) for a in answers if not acceptable(a["status"]))
    unhealthy = [h for h in health if h[2] != 200]
    notes.update(
        {
            "seconds": args.seconds,
            "clients": args.clients,
            "apps": len(apps),
            "places_offered": len(places),
            "requests": len(answers),
            "statuses": dict(Counter(str(a["status"]) for a in answers)),
            "statuses_before_restart": dict(Counter(str(a["status"]) for a in before)),
            "statuses_during_outage": dict(Counter(str(a["status"]) for a in outage)),
            "statuses_after_recovery": dict(Counter(str(a["status"]) for a in after)),
            "restart_began_s": round(began, 2),
            "restart_command_s": round(back - began, 2),
            "server_ready_after_restart": restart["ready"],
            "first_failure_s": round(first_failure, 2) if first_failure is not None else None,
            "first_201_after_restart_s": round(recovered_at, 2) if recovered_at else None,
            # Requests sent once the server answered again, yet failed (pre-ping prevents them).
            "failures_sent_after_server_back": sum(1 for a in failures if a["t"] >= back),
            "acknowledged": len(acknowledged),
            "stored": len(stored),
            "stored_not_acknowledged": len(stored - set(acknowledged)),
            "healthz_not_200": dict(Counter(str(h[2]) for h in unhealthy)),
            "healthz_not_200_span_s": (
                [round(unhealthy[0][0], 2), round(unhealthy[-1][0], 2)] if unhealthy else None
            ),
            "healthz_last": {
                app: next((h[2] for h in reversed(health) if h[1] == app), None) for app in apps
            },
            "app_processes_still_running": still_running,
            "workers_booted_before_and_after": {k: [booted[k], booted_after[k]] for k in booted},
            "logs": str(log_dir),
        }
    )
    missing = len(set(acknowledged) - stored)
    recovery = (recovered_at - back) if recovered_at is not None else None
    after_failures = sum(1 for a in after if a["status"] != 201)
    apps_restarted = sum(1 for k in booted if booted_after[k] != booted[k] or not still_running[k])
    measures = [
        common.measure(
            "acknowledged (201) bookings missing after the restart",
            missing,
            "bookings",
            goal="0",
            met=missing == 0,
            acknowledged=len(acknowledged),
        ),
        common.measure(
            "failures other than 5xx or connection errors",
            sum(unexpected.values()),
            "requests",
            goal="0",
            met=not unexpected,
            statuses=dict(unexpected),
        ),
        common.measure(
            "bookings acknowledged after the restart, without restarting the apps",
            len([a for a in answers if a["status"] == 201 and a["t"] >= back]),
            "bookings",
            goal="> 0, and no failure once recovered, no app worker restarted",
            met=recovered_at is not None and after_failures == 0 and apps_restarted == 0,
            failures_after_recovery=after_failures,
            app_workers_restarted=apps_restarted,
        ),
        common.measure(
            "recovery: database back to the first booking acknowledged",
            round(recovery * 1000, 1) if recovery is not None else -1,
            "ms",
            restart_command_ms=round((back - began) * 1000, 1),
        ),
        common.measure("double bookings", doubled, "pairs", goal="0", met=doubled == 0),
    ]
    common.save_results("pg_restart", "postgres", measures, notes)
    failed = [m["measure"] for m in measures if m.get("met") is False]
    print("all checks met" if not failed else f"NOT MET: {failed}")
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"took {time.perf_counter() - started:.0f} s")
