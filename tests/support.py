"""Test set-up, made once: times, the places, people, rota and bookings a test needs, signing
in, the API's bearer token and booking body, and reading an HTML page."""

from __future__ import annotations

import dataclasses
import datetime as dt
from html.parser import HTMLParser

from sqlalchemy import func, select

from booking import audit, clock
from booking.accounts.users import create_user
from booking.appointments import bookings
from booking.appointments.slots import SlotRules
from booking.clock import LONDON
from booking.demo.load import BLOCKS, COURTS, DAY_END, DAY_START, TEAM, WEEKDAYS, WEEKEND, court
from booking.extensions import db
from booking.models import AuditEvent, Block, Booking, CoverRule, Role, Shift, User, Worker
from booking.rota import generate as rota

PASSWORD = "correct horse battery"

# Time -------------------------------------------------------------------------------------------


def utc(*args) -> dt.datetime:
    """A UTC instant from year, month, day, hour, ..."""
    return dt.datetime(*args, tzinfo=dt.UTC)


def local(*args) -> dt.datetime:
    """A London wall-clock time from year, month, day, hour, ..., as a UTC instant."""
    return dt.datetime(*args, tzinfo=LONDON).astimezone(dt.UTC)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A London wall-clock time on `day`, as a UTC instant."""
    return local(day.year, day.month, day.day, hour, minute)


# The database -----------------------------------------------------------------------------------


def trail() -> list[AuditEvent]:
    """The audit trail, oldest first, less the account changes that set-up makes (the test
    users created and their tokens issued)."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.not_in(audit.ACCOUNT_ACTIONS))
            .order_by(AuditEvent.id)
        )
    )


def count(model) -> int:
    """How many rows the model's table holds."""
    return db.session.scalar(select(func.count()).select_from(model))


# Places, people and the rota --------------------------------------------------------------------


DEMO_BLOCKS = {row[0]: row for row in BLOCKS}


def demo_block(code: str) -> Block:
    """A demo block by its code, not yet in the database and with no cover rules."""
    _code, name, address, venue, short_address, high_activity = DEMO_BLOCKS[code]
    return Block(
        code=code,
        name=name,
        address=address,
        venue_label=venue,
        short_address=short_address,
        high_activity=high_activity,
        timezone="Europe/London",
    )


def add_blocks() -> dict[str, Block]:
    """The six demo blocks with their cover rules (07:00-20:00; weekends at three), by code."""
    created = {}
    for code in DEMO_BLOCKS:
        block = demo_block(code)
        days = list(WEEKDAYS) + (list(WEEKEND) if block.high_activity else [])
        block.cover_rules = [CoverRule(weekday=d, starts=DAY_START, ends=DAY_END) for d in days]
        db.session.add(block)
        created[code] = block
    db.session.commit()
    return created


def add_courts() -> dict[str, Block]:
    """The demo's magistrates' courts with their court duty rules (09:00-17:00, Monday to
    Friday), by code."""
    created = {row[0]: court(row) for row in COURTS}
    db.session.add_all(created.values())
    db.session.commit()
    return created


def add_worker(name: str, home_block: Block) -> Worker:
    """A worker with no sign-in."""
    worker = Worker(name=name, home_block=home_block)
    db.session.add(worker)
    db.session.commit()
    return worker


def add_team(blocks: dict[str, Block]) -> list[Worker]:
    """The demo team, each at their home block."""
    workers = [Worker(name=name, home_block=blocks[code]) for name, code in TEAM]
    db.session.add_all(workers)
    db.session.commit()
    return workers


def on_site(
    worker: Worker, block: Block, starts_at: dt.datetime, ends_at: dt.datetime, **fields
) -> Shift:
    """A shift put in by hand (not generated), committed."""
    shift = Shift(
        worker=worker, block=block, starts_at=starts_at, ends_at=ends_at, generated=False, **fields
    )
    db.session.add(shift)
    db.session.commit()
    return shift


