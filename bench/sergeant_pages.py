"""The sergeant's journey through the pages, 32 signed-in sergeants at once: the server's time
for each page against a floor page of the same size.

    python bench/sergeant_pages.py --db postgres [--clients 32] [--journeys 4] [--workers 4]

The service runs as in bench/booking_load.py: `gunicorn wsgi:app`, --workers workers of
--threads threads each (1 by default: sync workers, whose server time is the request's own,
not its wait behind other threads of the process), with the production configuration
(config.Config: CSRF checks on, the sign-in limits on), here also reading gunicorn.conf.py for
its access line. Each client is a thread with its own `requests.Session`, signed in through the
sign-in form as a sergeant of its own block (the blocks spread over the data set; only refused
sign-ins count towards the limits, so 32 pass), once: the signed cookie outlives the server's
restarts between runs. It walks the journey as a browser does, one request at a time, redirects
followed by hand, the CSRF token read from each form:

    home          GET  /
    details       GET  /bookings/new/start (the link on the home page), GET /bookings/new,
                  POST /bookings/new
    slots         GET  /bookings/new/slot (the earliest everywhere), then filtered to the
                  sergeant's own block, GET /bookings/new/slot?block=CODE, and
                  POST /bookings/new/slot (its first slot)
    check         GET  /bookings/new/check
    confirmation  POST /bookings/new/check (the booking), GET /bookings/<reference>
    notice        GET  /bookings/<reference>/notice

The filter by block stands in for the nearest-first order of the service: the data set's
blocks have no known position, so every client would otherwise be offered the same ten
slots and most would race for them, which sergeants spread over the country do not. A slot
lost all the same (409, the slot page again) is counted, timed apart, and a slot is chosen
again from that page, as a sergeant would, up to three times. Each client first walks one
journey untimed (every worker compiles its templates and connects), then --journeys
journeys, or until --seconds have passed (a journey under way is finished).

Server time is gunicorn's own for each request (the access line's duration_ms: from the
request read to the answer written), so the time a request waits for a free worker is not
in it; the time the clients saw is recorded beside it. Each request carries an X-Request-Id
naming its step, which the access line shows (the service takes a caller's plain request
id), so every line is matched to the request that made it. The floor: bench/floor_app.py's
`/page/<name>/<size>` under the same gunicorn settings, the same clients signed in, and the
same requests in the same order (method, form, request id), each answered with a page of
the same size in bytes as the service's answer to it. Goal: p95 of server time <= 50 ms for
every request of every page. Runs the service and then the floor at least three times
(--runs); reports the median p95 with the spread (fastest to slowest run), and the median
of the runs' ratios. The bookings made (custody record numbers PAGES/...) and the drafts
left are then deleted.

Then one client alone walks five journeys in this process (the app's test client, the same
data and settings, no other request at the same time): each request's median time there is
what it costs without waiting for a core or a lock (`alone_ms`). With --profile five more
run under pyinstrument, one profile per step into /tmp/booking-bench/profiles/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import re
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import booking_load  # noqa: E402  (it imports common, which then takes bench/ out of the path)
from booking_load import remove_load_bookings, warm_up  # noqa: E402

common = booking_load.common

GOAL_MS = 50.0
MIN_RUNS = 3
PREFIX = "PAGES/"
ATTEMPTS = 3

# Each request of the journey: its key, the page it belongs to, and what it is.
STEPS = {
    "home": ("home", "GET /"),
    "start": ("details", "GET /bookings/new/start (the link from home)"),
    "details": ("details", "GET /bookings/new"),
    "details_sent": ("details", "POST /bookings/new"),
    "slots": ("slots", "GET /bookings/new/slot"),
    "slots_block": ("slots", "GET /bookings/new/slot?block=CODE (the sergeant's block)"),
    "slot_sent": ("slots", "POST /bookings/new/slot"),
    "check": ("check", "GET /bookings/new/check"),
    "book": ("confirmation", "POST /bookings/new/check (the booking)"),
    "book_lost": ("confirmation", "POST /bookings/new/check, slot lost (409, slots again)"),
    "confirmation": ("confirmation", "GET /bookings/<reference>"),
    "notice": ("notice", "GET /bookings/<reference>/notice"),
}
IN_PROCESS = "http://in-process"
IN_PROCESS_RUN = 9  # in its custody record numbers, beside the runs' 0, 1, 2...
IN_PROCESS_JOURNEYS = 5

INPUT = re.compile(r"<input\b[^>]*>")
ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')


def inputs(page: str, name: str) -> list[str]:
    """The values of a page's <input>s of this name, in order."""
    found = []
    for tag in INPUT.findall(page):
        attributes = {k: html.unescape(v) for k, v in ATTRIBUTE.findall(tag)}
        if attributes.get("name") == name:
            found.append(attributes.get("value", ""))
    return found


