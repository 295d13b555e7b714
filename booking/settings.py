"""The settings the shells hand to the domain, read from the app's config in one place."""

from __future__ import annotations

import datetime as dt

from flask import current_app

from .appointments.slots import SlotRules


def slot_rules() -> SlotRules:
    """The booking window: slot length, lead time, days ahead, the disputed-result rule."""
    return SlotRules.from_config(current_app.config)


def suitability_lead_working_days() -> int:
    """Working days between an adjourned suitability assessment's appointment and the hearing."""
    return current_app.config["SUITABILITY_LEAD_WORKING_DAYS"]


def entry_check_days() -> int:
    """Days after a referral into treatment when one with no word of an entry is overdue."""
    return current_app.config["ENTRY_CHECK_DAYS"]


def public_base_url() -> str:
    """The URL users and Twilio see, for links, feeds and signature checks."""
    return current_app.config["PUBLIC_BASE_URL"]


def allow_test_numbers() -> bool:
    """Whether Ofcom's drama numbers pass as mobiles (the demo and tests only)."""
    return current_app.config["SMS_ALLOW_TEST_NUMBERS"]


def api_token_lifetime() -> dt.timedelta:
    """How long an API token works after it is issued (API_TOKEN_DAYS)."""
    return dt.timedelta(days=current_app.config["API_TOKEN_DAYS"])


def service_phone() -> str:
    """The number a person calls about their appointment."""
    return current_app.config["SERVICE_PHONE"]


def police_force() -> str:
    """The force whose officers issue the written notices."""
    return current_app.config["POLICE_FORCE"]
