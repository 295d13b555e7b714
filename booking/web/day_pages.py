"""The worker's day, and what follows an appointment: its outcome, the follow-up assessment,
telling the police of a non-attendance; for coordinators, the outcomes still awaited.

The views parse input, call the domain (`booking.appointments.outcomes`, and
`booking.appointments.bookings` through it) and render. Every page that shows a person's
details records that it did, booking by booking.
"""

from __future__ import annotations

import datetime as dt

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from .. import audit, clock, permissions, settings
from ..appointments import outcomes, queries
from ..clock import LONDON
from ..errors import InvalidField, NotAllowed, SlotTaken
from ..extensions import db
from ..models import Booking, BookingStatus, Requirement, Role, Worker
from ..pathway import queries as pathway_queries
from ..rota import queries as rota_queries
from . import web
from .auth import roles_required
from .booking_pages import JUST_BOOKED, SLOT_TAKEN, _booking_or_404, _slot_choices
from .forms.day import FollowUpForm, OutcomeForm, PoliceInformedForm, WorkerChoiceForm
from .forms.fields import SlotForm
from .presentation import STATUS_NAMES, clock_time, date_and_time, long_date

RECENTLY_INFORMED = dt.timedelta(days=7)
RECENTLY_INFORMED_SHOWN = 50
# Where the outcome page goes back to: the day of the appointment, or the coordinator's list.
BACK_TO_AWAITING = "awaiting"


# The worker's day ---------------------------------------------------------------------------


@web.get("/day")
@roles_required(permissions.OUTCOMES)
def my_day():
    """One local day of a worker: where they are on site, then their appointments in order."""
    day = _day_asked()
    worker = _worker_asked()
    chooser = None
    if current_user.role == Role.COORDINATOR:
        chooser = WorkerChoiceForm.for_workers(
            rota_queries.active_workers(),
            formdata=None,
            data={"worker": str(worker.id) if worker else "", "date": day.isoformat()},
        )
    now = clock.now()
    shifts, appointments, seen_on_site = [], [], []
    if worker is not None:
        shifts = rota_queries.shifts_on(worker, day)
        appointments = queries.worker_day(worker, day)
        audit.viewed_in_list(appointments, "worker's day", now, current_user)
        db.session.commit()
        if worker.user is not None:
            seen_on_site = pathway_queries.on_site_recorded(worker.user, day)
    pathways_recorded = pathway_queries.with_pathway(
        [b.reference for b in appointments] + [a.reference for a in seen_on_site]
    )
    worker_arg = worker.id if worker and current_user.role == Role.COORDINATOR else None
    yesterday, tomorrow = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
    return render_template(
        "day/day.html",
        title=f"{_whose_day(worker)}: {long_date(day)}",
        day=day,
        day_label=long_date(day),
        whose=_whose_day(worker),
        today=now.astimezone(LONDON).date(),
        worker=worker,
        chooser=chooser,
        shifts=shifts,
        appointments=appointments,
        seen_on_site=seen_on_site,
        pathways_recorded=pathways_recorded,
        now=now,
        previous_day={
            "href": url_for("web.my_day", date=yesterday.isoformat(), worker=worker_arg),
            "text": "Previous day",
            "labelText": long_date(yesterday),
        },
        next_day={
            "href": url_for("web.my_day", date=tomorrow.isoformat(), worker=worker_arg),
            "text": "Next day",
            "labelText": long_date(tomorrow),
        },
        today_href=url_for("web.my_day", worker=worker_arg),
    )


def _day_asked() -> dt.date:
    raw = request.args.get("date")
    if not raw:
        return clock.now().astimezone(LONDON).date()
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        abort(404)
    if day.year in (dt.MINYEAR, dt.MAXYEAR):
        abort(404)  # no day before or after it to link to
    return day


def _worker_asked() -> Worker | None:
    """The worker whose day is shown: a worker sees only their own; a coordinator chooses."""
    raw = request.args.get("worker", "")
    if current_user.role == Role.WORKER:
        own = current_user.worker
        if raw and (own is None or raw != str(own.id)):
            abort(403)
        return own
    if not raw:
        return None
    try:
        worker_id = int(raw)
    except ValueError:
        abort(404)
    # Beyond the database's integer range a lookup would fail, not just find nothing.
    worker = db.session.get(Worker, worker_id) if 0 < worker_id < 2**31 else None
    if worker is None:
        abort(404)
    return worker


def _whose_day(worker: Worker | None) -> str:
    if current_user.role == Role.WORKER:
        return "Your day"
    return f"{worker.name}’s day" if worker else "A worker’s day"


def _day_of(found: Booking) -> str:
    """The day page on which this appointment is listed, for the user looking at it."""
    worker = found.worker_id if current_user.role == Role.COORDINATOR else None
    local_date = found.starts_at.astimezone(LONDON).date()
    return url_for("web.my_day", date=local_date.isoformat(), worker=worker)


# Recording the outcome ------------------------------------------------------------------------