def step_of(entry: dict) -> str | None:
    """Which request of the journey an access line is, from the request id the client sent
    (None: signing in, or the warm-up's health checks)."""
    step = (entry.get("request_id") or "").split(".")[0]
    if step == "book" and entry.get("status") == 409:
        return "book_lost"
    return step if step in STEPS else None


class Journeys:
    """One client's walk through the pages: each request timed as the client saw it, with
    what was sent and the size of the answer (for the floor to send and answer the same)."""

    def __init__(self, base: str, sergeant: dict, client: int, run: int, http=None):
        import requests

        self.base = base
        self.sergeant = sergeant
        self.client = client
        self.run = run
        self.http = http or requests.Session()
        self.requests: list[dict] = []  # id, step, method, form, status, bytes, client_ms
        self.sent = 0
        self.lost_slots = 0
        self.abandoned = 0
        self.booked = 0

    def forget(self) -> None:
        """Start counting afresh (after the untimed journey)."""
        self.requests.clear()
        self.lost_slots = self.abandoned = self.booked = 0

    def send(self, step: str, method: str, path: str, form: dict | None = None):
        self.sent += 1
        request_id = f"{step}.{self.run}.{self.client}.{self.sent}"
        t0 = time.perf_counter()
        response = self.http.request(
            method,
            self.base + path,
            data=form,
            headers={"X-Request-Id": request_id},
            allow_redirects=False,
            timeout=60,
        )
        elapsed = time.perf_counter() - t0
        lost = step == "book" and response.status_code == 409
        self.requests.append(
            {
                "id": request_id,
                "step": "book_lost" if lost else step,
                "method": method,
                "form": {k: v for k, v in (form or {}).items() if k != "csrf_token"},
                "status": response.status_code,
                "bytes": len(response.content),
                "client_ms": elapsed * 1000,
            }
        )
        return response

    def expect(self, response, status: int, what: str):
        if response.status_code != status:
            raise RuntimeError(
                f"{what}: {response.status_code}, expected {status} "
                f"({response.headers.get('Location', '')})"
            )
        return response

    def sign_in(self) -> None:
        page = self.http.get(self.base + "/login", timeout=60).text
        form = {
            "csrf_token": inputs(page, "csrf_token")[0],
            "email": self.sergeant["email"],
            "password": common.PASSWORD,
        }
        response = self.http.post(
            self.base + "/login", data=form, allow_redirects=False, timeout=60
        )
        self.expect(response, 302, "signing in")

    def details_form(self, n: int) -> dict:
        from booking.clock import LONDON

        tested = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).astimezone(LONDON)
        return {
            "arrest_block": self.sergeant["block"],
            "custody_record": f"{PREFIX}{self.run}-{self.client:02d}-{n:03d}",
            "person_name": f"Pages Person {self.run} {self.client} {n}",
            "test_result": "cocaine",
            "tested_on": [str(tested.day), str(tested.month), str(tested.year)],
            "tested_time": f"{tested:%H:%M}",
            "disputed": "no",
            "requirement": "initial",
            "mobile": f"07700 900{(self.client * 31 + n) % 1000:03d}",
            "sms_consent": "yes",
        }

    def walk(self, n: int) -> None:
        """One journey: home, details, slots, check, confirmation, notice."""
        self.expect(self.send("home", "GET", "/"), 200, "home")
        self.expect(self.send("start", "GET", "/bookings/new/start"), 302, "start")
        page = self.expect(self.send("details", "GET", "/bookings/new"), 200, "details").text
        form = self.details_form(n) | {"csrf_token": inputs(page, "csrf_token")[0]}
        self.expect(self.send("details_sent", "POST", "/bookings/new", form), 302, "details")
        self.expect(self.send("slots", "GET", "/bookings/new/slot"), 200, "slots")
        own_block = "/bookings/new/slot?block=" + self.sergeant["block"]
        page = self.expect(self.send("slots_block", "GET", own_block), 200, "slots").text
        for _attempt in range(ATTEMPTS):
            offered = inputs(page, "slot")
            if not offered:
                raise RuntimeError("no slot offered")
            form = {"slot": offered[0], "csrf_token": inputs(page, "csrf_token")[0]}
            self.expect(self.send("slot_sent", "POST", "/bookings/new/slot", form), 302, "slot")
            page = self.expect(self.send("check", "GET", "/bookings/new/check"), 200, "check")
            form = {"csrf_token": inputs(page.text, "csrf_token")[0]}
            booked = self.send("book", "POST", "/bookings/new/check", form)
            if booked.status_code == 302:
                break
            self.expect(booked, 409, "booking")
            self.lost_slots += 1
            page = booked.text  # the slot page again, with the slots free now
        else:
            self.abandoned += 1
            return
        self.booked += 1
        place = booked.headers["Location"]
        self.expect(self.send("confirmation", "GET", place), 200, "confirmation")
        self.expect(self.send("notice", "GET", place + "/notice"), 200, "notice")