def fill_rota(start: dt.date, days: int) -> int:
    """The generated rota for `days` local days from `start`, committed; how many shifts it
    made."""
    created = rota.generate(start, start + dt.timedelta(days=days - 1), now=clock.now())
    db.session.commit()
    return created


def email_of(role: Role) -> str:
    """The sign-in of the test user of a role."""
    return f"{role}@test.example"


def add_user(role: Role, now: dt.datetime) -> User:
    """The test user of a role (based at Stechford), with PASSWORD."""
    return create_user(
        email_of(role), role, PASSWORD, now=now, name=f"Test {role}", block_code="stechford"
    )


# Bookings ---------------------------------------------------------------------------------------

# Another sergeant's detainee, for bookings that are not the one a test follows.
ANOTHER_PERSON = dict(
    custody_record="20/999999/27",
    person_name="Another Person",
    mobile=None,
    sms_consent=False,
    test_result="opiates",
    arrest_block="oldbury",
)


def details(now: dt.datetime, **changes) -> bookings.BookingDetails:
    """A sergeant's record of Jamie Testperson's test, taken 45 minutes before `now`."""
    values = dict(
        custody_record="20/123456/27",
        person_name="Jamie Testperson",
        mobile="07700 900123",
        sms_consent=True,
        requirement="initial",
        test_result="cocaine",
        tested_at=now - dt.timedelta(minutes=45),
        disputed=False,
        arrest_block="stechford",
    )
    return dataclasses.replace(bookings.BookingDetails(**values), **changes)


def book(
    by: User,
    block: str,
    starts_at: dt.datetime,
    now: dt.datetime,
    commit: bool = True,
    **changes,
) -> Booking:
    """A booking through the domain's one write path: details(now) with the changes given."""
    booking = bookings.book(
        details(now, **changes),
        block,
        starts_at,
        by=by,
        now=now,
        rules=SlotRules(),
        allow_test_numbers=True,
    )
    if commit:
        db.session.commit()
    return booking


# Booking through the pages ---------------------------------------------------------------------


def details_form(**changes) -> dict:
    """The form of the first booking page, filled in for Jamie Testperson."""
    form = {
        "arrest_block": "stechford",
        "custody_record": "20/123456/27",
        "person_name": "Jamie Testperson",
        "test_result": "cocaine",
        "tested_on": ["13", "1", "2027"],
        "tested_time": "20:15",
        "disputed": "no",
        "requirement": "initial",
        "mobile": "07700 900123",
        "sms_consent": "yes",
    }
    form.update(changes)
    return form


def record_test(client, **changes):
    """Post the first booking page."""
    return client.post("/bookings/new", data=details_form(**changes))


def choose_first_slot(client) -> str:
    """Choose the first slot offered; its value."""
    value = page_of(client.get("/bookings/new/slot")).radios["slot"][0]
    response = client.post("/bookings/new/slot", data={"slot": value})
    assert response.status_code == 302
    assert response.headers["Location"] == "/bookings/new/check"
    return value


def book_through_pages(client, **changes) -> str:
    """Record (with the changes to the form), choose the first slot, confirm (going on past
    any warning of a live booking for the same person); the new booking's reference."""
    assert record_test(client, **changes).status_code == 302
    choose_first_slot(client)
    response = client.post("/bookings/new/check", data={"book_anyway": "y"})
    assert response.status_code == 302
    return response.headers["Location"].rsplit("/", 1)[1]


# Signing in and the API -------------------------------------------------------------------------


def sign_in(client, role: Role, password: str = PASSWORD):
    """Sign a test client in as the test user of a role; the response to the form."""
    return client.post("/login", data={"email": email_of(role), "password": password})


def signed_in(client, role: Role):
    """The client, signed in as the test user of a role; the sign-in must succeed."""
    response = sign_in(client, role)
    assert response.status_code == 302, f"{role} could not sign in"
    return client


