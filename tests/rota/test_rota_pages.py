"""The coordinators' rota pages: the week by block and by worker, shifts added, changed and
removed, absences, the appointments that need rearranging, and the cover picture.

The clock is Wednesday 13 January 2027, 21:00 in London unless a test moves it; the rota is
generated from that day. Every weekday each block has one worker on site, 07:00 to 20:00.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from booking.extensions import db
from booking.models import Absence, AuditEvent, Block, Booking, Role, RotaRemoval, Shift, Worker
from tests import support
from tests.support import Page, count, fill_rota, local, page_of

COORDINATOR_PAGES = [
    "/rota",
    "/rota/workers",
    "/rota/cover",
    "/rota/shifts/new",
    "/rota/absences/new",
]
NEEDS_REARRANGING = "/rota/needs-rearranging"
THURSDAY = dt.date(2027, 1, 14)


def book(user, block: str, starts_at: dt.datetime, now: dt.datetime, **changes) -> Booking:
    """A booking made by a sergeant, straight through the domain's one write path."""
    person = dict(
        custody_record="20/777777/27",
        person_name="Jordan Sample",
        mobile="07700 900456",
        test_result="opiates",
        tested_at=now - dt.timedelta(minutes=30),
    )
    return support.book(user, block, starts_at, now, **{**person, **changes})


def shift_at(code: str, starts_at: dt.datetime) -> Shift:
    return db.session.scalar(
        select(Shift).join(Block).where(Block.code == code, Shift.starts_at == starts_at)
    )


def free_worker(day: dt.date) -> Worker:
    """Someone with no shift that day."""
    start, end = local(day.year, day.month, day.day), local(day.year, day.month, day.day, 23, 59)
    busy = select(Shift.worker_id).where(Shift.starts_at < end, Shift.ends_at > start)
    return db.session.scalar(select(Worker).where(Worker.id.not_in(busy)).order_by(Worker.name))


def shift_form(worker: Worker, block: str, day: dt.date, starts: str, ends: str) -> dict:
    return {
        "worker": str(worker.id),
        "block": block,
        "date": [str(day.day), str(day.month), str(day.year)],
        "starts": starts,
        "ends": ends,
    }


def sickness_form(worker: Worker, first: dt.date, last: dt.date, confirmed: bool = True) -> dict:
    """The absence form filled in; confirmed, as "Record the absence" on its check page sends."""
    return {
        "worker": str(worker.id),
        "kind": "sickness",
        "first_day": [str(first.day), str(first.month), str(first.year)],
        "last_day": [str(last.day), str(last.month), str(last.year)],
        **({"confirm": "yes"} if confirmed else {}),
    }


def hidden_fields(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)


def flashed(response_page: Page) -> str:
    match = re.search(r"govuk-notification-banner__heading\">(.*?)</p>", response_page.html, re.S)
    assert match, "no notification banner"
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split())


@pytest.fixture
def coordinator(client, users, rostered, login):
    login(Role.COORDINATOR)
    return client


# Who sees what --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [*COORDINATOR_PAGES, NEEDS_REARRANGING])
def test_analysts_see_no_rota_page(client, users, login, url):
    login(Role.ANALYST)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("role", [Role.SERGEANT, Role.WORKER])
@pytest.mark.parametrize("url", COORDINATOR_PAGES)
def test_only_coordinators_see_and_change_the_rota(client, users, login, role, url):
    login(role)
    assert client.get(url).status_code == 403
    if url.endswith("/new"):
        assert client.post(url).status_code == 403


def test_shift_pages_are_for_coordinators_only(client, users, rostered, login):
    shift_id = db.session.scalar(select(Shift.id).limit(1))
    login(Role.SERGEANT)
    assert client.get(f"/rota/shifts/{shift_id}").status_code == 403
    assert client.post(f"/rota/shifts/{shift_id}/remove").status_code == 403
    assert count(Shift) > 0 and count(RotaRemoval) == 0


@pytest.mark.parametrize("role", [Role.SERGEANT, Role.WORKER, Role.COORDINATOR])
def test_sergeants_workers_and_coordinators_see_what_needs_rearranging(client, users, login, role):
    login(role)
    response = client.get(NEEDS_REARRANGING)
    assert response.status_code == 200
    assert "No appointments need rearranging" in page_of(response).text


