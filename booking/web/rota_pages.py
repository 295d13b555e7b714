"""The coordinators' rota pages: the week by block and by worker, shifts added, moved, swapped
and removed, absences, the appointments waiting to be rearranged, and the cover picture.

The pages parse input and call the domain (`booking.rota.changes`, which re-checks every
booking a change touches; `booking.rota.picture`, which works out cover and gaps). A refusal
writes nothing: the transaction is rolled back and the form shows the domain's messages.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from .. import audit, charts, clock, permissions, places
from ..appointments.queries import held_in
from ..clock import LONDON, local_midnight
from ..errors import InvalidField
from ..extensions import db
from ..models import Absence, Block, Shift, Worker
from ..rota import changes as rota_changes
from ..rota import picture as pictures
from ..rota import queries
from ..rota.changes import Recheck
from ..workdays import bank_holiday_name
from . import web
from .auth import roles_required
from .forms.fields import parse_clock_time
from .forms.rota import KIND_NAMES, AbsenceForm, ConfirmRemovalForm, ShiftForm
from .presentation import long_date, short_date

VIEWS = {"day": None, "daytime": pictures.DAYTIME}
# The buttons of the absence's check page: record it, or go back to the form to change it.
CONFIRM, CHANGE = "confirm", "change"


# The week by block ----------------------------------------------------------------------------


@web.get("/rota")
@roles_required(permissions.COORDINATION)
def rota_week():
    """Every block's shifts and unfilled cover, Monday to Sunday."""
    monday = _week()
    picture = pictures.cover_picture(monday)
    cells: dict[tuple[int, dt.date], list[Shift]] = defaultdict(list)
    for shift in _shifts_in_week(monday):
        cells[(shift.block_id, _local_date(shift.starts_at, shift.block))].append(shift)
    return _render(
        "rota/week.html",
        title=f"Rota for the week of {long_date(monday)}",
        picture=picture,
        cells=cells,
        waiting=len(rota_changes.needs_rearranging()),
        **_week_context(monday),
    )


# The week by worker ---------------------------------------------------------------------------


@dataclass
class WorkerWeek:
    worker: Worker
    shifts: dict[dt.date, list[Shift]]
    absences: dict[dt.date, list[tuple[Absence, str]]]
    hours: float


@web.get("/rota/workers")
@roles_required(permissions.COORDINATION)
def rota_by_worker():
    """Each worker's shifts and absences in the week, with the hours they are rostered."""
    monday = _week()
    dates = pictures.week_dates(monday)
    week_start, week_end = _week_span(monday)
    shifts = _shifts_in_week(monday)
    absences = queries.absences_overlapping(week_start, week_end)
    rostered = {shift.worker_id for shift in shifts} | {absence.worker_id for absence in absences}
    workers = queries.workers_active_or(rostered)
    rows = {
        worker.id: WorkerWeek(worker, defaultdict(list), defaultdict(list), 0.0)
        for worker in workers
    }
    for shift in shifts:
        row = rows[shift.worker_id]
        row.shifts[_local_date(shift.starts_at, shift.block)].append(shift)
        row.hours += _hours(shift.starts_at, shift.ends_at)
    for absence in absences:
        for day in dates:
            day_start, day_end = pictures.day_span(day, LONDON)
            if absence.starts_at < day_end and absence.ends_at > day_start:
                rows[absence.worker_id].absences[day].append(
                    (absence, _part_of_day(absence, day_start, day_end))
                )
    return _render(
        "rota/workers.html",
        title=f"Rota by worker for the week of {long_date(monday)}",
        rows=list(rows.values()),
        **_week_context(monday),
    )


def _part_of_day(absence: Absence, day_start: dt.datetime, day_end: dt.datetime) -> str:
    if absence.starts_at <= day_start and absence.ends_at >= day_end:
        return "all day"
    return span_text(max(absence.starts_at, day_start), min(absence.ends_at, day_end), LONDON)


# Shifts: added, changed, removed --------------------------------------------------------------


@web.route("/rota/shifts/new", methods=["GET", "POST"])
@roles_required(permissions.COORDINATION)
def add_shift():
    """Extra cover: a worker at a block for some hours of a date."""
    initial = _prefill_from_query() if request.method == "GET" else None
    form = ShiftForm.with_choices(_active_workers(), places.places_by_name(), data=initial)
    if form.validate_on_submit():
        chosen = _shift_answers(form)
        if chosen is not None:
            worker, block, starts_at, ends_at = chosen
            try:
                shift, result = rota_changes.add_shift(
                    worker, block, starts_at, ends_at, now=clock.now(), by=current_user
                )
                db.session.commit()
            except InvalidField as refusal:
                db.session.rollback()
                _show_refusal(form, refusal)
            else:
                flash(_changed(f"Shift added: {_shift_text(shift)}.", result), "success")
                return redirect(url_for("web.rota_week", week=_local_date(starts_at, block)))
    return _render(
        "rota/shift.html",
        form=form,
        title="Add a shift",
        shift=None,
        action=url_for("web.add_shift"),
        back=url_for("web.rota_week", week=form.date.data),
    ), (400 if form.errors else 200)


