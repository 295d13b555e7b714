"""The API of what follows an assessment: assessments and contacts made on site, the pathway
after any assessment, who may see them, their audit trail, and the year summary.

The clock reads Wednesday 13 January 2027, 21:00 (GMT). Most pathways here follow a voluntary
assessment made on site at Stechford on Sunday 10 January, so a pathway's dates may run from
the 10th to the 13th.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from booking.appointments import outcomes
from booking.court import suitability
from booking.extensions import db
from booking.models import OnSiteAssessment, Pathway, Role
from booking.pathway import on_site
from tests.court.conftest import request_details
from tests.support import add_courts, auth, count, local, trail
from tests.support import on_site as rostered

STECHFORD, BIRMINGHAM = "stechford", "birmingham-magistrates"
ASSESSED = local(2027, 1, 10, 10, 0)
MINUTE = dt.timedelta(minutes=1)
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
NOTHING_RECORDED = dict.fromkeys(FIELDS) | {"updated_at": None}
# A referral on the 12th still waiting for word of an entry.
REFERRED = {
    "referred": True,
    "referral_area": "coventry",
    "referred_on": "2027-01-12",
    "entry": "awaiting",
}


@pytest.fixture
def courts(app):
    return add_courts()


@pytest.fixture
def api(client, tokens, courts):
    """Call the API as a role (the worker unless told), with its token."""

    def call(method: str, path: str, body=None, role: Role | None = Role.WORKER, **headers):
        if role is not None:
            headers |= auth(tokens[role])
        return client.open(f"/api/v1{path}", method=method, json=body, headers=headers)

    return call


@pytest.fixture
def assessed(users, clock) -> str:
    """The reference of a voluntary assessment made on site at Stechford on the 10th."""
    record = on_site.record(STECHFORD, "voluntary", ASSESSED, by=users[Role.WORKER], now=clock())
    db.session.commit()
    return record.reference


def columns(model) -> list[dict]:
    """Every row of the model's table, column by column, in id order."""
    names = [attribute.key for attribute in model.__mapper__.column_attrs]
    rows = db.session.scalars(select(model).order_by(model.id))
    return [{name: getattr(row, name) for name in names} for row in rows]


def written() -> tuple:
    """Everything a pathway request may write: the pathways and the audit trail."""
    db.session.expire_all()
    events = [(e.id, e.action, e.reference, e.detail) for e in trail()]
    return columns(Pathway), columns(OnSiteAssessment), events


def on_site_body(**changes) -> dict:
    return {
        "block": STECHFORD,
        "assessed_at": "2027-01-13T20:30:00+00:00",
        "kind": "required_initial",
    } | changes


# Recording an assessment or contact made on site ------------------------------------------------


def test_an_assessment_at_a_block_answers_201_with_its_reference_and_coded_facts_only(api):
    response = api("POST", "/assessments", on_site_body())

    assert response.status_code == 201
    answer = response.get_json()
    assert answer == {
        "reference": answer["reference"],
        "block": STECHFORD,
        "court": None,
        "assessed_at": "2027-01-13T20:30:00+00:00",
        "kind": "required_initial",
    }
    record = db.session.scalar(select(OnSiteAssessment))
    assert record.reference == answer["reference"]
    assert record.place.code == STECHFORD
    assert record.kind == "required_initial"
    # Its Location answers with the same record, and the look is audited.
    assert response.headers["Location"] == f"/api/v1/assessments/{answer['reference']}"
    again = api("GET", response.headers["Location"].removeprefix("/api/v1"))
    assert (again.status_code, again.get_json()) == (200, answer)
    assert ("viewed", answer["reference"]) in [(e.action, e.reference) for e in trail()]
    assert api("GET", "/assessments/ABCD-EFGH").status_code == 404


