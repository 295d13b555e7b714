"""The commissioner's figures over the national data set: booking.reports.build for a month
and for a year.

    python bench/reports.py --db postgres [--month-runs 10] [--year-runs 5] [--profile]

In process, a fresh session each run, after one untimed build; p50 and p95 (with few runs,
p95 is the slowest). Floor: one GROUP BY in the database over the same appointments (block,
status), timed alone. No goal was set; the ratio shows how far the whole report (its
messages, medians and cover besides) is from that one pass of the database's own work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

common.fix_sys_path()

MIN_RUNS = 3
# The year's report: a second at most on PostgreSQL at national scale.
YEAR_GOAL_MS = 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_options(parser)
    parser.add_argument("--month-runs", type=int, default=5, help=f"at least {MIN_RUNS}")
    parser.add_argument("--year-runs", type=int, default=5, help=f"at least {MIN_RUNS}")
    parser.add_argument("--max-seconds", type=float, default=150.0, help="per series")
    args = parser.parse_args()
    url = common.database_url(args.db, args.database_url)
    app = common.make_app(url)
    meta = common.require_data(app)
    url_is_postgres = common.dialect_of(url) == "postgres"

    from sqlalchemy import func, select

    from booking.clock import LONDON
    from booking.extensions import db
    from booking.models import Booking
    from booking.reports import figures as reports

    notes = {"data": meta["counts"], "load_average_at_start": common.load_average()}
    measures = []
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(LONDON).date()
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    ranges = {
        "month": (last_month_end.replace(day=1), last_month_end),
        "year": (today - dt.timedelta(days=365), today - dt.timedelta(days=1)),
    }
    with app.app_context():
        for name, (start, end) in ranges.items():
            first, after = reports._bounds(start, end)

            def floor(first=first, after=after):
                rows = db.session.execute(
                    select(Booking.block_id, Booking.status, func.count(Booking.id))
                    .where(Booking.starts_at >= first, Booking.starts_at < after)
                    .group_by(Booking.block_id, Booking.status)
                ).all()
                db.session.remove()
                return rows

            def build(start=start, end=end):
                build.last = reports.build(start, end, now)
                db.session.remove()
                return build.last

            runs = max(args.month_runs if name == "month" else args.year_runs, MIN_RUNS)
            floor_s = common.summary_ms(
                common.timed_runs(floor, runs, warmup=1, max_seconds=args.max_seconds)
            )
            report = build()  # warms the caches
            with common.maybe_profile(args.profile, f"{args.db}-reports-{name}"):
                timings = common.timed_runs(build, runs, warmup=0, max_seconds=args.max_seconds)
                build_s = common.summary_ms(timings)
            notes[name] = {
                "range": [start.isoformat(), end.isoformat()],
                "bookings": report.total.bookings,
                "sms_sent": report.total.sms_sent,
                "build": build_s,
                "floor": floor_s,
            }
            goal_met = build_s["p50_ms"] <= YEAR_GOAL_MS if name == "year" else None
            measures.append(
                common.measure(
                    f"reports.build, {name} ({report.total.bookings:,} appointments), median",
                    build_s["p50_ms"],
                    "ms",
                    goal=f"<= {YEAR_GOAL_MS:,.0f} ms" if name == "year" else "(none set)",
                    floor=floor_s["p50_ms"],
                    floor_name="one GROUP BY block, status over the same appointments, median",
                    ratio=build_s["p50_ms"] / floor_s["p50_ms"],
                    met=goal_met if url_is_postgres else None,
                    runs=build_s["n"],
                    spread=[min(timings) * 1000, max(timings) * 1000],
                    cpu_p50_ms=build_s.get("cpu_p50_ms"),
                )
            )
    common.save_results("reports", args.db, measures, notes)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"took {time.perf_counter() - started:.0f} s")
