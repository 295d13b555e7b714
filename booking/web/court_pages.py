"""The court duty worker's pages: a court's duty list for a day, a suitability assessment, and
the forms that request one and record its result, that it was not completed, its adjournment
(with an appointment before the adjourned hearing) and the sentence.

The views parse input, call the domain (`booking.court`) and render; workers and coordinators
only. Every page that shows a person's details records that it did, record by record.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import audit, clock, permissions, places, settings
from ..appointments.slots import Slot
from ..clock import LONDON, local_midnight
from ..court import queries, suitability
from ..errors import InvalidField, NotFound, SlotTaken
from ..extensions import db
from ..models import Block, SuitabilityAssessment
from . import web
from .auth import roles_required
from .booking_pages import SLOT_TAKEN, SLOTS_OFFERED
from .forms.court import (
    NO_APPOINTMENT,
    AdjournForm,
    CourtDayForm,
    NotCompletedForm,
    RequestForm,
    ResultForm,
    SentenceForm,
)
from .forms.fields import slot_value
from .presentation import (
    FINDING_NAMES,
    NOT_COMPLETED_NAMES,
    SENTENCE_NAMES,
    SESSION_NAMES,
    date_and_time,
    long_date,
)

# The last choice of appointment, where GOV.UK puts a "none" answer.
NO_APPOINTMENT_TEXT = "No appointment now"
NO_APPOINTMENT_HINT = "The person is assessed at court on the day of the adjourned hearing"


# The court duty list -------------------------------------------------------------------------


@web.get("/court")
@roles_required(permissions.COURT_WORK)
def court_list():
    """A court's duty list for a day, by session: by default today's, at the court where the
    worker is on court duty today, else the first court."""
    now = clock.now()
    today = now.astimezone(LONDON).date()
    courts = places.courts_by_name()
    asked = "court" in request.args or "date" in request.args
    form = CourtDayForm.for_courts(
        courts,
        formdata=request.args if asked else None,
        data=None if asked else {"court": _default_court(courts, today), "date": today},
    )
    if not courts or not form.validate():
        return render_template(
            "court/list.html", form=form, title="Court duty list", court=None, courts=courts
        ), (400 if form.errors else 200)
    court = next(c for c in courts if c.code == form.court.data)
    day = form.date.data
    sessions = queries.court_list(court, day)
    shown = [record for records in sessions.values() for record in records]
    audit.suitability_viewed(
        shown, f"court duty list {court.code} {day.isoformat()}", now, current_user
    )
    db.session.commit()
    days = {"previous": _other_day(court, day, suitability.sitting_day_before, "Previous")}
    days["next"] = _other_day(court, day, suitability.sitting_day_after, "Next")
    return render_template(
        "court/list.html",
        form=form,
        title=f"Court duty list: {court.name}, {long_date(day)}",
        court=court,
        courts=courts,
        day=day,
        today=today,
        sitting=suitability.is_sitting_day(day),
        sessions=sessions,
        other_days=days,
        today_href=list_url(court, today),
    )


def _other_day(court: Block, day: dt.date, step, text: str) -> dict | None:
    """A link to the list of the sitting day before or after, if the calendar has one."""
    try:
        other = step(day)
    except OverflowError:
        return None
    return {
        "href": list_url(court, other),
        "text": f"{text} sitting day",
        "labelText": long_date(other),
    }


def _default_court(courts: list[Block], today: dt.date) -> str | None:
    worker = current_user.worker
    duty = queries.duty_court(worker, today) if worker else None
    if duty is not None:
        return duty.code
    return courts[0].code if courts else None


def list_url(court: Block, day: dt.date) -> str:
    """The court's duty list for that day (the pathway pages go back to it too)."""
    return url_for("web.court_list", court=court.code, date=[day.day, day.month, day.year])


def _list_of(record: SuitabilityAssessment, day: dt.date | None = None) -> str:
    """The duty list the record is on (or was on, that day)."""
    return list_url(record.court, day or record.listed_for)


# Requesting an assessment ----------------------------------------------------------------------


@web.route("/court/suitability/new", methods=["GET", "POST"])
@roles_required(permissions.COURT_WORK)
def request_suitability():
    """A court's request for a suitability assessment: validated and written by the domain."""
    courts = places.courts_by_name()
    form = RequestForm.for_places(
        courts,
        places.blocks_by_name(),
        data=_request_defaults(courts) if request.method == "GET" else None,
    )
    if form.validate_on_submit():
        try:
            record = suitability.request(
                form.request(),
                by=current_user,
                now=clock.now(),
                allow_test_numbers=settings.allow_test_numbers(),
            )
        except InvalidField as refusal:
            db.session.rollback()
            form.add_domain_errors(refusal.errors)
        else:
            db.session.commit()
            flash(
                f"Suitability assessment {record.reference} requested for "
                f"{record.person_name}, {SESSION_NAMES[record.session].lower()} list on "
                f"{long_date(record.hearing_date)}.",
                "success",
            )
            return redirect(url_for("web.suitability_record", assessment=record.reference))
    return render_template(
        "court/request.html", form=form, title="Request a suitability assessment"
    ), (400 if form.errors else 200)