@web.route("/bookings/<reference>/outcome", methods=["GET", "POST"])
@roles_required(permissions.OUTCOMES)
def record_outcome(reference: str):
    found = _booking_or_404(reference)
    if not outcomes.may_record_outcome(current_user, found):
        abort(403)
    status = None
    back = _back_from_outcome()
    previous = found.status
    # A POST is read from the request alone: the current outcome would tick a radio left blank.
    current = {"outcome": previous} if previous in outcomes.OUTCOMES else None
    form = OutcomeForm(data=current if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            outcomes.record_outcome(found, form.outcome.data, by=current_user, now=clock.now())
        except NotAllowed as refusal:
            # Past the correction window: the page says why, with a 403 as the API gives.
            db.session.rollback()
            form.outcome.errors = [refusal.message]
            status = 403
        except InvalidField as refusal:
            db.session.rollback()
            form.add_domain_errors(refusal.errors)
        else:
            db.session.commit()
            flash(
                _outcome_message(found, previous), "info" if previous == found.status else "success"
            )
            if _follow_up_open(found):
                # Attended an initial assessment: the follow-up is the next thing to decide.
                return redirect(url_for("web.follow_up", reference=found.reference))
            if _pathway_next(found, previous):
                return redirect(url_for("web.pathway", reference=found.reference))
            return redirect(url_for("web.awaiting_outcome") if back else _day_of(found))
    now = clock.now()
    _record_view(found, now, "outcome page")
    return render_template(
        "day/outcome.html",
        form=form,
        title=f"{'Correct' if previous in outcomes.OUTCOMES else 'Record'} the outcome of "
        f"appointment {found.reference}",
        booking=found,
        started=now >= found.starts_at,
        back_href=url_for("web.awaiting_outcome") if back else _day_of(found),
        action=url_for("web.record_outcome", reference=found.reference, back=back),
    ), status or (400 if form.errors else 200)


def _back_from_outcome() -> str | None:
    wanted = request.args.get("back") == BACK_TO_AWAITING
    return BACK_TO_AWAITING if wanted and current_user.role == Role.COORDINATOR else None


def _outcome_message(found: Booking, previous: str) -> str:
    now_named = STATUS_NAMES[found.status].lower()
    if previous == found.status:
        return f"Appointment {found.reference} was already recorded as {now_named}: no change."
    if previous in outcomes.OUTCOMES:
        message = (
            f"Outcome of {found.reference} corrected to {now_named} "
            f"(was {STATUS_NAMES[previous].lower()})."
        )
    else:
        message = f"Outcome of {found.reference} recorded: {now_named}."
    if (
        found.status in outcomes.POLICE_TO_BE_TOLD
        and found.requirement != Requirement.SUITABILITY
        and found.police_informed_at is None
    ):
        message += " The police must be told: it is on the list of non-attendances to report."
    elif _follow_up_open(found):
        message += " Now book the follow-up assessment, or record that none is needed."
    elif _pathway_next(found, previous):
        message += " Now record what followed: naloxone, a referral into treatment."
    return message


def _pathway_next(found: Booking, previous: str) -> bool:
    """Just recorded as attended: what followed the assessment is the next thing to record."""
    return found.status == BookingStatus.ATTENDED and previous != found.status


def _follow_up_open(found: Booking) -> bool:
    """An attended initial assessment whose follow-up is neither booked nor ruled out."""
    return _follow_up_refusal(found) is None


# The follow-up assessment ---------------------------------------------------------------------


@web.route("/bookings/<reference>/follow-up", methods=["GET", "POST"])
@roles_required(permissions.OUTCOMES)
def follow_up(reference: str):
    """After an attended initial assessment: book the follow-up, or record that none is needed."""
    found = _booking_or_404(reference)
    form = FollowUpForm()
    if form.validate_on_submit():
        if form.decision.data == outcomes.FOLLOW_UP_NOT_NEEDED:
            try:
                outcomes.record_no_follow_up(found, by=current_user, now=clock.now())
            except InvalidField as refusal:
                db.session.rollback()
                form.add_domain_errors(refusal.errors)
            else:
                db.session.commit()
                flash(
                    f"Recorded for {found.reference}: no follow-up assessment is needed. "
                    "Now record what followed: naloxone, a referral into treatment.",
                    "success",
                )
                return redirect(url_for("web.pathway", reference=found.reference))
        elif form.decision.data == outcomes.FOLLOW_UP_BOOKED:
            refusal = _follow_up_refusal(found)
            if refusal is None:
                return redirect(url_for("web.follow_up_slot", reference=found.reference))
            form.add_domain_errors(refusal.errors)
        else:
            form.decision.errors = [
                *form.decision.errors,
                "Select whether to book the follow-up or that none is needed",
            ]
    _record_view(found, clock.now(), "follow-up page")
    return render_template(
        "day/follow_up.html",
        form=form,
        title=f"Follow-up assessment after {found.reference}",
        booking=found,
        refusal=_follow_up_refusal(found),
        back_href=_day_of(found),
    ), (400 if form.errors else 200)


@web.route("/bookings/<reference>/follow-up/slot", methods=["GET", "POST"])
@roles_required(permissions.OUTCOMES)
def follow_up_slot(reference: str):
    """Choose the follow-up's time among the earliest free slots; it gets notice version 1."""
    found = _booking_or_404(reference)
    if request.method == "GET" and _follow_up_refusal(found) is not None:
        return redirect(url_for("web.follow_up", reference=found.reference))
    form = SlotForm()
    status = None
    if form.validate_on_submit():
        block_code, starts_at = form.chosen()
        try:
            booked = outcomes.book_follow_up(
                found,
                block_code,
                starts_at,
                by=current_user,
                now=clock.now(),
                rules=settings.slot_rules(),
                allow_test_numbers=settings.allow_test_numbers(),
            )
            db.session.commit()
        except SlotTaken:
            db.session.rollback()
            form = SlotForm(formdata=None)
            form.slot.errors = [SLOT_TAKEN]
            status = 409
        except InvalidField as refusal:
            db.session.rollback()
            unplaced = form.add_domain_errors(refusal.errors)
            form.slot.errors = [*form.slot.errors, *unplaced.values()]
        else:
            # The appointment page then shows the new reference and asks for the notice.
            session[JUST_BOOKED] = booked.reference
            return redirect(url_for("web.booking", reference=booked.reference))
    context = _slot_choices(form, False, found.tested_at)
    _record_view(found, clock.now(), "follow-up slot page")
    return render_template(
        "day/follow_up_slot.html",
        form=form,
        title=f"Book the follow-up assessment after {found.reference}",
        booking=found,
        **context,
    ), status or (400 if form.errors else 200)


def _follow_up_refusal(found: Booking) -> InvalidField | None:
    """Why no follow-up decision can be made now, in the domain's words, or None."""
    try:
        # The domain's own rule, asked before the slot is chosen, so the two never differ.
        outcomes._require_follow_up_decision_open(found)
    except InvalidField as refusal:
        return refusal
    return None


# Telling the police ---------------------------------------------------------------------------


@web.get("/police-to-inform")
@roles_required(permissions.POLICE_LIST)
def police_to_inform():
    """Non-attendances and early leavings the police must be told of; a sergeant's own block
    first, every block on request."""
    own_block = current_user.block if current_user.role == Role.SERGEANT else None
    show_all = own_block is None or request.args.get("all") == "1"
    block_ids = None if show_all else [own_block.id]
    now = clock.now()
    pending = outcomes.police_to_be_informed(block_ids)
    audit.viewed_in_list(pending, "police to inform", now, current_user)
    db.session.commit()
    return render_template(
        "day/police.html",
        title="Non-attendances to tell the police of",
        pending=pending,
        recent=queries.recently_informed(
            block_ids, now, RECENTLY_INFORMED, RECENTLY_INFORMED_SHOWN
        ),
        own_block=own_block,
        show_all=show_all,
        recent_days=RECENTLY_INFORMED.days,
    )


@web.post("/bookings/<reference>/police-informed")
@roles_required(permissions.POLICE_LIST)
def mark_police_informed(reference: str):
    found = _booking_or_404(reference)
    if not PoliceInformedForm().validate_on_submit():
        abort(400)
    back = url_for("web.police_to_inform", all="1" if request.form.get("all") == "1" else None)
    if found.police_informed_at is not None:
        by = found.police_informed_by.name if found.police_informed_by else "someone"
        flash(
            f"The police were already told about {found.reference}, "
            f"at {date_and_time(found.police_informed_at)} by {by}.",
            "info",
        )
        return redirect(back)
    try:
        outcomes.mark_police_informed(found, by=current_user, now=clock.now())
    except InvalidField as refusal:
        db.session.rollback()
        flash(f"{found.reference}: {refusal.message}", "info")
    else:
        db.session.commit()
        flash(
            f"Recorded that the police were told about {found.reference} "
            f"at {clock_time(found.police_informed_at)}.",
            "success",
        )
    return redirect(back)


# Outcomes still awaited -----------------------------------------------------------------------


@web.get("/outcomes/awaiting")
@roles_required(permissions.COORDINATION)
def awaiting_outcome():
    """Appointments that started over a day ago with no outcome: for the coordinator to chase.

    References, times and workers only: no personal details, so nothing to record as viewed.
    """
    waiting = outcomes.awaiting_outcome(clock.now())
    return render_template(
        "day/awaiting.html",
        title="Appointments awaiting an outcome",
        waiting=waiting,
        day_hrefs={booking.id: _day_of(booking) for booking in waiting},
        back=BACK_TO_AWAITING,
    )


# Helpers --------------------------------------------------------------------------------------


def _record_view(found: Booking, now: dt.datetime, where: str) -> None:
    """The outcome and follow-up pages show the person's name: a consultation to record."""
    audit.viewed(found, where, now, current_user)
    db.session.commit()