def test_an_assessment_at_a_court_names_the_court_and_no_block(api):
    # Given with another offset, answered in London's time (GMT in January).
    body = {"court": BIRMINGHAM, "assessed_at": "2027-01-13T11:30:00+01:00", "kind": "voluntary"}
    response = api("POST", "/assessments", body)

    assert response.status_code == 201
    answer = response.get_json()
    assert (answer["block"], answer["court"]) == (None, BIRMINGHAM)
    assert answer["assessed_at"] == "2027-01-13T10:30:00+00:00"


@pytest.mark.parametrize(
    ("places", "field"),
    [
        ({"court": BIRMINGHAM}, "court"),  # both a block and a court
        ({"block": None}, "block"),  # neither
        ({"block": BIRMINGHAM}, "block"),  # a court is not a block
        ({"block": None, "court": STECHFORD}, "court"),  # nor a block a court
        ({"block": "west-bromwich"}, "block"),  # no such place
        ({"block": None, "court": "solihull-magistrates"}, "court"),
    ],
)
def test_an_assessment_names_exactly_one_known_place_of_the_kind_asked(api, places, field):
    before = written()
    response = api("POST", "/assessments", on_site_body(**places))

    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert written() == before


@pytest.mark.parametrize(
    "kind", ["required_initial", "required_follow_up", "voluntary", "contact_only"]
)
def test_each_kind_of_assessment_or_contact_is_recorded(api, kind):
    response = api("POST", "/assessments", on_site_body(kind=kind))
    assert response.status_code == 201
    assert response.get_json()["kind"] == kind


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "statutory"}, "kind"),
        ({"kind": "initial"}, "kind"),  # a booking's requirement, not an on-site kind
        ({"assessed_at": "2027-01-13T21:01:00+00:00"}, "assessed_at"),  # the future
        ({"assessed_at": "2027-01-13T16:30:00-05:00"}, "assessed_at"),  # 21:30 UTC
        ({"assessed_at": "2027-01-13T20:30:00"}, "assessed_at"),  # no offset
        ({"assessed_at": "yesterday"}, "assessed_at"),
        ({"kind": 3}, "kind"),
        ({"name": "Jamie Testperson"}, "name"),  # no name is kept, nor asked for
    ],
)
def test_a_wrong_kind_or_time_is_refused_and_nothing_recorded(api, changes, field):
    before = written()
    response = api("POST", "/assessments", on_site_body(**changes))

    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert written() == before


def test_the_time_of_an_assessment_may_be_now(api):
    response = api("POST", "/assessments", on_site_body(assessed_at="2027-01-13T21:00:00Z"))
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.COORDINATOR, 201), (Role.ANALYST, 403), (Role.SERGEANT, 403), (None, 401)],
)
def test_only_workers_and_coordinators_record_assessments(api, role, status):
    before = written()
    response = api("POST", "/assessments", on_site_body(), role=role)

    assert response.status_code == status
    if status != 201:
        assert written() == before


def test_a_retried_assessment_with_the_same_idempotency_key_is_recorded_once(api):
    first = api("POST", "/assessments", on_site_body(), **{"Idempotency-Key": "on-site-1"})
    again = api("POST", "/assessments", on_site_body(), **{"Idempotency-Key": "on-site-1"})

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(OnSiteAssessment) == 1
    other = api(
        "POST", "/assessments", on_site_body(kind="voluntary"), **{"Idempotency-Key": "on-site-1"}
    )
    assert other.status_code == 422
    assert count(OnSiteAssessment) == 1


def test_recording_an_assessment_is_audited_under_its_reference(api):
    reference = api("POST", "/assessments", on_site_body()).get_json()["reference"]
    [event] = trail()
    assert (event.action, event.reference) == ("created", reference)


# Which references have a pathway ----------------------------------------------------------------