def _request_defaults(courts: list[Block]) -> dict[str, object]:
    """The court and day of the list the request was started from, else today at the worker's
    court."""
    today = clock.now().astimezone(LONDON).date()
    codes = {court.code for court in courts}
    court = request.args.get("court")
    try:
        day = dt.date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        day = today
    return {
        "court": court if court in codes else _default_court(courts, today),
        "hearing_date": max(day, today),
        "session": request.args.get("session"),
    }


# One assessment ----------------------------------------------------------------------------------


@web.get("/court/suitability/<assessment>")
@roles_required(permissions.COURT_WORK)
def suitability_record(assessment: str):
    record = _record_or_404(assessment)
    _record_view(record, "suitability record")
    return render_template(
        "court/record.html",
        title=f"Suitability assessment {record.reference}",
        record=record,
        open=record.status in suitability.OPEN,
        list_href=_list_of(record),
    )


# The result -----------------------------------------------------------------------------------


@web.route("/court/suitability/<assessment>/result", methods=["GET", "POST"])
@roles_required(permissions.COURT_WORK)
def suitability_result(assessment: str):
    record = _record_or_404(assessment)
    form = ResultForm(
        data=ResultForm.initial_data(clock.now()) if request.method == "GET" else None
    )
    if form.validate_on_submit():
        try:
            suitability.record_result(
                record,
                drr=form.drr.data,
                atr=form.atr.data,
                willing=form.willing.data == "yes",
                completed_at=form.completed_at().astimezone(dt.UTC),
                by=current_user,
                now=clock.now(),
            )
        except InvalidField as refusal:
            db.session.rollback()
            form.add_domain_errors(refusal.errors)
        else:
            db.session.commit()
            findings = (
                f"DRR {FINDING_NAMES[record.drr].lower()}, ATR {FINDING_NAMES[record.atr].lower()}"
            )
            flash(
                f"Result of {record.reference} saved for {record.person_name}: {findings}. "
                "Now record what followed: naloxone, a referral into treatment.",
                "success",
            )
            return redirect(url_for("web.pathway", reference=record.reference))
    return _action_page(record, form, "court/result.html", "Record the result", "result page")


# Not completed ----------------------------------------------------------------------------------


@web.route("/court/suitability/<assessment>/not-completed", methods=["GET", "POST"])
@roles_required(permissions.COURT_WORK)
def suitability_not_completed(assessment: str):
    record = _record_or_404(assessment)
    listed = record.listed_for
    form = NotCompletedForm()
    if form.validate_on_submit():
        try:
            suitability.record_not_completed(
                record, form.reason.data, by=current_user, now=clock.now()
            )
        except InvalidField as refusal:
            db.session.rollback()
            form.add_domain_errors(refusal.errors)
        else:
            db.session.commit()
            flash(
                f"{record.reference} for {record.person_name} recorded as not completed: "
                f"{NOT_COMPLETED_NAMES[record.not_completed_reason].lower()}.",
                "success",
            )
            return redirect(_list_of(record, listed))
    return _action_page(
        record, form, "court/not_completed.html", "Not completed", "not completed page"
    )


# Adjourned --------------------------------------------------------------------------------------


@web.route("/court/suitability/<assessment>/adjourn", methods=["GET", "POST"])
@roles_required(permissions.COURT_WORK)
def suitability_adjourn(assessment: str):
    """The adjourned hearing, and an appointment among the free ones that end in time for it;
    a slot taken meanwhile is refused with fresh choices, as in the booking journey."""
    record = _record_or_404(assessment)
    listed = record.listed_for
    form = AdjournForm()
    status = None
    if request.method == "POST" and form.showing():
        # Only the days are needed to offer the appointments: nothing is recorded.
        form.validate()
        form.appointment.errors = []
    elif form.validate_on_submit():
        try:
            adjournment = suitability.adjourn(
                record,
                form.adjourned_to.data,
                form.chosen(),
                by=current_user,
                now=clock.now(),
                rules=settings.slot_rules(),
                lead_working_days=settings.suitability_lead_working_days(),
                allow_test_numbers=settings.allow_test_numbers(),
            )
            db.session.commit()
        except SlotTaken:
            db.session.rollback()
            form.appointment.data = None
            form.appointment.errors = [SLOT_TAKEN]
            status = 409
        except InvalidField as refusal:
            db.session.rollback()
            form.appointment.data = None
            form.add_domain_errors(refusal.errors)
        else:
            flash(_adjourned_message(record, adjournment), "success")
            return redirect(_list_of(record, listed))
    offered, refusal = _appointments_offered(record, form)
    if refusal and not form.adjourned_to.errors:
        form.adjourned_to.errors = [*form.adjourned_to.errors, refusal]
    form.appointment.choices = [
        (slot_value(s.block.code, s.starts_at), _slot_label(s)) for s in offered
    ]
    form.appointment.choices.append((NO_APPOINTMENT, NO_APPOINTMENT_TEXT))
    hints = [{"hint": {"text": _slot_hint(s)}} for s in offered]
    hints.append({"hint": {"text": NO_APPOINTMENT_HINT}})
    return _action_page(
        record,
        form,
        "court/adjourn.html",
        "Adjourned",
        "adjournment page",
        status=status,
        offered=offered,
        appointment_items=hints,
        last_day=_last_day(form),
        lead_working_days=settings.suitability_lead_working_days(),
    )


