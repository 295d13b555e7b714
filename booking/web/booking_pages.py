"""The sergeant's journey: record the test, choose a slot, check, confirm; then the appointment,
its written notice, rearranging and cancelling.

The views parse input, call the domain (`booking.appointments.bookings`, the one write path)
and render. Until the booking is confirmed no booking is written: the details and the chosen
slot wait in a server-side draft (`booking.appointments.drafts`), never in the cookie.
"""

from __future__ import annotations

import dataclasses
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
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from .. import audit, clock, permissions, places, settings
from ..appointments import bookings, drafts, queries
from ..appointments.bookings import BookingDetails
from ..appointments.notices import render_notice
from ..appointments.slots import Slot, free_slots, latest_allowed
from ..clock import LONDON, local_midnight, parse_iso_instant
from ..errors import InvalidField, NotFound, SlotTaken
from ..extensions import db
from ..models import Booking
from ..rota.cover import cover_at
from . import web
from .auth import keeps_typed_input, roles_required
from .forms.fields import (
    AppointmentsFilterForm,
    CancelForm,
    ConfirmForm,
    DetailsForm,
    ReferenceSearchForm,
    SlotDayForm,
    SlotForm,
    slot_value,
)

JUST_BOOKED = "just_booked"
SLOTS_OFFERED = 10
UPCOMING_SHOWN = 200
SLOT_TAKEN = "That slot has just been taken. Choose another."


@web.get("/")
@login_required
def home():
    can_book = permissions.may(current_user, permissions.BOOKING)
    own_block = current_user.block if can_book else None
    return render_template(
        "home.html",
        title="Home",
        can_book=can_book,
        cover=cover_at(own_block, clock.now()) if own_block else None,
    )


# Recording the test and the person ------------------------------------------------------------


@web.get("/bookings/new/start")
@roles_required(permissions.BOOKING)
def start_booking():
    """A new booking starts empty: never show the last person's details by mistake."""
    drafts.discard(current_user)
    db.session.commit()
    return redirect(url_for("web.new_booking"))


@web.route("/bookings/new", methods=["GET", "POST"])
@keeps_typed_input
@roles_required(permissions.BOOKING)
def new_booking():
    """Step 1: the person, the test and the requirement. Validated, never written.

    Shown again (browser Back, Forward, reload, signing in again) it holds the draft's answers,
    or what was typed and not yet sent; a new booking starts at `start_booking`.
    """
    changing = "change" in request.args
    details, slot = _draft()
    now = clock.now()
    blocks = places.blocks_by_name()
    typed = drafts.typed(current_user, request.path) if request.method == "GET" else None
    if typed:
        form = DetailsForm.for_user(current_user, blocks, formdata=MultiDict(typed))
    else:
        # A POST is read from the request alone: a default would tick a radio left blank.
        initial = (
            DetailsForm.initial_data(details, current_user, now)
            if request.method == "GET"
            else None
        )
        form = DetailsForm.for_user(current_user, blocks, data=initial)
    if form.validate_on_submit():
        try:
            cleaned = bookings.validate_details(
                form.details(),
                by=current_user,
                now=now,
                allow_test_numbers=settings.allow_test_numbers(),
            )
        except InvalidField as refusal:
            form.add_domain_errors(refusal.errors)
        else:
            keep_slot = slot if changing else None
            _store_draft(cleaned, keep_slot)
            return redirect(url_for("web.check_booking" if keep_slot else "web.choose_slot"))
    return _details_page(
        form, changing, restored=bool(typed), in_progress=details is not None and not changing
    )


def _details_page(
    form: DetailsForm, changing: bool, *, restored: bool = False, in_progress: bool = False
):
    # The cover where the person is held, before anything is typed: whether to book at all.
    block = places.block_with_code(form.arrest_block.data or "") or current_user.block
    return render_template(
        "web/details.html",
        form=form,
        title="Record the test and the person’s details",
        changing=changing,
        restored=restored,
        in_progress=in_progress,
        cover=cover_at(block, clock.now()) if block else None,
    ), (400 if form.errors else 200)


