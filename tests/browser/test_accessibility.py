"""Every page each role can reach passes axe-core's WCAG 2.0, 2.1 and 2.2 A and AA rules, has a
title of its own, one h1, and a label for every field; so do the forms' error states.

The pages are found, not listed: every GET route of the app without path arguments, and those
whose arguments this test can fill (a booking's reference in each state, a shift, a user), as
each role, so that pages added later are checked without changing this file. Each form on those
pages is then submitted with its fields cleared, and the page that answers is checked too.

The clock is Thursday 14 January 2027, 10:30 in London; the worker has appointments that day.
"""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from booking.appointments import bookings, outcomes
from booking.appointments.slots import SlotRules
from booking.clock import LONDON
from booking.court import suitability
from booking.court.suitability import SuitabilityRequest
from booking.extensions import db
from booking.models import Role
from booking.pathway import on_site, pathways
from tests.browser.conftest import (
    axe_finish,
    axe_start,
    describe_violations,
    settle,
    write_report,
)
from tests.browser.journeys import fill_details, slot_radios
from tests.support import add_courts, add_worker, at
from tests.support import on_site as rostered_at

pytestmark = pytest.mark.browser

THURSDAY = dt.date(2027, 1, 14)
FRIDAY = dt.date(2027, 1, 15)
# Not pages: the JSON API, static files, and answers for machines.
NOT_PAGES = re.compile(r"^/(api|static)/|^/(healthz|readyz|metrics)$|^/sms/|\.(ics|csv|json)$")
ERROR_STATUSES = {403, 404}


@pytest.fixture
def world(users, blocks, clock, book) -> SimpleNamespace:
    """Something on every page: appointments in each state on the worker's day, a colleague,
    a non-attendance for the police list, a follow-up to decide, a cancelled appointment; and
    on Birmingham's court duty list, a case to assess, one assessed and one adjourned; and what
    followed assessments made on site, on the worker's day and on the follow-through list."""
    me = users[Role.WORKER].worker
    colleague = add_worker("Ellie Barnes", blocks["perry-barr"])
    shifts = []
    for day in (THURSDAY, FRIDAY):
        shifts.append(rostered_at(me, blocks["stechford"], at(day, 7), at(day, 20)))
        rostered_at(colleague, blocks["perry-barr"], at(day, 7), at(day, 20))

    attended = book(at(THURSDAY, 9), person_name="Attended Person")
    missed = book(at(THURSDAY, 9, 30), person_name="Missed Person")
    book(at(THURSDAY, 10), person_name="Started Person")  # started, no outcome yet
    later = book(at(FRIDAY, 10), person_name="Later Person", mobile=None, sms_consent=False)
    cancelled = book(at(FRIDAY, 11), block="perry-barr", person_name="Cancelled Person")
    bookings.cancel(cancelled, "Remanded in custody", by=users[Role.SERGEANT], now=clock())
    db.session.commit()

    # The court duty list at Birmingham: one to assess from custody, one completed, one
    # adjourned to Friday with an appointment before it.
    add_courts()
    worker = users[Role.WORKER]
    court_cases = [
        suitability.request(
            SuitabilityRequest(
                court="birmingham-magistrates",
                hearing_date=THURSDAY,
                session=session,
                requested_by="probation",
                setting="custody",
                arrest_block="stechford",
                custody_record=f"20/00{n}000/27",
                person_name=name,
                mobile=None,
                sms_consent=False,
            ),
            by=worker,
            now=clock(),
            allow_test_numbers=True,
        )
        for n, (name, session) in enumerate(
            [("Court Person", "am"), ("Assessed Person", "am"), ("Adjourned Person", "pm")]
        )
    ]
    db.session.commit()

    clock.set(at(THURSDAY, 10, 30))
    outcomes.record_outcome(attended, "attended", by=users[Role.WORKER], now=clock())
    outcomes.record_outcome(missed, "did_not_attend", by=users[Role.WORKER], now=clock())
    _, assessed, adjourned = court_cases
    suitability.record_result(
        assessed,
        drr="suitable",
        atr="not_suitable",
        willing=True,
        completed_at=clock(),
        by=worker,
        now=clock(),
    )
    suitability.adjourn(
        adjourned,
        FRIDAY,
        suitability.Appointment("stechford", at(THURSDAY, 15)),
        by=worker,
        now=clock(),
        rules=SlotRules(),
        lead_working_days=1,
        allow_test_numbers=True,
    )
    db.session.commit()

    # What followed: two seen on site today (one referred and waiting for word of an entry,
    # one with nothing recorded yet), an overdue referral and a case quiet since December.
    referred, _ = [
        on_site.record("stechford", kind, at(THURSDAY, hour), by=worker, now=clock())
        for kind, hour in (("voluntary", 8), ("contact_only", 9))
    ]
    record_pathway(referred, worker, clock(), referred=True, referral_area="sandwell")
    december = at(dt.date(2026, 12, 14), 11)
    overdue, quiet = [
        on_site.record("perry-barr", kind, december, by=worker, now=december)
        for kind in ("required_initial", "contact_only")
    ]
    record_pathway(overdue, worker, december, referred=True, referral_area="unknown")
    record_pathway(quiet, worker, december, naloxone="already_has", harm_reduction=True)
    db.session.commit()
    facts = SimpleNamespace(
        seen_on_site=referred.reference,
        arguments={
            # Booked ahead, concluded (its outcome and follow-up), cancelled.
            "reference": [b.reference for b in (later, attended, cancelled)],
            "shift_id": [shifts[0].id],
            "user_id": [users[Role.WORKER].id],
            # To assess, and concluded.
            "assessment": [court_cases[0].reference, court_cases[1].reference],
        },
    )
    settle()
    return facts


