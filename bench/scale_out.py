"""Two app processes and two schedulers on one PostgreSQL database: no double booking, no
duplicate text message, nothing acknowledged and lost.

    python bench/scale_out.py [--places 250] [--attempts-per-place 3] [--clients 16]

The production set-up, on 127.0.0.1: in a schema of its own in the local PostgreSQL
(`scale_out_<pid>`, never `public` nor `bench`; dropped at the end) it runs `flask db upgrade`
and `flask demo load`, then starts

- two app processes, `gunicorn wsgi:app` with gunicorn.conf.py (2 workers of 4 threads each,
  on two ports), Flask-Limiter's storage in Redis when Redis answers on 127.0.0.1:6379;
- two `flask scheduler run` processes, SMS_BACKEND=twilio, sending to a stand-in Twilio on
  loopback (tests/sms/twilio_standin.py, in a process of its own, recording every request), each
  from a sender number of its own, so that the stand-in shows which one sent each text.

Clients (threads, alternating between the two apps, with one sergeant's API token) race for
the earliest free slots: each slot is asked for `--attempts-per-place` times as many times as
it has places, so most requests lose a race and get 409. Then the schedulers send the
confirmations, and every booking acknowledged with 201 is read back through both apps.

Checks (each must be 0): double bookings (a worker holding two live bookings at one time),
bookings beyond a slot's places, acknowledged bookings missing from the database or answering
differently through the two apps, messages due and not sent, messages the stand-in received
more than once, and messages recorded as sent that the stand-in never accepted.

Writes bench/results/postgres-scale_out.json. Every child process is stopped at the end (by
its process group id), and the schema is dropped, even on failure.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

common.fix_sys_path()

SERGEANT = "sergeant@demo.test"
REDIS_URL = "redis://127.0.0.1:6379/13"  # the tests use database 15
SCHEMA_PREFIX = "scale_out_"
# The schemas these scripts may create and drop (bench/pg_restart.py uses the second).
OWN_SCHEMA_PREFIXES = (SCHEMA_PREFIX, "db_restart_")
PUBLIC_BASE_URL = "https://booking.example.test"
# The sender number of each scheduler (Ofcom's drama range).
SCHEDULER_NUMBERS = ("+447700900001", "+447700900002")
SENDERS = {number: f"scheduler-{n}" for n, number in enumerate(SCHEDULER_NUMBERS, 1)}
FLASK = Path(sys.executable).parent / "flask"
GUNICORN = Path(sys.executable).parent / "gunicorn"

# A live booking of this run whose worker is not rostered at that block for the whole slot.
OFF_ROTA = """
SELECT count(*) FROM bookings b
WHERE b.status <> 'cancelled' AND b.custody_record LIKE 'SCALE/%' AND NOT EXISTS (
    SELECT 1 FROM shifts s
    WHERE s.worker_id = b.worker_id AND s.block_id = b.block_id
      AND s.starts_at <= b.starts_at AND s.ends_at >= b.ends_at
)
"""


# The database schema of this run -----------------------------------------------------------


def schema_url(schema: str, server: str = common.POSTGRES_SERVER) -> str:
    return f"{server}?options=-csearch_path%3D{schema}"


def create_schema(schema: str, server: str = common.POSTGRES_SERVER) -> None:
    _schema_statement(f"CREATE SCHEMA {schema}", schema, server)


def drop_schema(schema: str, server: str = common.POSTGRES_SERVER) -> None:
    _schema_statement(f"DROP SCHEMA IF EXISTS {schema} CASCADE", schema, server)


def _schema_statement(statement: str, schema: str, server: str) -> None:
    # Only ever a schema of these scripts' own: never public, never the benchmarks' data set.
    if not schema.startswith(OWN_SCHEMA_PREFIXES) or not schema.replace("_", "").isalnum():
        raise ValueError(f"not a scale-out schema: {schema!r}")
    import psycopg

    with psycopg.connect(server.replace("postgresql+psycopg", "postgresql"), autocommit=True) as c:
        c.execute(statement)


# Child processes ---------------------------------------------------------------------------


class Children:
    """Child processes, each in a process group of its own, all stopped on exit by group id."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[tuple[str, subprocess.Popen, Path]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                command,
                cwd=common.ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append((name, process, log_path))
        return process

    def stop(self, name: str, timeout: float = 30.0) -> int | None:
        for known, process, _ in self.started:
            if known == name:
                return _stop(process, timeout)
        return None

    def log(self, name: str) -> str:
        for known, _, log_path in self.started:
            if known == name:
                return log_path.read_text(errors="replace")
        return ""

    def __enter__(self) -> Children:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc) -> None:
        for _, process, _ in reversed(self.started):
            _stop(process, 30.0)


