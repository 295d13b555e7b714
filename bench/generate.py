"""A seeded national-scale data set for the benchmarks.

    python bench/generate.py --db sqlite            # the full national set: ~5 min on a quiet
                                                    # 2-core machine, 35-40 min on a busy one
    python bench/generate.py --db postgres
    python bench/generate.py --db sqlite --blocks 20 --workers 200 --bookings 20000   # quick
    python bench/generate.py --db postgres --drop   # drop the `bench` schema and stop

What it makes (defaults): 200 custody blocks with 07:00-20:00 cover rules (every third block
high-activity: weekends too, three workers on weekdays and two at weekends; the others two on
weekdays), 2,000 workers (ten per home block), a year of shifts back and the 56-day look-ahead
forward, 1,000,000 past bookings with their notices, messages and audit events, the live
bookings of the next 28 days (denser near today, as the earliest slots go first), and a year of
500,000 on-site assessments and contacts in the blocks' cover hours with what followed a share of
them and of the attended appointments (pathways, made as the demo makes them, so that each
passes the domain's checks).

The schema is built by the migrations (flask_migrate.upgrade), as the tests build it; the rows
go in in batches of 10,000: the table's own Core INSERT run as a driver-level executemany on
SQLite, COPY on PostgreSQL (Core's executemany spent more time converting values than the
database spent storing them). PostgreSQL then gets VACUUM ANALYZE, as autovacuum would do soon
after such a load; SQLite gets no ANALYZE, as a deployment would not run one.

The rota follows the rules of booking.rota.generate: the cover windows come from
booking.rota.generate.cover_windows (bank holidays take Sunday's rules), each worker works only
at their home block, at most one shift a day and at most ROTA_MAX_HOURS_PER_WEEK (40) hours a week.
Every booking holds a distinct (worker, slot start) inside one of that worker's shifts, so the
unique index holds.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import json
import math
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (sets sys.path for the service's packages)

common.fix_sys_path()

import click  # noqa: E402
from sqlalchemy import Column, MetaData, String, Table, Text, insert, text  # noqa: E402

from booking.sms.reminders import PASSED  # noqa: E402

SLOT = dt.timedelta(minutes=30)
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
BATCH = 10_000

META = MetaData()
BENCH_META = Table(
    "bench_meta", META, Column("name", String(40), primary_key=True), Column("value", Text)
)


class Timer:
    def __init__(self):
        self.started = time.perf_counter()
        self.phases: dict[str, float] = {}
        self._last = self.started

    def phase(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = round(now - self._last, 1)
        print(f"  {name}: {now - self._last:.1f} s")
        self._last = now


def reset_database(url: str) -> None:
    from sqlalchemy import create_engine

    if common.dialect_of(url) == "postgres":
        engine = create_engine(common.POSTGRES_SERVER)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {common.SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {common.SCHEMA}"))
        engine.dispose()
    else:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def drop_database(url: str) -> None:
    from sqlalchemy import create_engine

    if common.dialect_of(url) == "postgres":
        engine = create_engine(common.POSTGRES_SERVER)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {common.SCHEMA} CASCADE"))
        engine.dispose()
        print(f"dropped schema {common.SCHEMA}")
    else:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        print(f"removed {path}")


def _sqlite_datetime(value):
    """What SQLAlchemy's SQLite DateTime stores: UTC as naive text with microseconds."""
    if value is None:
        return None
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return value.isoformat(" ", "microseconds")[:26]


def _sqlite_time(value):
    return None if value is None else value.isoformat("microseconds")


def _sqlite_date(value):
    return None if value is None else value.isoformat()


