"""The commissioner's court figures: suitability assessments asked for, completed, adjourned and
found suitable, and the DRRs and ATRs made, per court and month.

Six records at two courts, made through the domain, over March and April 2027; March has the
clock change (Sunday 28 March, Easter Day; Good Friday and Easter Monday are no sitting days).
Every event near midnight is placed where the UTC date and the local date differ, so only
counting by the local date gives the hand-worked figures below.
"""

from __future__ import annotations

import datetime as dt

import pytest

from booking import retention
from booking.appointments.slots import SlotRules
from booking.court import suitability
from booking.extensions import db
from booking.models import Role
from booking.reports import figures as reports
from tests.court.conftest import request_details
from tests.support import Page, add_courts, auth, local, utc

BIRMINGHAM = "birmingham-magistrates"
COVENTRY = "coventry-magistrates"
START, END = dt.date(2027, 3, 1), dt.date(2027, 4, 30)
PERIOD = {"start": START.isoformat(), "end": END.isoformat()}
KPI = "/api/v1/reports/kpi"
COURT_WORK = [
    "suitability_requested",
    "suitability_completed",
    "suitability_adjournments",
    "suitable_drr",
    "suitable_atr",
    "drr_made",
    "atr_made",
]


def work(*counts: int) -> dict[str, int]:
    return dict(zip(COURT_WORK, counts, strict=True))


NOTHING = work(0, 0, 0, 0, 0, 0, 0)
# Worked by hand from make_court_work (R1..R6):
#                    requested completed adjourned sDRR sATR DRR ATR
BIRMINGHAM_MARCH = work(2, 3, 1, 2, 1, 1, 0)  # R2 R6 | R1 R2 R6 | R2 | R1 R2 | R2 | R1 |
BIRMINGHAM_APRIL = work(1, 0, 0, 0, 0, 1, 1)  # R3 | | | | | R2 | R2
COVENTRY_MARCH = work(1, 0, 0, 0, 0, 0, 0)  # R4
COVENTRY_APRIL = work(1, 1, 2, 0, 1, 0, 1)  # R5 | R4 | R4 twice | | R4 | | R4
EXPECTED_ROWS = {
    (BIRMINGHAM, "2027-03"): BIRMINGHAM_MARCH,
    (BIRMINGHAM, "2027-04"): BIRMINGHAM_APRIL,
    (COVENTRY, "2027-03"): COVENTRY_MARCH,
    (COVENTRY, "2027-04"): COVENTRY_APRIL,
}
EXPECTED_TOTAL = work(5, 4, 3, 2, 2, 2, 2)
EXPECTED_BY_MONTH = {"2027-03": work(3, 3, 1, 2, 1, 1, 0), "2027-04": work(2, 1, 2, 0, 1, 1, 2)}
EXPECTED_BY_COURT = {
    BIRMINGHAM: work(3, 3, 1, 2, 1, 2, 1),
    COVENTRY: work(2, 1, 2, 0, 1, 0, 1),
}


def court_work(figures: reports.Figures | dict) -> dict[str, int]:
    values = figures if isinstance(figures, dict) else figures.as_dict()
    return {name: values[name] for name in COURT_WORK}