def _appointments_offered(
    record: SuitabilityAssessment, form: AdjournForm
) -> tuple[list[Slot], str | None]:
    """The free slots that end in time for the adjourned hearing typed (none until one is); and
    why the day typed cannot be the adjourned hearing, when it cannot."""
    day = form.adjourned_to.data
    if day is None or form.adjourned_to.errors or form.slots_from.errors:
        return [], None
    try:
        suitability.check_adjourned_to(record, day)
    except InvalidField as refusal:
        return [], refusal.errors.get("adjourned_to", refusal.message)
    after = local_midnight(form.slots_from.data) if form.slots_from.data else None
    return suitability.appointment_slots(
        record,
        day,
        now=clock.now(),
        rules=settings.slot_rules(),
        lead_working_days=settings.suitability_lead_working_days(),
        after=after,
        limit=SLOTS_OFFERED,
    ), None


def _last_day(form: AdjournForm) -> dt.date | None:
    """The last day an appointment may end on for the adjourned hearing typed, if one is."""
    if form.adjourned_to.data is None or form.adjourned_to.errors:
        return None
    latest_end = suitability.latest_appointment_end(
        form.adjourned_to.data, settings.suitability_lead_working_days()
    )
    return (latest_end - dt.timedelta(seconds=1)).astimezone(LONDON).date()


def _slot_label(slot: Slot) -> str:
    """Monday 18 January, 07:00 – Perry Barr"""
    local = slot.starts_at.astimezone(LONDON)
    return f"{local:%A} {local.day} {local:%B}, {local:%H:%M} – {slot.block.name}"


def _slot_hint(slot: Slot) -> str:
    return f"{slot.block.address}. Ends {slot.ends_at.astimezone(LONDON):%H:%M}"


def _adjourned_message(record: SuitabilityAssessment, adjournment) -> str:
    to = long_date(adjournment.adjourned_to)
    message = f"{record.reference} for {record.person_name} adjourned to {to}."
    booking = adjournment.booking
    if booking is not None:
        message += (
            f" Appointment {booking.reference} booked at {date_and_time(booking.starts_at)}, "
            f"{booking.block.name}."
        )
    return message


# The sentence -----------------------------------------------------------------------------------


@web.route("/court/suitability/<assessment>/sentence", methods=["GET", "POST"])
@roles_required(permissions.COURT_WORK)
def suitability_sentence(assessment: str):
    record = _record_or_404(assessment)
    form = SentenceForm(
        data={"sentenced_on": clock.now().astimezone(LONDON).date()}
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        try:
            suitability.record_sentence(
                record, form.outcome.data, form.sentenced_on.data, by=current_user, now=clock.now()
            )
        except InvalidField as refusal:
            db.session.rollback()
            form.add_domain_errors(refusal.errors)
        else:
            db.session.commit()
            flash(
                f"Sentence recorded for {record.reference}: "
                f"{SENTENCE_NAMES[record.sentence].lower()}.",
                "success",
            )
            return redirect(url_for("web.suitability_record", assessment=record.reference))
    return _action_page(record, form, "court/sentence.html", "Record the sentence", "sentence page")


# Helpers --------------------------------------------------------------------------------------


def _record_or_404(reference: str) -> SuitabilityAssessment:
    try:
        return queries.assessment(reference)
    except NotFound:
        abort(404)


def _record_view(record: SuitabilityAssessment, where: str) -> None:
    """These pages show the person's name: a consultation to record."""
    audit.suitability_viewed([record], where, clock.now(), current_user)
    db.session.commit()


def _action_page(
    record: SuitabilityAssessment,
    form,
    template: str,
    heading: str,
    where: str,
    status: int | None = None,
    **context,
):
    """A form about one assessment: its facts above the form; the view recorded."""
    _record_view(record, where)
    return render_template(
        template,
        form=form,
        title=f"{heading}: suitability assessment {record.reference}",
        heading=heading,
        record=record,
        open=record.status in suitability.OPEN,
        back_href=_list_of(record),
        **context,
    ), status or (400 if form.errors else 200)