@web.route("/rota/shifts/<int:shift_id>", methods=["GET", "POST"])
@roles_required(permissions.COORDINATION)
def edit_shift(shift_id: int):
    """Move a shift (date, times, block) or give it to another worker."""
    shift = _shift_or_404(shift_id)
    week = _local_date(shift.starts_at, shift.block)
    initial = _shift_data(shift) if request.method == "GET" else None
    form = ShiftForm.with_choices(
        _active_workers(shift.worker), places.places_by_name(), data=initial
    )
    if form.validate_on_submit():
        chosen = _shift_answers(form)
        if chosen is not None:
            worker, block, starts_at, ends_at = chosen
            if (worker.id, block.id, starts_at, ends_at) == (
                shift.worker_id,
                shift.block_id,
                shift.starts_at,
                shift.ends_at,
            ):
                flash("Nothing was changed: the shift is as it was.", "info")
                return redirect(url_for("web.rota_week", week=week))
            try:
                result = rota_changes.change_shift(
                    shift,
                    worker=worker,
                    block=block,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    now=clock.now(),
                    by=current_user,
                )
                db.session.commit()
            except InvalidField as refusal:
                db.session.rollback()
                _show_refusal(form, refusal)
            else:
                flash(_changed(f"Shift changed: {_shift_text(shift)}.", result), "success")
                return redirect(url_for("web.rota_week", week=_local_date(starts_at, block)))
    return _render(
        "rota/shift.html",
        form=form,
        title="Change a shift",
        shift=shift,
        booked=held_in(shift),
        action=url_for("web.edit_shift", shift_id=shift.id),
        back=url_for("web.rota_week", week=week),
    ), (400 if form.errors else 200)


@web.route("/rota/shifts/<int:shift_id>/remove", methods=["GET", "POST"])
@roles_required(permissions.COORDINATION)
def remove_shift(shift_id: int):
    """Ask, then take the shift off the rota; its appointments are re-checked."""
    shift = _shift_or_404(shift_id)
    week = _local_date(shift.starts_at, shift.block)
    form = ConfirmRemovalForm()
    if form.validate_on_submit():
        described = _shift_text(shift)
        result = rota_changes.remove_shift(shift, now=clock.now(), by=current_user)
        db.session.commit()
        flash(_changed(f"Shift removed: {described}.", result), "success")
        return redirect(url_for("web.rota_week", week=week))
    return _render(
        "rota/remove.html",
        form=form,
        title="Remove the shift",
        shift=shift,
        booked=held_in(shift),
        back=url_for("web.edit_shift", shift_id=shift.id),
    )


# Absences -------------------------------------------------------------------------------------


@web.route("/rota/absences/new", methods=["GET", "POST"])
@roles_required(permissions.COORDINATION)
def record_absence():
    """Leave or sickness: the worker's shifts then are cut and their appointments re-checked.

    Asked in two steps: the form, then a check of what it would do to the appointments (the
    domain's own change, rolled back); only "Record the absence" there records it.
    """
    initial = None
    if request.method == "GET" and request.args.get("worker", "").isdigit():
        initial = {"worker": request.args["worker"]}
    form = AbsenceForm.with_choices(_active_workers(), data=initial)
    if form.validate_on_submit():
        worker = _chosen_worker(form.worker)
        span = form.span()
        # "Change the absence" on the check page comes back to the form, filled in.
        if worker is not None and span is not None and CHANGE not in request.form:
            step = _save_absence if request.form.get(CONFIRM) == "yes" else _check_absence
            answer = step(form, worker, *span)
            if answer is not None:
                return answer
    return _render("rota/absence.html", form=form, title="Record an absence"), (
        400 if form.errors else 200
    )


def _check_absence(form: AbsenceForm, worker: Worker, starts_at, ends_at):
    """The check page: what recording the absence would do, or None with the form's errors."""
    try:
        preview = rota_changes.preview_absence(
            worker, form.kind.data, starts_at, ends_at, now=clock.now(), by=current_user
        )
        db.session.commit()
    except InvalidField as refusal:
        db.session.rollback()
        _show_refusal(form, refusal)
        return None
    return _render(
        "rota/absence_check.html",
        form=form,
        title="Check the absence before recording it",
        worker=worker,
        what=KIND_NAMES[form.kind.data],
        when=_away_text(starts_at, ends_at),
        preview=preview,
        answers=[
            (name, value)
            for name, value in request.form.items(multi=True)
            if name not in ("csrf_token", "submit", CONFIRM, CHANGE)
        ],
    )


