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


def book(
    user,
    now: dt.datetime,
    block_code: str | None = None,
    after: dt.datetime | None = None,
    **changes,
):
    """The earliest free slot (at a block, after a time, if given), booked through the one
    write path."""
    codes = [block_code] if block_code else None
    slot = free_slots(SlotRules(), now, after=after, block_codes=codes)[0]
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


# What a person can act on ---------------------------------------------------------------------


def book_days_ahead(user, now: dt.datetime, days: int, **changes):
    """A booking at the first free slot `days` after now, so that its reminders are ahead."""
    return book(user, now, after=now + dt.timedelta(days=days), **changes)


def test_the_notice_says_whom_to_call_where_to_go_how_long_and_who_issued_it(
    app, rostered, sergeant, clock
):
    booking = book(sergeant, clock(), "oldbury")
    html = notice_html(app, booking)
    for expected in (
        "Call the arrest referral service on 0121 496 0000",
        "Oldbury police station",
        "Bromford Road reception",  # the entrance, as the texts name it
        "It takes up to 30 minutes",
        "What to bring",
        "An interpreter",
        f"by {sergeant.name}, West Midlands Police",
    ):
        assert expected in html, expected


def test_the_notice_promises_the_reminders_that_will_go_and_when(app, rostered, sergeant, clock):
    booking = book_days_ahead(sergeant, clock(), 3)
    html = notice_html(app, booking)
    assert "We will also send you a text message reminder at 18:00 on" in html
    assert "You will not get a text message reminder" not in html


@pytest.mark.parametrize(
    "changes",
    [{"sms_consent": False}, {"mobile": None, "sms_consent": False}],
    ids=["no consent", "no mobile"],
)
def test_the_notice_promises_no_reminder_when_none_will_go(app, rostered, sergeant, clock, changes):
    booking = book_days_ahead(sergeant, clock(), 3, **changes)
    html = notice_html(app, booking)
    assert "You will not get a text message reminder" in html
    assert "send you a text message reminder" not in html


def test_booked_too_late_for_any_reminder_the_notice_promises_none(app, rostered, sergeant, clock):
    # Wednesday 21:00 for Thursday 07:00: 18:00 has passed and 05:00 is in the quiet hours.
    booking = book(sergeant, clock())
    assert booking.starts_at.astimezone(LONDON).hour == 7
    assert "You will not get a text message reminder" in notice_html(app, booking)


def test_a_disputed_result_notice_says_what_a_negative_laboratory_result_means(
    app, rostered, sergeant, clock
):
    disputed = book_days_ahead(sergeant, clock(), 8, disputed=True)
    shown = " ".join(notice_html(app, disputed).split())
    assert "If the laboratory finds no cocaine or opiates in it, this requirement ends" in shown
    plain = book(sergeant, clock())
    assert "laboratory" not in notice_html(app, plain)


def test_a_cancelled_appointments_page_is_a_cancellation_notice(app, rostered, sergeant, clock):
    booking = book(sergeant, clock())
    bookings.cancel(booking, "Released without charge", by=sergeant, now=clock())
    db.session.commit()
    html = notice_html(app, booking)
    assert "Your appointment is cancelled" in html
    assert "You do not need to attend this appointment" in html
    assert "Print this cancellation" in html
    for gone in ("Print this notice", "You must attend", OFFENCE, "text message reminder"):
        assert gone not in html, gone


def test_the_service_does_not_start_without_its_phone_number(monkeypatch):
    import config
    from booking import create_app

    monkeypatch.setattr(config.TestConfig, "SERVICE_PHONE", None)
    with pytest.raises(RuntimeError, match="SERVICE_PHONE"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_the_service_does_not_start_with_a_phone_number_too_long_for_a_text(monkeypatch):
    import config
    from booking import create_app

    monkeypatch.setattr(config.TestConfig, "SERVICE_PHONE", "+44 121 496 0000 ext 12")
    with pytest.raises(RuntimeError, match="would not fit one text message"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