@pytest.mark.parametrize("url", [*COORDINATOR_PAGES, NEEDS_REARRANGING])
def test_coordinators_see_every_rota_page_even_before_any_rota_exists(client, users, login, url):
    login(Role.COORDINATOR)
    assert client.get(url).status_code == 200


def test_signed_out_people_are_sent_to_sign_in(client, users):
    response = client.get("/rota")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# The week by block ----------------------------------------------------------------------------


def test_the_rota_shows_each_blocks_shifts_and_its_gaps_for_the_week(coordinator):
    response = coordinator.get("/rota?week=2027-01-13")
    assert response.status_code == 200
    shown = page_of(response)
    assert shown.title.startswith("Rota for the week of Monday 11 January 2027")

    rows = shown.table("Shifts at each block")
    assert rows[0] == [
        "Block",
        "Mon 11 Jan",
        "Tue 12 Jan",
        "Wed 13 Jan",
        "Thu 14 Jan",
        "Fri 15 Jan",
        "Sat 16 Jan",
        "Sun 17 Jan",
    ]
    assert [row[0] for row in rows[1:]] == [
        "Bloxwich",
        "Coventry",
        "Oldbury",
        "Perry Barr",
        "Stechford",
        "Wolverhampton",
    ]
    thursday_worker = shift_at("stechford", local(2027, 1, 14, 7)).worker.name
    assert shown.cell("Shifts at each block", "Stechford", "Thu 14 Jan").startswith(
        f"{thursday_worker}, Stechford, Thu 14 Jan: change the shift 07:00–20:00"
    )
    # The rota was generated from Wednesday: Monday's planned cover is a gap.
    assert shown.cell("Shifts at each block", "Stechford", "Mon 11 Jan").startswith(
        "Gap 07:00–20:00"
    )
    assert shown.cell("Shifts at each block", "Stechford", "Sat 16 Jan") == "No cover planned"
    assert shown.cell("Shifts at each block", "Perry Barr", "Sat 16 Jan").endswith("07:00–20:00")
    add_cover = shown.href("Add cover at Stechford, Mon 11 Jan")
    assert add_cover == ("/rota/shifts/new?block=stechford&date=2027-01-11&starts=07:00&ends=20:00")
    assert shown.href("Previous week") == "/rota?week=2027-01-04"
    assert shown.href("Next week") == "/rota?week=2027-01-18"


def test_a_gap_links_to_a_shift_form_filled_in_for_it(coordinator):
    shown = page_of(
        coordinator.get("/rota/shifts/new?block=stechford&date=2027-01-11&starts=07:00&ends=20:00")
    )
    assert shown.selected["block"] == "stechford"
    assert (shown.values["date-day"], shown.values["date-month"], shown.values["date-year"]) == (
        "11",
        "01",
        "2027",
    )
    assert (shown.values["starts"], shown.values["ends"]) == ("07:00", "20:00")


def test_a_week_that_is_not_a_date_is_not_found(coordinator):
    assert coordinator.get("/rota?week=next-tuesday").status_code == 404
    assert coordinator.get("/rota/cover?week=2027-02-30").status_code == 404
    assert coordinator.get("/rota/cover?week=2027-01-11&hours=night").status_code == 404


# The week by worker ---------------------------------------------------------------------------


def test_the_rota_by_worker_shows_shifts_absences_and_hours(coordinator, clock):
    worker = shift_at("coventry", local(2027, 1, 14, 7)).worker
    coordinator.post(
        "/rota/absences/new",
        data=sickness_form(worker, dt.date(2027, 1, 15), dt.date(2027, 1, 15)),
    )
    shifts = db.session.scalars(
        select(Shift).where(
            Shift.worker_id == worker.id,
            Shift.starts_at >= local(2027, 1, 11),
            Shift.starts_at < local(2027, 1, 18),
        )
    ).all()
    hours = sum((s.ends_at - s.starts_at).total_seconds() for s in shifts) / 3600

    shown = page_of(coordinator.get("/rota/workers?week=2027-01-11"))
    caption = "Each worker’s shifts and absences"
    assert shown.cell(caption, worker.name, "Thu 14 Jan").startswith("Coventry")
    assert shown.cell(caption, worker.name, "Fri 15 Jan").startswith("Sickness all day")
    assert shown.cell(caption, worker.name, "Hours") == f"{hours:g} hours"
    assert f"/rota/absences/new?worker={worker.id}" in [href for href, _ in shown.links]