def _save_absence(form: AbsenceForm, worker: Worker, starts_at, ends_at):
    """Record it, then the week's rota with what it did; or None with the form's errors."""
    try:
        absence, result = rota_changes.record_absence(
            worker, form.kind.data, starts_at, ends_at, now=clock.now(), by=current_user
        )
        db.session.commit()
    except InvalidField as refusal:
        db.session.rollback()
        _show_refusal(form, refusal)
        return None
    recorded = f"{KIND_NAMES[absence.kind]} recorded: {worker.name}, {_absence_text(absence)}."
    flash(_changed(recorded, result), "success")
    return redirect(url_for("web.rota_week", week=absence.starts_at.astimezone(LONDON).date()))


# Appointments left without a worker -----------------------------------------------------------


@web.get("/rota/needs-rearranging")
@roles_required(permissions.BOOKING)
def needs_rearranging():
    """Live appointments a rota change left without a worker, earliest first."""
    waiting = rota_changes.needs_rearranging()
    audit.viewed_in_list(waiting, "needs rearranging", clock.now(), current_user)
    db.session.commit()
    return _render(
        "rota/needs_rearranging.html",
        title="Appointments that need rearranging",
        waiting=waiting,
        now=clock.now(),
    )


# The cover picture ----------------------------------------------------------------------------


@web.get("/rota/cover")
@roles_required(permissions.COORDINATION)
def cover_picture():
    """Cover and gaps at every block in a week, and the out-of-hours bookings gaps produced."""
    monday = _week()
    view_name = request.args.get("hours", "day")
    if view_name not in VIEWS:
        abort(404)
    picture = pictures.cover_picture(monday, view=VIEWS[view_name])
    return _render(
        "rota/cover.html",
        title=f"Cover for the week of {long_date(monday)}",
        picture=picture,
        charts=[charts.CoverChart.of(week, picture.view) for week in picture.blocks],
        view_name=view_name,
        **_week_context(monday, hours=view_name),
    )


# Helpers --------------------------------------------------------------------------------------


def span_text(starts_at: dt.datetime, ends_at: dt.datetime, zone: ZoneInfo = LONDON) -> str:
    """07:00–20:00 in local time; an end at the next midnight reads 24:00."""
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    end_text = "24:00" if end.date() > start.date() and end.time() == dt.time(0) else f"{end:%H:%M}"
    return f"{start:%H:%M}–{end_text}"


def hours_text(hours: float) -> str:
    """13 hours, 1 hour, 12.5 hours"""
    value = f"{round(hours, 2):g}"
    return f"{value} hour" if value == "1" else f"{value} hours"


def _render(template: str, **context) -> str:
    """A rota page, with the helpers its templates use to write times and hours."""
    return render_template(template, span_text=span_text, hours_text=hours_text, **context)


def _week() -> dt.date:
    """The Monday of the week asked for (any date in it), or of this week."""
    raw = request.args.get("week")
    if not raw:
        return pictures.monday_of(clock.now().astimezone(LONDON).date())
    try:
        return pictures.monday_of(dt.date.fromisoformat(raw))
    except ValueError:
        abort(404)