# Choosing a slot ------------------------------------------------------------------------------


@web.route("/bookings/new/slot", methods=["GET", "POST"])
@keeps_typed_input
@roles_required(permissions.BOOKING)
def choose_slot():
    """Step 2: the cover at the arrest block now, and the earliest free slots everywhere."""
    details, chosen = _draft()
    if details is None:
        return redirect(url_for("web.new_booking"))
    form = SlotForm()
    if request.method == "GET":
        # Back on this page (browser Back or Forward, signed in again): the choice made before.
        typed = dict(drafts.typed(current_user, request.path) or [])
        if typed.get("slot"):
            form.slot.data = typed["slot"]
        elif chosen:
            form.slot.data = slot_value(*chosen)
    if form.validate_on_submit():
        block_code, starts_at = form.chosen()
        _store_draft(details, (block_code, starts_at))
        return redirect(url_for("web.check_booking"))
    return _new_slot_page(details, form)


def _new_slot_page(details: BookingDetails, form: SlotForm, status: int | None = None):
    now = clock.now()
    arrest_block = bookings.get_block(details.arrest_block, "arrest_block")
    context = _slot_choices(form, details.disputed, details.tested_at, near=details.arrest_block)
    return render_template(
        "web/slot.html",
        form=form,
        title="Choose an appointment",
        details=details,
        cover=cover_at(arrest_block, now),
        **context,
    ), status or (400 if form.errors or context["day_form"].errors else 200)


def _slot_choices(
    form: SlotForm, disputed: bool, tested_at: dt.datetime, near: str | None = None
) -> dict:
    """Offer the earliest free slots (at the blocks filtered on, from the day chosen) as the
    form's choices; slots that start together nearest to the block `near` first."""
    now = clock.now()
    rules = settings.slot_rules()
    blocks = places.blocks_by_name()
    known = {block.code for block in blocks}
    chosen_codes = [code for code in request.args.getlist("block") if code in known]
    day_form = SlotDayForm(formdata=request.args if "day" in request.args else None)
    day_form.validate()
    today = now.astimezone(LONDON).date()
    last_day = latest_allowed(rules, now).astimezone(LONDON).date()
    in_window = day_form.check_window(today, last_day)
    from_day = day_form.day.data if in_window else None
    offered = free_slots(
        rules,
        now,
        after=local_midnight(from_day) if from_day else None,
        block_codes=chosen_codes or None,
        limit=SLOTS_OFFERED,
        disputed=disputed,
        tested_at=tested_at,
        near=near,
    )
    form.slot.choices = [(slot_value(s.block.code, s.starts_at), _slot_label(s)) for s in offered]
    return {
        "offered": offered,
        "slot_hints": [{"hint": {"text": _slot_hint(s)}} for s in offered],
        "blocks": blocks,
        "chosen_codes": chosen_codes,
        "day_form": day_form,
        "chosen_day": from_day,
        "filters": {"block": chosen_codes, "day": day_form.url_values() if from_day else []},
    }


def _slot_label(slot: Slot) -> str:
    """Saturday 16 January, 07:00 – Perry Barr"""
    local = slot.starts_at.astimezone(LONDON)
    return f"{local:%A} {local.day} {local:%B}, {local:%H:%M} – {slot.block.name}"


def _slot_hint(slot: Slot) -> str:
    places = "1 place" if slot.free == 1 else f"{slot.free} places"
    return f"{slot.block.address}. {places} free"


# Checking and confirming ----------------------------------------------------------------------


