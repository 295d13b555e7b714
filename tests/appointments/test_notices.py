"""The written notice: what the law requires the person to be told, printable, and recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from booking.appointments import bookings
from booking.appointments.notices import render_notice
from booking.appointments.slots import SlotRules, free_slots
from booking.clock import LONDON
from booking.extensions import db
from booking.models import AuditEvent, Role
from tests import support
from tests.support import fill_rota

OFFENCE = "you commit an offence. You could be fined, sent to prison for up to three months"


def book(user, now: dt.datetime, block_code: str | None = None, **changes):
    """The earliest free slot (at a block, if given), booked through the one write path."""
    slot = free_slots(SlotRules(), now, block_codes=[block_code] if block_code else None)[0]
    return support.book(user, slot.block.code, slot.starts_at, now, **changes)


@pytest.fixture
def sergeant(users):
    return users[Role.SERGEANT]


def notice_html(app, booking) -> str:
    with app.test_request_context():
        return render_notice(booking)


def test_the_notice_says_who_when_where_and_that_attendance_is_required_by_law(
    app, rostered, sergeant, clock
):
    booking = book(sergeant, clock(), "oldbury")
    html = notice_html(app, booking)
    for expected in (
        "Jamie Testperson",
        "20/123456/27",
        "07:00 on Thursday 14 January 2027",
        "Oldbury",
        "Bromford Road, Oldbury",
        booking.reference,
        "Version 1, issued on Wednesday 13 January 2027 at 21:00",
        "Notice to attend an initial assessment",
        "required by law",
        "Drugs Act 2005 (section 9)",
        "You must stay until the assessment is finished",
        "without good cause",
        OFFENCE,
    ):
        assert expected in html
    assert "replaces all earlier notices" not in html


def test_a_rearranged_notice_replaces_the_earlier_ones(app, rostered, sergeant, clock):
    booking = book(sergeant, clock(), "oldbury")
    later = free_slots(SlotRules(), clock(), block_codes=["coventry"])[0]
    bookings.rearrange(
        booking, "coventry", later.starts_at, by=sergeant, now=clock(), rules=SlotRules()
    )
    db.session.commit()
    html = notice_html(app, booking)
    assert "Version 2" in html
    assert "This notice replaces all earlier notices about this appointment" in html
    assert "The time and place on this notice are the ones that count" in html
    assert "Little Park Street, Coventry" in html
    assert "Bromford Road" not in html
    assert OFFENCE in html, "a further notice repeats the warning"


def test_a_follow_up_notice_cites_section_10(app, rostered, users, clock):
    booking = book(users[Role.WORKER], clock(), requirement="follow_up")
    html = notice_html(app, booking)
    assert "Notice to attend a follow-up assessment" in html
    assert "Drugs Act 2005 (section 10)" in html


def test_a_voluntary_appointment_carries_no_legal_warning(app, rostered, sergeant, clock):
    booking = book(sergeant, clock(), requirement="voluntary", test_result="negative")
    html = notice_html(app, booking)
    assert "voluntary assessment" in html
    assert "not a legal" in html
    assert OFFENCE not in html


def test_the_notice_shows_london_time_in_summer(app, team, sergeant, clock):
    clock.set_local(2027, 6, 9, 21, 0)  # a Wednesday evening in British Summer Time
    fill_rota(dt.date(2027, 6, 9), 3)
    booking = book(sergeant, clock(), "stechford")
    assert booking.starts_at == dt.datetime(2027, 6, 10, 6, 0, tzinfo=dt.UTC)
    html = notice_html(app, booking)
    assert "07:00 on Thursday 10 June 2027" in html
    assert booking.starts_at.astimezone(LONDON).hour == 7


def test_a_cancelled_appointments_notice_says_it_no_longer_applies(app, rostered, sergeant, clock):
    booking = book(sergeant, clock())
    bookings.cancel(booking, "Released without charge", by=sergeant, now=clock())
    db.session.commit()
    assert "This notice no longer applies" in notice_html(app, booking)


def test_the_notice_page_is_printable_and_its_printing_is_recorded(
    client, login, rostered, sergeant, clock
):
    booking = book(sergeant, clock())
    login(Role.SERGEANT)
    response = client.get(f"/bookings/{booking.reference}/notice")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Written notice {booking.reference}" in html
    assert "Print this notice" in html
    # The site's chrome is marked to stay off the paper; the notice itself is not.
    assert 'class="govuk-back-link app-no-print"' in html
    assert '<div class="app-no-print">' in html
    assert '<article class="app-notice"' in html
    assert "onclick" not in html
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.reference == booking.reference)
    ).all()
    assert actions == ["created", "notice_printed"]


def test_the_notice_is_rendered_from_the_latest_notice_version(app, rostered, sergeant, clock):
    booking = book(sergeant, clock(), "oldbury")
    later = free_slots(SlotRules(), clock(), block_codes=["perry-barr"])[0]
    clock.set(clock() + dt.timedelta(minutes=10))
    bookings.rearrange(
        booking, "perry-barr", later.starts_at, by=sergeant, now=clock(), rules=SlotRules()
    )
    db.session.commit()
    html = notice_html(app, booking)
    assert [notice.version for notice in booking.notices] == [1, 2], "every version is kept"
    assert "Version 2, issued on Wednesday 13 January 2027 at 21:10" in html
    assert "Holford Drive, Perry Barr, Birmingham" in html
    assert "Bromford Road" not in html


def test_the_api_returns_the_same_notice(app, client, rostered, sergeant, tokens, clock):
    booking = book(sergeant, clock(), "oldbury")
    response = client.get(
        f"/api/v1/bookings/{booking.reference}/notice",
        headers={"Authorization": f"Bearer {tokens[Role.SERGEANT]}"},
    )
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    article = html[html.index('<article class="app-notice"') : html.index("</article>")]
    assert article in notice_html(app, booking)
    assert "Notice to attend an initial assessment" in article
