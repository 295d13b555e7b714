"""How domain values read on the page: local times, names of things, the navigation."""

from __future__ import annotations

import datetime as dt

from flask import Flask, g, url_for
from flask_login import current_user

from ..clock import LONDON
from ..models import Role
from ..phones import display_mobile

REQUIREMENT_NAMES = {
    "initial": "Initial assessment",
    "follow_up": "Follow-up assessment",
    "voluntary": "Voluntary assessment",
    "suitability": "Suitability assessment",
}
TEST_RESULT_NAMES = {
    "opiates": "Positive for opiates",
    "cocaine": "Positive for cocaine",
    "both": "Positive for cocaine and opiates",
    "negative": "Negative",
}
STATUS_NAMES = {
    "booked": "Booked",
    "attended": "Attended",
    "left_early": "Left early",
    "did_not_attend": "Did not attend",
    "cancelled": "Cancelled",
}
MESSAGE_STATUS_NAMES = {
    "pending": "Waiting to send",
    "sending": "Sending",
    "sent": "Sent",
    "delivered": "Delivered",
    "failed": "Not delivered: phone them",
    "cancelled": "Cancelled",
    "skipped": "Not sent",
}
MESSAGE_KIND_NAMES = {
    "confirmation": "Confirmation",
    "day_before": "Reminder the day before",
    "same_day": "Reminder on the day",
    "changed": "Change of appointment",
    "cancelled": "Cancellation",
}

# Court work.
SESSION_NAMES = {"am": "Morning", "pm": "Afternoon"}
REQUESTED_BY_NAMES = {
    "probation": "Probation",
    "bench": "The bench",
    "defence": "Defence",
    "worker": "A worker",
}
SETTING_NAMES = {"custody": "In custody, before the hearing", "court": "At court, on the day"}
SUITABILITY_STATUS_NAMES = {
    "requested": "To assess",
    "completed": "Completed",
    "not_completed": "Not completed",
    "adjourned": "Adjourned",
}
FINDING_NAMES = {
    "suitable": "Suitable",
    "not_suitable": "Not suitable",
    "not_assessed": "Not assessed",
}
NOT_COMPLETED_NAMES = {
    "declined": "The person declined",
    "not_produced": "The person was not produced",
    "unfit": "The person was unfit to be assessed",
    "no_time": "No time before the case was called",
    "other": "Another reason",
}
SENTENCE_NAMES = {
    "drr": "Drug rehabilitation requirement (DRR)",
    "atr": "Alcohol treatment requirement (ATR)",
    "drr_and_atr": "Both a DRR and an ATR",
    "other_community_order": "Another community order",
    "custody": "Custody",
    "other": "Another sentence",
    "not_known": "Not known",
}
# What followed an assessment.
ON_SITE_KIND_NAMES = {
    "required_initial": "Required initial assessment",
    "required_follow_up": "Required follow-up assessment",
    "voluntary": "Voluntary assessment",
    "contact_only": "Contact only",
}
ON_SITE_KIND_HINTS = {
    "required_initial": "After a positive test, with a worker on site (Drugs Act 2005, section 9)",
    "required_follow_up": "After a required initial assessment (section 10)",
    "voluntary": "No legal requirement: the person agreed to be seen",
    "contact_only": "Advice or harm reduction, with no assessment",
}
NALOXONE_NAMES = {
    "issued": "Issued",
    "declined": "Declined",
    "already_has": "Already has naloxone",
    "not_appropriate": "Not appropriate",
}
REFERRAL_AREA_NAMES = {
    "birmingham": "Birmingham",
    "coventry": "Coventry",
    "dudley": "Dudley",
    "sandwell": "Sandwell",
    "solihull": "Solihull",
    "walsall": "Walsall",
    "wolverhampton": "Wolverhampton",
    "out_of_area": "Out of area",
    "unknown": "Not known",
}
ENTRY_NAMES = {
    "awaiting": "Awaiting word of an entry",
    "entered": "Entered treatment",
    "not_converted": "Did not enter treatment",
}
NON_CONVERSION_NAMES = {
    "did_not_attend": "Did not attend",
    "declined": "Declined treatment",
    "unable_to_contact": "Unable to contact",
    "moved_away": "Moved away",
    "custody": "In custody",
    "provider_declined": "The treatment provider declined",
    "died": "Died",
    "already_in_treatment": "Already in treatment",
    "other": "Another reason",
}
CLOSURE_NAMES = {
    "treatment_entered": "Entered treatment",
    "no_further_action": "No further action",
    "transferred": "Transferred to another service",
    "disengaged": "Disengaged",
    "custody": "In custody",
    "other": "Another reason",
}