def insert_rows(conn, table, rows: list[dict]) -> None:
    """Bulk insert: the table's own INSERT, executemany at the driver (SQLite), or COPY
    (PostgreSQL). The per-value type processing of Core's executemany cost more than the
    database's own work, on a machine shared with other work."""
    if not rows:
        return
    # Columns the rows leave out get their model's scalar default (the ORM would add it).
    for column in table.columns:
        default = column.default
        if column.key not in rows[0] and default is not None and default.is_scalar:
            for row in rows:
                row[column.key] = default.arg
    # In the table's order, which is the order of the compiled INSERT's placeholders.
    columns = [column.key for column in table.columns if column.key in rows[0]]
    if conn.dialect.name == "postgresql":
        raw = conn.connection.dbapi_connection
        copy_sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
        return
    from sqlalchemy import Date, DateTime, Time

    converters = []
    for c in columns:
        kind = table.c[c].type
        kind = getattr(kind, "impl", kind)
        if isinstance(kind, DateTime):
            converters.append((c, _sqlite_datetime))
        elif isinstance(kind, Time):
            converters.append((c, _sqlite_time))
        elif isinstance(kind, Date):
            converters.append((c, _sqlite_date))
    statement = str(insert(table).compile(dialect=conn.dialect, column_keys=columns))
    for i in range(0, len(rows), BATCH):
        chunk = rows[i : i + BATCH]
        for row in chunk:
            for c, convert in converters:
                row[c] = convert(row[c])
        conn.exec_driver_sql(statement, [tuple(row[c] for c in columns) for row in chunk])


def new_reference(rng: random.Random, taken: set[str]) -> str:
    """A reference in the service's form that names nothing else in the set."""
    while True:
        bits = rng.getrandbits(40)
        chars = "".join(ALPHABET[(bits >> (5 * k)) & 31] for k in range(8))
        ref = f"{chars[:4]}-{chars[4:]}"
        if ref not in taken:
            taken.add(ref)
            return ref


def london_date(instant: dt.datetime) -> dt.date:
    from booking.clock import LONDON

    return instant.astimezone(LONDON).date()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_options(parser)
    parser.add_argument("--blocks", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--bookings", type=int, default=1_000_000, help="past bookings")
    parser.add_argument(
        "--future-bookings",
        type=int,
        default=None,
        help="live bookings in the next 28 days (default: the past rate, bookings*28/365)",
    )
    parser.add_argument(
        "--on-site",
        type=int,
        default=None,
        help="on-site assessments and contacts over the past year (default: half the bookings)",
    )
    parser.add_argument("--past-days", type=int, default=365)
    parser.add_argument("--ahead-days", type=int, default=56)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--reuse", action="store_true", help="keep a data set already there (made with any sizes)"
    )
    parser.add_argument("--drop", action="store_true", help="drop the data set and stop")
    args = parser.parse_args()
    url = common.database_url(args.db, args.database_url)
    if args.drop:
        drop_database(url)
        return
    if args.reuse:
        try:
            meta = common.require_data(common.make_app(url))
        except SystemExit:
            meta = None
        except Exception:  # no database, no schema: make it
            meta = None
        if meta:
            print(f"reusing the data set at {url}: {json.dumps(meta.get('counts'))}")
            return
    future = args.future_bookings
    if future is None:
        future = round(args.bookings * 28 / 365)
    if args.on_site is None:
        args.on_site = args.bookings // 2
    with common.maybe_profile(args.profile, f"{args.db}-generate"):
        generate(url, args, future)


