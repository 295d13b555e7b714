"""Calendar pages: a worker's feed URL (and its revocation), block feeds, appointment downloads."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from .. import audit, clock, permissions, places, settings
from ..appointments import bookings
from ..calendars import feeds, ics
from ..errors import NotFound
from ..extensions import db
from . import web
from .auth import roles_required


class RegenerateForm(FlaskForm):
    """Only a CSRF token: the button replaces the feed's secret."""


@web.get("/bookings/<reference>/calendar.ics")
@roles_required(permissions.BOOKING)
def booking_calendar(reference: str):
    try:
        booking = bookings.get_booking(reference)
    except NotFound:
        abort(404)
    calendar_file = ics.booking_file(booking, settings.public_base_url())
    audit.record(audit.Action.CALENDAR_EXPORTED, clock.now(), current_user, booking)
    db.session.commit()
    response = calendar_file.as_response(f"appointment-{booking.reference}.ics", request)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="appointment-{booking.reference}.ics"'
    )
    return response


@web.get("/calendar")
@roles_required(permissions.OWN_CALENDAR)
def my_calendar():
    worker = _own_worker()
    https_url = feeds.feed_url(worker, settings.public_base_url())
    db.session.commit()
    return render_template(
        "calendar/mine.html",
        title="Your calendar feed",
        https_url=https_url,
        webcal_url=feeds.webcal_url(https_url),
    )


@web.route("/calendar/new-address", methods=["GET", "POST"])
@roles_required(permissions.OWN_CALENDAR)
def new_calendar_address():
    """Ask first: a new address stops every calendar subscribed to the old one."""
    worker = _own_worker()
    form = RegenerateForm()
    if form.validate_on_submit():
        feeds.regenerate_token(worker)
        db.session.commit()
        flash(
            "You have a new calendar address. The old one no longer works: "
            "subscribe again with the new one.",
            "success",
        )
        return redirect(url_for("web.my_calendar"))
    return render_template(
        "calendar/new_address.html",
        title="Get a new address for your calendar feed",
        form=form,
        whose="your",
        back=url_for("web.my_calendar"),
    )


def _own_worker():
    worker = current_user.worker
    if worker is None:
        abort(404)
    return worker


@web.get("/calendar/blocks")
@roles_required(permissions.COORDINATION)
def block_calendars():
    base = settings.public_base_url()
    urls = [(block, feeds.feed_url(block, base)) for block in places.blocks_by_name()]
    db.session.commit()
    return render_template(
        "calendar/blocks.html",
        title="Block calendar feeds",
        feeds=[(b, url, feeds.webcal_url(url)) for b, url in urls],
    )


@web.route("/calendar/blocks/<code>/new-address", methods=["GET", "POST"])
@roles_required(permissions.COORDINATION)
def new_block_calendar_address(code: str):
    """Ask first: a new address stops every calendar subscribed to the block's old one."""
    block = next((b for b in places.blocks_by_name() if b.code == code), None)
    if block is None:
        abort(404)
    form = RegenerateForm()
    if form.validate_on_submit():
        feeds.regenerate_token(block)
        db.session.commit()
        flash(f"{block.name} has a new calendar address; the old one no longer works.", "success")
        return redirect(url_for("web.block_calendars"))
    return render_template(
        "calendar/new_address.html",
        title=f"Get a new address for the {block.name} calendar feed",
        form=form,
        whose=f"the {block.name}",
        back=url_for("web.block_calendars"),
    )
