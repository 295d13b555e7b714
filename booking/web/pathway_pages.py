"""The worker's pages for what happens beyond appointments: an assessment or contact made on
site, what followed any assessment (harm reduction, referral, entry into treatment, closure),
and the follow-through list of referrals waiting for word of an entry.

The views parse input, call the domain (`booking.pathway`) and render; workers and
coordinators only. A pathway names no one, but its reference leads to a person: every page
that shows one records that it did.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import audit, clock, permissions, places, settings
from ..clock import LONDON
from ..errors import InvalidField, NotFound
from ..extensions import db
from ..models import Block, Pathway
from ..pathway import on_site, pathways
from ..pathway import queries as pathway_queries
from ..rota.queries import shifts_on
from . import web
from .auth import roles_required
from .court_pages import list_url
from .forms.pathway import OnSiteForm, PathwayForm
from .presentation import ON_SITE_KIND_NAMES, REQUIREMENT_NAMES

# An assessment or contact made on site -------------------------------------------------------


@web.route("/assessments/new", methods=["GET", "POST"])
@roles_required(permissions.PATHWAY)
def record_on_site():
    """Where, when and what: the defaults leave only what kind it was to choose."""
    now = clock.now()
    form = OnSiteForm.for_places(
        places.places_by_name(),
        data=OnSiteForm.initial_data(now, _where_on_site(now)) if request.method == "GET" else None,
    )
    if form.validate_on_submit():
        try:
            record = on_site.record(
                form.place.data,
                form.kind.data,
                form.assessed_at().astimezone(dt.UTC),
                by=current_user,
                now=now,
            )
        except InvalidField as refusal:
            db.session.rollback()
            form.add_domain_errors(refusal.errors)
        else:
            db.session.commit()
            flash(
                f"{ON_SITE_KIND_NAMES[record.kind]} {record.reference} saved. "
                "Now record what followed, or come back to it later.",
                "success",
            )
            return redirect(url_for("web.pathway", reference=record.reference))
    return render_template(
        "pathway/on_site.html",
        form=form,
        title="Record an assessment or contact made on site",
    ), 400 if form.errors else 200


def _where_on_site(now: dt.datetime) -> Block | None:
    """Where the worker is rostered now (or today), else their own block."""
    worker = current_user.worker
    if worker is not None:
        today = shifts_on(worker, now.astimezone(LONDON).date())
        for shift in today:
            if shift.starts_at <= now < shift.ends_at:
                return shift.block
        if today:
            return today[0].block
        return worker.home_block
    return current_user.block


# What followed an assessment -----------------------------------------------------------------


@web.route("/pathway/<reference>", methods=["GET", "POST"])
@roles_required(permissions.PATHWAY)
def pathway(reference: str):
    found = _assessment_or_404(reference)
    record = pathways.pathway_of(found)
    now = clock.now()
    today = now.astimezone(LONDON).date()
    form = PathwayForm(
        data=PathwayForm.initial_data(pathways.values_of(record), today)
        if request.method == "GET"
        else None
    )
    if form.is_submitted():
        form.validate()
        form.without_hidden_date_errors()
        if not any(field.errors for field in form):
            try:
                record, changed = pathways.record(found, form.changes(), by=current_user, now=now)
            except InvalidField as refusal:
                db.session.rollback()
                form.add_domain_errors(refusal.errors)
            else:
                db.session.commit()
                flash(
                    f"What followed {found.reference} is saved."
                    if changed
                    else f"Nothing changed for {found.reference}.",
                    "success" if changed else "info",
                )
                return redirect(_after_pathway(found))
    _record_view(found, now, "pathway page")
    errors = any(field.errors for field in form)  # the domain's refusals too
    return render_template(
        "pathway/pathway.html",
        form=form,
        title=f"What followed {found.reference}",
        found=found,
        what=_what_it_was(found),
        record=record,
        back_href=_after_pathway(found),
    ), 400 if errors else 200


def _assessment_or_404(reference: str) -> pathways.Assessment:
    try:
        return pathways.assessment(reference)
    except NotFound:
        abort(404)


def _what_it_was(found: pathways.Assessment) -> str:
    if found.source == pathways.Source.BOOKING:
        return f"{REQUIREMENT_NAMES[found.kind]}, by appointment"
    if found.source == pathways.Source.SUITABILITY:
        return "Suitability assessment for the court"
    return f"{ON_SITE_KIND_NAMES[found.kind]}, on site"


def _after_pathway(found: pathways.Assessment) -> str:
    """Back where the assessment was recorded: the day of the appointment, the court's list,
    or the worker's day."""
    if found.source == pathways.Source.SUITABILITY:
        return list_url(found.place, found.record.listed_for)
    local_date = found.assessed_on.isoformat()
    if found.booking and permissions.may(current_user, permissions.COORDINATION):
        return url_for("web.my_day", date=local_date, worker=found.booking.worker_id)
    return url_for("web.my_day", date=local_date)


def _record_view(found: pathways.Assessment, now: dt.datetime, where: str) -> None:
    pathways.record_view(found, by=current_user, now=now, where=where)
    db.session.commit()


# The follow-through list ---------------------------------------------------------------------


@web.get("/follow-through")
@roles_required(permissions.PATHWAY)
def follow_through():
    """Referrals waiting for word of an entry into treatment, oldest first, and open cases
    with nothing recorded for a while."""
    now = clock.now()
    listed = pathway_queries.follow_through(now, settings.entry_check_days())
    shown: list[Pathway] = [*listed.awaiting_entry, *listed.quiet]
    for row in shown:
        audit.record(
            audit.Action.VIEWED,
            now,
            current_user,
            booking=row.booking,
            reference=row.reference,
            detail="follow-through list",
        )
    db.session.commit()
    return render_template("pathway/follow_through.html", title="Follow-through", listed=listed)