def generate(url: str, args, future_count: int) -> None:
    from booking.accounts.users import hash_password
    from booking.clock import LONDON
    from booking.extensions import db
    from booking.models import (
        AuditEvent,
        Block,
        Booking,
        CoverRule,
        Message,
        Notice,
        Shift,
        User,
        Worker,
    )
    from booking.rota import generate as rota
    from booking.workdays import is_bank_holiday

    rng = random.Random(args.seed)
    timer = Timer()
    print(f"generating into {url}")
    reset_database(url)
    app = common.make_app(url)
    import flask_migrate

    with app.app_context():
        flask_migrate.upgrade()
        timer.phase("schema (migrations)")
        engine = db.engine
        postgres = engine.dialect.name == "postgresql"
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        today = now.astimezone(LONDON).date()
        first_day = today - dt.timedelta(days=args.past_days)
        last_day = today + dt.timedelta(days=args.ahead_days - 1)
        max_shifts_a_week = int(app.config["ROTA_MAX_HOURS_PER_WEEK"] // 13)

        # Blocks and their cover rules --------------------------------------------------------
        blocks, rules, transient = [], [], {}
        for i in range(1, args.blocks + 1):
            high = i % 3 == 1
            code = f"blk-{i:03d}"
            blocks.append(
                {
                    "id": i,
                    "code": code,
                    "name": f"Block {i:03d}",
                    "address": f"{i} Station Road, Town {i:03d}",
                    "venue_label": f"Station Road {i:03d} reception",
                    "short_address": f"{i} Station Rd, Town {i:03d}",
                    "high_activity": high,
                    "timezone": "Europe/London",
                    "calendar_token": f"bench-block-{i:03d}-{rng.getrandbits(64):016x}",
                }
            )
            block_rules = []
            for weekday in range(7 if high else 5):
                workers = (3 if weekday < 5 else 2) if high else 2
                block_rules.append(
                    {
                        "block_id": i,
                        "weekday": weekday,
                        "starts": dt.time(7, 0),
                        "ends": dt.time(20, 0),
                        "workers": workers,
                    }
                )
            rules.extend(block_rules)
            transient[i] = Block(
                id=i,
                code=code,
                timezone="Europe/London",
                cover_rules=[CoverRule(**{k: v for k, v in r.items()}) for r in block_rules],
            )
        with engine.begin() as conn:
            insert_rows(conn, Block.__table__, blocks)
            insert_rows(conn, CoverRule.__table__, rules)

        # Users: a coordinator, an analyst, two sergeants per block -------------------------
        password_hash = hash_password(common.PASSWORD)
        users = [
            {
                "id": 1,
                "email": common.COORDINATOR_EMAIL,
                "name": "Bench coordinator",
                "role": "coordinator",
                "password_hash": password_hash,
                "active": True,
                "block_id": 1,
                "created_at": now,
            },
            {
                "id": 2,
                "email": "bench-analyst@bench.test",
                "name": "Bench analyst",
                "role": "analyst",
                "password_hash": password_hash,
                "active": True,
                "block_id": None,
                "created_at": now,
            },
        ]
        sergeants_of: dict[int, list[int]] = defaultdict(list)
        for block in blocks:
            for k in range(2):
                user_id = len(users) + 1
                email = (
                    common.SERGEANT_EMAIL
                    if user_id == 3
                    else f"sergeant-{block['id']:03d}-{k}@bench.test"
                )
                users.append(
                    {
                        "id": user_id,
                        "email": email,
                        "name": f"Sergeant {block['id']:03d}-{k}",
                        "role": "sergeant",
                        "password_hash": password_hash,
                        "active": True,
                        "block_id": block["id"],
                        "created_at": now,
                    }
                )
                sergeants_of[block["id"]].append(user_id)

        # Workers: an even share of the team per home block ---------------------------------
        per_block = args.workers // args.blocks
        needed = math.ceil(19 / max_shifts_a_week)
        if per_block < max(needed, 3):
            raise SystemExit(f"--workers must give each block at least {max(needed, 3)} workers")
        workers, team_of = [], defaultdict(list)
        for j in range(1, per_block * args.blocks + 1):
            home = (j - 1) % args.blocks + 1
            workers.append(
                {
                    "id": j,
                    "name": f"Worker {j:04d}",
                    "home_block_id": home,
                    "active": True,
                    "calendar_token": f"bench-worker-{j:04d}-{rng.getrandbits(64):016x}",
                }
            )
            team_of[home].append(j)
        with engine.begin() as conn:
            insert_rows(conn, User.__table__, users)
            insert_rows(conn, Worker.__table__, workers)
        timer.phase(f"{len(blocks)} blocks, {len(users)} users, {len(workers)} workers")

        # The rota ----------------------------------------------------------------------------
        shifts = []  # (worker_id, block_id, starts_at, ends_at)
        turn = defaultdict(int)
        week_count: dict[tuple[int, dt.date], int] = defaultdict(int)
        day = first_day
        days = (last_day - first_day).days + 1
        with click.progressbar(length=days, label="  rota (days)") as bar:
            while day <= last_day:
                week = day - dt.timedelta(days=day.weekday())
                for block_id, block in transient.items():
                    team = team_of[block_id]
                    for window in rota.cover_windows(block, day):
                        chosen = []
                        tries = 0
                        while len(chosen) < window.workers and tries < len(team):
                            worker_id = team[turn[block_id] % len(team)]
                            turn[block_id] += 1
                            tries += 1
                            if week_count[(worker_id, week)] >= max_shifts_a_week:
                                continue
                            if worker_id in chosen:
                                continue
                            chosen.append(worker_id)
                        for worker_id in chosen:
                            week_count[(worker_id, week)] += 1
                            shifts.append((worker_id, block_id, window.starts_at, window.ends_at))
                day += dt.timedelta(days=1)
                bar.update(1)
        shifts.sort(key=lambda s: (s[2], s[1], s[0]))
        shift_rows = [
            {
                "id": n,
                "worker_id": w,
                "block_id": b,
                "starts_at": s,
                "ends_at": e,
                "generated": True,
                "sequence": 0,
                "updated_at": now,
            }
            for n, (w, b, s, e) in enumerate(shifts, start=1)
        ]
        with engine.begin() as conn:
            insert_rows(conn, Shift.__table__, shift_rows)
        del shift_rows
        timer.phase(f"{len(shifts):,} shifts {first_day} .. {last_day}")

        # Worker-slots: each slot start inside a shift, for a distinct (worker, start) ------
        lead = dt.timedelta(minutes=app.config["BOOKING_MIN_LEAD_MINUTES"])
        horizon = now + dt.timedelta(days=app.config["BOOKING_MAX_DAYS_AHEAD"])
        past = [s for s in shifts if s[3] <= now - dt.timedelta(hours=1)]
        upcoming = [s for s in shifts if s[2] >= now + lead and s[2] < horizon]
        slots_in = [int((e - s) / SLOT) for (_, _, s, e) in past]
        offsets = [0]
        for n in slots_in:
            offsets.append(offsets[-1] + n)
        capacity = offsets[-1]
        if args.bookings > capacity * 0.8:
            raise SystemExit(f"{args.bookings} bookings do not fit {capacity} past worker-slots")
        picks = sorted(rng.sample(range(capacity), args.bookings))
        past_slots = []
        for index in picks:
            k = bisect.bisect_right(offsets, index) - 1
            worker_id, block_id, starts_at, _ = past[k]
            past_slots.append((worker_id, block_id, starts_at + (index - offsets[k]) * SLOT))
        past_slots.sort(key=lambda s: (s[2], s[1], s[0]))

        # Upcoming: denser near today (the earliest slots are taken first), up to the horizon.
        candidates = []
        for worker_id, block_id, s, e in upcoming:
            start = s
            while start + SLOT <= e:
                if start >= now + lead and start < horizon:
                    candidates.append((worker_id, block_id, start))
                start += SLOT
        weights = [math.exp(-((c[2] - now).total_seconds() / 86400) / 5) for c in candidates]
        future_slots = []
        if candidates and future_count:
            lo, hi = 0.0, 1e6
            for _ in range(60):
                c = (lo + hi) / 2
                if sum(min(0.9, c * w) for w in weights) < future_count:
                    lo = c
                else:
                    hi = c
            future_slots = [
                cand
                for cand, w in zip(candidates, weights, strict=False)
                if rng.random() < min(0.9, hi * w)
            ]
            future_slots.sort(key=lambda s: (s[2], s[1], s[0]))
        timer.phase(
            f"chose {len(past_slots):,} past and {len(future_slots):,} upcoming worker-slots"
        )

        # Bookings with their notices, messages and audit events ----------------------------
        references: set[str] = set()
        attended: list[tuple] = []
        counts = insert_bookings(
            engine,
            rng,
            now,
            past_slots + future_slots,
            [b["id"] for b in blocks],
            sergeants_of,
            app.config["RETENTION_DAYS"],
            is_bank_holiday,
            Booking,
            Notice,
            Message,
            AuditEvent,
            references,
            attended,
        )
        timer.phase("bookings: " + ", ".join(f"{n:,} {name}" for name, n in counts.items()))

        # On-site assessments and contacts over the past year, and what followed ------------
        year = insert_on_site_and_pathways(
            engine, rng, now, blocks, transient, args.on_site, references, attended
        )
        del attended
        counts |= year
        timer.phase(", ".join(f"{n:,} {name}" for name, n in year.items()))

        if postgres:
            with engine.begin() as conn:
                for table in (
                    "blocks",
                    "cover_rules",
                    "users",
                    "workers",
                    "shifts",
                    "bookings",
                    "notices",
                    "messages",
                    "audit_events",
                    "on_site_assessments",
                    "pathways",
                ):
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 1) FROM {table}))"
                        )
                    )
            # What autovacuum would do soon after a load like this: statistics for the planner.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
            timer.phase("sequences, VACUUM ANALYZE")

        # Which workers and blocks the other scripts look at.
        busiest_worker = max(
            (w for w in workers),
            key=lambda w: (w["home_block_id"] % 3 == 1, -w["id"]),
        )
        meta = {
            "generated_at": now.isoformat(),
            "seed": args.seed,
            "sizes": {
                "blocks": args.blocks,
                "workers": args.workers,
                "bookings": args.bookings,
                "future_bookings": future_count,
                "on_site": args.on_site,
                "past_days": args.past_days,
                "ahead_days": args.ahead_days,
            },
            "counts": {
                "blocks": len(blocks),
                "workers": len(workers),
                "users": len(users),
                "shifts": len(shifts),
                **counts,
            },
            "rota": [first_day.isoformat(), last_day.isoformat()],
            "calendar_worker_id": busiest_worker["id"],
            "calendar_block_id": 1,
            "phases_seconds": timer.phases,
        }
        META.create_all(engine)
        with engine.begin() as conn:
            conn.execute(
                insert(BENCH_META), [{"name": k, "value": json.dumps(v)} for k, v in meta.items()]
            )  # a few rows: Core's executemany
        db.session.remove()
        db.engine.dispose()
    total = time.perf_counter() - timer.started
    print(f"done in {total:.0f} s: {json.dumps(meta['counts'])}")