def local(instant: dt.datetime | None) -> dt.datetime | None:
    return instant.astimezone(LONDON) if instant else None


def _local_day(value: dt.date) -> dt.date:
    """A date as it is; an instant as the date it is in London then."""
    return local(value) if isinstance(value, dt.datetime) else value


def long_date(value: dt.date) -> str:
    """Saturday 27 March 2027, for a date or for an instant (the London date)."""
    day = _local_day(value)
    return f"{day:%A} {day.day} {day:%B %Y}"


def short_date(value: dt.date) -> str:
    """Sat 27 Mar, for a date or for an instant (the London date)."""
    day = _local_day(value)
    return f"{day:%a} {day.day} {day:%b}"


def clock_time(instant: dt.datetime) -> str:
    """10:30"""
    return f"{local(instant):%H:%M}"


def date_and_time(instant: dt.datetime) -> str:
    """10:30 on Saturday 27 March 2027"""
    return f"{clock_time(instant)} on {long_date(instant)}"


def near_time(instant: dt.datetime, now: dt.datetime) -> str:
    """10:30 today, when that is the London date of `now`; else 10:30 on Saturday 27 March 2027."""
    if local(instant).date() == local(now).date():
        return f"{clock_time(instant)} today"
    return date_and_time(instant)


def navigation() -> list[dict]:
    """The menu: the few places each role goes most; the home page lists the rest."""
    if not current_user.is_authenticated:
        return []
    role = current_user.role
    links = {
        Role.SERGEANT: [
            ("web.start_booking", "Book an appointment"),
            ("web.bookings", "Appointments"),
            ("web.needs_rearranging", "To rearrange"),
            ("web.police_to_inform", "Tell the police"),
        ],
        Role.WORKER: [
            ("web.my_day", "Your day"),
            ("web.record_on_site", "Record an assessment"),
            ("web.court_list", "Court"),
            ("web.start_booking", "Book an appointment"),
            ("web.bookings", "Appointments"),
            ("web.needs_rearranging", "To rearrange"),
            ("web.my_calendar", "Calendar"),
        ],
        Role.COORDINATOR: [
            ("web.rota_week", "Rota"),
            ("web.my_day", "Workers’ days"),
            ("web.court_list", "Court"),
            ("web.follow_through", "Follow-through"),
            ("web.bookings", "Appointments"),
            ("web.reports", "Reports"),
            ("web.outbox", "Text messages"),
            ("web.users_list", "Users"),
            ("web.audit_trail", "Audit"),
        ],
        Role.ANALYST: [("web.reports", "Reports")],
    }[role]
    items = [{"href": url_for(endpoint), "text": text} for endpoint, text in links]
    items.append({"href": url_for("auth.logout"), "text": "Sign out"})
    return items


def register(app: Flask) -> None:
    app.add_template_filter(long_date)
    app.add_template_filter(short_date)
    app.add_template_filter(clock_time)
    app.add_template_filter(date_and_time)
    app.add_template_filter(near_time)
    app.add_template_filter(display_mobile)
    app.add_template_global(navigation)
    app.add_template_global(REQUIREMENT_NAMES, "REQUIREMENT_NAMES")
    app.add_template_global(TEST_RESULT_NAMES, "TEST_RESULT_NAMES")
    app.add_template_global(STATUS_NAMES, "STATUS_NAMES")
    app.add_template_global(MESSAGE_STATUS_NAMES, "MESSAGE_STATUS_NAMES")
    app.add_template_global(MESSAGE_KIND_NAMES, "MESSAGE_KIND_NAMES")
    app.add_template_global(SESSION_NAMES, "SESSION_NAMES")
    app.add_template_global(REQUESTED_BY_NAMES, "REQUESTED_BY_NAMES")
    app.add_template_global(SETTING_NAMES, "SETTING_NAMES")
    app.add_template_global(SUITABILITY_STATUS_NAMES, "SUITABILITY_STATUS_NAMES")
    app.add_template_global(FINDING_NAMES, "FINDING_NAMES")
    app.add_template_global(NOT_COMPLETED_NAMES, "NOT_COMPLETED_NAMES")
    app.add_template_global(SENTENCE_NAMES, "SENTENCE_NAMES")
    for names in (
        "ON_SITE_KIND_NAMES",
        "NALOXONE_NAMES",
        "REFERRAL_AREA_NAMES",
        "ENTRY_NAMES",
        "NON_CONVERSION_NAMES",
        "CLOSURE_NAMES",
    ):
        app.add_template_global(globals()[names], names)

    @app.context_processor
    def csp_nonce():
        return {"cspNonce": g.get("csp_nonce")}