def in_parallel(count: int, work, seconds: float) -> float:
    """Run work(n) in `count` threads started together; the wall time they took."""
    errors: list[str] = []
    start = threading.Barrier(count + 1)

    def run(n: int) -> None:
        start.wait()
        try:
            work(n)
        except Exception as error:  # shown after the run; the other clients go on
            errors.append(f"client {n}: {type(error).__name__}: {error}"[:400])

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join(timeout=seconds + 300)
    if errors:
        print("\n".join(errors[:5]), file=sys.stderr)
        raise RuntimeError(f"{len(errors)} clients failed")
    return time.perf_counter() - began


def server_times(log: Path, offset: int) -> dict[str, list[dict]]:
    """The access lines written after `offset` bytes of the log, by step of the journey."""
    by_step: dict[str, list[dict]] = defaultdict(list)
    with log.open() as lines:
        lines.seek(offset)
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            step = step_of(entry)
            if step is not None:
                by_step[step].append(entry)
    return by_step


def settled_size(log: Path) -> int:
    """The log's size once the last answers' lines are written (a line follows its answer)."""
    time.sleep(0.5)
    return log.stat().st_size


def summarise(by_step: dict[str, list[dict]], clients: list[Journeys] | None, wall: float):
    """p50/p95 of server time per step (and of the clients' time, when given)."""
    seen = defaultdict(list)
    for journey in clients or []:
        for r in journey.requests:
            seen[r["step"]].append(r["client_ms"] / 1000)
    steps = {}
    for step in STEPS:
        entries = by_step.get(step, [])
        if not entries:
            continue
        ms = [e["duration_ms"] for e in entries]
        steps[step] = {
            "n": len(ms),
            "p50_ms": round(common.percentile(ms, 50), 1),
            "p95_ms": round(common.percentile(ms, 95), 1),
            "max_ms": round(max(ms), 1),
            "bytes_median": statistics.median(e.get("bytes") or 0 for e in entries),
            "statuses": dict(Counter(str(e["status"]) for e in entries)),
        }
        if seen.get(step):
            steps[step]["client"] = common.summary_ms(seen[step])
    return {
        "wall_s": round(wall, 2),
        "requests": sum(len(v) for v in by_step.values()),
        "load_average": common.load_average(),
        "steps": steps,
    }


