"""How long people wait from their test to their appointment: the median and 90th percentile
of the hours, per block and month, per block, per month and in total.

Medians and percentiles do not add up, so the database ranks the waits within each grouping and
returns only the few values the interpolation needs. `figures` reads spans of cover with the
same measure of time between two instants.
"""

from __future__ import annotations

import math

from sqlalchemy import BigInteger, Float, Integer, cast, func, literal, null, or_, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..extensions import db
from ..models import BookingStatus, Requirement


class _MicrosecondsBetween(FunctionElement):
    """Whole microseconds from one UTC timestamp to a later one: exact on both databases."""

    type = BigInteger()
    inherit_cache = True
    name = "microseconds_between"


@compiles(_MicrosecondsBetween, "postgresql")
def _microseconds_between_postgresql(element, compiler, **kw):
    # date_part gives double precision, far quicker than EXTRACT's numeric; rounded to whole
    # microseconds, it is exact for any span shorter than a century.
    earlier, later = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(round(date_part('epoch', {later} - {earlier}) * 1000000) AS BIGINT)"


@compiles(_MicrosecondsBetween, "sqlite")
def _microseconds_between_sqlite(element, compiler, **kw):
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC: whole seconds, then the fraction.
    earlier, later = (compiler.process(c, **kw) for c in element.clauses)
    return (
        f"((CAST(strftime('%s', {later}) AS INTEGER)"
        f" - CAST(strftime('%s', {earlier}) AS INTEGER)) * 1000000"
        f" + CAST(substr({later}, 21, 6) AS INTEGER)"
        f" - CAST(substr({earlier}, 21, 6) AS INTEGER))"
    )


def _add_waits(appointments, codes, months, total, by_block, by_month, rows) -> None:
    """The median and 90th percentile of the hours from test to appointment, per block and
    month, per block, per month and in total: the database sorts the waits and gives back
    the few at the ranks each figure reads; the interpolation is the statistics module's
    (`median`, and `quantiles` inclusive), as for a list of the waits in hours."""
    if db.session.get_bind().dialect.name == "postgresql":
        ranked = _ranked_waits_postgresql(appointments, months)
    else:
        ranked = _ranked_waits(appointments)
    for (block_id, month), (n, microseconds_at) in ranked.items():
        if block_id is not None and month is not None:
            figures = rows[(codes[block_id], months[month].key)]
        elif block_id is not None:
            figures = by_block[codes[block_id]]
        elif month is not None:
            figures = by_month[months[month].key]
        else:
            figures = total
        # As timedelta.total_seconds() / 3600 would give them.
        hours_at = {rank: value / 10**6 / 3600 for rank, value in microseconds_at.items()}
        figures.median_hours_to_appointment = round(_median(hours_at, n), 1)
        figures.p90_hours_to_appointment = round(_p90(hours_at, n), 1)


def _counted_waits(a) -> tuple:
    """Conditions for the appointments whose wait from test counts: not cancelled (never
    kept), and not follow-ups (they keep their initial assessment's test time) nor suitability
    appointments (no test went before them)."""
    return (
        a.status != BookingStatus.CANCELLED,
        a.requirement.not_in((Requirement.FOLLOW_UP, Requirement.SUITABILITY)),
    )