@web.route("/bookings/new/check", methods=["GET", "POST"])
@roles_required(permissions.BOOKING)
def check_booking():
    """Step 3: everything on one page, then the one write: `bookings.book`."""
    details, slot = _draft()
    if details is None:
        return redirect(url_for("web.new_booking"))
    if slot is None:
        return redirect(url_for("web.choose_slot"))
    block_code, starts_at = slot
    now = clock.now()
    duplicates = queries.live_duplicates(
        now, details.custody_record, details.person_name, details.mobile
    )
    if duplicates:
        # Showing them shows their references and times: a consultation like any list's.
        audit.viewed_in_list(
            duplicates, "possible duplicate, on checking a booking", now, current_user
        )
        db.session.commit()
    form = ConfirmForm()
    if form.validate_on_submit() and (not duplicates or form.confirms_another()):
        try:
            booking = bookings.book(
                details,
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
            _store_draft(details, None)
            slot_form = SlotForm(formdata=None)
            slot_form.slot.errors = [SLOT_TAKEN]
            return _new_slot_page(details, slot_form, 409)
        except InvalidField as refusal:
            db.session.rollback()
            return _refused_booking(details, refusal)
        drafts.discard(current_user)
        db.session.commit()
        session[JUST_BOOKED] = booking.reference
        return redirect(url_for("web.booking", reference=booking.reference))
    return render_template(
        "web/check.html",
        form=form,
        title="Check the booking before you confirm it",
        details=details,
        block=bookings.get_block(block_code),
        arrest_block=bookings.get_block(details.arrest_block, "arrest_block"),
        starts_at=starts_at,
        duplicates=[(found, _why_duplicate(found, details)) for found in duplicates],
    ), (400 if form.errors else 200)


def _why_duplicate(found: Booking, details: BookingDetails) -> str:
    same_record = queries.custody_record_key(found.custody_record or "")
    if same_record == queries.custody_record_key(details.custody_record):
        return "the same custody record number"
    return "the same name and mobile number"


def _refused_booking(details: BookingDetails, refusal: InvalidField):
    """Send the refusal back to the page where it can be put right."""
    details_form = DetailsForm.for_user(
        current_user,
        places.blocks_by_name(),
        formdata=None,
        data=DetailsForm.initial_data(details, current_user, clock.now()),
    )
    about_slot = details_form.add_domain_errors(refusal.errors)
    if not about_slot:
        return _details_page(details_form, changing=True)
    slot_form = SlotForm(formdata=None)
    unplaced = slot_form.add_domain_errors(about_slot)
    if unplaced:
        slot_form.slot.errors = [*slot_form.slot.errors, *unplaced.values()]
    _store_draft(details, None)
    return _new_slot_page(details, slot_form, 400)


# One appointment ------------------------------------------------------------------------------


@web.get("/bookings/<reference>")
@roles_required(permissions.BOOKING)
def booking(reference: str):
    found = _booking_or_404(reference)
    audit.record(audit.Action.VIEWED, clock.now(), current_user, found)
    db.session.commit()
    just_booked = session.pop(JUST_BOOKED, None) == found.reference
    return render_template(
        "web/booking.html",
        title=f"Appointment {found.reference}",
        booking=found,
        notice=found.notices[-1] if found.notices else None,
        just_booked=just_booked,
    )


@web.get("/bookings/<reference>/notice")
@roles_required(permissions.BOOKING)
def notice(reference: str):
    found = _booking_or_404(reference)
    if not found.has_notice:
        abort(404)  # no written notice goes with a suitability appointment
    html = render_notice(found)
    audit.record(audit.Action.NOTICE_PRINTED, clock.now(), current_user, found)
    db.session.commit()
    return html


@web.route("/bookings/<reference>/rearrange", methods=["GET", "POST"])
@roles_required(permissions.BOOKING)
def rearrange(reference: str):
    found = _booking_or_404(reference)
    if not found.is_live:
        return _not_changeable(found)
    form = SlotForm()
    status = None
    if form.validate_on_submit():
        block_code, starts_at = form.chosen()
        try:
            bookings.rearrange(
                found,
                block_code,
                starts_at,
                by=current_user,
                now=clock.now(),
                rules=settings.slot_rules(),
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
            flash(
                f"Appointment moved: notice version {found.notice_version}. "
                "Print the new notice and give it to the person.",
                "success",
            )
            return redirect(url_for("web.booking", reference=found.reference))
    context = _slot_choices(form, found.disputed, found.tested_at, near=found.arrest_block.code)
    return render_template(
        "web/rearrange.html",
        form=form,
        title=f"Rearrange appointment {found.reference}",
        booking=found,
        **context,
    ), status or (400 if form.errors or context["day_form"].errors else 200)


@web.route("/bookings/<reference>/cancel", methods=["GET", "POST"])
@roles_required(permissions.BOOKING)
def cancel(reference: str):
    found = _booking_or_404(reference)
    if not found.is_live:
        return _not_changeable(found)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            bookings.cancel(found, form.reason.data, by=current_user, now=clock.now())
            db.session.commit()
        except InvalidField as refusal:
            db.session.rollback()
            unplaced = form.add_domain_errors(refusal.errors)
            form.reason.errors = [*form.reason.errors, *unplaced.values()]
        else:
            flash(f"Appointment {found.reference} cancelled. Its reminders are stopped.", "success")
            return redirect(url_for("web.booking", reference=found.reference))
    audit.viewed(found, "cancel page", clock.now(), current_user)
    db.session.commit()
    return render_template(
        "web/cancel.html",
        form=form,
        title=f"Cancel appointment {found.reference}",
        booking=found,
    ), (400 if form.errors else 200)


def _not_changeable(found: Booking):
    flash(
        f"This appointment is {found.status.replace('_', ' ')}: it can no longer be changed.",
        "info",
    )
    return redirect(url_for("web.booking", reference=found.reference))


# All upcoming appointments --------------------------------------------------------------------


@web.get("/bookings", endpoint="bookings")
@roles_required(permissions.BOOKING)
def bookings_list():
    """Upcoming live appointments (or a day's), earliest first, at the user's block unless
    asked otherwise; found by name or custody record number; and a search by reference."""
    now = clock.now()
    searching = "reference" in request.args
    form = ReferenceSearchForm(formdata=request.args if searching else None)
    if searching and form.validate():
        try:
            found = bookings.get_booking(form.reference.data)
        except NotFound:
            form.reference.errors = [*form.reference.errors, "No booking has that reference"]
        else:
            return redirect(url_for("web.booking", reference=found.reference))
    blocks = places.blocks_by_name()
    filtering = any(name in request.args for name in AppointmentsFilterForm.FIELDS)
    filters = AppointmentsFilterForm.for_user(
        current_user, blocks, request.args if filtering else None
    )
    if filters.validate():
        code = filters.chosen_block()
        person = (filters.person.data or "").strip()
        listed = queries.find(
            now,
            UPCOMING_SHOWN,
            text=person or None,
            block_id=next((b.id for b in blocks if b.code == code), None),
            day=filters.day.data,
        )
        where = "appointments list, searched by person" if person else "appointments list"
        audit.viewed_in_list(listed, where, now, current_user)
        db.session.commit()
    else:
        listed = []
    return render_template(
        "web/bookings.html",
        form=form,
        filters=filters,
        title="Appointments",
        upcoming=listed,
        limit=UPCOMING_SHOWN,
    ), (400 if form.errors or filters.errors else 200)


# Helpers --------------------------------------------------------------------------------------


def _booking_or_404(reference: str) -> Booking:
    try:
        return bookings.get_booking(reference)
    except NotFound:
        abort(404)


def _store_draft(details: BookingDetails, slot: tuple[str, dt.datetime] | None) -> None:
    """Keep the draft on the server as JSON: instants as ISO strings."""
    fields = dataclasses.asdict(details)
    fields["tested_at"] = details.tested_at.astimezone(dt.UTC).isoformat()
    drafts.save(
        current_user,
        {
            "details": fields,
            "slot": {"block": slot[0], "starts_at": slot[1].isoformat()} if slot else None,
        },
        clock.now(),
    )
    db.session.commit()


def _draft() -> tuple[BookingDetails | None, tuple[str, dt.datetime] | None]:
    stored = drafts.load(current_user)
    if not isinstance(stored, dict):
        return None, None
    try:
        fields = dict(stored["details"])
        fields["tested_at"] = parse_iso_instant(fields["tested_at"])
        details = BookingDetails(**fields)
        slot = stored.get("slot")
        chosen = (slot["block"], parse_iso_instant(slot["starts_at"])) if slot else None
    except (KeyError, TypeError, ValueError):
        return None, None  # a draft from an older version of the service
    return details, chosen