def auth(token: str) -> dict[str, str]:
    """The headers of an API request with a bearer token."""
    return {"Authorization": f"Bearer {token}"}


def booking_body(slot: dict, **changes) -> dict:
    """A valid API booking body for a slot the API offered."""
    body = {
        "block": slot["block"],
        "starts_at": slot["starts_at"],
        "custody_record": "20/123456/27",
        "person_name": "Jamie Testperson",
        "mobile": "07700 900123",
        "sms_consent": True,
        "requirement": "initial",
        "test_result": "cocaine",
        "tested_at": "2027-01-13T20:15:00+00:00",
        "disputed": False,
        "arrest_block": "stechford",
    }
    body.update(changes)
    return body


# Reading a page ---------------------------------------------------------------------------------


def _words(parts: list[str]) -> str:
    return " ".join("".join(parts).split())


class Page(HTMLParser):
    """What a test reads off a page (or a part of one): its title and words (`text`: tags and
    runs of white space made one space), elements by id, form fields (radios
    and their labels, values, selections), links and the error summary's, tables, charts,
    inline styles and scripts."""

    def __init__(self, html: str):
        super().__init__()
        self.html = html
        self.title = ""
        self.ids: dict[str, dict] = {}
        self.radios: dict[str, list[str]] = {}
        self.labels: dict[str, str] = {}
        self.values: dict[str, str] = {}
        self.selected: dict[str, str] = {}
        self.links: list[tuple[str | None, str]] = []
        self.error_links: list[tuple[str | None, str]] = []
        self.tables: dict[str, list[list[str]]] = {}  # by id, else "table-N"
        self.captions: dict[str, str] = {}  # by the same key
        self.svgs: list[dict] = []
        self.styled: list[str] = []
        self.scripts: list[dict] = []
        self._open: list[list[str]] = []  # text being collected, innermost last
        self._all: list[str] = []  # every piece of text, a space for every tag between
        self._title: list[str] | None = None
        self._title_seen = False
        self._label: tuple[str, list[str]] | None = None
        self._select: str | None = None
        self._in_summary = False
        self._table: str | None = None
        self._caption: list[str] | None = None
        self._cell: list[str] | None = None
        self._anchors: list[tuple[str | None, list[str]]] = []
        self._svg: dict | None = None
        self._svg_text: tuple[str, str | None, list[str]] | None = None
        self.feed(html)
        self.text = _words(self._all)

    @property
    def inline_scripts(self) -> list[str | None]:
        """The nonce of each script written into the page."""
        return [script.get("nonce") for script in self.scripts if "src" not in script]

    def radio_labels(self, name: str) -> list[str]:
        """The labels of a radio group's options, in order (GOV.UK ids: NAME, NAME-2, ...)."""
        count = len(self.radios.get(name, []))
        ids = [name] + [f"{name}-{n}" for n in range(2, count + 1)]
        return [self.labels[item] for item in ids]

    def figures(self, table_id: str) -> dict[str, str]:
        """A two-column table of figures: {label (without its hint): value}."""
        rows = self.tables[table_id][1:]
        return {label: value for label, value in rows}

    def table(self, caption_start: str) -> list[list[str]]:
        """The rows (header row first) of the table whose caption starts so."""
        for key, caption in self.captions.items():
            if caption.startswith(caption_start):
                return self.tables[key]
        raise AssertionError(f"no table captioned {caption_start!r} in {list(self.captions)}")

    def cell(self, caption_start: str, row: str, column: str) -> str:
        """A cell of a captioned table, by the starts of its row's and its column's headers."""
        rows = self.table(caption_start)
        index = next(n for n, header in enumerate(rows[0]) if header.startswith(column))
        for cells in rows[1:]:
            if cells[0].startswith(row):
                return cells[index]
        raise AssertionError(f"no row {row!r} in {caption_start!r}")

    def href(self, text: str) -> str:
        """Where the first link whose text starts so goes."""
        for href, link_text in self.links:
            if link_text.startswith(text):
                return href
        raise AssertionError(f"no link {text!r}")

    def _collect(self) -> list[str]:
        bucket: list[str] = []
        self._open.append(bucket)
        return bucket

    def _close(self, bucket: list[str]) -> str:
        # By identity: two buckets holding the same text are still two.
        self._open = [open_bucket for open_bucket in self._open if open_bucket is not bucket]
        return _words(bucket)

    def handle_starttag(self, tag, attrs):
        self._all.append(" ")
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if "id" in attrs:
            self.ids[attrs["id"]] = {"tag": tag, **attrs}
        if "style" in attrs:
            self.styled.append(tag)
        if tag == "style":
            self.styled.append("style element")
        elif tag == "script":
            self.scripts.append(attrs)
        elif tag == "input":
            if "id" in attrs:
                self.values[attrs["id"]] = attrs.get("value") or ""
            if attrs.get("type") == "radio":
                self.radios.setdefault(attrs["name"], []).append(attrs["value"])
        elif tag == "label" and "for" in attrs:
            self._label = (attrs["for"], self._collect())
        elif tag == "select":
            self._select = attrs.get("name")
        elif tag == "option" and "selected" in attrs and self._select:
            self.selected[self._select] = attrs.get("value") or ""
        elif tag == "title" and self._svg is None and not self._title_seen:
            self._title = self._collect()
        elif tag == "div" and "govuk-error-summary" in classes:
            self._in_summary = True
        elif tag == "table":
            self._table = attrs.get("id", f"table-{len(self.tables)}")
            self.tables[self._table] = []
        elif tag == "caption" and self._table is not None:
            self._caption = self._collect()
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("th", "td") and self._table is not None:
            self._cell = self._collect()
        elif tag == "a":
            self._anchors.append((attrs.get("href"), self._collect()))
        elif tag == "br":
            for bucket in self._open:
                bucket.append(" / ")
        elif tag == "svg":
            self._svg = {"attrs": attrs, "texts": [], "rects": [], "patterns": [], "titles": {}}
        if self._svg is not None:
            if tag in ("text", "title", "desc"):
                self._svg_text = (tag, attrs.get("id"), self._collect())
            elif tag == "rect":
                self._svg["rects"].append(attrs)
            elif tag == "pattern":
                self._svg["patterns"].append(attrs["id"])

    def handle_startendtag(self, tag, attrs):
        # <rect/>, <input/>, <br/>: nothing to close.
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        self._all.append(" ")
        if tag == "title" and self._title is not None:
            self.title = self._close(self._title)
            self._title = None
            self._title_seen = True  # only the page's own title, not an SVG's
        elif tag == "label" and self._label is not None:
            label_for, bucket = self._label
            self.labels[label_for] = self._close(bucket)
            self._label = None
        elif tag == "select":
            self._select = None
        elif tag == "ul":
            self._in_summary = False
        elif tag == "caption" and self._caption is not None and self._table is not None:
            self.captions[self._table] = self._close(self._caption)
            self._caption = None
        elif tag in ("th", "td") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append(self._close(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "a" and self._anchors:
            href, bucket = self._anchors.pop()
            text = self._close(bucket)
            self.links.append((href, text))
            if self._in_summary and href:
                self.error_links.append((href, text))
        if self._svg is not None and self._svg_text is not None and tag == self._svg_text[0]:
            _, text_id, bucket = self._svg_text
            text = self._close(bucket)
            if tag == "text":
                self._svg["texts"].append(text)
            else:
                self._svg[tag] = text
                self._svg["titles"][text_id] = text
            self._svg_text = None
        if tag == "svg" and self._svg is not None:
            self.svgs.append(self._svg)
            self._svg = None

    def handle_data(self, data):
        self._all.append(data)
        for bucket in self._open:
            bucket.append(data)


def page_of(response) -> Page:
    """The page a test client's response holds."""
    return Page(response.get_data(as_text=True))