def make_court_work(users, clock) -> None:
    """The six records. Each step sets the clock to when it is recorded."""
    worker = users[Role.WORKER]

    def request(at: dt.datetime, court: str, hearing: dt.date, name: str):
        clock.set(at)
        record = suitability.request(
            request_details(court=court, hearing_date=hearing, person_name=name),
            by=worker,
            now=clock(),
            allow_test_numbers=True,
        )
        db.session.commit()
        return record

    def result(record, completed_at, drr, atr, recorded_at=None):
        clock.set(recorded_at or completed_at + dt.timedelta(minutes=15))
        willing = "suitable" in (drr, atr)
        suitability.record_result(
            record,
            drr=drr,
            atr=atr,
            willing=willing,
            completed_at=completed_at,
            by=worker,
            now=clock(),
        )
        db.session.commit()

    def adjourn(record, at: dt.datetime, to: dt.date):
        clock.set(at)
        suitability.adjourn(
            record,
            to,
            None,
            by=worker,
            now=clock(),
            rules=SlotRules(),
            lead_working_days=1,
            allow_test_numbers=True,
        )
        db.session.commit()

    def sentence(record, outcome: str, on: dt.date):
        clock.set(local(on.year, on.month, on.day, 17, 0))
        suitability.record_sentence(record, outcome, on, by=worker, now=clock())
        db.session.commit()

    # R1, Birmingham: asked for in February (not counted); completed, found suitable for a DRR
    # and given one on Monday 1 March.
    r1 = request(local(2027, 2, 28, 23, 30), BIRMINGHAM, dt.date(2027, 3, 1), "Alex Testone")
    result(r1, local(2027, 3, 1, 11, 0), "suitable", "not_assessed")
    sentence(r1, "drr", dt.date(2027, 3, 1))
    # R6, Birmingham: all in Tuesday 2 March, found suitable for neither, sent to custody.
    r6 = request(local(2027, 3, 2, 9, 0), BIRMINGHAM, dt.date(2027, 3, 2), "Sam Testsix")
    result(r6, local(2027, 3, 2, 12, 0), "not_suitable", "not_suitable")
    sentence(r6, "custody", dt.date(2027, 3, 2))
    # R2, Birmingham: asked for at 00:30 on the day the clocks go forward (still GMT),
    # adjourned in March, completed at 23:30 BST on 31 March (22:30 UTC), suitable for both,
    # and both made on 1 April.
    r2 = request(local(2027, 3, 28, 0, 30), BIRMINGHAM, dt.date(2027, 3, 30), "Robin Testtwo")
    adjourn(r2, local(2027, 3, 30, 11, 0), dt.date(2027, 3, 31))
    result(r2, local(2027, 3, 31, 23, 30), "suitable", "suitable")
    sentence(r2, "drr_and_atr", dt.date(2027, 4, 1))
    # R4, Coventry: asked for at 23:30 BST on 31 March; adjourned at 00:30 BST on 1 April,
    # which is 23:30 UTC on 31 March, and again on 2 April; completed at 23:30 BST on
    # 30 April; suitable for an ATR, and given one.
    r4 = request(local(2027, 3, 31, 23, 30), COVENTRY, dt.date(2027, 4, 1), "Kit Testfour")
    adjourn(r4, local(2027, 4, 1, 0, 30), dt.date(2027, 4, 2))
    adjourn(r4, local(2027, 4, 2, 10, 0), dt.date(2027, 4, 6))
    result(r4, local(2027, 4, 30, 23, 30), "not_suitable", "suitable")
    sentence(r4, "atr", dt.date(2027, 4, 30))
    # R3, Birmingham: asked for at 00:30 BST on 1 April (23:30 UTC on 31 March); not done.
    r3 = request(local(2027, 4, 1, 0, 30), BIRMINGHAM, dt.date(2027, 4, 1), "Jo Testthree")
    clock.set(local(2027, 4, 1, 10, 0))
    suitability.record_not_completed(r3, "declined", by=worker, now=clock())
    db.session.commit()
    # R5, Coventry: asked for on 30 April; completed at 00:30 BST on 1 May (23:30 UTC on
    # 30 April) and sentenced in May: only the request counts.
    r5 = request(local(2027, 4, 30, 10, 0), COVENTRY, dt.date(2027, 4, 30), "Lee Testfive")
    result(r5, local(2027, 5, 1, 0, 30), "suitable", "not_assessed")
    sentence(r5, "drr", dt.date(2027, 5, 4))
    clock.set(local(2027, 5, 5, 12, 0))


@pytest.fixture
def court_work_made(users, clock):
    add_courts()
    make_court_work(users, clock)


def build(block: str | None = None) -> reports.Report:
    return reports.build(START, END, local(2027, 5, 5, 12, 0), block)


def assert_every_court_figure(report: reports.Report) -> None:
    assert court_work(report.total) == EXPECTED_TOTAL
    assert {key: court_work(f) for key, f in report.by_month.items()} == EXPECTED_BY_MONTH
    courts_seen = {
        code: court_work(f) for code, f in report.by_block.items() if code in EXPECTED_BY_COURT
    }
    assert courts_seen == EXPECTED_BY_COURT
    rows = {key: court_work(f) for key, f in report.rows.items()}
    for key, expected in EXPECTED_ROWS.items():
        assert rows.pop(key) == expected, key
    assert all(values == NOTHING for values in rows.values())


def test_the_events_near_midnight_fall_on_other_utc_dates():
    # The set-up's premise: counting by UTC date would move these into other months.
    assert local(2027, 4, 1, 0, 30) == utc(2027, 3, 31, 23, 30)
    assert local(2027, 5, 1, 0, 30) == utc(2027, 4, 30, 23, 30)
    assert local(2027, 3, 28, 0, 30) == utc(2027, 3, 28, 0, 30)


def test_every_court_figure_by_court_month_and_in_total(court_work_made):
    assert_every_court_figure(build())


def test_the_court_figures_survive_the_retention_purge(court_work_made, clock):
    before = build()
    clock.set(local(2028, 1, 10, 3, 0))
    assert retention.purge(clock(), 90) == 6
    after = build()
    assert_every_court_figure(after)
    assert reports.csv_rows(after) == reports.csv_rows(before)


def test_one_court_has_its_own_court_figures_and_no_custody_figures(court_work_made, blocks):
    report = build(BIRMINGHAM)
    assert list(report.by_block) == [BIRMINGHAM]
    assert court_work(report.total) == EXPECTED_BY_COURT[BIRMINGHAM]
    assert court_work(report.by_month["2027-03"]) == BIRMINGHAM_MARCH
    assert court_work(report.by_month["2027-04"]) == BIRMINGHAM_APRIL
    custody = {k: v for k, v in report.total.as_dict().items() if k not in COURT_WORK}
    assert custody["bookings"] == 0
    assert custody["cover_hours"] == custody["gap_hours"] == 0.0

    assert court_work(build(COVENTRY).total) == EXPECTED_BY_COURT[COVENTRY]


