"""The JSON API of what follows an assessment: assessments and contacts made on site, the
pathway after any assessment, and the year summary.

Thin shells over booking.pathway and booking.reports; refusals are mapped by the blueprint's
handlers in routes.py.
"""

from __future__ import annotations

import datetime as dt

from .. import audit, clock, permissions
from ..errors import InvalidField
from ..extensions import db
from ..pathway import on_site, pathways
from ..reports import year as year_summary
from . import responses
from .access import api_user
from .idempotency import commit_once
from .operations import operation
from .schemas import OnSiteIn, PathwayIn, YearQuery

UNKNOWN_ASSESSMENT = {404: "No attended or completed assessment has that reference"}


@operation(
    "POST",
    "/assessments",
    operation_id="recordOnSiteAssessment",
    tag="pathway",
    summary="An assessment or contact made on site, with no appointment",
    roles=permissions.PATHWAY,
    body=OnSiteIn,
    response=responses.OnSite,
    status=201,
    idempotent=True,
)
def record_on_site(body: OnSiteIn):
    """Record it at a block or a court; no name or mobile is kept."""
    user = api_user()
    one_place = (body.block is None) != (body.court is None)

    def perform():
        try:
            record = on_site.record(
                (body.block or body.court) if one_place else None,
                body.kind,
                body.assessed_at.astimezone(dt.UTC),
                by=user,
                now=clock.now(),
                place_field="court" if body.court and not body.block else "block",
            )
        except InvalidField as refusal:
            if not one_place:
                # Every field at fault at once, the place's own words first.
                field = "court" if body.block else "block"
                refusal.errors = {field: "Give either a block or a court"} | {
                    name: message
                    for name, message in refusal.errors.items()
                    if name not in ("block", "court")
                }
            raise
        return responses.OnSite.of(record)

    return commit_once(user, perform, 201)


@operation(
    "GET",
    "/assessments/<reference>",
    operation_id="getOnSiteAssessment",
    tag="pathway",
    summary="An assessment or contact made on site",
    roles=permissions.PATHWAY,
    response=responses.OnSite,
    answers={404: "No assessment made on site has that reference"},
)
def get_on_site(reference: str):
    """The record (its Location when it was made); the look is audited."""
    user = api_user()
    on_site.may_record(user)
    record = on_site.with_reference(reference)
    audit.record(audit.Action.VIEWED, clock.now(), user, reference=record.reference)
    answer = responses.OnSite.of(record)
    db.session.commit()
    return answer


@operation(
    "GET",
    "/pathway/<reference>",
    operation_id="getPathway",
    tag="pathway",
    summary="What followed the assessment with that reference",
    roles=permissions.PATHWAY,
    response=responses.Pathway,
    answers=UNKNOWN_ASSESSMENT,
)
def get_pathway(reference: str):
    """Every field is null until it is recorded; the look is audited."""
    user = api_user()
    pathways.may_act_on(user)
    found = pathways.assessment(reference)
    answer = responses.Pathway.of(found, pathways.pathway_of(found))
    pathways.record_view(found, by=user, now=clock.now(), where="pathway")
    db.session.commit()
    return answer


@operation(
    "POST",
    "/pathway/<reference>",
    operation_id="recordPathway",
    tag="pathway",
    summary="Record or update what followed the assessment",
    roles=permissions.PATHWAY,
    body=PathwayIn,
    response=responses.Pathway,
    answers=UNKNOWN_ASSESSMENT,
    idempotent=True,
)
def record_pathway(reference: str, body: PathwayIn):
    """The fields given replace the old ones; a refused update changes nothing."""
    user = api_user()
    found = pathways.assessment(reference)

    def perform():
        record, _ = pathways.record(found, body.given(), by=user, now=clock.now())
        return responses.Pathway.of(found, record)

    return commit_once(user, perform)


@operation(
    "GET",
    "/reports/year",
    operation_id="getYearSummary",
    tag="reports",
    summary="The financial year's summary, as the commissioner publishes it",
    roles=permissions.REPORTS,
    query=YearQuery,
    response=responses.YearSummary,
)
def year(query: YearQuery):
    """From 1 April of `year` to 31 March of the next (local dates), over every place."""
    now = clock.now()
    chosen = query.year or year_summary.current_financial_year(now)
    return responses.YearSummary(**vars(year_summary.summary(chosen, now)))