def _stop(process: subprocess.Popen, timeout: float) -> int | None:
    """SIGTERM to the child's process group, then SIGKILL if it is still there after `timeout`."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    # Workers a master left behind, if any, go with the group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    return process.returncode


def run_flask(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [str(FLASK), "--app", "wsgi", *args],
        cwd=common.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def source_commit() -> str | None:
    """The commit of the code under test, when it runs from a git checkout."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=common.ROOT, capture_output=True, text=True
        )
        if done.returncode == 0:
            return done.stdout.strip()
    return os.environ.get("BENCH_SOURCE_COMMIT")


def redis_answers() -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 6379), 2) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")
    return False


def start_app(children: Children, name: str, env: dict[str, str]) -> str:
    """`gunicorn wsgi:app` as gunicorn.conf.py sets it up, on a free loopback port; its URL."""
    port = common.free_port()
    app_env = {**env, "WEB_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2", "WEB_THREADS": "4"}
    children.start(name, [str(GUNICORN), "wsgi:app"], app_env)
    url = f"http://127.0.0.1:{port}"
    try:
        common.wait_for_http(url + "/healthz", timeout=120)
    except RuntimeError:
        print(children.log(name)[-3000:], file=sys.stderr)
        raise
    return url


# The stand-in Twilio, in a process of its own ---------------------------------------------


def _standin_main(conn) -> None:
    from tests.sms.twilio_standin import TwilioStandIn

    standin = TwilioStandIn().start()
    conn.send((standin.url, standin.account_sid, standin.auth_token))
    while True:
        command = conn.recv()
        if command == "report":
            conn.send([(r.body, r.sid, r.answered, r.form.get("From")) for r in standin.requests])
        elif command == "stop":
            standin.stop()
            conn.send([repr(e) for e in standin.errors])
            return


class StandIn:
    """tests/sms/twilio_standin.py on 127.0.0.1, in a process of its own."""

    def __enter__(self) -> StandIn:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_standin_main, args=(child,), daemon=True)
        self.process.start()
        self.url, self.account_sid, self.auth_token = self.conn.recv()
        return self

    def received(self) -> list[tuple[str, str | None, int]]:
        """(body, sid, status answered, sender) of every request received."""
        self.conn.send("report")
        return self.conn.recv()

    def environment(self) -> dict[str, str]:
        from tests.sms.twilio_standin import FROM_NUMBER

        return {
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "TWILIO_API_BASE_URL": self.url,
        }

    def __exit__(self, *exc) -> None:
        if self.process.is_alive():
            with contextlib.suppress(Exception):
                self.conn.send("stop")
                if self.conn.poll(15):
                    errors = self.conn.recv()
                    if errors:
                        print("stand-in errors:", errors, file=sys.stderr)
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)


# Booking over HTTP -------------------------------------------------------------------------


def earliest_free_slots(app: str, token: str, places: int) -> list[dict]:
    """The earliest free slots, page by page, until they hold `places` places (or run out)."""
    import requests

    slots: list[dict] = []
    seen: set[tuple[str, str]] = set()
    params: dict = {"limit": 100}
    with requests.Session() as session:
        for _ in range(100):  # bounded: 10,000 slots at most
            page = session.get(
                f"{app}/api/v1/slots",
                params=params,
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            ).json()
            new = [s for s in page if (s["block"], s["starts_at"]) not in seen]
            for slot in new:
                if sum(s["free"] for s in slots) >= places:
                    return slots
                seen.add((slot["block"], slot["starts_at"]))
                slots.append(slot)
            if not new:
                return slots
            params["after"] = new[-1]["starts_at"]
    return slots


def booking_body(slot: dict, n: int, now: dt.datetime) -> dict:
    """A valid booking for that slot; names invented, mobiles from Ofcom's drama range."""
    return {
        "block": slot["block"],
        "starts_at": slot["starts_at"],
        "custody_record": f"SCALE/{n:06d}",
        "person_name": f"Alex Scaleout {n}",
        "mobile": f"07700 900{100 + n % 900:03d}",
        "sms_consent": True,
        "requirement": "initial",
        "test_result": "cocaine",
        "tested_at": (now - dt.timedelta(hours=1)).isoformat(timespec="seconds"),
        "disputed": False,
        "arrest_block": slot["block"],
    }