def _median(hours_at: dict[int, float], n: int) -> float:
    """statistics.median of n sorted values, given those at the ranks (from 0) it reads."""
    if n % 2 == 1:
        return hours_at[n // 2]
    return (hours_at[n // 2 - 1] + hours_at[n // 2]) / 2


def _p90(hours_at: dict[int, float], n: int) -> float:
    """statistics.quantiles(n=10, method="inclusive")[-1] likewise; one value is its own."""
    if n == 1:
        return hours_at[0]
    j, delta = divmod(9 * (n - 1), 10)
    upper = hours_at[j + 1] if delta else 0.0
    return (hours_at[j] * (10 - delta) + upper * delta) / 10


def _ranked_waits(appointments) -> dict[tuple, tuple[int, dict[int, int]]]:
    """{(block id or None, month or None): (n, {rank: wait})} for each block and month, each
    block, each month and all (None where a key is summed over), with the waits in whole
    microseconds at the ranks _median and _p90 read: window functions rank the waits in each
    grouping."""
    a = appointments.c
    w = (
        select(
            a.group_block_id.label("block_id"),
            a.month,
            _MicrosecondsBetween(a.tested_at, a.starts_at).label("wait"),
        )
        .where(*_counted_waits(a))
        # Worked out once, not once for each grouping.
        .cte("waits")
        .prefix_with("MATERIALIZED")
        .c
    )
    picks = []
    for keys in [("block_id", "month"), ("block_id",), ("month",), ()]:
        partition = [w[key] for key in keys] or None
        ranked = select(
            (w.block_id if "block_id" in keys else cast(null(), Integer)).label("block_id"),
            (w.month if "month" in keys else cast(null(), Integer)).label("month"),
            func.count().over(partition_by=partition).label("n"),
            (func.row_number().over(partition_by=partition, order_by=w.wait) - 1).label("rank"),
            w.wait,
        ).subquery()
        n, rank = ranked.c.n, ranked.c.rank
        picks.append(
            select(ranked).where(
                or_(
                    rank == (n - 1) // 2,
                    rank == n // 2,
                    rank == 9 * (n - 1) // 10,
                    rank == 9 * (n - 1) // 10 + 1,
                )
            )
        )
    found: dict[tuple, tuple[int, dict[int, int]]] = {}
    for block_id, month, n, rank, wait in db.session.execute(union_all(*picks)):
        found.setdefault((block_id, month), (n, {}))[1][rank] = wait
    return found


def _ranked_waits_postgresql(appointments, months) -> dict[tuple, tuple[int, dict[int, int]]]:
    """What _ranked_waits gives, from percentile_cont and percentile_disc.

    percentile_cont interpolates between the two values around a rank and percentile_disc
    returns one of them: with the number of values, that pins down both, as they are whole
    microseconds. One query per month (each block, and the month) and one over the period
    (each block, and all), so that the database can share out the sorting among its workers."""
    a = appointments.c
    # Both functions sort double precision (exact for whole microseconds), so that they
    # share one sort.
    wait = cast(_MicrosecondsBetween(a.tested_at, a.starts_at), Float)
    figures = (
        func.count(),
        *(
            aggregate(fraction).within_group(wait)
            for fraction in (0.5, 0.9)
            for aggregate in (func.percentile_cont, func.percentile_disc)
        ),
    )
    each_month = (
        select(a.group_block_id, literal(number, Integer), *figures)
        .where(*_counted_waits(a), a.starts_at >= month.starts_at, a.starts_at < month.ends_at)
        .group_by(func.rollup(a.group_block_id))
        for number, month in enumerate(months)
    )
    whole_period = (
        select(a.group_block_id, cast(null(), Integer), *figures)
        .where(*_counted_waits(a))
        .group_by(func.rollup(a.group_block_id))
    )
    found = {}
    for block_id, month, n, cont_50, disc_50, cont_90, disc_90 in db.session.execute(
        union_all(*each_month, whole_period)
    ):
        if n:  # ROLLUP's row for all comes even when there is nothing to count
            ranked = _around(0.5, n, cont_50, disc_50) | _around(0.9, n, cont_90, disc_90)
            found[(block_id, month)] = (n, ranked)
    return found


def _around(fraction: float, n: int, cont: float, disc: float) -> dict[int, int]:
    """{rank: value} for the values percentile_cont(fraction) interpolated between, from its
    result and percentile_disc(fraction)'s, the same floating point as PostgreSQL's."""
    disc = round(disc)
    position = fraction * (n - 1)
    below = math.floor(position)
    proportion = position - below
    if proportion == 0:
        return {below: round(cont)}
    # percentile_disc gives the value at rank ceil(fraction * n) - 1: `below` or the next.
    if max(math.ceil(fraction * n), 1) - 1 == below:
        return {below: disc, below + 1: disc + round((cont - disc) / proportion)}
    return {below: disc - round((disc - cont) / (1 - proportion)), below + 1: disc}
