"""The worker's pages: an assessment made on site, what followed an assessment, and the
follow-through list."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from booking.appointments import outcomes
from booking.extensions import db
from booking.models import AuditEvent, OnSiteAssessment, Pathway, Role
from booking.pathway import on_site, pathways
from tests.support import Page, at, count, local, trail
from tests.support import on_site as rostered_at

THURSDAY = dt.date(2027, 1, 14)


def boxes(day: dt.date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def page_of(response) -> Page:
    return Page(response.get_data(as_text=True))


@pytest.fixture
def worker(client, login, users, me, blocks, clock):
    """The worker signed in, on site at Perry Barr on Thursday from 09:00 to 17:00; it is
    Thursday 11:20."""
    rostered_at(me, blocks["perry-barr"], at(THURSDAY, 9), at(THURSDAY, 17))
    clock.set(at(THURSDAY, 11, 20))
    login(Role.WORKER)
    return users[Role.WORKER]


def seen(user, clock, kind="voluntary", place="stechford", when=None) -> OnSiteAssessment:
    record = on_site.record(place, kind, when or clock(), by=user, now=clock())
    db.session.commit()
    return record


@pytest.mark.parametrize("role", [Role.SERGEANT, Role.ANALYST])
def test_sergeants_and_analysts_are_refused_every_pathway_page(client, login, users, clock, role):
    record = seen(users[Role.WORKER], clock)
    login(role)
    for url in ("/assessments/new", f"/pathway/{record.reference}", "/follow-through"):
        assert client.get(url).status_code == 403, url
    assert (
        client.post(f"/pathway/{record.reference}", data={"naloxone": "issued"}).status_code == 403
    )
    assert count(Pathway) == 0


def test_the_on_site_form_starts_where_the_worker_is_on_site_and_now(client, worker):
    page = page_of(client.get("/assessments/new"))
    assert page.selected["place"] == "perry-barr"
    assert page.values["assessed_on-day"] == "14"
    assert page.values["assessed_time"] == "11:20"
    assert page.radio_labels("kind") == [
        "Required initial assessment",
        "Required follow-up assessment",
        "Voluntary assessment",
        "Contact only",
    ]


def test_an_on_site_assessment_takes_one_choice_and_leads_to_what_followed(client, worker, clock):
    response = client.post(
        "/assessments/new",
        data={
            "place": "perry-barr",
            "kind": "required_initial",
            "assessed_on": boxes(THURSDAY),
            "assessed_time": "11:05",
        },
    )
    assert response.status_code == 302
    record = db.session.scalar(select(OnSiteAssessment))
    assert response.headers["Location"] == f"/pathway/{record.reference}"
    assert (record.place.code, record.kind, record.assessed_at) == (
        "perry-barr",
        "required_initial",
        local(2027, 1, 14, 11, 5),
    )
    assert record.recorded_by_id == worker.id
    follows = page_of(client.get(response.headers["Location"]))
    assert f"Required initial assessment {record.reference} saved" in follows.text
    assert "Required initial assessment, on site" in follows.text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"kind": ""}, "kind", "Select what kind of assessment or contact it was"),
        ({"place": "nowhere"}, "place", "Choose the custody block or court where you saw"),
        ({"assessed_time": "12:30"}, "assessed_time", "The time cannot be in the future"),
        ({"assessed_time": "25:00"}, "assessed_time", "on the 24-hour clock"),
        ({"assessed_on": ["31", "2", "2027"]}, "assessed_on", "must be a real date"),
    ],
)
def test_a_wrong_on_site_answer_is_named_and_nothing_is_written(
    client, worker, changes, field, message
):
    before = len(trail())
    data = {
        "place": "perry-barr",
        "kind": "voluntary",
        "assessed_on": boxes(THURSDAY),
        "assessed_time": "11:05",
    } | changes
    response = client.post("/assessments/new", data=data)
    assert response.status_code == 400
    page = page_of(response)
    assert page.title.startswith("Error: ")
    # The summary's link leads to the field the message is about (a date's first box).
    assert any(
        message in text and href.startswith(f"#{field}") for href, text in page.error_links
    ), page.error_links
    assert count(OnSiteAssessment) == 0
    assert len(trail()) == before


def test_a_time_in_the_spring_gap_is_refused_with_why(client, login, users, clock):
    clock.set(local(2027, 3, 28, 12, 0))
    login(Role.WORKER)
    response = client.post(
        "/assessments/new",
        data={
            "place": "stechford",
            "kind": "voluntary",
            "assessed_on": ["28", "3", "2027"],
            "assessed_time": "01:30",
        },
    )
    assert response.status_code == 400
    assert "the clocks went forward an hour at 1am" in page_of(response).text
    assert count(OnSiteAssessment) == 0


def pathway_form(**changes) -> dict:
    return {
        "naloxone": "issued",
        "harm_reduction": "yes",
        "referred": "yes",
        "referral_area": "sandwell",
        "referred_on": boxes(THURSDAY),
        "entry": "awaiting",
        "entered_on": ["", "", ""],
        "non_conversion_reason": "",
        "closed": "no",
        "closed_on": boxes(THURSDAY),
        "closure_reason": "",
    } | changes


def test_the_pathway_is_saved_from_one_page_and_shown_again(client, worker, clock):
    record = seen(worker, clock)
    response = client.post(f"/pathway/{record.reference}", data=pathway_form())
    assert response.status_code == 302
    assert response.headers["Location"] == "/day?date=2027-01-14"
    saved = db.session.scalar(select(Pathway))
    assert pathways.values_of(saved) == {
        "naloxone": "issued",
        "harm_reduction": True,
        "referred": True,
        "referral_area": "sandwell",
        "referred_on": THURSDAY,
        "entry": "awaiting",
        "entered_on": None,
        "non_conversion_reason": None,
        "closed_on": None,
        "closure_reason": None,
    }
    # The message waited for the next page: the worker's day, where the save led.
    assert (
        f"What followed {record.reference} is saved."
        in page_of(client.get(response.headers["Location"])).text
    )
    again = page_of(client.get(f"/pathway/{record.reference}"))
    assert again.selected["referral_area"] == "sandwell"


def test_an_answer_that_hides_a_part_clears_it(client, worker, clock):
    record = seen(worker, clock)
    # No referral: the area, date and entry still in the hidden boxes are not kept.
    client.post(
        f"/pathway/{record.reference}",
        data=pathway_form(referred="no", entry="entered", entered_on=["x", "", ""]),
    )
    saved = db.session.scalar(select(Pathway))
    assert (saved.referred, saved.referral_area, saved.referred_on, saved.entry) == (
        False,
        None,
        None,
        None,
    )


def test_a_worker_cannot_undo_a_referral_and_a_coordinator_can(client, worker, login, clock):
    record = seen(worker, clock)
    client.post(f"/pathway/{record.reference}", data=pathway_form())
    refused = client.post(f"/pathway/{record.reference}", data=pathway_form(referred="no"))
    assert refused.status_code == 400
    assert (
        "#referred",
        "A referral is recorded: ask a coordinator to correct it",
    ) in page_of(refused).error_links
    assert db.session.scalar(select(Pathway.referred)) is True
    db.session.commit()

    client.post("/logout")
    login(Role.COORDINATOR)
    corrected = client.post(f"/pathway/{record.reference}", data=pathway_form(referred="no"))
    assert corrected.status_code == 302, page_of(corrected).error_links
    assert db.session.scalar(select(Pathway.referred)) is False
    events = [e for e in trail() if e.reference == record.reference and e.action == "pathway"]
    assert events[-1].detail == "referred, referral_area, referred_on, entry"


def test_an_empty_save_records_nothing(client, worker, clock):
    record = seen(worker, clock)
    blank = {"referred": "", "closed": "", "referred_on": ["", "", ""], "closed_on": ["", "", ""]}
    response = client.post(f"/pathway/{record.reference}", data=blank)
    assert response.status_code == 302
    assert count(Pathway) == 0, "a pathway is made once something is recorded"


def test_a_pathway_out_of_order_is_refused_with_the_summary_and_nothing_written(
    client, worker, clock
):
    record = seen(worker, clock)
    client.post(f"/pathway/{record.reference}", data=pathway_form())
    before = (pathways.values_of(db.session.scalar(select(Pathway))), len(trail()))
    refused = client.post(
        f"/pathway/{record.reference}",
        data=pathway_form(closed="yes", closure_reason="disengaged"),
    )
    assert refused.status_code == 400
    page = page_of(refused)
    assert (
        "#closure_reason",
        "Record whether the referral led into treatment first, or close "
        "the case with no further action",
    ) in page.error_links
    saved = db.session.scalar(select(Pathway))
    db.session.refresh(saved)
    assert (pathways.values_of(saved), len(trail()) - 1) == before, "only the view is recorded"


def test_an_entry_before_the_referral_is_refused(client, worker, clock):
    record = seen(worker, clock, when=at(THURSDAY, 9, 30))
    clock.set(at(dt.date(2027, 2, 1), 10))
    refused = client.post(
        f"/pathway/{record.reference}",
        data=pathway_form(
            referred_on=["20", "1", "2027"], entry="entered", entered_on=["19", "1", "2027"]
        ),
    )
    assert refused.status_code == 400
    assert ("#entered_on-day", "The date of entry cannot be before the referral") in (
        page_of(refused).error_links
    )
    assert count(Pathway) == 0


def booked_the_day_before(book, clock, **changes):
    """An appointment on Thursday at 10:00, booked on Wednesday evening."""
    now = clock()
    clock.set(at(THURSDAY - dt.timedelta(days=1), 21))
    booking = book(at(THURSDAY, 10), block="perry-barr", **changes)
    clock.set(now)
    return booking


def test_no_pathway_follows_an_appointment_not_attended(client, worker, book, clock):
    booking = booked_the_day_before(book, clock)
    assert client.get(f"/pathway/{booking.reference}").status_code == 404
    assert client.get("/pathway/ABCD-EFGH").status_code == 404


def test_the_pathway_page_shows_no_name_and_records_the_look(client, worker, book, users, clock):
    booking = booked_the_day_before(book, clock, person_name="Invented Person")
    outcomes.record_outcome(booking, "attended", by=worker, now=clock())
    db.session.commit()
    page = page_of(client.get(f"/pathway/{booking.reference}"))
    assert "Invented Person" not in page.text
    assert "Initial assessment, by appointment" in page.text
    looked = [e for e in trail() if e.reference == booking.reference and e.action == "viewed"]
    assert looked[-1].detail == "pathway page"
    assert looked[-1].booking_id == booking.id


def test_the_day_lists_what_was_seen_on_site_with_what_followed(client, worker, clock):
    first = seen(worker, clock, kind="contact_only", place="perry-barr", when=at(THURSDAY, 9, 40))
    second = seen(worker, clock, kind="voluntary", place="perry-barr", when=at(THURSDAY, 10, 10))
    pathways.record(
        pathways.assessment(second.reference), {"naloxone": "declined"}, by=worker, now=clock()
    )
    db.session.commit()
    page = page_of(client.get("/day"))
    assert "09:40 Contact only, Perry Barr" in page.text
    assert (f"/pathway/{first.reference}", f"Record what followed: {first.reference}") in page.links
    assert (f"/pathway/{second.reference}", f"What followed: {second.reference}") in page.links


def test_follow_through_lists_referrals_oldest_first_with_the_overdue(
    client, login, users, clock, app
):
    worker = users[Role.WORKER]
    referred = {}
    for day in (1, 20, 5):
        when = local(2027, 1, day, 10)
        clock.set(when)
        record = seen(worker, clock, when=when)
        pathways.record(
            pathways.assessment(record.reference),
            {"referred": True, "referral_area": "walsall", "referred_on": when.date()},
            by=worker,
            now=clock(),
        )
        referred[day] = record.reference
    entered = seen(worker, clock, when=clock())
    pathways.record(
        pathways.assessment(entered.reference),
        {
            "referred": True,
            "referral_area": "dudley",
            "referred_on": dt.date(2027, 1, 5),
            "entry": "entered",
            "entered_on": dt.date(2027, 1, 5),
        },
        by=worker,
        now=clock(),
    )
    db.session.commit()
    clock.set(local(2027, 1, 25, 9))  # 24, 20 and 5 days after each referral
    login(Role.COORDINATOR)

    page = page_of(client.get("/follow-through"))
    rows = page.tables["awaiting-entry"][1:]
    assert [row[0] for row in rows] == [referred[1], referred[5], referred[20]]
    assert [row[-1] for row in rows] == ["Days: 24 Overdue", "Days: 20", "Days: 5"]
    assert "3 referrals, 1 overdue" in page.text
    shown = db.session.scalars(
        select(AuditEvent.reference).where(AuditEvent.detail == "follow-through list")
    ).all()
    assert sorted(shown) == sorted(referred.values())


def test_an_open_case_with_nothing_recorded_for_the_check_days_is_listed(
    client, login, users, clock
):
    worker = users[Role.WORKER]
    quiet = seen(worker, clock)
    pathways.record(
        pathways.assessment(quiet.reference), {"naloxone": "issued"}, by=worker, now=clock()
    )
    closed = seen(worker, clock)
    pathways.record(
        pathways.assessment(closed.reference),
        {"referred": False, "closed_on": clock().date(), "closure_reason": "no_further_action"},
        by=worker,
        now=clock(),
    )
    db.session.commit()
    clock.set(clock() + dt.timedelta(days=22))
    login(Role.WORKER)
    page = page_of(client.get("/follow-through"))
    assert [row[0] for row in page.tables["quiet-cases"][1:]] == [quiet.reference]
