"""The commissioner's reports: the figures over a period with their charts, the CSV export,
and the summary of a financial year as the commissioner publishes it.

Coordinators and the commissioner's analysts see aggregates only: `booking.reports` reads no
personal field, so nothing on the page or in the CSV can name anyone. The CSV leaves the
service all the same, so each download is recorded in the audit trail.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

from flask import Response, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField
from wtforms.validators import ValidationError

from .. import audit, charts, clock, permissions, places
from ..clock import LONDON
from ..extensions import db
from ..models import Block, NonConversionReason
from ..reports import figures as reports
from ..reports import year as year_summary
from ..reports.figures import BY_APPOINTMENT_BLOCK, BY_ARREST_BLOCK, Figures, Report
from . import web
from .auth import roles_required
from .components import KeptSelect
from .forms.fields import DayMonthYearField, GovRadios
from .presentation import NON_CONVERSION_NAMES

# As the API: at most two years at a time.
MAX_DAYS = 731
DEFAULT_FULL_MONTHS = 3
FILE_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
COUNT_BY = [
    (BY_APPOINTMENT_BLOCK, "Block of the appointment"),
    (BY_ARREST_BLOCK, "Block where the person was arrested"),
]
BLOCK_WORDS = {
    BY_APPOINTMENT_BLOCK: "block of the appointment",
    BY_ARREST_BLOCK: "arresting block",
}
ATTENDED = charts.Series("Attended", "solid")
NOT_ATTENDED = charts.Series("Did not attend or left early", "hatched")
BOOKED = charts.Series("Booked", "outline")
REQUESTED = charts.Series("Suitability assessments requested", "outline")
COMPLETED = charts.Series("Completed", "solid")
ADJOURNED = charts.Series("Adjourned for one", "hatched")
REQUIRED_COMPLETED = charts.Series("Required assessments completed", "solid")
VOLUNTARY = charts.Series("Voluntary assessments", "hatched")
REFERRED = charts.Series("Referrals into treatment", "outline")
# The financial years the year summary offers: this one and the five before it.
YEARS_OFFERED = 6


class ReportForm(FlaskForm):
    """The period, the block and how appointments are counted: read from the query string."""

    class Meta:
        csrf = False  # a GET that changes nothing

    # The summary links to each date's first box, where the GOV.UK pattern puts the focus.
    start = DayMonthYearField(
        "Start date", id="start-day", noun="start date", description="For example, 1 3 2027"
    )
    end = DayMonthYearField(
        "End date",
        id="end-day",
        noun="end date",
        description="Appointments on this day are included. For example, 31 5 2027",
    )
    block = SelectField("Block or court", widget=KeptSelect(), validate_choice=False, default="")
    block_by = RadioField(
        "Count appointments by",
        description="Hours of cover are always those of the block itself",
        choices=COUNT_BY,
        default=BY_APPOINTMENT_BLOCK,
        widget=GovRadios(),
        validate_choice=False,
    )

    def validate_end(self, field):
        start, end = self.start.data, field.data
        if start is None or end is None:
            return
        if end < start:
            raise ValidationError("The end date must be the same as or after the start date")
        if (end - start).days > MAX_DAYS:
            raise ValidationError("The end date must be no more than 2 years after the start date")
        if end == dt.date.max:  # the period ends at the midnight after it, which never comes
            raise ValidationError("The end date must be before 31 12 9999")

    def validate_block(self, field):
        if field.data and field.data not in {code for code, _ in field.choices}:
            raise ValidationError("Choose a block or court from the list")

    def validate_block_by(self, field):
        if field.data not in {value for value, _ in COUNT_BY}:
            raise ValidationError("Choose how to count appointments")

    def query(self) -> dict:
        """The query string that asks for these figures again (for the CSV link)."""
        return {
            "start": _date_boxes(self.start.data),
            "end": _date_boxes(self.end.data),
            "block": self.block.data or None,
            "block_by": self.block_by.data,
        }


def _date_boxes(day: dt.date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def default_period(now: dt.datetime) -> tuple[dt.date, dt.date]:
    """The last three full months and this month so far: 1 January to 20 April, say."""
    today = now.astimezone(LONDON).date()
    month_index = today.year * 12 + today.month - 1 - DEFAULT_FULL_MONTHS
    return dt.date(month_index // 12, month_index % 12 + 1, 1), today


def _read_form(blocks: list[Block], courts: list[Block]) -> ReportForm:
    if request.args:
        form = ReportForm(formdata=request.args)
    else:
        start, end = default_period(clock.now())
        form = ReportForm(formdata=None, data={"start": start, "end": end})
    form.block.choices = [("", "All blocks and courts")] + [
        (place.code, place.name) for place in blocks + courts
    ]
    return form


# What the page shows -------------------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    key: str  # "2027-03", as in the CSV
    name: str  # "March 2027"
    figures: Figures


@dataclass(frozen=True)
class BlockFigures:
    code: str
    name: str
    figures: Figures


@dataclass(frozen=True)
class ReportPage:
    report: Report
    block_name: str | None
    months: list[Month]
    blocks: list[BlockFigures]
    courts: list[BlockFigures]
    # None when there is nothing to draw: no block in the service yet.
    month_chart: charts.Chart | None
    block_chart: charts.Chart | None
    court_chart: charts.Chart | None
    outcome_chart: charts.Chart | None
    csv_href: str

    @property
    def places(self) -> list[BlockFigures]:
        """The custody blocks, then the courts."""
        return self.blocks + self.courts

    @property
    def reasons(self) -> list[Reason]:
        return non_conversion_reasons(self.report.total)

    @property
    def period(self) -> str:
        return f"{_long(self.report.start)} to {_long(self.report.end)}"

    @property
    def by_arrest_block(self) -> bool:
        return self.report.block_by == BY_ARREST_BLOCK

    @property
    def block_word(self) -> str:
        return BLOCK_WORDS[self.report.block_by]


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _month_name(key: str, pattern: str = "%B %Y") -> str:
    year, month = key.split("-")
    return dt.date(int(year), int(month), 1).strftime(pattern)


@dataclass(frozen=True)
class Column:
    """A figure of the tables of assessments and what followed, by place and by month."""

    label: str
    name: str  # of the figure, a field or property of Figures


# One list for both tables, so that they keep the same columns in the same order.
OUTCOME_COLUMNS = (
    Column("Engaged", "engaged"),
    Column("Required assessments requested", "required_requested"),
    Column("Required assessments completed", "required_completed"),
    Column("Voluntary assessments", "voluntary_assessments"),
    Column("Assessments on site", "on_site_assessments"),
    Column("Contacts on site", "contacts"),
    Column("Referrals into treatment", "referrals"),
    Column("Entries into treatment", "entries"),
    Column("Did not enter treatment", "not_converted"),
    Column("Cases closed", "cases_closed"),
    Column("Naloxone issued", "naloxone_issued"),
    Column("Other harm reduction given", "harm_reduction_given"),
)


@dataclass(frozen=True)
class Reason:
    name: str
    count: int


def non_conversion_reasons(figures: Figures) -> list[Reason]:
    """Every reason a referral did not lead into treatment, in words, with its count."""
    counts = figures.non_conversion
    return [Reason(NON_CONVERSION_NAMES[reason], counts[reason]) for reason in NonConversionReason]


def _page(form: ReportForm, report: Report, blocks: list[Block], courts: list[Block]) -> ReportPage:
    names = {block.code: block.name for block in blocks}
    court_names = {court.code: court.name for court in courts}
    months = [Month(key, _month_name(key), report.by_month[key]) for key in sorted(report.by_month)]
    # The appointments and cover are the custody blocks'; the courts have court work only.
    by_block = sorted(
        (
            BlockFigures(code, names[code], figures)
            for code, figures in report.by_block.items()
            if code in names
        ),
        key=lambda row: row.name,
    )
    by_court = sorted(
        (
            BlockFigures(code, court_names[code], figures)
            for code, figures in report.by_block.items()
            if code in court_names
        ),
        key=lambda row: row.name,
    )
    return ReportPage(
        report=report,
        block_name=(names | court_names).get(report.block_code) if report.block_code else None,
        months=months,
        blocks=by_block,
        courts=by_court,
        month_chart=_month_chart(months) if months else None,
        block_chart=_block_chart(by_block, report.block_by) if by_block else None,
        court_chart=_court_chart(months) if months and by_court else None,
        outcome_chart=_outcome_chart(months) if months else None,
        csv_href=url_for("web.reports_csv", **form.query()),
    )


def _month_chart(months: list[Month]) -> charts.Chart:
    return charts.column_chart(
        "chart-months",
        "Attendance by month",
        f"Appointments attended, and appointments the person did not attend or left early, "
        f"in each month from {months[0].name} to {months[-1].name}",
        [ATTENDED, NOT_ATTENDED],
        [
            charts.Category(
                _month_name(month.key, "%b %Y"),
                (month.figures.attended, month.figures.not_attended),
                month.name,
            )
            for month in months
        ],
    )


def _court_chart(months: list[Month]) -> charts.Chart:
    return _counts_by_month(
        months,
        "chart-court-months",
        "Court work by month",
        "Suitability assessments requested, completed, and adjourned for",
        {
            REQUESTED: "suitability_requested",
            COMPLETED: "suitability_completed",
            ADJOURNED: "suitability_adjournments",
        },
    )


def _outcome_chart(months: list[Month]) -> charts.Chart:
    return _counts_by_month(
        months,
        "chart-outcome-months",
        "Assessments and referrals by month",
        "Required assessments completed, voluntary assessments, and referrals into treatment",
        {
            REQUIRED_COMPLETED: "required_completed",
            VOLUNTARY: "voluntary_assessments",
            REFERRED: "referrals",
        },
    )


def _counts_by_month(
    months: list[Month], chart_id: str, title: str, what: str, series: dict
) -> charts.Chart:
    """A column per month, a series per figure named in `series` ({series: figure name})."""
    return charts.column_chart(
        chart_id,
        title,
        f"{what}, in each month from {months[0].name} to {months[-1].name}",
        list(series),
        [
            charts.Category(
                _month_name(month.key, "%b %Y"),
                tuple(getattr(month.figures, name) for name in series.values()),
                month.name,
            )
            for month in months
        ],
    )


def _block_chart(rows: list[BlockFigures], block_by: str) -> charts.Chart:
    which = BLOCK_WORDS[block_by]
    return charts.bar_chart(
        "chart-blocks",
        f"Appointments by {which}",
        f"Appointments booked, attended, and not attended or left early, by {which}",
        [BOOKED, ATTENDED, NOT_ATTENDED],
        [
            charts.Category(
                row.name, (row.figures.bookings, row.figures.attended, row.figures.not_attended)
            )
            for row in rows
        ],
    )


def _build(form: ReportForm) -> Report:
    return reports.build(
        form.start.data,
        form.end.data,
        clock.now(),
        form.block.data or None,
        form.block_by.data,
    )


def _render(form: ReportForm, page: ReportPage | None, status: int = 200):
    return (
        render_template(
            "reports/reports.html",
            form=form,
            page=page,
            columns=OUTCOME_COLUMNS,
            title="Reports",
        ),
        status,
    )


# The routes ----------------------------------------------------------------------------------


@web.get("/reports", endpoint="reports")
@roles_required(permissions.REPORTS)
def reports_page():
    """The figures for a period: the last three full months and this month, unless asked."""
    blocks, courts = places.blocks_by_name(), places.courts_by_name()
    form = _read_form(blocks, courts)
    if not form.validate():
        return _render(form, None, 400)
    return _render(form, _page(form, _build(form), blocks, courts))


@web.get("/reports.csv")
@roles_required(permissions.REPORTS)
def reports_csv():
    """One row per block and month, as a file: an audited disclosure."""
    form = _read_form(places.blocks_by_name(), places.courts_by_name())
    if not form.validate():
        return _render(form, None, 400)
    report = _build(form)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reports.CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(reports.csv_rows(report))
    audit.record(
        audit.Action.CSV_EXPORTED, clock.now(), current_user, detail=_export_detail(report)
    )
    db.session.commit()
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_file_name(report)}"'},
    )


def _export_detail(report: Report) -> str:
    detail = f"reports {report.start.isoformat()}..{report.end.isoformat()}"
    if report.block_code:
        detail += f" block {report.block_code}"
    if report.block_by == BY_ARREST_BLOCK:
        detail += " by arresting block"
    return detail


def _file_name(report: Report) -> str:
    """reports-2027-03-01-to-2027-04-30[-stechford][-by-arrest-block].csv"""
    parts = ["reports", report.start.isoformat(), "to", report.end.isoformat()]
    if report.block_code:
        parts.append(FILE_NAME_UNSAFE.sub("", report.block_code))
    if report.block_by == BY_ARREST_BLOCK:
        parts.append("by-arrest-block")
    return "-".join(parts) + ".csv"


# The year summary ----------------------------------------------------------------------------


class YearForm(FlaskForm):
    """The financial year: read from the query string."""

    class Meta:
        csrf = False  # a GET that changes nothing

    year = SelectField("Financial year", widget=KeptSelect(), validate_choice=False)

    def validate_year(self, field):
        if field.data not in {value for value, _ in field.choices}:
            raise ValidationError("Choose a financial year from the list")


def offered_years(now: dt.datetime) -> list[int]:
    """This financial year and the ones before it, latest first."""
    current = year_summary.current_financial_year(now)
    return list(range(current, current - YEARS_OFFERED, -1))


def _read_year_form(now: dt.datetime) -> YearForm:
    if "year" in request.args:
        form = YearForm(formdata=request.args)
    else:
        current = year_summary.current_financial_year(now)
        form = YearForm(formdata=None, data={"year": str(current)})
    form.year.choices = [(str(year), f"{year} to {year + 1}") for year in offered_years(now)]
    return form


@web.get("/reports/year", endpoint="reports_year")
@roles_required(permissions.REPORTS)
def year_page():
    """The financial year's summary as the commissioner publishes it: this year, unless asked."""
    now = clock.now()
    form = _read_year_form(now)
    summary, status = None, 400
    if form.validate():
        summary, status = year_summary.summary(int(form.year.data), now), 200
    today = now.astimezone(LONDON).date()
    html = render_template(
        "reports/year.html",
        form=form,
        summary=summary,
        period=f"{_long(summary.start)} to {_long(summary.end)}" if summary else None,
        # The year not yet over: its figures so far.
        so_far=_long(today) if summary and summary.start <= today <= summary.end else None,
        title=f"Year summary {summary.label}" if summary else "Year summary",
    )
    return html, status
