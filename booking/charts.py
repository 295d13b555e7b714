"""Charts drawn on the server as inline SVG: the geometry here, the markup in the templates.

The reports' column and bar charts (`templates/reports/_chart.html`), and the rota's cover
picture, one block's week of cover and gaps (`templates/rota/cover.html`).

No chart library, no script and no inline style (the Content-Security-Policy allows none):
a chart is rectangles, lines and text placed by these functions and drawn with SVG
presentation attributes. Each chart is an image with a title and a description that reads out
every value, and colour is never the only cue: each series has a fill of its own (solid,
hatched or outlined), the legend names it in words, and every bar carries its value as text.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .rota.picture import BlockDay, BlockWeek

# The GOV.UK palette: each look keeps a 3:1 contrast with the white page at its edge.
BLACK = "#0b0c0c"
BLUE = "#1d70b8"
RED = "#d4351c"
WHITE = "#ffffff"
LOOKS = ("solid", "hatched", "outline")

# An estimate of the width of one character of the 16-unit text the template draws, to leave
# room for labels.
CHAR_WIDTH = 9
LEGEND_LINE = 28
SWATCH = (24, 16)
MOST_TICKS = 5

# Columns (categories along the bottom).
COLUMN = 32
COLUMN_GAP = 4
COLUMN_GROUP_GAP = 32
COLUMN_PLOT_HEIGHT = 240

# Bars (categories down the left).
BAR = 20
BAR_GAP = 4
BAR_GROUP_GAP = 16
BAR_PLOT_WIDTH = 360


@dataclass(frozen=True)
class Series:
    """One measure shown for every category, such as "Attended"."""

    label: str
    look: str  # one of LOOKS

    def __post_init__(self):
        if self.look not in LOOKS:
            raise ValueError(f"a series looks {', '.join(LOOKS)}, not {self.look!r}")


@dataclass(frozen=True)
class Category:
    """One group of bars: a month or a block, with a value for each series."""

    label: str
    values: tuple[int, ...]
    # How the description reads it, when the axis label is short ("Mar 2027", "March 2027").
    long_label: str | None = None


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "start"  # SVG text-anchor: start, middle or end


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    stroke: str


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Chart:
    """Everything a template needs to draw one chart."""

    id: str
    title: str
    description: str
    width: int
    height: int
    legend: tuple[tuple[Rect, Text], ...]
    grid: tuple[Line, ...]
    ticks: tuple[Text, ...]
    axis: Line
    bars: tuple[Rect, ...]
    values: tuple[Text, ...]
    categories: tuple[Text, ...]

    @property
    def hatch_id(self) -> str:
        return f"{self.id}-hatched"

    @property
    def hatch_colour(self) -> str:
        return RED


def axis_top(largest: int, most_ticks: int = MOST_TICKS) -> tuple[int, int]:
    """A round top for the value axis at or above `largest`, and the step between ticks.

    Steps are 1, 2 or 5 times a power of ten, with at most `most_ticks` steps: 7 gives (8, 2),
    230 gives (250, 50). An empty chart still has an axis from 0 to 1.
    """
    if largest <= 0:
        return 1, 1
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            steps = math.ceil(largest / step)
            if steps <= most_ticks:
                return steps * step, step
        magnitude *= 10


def column_chart(
    chart_id: str,
    title: str,
    summary: str,
    series: Sequence[Series],
    categories: Sequence[Category],
) -> Chart:
    """Grouped columns, one group per category along the bottom (months, say)."""
    _check(series, categories)
    legend, legend_height = _legend(chart_id, series)
    top_value, step = axis_top(max((v for c in categories for v in c.values), default=0))
    left = len(str(top_value)) * CHAR_WIDTH + 16
    plot_top = legend_height + 24  # room for the value above the tallest column
    plot_bottom = plot_top + COLUMN_PLOT_HEIGHT
    n = len(series)
    columns = n * COLUMN + (n - 1) * COLUMN_GAP
    # Wide enough for its columns, and for its label beneath them.
    group = max(columns + COLUMN_GROUP_GAP, max(len(c.label) for c in categories) * CHAR_WIDTH + 8)
    plot_width = len(categories) * group

    def y(value: int) -> float:
        return plot_bottom - value / top_value * COLUMN_PLOT_HEIGHT

    grid, ticks = [], []
    for tick in range(0, top_value + 1, step):
        grid.append(Line(left, _r(y(tick)), left + plot_width, _r(y(tick))))
        ticks.append(Text(left - 8, _r(y(tick) + 5), str(tick), "end"))
    bars, values, labels = [], [], []
    for i, category in enumerate(categories):
        first = left + i * group + (group - columns) / 2
        for s, value in enumerate(category.values):
            x = first + s * (COLUMN + COLUMN_GAP)
            if value:
                bars.append(_rect(chart_id, series[s], x, y(value), COLUMN, y(0) - y(value)))
            values.append(Text(_r(x + COLUMN / 2), _r(y(value) - 6), str(value), "middle"))
        labels.append(
            Text(_r(left + (i + 0.5) * group), plot_bottom + 24, category.label, "middle")
        )
    width = max(left + plot_width + 16, _legend_width(series))
    return Chart(
        id=chart_id,
        title=title,
        description=_description(summary, series, categories),
        width=math.ceil(width),
        height=plot_bottom + 36,
        legend=legend,
        grid=tuple(grid),
        ticks=tuple(ticks),
        axis=Line(left, plot_bottom, _r(left + plot_width), plot_bottom),
        bars=tuple(bars),
        values=tuple(values),
        categories=tuple(labels),
    )


def bar_chart(
    chart_id: str,
    title: str,
    summary: str,
    series: Sequence[Series],
    categories: Sequence[Category],
) -> Chart:
    """Grouped horizontal bars, one group per category down the left (blocks, say)."""
    _check(series, categories)
    legend, legend_height = _legend(chart_id, series)
    top_value, step = axis_top(max((v for c in categories for v in c.values), default=0))
    left = max(len(c.label) for c in categories) * CHAR_WIDTH + 16
    plot_top = legend_height + 8
    n = len(series)
    group = n * BAR + (n - 1) * BAR_GAP + BAR_GROUP_GAP
    plot_bottom = plot_top + len(categories) * group

    def x(value: int) -> float:
        return left + value / top_value * BAR_PLOT_WIDTH

    grid, ticks = [], []
    for tick in range(0, top_value + 1, step):
        grid.append(Line(_r(x(tick)), plot_top, _r(x(tick)), plot_bottom))
        ticks.append(Text(_r(x(tick)), plot_bottom + 20, str(tick), "middle"))
    bars, values, labels = [], [], []
    for i, category in enumerate(categories):
        first = plot_top + i * group + BAR_GROUP_GAP / 2
        for s, value in enumerate(category.values):
            y = first + s * (BAR + BAR_GAP)
            if value:
                bars.append(_rect(chart_id, series[s], left, y, x(value) - left, BAR))
            values.append(Text(_r(x(value) + 6), _r(y + BAR / 2 + 5), str(value)))
        middle = plot_top + (i + 0.5) * group
        labels.append(Text(left - 8, _r(middle + 5), category.label, "end"))
    width = max(
        left + BAR_PLOT_WIDTH + len(str(top_value)) * CHAR_WIDTH + 16, _legend_width(series)
    )
    return Chart(
        id=chart_id,
        title=title,
        description=_description(summary, series, categories),
        width=math.ceil(width),
        height=plot_bottom + 32,
        legend=legend,
        grid=tuple(grid),
        ticks=tuple(ticks),
        axis=Line(left, plot_top, left, plot_bottom),
        bars=tuple(bars),
        values=tuple(values),
        categories=tuple(labels),
    )


def _check(series: Sequence[Series], categories: Sequence[Category]) -> None:
    if not series or not categories:
        raise ValueError("a chart needs at least one series and one category")
    for category in categories:
        if len(category.values) != len(series):
            raise ValueError(
                f"{category.label} has {len(category.values)} values, not {len(series)}"
            )
        if any(value < 0 for value in category.values):
            raise ValueError(f"{category.label} has a negative count")


def _look(chart_id: str, look: str) -> tuple[str, str]:
    """(fill, stroke) of a series: colour, and a pattern or an outline besides."""
    if look == "solid":
        return BLUE, BLUE
    if look == "hatched":
        return f"url(#{chart_id}-hatched)", RED
    return WHITE, BLACK


def _rect(chart_id: str, series: Series, x: float, y: float, width: float, height: float) -> Rect:
    fill, stroke = _look(chart_id, series.look)
    # Inset by half the 1-unit stroke, so that an outline sits inside the bar's extent.
    return Rect(_r(x + 0.5), _r(y + 0.5), _r(width - 1), _r(height - 1), fill, stroke)


def _legend(chart_id: str, series: Sequence[Series]) -> tuple[tuple[tuple[Rect, Text], ...], int]:
    """One line per series: its swatch, then its name. Returns the items and their height."""
    items = []
    for i, one in enumerate(series):
        y = 8 + i * LEGEND_LINE
        fill, stroke = _look(chart_id, one.look)
        swatch = Rect(0.5, y + 0.5, SWATCH[0] - 1, SWATCH[1] - 1, fill, stroke)
        items.append((swatch, Text(SWATCH[0] + 8, y + 14, one.label)))
    return tuple(items), 8 + len(series) * LEGEND_LINE


def _legend_width(series: Sequence[Series]) -> int:
    return SWATCH[0] + 8 + max(len(s.label) for s in series) * CHAR_WIDTH + 8


def _description(summary: str, series: Sequence[Series], categories: Sequence[Category]) -> str:
    """The summary, then every value in words: "March 2027: 5 attended, 2 did not attend."."""
    parts = [summary.rstrip(".") + "."]
    for category in categories:
        counts = ", ".join(
            f"{value} {_lower_first(one.label)}"
            for one, value in zip(series, category.values, strict=True)
        )
        parts.append(f"{category.long_label or category.label}: {counts}.")
    return " ".join(parts)


def _lower_first(label: str) -> str:
    return label[:1].lower() + label[1:]


def _r(value: float) -> float:
    """Coordinates to a tenth of a unit: plenty on screen, and short in the markup."""
    return round(value, 1)


# The cover picture -------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverBar:
    """One interval drawn on a day's row of the chart, in SVG user units."""

    x: float
    width: float
    kind: str  # "covered", "unfilled" or "closed" (no cover planned)
    bookings: int
    label: str