@pytest.fixture
def references(book, users, blocks, clock) -> dict[str, str]:
    """Thursday 14 January's appointments at Stechford (booked the evening before) with each
    outcome and none; a suitability assessment completed that morning and one only requested.
    The clock then reads 12:30 that day."""
    worker = users[Role.WORKER]
    first = local(2027, 1, 14, 10, 0)
    rostered(worker.worker, blocks[STECHFORD], first, first + 120 * MINUTE)
    made = {}
    for n, outcome in enumerate(["attended", "left_early", "did_not_attend", None]):
        booking = book(first + 30 * n * MINUTE, mobile=None, sms_consent=False)
        made[outcome or "booked"] = booking
    completed = suitability.request(
        request_details(), by=worker, now=clock(), allow_test_numbers=True
    )
    requested = suitability.request(
        request_details(), by=worker, now=clock(), allow_test_numbers=True
    )
    clock.set(local(2027, 1, 14, 12, 30))
    for outcome, booking in made.items():
        if outcome != "booked":
            outcomes.record_outcome(booking, outcome, by=worker, now=clock())
    suitability.record_result(
        completed,
        drr="suitable",
        atr="not_assessed",
        willing=True,
        completed_at=local(2027, 1, 14, 9, 15),
        by=worker,
        now=clock(),
    )
    db.session.commit()
    refs = {outcome: booking.reference for outcome, booking in made.items()}
    return refs | {"completed": completed.reference, "requested": requested.reference}


@pytest.mark.parametrize(
    "which", ["unknown", "booked", "left_early", "did_not_attend", "requested", "not_completed"]
)
def test_a_reference_without_an_attended_or_completed_assessment_has_no_pathway(
    api, references, users, clock, which
):
    if which == "not_completed":
        record = suitability.request(
            request_details(), by=users[Role.WORKER], now=clock(), allow_test_numbers=True
        )
        suitability.record_not_completed(record, "unfit", by=users[Role.WORKER], now=clock())
        db.session.commit()
        reference = record.reference
    else:
        reference = references.get(which, "HJKM-NPQR")
    before = written()

    assert api("GET", f"/pathway/{reference}").status_code == 404
    posted = api("POST", f"/pathway/{reference}", {"naloxone": "issued"})
    assert posted.status_code == 404
    assert written() == before


def test_an_attended_appointment_shows_its_pathway_all_null_before_anything_is_recorded(
    api, references
):
    reference = references["attended"]
    response = api("GET", f"/pathway/{reference}")

    assert response.status_code == 200
    assert response.get_json() == {
        "reference": reference,
        "assessment": {
            "source": "booking",
            "kind": "initial",
            "place": STECHFORD,
            "assessed_at": "2027-01-14T10:00:00+00:00",
        },
        **NOTHING_RECORDED,
    }
    assert count(Pathway) == 0  # a look writes no pathway


def test_a_completed_suitability_assessment_shows_its_pathway_at_its_court(api, references):
    reference = references["completed"]
    response = api("GET", f"/pathway/{reference}")

    assert response.status_code == 200
    assert response.get_json() == {
        "reference": reference,
        "assessment": {
            "source": "suitability",
            "kind": "suitability",
            "place": BIRMINGHAM,
            "assessed_at": "2027-01-14T09:15:00+00:00",
        },
        **NOTHING_RECORDED,
    }


def test_an_assessment_made_on_site_shows_its_pathway(api, assessed):
    response = api("GET", f"/pathway/{assessed}", role=Role.COORDINATOR)

    assert response.status_code == 200
    assert response.get_json() == {
        "reference": assessed,
        "assessment": {
            "source": "on_site",
            "kind": "voluntary",
            "place": STECHFORD,
            "assessed_at": "2027-01-10T10:00:00+00:00",
        },
        **NOTHING_RECORDED,
    }


def test_a_pathway_is_recorded_after_an_appointment_and_a_suitability_assessment(api, references):
    for which in ("attended", "completed"):
        path = f"/pathway/{references[which]}"
        response = api("POST", path, {"naloxone": "issued", "harm_reduction": True})
        assert response.status_code == 200, response.get_json()
        assert api("GET", path).get_json()["naloxone"] == "issued"
    assert count(Pathway) == 2