def run_service(
    args, env, sergeants, run: int, log: Path, signed_in_before: list | None
) -> tuple[dict, list[Journeys]]:
    """One run of the journeys against the service; its figures and the clients, whose
    sessions stay signed in for the next run (the cookie outlives the server's restart)."""
    settings = gunicorn_settings(args) | {"access_log": log}
    started = time.perf_counter()
    with common.Gunicorn("wsgi:app", env, **settings) as server:
        warm_up(server.url, args.clients)
        clients = [
            Journeys(server.url, sergeants[n], n, run, signed_in_before and signed_in_before[n])
            for n in range(args.clients)
        ]
        if signed_in_before is None:
            in_parallel(args.clients, lambda n: clients[n].sign_in(), 120)
        signed_in = time.perf_counter()
        # One untimed journey each: templates compiled and connections open in every worker.
        in_parallel(args.clients, lambda n: clients[n].walk(0), 120)
        for journey in clients:
            journey.forget()
        offset = settled_size(log)
        print(
            f"run {run + 1}: started and signed in in {signed_in - started:.0f} s,"
            f" warmed up in {time.perf_counter() - signed_in:.0f} s",
            flush=True,
        )
        deadline = time.monotonic() + args.seconds
        cpu = time.process_time()

        def walk(n: int) -> None:
            for k in range(1, args.journeys + 1):
                if time.monotonic() >= deadline:
                    return
                clients[n].walk(k)

        wall = in_parallel(args.clients, walk, args.seconds)
        cpu = time.process_time() - cpu
        settled_size(log)
    result = summarise(server_times(log, offset), clients, wall)
    result.update(
        journeys_booked=sum(c.booked for c in clients),
        slots_lost=sum(c.lost_slots for c in clients),
        journeys_abandoned=sum(c.abandoned for c in clients),
        # This process's share of a core while the clients ran: well under 1, not the limit.
        client_cpu_share=round(cpu / wall, 2) if wall else None,
    )
    return result, clients


def run_floor(args, env, journeys: list[Journeys], log: Path) -> dict:
    """The same requests from the same clients, each answered with a page of the same size."""
    import requests

    settings = gunicorn_settings(args) | {"access_log": log}
    with common.Gunicorn("bench.floor_app:app", env, **settings) as server:
        warm_up(server.url, args.clients)
        sessions = [requests.Session() for _ in journeys]

        def sign_in(n: int) -> None:
            answer = sessions[n].post(server.url + "/sign-in", data={"user": str(n)}, timeout=60)
            answer.raise_for_status()

        def replay(n: int, requests_: list[dict]) -> None:
            for r in requests_:
                response = sessions[n].request(
                    r["method"],
                    f"{server.url}/page/{r['step']}/{r['bytes']}",
                    data=r["form"] or None,
                    # Named by the step as counted (a lost slot's own), as the service's are.
                    headers={"X-Request-Id": r["step"] + "." + r["id"].split(".", 1)[1]},
                    timeout=60,
                )
                response.raise_for_status()

        in_parallel(len(journeys), sign_in, 60)
        # As untimed as the service's first journey: every worker has compiled its template.
        in_parallel(len(journeys), lambda n: replay(n, journeys[0].requests[:10]), 60)
        offset = settled_size(log)
        wall = in_parallel(len(journeys), lambda n: replay(n, journeys[n].requests), 300)
        settled_size(log)
    return summarise(server_times(log, offset), None, wall)


