"""The year summary in the form the commissioner publishes, for a financial year (1 April to
31 March, local dates): everyone engaged, the assessments completed and their share, the
people transferred to treatment, and the treatment requirements granted to those found
suitable. Every figure is one of the report's (figures.py), over the year, all places."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..clock import LONDON
from . import figures

# The first month of the financial year.
APRIL = 4


@dataclass(frozen=True)
class YearSummary:
    start: dt.date
    end: dt.date
    engaged: int
    assessments_completed: int
    assessments_completed_share: float | None
    statutory_assessments: int
    voluntary_and_court_assessments: int
    transferred_to_treatment: int
    suitable_drr: int
    drr_granted: int
    drr_granted_share: float | None
    suitable_atr: int
    atr_granted: int
    atr_granted_share: float | None

    @property
    def label(self) -> str:
        """As the service writes it: "2026 to 2027"."""
        return f"{self.start.year} to {self.end.year}"


def financial_year(year: int) -> tuple[dt.date, dt.date]:
    """1 April of `year` to 31 March of the next, inclusive."""
    return dt.date(year, APRIL, 1), dt.date(year + 1, APRIL, 1) - dt.timedelta(days=1)


def current_financial_year(now: dt.datetime) -> int:
    """The year in which the financial year holding today began."""
    today = now.astimezone(LONDON).date()
    return today.year if today.month >= APRIL else today.year - 1


def summary(year: int, now: dt.datetime) -> YearSummary:
    start, end = financial_year(year)
    total = figures.build(start, end, now, summary_only=True).total
    return YearSummary(
        start=start,
        end=end,
        engaged=total.engaged,
        assessments_completed=total.assessments_completed,
        assessments_completed_share=total.assessments_completed_share,
        statutory_assessments=total.statutory_assessments,
        voluntary_and_court_assessments=total.voluntary_and_court_assessments,
        transferred_to_treatment=total.referrals,
        suitable_drr=total.suitable_drr,
        drr_granted=total.drr_granted,
        drr_granted_share=total.drr_granted_share,
        suitable_atr=total.suitable_atr,
        atr_granted=total.atr_granted,
        atr_granted_share=total.atr_granted_share,
    )