def race_for_slots(
    apps: list[str], token: str, bodies: list[dict], clients: int, timeout: float
) -> dict:
    """`clients` threads, alternating between the apps, POST the bodies in order, each once.

    Neighbouring bodies ask for the same slot, so concurrent requests race for it."""
    import requests

    lock = threading.Lock()
    queue = iter(enumerate(bodies))
    answers: list[dict] = []
    start = threading.Barrier(clients + 1)
    deadline = time.monotonic() + timeout

    def client(n: int) -> None:
        app = apps[n % len(apps)]
        session = requests.Session()
        headers = {"Authorization": f"Bearer {token}"}
        start.wait()
        while time.monotonic() < deadline:
            with lock:
                item = next(queue, None)
            if item is None:
                break
            index, body = item
            answer = {"index": index, "app": app, "slot": (body["block"], body["starts_at"])}
            try:
                response = session.post(
                    f"{app}/api/v1/bookings", json=body, headers=headers, timeout=60
                )
                answer["status"] = response.status_code
                if response.status_code == 201:
                    answer["booking"] = response.json()
            except requests.RequestException as error:
                answer["status"] = type(error).__name__
            with lock:
                answers.append(answer)
        session.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join(timeout=timeout + 120)
    return {"answers": answers, "wall_s": time.perf_counter() - began}


def read_back(apps: list[str], token: str, references: list[str]) -> dict:
    """Each acknowledged booking through every app: found, and the same everywhere."""
    import requests

    missing, differing, confirmations_not_sent = 0, 0, 0
    headers = {"Authorization": f"Bearer {token}"}
    with requests.Session() as session:
        for reference in references:
            seen = []
            for app in apps:
                response = session.get(
                    f"{app}/api/v1/bookings/{reference}", headers=headers, timeout=60
                )
                if response.status_code != 200:
                    missing += 1
                    continue
                booking = response.json()
                seen.append(
                    (
                        booking["block"],
                        booking["starts_at"],
                        booking["status"],
                        tuple(sorted((m["kind"], m["status"]) for m in booking["messages"])),
                    )
                )
                confirmation = [m for m in booking["messages"] if m["kind"] == "confirmation"]
                if not confirmation or confirmation[0]["status"] not in ("sent", "delivered"):
                    confirmations_not_sent += 1
            if len(set(seen)) > 1:
                differing += 1
    return {
        "read": len(references) * len(apps),
        "missing": missing,
        "differing": differing,
        "confirmations_not_sent": confirmations_not_sent,
    }


# Checks in the database --------------------------------------------------------------------


def database_checks(url: str, references: list[str], capacity: dict, cutoff: dt.datetime) -> dict:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            stored = {
                reference: (block, starts_at)
                for reference, block, starts_at in conn.execute(
                    text(
                        "SELECT b.reference, k.code, b.starts_at FROM bookings b "
                        "JOIN blocks k ON k.id = b.block_id "
                        "WHERE b.custody_record LIKE 'SCALE/%' AND b.status = 'booked'"
                    )
                )
            }
            per_slot = Counter(
                (block, starts_at.astimezone(dt.UTC)) for block, starts_at in stored.values()
            )
            over_capacity = sum(
                max(0, count - capacity.get(slot, 0)) for slot, count in per_slot.items()
            )
            messages = conn.execute(
                text(
                    "SELECT b.reference, m.kind, m.status, m.provider_id, m.due_at <= :cutoff "
                    "FROM messages m JOIN bookings b ON b.id = m.booking_id "
                    "WHERE b.custody_record LIKE 'SCALE/%'"
                ),
                {"cutoff": cutoff},
            ).all()
            return {
                "stored": len(stored),
                "acknowledged_missing": len(set(references) - set(stored)),
                "stored_not_acknowledged": len(set(stored) - set(references)),
                "double_bookings": conn.execute(text(common.DOUBLE_BOOKINGS)).scalar(),
                "off_rota": conn.execute(text(OFF_ROTA)).scalar(),
                "over_capacity": over_capacity,
                "messages": [tuple(row) for row in messages],
            }
    finally:
        engine.dispose()