def record_pathway(assessment, by, now: dt.datetime, **changes) -> None:
    if changes.get("referred"):
        changes |= {"referred_on": now.astimezone(LONDON).date(), "entry": "awaiting"}
    pathways.record(pathways.assessment(assessment.reference), changes, by=by, now=now)


def page_urls(app, arguments: dict[str, list]) -> tuple[list[str], list[str]]:
    """The URL of every GET page in the app, with its arguments filled in where they can be;
    and the rules left out because an argument is unknown here."""
    urls, unfilled = [], []
    adapter = app.url_map.bind("127.0.0.1")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or NOT_PAGES.search(rule.rule) or rule.endpoint == "static":
            continue
        if not rule.arguments:
            urls.append(adapter.build(rule.endpoint, {}))
        elif rule.arguments <= arguments.keys():
            for values in _combinations(rule, arguments):
                urls.append(adapter.build(rule.endpoint, values))
        else:
            unfilled.append(rule.rule)
    return urls, unfilled


def _combinations(rule: Rule, arguments: dict[str, list]) -> list[dict]:
    combos = [{}]
    for name in sorted(rule.arguments):
        combos = [{**combo, name: value} for combo in combos for value in arguments[name]]
    return combos


# What every page must have besides axe's rules: one h1, a title of its own, labelled fields.
PAGE_FACTS = """() => {
  const fields = [...document.querySelectorAll('input, select, textarea')].filter((el) =>
    !['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type));
  const unlabelled = fields.filter((el) =>
    !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
    && !el.getAttribute('aria-labelledby'));
  return {
    title: document.title,
    h1: document.querySelectorAll('h1').length,
    unlabelled: unlabelled.map((el) => el.outerHTML.slice(0, 120)),
  };
}"""

# Forms with fields a person fills in (not a lone button) and a visible button to send them.
FILLABLE_FORMS = """() => [...document.forms].map((form, index) => {
  const fields = [...form.elements].filter((el) =>
    !['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type)
    && el.tagName !== 'BUTTON' && !el.disabled && el.checkVisibility());
  const submit = form.querySelector('button:not([type=button]), input[type=submit]');
  return {
    index,
    fillable: fields.length > 0 && !!submit && submit.checkVisibility(),
    method: form.method.toUpperCase(),
    action: new URL(form.action, location.href).pathname,
    names: [...new Set(fields.map((el) => el.name).filter(Boolean))].sort().join(','),
  };
}).filter((form) => form.fillable)"""