@dataclass(frozen=True)
class CoverRow:
    y: float
    day: BlockDay
    bars: list[CoverBar]


@dataclass(frozen=True)
class CoverChart:
    """The geometry of one block's week: days down, wall-clock hours across.

    Bars sit where the wall clock reads their times, so 07:00-20:00 lines up on every day,
    clock-change days included (the table beside the chart gives their true lengths).
    """

    week: BlockWeek
    rows: list[CoverRow]
    ticks: list[tuple[float, str]]
    height: float

    LEFT = 160
    WIDTH = 600
    TOP = 26
    ROW = 34
    BAR = 24
    # Roughly the width of a character of the bars' 12-unit text.
    CHARACTER = 6.5

    @property
    def right(self) -> float:
        return self.LEFT + self.WIDTH

    @classmethod
    def of(cls, week: BlockWeek, view: tuple[dt.time, dt.time] | None) -> CoverChart:
        """One block's week, over the view's hours of the day (all 24 when None)."""
        first, last = (0, 24 * 60) if view is None else (_minutes(view[0]), _minutes(view[1]))
        span = last - first

        def x(minute: float) -> float:
            return round(cls.LEFT + (min(max(minute, first), last) - first) / span * cls.WIDTH, 2)

        rows = []
        for index, block_day in enumerate(week.days):
            bars = []
            parts = [(interval, "covered", 0) for interval in block_day.covered] + [
                (gap, "unfilled" if gap.unfilled else "closed", gap.bookings)
                for gap in block_day.gaps
            ]
            for interval, kind, bookings in sorted(parts, key=lambda part: part[0].starts_at):
                start = _wall_minutes(interval.starts, block_day.day)
                end = _wall_minutes(interval.ends, block_day.day)
                left, right = x(start), x(end)
                if right <= left:
                    continue  # the repeated autumn hour draws over the one before it
                width = round(right - left, 2)
                bars.append(
                    CoverBar(left, width, kind, bookings, _bar_label(kind, bookings, width))
                )
            rows.append(CoverRow(cls.TOP + index * cls.ROW, block_day, bars))
        step = 180 if span > 13 * 60 else 60
        ticks = [(x(minute), f"{minute // 60:02d}:00") for minute in range(first, last + 1, step)]
        return cls(week, rows, ticks, cls.TOP + len(rows) * cls.ROW + 4)


def _bar_label(kind: str, bookings: int, width: float) -> str:
    """Words on a bar where they fit, so that colour is not the only cue; else the count."""
    booked = f"{bookings} booked" if bookings else ""
    words = {"covered": "", "unfilled": f"Gap {booked}".strip(), "closed": booked}[kind]
    if len(words) * CoverChart.CHARACTER + 8 <= width:
        return words
    return str(bookings) if bookings else ""


def _wall_minutes(local: dt.datetime, day: dt.date) -> int:
    """Minutes after midnight on the wall clock; the next midnight is 24:00."""
    if local.date() > day:
        return 24 * 60
    return local.hour * 60 + local.minute


def _minutes(wall: dt.time) -> int:
    return wall.hour * 60 + wall.minute
