"""What the booking page costs to download, measured in a real browser.

    python bench/page_weight.py [--db sqlite|postgres]

Custody suites sit behind slow, locked-down force networks, so what counts is the bytes that
cross the wire. On 127.0.0.1 this script migrates a database of its own (a SQLite file under
/tmp, or a PostgreSQL schema `page_weight_<pid>`, dropped at the end), loads the demo, serves it
with `gunicorn wsgi:app` as gunicorn.conf.py sets it up, and drives Debian's Chromium
(/usr/bin/chromium) with Playwright:

1. sign in through the sign-in form as the demo sergeant;
2. empty the browser's cache, then open /bookings/new: the first visit;
3. open /bookings/new again, in the same tab: the repeat visit (what a browser does for a
   page it has seen: static files from its cache where their headers allow it).

Bytes are Chromium's own count of what was received for each request, headers and body as
they came over the wire, compressed or not (DevTools' "transferred"; CDP's
`Network.loadingFinished.encodedDataLength`); a file taken from the cache costs 0. KB here are
1,024 bytes. Goals (from the issue on speed): at most 150 KB on the first visit and 20 KB on
a repeat visit. Writes bench/results/<db>-page_weight.json with every request listed in its
notes. The app and its database are stopped and removed at the end, even on failure.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale_out  # noqa: E402  (it imports common, which then takes bench/ out of the path)
from scale_out import Children, run_flask, source_commit, start_app  # noqa: E402

common = scale_out.common

CHROMIUM = Path("/usr/bin/chromium")
# As the browser tests start it: no sandbox as root, and no calls to Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERGEANT = "sergeant@demo.test"
DEMO_PASSWORD = "demo-password-2026"
PAGE = "/bookings/new"
KB = 1024
GOALS_KB = {"first": 150, "repeat": 20}
MIN_RUNS = 3
SCHEMA_PREFIX = "page_weight_"


class NetworkLog:
    """Every request of the page, from Chromium's DevTools protocol: what it asked for, what
    came back, and how many bytes were received for it (0 when the cache answered)."""

    def __init__(self, cdp):
        self.requests: dict[str, dict] = {}
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.requestServedFromCache", self._from_cache)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.loadingFailed", self._failed)

    def _entry(self, request_id: str) -> dict:
        return self.requests.setdefault(
            request_id,
            {"url": "", "status": None, "bytes": 0, "cache": False, "encoding": "", "done": False},
        )

    def _sent(self, event: dict) -> None:
        entry = self._entry(event["requestId"])
        if event.get("redirectResponse"):  # a redirect reuses the id: keep the hop as its own
            hop = dict(entry)
            hop.update(
                status=event["redirectResponse"]["status"],
                bytes=int(event["redirectResponse"].get("encodedDataLength", 0)),
                done=True,
            )
            self.requests[f"{event['requestId']}-{len(self.requests)}"] = hop
            entry.update(status=None, bytes=0, cache=False, encoding="", done=False)
        entry["url"] = event["request"]["url"]

    def _from_cache(self, event: dict) -> None:
        self._entry(event["requestId"])["cache"] = True

    def _response(self, event: dict) -> None:
        entry = self._entry(event["requestId"])
        response = event["response"]
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        entry["status"] = response["status"]
        entry["encoding"] = headers.get("content-encoding", "")
        entry["cache_control"] = headers.get("cache-control", "")
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            entry["cache"] = True

    def _finished(self, event: dict) -> None:
        entry = self._entry(event["requestId"])
        entry["bytes"] = int(event["encodedDataLength"])
        entry["done"] = True

    def _failed(self, event: dict) -> None:
        entry = self._entry(event["requestId"])
        entry["status"] = f"failed: {event.get('errorText', '')}"
        entry["done"] = True

    def take(self) -> list[dict]:
        taken = list(self.requests.values())
        self.requests = {}
        return taken


def visit(page, log: NetworkLog, url: str) -> list[dict]:
    """Open the page and wait until nothing more is asked for; the requests it made."""
    log.take()
    page.goto(url, wait_until="networkidle")
    deadline = time.monotonic() + 10
    while any(not r["done"] for r in log.requests.values()) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return log.take()


def path_of(url: str, base: str) -> str:
    path = url.removeprefix(base)
    return re.sub(r"^data:[^,]*,.*", "(data: URL)", path)[:80]


def show(name: str, requests: list[dict], base: str) -> None:
    total = sum(r["bytes"] for r in requests)
    print(f"\n{name}: {total:,} bytes ({total / KB:.1f} KB) in {len(requests)} requests")
    print(f"  {'bytes':>9}  {'status':>6}  {'from':<7} {'encoding':<8} path")
    for r in requests:
        source = "cache" if r["cache"] else "network"
        print(
            f"  {r['bytes']:>9,}  {r['status']!s:>6}  {source:<7} {r['encoding'] or '-':<8} "
            f"{path_of(r['url'], base)}"
        )


def measure_in_browser(base: str) -> dict[str, list[dict]]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=base, locale="en-GB")
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            log = NetworkLog(cdp)
            sign_in = visit(page, log, base + "/login")
            page.get_by_label("Email address").fill(SERGEANT)
            page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(re.compile(r"/$"))
            page.wait_for_load_state("networkidle")
            cdp.send("Network.clearBrowserCache")
            first = visit(page, log, base + PAGE)
            if not page.get_by_role("heading", level=1).count():
                raise RuntimeError(f"{PAGE} did not show a page: {page.url}")
            repeat = visit(page, log, base + PAGE)
            context.close()
        finally:
            browser.close()
    return {"sign_in": sign_in, "first": first, "repeat": repeat}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--server", default=common.POSTGRES_SERVER, help="PostgreSQL URL")
    parser.add_argument("--runs", type=int, default=MIN_RUNS, help=f"at least {MIN_RUNS}")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"No Chromium at {CHROMIUM}: apt-get install chromium")

    work = Path(tempfile.mkdtemp(prefix="page_weight-", dir=common.WORK_DIR.parent))
    schema = f"{SCHEMA_PREFIX}{os.getpid()}"
    if args.db == "postgres":
        url = f"{args.server}?options=-csearch_path%3D{schema}"
        schema_statement(f"CREATE SCHEMA {schema}", schema, args.server)
    else:
        url = f"sqlite:///{work / 'page_weight.sqlite'}"
    notes: dict = {
        "page": PAGE,
        "role": "sergeant (the demo's)",
        "browser": "Debian Chromium, Playwright, a new context; bytes from CDP encodedDataLength",
        "commit": source_commit(),
        "load_average_at_start": common.load_average(),
    }
    try:
        with Children(work / "logs") as children:
            env = common.service_env(url)
            env.pop("PROXY_FIX_HOPS", None)
            run_flask(env, "db", "upgrade")
            run_flask(env, "demo", "load")
            base = start_app(children, "app", env)
            # Each run in a new browser, so each first visit starts with an empty cache.
            every_run = [measure_in_browser(base) for _ in range(max(args.runs, MIN_RUNS))]
    finally:
        if args.db == "postgres":
            schema_statement(f"DROP SCHEMA IF EXISTS {schema} CASCADE", schema, args.server)
        shutil.rmtree(work, ignore_errors=True)

    def total(requests) -> int:
        return sum(r["bytes"] for r in requests)

    # The run whose first visit weighed the median is shown, with the spread of all runs.
    by_first = sorted(every_run, key=lambda visits: total(visits["first"]))
    visits = by_first[len(by_first) // 2]
    show("Sign-in page (informative)", visits["sign_in"], base)
    show("First visit, empty cache", visits["first"], base)
    show("Repeat visit", visits["repeat"], base)

    measures = []
    for key, name in (
        ("first", f"{PAGE} as the sergeant, first visit (empty cache), transferred"),
        ("repeat", f"{PAGE} as the sergeant, repeat visit, transferred"),
    ):
        requests = visits[key]
        weights = sorted(total(run[key]) for run in every_run)
        median = weights[len(weights) // 2]
        measures.append(
            common.measure(
                name,
                round(median / KB, 1),
                "KB",
                goal=f"<= {GOALS_KB[key]} KB",
                met=weights[-1] <= GOALS_KB[key] * KB,
                runs=len(weights),
                spread=[round(weights[0] / KB, 1), round(weights[-1] / KB, 1)],
                bytes=median,
                requests=len(requests),
                over_the_network=sum(1 for r in requests if not r["cache"]),
            )
        )
    # What the first visit's bytes are made of (informative: no goal of their own).
    for kind, suffix in (("the stylesheet", ".css"), ("scripts", ".js")):
        part = [r for r in visits["first"] if r["url"].split("?")[0].endswith(suffix)]
        measures.append(
            common.measure(
                f"{PAGE} first visit: {kind}, transferred",
                round(total(part) / KB, 1),
                "KB",
                bytes=total(part),
                requests=len(part),
            )
        )
    notes["requests"] = {
        key: [
            {
                "path": path_of(r["url"], base),
                "status": r["status"],
                "bytes": r["bytes"],
                "from_cache": r["cache"],
                "content_encoding": r["encoding"],
                "cache_control": r.get("cache_control", ""),
            }
            for r in requests
        ]
        for key, requests in visits.items()
    }
    common.save_results("page_weight", args.db, measures, notes)


def schema_statement(statement: str, schema: str, server: str) -> None:
    # Only ever this script's own schema: never public, never the benchmarks' data set.
    if not re.fullmatch(SCHEMA_PREFIX + r"\d+", schema):
        raise ValueError(f"not a page-weight schema: {schema!r}")
    import psycopg

    with psycopg.connect(server.replace("postgresql+psycopg", "postgresql"), autocommit=True) as c:
        c.execute(statement)


if __name__ == "__main__":
    main()