CLEAR_FORM = """(form) => {
  for (const el of form.elements) {
    if (['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type) || el.readOnly) continue;
    if (el.type === 'radio' || el.type === 'checkbox') el.checked = false;
    else if (el.tagName === 'SELECT') {
      const empty = [...el.options].findIndex((option) => option.value === '');
      if (empty >= 0) el.selectedIndex = empty;
    } else el.value = '';
  }
}"""


class Sweep:
    """Checks pages as one role and collects what is wrong, to report it all at once.

    Pages load in a few tabs of the role's browser in turn: while axe-core works on one tab's
    page, the next tab loads and is checked.
    """

    TABS = 3

    def __init__(self, app, page, role_name: str):
        # axe-core is in every page of the context from the start: no injection per page.
        page.context.add_init_script(AXE_SCRIPT)
        self.tabs = [page] + [page.context.new_page() for _ in range(self.TABS - 1)]
        self.turn = 0
        self.running: dict[int, str] = {}  # tab -> where axe is running in it
        self.role_name = role_name
        self.adapter = app.url_map.bind("127.0.0.1")
        self.checked: list[str] = []
        self.problems: list[str] = []
        self.titles: dict[str, str] = {}  # title -> the page (endpoint) that has it
        self.seen: set[str] = set()
        self.forms: dict[str, tuple[str, int]] = {}  # kind of form -> (page URL, index)

    def next_tab(self):
        """The next tab, free to load another page (its last page's axe results collected)."""
        self.turn = (self.turn + 1) % len(self.tabs)
        self.finish(self.turn)
        return self.tabs[self.turn]

    def finish(self, tab: int | None = None) -> None:
        """Collect axe's results in one tab, or in all of them."""
        for index in [tab] if tab is not None else list(self.running):
            where = self.running.pop(index, None)
            if where is not None:
                found = describe_violations(where, axe_finish(self.tabs[index]))
                self.problems += [f"[{self.role_name}] {line}" for line in found]

    def visit(self, url: str) -> None:
        """Check the page at `url` (or the page it sends the browser to)."""
        tab = self.next_tab()
        response = tab.goto(url)
        if "text/html" in (response.headers.get("content-type", "") if response else ""):
            self.check(tab, response.status, f"GET {url}")

    def check(self, tab, status: int, how: str, wait: bool = False) -> None:
        """Check the page a tab shows now (once per page and state); axe runs on in the tab
        unless told to wait."""
        path = urlsplit(tab.url).path
        page_key = f"status {status}" if status in ERROR_STATUSES else self._endpoint(path)
        # The query string (a "next" after sign-in) changes neither the page nor its state.
        signature = page_key if status in ERROR_STATUSES else f"{path} {tab.title()}"
        if signature in self.seen:
            return
        self.seen.add(signature)
        self.checked.append(f"{status} {tab.url} ({how})")
        where = f"[{self.role_name}] {tab.url} ({how})"
        if status >= 500:
            self.problems.append(f"{where}: answered {status}")
        facts = tab.evaluate(PAGE_FACTS)
        if facts["h1"] != 1:
            self.problems.append(f"{where}: {facts['h1']} h1 elements, not one")
        for field in facts["unlabelled"]:
            self.problems.append(f"{where}: a field without a label: {field}")
        title = facts["title"].removeprefix("Error: ")
        if not title.split(" – ")[0].strip():
            self.problems.append(f"{where}: no page title of its own: {facts['title']!r}")
        owner = self.titles.setdefault(title, page_key)
        if owner != page_key:
            self.problems.append(f"{where}: title {title!r} is also the title of {owner}")
        if status not in ERROR_STATUSES:
            for form in tab.evaluate(FILLABLE_FORMS):
                action = self._endpoint(form["action"], form["method"])
                kind = f"{form['method']} {action} ({form['names']})"
                self.forms.setdefault(kind, (tab.url, form["index"]))
        axe_start(tab)
        self.running[self.tabs.index(tab)] = f"{tab.url} ({how})"
        if wait:
            self.finish(self.tabs.index(tab))

    def _endpoint(self, path: str, method: str = "GET") -> str:
        try:
            endpoint, _ = self.adapter.match(path, method=method)
        except HTTPException:
            return path
        return endpoint

    def try_forms(self) -> None:
        """Send each kind of form with its fields cleared, and check the page that answers."""
        for kind, (url, index) in self.forms.items():
            tab = self.next_tab()
            tab.goto(url)
            form = tab.locator("form").nth(index)
            if not form.count():
                continue  # the page changed since (a form sent before this one)
            form.evaluate(CLEAR_FORM)
            with tab.expect_navigation() as navigation:
                form.locator("button:not([type=button]), input[type=submit]").first.click()
            response = navigation.value
            self.check(tab, response.status if response else 0, f"{kind} cleared")
        self.finish()

    def report(self) -> str:
        return f"{len(self.checked)} pages checked as {self.role_name}:\n" + "\n".join(self.checked)