def test_a_custody_block_has_no_court_figures(court_work_made, blocks):
    report = build("stechford")
    assert list(report.by_block) == ["stechford"]
    assert court_work(report.total) == NOTHING
    assert report.total.gap_hours > 0  # its own cover figures are still there


def test_the_csv_rows_carry_the_court_figures(court_work_made):
    rows = {(row["block"], row["month"]): row for row in reports.csv_rows(build())}
    for key, expected in EXPECTED_ROWS.items():
        assert court_work(rows[key]) == expected
    # Together and in order, where the CSV's columns put them.
    columns = list(rows[(BIRMINGHAM, "2027-03")])
    assert columns == reports.CSV_COLUMNS
    first = columns.index(COURT_WORK[0])
    assert columns[first : first + len(COURT_WORK)] == COURT_WORK


def test_kpi_gives_the_court_figures(court_work_made, client, tokens):
    body = client.get(KPI, query_string=PERIOD, headers=auth(tokens[Role.ANALYST])).get_json()
    assert court_work(body) == EXPECTED_TOTAL
    assert {month: court_work(f) for month, f in body["by_month"].items()} == EXPECTED_BY_MONTH
    assert court_work(body["by_block"][COVENTRY]) == EXPECTED_BY_COURT[COVENTRY]

    one_court = client.get(
        KPI, query_string=PERIOD | {"block": BIRMINGHAM}, headers=auth(tokens[Role.ANALYST])
    )
    assert one_court.status_code == 200
    assert court_work(one_court.get_json()) == EXPECTED_BY_COURT[BIRMINGHAM]
    assert list(one_court.get_json()["by_block"]) == [BIRMINGHAM]


def test_the_reports_page_shows_court_work(court_work_made, client, login):
    login(Role.COORDINATOR)
    query = {"start": ["1", "3", "2027"], "end": ["30", "4", "2027"], "block": BIRMINGHAM}
    response = client.get("/reports", query_string=query)
    assert response.status_code == 200
    shown = Page(response.get_data(as_text=True))
    assert shown.captions["court-work"] == "Court work"
    assert [row[-1] for row in shown.tables["court-work"][1:8]] == [
        str(n) for n in EXPECTED_BY_COURT[BIRMINGHAM].values()
    ]
    assert "Birmingham Magistrates' Court, counted by" in shown.text


def test_the_share_found_suitable_who_received_the_requirement(court_work_made, users, clock):
    # R7, Coventry, on Tuesday 20 April: found suitable for both, given neither.
    worker = users[Role.WORKER]
    clock.set(local(2027, 4, 20, 9, 0))
    details = request_details(court=COVENTRY, hearing_date=dt.date(2027, 4, 20))
    r7 = suitability.request(details, by=worker, now=clock(), allow_test_numbers=True)
    clock.set(local(2027, 4, 20, 12, 0))
    suitability.record_result(
        r7,
        drr="suitable",
        atr="suitable",
        willing=True,
        completed_at=clock(),
        by=worker,
        now=clock(),
    )
    suitability.record_sentence(
        r7, "other_community_order", dt.date(2027, 4, 20), by=worker, now=clock()
    )
    db.session.commit()

    def shares(figures: reports.Figures) -> tuple:
        return (
            (figures.suitable_drr, figures.drr_granted, figures.drr_granted_share),
            (figures.suitable_atr, figures.atr_granted, figures.atr_granted_share),
        )

    report = build()
    # March: R1 and R2 found suitable for a DRR, and both given one, though R2 only in April
    # (one DRR made in March); R2 found suitable for an ATR and given one.
    assert shares(report.by_month["2027-03"]) == ((2, 2, 1.0), (1, 1, 1.0))
    assert report.by_month["2027-03"].drr_made == 1
    # April: R7 found suitable for a DRR, not given one; R4 and R7 for an ATR, R4 given one.
    assert shares(report.by_month["2027-04"]) == ((1, 0, 0.0), (2, 1, 0.5))
    assert shares(report.total) == ((3, 2, 0.667), (3, 2, 0.667))
    assert shares(report.by_block[COVENTRY]) == ((1, 0, 0.0), (2, 1, 0.5))
    # Nobody found suitable at Birmingham in April: no share.
    assert shares(report.rows[(BIRMINGHAM, "2027-04")]) == ((0, 0, None), (0, 0, None))


def test_the_reports_page_has_court_work_by_month_and_by_court(court_work_made, client, login):
    login(Role.COORDINATOR)
    query = {"start": ["1", "3", "2027"], "end": ["30", "4", "2027"]}
    shown = Page(client.get("/reports", query_string=query).get_data(as_text=True))
    march = next(row for row in shown.tables["court-by-month"] if row[0] == "March 2027")
    assert march[1:] == [str(n) for n in EXPECTED_BY_MONTH["2027-03"].values()]
    coventry = next(row for row in shown.tables["by-court"] if row[0].startswith("Coventry"))
    assert coventry[1:] == [str(n) for n in EXPECTED_BY_COURT[COVENTRY].values()]
    assert 'id="chart-court-months-title"' in shown.html
    assert "DRRs made, of those found suitable" in shown.text
