"""A real browser against the real app: Debian's Chromium driven by Playwright, the app served
on loopback by werkzeug in a thread, on the database the other tests use (built by the
migrations), with the frozen clock of `app.config["CLOCK"]`.

The server thread shares the test's app object, so the clock the test sets is the clock the pages
read. On SQLite every transaction takes the write lock at BEGIN: the test commits what it wrote
(`settle()`) before the browser makes a request, or the request waits for the test.

Without Chromium at /usr/bin/chromium (browsers cannot be downloaded here) the whole folder is
skipped with that reason; `apt-get install chromium` brings it.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from booking.extensions import db
from booking.models import Booking, Role
from tests.support import PASSWORD, count, email_of

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SKIP_REASON = f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)"
HERE = Path(__file__).resolve().parent
TAKEN: list[Path] = []  # the screenshot folders written in this run
REPORTS: list[Path] = []  # the accessibility reports written in this run
# Long enough for a slow CI machine, short enough that a missing element fails the test quickly.
TIMEOUT_MS = 10_000
GOVUK_YELLOW = "rgb(255, 221, 0)"
# axe-core rule tags: WCAG 2.0, 2.1 and 2.2 at levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


# Collection: the whole folder skipped without Chromium -------------------------------------------


def _in_this_folder(item: pytest.Item) -> bool:
    return HERE in Path(item.path).resolve().parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if _in_this_folder(item):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    write = terminalreporter.write_line
    if TAKEN or REPORTS:
        terminalreporter.write_sep("-", "browser tests")
    if TAKEN:
        write(f"Screenshots of the journeys' key pages: {TAKEN[0].parent}")
    if REPORTS:
        write(f"Pages checked for accessibility, by role: {REPORTS[0].parent}")
    if not CHROMIUM.exists() and terminalreporter.stats.get("skipped"):
        terminalreporter.write_sep("-", "browser tests")
        write(SKIP_REASON)


def screenshots_root(config: pytest.Config) -> Path:
    return Path(config.rootpath) / "test-results" / "screenshots"


def write_report(config: pytest.Config, name: str, text: str) -> Path:
    """A text report kept beside the screenshots (test-results/ is kept by CI)."""
    path = Path(config.rootpath) / "test-results" / "accessibility" / f"{name}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    REPORTS.append(path)
    return path


# The browser and the server --------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium():
    """One Chromium for the session; each test opens its own contexts (fresh cookies)."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


class QuietHandler(WSGIRequestHandler):
    """No access log lines in the test output: failures show what the test saw instead."""

    def log_request(self, code="-", size="-") -> None:
        pass


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app served on a free loopback port, in a thread; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    settle()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def settle() -> None:
    """End the test's own transaction, so that the server's requests are not kept waiting."""
    db.session.commit()


# Pages -------------------------------------------------------------------------------------------


class Problems:
    """What the browser reported that a user would not see but a developer must: script errors
    and console errors (a CSP refusal, a style sheet or script that failed to load)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def watch(self, page) -> None:
        page.on("pageerror", lambda error: self.seen.append(f"{page.url}: script error {error}"))
        page.on(
            "console",
            lambda message: (
                self.seen.append(f"{page.url}: console {message.type}: {message.text}")
                if message.type == "error" and not _refused_page(message)
                else None
            ),
        )


def _refused_page(message) -> bool:
    """A page answered 400, 403, 404 or 409 (a form refused, a page not allowed): what the test
    asked for, not a fault. A style sheet, script or image that failed to load is one."""
    refused = re.search(r"status of (400|403|404|409)\b", message.text)
    resource = urlsplit(message.location.get("url", "")).path
    return bool(refused) and not resource.startswith("/static/")


@pytest.fixture
def open_page(chromium, live_server) -> Iterator[Callable]:
    """open_page(role=None, **context_options): a new page in a context of its own, signed in
    through the sign-in form as that role's test user when a role is given."""
    contexts = []
    problems = Problems()

    def open_(role: Role | None = None, **options):
        options.setdefault("base_url", live_server)
        options.setdefault("locale", "en-GB")
        options.setdefault("timezone_id", "Europe/London")
        context = chromium.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        context.on("page", problems.watch)
        page = context.new_page()
        if role is not None:
            sign_in(page, role)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert problems.seen == [], "the browser reported problems:\n" + "\n".join(problems.seen)