def insert_bookings(
    engine,
    rng,
    now,
    slots,
    block_ids,
    sergeants_of,
    retention_days,
    is_bank_holiday,
    Booking,
    Notice,
    Message,
    AuditEvent,
    references: set[str],
    attended: list[tuple],
) -> dict[str, int]:
    """The bookings; each past attended one is added to `attended` as (id, reference, block
    id, start), for the pathways."""
    from booking.clock import LONDON

    day_before_cache: dict[dt.date, dt.datetime] = {}
    counts = defaultdict(int)
    retention = dt.timedelta(days=retention_days)
    message_id = notice_id = audit_id = 0

    def day_before(starts_at: dt.datetime) -> dt.datetime:
        local_day = starts_at.astimezone(LONDON).date()
        if local_day not in day_before_cache:
            day_before_cache[local_day] = dt.datetime.combine(
                local_day - dt.timedelta(days=1), dt.time(18, 0), tzinfo=LONDON
            ).astimezone(dt.UTC)
        return day_before_cache[local_day]

    def same_day(starts_at: dt.datetime) -> dt.datetime:
        send = starts_at - dt.timedelta(hours=2)
        if send.astimezone(LONDON).hour < 8:  # quiet hours: the minute before 21:00 the day before
            evening = dt.datetime.combine(
                send.astimezone(LONDON).date() - dt.timedelta(days=1), dt.time(21, 0), tzinfo=LONDON
            )
            send = evening.astimezone(dt.UTC) - dt.timedelta(minutes=1)
        return send

    with click.progressbar(length=len(slots), label="  bookings") as bar:
        for first in range(0, len(slots), BATCH):
            batch = slots[first : first + BATCH]
            bookings, notices, messages, events = [], [], [], []
            for offset, (worker_id, block_id, starts_at) in enumerate(batch):
                booking_id = first + offset + 1
                ends_at = starts_at + SLOT
                in_past = starts_at < now
                created_at = min(now, starts_at - dt.timedelta(hours=1)) - dt.timedelta(
                    minutes=rng.randint(0, 4 * 24 * 60)
                )
                tested_at = created_at - dt.timedelta(minutes=rng.randint(30, 12 * 60))
                r = rng.random()
                requirement = "initial" if r < 0.6 else ("follow_up" if r < 0.75 else "voluntary")
                if requirement == "voluntary":
                    test_result = "negative" if rng.random() < 0.7 else "cocaine"
                else:
                    test_result = rng.choice(("opiates", "cocaine", "both"))
                disputed = test_result != "negative" and rng.random() < 0.03
                arrest_block_id = block_id if rng.random() < 0.8 else rng.choice(block_ids)
                mobile = f"+447700900{rng.randint(0, 999):03d}" if rng.random() < 0.8 else None
                consent = mobile is not None and rng.random() < 0.9
                rearranged = rng.random() < 0.08
                creator = rng.choice(sergeants_of[arrest_block_id])

                status, outcome_at, cancelled_at, informed_at, concluded = (
                    "booked",
                    None,
                    None,
                    None,
                    None,
                )
                if rng.random() < 0.1:
                    status = "cancelled"
                    cancelled_at = created_at + (starts_at - created_at) * rng.random()
                    concluded = cancelled_at
                elif (
                    in_past
                    and starts_at < now - dt.timedelta(days=2)
                    or (in_past and rng.random() < 0.4)
                ):
                    r = rng.random()
                    status = (
                        "attended" if r < 0.65 else ("did_not_attend" if r < 0.93 else "left_early")
                    )
                    outcome_at = min(now, ends_at + dt.timedelta(minutes=rng.randint(0, 180)))
                    concluded = outcome_at
                    if status != "attended" and rng.random() < 0.8:
                        informed_at = min(now, outcome_at + dt.timedelta(hours=rng.randint(1, 48)))
                purged_at = None
                if concluded is not None and concluded + retention < now - dt.timedelta(days=1):
                    purged_at = concluded + retention + dt.timedelta(hours=2)
                updated_at = max(x for x in (created_at, cancelled_at, outcome_at) if x)
                bookings.append(
                    {
                        "id": booking_id,
                        "reference": new_reference(rng, references),
                        "status": status,
                        "block_id": block_id,
                        "worker_id": worker_id,
                        "starts_at": starts_at,
                        "ends_at": ends_at,
                        "custody_record": None
                        if purged_at
                        else f"CR/{block_id:03d}/{booking_id:09d}",
                        "person_name": None if purged_at else f"Person {booking_id}",
                        "mobile": None if purged_at else mobile,
                        "sms_consent": consent,
                        "requirement": requirement,
                        "test_result": test_result,
                        "tested_at": tested_at,
                        "disputed": disputed,
                        "arrest_block_id": arrest_block_id,
                        "notice_version": 2 if rearranged else 1,
                        "sequence": (1 if rearranged else 0) + (status == "cancelled"),
                        "created_at": created_at,
                        "created_by_id": creator,
                        "updated_at": updated_at,
                        "cancelled_at": cancelled_at,
                        "cancel_reason": "Released to court" if cancelled_at else None,
                        "outcome_at": outcome_at,
                        "outcome_by_id": 1 if outcome_at else None,
                        "police_informed_at": informed_at,
                        "police_informed_by_id": creator if informed_at else None,
                        "purged_at": purged_at,
                    }
                )
                for version in range(1, (2 if rearranged else 1) + 1):
                    notice_id += 1
                    notices.append(
                        {
                            "id": notice_id,
                            "booking_id": booking_id,
                            "version": version,
                            "block_id": block_id,
                            "starts_at": starts_at,
                            "ends_at": ends_at,
                            "issued_at": created_at + dt.timedelta(minutes=version - 1),
                            "issued_by_id": creator,
                        }
                    )

                def message(kind, send_at, status_hint=None):
                    nonlocal message_id
                    message_id += 1
                    row = {
                        "id": message_id,
                        "booking_id": booking_id,
                        "kind": kind,
                        "send_at": send_at,
                        "due_at": send_at,
                        "appointment_at": starts_at,
                        "status": "pending",
                        "attempts": 0,
                        "lease_until": None,
                        "skip_reason": None,
                        "error_code": None,
                        "provider_id": None,
                        "sent_at": None,
                        "status_at": None,
                        "created_at": created_at,
                    }
                    if status_hint:
                        row["status"] = status_hint
                        row["skip_reason"] = "The appointment was cancelled"
                        row["status_at"] = cancelled_at
                    elif not consent:
                        row["status"] = "skipped"
                        row["skip_reason"] = (
                            "No mobile number was given: tell the person in person or by phone"
                            if mobile is None
                            else "The person did not agree to text messages"
                        )
                        row["status_at"] = created_at
                    elif send_at <= now:
                        r = rng.random()
                        row["status"] = (
                            "delivered" if r < 0.9 else ("sent" if r < 0.97 else "failed")
                        )
                        row["attempts"] = 1
                        row["provider_id"] = f"SM{message_id:032x}"
                        row["sent_at"] = send_at
                        row["status_at"] = send_at + dt.timedelta(seconds=5)
                        if row["status"] == "failed":
                            row["error_code"] = "30003"
                            row["skip_reason"] = "Text not delivered: phone them"
                    messages.append(row)

                message("confirmation", created_at)
                for kind, send_at in (
                    ("day_before", day_before(starts_at)),
                    ("same_day", same_day(starts_at)),
                ):
                    if send_at <= created_at:
                        message_id += 1
                        messages.append(
                            {
                                "id": message_id,
                                "booking_id": booking_id,
                                "kind": kind,
                                "send_at": send_at,
                                "due_at": send_at,
                                "appointment_at": starts_at,
                                "status": "skipped",
                                "attempts": 0,
                                "lease_until": None,
                                "skip_reason": PASSED,
                                "error_code": None,
                                "provider_id": None,
                                "sent_at": None,
                                "status_at": created_at,
                                "created_at": created_at,
                            }
                        )
                    elif cancelled_at is not None and send_at > cancelled_at:
                        message(kind, send_at, "cancelled")
                    else:
                        message(kind, send_at)
                if cancelled_at is not None:
                    message("cancelled", cancelled_at)

                def event(action, at, user_id, detail=None):
                    nonlocal audit_id
                    audit_id += 1
                    events.append(
                        {
                            "id": audit_id,
                            "at": at,
                            "user_id": user_id,
                            "action": action,
                            "booking_id": booking_id,
                            "reference": bookings[-1]["reference"],
                            "detail": detail,
                            "remote_addr": "127.0.0.1",
                        }
                    )

                event("created", created_at, creator)
                if rearranged:
                    event(
                        "rearranged",
                        created_at + dt.timedelta(minutes=1),
                        creator,
                        "from a moved slot",
                    )
                if cancelled_at:
                    event("cancelled", cancelled_at, creator)
                if outcome_at:
                    event("outcome", outcome_at, 1, status)
                if informed_at:
                    event("police_informed", informed_at, creator)
                if purged_at:
                    event("purged", purged_at, None)
                if status == "attended":
                    attended.append((booking_id, bookings[-1]["reference"], block_id, starts_at))
                counts["past bookings" if in_past else "upcoming bookings"] += 1
            with engine.begin() as conn:
                insert_rows(conn, Booking.__table__, bookings)
                insert_rows(conn, Notice.__table__, notices)
                insert_rows(conn, Message.__table__, messages)
                insert_rows(conn, AuditEvent.__table__, events)
            counts["notices"] += len(notices)
            counts["messages"] += len(messages)
            counts["audit events"] += len(events)
            bar.update(len(batch))
    return dict(counts)


