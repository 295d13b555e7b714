"""The year summary over the national data set: booking.reports.year.summary for the current
financial year (or `--year`).

    python bench/year_summary.py --db postgres [--runs 5] [--profile]

In process, a fresh session each run, after one untimed summary; the median, and the spread
(fastest to slowest) of at least three runs. Floor: the least the database must do to answer
the same question, timed alone over the same local dates: one GROUP BY per table the summary
reads (appointments by status and requirement, on-site assessments by kind, completed
suitability assessments by finding and sentence, and one count of the referrals). Goal: a
second at most on PostgreSQL; the ratio shows the cost of the summary's one shape for every
figure (per place and month, then summed) over those four passes.
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
# A second at most on PostgreSQL at national scale (SQLite's figure is reported beside it).
GOAL_MS = 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_options(parser)
    parser.add_argument("--runs", type=int, default=5, help=f"at least {MIN_RUNS}")
    parser.add_argument("--year", type=int, default=None, help="the financial year's first year")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="per series")
    args = parser.parse_args()
    runs = max(args.runs, MIN_RUNS)
    url = common.database_url(args.db, args.database_url)
    app = common.make_app(url)
    meta = common.require_data(app)

    from sqlalchemy import func, select

    from booking.extensions import db
    from booking.models import (
        Booking,
        OnSiteAssessment,
        Pathway,
        SuitabilityAssessment,
        SuitabilityStatus,
    )
    from booking.reports import figures, year

    now = dt.datetime.now(dt.UTC)
    financial_year = args.year or year.current_financial_year(now)
    start, end = year.financial_year(financial_year)
    first, after = figures._bounds(start, end)
    notes = {"data": meta["counts"], "load_average_at_start": common.load_average()}

    def floor():
        b, o, s, p = Booking, OnSiteAssessment, SuitabilityAssessment, Pathway
        rows = [
            db.session.execute(
                select(b.status, b.requirement, func.count())
                .where(b.starts_at >= first, b.starts_at < after)
                .group_by(b.status, b.requirement)
            ).all(),
            db.session.execute(
                select(o.kind, func.count())
                .where(o.assessed_at >= first, o.assessed_at < after)
                .group_by(o.kind)
            ).all(),
            db.session.execute(
                select(s.drr, s.atr, s.sentence, func.count())
                .where(
                    s.status == SuitabilityStatus.COMPLETED,
                    s.completed_at >= first,
                    s.completed_at < after,
                )
                .group_by(s.drr, s.atr, s.sentence)
            ).all(),
            db.session.scalar(
                select(func.count()).where(
                    p.referred.is_(True), p.referred_on >= start, p.referred_on <= end
                )
            ),
        ]
        db.session.remove()
        return rows

    def summary():
        summary.last = year.summary(financial_year, now)
        db.session.remove()
        return summary.last

    with app.app_context():
        floor_s = spread(common.timed_runs(floor, runs, warmup=1, max_seconds=args.max_seconds))
        result = summary()  # warms the caches
        with common.maybe_profile(args.profile, f"{args.db}-year_summary"):
            timings = common.timed_runs(summary, runs, warmup=0, max_seconds=args.max_seconds)
        summary_s = spread(timings)
    notes["year"] = {
        "range": [start.isoformat(), end.isoformat()],
        "engaged": result.engaged,
        "assessments_completed": result.assessments_completed,
        "transferred_to_treatment": result.transferred_to_treatment,
        "summary": summary_s,
        "floor": floor_s,
    }
    measure = common.measure(
        f"year.summary, {result.label} ({result.engaged:,} engaged), median",
        summary_s["p50_ms"],
        "ms",
        goal=f"<= {GOAL_MS:,.0f} ms",
        floor=floor_s["p50_ms"],
        floor_name="one GROUP BY per table over the same dates, median",
        ratio=summary_s["p50_ms"] / floor_s["p50_ms"],
        met=summary_s["p50_ms"] <= GOAL_MS if common.dialect_of(url) == "postgres" else None,
        runs=summary_s["n"],
        spread=[summary_s["min_ms"], summary_s["max_ms"]],
        spread_ms=[summary_s["min_ms"], summary_s["max_ms"]],
        floor_spread_ms=[floor_s["min_ms"], floor_s["max_ms"]],
        cpu_p50_ms=summary_s.get("cpu_p50_ms"),
        n=summary_s["n"],
    )
    common.save_results("year_summary", args.db, [measure], notes)


def spread(timings) -> dict:
    """The runs' summary with the fastest run beside the slowest."""
    return common.summary_ms(timings) | {"min_ms": round(min(timings) * 1000, 2)}


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"took {time.perf_counter() - started:.0f} s")
