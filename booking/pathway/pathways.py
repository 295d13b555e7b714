"""What followed an assessment: harm reduction, referral into treatment, entry into treatment
or the coded reason there was none, and the case's closure.

A pathway follows exactly one assessment: an attended booking, an on-site assessment or
contact, or a completed suitability assessment, found by that assessment's reference. Every
field is optional and a given field replaces the old one, but the record as a whole must stay
in order: an entry only after a referral, and not dated before it; a reason exactly when the
referral did not convert; a case closed only once the referral's outcome is known, or with no
further action. An update that would break the order is refused whole and writes nothing.

Coded facts and dates only: the assessment itself and any notes stay in the provider's
case-management system. The caller commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from .. import audit, permissions
from ..appointments.references import normalise_reference
from ..clock import LONDON, in_range
from ..errors import InvalidField, NotAllowed, NotFound
from ..extensions import db
from ..models import (
    Block,
    Booking,
    BookingStatus,
    ClosureReason,
    Entry,
    Naloxone,
    NonConversionReason,
    OnSiteAssessment,
    Pathway,
    ReferralArea,
    SuitabilityAssessment,
    SuitabilityStatus,
    User,
)

FIELDS = (
    "naloxone",
    "harm_reduction",
    "referred",
    "referral_area",
    "referred_on",
    "entry",
    "entered_on",
    "non_conversion_reason",
    "closed_on",
    "closure_reason",
)
CODED = {
    "naloxone": Naloxone,
    "referral_area": ReferralArea,
    "entry": Entry,
    "non_conversion_reason": NonConversionReason,
    "closure_reason": ClosureReason,
}
DATES = ("referred_on", "entered_on", "closed_on")
# Where a referral's outcome is known, so that the case may close.
OUTCOME_KNOWN = (Entry.ENTERED, Entry.NOT_CONVERTED)


class Source:
    BOOKING = "booking"
    ON_SITE = "on_site"
    SUITABILITY = "suitability"


@dataclass(frozen=True)
class Assessment:
    """The assessment a pathway follows, whichever record it is."""

    reference: str
    source: str
    # The booking's requirement, the on-site kind, or "suitability".
    kind: str
    place: Block
    assessed_at: dt.datetime
    record: Booking | OnSiteAssessment | SuitabilityAssessment

    @property
    def assessed_on(self) -> dt.date:
        return self.assessed_at.astimezone(LONDON).date()

    @property
    def booking(self) -> Booking | None:
        """The appointment it was, if it was one (the audit trail links a booking's events)."""
        return self.record if self.source == Source.BOOKING else None


def may_act_on(user: User) -> None:
    if not permissions.may(user, permissions.PATHWAY):
        raise NotAllowed("Your role cannot see or record what followed an assessment.")


def assessment(reference: str) -> Assessment:
    """The assessment with that reference that a pathway may follow, or NotFound: a booking
    not attended, or a suitability assessment not completed, has none."""
    reference = normalise_reference(reference)
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    if booking is not None and booking.status == BookingStatus.ATTENDED:
        return Assessment(
            reference,
            Source.BOOKING,
            booking.requirement,
            booking.block,
            booking.starts_at,
            booking,
        )
    on_site = db.session.scalar(
        select(OnSiteAssessment).where(OnSiteAssessment.reference == reference)
    )
    if on_site is not None:
        return Assessment(
            reference, Source.ON_SITE, on_site.kind, on_site.place, on_site.assessed_at, on_site
        )
    record = db.session.scalar(
        select(SuitabilityAssessment).where(SuitabilityAssessment.reference == reference)
    )
    if record is not None and record.status == SuitabilityStatus.COMPLETED:
        return Assessment(
            reference, Source.SUITABILITY, "suitability", record.court, record.completed_at, record
        )
    raise NotFound("No attended or completed assessment has that reference.")


def pathway_of(found: Assessment) -> Pathway | None:
    return db.session.scalar(select(Pathway).where(Pathway.reference == found.reference))


def values_of(pathway: Pathway | None) -> dict:
    """The pathway's fields, all None for one not yet recorded."""
    return {name: getattr(pathway, name) if pathway else None for name in FIELDS}


def record(
    found: Assessment, changes: dict, *, by: User, now: dt.datetime
) -> tuple[Pathway | None, list[str]]:
    """Apply the given fields to the assessment's pathway (creating it once something is
    recorded), or InvalidField naming every field that is wrong. Returns the pathway (None
    while nothing is recorded) and the names of the fields that changed."""
    may_act_on(by)
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise InvalidField(
            "There is a problem with the pathway.",
            {name: "This is not a field of the pathway" for name in sorted(unknown)},
        )
    # Two first saves at once must not both create the pathway: hold the assessment's row.
    db.session.refresh(found.record, with_for_update=True)
    pathway = pathway_of(found)
    before = values_of(pathway)
    after = before | changes
    today = now.astimezone(LONDON).date()
    errors = problems(after, assessed_on=found.assessed_on, today=today)
    if not permissions.may(by, permissions.COORDINATION):  # only they may undo a step
        errors = going_back(before, after) | errors
    if errors:
        raise InvalidField("There is a problem with what followed the assessment.", errors)

    changed = [name for name in FIELDS if after[name] != before[name]]
    if pathway is None and changed:
        pathway = Pathway(
            reference=found.reference,
            place=found.place,
            assessed_on=found.assessed_on,
            created_at=now,
            **_subject(found),
        )
        db.session.add(pathway)
    for name in changed:
        setattr(pathway, name, after[name])
    if "entry" in changed:
        # Not converting is an event of its own, counted on the day it became known.
        pathway.not_converted_on = today if after["entry"] == Entry.NOT_CONVERTED else None
    if changed:
        pathway.updated_at = now
        pathway.updated_by_id = by.id
    # Audited even when nothing changed: the answer shows the pathway all the same.
    audit.record(
        audit.Action.PATHWAY,
        now,
        by,
        booking=found.booking,
        reference=found.reference,
        detail=", ".join(changed) or "nothing changed",
    )
    db.session.flush()
    return pathway, changed


def record_view(found: Assessment, *, by: User, now: dt.datetime, where: str) -> None:
    """Audit a look at what followed the assessment (a page or an API answer)."""
    audit.record(
        audit.Action.VIEWED, now, by, booking=found.booking, reference=found.reference, detail=where
    )


def going_back(before: dict, after: dict) -> dict[str, str]:
    """What a change would undo of what is known: a referral, its outcome, a closure. Only a
    coordinator corrects those (audited as every change is); everyone else moves a pathway
    forward only."""
    errors = {}
    # A referral that did not convert may yet lead into treatment; nothing goes back.
    allowed = {Entry.ENTERED: {Entry.ENTERED}, Entry.NOT_CONVERTED: set(OUTCOME_KNOWN)}
    if before["entry"] in allowed and after["entry"] not in allowed[before["entry"]]:
        errors["entry"] = (
            f"It is recorded that the person {_ENTRY_WORDS[before['entry']]}: "
            "ask a coordinator to correct it"
        )
    if before["referred"] is True and after["referred"] is not True:
        errors["referred"] = "A referral is recorded: ask a coordinator to correct it"
    if before["closed_on"] is not None and after["closed_on"] is None:
        errors["closed_on"] = "The case is closed: ask a coordinator to reopen it"
    return errors


_ENTRY_WORDS = {
    Entry.ENTERED: "entered treatment",
    Entry.NOT_CONVERTED: "did not enter treatment",
}


def _subject(found: Assessment) -> dict:
    key = {
        Source.BOOKING: "booking",
        Source.ON_SITE: "on_site_assessment",
        Source.SUITABILITY: "suitability_assessment",
    }[found.source]
    return {key: found.record}


def problems(values: dict, *, assessed_on: dt.date, today: dt.date) -> dict[str, str]:
    """What is wrong with a pathway holding these values, by field; empty when it is in order."""
    errors: dict[str, str] = {}
    for name, codes in CODED.items():
        if values[name] is not None and values[name] not in set(codes):
            errors[name] = "Choose one of the options"
    for name in ("harm_reduction", "referred"):
        if values[name] is not None and not isinstance(values[name], bool):
            errors[name] = "Choose yes or no"
    for name in DATES:
        day = values[name]
        if day is None or name in errors:
            continue
        if not in_range(day):
            errors[name] = "Enter a real date"
        elif day > today:
            errors[name] = "The date cannot be in the future"
        elif day < assessed_on:
            errors[name] = "The date cannot be before the assessment"
    if errors:
        return errors

    referred = values["referred"] is True
    if referred:
        if values["referral_area"] is None:
            errors["referral_area"] = "Choose the area of the treatment service referred to"
        if values["referred_on"] is None:
            errors["referred_on"] = "Enter the date of the referral"
    else:
        for name in ("referral_area", "referred_on", "entry"):
            if values[name] is not None:
                errors[name] = "Record a referral into treatment first"

    entry = values["entry"]
    if entry == Entry.ENTERED:
        if values["entered_on"] is None:
            errors["entered_on"] = "Enter the date the person entered treatment"
        elif values["referred_on"] and values["entered_on"] < values["referred_on"]:
            errors["entered_on"] = "The date of entry cannot be before the referral"
    elif values["entered_on"] is not None:
        errors["entered_on"] = "A date of entry goes with an entry into treatment"
    if entry == Entry.NOT_CONVERTED:
        if values["non_conversion_reason"] is None:
            errors["non_conversion_reason"] = "Choose why the referral did not lead into treatment"
    elif values["non_conversion_reason"] is not None:
        errors["non_conversion_reason"] = "A reason goes only with a referral that did not convert"

    closed_on, reason = values["closed_on"], values["closure_reason"]
    if (closed_on is None) != (reason is None):
        field = "closure_reason" if reason is None else "closed_on"
        errors[field] = "Give the date the case closed and the reason together"
    elif reason is not None:
        outcome_known = values["referred"] is False or entry in OUTCOME_KNOWN
        if reason == ClosureReason.TREATMENT_ENTERED and entry != Entry.ENTERED:
            errors["closure_reason"] = "Record the entry into treatment first"
        elif not outcome_known and reason != ClosureReason.NO_FURTHER_ACTION:
            errors["closure_reason"] = (
                "Record whether the referral led into treatment first, or close the case "
                "with no further action"
            )
        later_than = [d for d in (values["referred_on"], values["entered_on"]) if d]
        if later_than and closed_on < max(later_than):
            errors["closed_on"] = "The case cannot close before the referral or the entry"
    return errors