ROLES = [None, *Role]


@pytest.mark.parametrize("role", ROLES, ids=[str(role or "anonymous") for role in ROLES])
def test_every_page_a_role_can_reach_has_no_accessibility_violations(
    app, open_page, world, role, request
):
    role_name = str(role or "anonymous")
    urls, unfilled = page_urls(app, world.arguments)
    page = open_page(role)
    sweep = Sweep(app, page, role_name)
    for url in urls:
        sweep.visit(url)
    sweep.visit("/no-such-page")
    sweep.finish()

    if role in (Role.SERGEANT, Role.WORKER, Role.COORDINATOR):
        # The booking steps after the first need a draft: record a test, then choose nothing.
        page.goto("/bookings/new")
        fill_details(page, tested_time="09:45")
        with page.expect_navigation():
            page.get_by_role("button", name="Continue").click()
        sweep.check(page, 200, "details recorded", wait=True)
        with page.expect_navigation() as answer:
            page.get_by_role("button", name="Continue").click()
        sweep.check(page, answer.value.status, "no slot chosen", wait=True)
        slot_radios(page).first.check()
        with page.expect_navigation():
            page.get_by_role("button", name="Continue").click()
        sweep.check(page, 200, "slot chosen", wait=True)

    if role in (Role.WORKER, Role.COORDINATOR):
        # What followed, with every part an answer opens shown; then refused, with errors.
        page.goto(f"/pathway/{world.seen_on_site}")
        page.get_by_role("group", name="Did the person enter treatment?").get_by_label(
            "Entered treatment"
        ).check()
        page.get_by_role("group", name="Is the case closed?").get_by_label("Yes").check()
        sweep.check(page, 200, "every part open", wait=True)
        with page.expect_navigation() as answer:
            page.get_by_role("button", name="Save", exact=True).click()
        sweep.check(page, answer.value.status, "refused", wait=True)

    sweep.try_forms()

    notes = [f"Routes not checked (an argument this test cannot fill): {unfilled or 'none'}"]
    problems = ["Problems:", *sweep.problems] if sweep.problems else ["No problems."]
    write_report(request.config, role_name, "\n".join([sweep.report(), *notes, *problems]) + "\n")
    print(sweep.report())
    assert len(sweep.checked) >= 2
    assert sweep.problems == [], f"{len(sweep.problems)} problems:\n" + "\n".join(sweep.problems)


def test_the_check_finds_violations_when_there_are_some(app, open_page, users):
    """The sweep's instruments work: a page spoiled on purpose fails them."""
    page = open_page(Role.SERGEANT)
    sweep = Sweep(app, page, "sergeant")
    page.goto("/bookings")
    page.evaluate(
        """() => {
          document.querySelector('main').insertAdjacentHTML('beforeend',
            '<img src="/static/favicon.svg"><input type="text" name="stray"><h1>Second</h1>'
            + '<input type="radio" id="odd" aria-expanded="false"><label for="odd">Odd</label>');
        }"""
    )
    sweep.check(page, 200, "spoiled", wait=True)
    found = "\n".join(sweep.problems)
    assert "image-alt" in found
    assert re.search(r"\blabel\b", found)
    assert "2 h1 elements" in found
    assert "aria-allowed-attr" in found and "#odd" in found
    assert 'a field without a label: <input type="text" name="stray">' in found