def wait_until_sent(url: str, max_seconds: float) -> tuple[float, int, dt.datetime]:
    """Poll until no message of the run is due and unsent.

    (seconds waited, how many are still unsent, the database's time of the last look)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    query = text(
        "SELECT count(*), now() FROM messages m JOIN bookings b ON b.id = m.booking_id "
        "WHERE b.custody_record LIKE 'SCALE/%' AND m.due_at <= now() "
        "AND (m.status = 'pending' OR (m.status = 'sending' AND m.provider_id IS NULL))"
    )
    began = time.monotonic()
    try:
        while True:
            with engine.connect() as conn:
                unsent, at = conn.execute(query).one()
            waited = time.monotonic() - began
            if unsent == 0 or waited > max_seconds:
                return waited, unsent, at
            time.sleep(1)
    finally:
        engine.dispose()


def sms_checks(messages: list[tuple], received: list[tuple], references: list[str]) -> dict:
    """What the stand-in received for this run's bookings, against what the database says."""
    ours = set(references)

    def reference_in(body: str) -> str | None:
        return next((r for r in ours if r in body), None)

    accepted = [(body, sid, sender) for body, sid, status, sender in received if status == 201]
    ours_accepted = [(body, sid) for body, sid, _ in accepted if reference_in(body)]
    # Each scheduler sends from a number of its own, so the stand-in shows who sent what.
    per_sender = Counter(sender for body, _, sender in accepted if reference_in(body))
    per_text = Counter(body for body, _ in ours_accepted)
    sent = [m for m in messages if m[2] in ("sent", "delivered")]
    accepted_sids = {sid for _, sid in ours_accepted}
    stored_ids = [m[3] for m in sent]
    return {
        "messages": len(messages),
        "sent": len(sent),
        "due_not_sent": sum(
            1 for m in messages if m[4] and m[2] in ("pending", "sending") and not m[3]
        ),
        "statuses": dict(Counter(f"{m[1]}:{m[2]}" for m in messages)),
        "accepted_at_standin": len(ours_accepted),
        "duplicates_at_standin": sum(c - 1 for c in per_text.values() if c > 1),
        "sent_not_accepted": sum(1 for pid in stored_ids if pid not in accepted_sids),
        "accepted_not_recorded": len(accepted_sids - set(stored_ids)),
        "provider_id_reused": len(stored_ids) - len(set(stored_ids)),
        "other_requests": len(received) - len(ours_accepted),
        "sent_per_scheduler": {SENDERS.get(k, k): v for k, v in sorted(per_sender.items())},
    }