def _week_span(monday: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return local_midnight(monday), local_midnight(monday + dt.timedelta(days=7))


def _week_context(monday: dt.date, **link_args) -> dict:
    week = pictures.week_dates(monday)
    return {
        "monday": monday,
        "dates": week,
        "previous_week": monday - dt.timedelta(days=7),
        "next_week": monday + dt.timedelta(days=7),
        "this_week": pictures.monday_of(clock.now().astimezone(LONDON).date()),
        "link_args": link_args,
        "day_names": {day: short_date(day) for day in week},
        "holidays": {day: bank_holiday_name(day) for day in week},
        "clock_changes": {day: _clock_change(day) for day in week},
    }


def _clock_change(day: dt.date) -> str | None:
    """Clocks go forward (a 23-hour day) or back (25 hours) in the UK that day."""
    hours = _hours(*pictures.day_span(day, LONDON))
    if hours == 24:
        return None
    return "Clocks go forward" if hours < 24 else "Clocks go back"


def _shifts_in_week(monday: dt.date) -> list[Shift]:
    return queries.shifts_starting(*_week_span(monday))


def _local_date(instant: dt.datetime, block: Block) -> dt.date:
    return instant.astimezone(ZoneInfo(block.timezone)).date()


def _hours(starts_at: dt.datetime, ends_at: dt.datetime) -> float:
    return (ends_at - starts_at).total_seconds() / 3600


def _active_workers(also: Worker | None = None) -> list[Worker]:
    workers = queries.active_workers()
    if also is not None and also not in workers:
        workers.append(also)  # a shift's own worker stays choosable after leaving the team
    return workers


def _shift_or_404(shift_id: int) -> Shift:
    shift = db.session.get(Shift, shift_id)
    if shift is None:
        abort(404)
    return shift


def _shift_data(shift: Shift) -> dict:
    zone = ZoneInfo(shift.block.timezone)
    starts, ends = shift.starts_at.astimezone(zone), shift.ends_at.astimezone(zone)
    return {
        "worker": str(shift.worker_id),
        "block": shift.block.code,
        "date": starts.date(),
        "starts": f"{starts:%H:%M}",
        "ends": f"{ends:%H:%M}",
    }


def _prefill_from_query() -> dict:
    """An "add cover" link from a gap on the rota names the block, date and hours."""
    data: dict[str, object] = {}
    if request.args.get("block"):
        data["block"] = request.args["block"]
    with contextlib.suppress(ValueError):
        data["date"] = dt.date.fromisoformat(request.args.get("date", ""))
    for name in ("starts", "ends"):
        if parse_clock_time(request.args.get(name, "")):
            data[name] = request.args[name]
    return data


def _chosen_worker(field) -> Worker | None:
    """The worker picked, if the select offered them (active, or the shift's own worker)."""
    offered = {value for value, _ in field.choices if value}
    worker = db.session.get(Worker, int(field.data)) if field.data in offered else None
    if worker is None:
        field.errors = [*field.errors, "Choose a worker from the list"]
    return worker


def _shift_answers(form: ShiftForm) -> tuple[Worker, Block, dt.datetime, dt.datetime] | None:
    """The worker, block and instants the form names; None with errors on the fields."""
    worker = _chosen_worker(form.worker)
    # Shifts are custody cover or court duty alike.
    block = places.place_with_code(form.block.data)
    if block is None:
        form.block.errors = [*form.block.errors, "Choose a block or court from the list"]
        return None
    span = form.span(ZoneInfo(block.timezone))
    if worker is None or span is None:
        return None
    return worker, block, *span


def _show_refusal(form, refusal: InvalidField) -> None:
    """The domain's messages on their fields; one with no field of its own goes on the first."""
    unplaced = form.add_domain_errors(refusal.errors)
    if not refusal.errors:
        unplaced = {"": refusal.message}
    if unplaced:
        form.worker.errors = [*form.worker.errors, *unplaced.values()]


def _shift_text(shift: Shift) -> str:
    """Amira Clarke at Perry Barr, 07:00–20:00 on Thursday 14 January 2027"""
    zone = ZoneInfo(shift.block.timezone)
    day = shift.starts_at.astimezone(zone).date()
    return (
        f"{shift.worker.name} at {shift.block.name}, "
        f"{span_text(shift.starts_at, shift.ends_at, zone)} on {long_date(day)}"
    )


def _absence_text(absence: Absence) -> str:
    return _away_text(absence.starts_at, absence.ends_at)


def _away_text(starts_at: dt.datetime, ends_at: dt.datetime) -> str:
    """all day on Thursday 14 January 2027; 09:00–11:30 on Thursday 14 January 2027;
    from 14:00 on Thursday 14 January 2027 to the end of Friday 15 January 2027"""
    starts, ends = starts_at.astimezone(LONDON), ends_at.astimezone(LONDON)
    midnight = dt.time(0)
    whole_days = starts.time() == midnight and ends.time() == midnight
    # An end at midnight is the end of the day before.
    last_day = ends.date() - dt.timedelta(days=1) if ends.time() == midnight else ends.date()
    if starts.date() == last_day:
        if whole_days:
            return f"all day on {long_date(last_day)}"
        return f"{span_text(starts_at, ends_at)} on {long_date(last_day)}"
    if whole_days:
        return f"all day from {long_date(starts.date())} to {long_date(last_day)}"
    until = (
        f"the end of {long_date(last_day)}"
        if ends.time() == midnight
        else f"{ends:%H:%M} on {long_date(last_day)}"
    )
    return f"from {starts:%H:%M} on {long_date(starts.date())} to {until}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def recheck_summary(result: Recheck) -> str:
    """What a rota change did to the appointments it touched, in one sentence."""
    moved, waiting = len(result.reassigned), len(result.needs_rearranging)
    summary = (
        f"{_count(moved, 'appointment')} moved to another worker; "
        f"{waiting} {'needs' if waiting == 1 else 'need'} rearranging"
    )
    if result.placed:
        summary += f"; {_count(len(result.placed), 'waiting appointment')} given a worker"
    return summary + "."


def _changed(what: str, result: Recheck) -> Markup:
    """The flash after a rota change, linking to the list when appointments wait there."""
    message = Markup("{} {}").format(what, recheck_summary(result))
    if result.needs_rearranging:
        message += Markup(
            ' <a class="govuk-notification-banner__link" href="{}">'
            "See the appointments that need rearranging</a>"
        ).format(url_for("web.needs_rearranging"))
    return message