# Recording what followed ------------------------------------------------------------------------


def test_the_fields_given_replace_the_old_ones_and_the_others_stay(api, assessed):
    path = f"/pathway/{assessed}"
    first = api("POST", path, {"naloxone": "issued", "harm_reduction": True})
    assert first.status_code == 200
    assert first.get_json()["updated_at"] == "2027-01-13T21:00:00+00:00"

    second = api("POST", path, {"harm_reduction": False}).get_json()
    assert (second["naloxone"], second["harm_reduction"]) == ("issued", False)

    third = api("POST", path, {"naloxone": None}).get_json()
    assert (third["naloxone"], third["harm_reduction"]) == (None, False)
    assert api("GET", path).get_json() == third
    assert count(Pathway) == 1


def test_a_referral_is_followed_by_its_entry_and_the_case_closed(api, assessed):
    path = f"/pathway/{assessed}"
    assert api("POST", path, REFERRED).status_code == 200
    entered = api("POST", path, {"entry": "entered", "entered_on": "2027-01-13"})
    assert entered.status_code == 200
    closed = api("POST", path, {"closed_on": "2027-01-13", "closure_reason": "treatment_entered"})
    assert closed.status_code == 200
    assert {name: closed.get_json()[name] for name in FIELDS} == {
        "naloxone": None,
        "harm_reduction": None,
        "referred": True,
        "referral_area": "coventry",
        "referred_on": "2027-01-12",
        "entry": "entered",
        "entered_on": "2027-01-13",
        "non_conversion_reason": None,
        "closed_on": "2027-01-13",
        "closure_reason": "treatment_entered",
    }


def test_a_referral_that_did_not_convert_takes_its_reason_and_a_change_of_mind_clears_it(
    api, assessed
):
    path = f"/pathway/{assessed}"
    api("POST", path, REFERRED)
    not_converted = {"entry": "not_converted", "non_conversion_reason": "unable_to_contact"}
    assert api("POST", path, not_converted).status_code == 200
    entered = {"entry": "entered", "entered_on": "2027-01-13", "non_conversion_reason": None}
    answer = api("POST", path, entered)
    assert answer.status_code == 200
    assert answer.get_json()["non_conversion_reason"] is None


@pytest.mark.parametrize(
    "body",
    [
        # No referral, so the outcome is known.
        {"referred": False, "closed_on": "2027-01-13", "closure_reason": "disengaged"},
        # Awaiting word of an entry: only with no further action.
        REFERRED | {"closed_on": "2027-01-13", "closure_reason": "no_further_action"},
        # Not converted: the outcome is known.
        REFERRED
        | {
            "entry": "not_converted",
            "non_conversion_reason": "moved_away",
            "closed_on": "2027-01-12",
            "closure_reason": "transferred",
        },
        # Nothing recorded at all: closed with no further action.
        {"closed_on": "2027-01-10", "closure_reason": "no_further_action"},
    ],
)
def test_a_case_closes_once_the_outcome_is_known_or_with_no_further_action(api, assessed, body):
    response = api("POST", f"/pathway/{assessed}", body)
    assert response.status_code == 200, response.get_json()