def choose_sergeants(app, clients: int) -> list[dict]:
    """One sergeant from each of `clients` blocks spread evenly over the data set's blocks."""
    from sqlalchemy import select

    from booking.extensions import db
    from booking.models import Block, User

    with app.app_context():
        rows = db.session.execute(
            select(User.id, User.email, Block.code)
            .join(Block, User.block_id == Block.id)
            .where(User.role == "sergeant", User.active.is_(True))
            .order_by(Block.id, User.id)
        ).all()
        db.session.remove()
    first_of_block: dict[str, tuple] = {}
    for user_id, email, code in rows:
        first_of_block.setdefault(code, (user_id, email))
    codes = list(first_of_block)
    if len(codes) < clients:
        raise SystemExit(f"{clients} clients need as many blocks with sergeants: {len(codes)}")
    chosen = [codes[k * len(codes) // clients] for k in range(clients)]
    return [{"id": first_of_block[c][0], "email": first_of_block[c][1], "block": c} for c in chosen]


def remove_drafts(app, user_ids: list[int]) -> None:
    """Drafts left by journeys that did not book (a draft goes when its booking is made)."""
    from sqlalchemy import delete

    from booking.extensions import db
    from booking.models import BookingDraft

    with app.app_context():
        db.session.execute(delete(BookingDraft).where(BookingDraft.user_id.in_(user_ids)))
        db.session.commit()
        db.session.remove()


def walk_in_process(app, sergeant: dict, journeys: int, *, profile: bool) -> dict[str, float]:
    """One client alone, through the app's test client in this process (the same data and
    settings, no other request at the same time): each step's median time, and with
    `profile` each step's requests under pyinstrument, one profile per step."""
    from booking.extensions import db

    class Answer:
        """Enough of a `requests` response for `Journeys`."""

        def __init__(self, response):
            self.status_code = response.status_code
            self.headers = response.headers
            self.content = response.get_data()
            self.text = response.get_data(as_text=True)

    class TestClientSession:
        """Enough of a `requests.Session` for `Journeys`, over the app's test client."""

        def __init__(self):
            self.client = app.test_client()
            self.profilers: dict[str, object] = {}
            self.step: str | None = None

        def request(self, method, url, data=None, headers=None, **_options):
            def answer():
                path = url.removeprefix(IN_PROCESS)
                return Answer(self.client.open(path, method=method, data=data, headers=headers))

            if self.step is None or not profile:
                return answer()
            from pyinstrument import Profiler  # requirements-bench.txt

            profiler = self.profilers.setdefault(self.step, Profiler(interval=0.0005))
            profiler.start()
            try:
                return answer()
            finally:
                profiler.stop()

        def get(self, url, **options):
            return self.request("GET", url, **options)

        def post(self, url, data=None, **options):
            return self.request("POST", url, data=data, **options)

    class InProcessJourneys(Journeys):
        def send(self, step, method, path, form=None):
            self.http.step = step
            try:
                return super().send(step, method, path, form)
            finally:
                self.http.step = None

    walker = InProcessJourneys(IN_PROCESS, sergeant, 0, IN_PROCESS_RUN)
    walker.http = TestClientSession()
    walker.sign_in()
    walker.walk(0)  # untimed: templates compiled
    walker.forget()
    walker.http.profilers.clear()
    for n in range(1, journeys + 1):
        walker.walk(n)
    if profile:
        common.PROFILES_DIR.mkdir(parents=True, exist_ok=True)
        for step, profiler in walker.http.profilers.items():
            path = common.PROFILES_DIR / f"sergeant_pages-{step}.txt"
            path.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
            print(f"profile: {path}")
    with app.app_context():
        db.session.remove()
    times = defaultdict(list)
    for r in walker.requests:
        times[r["step"]].append(r["client_ms"])
    return {step: round(statistics.median(ms), 1) for step, ms in times.items()}


def worker_class(args) -> str:
    return "gthread" if args.threads > 1 else "sync"


def gunicorn_settings(args) -> dict:
    return {"workers": args.workers, "worker_class": worker_class(args), "threads": args.threads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_options(parser)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--journeys", type=int, default=4, help="timed journeys per client")
    parser.add_argument("--seconds", type=float, default=40.0, help="at most, per run")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per worker (1: sync workers, so that a request's server time leaves out"
        " its wait for a thread's turn at the interpreter)",
    )
    parser.add_argument("--runs", type=int, default=MIN_RUNS, help=f"at least {MIN_RUNS}")
    args = parser.parse_args()
    runs = max(args.runs, MIN_RUNS)
    url = common.database_url(args.db, args.database_url)
    app = common.make_app(url)
    meta = common.require_data(app)

    from sqlalchemy import text

    from booking.extensions import db

    sergeants = choose_sergeants(app, args.clients)
    user_ids = [s["id"] for s in sergeants]
    remove_load_bookings(app, PREFIX)  # any left by an interrupted run
    remove_drafts(app, user_ids)
    notes = {
        "data": meta["counts"],
        "load_average_at_start": common.load_average(),
        "gunicorn": {
            "workers": args.workers,
            "worker_class": worker_class(args),
            "threads": args.threads,
            "clients": args.clients,
            "journeys_per_client": args.journeys,
            "seconds_at_most": args.seconds,
            "config": "gunicorn.conf.py (access line), command-line settings as booking_load",
        },
        "blocks": [s["block"] for s in sergeants],
    }
    env = common.service_env(url)
    services, floors, sessions = [], [], None
    try:
        for run in range(runs):
            log = common.WORK_DIR / f"sergeant_pages-service-{run}.log"
            service, clients = run_service(args, env, sergeants, run, log, sessions)
            sessions = [journey.http for journey in clients]
            print(f"service, run {run + 1}: {brief(service)}", flush=True)
            remove_load_bookings(app, PREFIX)
            remove_drafts(app, user_ids)

            log = common.WORK_DIR / f"sergeant_pages-floor-{run}.log"
            floor = run_floor(args, env, clients, log)
            print(f"floor, run {run + 1}: {brief(floor)}", flush=True)
            with app.app_context():
                db.session.execute(text("DROP TABLE IF EXISTS bench_floor"))
                db.session.commit()
                db.session.remove()
            services.append(service)
            floors.append(floor)
        alone = walk_in_process(app, sergeants[0], IN_PROCESS_JOURNEYS, profile=False)
        print(f"in process, one client alone, median ms: {alone}", flush=True)
        if args.profile:  # apart: the profiler's own cost is not in `alone`
            remove_load_bookings(app, PREFIX)  # the same people again would be duplicates
            walk_in_process(app, sergeants[0], IN_PROCESS_JOURNEYS, profile=True)
    finally:
        remove_load_bookings(app, PREFIX)
        remove_drafts(app, user_ids)

    measures = []
    for step, (page, request_) in STEPS.items():
        # A slot lost is rare: its row has the runs where it happened, if any did.
        pairs = [
            (s["steps"][step], f["steps"][step])
            for s, f in zip(services, floors, strict=True)
            if step in s["steps"] and step in f["steps"]
        ]
        if not pairs:
            continue
        p95s = [s["p95_ms"] for s, _ in pairs]
        floor_p95s = [f["p95_ms"] for _, f in pairs]
        ratios = [s / f if f else 0.0 for s, f in zip(p95s, floor_p95s, strict=True)]
        p95 = statistics.median(p95s)
        measures.append(
            common.measure(
                f"{page}: {request_}, {args.clients} signed-in clients, p95 server time",
                p95,
                "ms",
                goal=f"<= {GOAL_MS:g} ms",
                floor=statistics.median(floor_p95s),
                floor_name="Flask page of the same size in bytes, session read and renewed, "
                "p95 server time, the same run",
                ratio=statistics.median(ratios),
                met=p95 <= GOAL_MS,
                runs=len(pairs),
                spread=[min(p95s), max(p95s)],
                floor_spread=[min(floor_p95s), max(floor_p95s)],
                ratio_spread=[round(min(ratios), 2), round(max(ratios), 2)],
                p50_ms=statistics.median(s["p50_ms"] for s, _ in pairs),
                alone_ms=alone.get(step),
                client_p95_ms=statistics.median(s["client"]["p95_ms"] for s, _ in pairs),
                bytes=statistics.median(s["bytes_median"] for s, _ in pairs),
                requests=sum(s["n"] for s, _ in pairs),
                statuses=dict(sum((Counter(s["statuses"]) for s, _ in pairs), Counter())),
            )
        )
    notes["alone_ms"] = {
        "what": f"median of {IN_PROCESS_JOURNEYS} journeys by one client alone, in process "
        "(the app's test client), no other request at the same time",
        "steps": alone,
    }
    notes["services"] = services
    notes["floors"] = floors
    notes["journeys_booked"] = sum(s["journeys_booked"] for s in services)
    notes["slots_lost"] = sum(s["slots_lost"] for s in services)
    notes["journeys_abandoned"] = sum(s["journeys_abandoned"] for s in services)
    common.save_results("sergeant_pages", args.db, measures, notes)


def brief(result: dict) -> str:
    steps = ", ".join(f"{k} {v['p95_ms']}" for k, v in result["steps"].items())
    extra = {
        k: result[k]
        for k in ("journeys_booked", "slots_lost", "journeys_abandoned", "client_cpu_share")
        if k in result
    }
    return (
        f"{result['requests']} requests in {result['wall_s']} s, p95 ms: {steps}; {extra}"
        f" (load {result['load_average']})"
    )


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"took {time.perf_counter() - started:.0f} s")
