"""The follow-through list: referrals still waiting for word of an entry into treatment, oldest
first, and open cases where nothing has happened for a while."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..clock import LONDON, local_day_span
from ..extensions import db
from ..models import Entry, OnSiteAssessment, Pathway, User

# The most rows either part of the list shows; the counts say how many there are in all.
SHOWN = 200


@dataclass
class FollowThrough:
    today: dt.date
    entry_check_days: int
    awaiting_entry: list[Pathway]
    awaiting_entry_count: int
    overdue_count: int
    quiet: list[Pathway]
    quiet_count: int

    def days_since(self, day: dt.date) -> int:
        return (self.today - day).days

    def is_overdue(self, pathway: Pathway) -> bool:
        return self.days_since(pathway.referred_on) >= self.entry_check_days


def follow_through(now: dt.datetime, entry_check_days: int) -> FollowThrough:
    """Referrals awaiting confirmation of entry (oldest first; overdue once `entry_check_days`
    have passed since the referral), and other open cases with no change for that long."""
    today = now.astimezone(LONDON).date()
    overdue_before = today - dt.timedelta(days=entry_check_days)
    open_case = Pathway.closed_on.is_(None)
    awaiting = (
        open_case,
        Pathway.referred.is_(True),
        or_(Pathway.entry.is_(None), Pathway.entry == Entry.AWAITING),
    )
    quiet = (
        open_case,
        Pathway.updated_at < now - dt.timedelta(days=entry_check_days),
        ~Pathway.id.in_(select(Pathway.id).where(*awaiting)),
    )
    with_place = (selectinload(Pathway.place), selectinload(Pathway.booking))
    return FollowThrough(
        today=today,
        entry_check_days=entry_check_days,
        awaiting_entry=list(
            db.session.scalars(
                select(Pathway)
                .options(*with_place)
                .where(*awaiting)
                .order_by(Pathway.referred_on, Pathway.id)
                .limit(SHOWN)
            )
        ),
        awaiting_entry_count=db.session.scalar(select(func.count()).where(*awaiting)),
        overdue_count=db.session.scalar(
            select(func.count()).where(*awaiting, Pathway.referred_on <= overdue_before)
        ),
        quiet=list(
            db.session.scalars(
                select(Pathway)
                .options(*with_place)
                .where(*quiet)
                .order_by(Pathway.updated_at, Pathway.id)
                .limit(SHOWN)
            )
        ),
        quiet_count=db.session.scalar(select(func.count()).where(*quiet)),
    )


def with_pathway(references: list[str]) -> set[str]:
    """Those of the references whose assessment has a pathway recorded."""
    if not references:
        return set()
    return set(
        db.session.scalars(select(Pathway.reference).where(Pathway.reference.in_(references)))
    )


def on_site_recorded(by: User, day: dt.date) -> list[OnSiteAssessment]:
    """The assessments and contacts this user recorded as made on that local day, in time
    order."""
    starts, ends = local_day_span(day)
    return list(
        db.session.scalars(
            select(OnSiteAssessment)
            .options(selectinload(OnSiteAssessment.place))
            .where(
                OnSiteAssessment.recorded_by_id == by.id,
                OnSiteAssessment.assessed_at >= starts,
                OnSiteAssessment.assessed_at < ends,
            )
            .order_by(OnSiteAssessment.assessed_at, OnSiteAssessment.id)
        )
    )