REFUSED = [
    # (what was recorded before, the update refused, the field named)
    pytest.param(
        {}, {"referred": True, "referred_on": "2027-01-12"}, "referral_area", id="no-area"
    ),
    pytest.param(
        {}, {"referred": True, "referral_area": "dudley"}, "referred_on", id="no-referral-date"
    ),
    pytest.param({}, {"entry": "awaiting"}, "entry", id="entry-without-referral"),
    pytest.param(
        {}, {"referred": False, "entry": "entered"}, "entry", id="entry-after-no-referral"
    ),
    pytest.param(
        {}, {"referred": False, "referral_area": "dudley"}, "referral_area", id="area-alone"
    ),
    pytest.param({}, {"referred_on": "2027-01-12"}, "referred_on", id="date-alone"),
    pytest.param(REFERRED, {"referred": False}, "entry", id="referral-taken-back"),
    pytest.param(REFERRED, {"referral_area": None}, "referral_area", id="area-removed"),
    pytest.param(
        REFERRED,
        {"entry": "entered", "entered_on": "2027-01-11"},
        "entered_on",
        id="entered-before-referral",
    ),
    pytest.param(
        REFERRED,
        {"entry": "entered", "entered_on": "2027-01-14"},
        "entered_on",
        id="entered-in-future",
    ),
    pytest.param(REFERRED, {"entry": "entered"}, "entered_on", id="entered-without-date"),
    pytest.param(
        REFERRED, {"entered_on": "2027-01-12"}, "entered_on", id="entry-date-while-awaiting"
    ),
    pytest.param(
        REFERRED | {"entry": "entered", "entered_on": "2027-01-13"},
        {"entry": "awaiting"},
        "entered_on",
        id="entry-taken-back-keeping-its-date",
    ),
    pytest.param(REFERRED, {"entry": "not_converted"}, "non_conversion_reason", id="no-reason"),
    pytest.param(
        REFERRED,
        {"non_conversion_reason": "declined"},
        "non_conversion_reason",
        id="reason-while-awaiting",
    ),
    pytest.param(
        REFERRED | {"entry": "not_converted", "non_conversion_reason": "declined"},
        {"entry": "entered", "entered_on": "2027-01-13"},
        "non_conversion_reason",
        id="reason-kept-on-entry",
    ),
    pytest.param(
        REFERRED,
        {"closed_on": "2027-01-13", "closure_reason": "disengaged"},
        "closure_reason",
        id="closed-before-outcome",
    ),
    pytest.param(
        {},
        {"referred": True, "referral_area": "walsall", "referred_on": "2027-01-12"}
        | {"closed_on": "2027-01-13", "closure_reason": "custody"},
        "closure_reason",
        id="closed-with-entry-unknown",
    ),
    pytest.param(
        REFERRED,
        {"closed_on": "2027-01-13", "closure_reason": "treatment_entered"},
        "closure_reason",
        id="treatment-entered-without-entry",
    ),
    pytest.param(
        {"referred": False},
        {"closed_on": "2027-01-13", "closure_reason": "treatment_entered"},
        "closure_reason",
        id="treatment-entered-without-referral",
    ),
    pytest.param({}, {"closed_on": "2027-01-13"}, "closure_reason", id="closed-without-reason"),
    pytest.param({}, {"closure_reason": "other"}, "closed_on", id="reason-without-date"),
    pytest.param(
        REFERRED,
        {"closed_on": "2027-01-11", "closure_reason": "no_further_action"},
        "closed_on",
        id="closed-before-referral",
    ),
    pytest.param(
        {}, REFERRED | {"referred_on": "2027-01-09"}, "referred_on", id="referred-before-assessment"
    ),
    pytest.param(
        {},
        {"closed_on": "2027-01-09", "closure_reason": "no_further_action"},
        "closed_on",
        id="closed-before-assessment",
    ),
    pytest.param(
        {}, REFERRED | {"referred_on": "2027-01-14"}, "referred_on", id="referred-in-future"
    ),
    pytest.param(
        {},
        {"closed_on": "2027-01-14", "closure_reason": "no_further_action"},
        "closed_on",
        id="closed-in-future",
    ),
    # Unknown codes.
    pytest.param({}, {"naloxone": "plenty"}, "naloxone", id="unknown-naloxone"),
    pytest.param({}, REFERRED | {"referral_area": "london"}, "referral_area", id="unknown-area"),
    pytest.param({}, REFERRED | {"entry": "maybe"}, "entry", id="unknown-entry"),
    pytest.param(
        REFERRED,
        {"entry": "not_converted", "non_conversion_reason": "bored"},
        "non_conversion_reason",
        id="unknown-reason",
    ),
    pytest.param(
        {},
        {"closed_on": "2027-01-13", "closure_reason": "finished"},
        "closure_reason",
        id="unknown-closure",
    ),
    # Wrong types, and a field the pathway does not have.
    pytest.param({}, {"harm_reduction": "yes"}, "harm_reduction", id="text-for-bool"),
    pytest.param({}, {"referred": 1}, "referred", id="number-for-bool"),
    pytest.param({}, REFERRED | {"referred_on": "12/01/2027"}, "referred_on", id="bad-date"),
    pytest.param(
        {}, REFERRED | {"referred_on": "2027-01-12T10:00:00+00:00"}, "referred_on", id="time"
    ),
    pytest.param({}, {"naloxone": 1}, "naloxone", id="number-for-code"),
    pytest.param({}, {"notes": "Says they use daily"}, "notes", id="unknown-field"),
]