# Adding a shift -------------------------------------------------------------------------------


def test_a_coordinator_adds_extra_cover(coordinator):
    worker = free_worker(THURSDAY)
    before = count(Shift)
    response = coordinator.post(
        "/rota/shifts/new", data=shift_form(worker, "stechford", THURSDAY, "14:00", "20:00")
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/rota?week=2027-01-14"
    assert count(Shift) == before + 1
    added = shift_at("stechford", local(2027, 1, 14, 14))
    assert added.worker_id == worker.id and added.ends_at == local(2027, 1, 14, 20)
    assert not added.generated

    shown = page_of(coordinator.get(response.headers["Location"]))
    assert flashed(shown) == (
        f"Shift added: {worker.name} at Stechford, 14:00–20:00 on Thursday 14 January 2027. "
        "0 appointments moved to another worker; 0 need rearranging."
    )
    assert worker.name in shown.cell("Shifts at each block", "Stechford", "Thu 14 Jan")


@pytest.mark.parametrize(
    "form",
    [
        {"worker": "", "block": "", "date": ["", "", ""], "starts": "", "ends": ""},
        {},  # not even sent
    ],
)
def test_an_empty_shift_form_names_every_answer_missing(coordinator, form):
    before = count(Shift)
    response = coordinator.post("/rota/shifts/new", data=form)
    assert response.status_code == 400
    shown = page_of(response)
    assert shown.title.startswith("Error: ")
    assert shown.error_links == [
        ("#worker", "Choose the worker"),
        ("#block", "Choose the custody block or court"),
        ("#date-day", "Enter the date of the shift"),
        ("#starts", "Enter the start time"),
        ("#ends", "Enter the end time"),
    ]
    assert count(Shift) == before


def test_a_worker_already_on_shift_elsewhere_is_refused_and_nothing_is_written(coordinator):
    busy = shift_at("oldbury", local(2027, 1, 14, 7)).worker
    before = (count(Shift), count(AuditEvent))
    response = coordinator.post(
        "/rota/shifts/new", data=shift_form(busy, "stechford", THURSDAY, "12:00", "16:00")
    )
    assert response.status_code == 400
    assert page_of(response).error_links == [
        ("#worker", f"{busy.name} is already on a shift at Oldbury then")
    ]
    assert (count(Shift), count(AuditEvent)) == before


def test_an_end_before_the_start_is_refused(coordinator):
    worker = free_worker(THURSDAY)
    response = coordinator.post(
        "/rota/shifts/new", data=shift_form(worker, "stechford", THURSDAY, "16:00", "09:00")
    )
    assert response.status_code == 400
    assert page_of(response).error_links == [("#ends", "The end time must be after the start time")]


def test_a_time_the_clocks_skip_is_refused_with_a_clear_reason(coordinator):
    worker = db.session.scalar(select(Worker).order_by(Worker.id))
    before = count(Shift)
    response = coordinator.post(
        "/rota/shifts/new",
        data=shift_form(worker, "perry-barr", dt.date(2027, 3, 28), "01:30", "06:00"),
    )
    assert response.status_code == 400
    assert page_of(response).error_links == [
        (
            "#starts",
            "01:30 does not exist on Sunday 28 March 2027: the clocks go forward an hour then. "
            "Enter a time before or after the change",
        )
    ]
    assert count(Shift) == before


# Changing and removing a shift ----------------------------------------------------------------


def test_a_shift_moved_to_later_hours_hands_its_early_appointment_on_or_flags_it(
    coordinator, users, clock
):
    shift = shift_at("bloxwich", local(2027, 1, 14, 7))
    early = book(users[Role.SERGEANT], "bloxwich", local(2027, 1, 14, 8), clock())
    later = book(users[Role.SERGEANT], "bloxwich", local(2027, 1, 14, 15), clock())

    form = page_of(coordinator.get(f"/rota/shifts/{shift.id}"))
    assert "2 appointments are booked with" in form.text
    assert (form.values["starts"], form.values["ends"]) == ("07:00", "20:00")
    assert form.selected == {"worker": str(shift.worker_id), "block": "bloxwich"}

    response = coordinator.post(
        f"/rota/shifts/{shift.id}",
        data=shift_form(shift.worker, "bloxwich", THURSDAY, "12:00", "20:00"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert shift.starts_at == local(2027, 1, 14, 12)
    assert early.worker_id is None
    assert later.worker_id == shift.worker_id
    message = flashed(page_of(coordinator.get(response.headers["Location"])))
    assert message.endswith(
        "0 appointments moved to another worker; 1 needs rearranging. "
        "See the appointments that need rearranging"
    )


def test_swapping_a_shifts_worker_takes_its_appointments_along(coordinator, users, clock):
    shift = shift_at("wolverhampton", local(2027, 1, 14, 7))
    held = book(users[Role.SERGEANT], "wolverhampton", local(2027, 1, 14, 10), clock())
    colleague = free_worker(THURSDAY)

    response = coordinator.post(
        f"/rota/shifts/{shift.id}",
        data=shift_form(colleague, "wolverhampton", THURSDAY, "07:00", "20:00"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert shift.worker_id == colleague.id
    assert held.worker_id == colleague.id
    message = flashed(page_of(coordinator.get(response.headers["Location"])))
    assert message == (
        f"Shift changed: {colleague.name} at Wolverhampton, 07:00–20:00 on Thursday 14 January "
        "2027. 1 appointment moved to another worker; 0 need rearranging."
    )


def test_a_swap_to_a_busy_worker_is_refused_and_nothing_is_written(coordinator, users, clock):
    shift = shift_at("wolverhampton", local(2027, 1, 14, 7))
    worker_before = shift.worker_id
    busy = shift_at("coventry", local(2027, 1, 14, 7)).worker
    before = (count(RotaRemoval), count(AuditEvent))

    response = coordinator.post(
        f"/rota/shifts/{shift.id}",
        data=shift_form(busy, "wolverhampton", THURSDAY, "07:00", "19:00"),
    )
    assert response.status_code == 400
    assert page_of(response).error_links == [
        ("#worker", f"{busy.name} is already on a shift at Coventry then")
    ]
    db.session.expire_all()
    assert shift.worker_id == worker_before and shift.ends_at == local(2027, 1, 14, 20)
    assert (count(RotaRemoval), count(AuditEvent)) == before


def test_an_unknown_shift_is_not_found(coordinator):
    assert coordinator.get("/rota/shifts/999999").status_code == 404
    assert coordinator.get("/rota/shifts/999999/remove").status_code == 404


def test_removing_a_shift_asks_first_then_flags_its_appointments(coordinator, users, clock):
    shift = shift_at("oldbury", local(2027, 1, 14, 7))
    held = book(users[Role.SERGEANT], "oldbury", local(2027, 1, 14, 9, 30), clock())

    confirm = coordinator.get(f"/rota/shifts/{shift.id}/remove")
    assert confirm.status_code == 200
    assert "1 appointment is booked with" in page_of(confirm).text
    assert count(Shift) > 0 and shift_at("oldbury", local(2027, 1, 14, 7)) is not None

    before = count(Shift)
    response = coordinator.post(f"/rota/shifts/{shift.id}/remove")
    assert response.status_code == 302
    assert count(Shift) == before - 1
    db.session.expire_all()
    assert held.worker_id is None
    shown = page_of(coordinator.get(response.headers["Location"]))
    assert "1 needs rearranging" in flashed(shown)
    assert shown.href("See the appointments that need rearranging") == NEEDS_REARRANGING
    assert shown.cell("Shifts at each block", "Oldbury", "Thu 14 Jan").startswith("Gap 07:00–20:00")


# Absences and the appointments they leave without a worker ------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        {
            "worker": "",
            "first_day": ["", "", ""],
            "starts": "",
            "last_day": ["", "", ""],
            "ends": "",
        },
        {},  # not even sent
    ],
)
def test_an_empty_absence_form_names_what_is_missing_and_records_nothing(coordinator, form):
    response = coordinator.post("/rota/absences/new", data=form)
    assert response.status_code == 400
    assert page_of(response).error_links == [
        ("#worker", "Choose the worker who is away"),
        ("#kind", "Select sickness or leave"),
        ("#first_day-day", "Enter the first day away"),
        ("#last_day-day", "Enter the last day away"),
    ]
    assert count(Absence) == 0


def test_the_last_day_away_cannot_be_before_the_first(coordinator):
    worker = db.session.scalar(select(Worker).order_by(Worker.id))
    form = sickness_form(worker, dt.date(2027, 1, 15), dt.date(2027, 1, 14))
    response = coordinator.post("/rota/absences/new", data=form)
    assert response.status_code == 400
    assert page_of(response).error_links == [
        ("#last_day-day", "The last day away must be the same as or after the first day")
    ]
    assert count(Absence) == 0


def test_times_in_an_absence_must_be_real_in_order_and_not_skipped_by_the_clocks(coordinator):
    worker = db.session.scalar(select(Worker).order_by(Worker.id))
    form = sickness_form(worker, dt.date(2027, 1, 14), dt.date(2027, 1, 14))
    response = coordinator.post(
        "/rota/absences/new", data=form | {"starts": "half nine", "ends": "25:00"}
    )
    assert page_of(response).error_links == [
        ("#starts", "Enter the time they leave on the 24-hour clock, like 21:30"),
        ("#ends", "Enter the time they are back on the 24-hour clock, like 21:30"),
    ]
    response = coordinator.post(
        "/rota/absences/new", data=form | {"starts": "14:00", "ends": "09:00"}
    )
    assert page_of(response).error_links == [
        ("#ends", "The time they are back must be after the time they leave")
    ]
    spring = sickness_form(worker, dt.date(2027, 3, 28), dt.date(2027, 3, 28))
    response = coordinator.post("/rota/absences/new", data=spring | {"starts": "01:15"})
    assert response.status_code == 400
    assert page_of(response).error_links == [
        (
            "#starts",
            "01:15 does not exist on Sunday 28 March 2027: the clocks go forward an hour then. "
            "Enter a time before or after the change",
        )
    ]
    assert count(Absence) == 0


def test_leave_for_part_of_a_day_cuts_only_those_hours(coordinator):
    worker = shift_at("coventry", local(2027, 1, 14, 7)).worker
    form = sickness_form(worker, THURSDAY, THURSDAY) | {
        "kind": "leave",
        "starts": "09:00",
        "ends": "11:30",
    }
    response = coordinator.post("/rota/absences/new", data=form)
    assert response.status_code == 302
    absence = db.session.scalar(select(Absence))
    assert (absence.starts_at, absence.ends_at) == (
        local(2027, 1, 14, 9),
        local(2027, 1, 14, 11, 30),
    )
    shown = page_of(coordinator.get(response.headers["Location"]))
    assert flashed(shown).startswith(
        f"Leave recorded: {worker.name}, 09:00–11:30 on Thursday 14 January 2027."
    )
    cell = shown.cell("Shifts at each block", "Coventry", "Thu 14 Jan")
    assert "07:00–09:00" in cell and "11:30–20:00" in cell and "Gap 09:00–11:30" in cell


def test_sickness_from_an_afternoon_to_the_next_morning(coordinator):
    worker = shift_at("bloxwich", local(2027, 1, 14, 7)).worker
    form = sickness_form(worker, THURSDAY, dt.date(2027, 1, 15)) | {
        "starts": "13:00",
        "ends": "10:00",
    }
    response = coordinator.post("/rota/absences/new", data=form)
    assert response.status_code == 302
    absence = db.session.scalar(select(Absence))
    assert (absence.starts_at, absence.ends_at) == (local(2027, 1, 14, 13), local(2027, 1, 15, 10))
    shown = page_of(coordinator.get(response.headers["Location"]))
    assert flashed(shown).startswith(
        f"Sickness recorded: {worker.name}, from 13:00 on Thursday 14 January 2027 "
        "to 10:00 on Friday 15 January 2027."
    )
    by_worker = page_of(coordinator.get("/rota/workers?week=2027-01-11"))
    caption = "Each worker’s shifts and absences"
    assert by_worker.cell(caption, worker.name, "Thu 14 Jan").startswith("Sickness 13:00–24:00")
    assert by_worker.cell(caption, worker.name, "Fri 15 Jan").startswith("Sickness 00:00–10:00")


def test_an_absence_is_checked_first_and_what_the_check_foretells_is_what_recording_does(
    coordinator, users, clock
):
    sergeant = users[Role.SERGEANT]
    sick = shift_at("stechford", local(2027, 1, 14, 7)).worker
    morning = book(sergeant, "stechford", local(2027, 1, 14, 10), clock())
    afternoon = book(sergeant, "stechford", local(2027, 1, 14, 16), clock())
    colleague = free_worker(THURSDAY)
    coordinator.post(
        "/rota/shifts/new", data=shift_form(colleague, "stechford", THURSDAY, "14:00", "20:00")
    )
    trail = count(AuditEvent)

    checking = coordinator.post(
        "/rota/absences/new", data=sickness_form(sick, THURSDAY, THURSDAY, confirmed=False)
    )

    assert checking.status_code == 200
    check = page_of(checking)
    assert check.title.startswith("Check the absence before recording it")
    assert f"Booked with {sick.name} in this time 2 appointments" in check.text
    assert "Handed to another worker on site at the same time 1 appointment" in check.text
    assert "Need rearranging (no other worker on site) 1 appointment" in check.text
    assert check.table("Appointments that would need rearranging")[1:] == [
        ["10:00 on Thursday 14 January 2027", "Stechford", morning.reference]
    ]
    assert count(Absence) == 0 and count(AuditEvent) == trail, "a check records nothing"
    db.session.expire_all()
    assert morning.worker_id == afternoon.worker_id == sick.id

    # "Record the absence" sends the same answers back, confirmed.
    answers = hidden_fields(check.html)
    assert ("worker", str(sick.id)) in answers and ("first_day", "14") in answers
    recorded = coordinator.post(
        "/rota/absences/new", data=MultiDict([*answers, ("confirm", "yes")])
    )

    assert recorded.status_code == 302
    rota = page_of(coordinator.get(recorded.headers["Location"]))
    assert "1 appointment moved to another worker; 1 needs rearranging." in flashed(rota)
    db.session.expire_all()
    assert (morning.worker_id, afternoon.worker_id) == (None, colleague.id)
    assert count(Absence) == 1


def test_change_the_absence_goes_back_to_the_form_as_it_was_filled_in(coordinator):
    worker = shift_at("coventry", local(2027, 1, 14, 7)).worker
    form = sickness_form(worker, THURSDAY, THURSDAY, confirmed=False) | {"kind": "leave"}
    answers = hidden_fields(coordinator.post("/rota/absences/new", data=form).get_data(True))

    response = coordinator.post("/rota/absences/new", data=MultiDict([*answers, ("change", "yes")]))

    assert response.status_code == 200
    page = page_of(response)
    assert page.title.startswith("Record an absence")
    assert page.selected["worker"] == str(worker.id)
    assert re.search(r'value="leave"\s+checked', page.html)
    assert count(Absence) == 0


def test_sickness_at_a_block_moves_appointments_to_a_colleague_or_flags_them_and_shows_the_gap(
    coordinator, client, users, login, clock
):
    """A coordinator marks the only weekday worker at Stechford sick for tomorrow. The
    appointment in the afternoon, when a colleague is on site too, moves to them; the morning
    one has nobody and needs rearranging. The cover picture shows the new gap."""
    sergeant = users[Role.SERGEANT]
    sick = shift_at("stechford", local(2027, 1, 14, 7)).worker
    morning = book(sergeant, "stechford", local(2027, 1, 14, 10), clock(), person_name="Alex Morn")
    afternoon = book(sergeant, "stechford", local(2027, 1, 14, 16), clock())
    colleague = free_worker(THURSDAY)
    added = coordinator.post(
        "/rota/shifts/new", data=shift_form(colleague, "stechford", THURSDAY, "14:00", "20:00")
    )
    assert added.status_code == 302
    before = page_of(coordinator.get("/rota/cover?week=2027-01-11"))
    assert before.cell(
        "Cover at Stechford by day", "Thu 14 Jan", "Hours of gaps in planned cover"
    ) == ("0 hours")

    response = coordinator.post("/rota/absences/new", data=sickness_form(sick, THURSDAY, THURSDAY))
    assert response.status_code == 302
    assert response.headers["Location"] == "/rota?week=2027-01-14"
    db.session.expire_all()
    assert afternoon.worker_id == colleague.id
    assert morning.worker_id is None
    absence = db.session.scalar(select(Absence))
    assert (absence.kind, absence.starts_at, absence.ends_at) == (
        "sickness",
        local(2027, 1, 14),
        local(2027, 1, 15),
    )
    rota = page_of(coordinator.get(response.headers["Location"]))
    assert flashed(rota) == (
        f"Sickness recorded: {sick.name}, all day on Thursday 14 January 2027. "
        "1 appointment moved to another worker; 1 needs rearranging. "
        "See the appointments that need rearranging"
    )
    assert rota.cell("Shifts at each block", "Stechford", "Thu 14 Jan").startswith(
        f"{colleague.name}, Stechford, Thu 14 Jan: change the shift 14:00–20:00 Gap 07:00–14:00"
    )
    assert "1 appointment needs rearranging" in rota.text

    # The sergeant finds it on the list, with one step to rearrange it.
    login(Role.SERGEANT)
    waiting = page_of(client.get(NEEDS_REARRANGING))
    rows = waiting.table("Appointments with no worker")
    assert rows[0] == [
        "Reference",
        "Time",
        "Block",
        "Arrested at",
        "Person",
        "Mobile",
        "Action",
    ]
    assert rows[1:] == [
        [
            morning.reference,
            "10:00 on Thursday 14 January 2027",
            "Stechford",
            "Stechford",
            "Alex Morn",
            "07700 900456",
            f"Rearrange appointment {morning.reference}",
        ]
    ]
    rearrange = waiting.href(f"Rearrange appointment {morning.reference}")
    assert rearrange == f"/bookings/{morning.reference}/rearrange"
    assert client.get(rearrange).status_code == 200

    # The coordinator's cover picture shows the morning as a gap in planned cover.
    login(Role.COORDINATOR)
    after = page_of(client.get("/rota/cover?week=2027-01-11"))
    caption = "Cover at Stechford by day"
    assert after.cell(caption, "Thu 14 Jan", "On site") == "14:00–20:00"
    assert after.cell(caption, "Thu 14 Jan", "Nobody on site") == (
        "00:00–07:00 no cover planned / 07:00–14:00 gap in planned cover / "
        "20:00–24:00 no cover planned"
    )
    assert after.cell(caption, "Thu 14 Jan", "Hours of gaps in planned cover") == "7 hours"
    assert after.cell("The week at each block", "Stechford", "Of which gaps in planned cover") == (
        "33 hours"  # Monday and Tuesday were never rostered (13 hours each), and Thursday 7
    )


def test_a_rearranged_appointment_leaves_the_list(client, users, rostered, login, clock):
    sergeant = users[Role.SERGEANT]
    held = book(sergeant, "oldbury", local(2027, 1, 14, 9), clock())
    login(Role.COORDINATOR)
    shift = shift_at("oldbury", local(2027, 1, 14, 7))
    client.post(f"/rota/shifts/{shift.id}/remove")
    assert held.reference in page_of(client.get(NEEDS_REARRANGING)).text

    login(Role.SERGEANT)
    form = page_of(client.get(f"/bookings/{held.reference}/rearrange"))
    first = form.radios["slot"][0]
    moved = client.post(f"/bookings/{held.reference}/rearrange", data={"slot": first})
    assert moved.status_code == 302
    db.session.expire_all()
    assert held.worker_id is not None and held.notice_version == 2
    assert "No appointments need rearranging" in page_of(client.get(NEEDS_REARRANGING)).text


# The cover picture ----------------------------------------------------------------------------


def test_the_cover_picture_counts_the_out_of_hours_bookings_each_gap_produced(
    coordinator, users, clock
):
    sergeant = users[Role.SERGEANT]
    slot = local(2027, 1, 14, 10)
    book(sergeant, "stechford", slot, clock(), tested_at=local(2027, 1, 13, 20, 30))
    book(sergeant, "oldbury", slot, clock(), tested_at=local(2027, 1, 13, 20, 50))
    book(sergeant, "bloxwich", slot, clock(), tested_at=local(2027, 1, 13, 2, 0))

    response = coordinator.get("/rota/cover?week=2027-01-13")
    assert response.status_code == 200
    shown = page_of(response)
    caption = "Cover at Stechford by day"
    assert shown.cell(caption, "Wed 13 Jan", "Nobody on site") == (
        "00:00–07:00 no cover planned: 1 booking / 20:00–24:00 no cover planned: 2 bookings"
    )
    assert shown.cell(caption, "Wed 13 Jan", "Out-of-hours bookings") == "3"
    assert shown.cell(caption, "Wed 13 Jan", "Hours on site") == "13 hours"
    assert shown.cell("The week at each block", "Stechford", "Out-of-hours bookings") == "3"
    assert shown.cell("The week at each block", "Oldbury", "Out-of-hours bookings") == "0"
    # In the picture itself the gap carries its count in words, not by colour alone.
    assert ">2 booked</text>" in shown.html
    assert ">Gap</text>" in shown.html  # Monday and Tuesday were never rostered


def test_the_cover_picture_breaks_no_content_security_rule(coordinator):
    shown = page_of(coordinator.get("/rota/cover"))
    assert " style=" not in shown.html
    # Only scripts from files, or the layout's own carrying the request's nonce.
    assert all("src" in script or "nonce" in script for script in shown.scripts)
    assert 'role="img"' in shown.html and "<title id=" in shown.html


@pytest.fixture
def spring_week(client, users, team, login, clock):
    """The week of Good Friday (26 March 2027) and the clocks going forward (Sunday 28)."""
    clock.set_local(2027, 3, 17, 12, 0)
    fill_rota(dt.date(2027, 3, 22), 7)
    login(Role.COORDINATOR)
    return client


def test_the_rota_keeps_07_to_20_local_on_the_day_the_clocks_go_forward(spring_week):
    shown = page_of(spring_week.get("/rota?week=2027-03-22"))
    rows = shown.table("Shifts at each block")
    assert rows[0][5] == "Fri 26 Mar / Bank holiday Good Friday"
    assert rows[0][7] == "Sun 28 Mar Clocks go forward"
    assert shown.cell("Shifts at each block", "Perry Barr", "Sun 28 Mar").endswith("07:00–20:00")
    assert shown.cell("Shifts at each block", "Perry Barr", "Fri 26 Mar").endswith("07:00–20:00")
    assert (
        shown.cell("Shifts at each block", "Stechford", "Fri 26 Mar / Bank holiday Good Friday")
        == "No cover planned"
    )


def test_the_cover_picture_of_a_clock_change_week(spring_week):
    shown = page_of(spring_week.get("/rota/cover?week=2027-03-24"))
    caption = "Cover at Perry Barr by day"
    assert shown.cell(caption, "Sun 28 Mar", "Day") == ("Sun 28 Mar Clocks go forward: 23-hour day")
    assert shown.cell(caption, "Fri 26 Mar", "Day") == "Fri 26 Mar Good Friday"
    assert shown.cell(caption, "Sun 28 Mar", "On site") == "07:00–20:00"
    assert shown.cell(caption, "Sun 28 Mar", "Hours on site") == "13 hours"
    assert shown.cell(caption, "Sun 28 Mar", "Nobody on site") == (
        "00:00–07:00 no cover planned / 20:00–24:00 no cover planned"
    )

    daytime = page_of(spring_week.get("/rota/cover?week=2027-03-22&hours=daytime"))
    assert daytime.cell(caption, "Sun 28 Mar", "Nobody on site") == "None"
    assert daytime.cell(caption, "Sun 28 Mar", "On site") == "07:00–20:00"
    assert daytime.href("Next week") == "/rota/cover?week=2027-03-29&hours=daytime"
    assert ">07:00</text>" in daytime.html and ">20:00</text>" in daytime.html