def sign_in(page, role: Role) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email_of(role))
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    # A worker lands on their day; everyone else on the home page.
    page.wait_for_url(re.compile(r"/(day)?$"))


@pytest.fixture
def shoot(request) -> Callable:
    """shoot(page, name): a full-page screenshot in test-results/screenshots/<test>/."""
    folder = screenshots_root(request.config) / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    taken = []

    def take(page, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        if folder not in TAKEN:
            TAKEN.append(folder)
        taken.append(name)
        path = folder / f"{len(taken):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    take.folder = folder
    return take


# What the tests assert about a page --------------------------------------------------------------


AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}


# GOV.UK Frontend's conditional reveals put aria-expanded on the radio or checkbox that opens
# one: not allowed for those roles by ARIA 1.2, and kept by GOV.UK on purpose because screen
# readers announce it (alphagov/govuk-frontend#979, a known issue in #1280). That finding alone
# is set aside: any other attribute, or aria-expanded on any other element, still fails.
GOVUK_REVEAL_INPUT = re.compile(r'^<input class="govuk-(radios|checkboxes)__input"')
GOVUK_REVEAL_CONTROLS = re.compile(r' aria-controls="conditional-[\w-]+"')


def _govuk_reveal(rule: str, node: dict) -> bool:
    if rule != "aria-allowed-attr" or not GOVUK_REVEAL_INPUT.match(node["html"]):
        return False
    if not GOVUK_REVEAL_CONTROLS.search(node["html"]):
        return False
    found = [
        str(value)
        for check in node["all"] + node["any"] + node["none"]
        for value in check.get("data") or []
    ]
    return bool(found) and all(value.startswith("aria-expanded=") for value in found)


def without_known_issues(violations: list[dict]) -> list[dict]:
    kept = []
    for violation in violations:
        nodes = [node for node in violation["nodes"] if not _govuk_reveal(violation["id"], node)]
        if nodes:
            kept.append({**violation, "nodes": nodes})
    return kept


def axe_violations(page) -> list[dict]:
    """axe-core's violations of the WCAG A and AA rules on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    return without_known_issues(Axe().run(page, options=AXE_OPTIONS).response["violations"])


def axe_start(page) -> None:
    """Start axe-core on the page and return at once: pages in other tabs are checked meanwhile
    (most of axe's time is spent in the page, computing colour contrast)."""
    from axe_playwright_python.base import AXE_SCRIPT

    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    page.evaluate(
        """(options) => {
          window.__axeRun = new Promise((ready) => setTimeout(ready, 0))
            .then(() => axe.run(document, options));
        }""",
        AXE_OPTIONS,
    )


def axe_finish(page) -> list[dict]:
    """The violations found by `axe_start` on that page (waiting for axe to finish)."""
    return without_known_issues(page.evaluate("() => window.__axeRun")["violations"])


def describe_violations(url: str, violations: list[dict]) -> list[str]:
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            lines.append(
                f"{url}: {violation['id']} ({violation['impact']}): {violation['help']} "
                f"at {', '.join(map(str, node['target']))}: {node['html'][:200]}"
            )
    return lines


# The focused element shows GOV.UK's focus style: a yellow outline, box-shadow or background
# (for radios and checkboxes, on the ring drawn by the label's ::before).
FOCUS_STATE = """(yellow) => {
  const el = document.activeElement;
  if (!el || el === document.body) return {tag: 'body', visible: false, name: ''};
  const styles = [getComputedStyle(el)];
  if (el.matches('input[type=radio], input[type=checkbox]') && el.labels && el.labels[0]) {
    styles.push(getComputedStyle(el.labels[0], '::before'));
  }
  const visible = styles.some((s) =>
    (s.outlineStyle !== 'none' && s.outlineColor === yellow && parseFloat(s.outlineWidth) >= 2)
    || s.boxShadow.includes(yellow) || s.backgroundColor === yellow);
  const label = el.labels && el.labels[0] ? el.labels[0].innerText : '';
  return {
    tag: el.tagName.toLowerCase(), id: el.id, type: el.type || '',
    name: (label || el.innerText || el.value || el.getAttribute('aria-label') || '').trim(),
    checked: !!el.checked, visible,
  };
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUS_STATE, GOVUK_YELLOW)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


# Data --------------------------------------------------------------------------------------------


def count_bookings() -> int:
    value = count(Booking)
    settle()
    return value