@pytest.mark.parametrize(("recorded", "update", "field"), REFUSED)
def test_an_update_out_of_order_is_refused_naming_the_field_and_writes_nothing(
    api, assessed, recorded, update, field
):
    path = f"/pathway/{assessed}"
    if recorded:
        assert api("POST", path, recorded).status_code == 200
    shown = api("GET", path).get_json()
    before = written()

    response = api("POST", path, update)

    assert response.status_code == 422
    assert field in response.get_json()["errors"], response.get_json()
    assert written() == before
    assert count(Pathway) == (1 if recorded else 0)
    assert api("GET", path).get_json() == shown


def test_a_refused_update_with_an_idempotency_key_may_be_retried_once_put_right(api, assessed):
    path = f"/pathway/{assessed}"
    key = {"Idempotency-Key": "pathway-1"}
    assert api("POST", path, {"referred": True}, **key).status_code == 422
    assert api("POST", path, REFERRED, **key).status_code == 200
    replayed = api("POST", path, REFERRED, **key)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert count(Pathway) == 1


# The audit trail --------------------------------------------------------------------------------


def test_each_look_and_each_update_is_audited_by_reference_never_with_the_values(api, assessed):
    path = f"/pathway/{assessed}"
    events_before = len(trail())

    api("GET", path)
    api("POST", path, REFERRED | {"naloxone": "issued", "harm_reduction": True})
    api("POST", path, {"entry": "not_converted", "non_conversion_reason": "moved_away"})
    api("POST", path, {})  # nothing changed, but the answer shows the pathway
    api("GET", path, role=Role.COORDINATOR)

    events = trail()[events_before:]
    assert [(e.action, e.reference) for e in events] == [
        ("viewed", assessed),
        ("pathway", assessed),
        ("pathway", assessed),
        ("pathway", assessed),
        ("viewed", assessed),
    ]
    assert [e.user.role for e in events] == [Role.WORKER] * 4 + [Role.COORDINATOR]
    values = ("issued", "coventry", "2027-01-12", "awaiting", "moved_away", "True", "true")
    for event in events:
        assert not any(value in (event.detail or "") for value in values), event.detail
    assert "referral_area" in events[1].detail
    assert "non_conversion_reason" in events[2].detail


def test_a_look_at_an_appointments_pathway_is_on_the_appointments_own_trail(api, references):
    reference = references["attended"]
    api("GET", f"/pathway/{reference}")
    api("POST", f"/pathway/{reference}", {"harm_reduction": True})
    trail_of_it = api("GET", f"/audit?reference={reference}", role=Role.COORDINATOR).get_json()
    assert [event["action"] for event in trail_of_it][-2:] == ["viewed", "pathway"]


# Who sees what ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ANALYST, Role.SERGEANT])
def test_analysts_and_sergeants_see_no_pathway(api, assessed, role):
    before = written()
    assert api("POST", "/assessments", on_site_body(), role=role).status_code == 403
    assert api("GET", f"/pathway/{assessed}", role=role).status_code == 403
    assert api("POST", f"/pathway/{assessed}", {"naloxone": "issued"}, role=role).status_code == 403
    assert api("GET", f"/pathway/{assessed}", role=None).status_code == 401
    assert written() == before