# The run -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--places", type=int, default=250, help="free places raced for (more than a batch)"
    )
    parser.add_argument(
        "--attempts-per-place", type=int, default=3, help="requests per free place in a slot"
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--max-seconds", type=float, default=300, help="bound on the booking")
    parser.add_argument("--dispatch-seconds", type=float, default=150, help="bound on sending")
    parser.add_argument("--server", default=common.POSTGRES_SERVER, help="PostgreSQL URL")
    args = parser.parse_args()

    schema = f"{SCHEMA_PREFIX}{os.getpid()}"
    url = schema_url(schema, args.server)
    log_dir = common.WORK_DIR / f"scale_out-{os.getpid()}"
    notes: dict = {
        "schema": schema,
        "source": str(common.ROOT),
        "commit": source_commit(),
        "load_average_at_start": common.load_average(),
    }
    use_redis = redis_answers()
    notes["ratelimit_storage"] = REDIS_URL if use_redis else "memory:// (Redis did not answer)"

    create_schema(schema, args.server)
    try:
        with StandIn() as standin, Children(log_dir) as children:
            env = common.service_env(
                url,
                PUBLIC_BASE_URL=PUBLIC_BASE_URL,
                SMS_ALLOW_TEST_NUMBERS="true",
                RATELIMIT_STORAGE_URI=REDIS_URL if use_redis else "memory://",
                **standin.environment(),
            )
            env.pop("PROXY_FIX_HOPS", None)
            t0 = time.perf_counter()
            run_flask(env, "db", "upgrade")
            run_flask(env, "demo", "load")
            token = run_flask(env, "users", "token", SERGEANT).strip().splitlines()[-1]
            notes["set_up_s"] = round(time.perf_counter() - t0, 1)

            apps = [start_app(children, f"app-{n}", env) for n in (1, 2)]
            for n in (1, 2):
                children.start(
                    f"scheduler-{n}",
                    [str(FLASK), "--app", "wsgi", "scheduler", "run"],
                    {**env, "TWILIO_FROM_NUMBER": SCHEDULER_NUMBERS[n - 1]},
                )
            print(f"apps at {apps[0]} and {apps[1]}; two schedulers; logs in {log_dir}")

            import requests

            slots = earliest_free_slots(apps[0], token, args.places)
            capacity = {
                (s["block"], dt.datetime.fromisoformat(s["starts_at"]).astimezone(dt.UTC)): s[
                    "free"
                ]
                for s in slots
            }
            now = dt.datetime.now(dt.UTC)
            bodies = []
            for slot in slots:
                for _ in range(slot["free"] * args.attempts_per_place):
                    bodies.append(booking_body(slot, len(bodies), now))
            print(
                f"{len(bodies)} requests for {sum(s['free'] for s in slots)} places in "
                f"{len(slots)} slots, {args.clients} clients across two apps"
            )
            race = race_for_slots(apps, token, bodies, args.clients, args.max_seconds)
            answers = race["answers"]
            statuses = Counter(str(a["status"]) for a in answers)
            per_app = {
                app: dict(Counter(str(a["status"]) for a in answers if a["app"] == app))
                for app in apps
            }
            references = [a["booking"]["reference"] for a in answers if a["status"] == 201]
            print(f"booked in {race['wall_s']:.1f} s: {dict(statuses)}")

            waited, unsent, cutoff = wait_until_sent(url, args.dispatch_seconds)
            print(f"schedulers: {unsent} due messages unsent after {waited:.0f} s")
            time.sleep(2)  # a send answered just now has its id recorded
            readback = read_back(apps, token, references)
            checked = database_checks(url, references, capacity, cutoff)
            sms = sms_checks(checked.pop("messages"), standin.received(), references)
            print(f"texts accepted per scheduler: {sms['sent_per_scheduler']}")
            health = {app: requests.get(f"{app}/healthz", timeout=10).status_code for app in apps}
            stopped = {
                name: children.stop(name)
                for name in ("scheduler-1", "scheduler-2", "app-1", "app-2")
            }
    finally:
        drop_schema(schema, args.server)

    places = sum(capacity.values())
    notes.update(
        {
            "requests": len(bodies),
            "places": places,
            "slots": len(slots),
            "clients": args.clients,
            "statuses": dict(statuses),
            "statuses_per_app": per_app,
            "booking_wall_s": round(race["wall_s"], 2),
            "dispatch_wait_s": round(waited, 1),
            "database": checked,
            "read_back": readback,
            "sms": sms,
            "healthz_at_end": health,
            "exit_codes": stopped,
            "logs": str(log_dir),
        }
    )
    unexpected = sum(v for k, v in statuses.items() if k not in ("201", "409"))
    measures = [
        common.measure(
            "double bookings",
            checked["double_bookings"],
            "pairs",
            goal="0",
            met=checked["double_bookings"] == 0,
        ),
        common.measure(
            "bookings beyond a slot's places or off the rota",
            checked["over_capacity"] + checked["off_rota"],
            "bookings",
            goal="0",
            met=checked["over_capacity"] + checked["off_rota"] == 0,
        ),
        common.measure(
            "acknowledged (201) bookings missing from the database",
            checked["acknowledged_missing"],
            "bookings",
            goal="0",
            met=checked["acknowledged_missing"] == 0,
            acknowledged=len(references),
        ),
        common.measure(
            "read back through both apps: missing or differing",
            readback["missing"] + readback["differing"],
            "bookings",
            goal="0",
            met=readback["missing"] + readback["differing"] == 0,
        ),
        common.measure(
            "duplicate SMS at the stand-in",
            sms["duplicates_at_standin"],
            "messages",
            goal="0",
            met=sms["duplicates_at_standin"] == 0,
        ),
        common.measure(
            "messages due and not sent once (unsent, or sent without the stand-in)",
            sms["due_not_sent"] + sms["sent_not_accepted"] + sms["accepted_not_recorded"],
            "messages",
            goal="0",
            met=sms["due_not_sent"] + sms["sent_not_accepted"] + sms["accepted_not_recorded"] == 0,
            sent=sms["sent"],
        ),
        common.measure(
            "answers other than 201 and 409", unexpected, "requests", goal="0", met=unexpected == 0
        ),
        common.measure(
            "bookings/s through two apps (informative)",
            round(len(references) / race["wall_s"], 1) if race["wall_s"] else 0.0,
            "bookings/s",
        ),
    ]
    common.save_results("scale_out", "postgres", measures, notes)
    failed = [m["measure"] for m in measures if m.get("met") is False]
    print("all checks met" if not failed else f"NOT MET: {failed}")
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"took {time.perf_counter() - started:.0f} s")