def insert_on_site_and_pathways(
    engine, rng, now, blocks, transient, total, references, attended
) -> dict[str, int]:
    """`total` on-site assessments and contacts over the year before `now`, in the blocks'
    cover windows (more where more workers are on), of the kinds the demo's blocks see; then
    the pathways of a share of them and of the attended appointments, step by step as the demo
    makes them (booking.demo.pathway_history), written in batches."""
    from booking.clock import LONDON
    from booking.demo import pathway_history as demo
    from booking.models import OnSiteAssessment, Pathway
    from booking.rota import generate as rota

    since = now - dt.timedelta(days=365)
    codes = {block["id"]: block["code"] for block in blocks}
    windows = [
        window
        for day in rota.dates(since.astimezone(LONDON).date(), now.astimezone(LONDON).date())
        for block in transient.values()
        for window in rota.cover_windows(block, day)
    ]
    chosen = rng.choices(windows, [w.workers for w in windows], k=total)
    kinds = rng.choices(demo.KINDS, demo.BLOCK_KINDS, k=total)
    on_site = []
    for window, kind in zip(chosen, kinds, strict=True):
        assessed_at = window.starts_at + (window.ends_at - window.starts_at) * rng.random()
        assessed_at = assessed_at.replace(microsecond=0)
        if since <= assessed_at <= now:
            on_site.append((assessed_at, window.block_id, kind))
    on_site.sort()
    del windows, chosen, kinds

    subjects = [
        demo.Subject(reference, "booking_id", id_, block_id, codes[block_id], starts_at, False)
        for id_, reference, block_id, starts_at in attended
    ]
    with click.progressbar(length=len(on_site), label="  on site") as bar:
        for first in range(0, len(on_site), BATCH):
            rows = []
            for id_, (assessed_at, block_id, kind) in enumerate(
                on_site[first : first + BATCH], start=first + 1
            ):
                reference = new_reference(rng, references)
                rows.append(
                    {
                        "id": id_,
                        "reference": reference,
                        "place_id": block_id,
                        "kind": kind,
                        "assessed_at": assessed_at,
                        "recorded_at": min(
                            now, assessed_at + dt.timedelta(minutes=rng.randint(5, 40))
                        ),
                        "recorded_by_id": 1,
                    }
                )
                contact = kind == "contact_only"
                subjects.append(
                    demo.Subject(
                        reference,
                        "on_site_assessment_id",
                        id_,
                        block_id,
                        codes[block_id],
                        assessed_at,
                        contact,
                    )
                )
            with engine.begin() as conn:
                insert_rows(conn, OnSiteAssessment.__table__, rows)
            bar.update(len(rows))

    made = 0
    with click.progressbar(length=len(subjects), label="  pathways") as bar:
        for first in range(0, len(subjects), BATCH):
            rows = []
            for subject in subjects[first : first + BATCH]:
                share = demo.WITH_PATHWAY["contact" if subject.contact else "assessment"]
                if rng.random() >= share:
                    continue
                plan = demo.what_followed(rng, subject, now)
                if plan.steps:
                    made += 1
                    rows.append({"id": made} | demo.pathway_row(plan, 1))
            with engine.begin() as conn:
                insert_rows(conn, Pathway.__table__, rows)
            bar.update(min(BATCH, len(subjects) - first))
    return {"on-site assessments": len(on_site), "pathways": made}


if __name__ == "__main__":
    main()