def test_analysts_see_the_figures(api):
    period = "start=2027-01-01&end=2027-01-31"
    assert api("GET", f"/reports/kpi?{period}", role=Role.ANALYST).status_code == 200
    assert api("GET", "/reports/year?year=2026", role=Role.ANALYST).status_code == 200
    assert api("GET", "/reports/year", role=Role.SERGEANT).status_code == 403
    assert api("GET", "/reports/year", role=Role.WORKER).status_code == 403
    assert api("GET", "/reports/year", role=None).status_code == 401


# The year summary -------------------------------------------------------------------------------


def year(api, query: str = "") -> dict:
    response = api("GET", f"/reports/year{query}", role=Role.ANALYST)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("value", ["abc", "2026.5", "1899", "20266"])
def test_a_year_that_cannot_be_read_is_a_bad_parameter(api, value):
    response = api("GET", f"/reports/year?year={value}", role=Role.ANALYST)
    assert response.status_code == 400
    assert "year" in response.get_json()["errors"]


def test_the_year_is_the_current_financial_year_unless_given(api, clock):
    clock.set(local(2027, 3, 31, 23, 30))
    assert (year(api)["start"], year(api)["end"]) == ("2026-04-01", "2027-03-31")
    clock.set(local(2027, 4, 1, 0, 30))  # 23:30 UTC on 31 March
    assert (year(api)["start"], year(api)["end"]) == ("2027-04-01", "2028-03-31")
    # Left empty, as a form sends it, the year is the current one too.
    empty = api("GET", "/reports/year?year=", role=Role.ANALYST).get_json()
    assert empty["start"] == "2027-04-01"
    assert year(api, "?year=2025")["start"] == "2025-04-01"


def test_a_year_with_nothing_in_it_has_no_shares(api):
    assert year(api, "?year=2026") == {
        "start": "2026-04-01",
        "end": "2027-03-31",
        "engaged": 0,
        "assessments_completed": 0,
        "assessments_completed_share": None,
        "statutory_assessments": 0,
        "voluntary_and_court_assessments": 0,
        "transferred_to_treatment": 0,
        "suitable_drr": 0,
        "drr_granted": 0,
        "drr_granted_share": None,
        "suitable_atr": 0,
        "atr_granted": 0,
        "atr_granted_share": None,
    }


def test_the_shares_are_fractions_rounded_to_three_places(api, users, clock):
    worker = users[Role.WORKER]
    # Three seen on site, two of them assessed.
    for kind in ("required_initial", "voluntary", "contact_only"):
        assert api("POST", "/assessments", on_site_body(kind=kind)).status_code == 201
    # Three assessed in court and found suitable for both: two given a DRR, two an ATR.
    records = [
        suitability.request(request_details(), by=worker, now=clock(), allow_test_numbers=True)
        for _ in range(3)
    ]
    clock.set(local(2027, 1, 14, 17, 0))
    for record, sentence in zip(records, ["drr", "atr", "drr_and_atr"], strict=True):
        suitability.record_result(
            record,
            drr="suitable",
            atr="suitable",
            willing=True,
            completed_at=local(2027, 1, 14, 9, 0),
            by=worker,
            now=clock(),
        )
        suitability.record_sentence(record, sentence, dt.date(2027, 1, 14), by=worker, now=clock())
    db.session.commit()

    summary = year(api)
    assert summary["engaged"] == 6
    assert summary["assessments_completed"] == 5
    assert summary["assessments_completed_share"] == 0.833
    assert (summary["suitable_drr"], summary["drr_granted"]) == (3, 2)
    assert summary["drr_granted_share"] == 0.667
    assert (summary["suitable_atr"], summary["atr_granted"]) == (3, 2)
    assert summary["atr_granted_share"] == 0.667
