"""The reports page's figures of assessments and what followed them: everyone engaged, the
required and voluntary assessments, those made on site, referrals, entries into treatment and
the reasons there was none, closures, harm reduction, and the DRRs and ATRs given to the people
found suitable; in total, by block and court, and by month with a chart.

A small set made through the domain over March and April 2027 (`make_outcomes`), its figures
worked by hand; the clock then reads Tuesday 20 April 2027, 12:00 in London.
"""

from __future__ import annotations

import datetime as dt

import pytest

from booking.appointments import outcomes
from booking.court import suitability
from booking.extensions import db
from booking.models import (
    ClosureReason,
    Entry,
    Naloxone,
    NonConversionReason,
    OnSiteKind,
    ReferralArea,
    Role,
)
from booking.pathway import on_site, pathways
from booking.web import presentation
from tests import support
from tests.court.conftest import request_details
from tests.support import Page, add_courts, local

NOW = local(2027, 4, 20, 12, 0)
PERIOD = {"start": ["1", "3", "2027"], "end": ["30", "4", "2027"]}
BIRMINGHAM = "birmingham-magistrates"
COVENTRY = "coventry-magistrates"
# Who the set's people are: none of it may reach a report.
NAMES = ["Avery Testone", "Blake Testtwo", "Casey Testthree", "Drew Testfour", "Ellis Testfive"]
CUSTODY_RECORDS = [f"20/55500{n}/27" for n in range(1, 6)]
MOBILE = "07700 900555"
PERSONAL = [*NAMES, *CUSTODY_RECORDS, MOBILE, "+447700900555"]


def make_outcomes(users, blocks, clock) -> dict[str, str]:
    """The set, each step at the time it is recorded; the references of its assessments.

    March: at Stechford, an initial assessment attended (B1), a voluntary one attended (B2), a
    follow-up not attended (B3) and a required initial assessment on site (OS1); at Birmingham
    Magistrates' Court a voluntary assessment on site (OS2); at Perry Barr a contact (OS3).
    April: at Perry Barr an initial assessment left early (B5); at Coventry Magistrates' Court
    two suitability assessments completed (S1, found suitable for a DRR and given one; S2, found
    suitable for an ATR and sent to custody). What followed is recorded on B1, B2, OS1, OS2, S1.
    """
    add_courts()
    coordinator, sergeant = users[Role.COORDINATOR], users[Role.SERGEANT]
    worker = users[Role.WORKER].worker
    # Someone on site, for the appointments' slots.
    support.on_site(worker, blocks["stechford"], local(2027, 3, 2, 7), local(2027, 3, 2, 20))
    support.on_site(worker, blocks["perry-barr"], local(2027, 4, 6, 7), local(2027, 4, 6, 20))

    def book(block: str, starts_at: dt.datetime, n: int, by=sergeant, **changes):
        person = {"person_name": NAMES[n - 1], "custody_record": CUSTODY_RECORDS[n - 1]}
        return support.book(by, block, starts_at, clock(), mobile=MOBILE, **person, **changes)

    def follow(reference: str, **changes):
        pathways.record(pathways.assessment(reference), changes, by=coordinator, now=clock())
        db.session.commit()

    def assessed_on_site(place: str, kind: str, at: dt.datetime) -> str:
        record = on_site.record(place, kind, at, by=coordinator, now=clock())
        db.session.commit()
        return record.reference

    def outcome(booking, result: str):
        outcomes.record_outcome(booking, result, by=coordinator, now=clock())
        db.session.commit()

    clock.set(local(2027, 3, 1, 9, 0))
    b1 = book("stechford", local(2027, 3, 2, 10, 0), 1)
    b2 = book("stechford", local(2027, 3, 2, 10, 30), 2, requirement="voluntary")
    b3 = book("stechford", local(2027, 3, 2, 11, 0), 3, by=coordinator, requirement="follow_up")

    clock.set(local(2027, 3, 2, 12, 0))
    outcome(b1, "attended")
    outcome(b2, "attended")
    outcome(b3, "did_not_attend")
    os1 = assessed_on_site("stechford", OnSiteKind.REQUIRED_INITIAL, local(2027, 3, 2, 11, 45))
    march_2 = dt.date(2027, 3, 2)
    follow(
        b1.reference,
        naloxone=Naloxone.ISSUED,
        harm_reduction=True,
        referred=True,
        referral_area=ReferralArea.BIRMINGHAM,
        referred_on=march_2,
        entry=Entry.AWAITING,
    )
    follow(
        b2.reference,
        harm_reduction=True,
        referred=False,
        closed_on=march_2,
        closure_reason=ClosureReason.NO_FURTHER_ACTION,
    )
    follow(
        os1,
        naloxone=Naloxone.DECLINED,
        harm_reduction=False,
        referred=True,
        referral_area=ReferralArea.SANDWELL,
        referred_on=march_2,
        entry=Entry.AWAITING,
    )

    clock.set(local(2027, 3, 3, 13, 0))
    os2 = assessed_on_site(BIRMINGHAM, OnSiteKind.VOLUNTARY, local(2027, 3, 3, 10, 0))
    assessed_on_site("perry-barr", OnSiteKind.CONTACT_ONLY, local(2027, 3, 3, 12, 0))
    follow(
        os2,
        naloxone=Naloxone.ISSUED,
        referred=True,
        referral_area=ReferralArea.OUT_OF_AREA,
        referred_on=dt.date(2027, 3, 3),
        entry=Entry.AWAITING,
    )

    clock.set(local(2027, 3, 9, 12, 0))
    follow(b1.reference, entry=Entry.ENTERED, entered_on=dt.date(2027, 3, 9))
    clock.set(local(2027, 3, 20, 12, 0))
    follow(os2, entry=Entry.NOT_CONVERTED, non_conversion_reason=NonConversionReason.DID_NOT_ATTEND)

    clock.set(local(2027, 4, 5, 9, 0))
    b5 = book("perry-barr", local(2027, 4, 6, 10, 0), 5)
    s1 = request(coordinator, clock, dt.date(2027, 4, 6), 4)
    s2 = request(coordinator, clock, dt.date(2027, 4, 7), 5)
    follow(
        os1,
        entry=Entry.NOT_CONVERTED,
        non_conversion_reason=NonConversionReason.UNABLE_TO_CONTACT,
    )

    clock.set(local(2027, 4, 6, 11, 15))
    suitability.record_result(
        s1,
        drr="suitable",
        atr="not_assessed",
        willing=True,
        completed_at=local(2027, 4, 6, 11, 0),
        by=coordinator,
        now=clock(),
    )
    outcome(b5, "left_early")
    clock.set(local(2027, 4, 6, 17, 0))
    suitability.record_sentence(s1, "drr", dt.date(2027, 4, 6), by=coordinator, now=clock())
    db.session.commit()

    clock.set(local(2027, 4, 7, 11, 15))
    suitability.record_result(
        s2,
        drr="not_suitable",
        atr="suitable",
        willing=True,
        completed_at=local(2027, 4, 7, 11, 0),
        by=coordinator,
        now=clock(),
    )
    db.session.commit()
    follow(
        s1.reference,
        naloxone=Naloxone.NOT_APPROPRIATE,
        referred=True,
        referral_area=ReferralArea.COVENTRY,
        referred_on=dt.date(2027, 4, 7),
    )
    clock.set(local(2027, 4, 7, 17, 0))
    suitability.record_sentence(s2, "custody", dt.date(2027, 4, 7), by=coordinator, now=clock())
    db.session.commit()

    clock.set(local(2027, 4, 9, 12, 0))
    follow(
        b1.reference,
        closed_on=dt.date(2027, 4, 9),
        closure_reason=ClosureReason.TREATMENT_ENTERED,
    )

    clock.set(NOW)
    return {
        "B1": b1.reference,
        "B2": b2.reference,
        "B3": b3.reference,
        "B5": b5.reference,
        "OS1": os1,
        "OS2": os2,
        "S1": s1.reference,
        "S2": s2.reference,
    }


def request(by, clock, hearing: dt.date, n: int):
    """A suitability assessment asked for at Coventry Magistrates' Court."""
    details = request_details(
        court=COVENTRY,
        hearing_date=hearing,
        person_name=NAMES[n - 1],
        custody_record=CUSTODY_RECORDS[n - 1],
        mobile=MOBILE,
    )
    record = suitability.request(details, by=by, now=clock(), allow_test_numbers=True)
    db.session.commit()
    return record


@pytest.fixture
def made(users, blocks, clock) -> dict[str, str]:
    return make_outcomes(users, blocks, clock)


def page(client, **params) -> tuple[Page, int]:
    response = client.get("/reports", query_string=params)
    return Page(response.get_data(as_text=True)), response.status_code


def labelled(rows: list[list[str]], expected: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A table of figures read against the labels expected, in order (a label's hint follows
    it in its cell)."""
    assert len(rows) == len(expected)
    return [
        (label, value) if cell == label or cell.startswith(label + " ") else (cell, value)
        for (cell, value), (label, _) in zip(rows, expected, strict=True)
    ]


# The totals ----------------------------------------------------------------------------------

EXPECTED_TOTALS = [
    ("Engaged", "8"),  # B1 B2 B5 OS1 OS2 OS3 S1 S2
    ("Required assessments requested", "4"),  # B1 B3 B5 OS1
    ("Required assessments completed", "2"),  # B1 OS1
    ("Voluntary assessments", "2"),  # B2 OS2
    ("Required assessments on site", "1"),  # OS1
    ("Voluntary assessments on site", "1"),  # OS2
    ("Contacts on site", "1"),  # OS3
    ("Referrals into treatment", "4"),  # B1 OS1 OS2 S1
    ("Entries into treatment", "1"),  # B1
    ("Did not enter treatment", "2"),  # OS1 OS2
    ("Cases closed", "2"),  # B1 B2
    ("Naloxone issued", "2"),  # B1 OS2
    ("Other harm reduction given", "2"),  # B1 B2
]


def test_the_totals_give_every_figure_of_assessments_and_what_followed(made, client, login):
    login(Role.ANALYST)
    shown, status = page(client, **PERIOD)
    assert status == 200
    assert shown.captions["assessments"] == "Assessments and what followed"
    rows = shown.tables["assessments"][1:]
    assert labelled(rows, EXPECTED_TOTALS) == EXPECTED_TOTALS


def test_the_drrs_and_atrs_given_to_the_people_found_suitable_with_their_shares(
    made, client, login
):
    login(Role.COORDINATOR)
    shown, _ = page(client, **PERIOD)
    court_work = dict(shown.tables["court-work"][1:])
    granted = {
        label: value
        for cell, value in court_work.items()
        for label in (
            "DRRs made to people found suitable",
            "ATRs made to people found suitable",
            "DRRs made, of those found suitable",
            "ATRs made, of those found suitable",
        )
        if cell.startswith(label)
    }
    assert granted == {
        "DRRs made to people found suitable": "1",  # S1
        "ATRs made to people found suitable": "0",  # S2 was sent to custody
        "DRRs made, of those found suitable": "100.0%",
        "ATRs made, of those found suitable": "0.0%",
    }
    assert shown.tables["granted-by-month"] == [
        [
            "Month",
            "Found suitable for a DRR",
            "DRRs made to them",
            "Share given a DRR",
            "Found suitable for an ATR",
            "ATRs made to them",
            "Share given an ATR",
        ],
        ["March 2027", "0", "0", "None found suitable", "0", "0", "None found suitable"],
        ["April 2027", "1", "1", "100.0%", "1", "0", "0.0%"],
    ]
    by_court = {row[0]: row[1:] for row in shown.tables["granted-by-court"][1:]}
    assert by_court["Coventry Magistrates' Court"] == ["1", "1", "100.0%", "1", "0", "0.0%"]
    assert by_court["Birmingham Magistrates' Court"] == [
        "0",
        "0",
        "None found suitable",
        "0",
        "0",
        "None found suitable",
    ]


# By place and by month -----------------------------------------------------------------------

COLUMNS = [
    "Engaged",
    "Required assessments requested",
    "Required assessments completed",
    "Voluntary assessments",
    "Assessments on site",
    "Contacts on site",
    "Referrals into treatment",
    "Entries into treatment",
    "Did not enter treatment",
    "Cases closed",
    "Naloxone issued",
    "Other harm reduction given",
]
NONE = ["0"] * len(COLUMNS)
#                   engaged req'd done vol on-site contacts refer enter not closed nalox harm
STECHFORD = ["3", "3", "2", "1", "1", "0", "2", "1", "1", "2", "1", "2"]  # B1 B2 B3 OS1
PERRY_BARR = ["2", "1", "0", "0", "0", "1", "0", "0", "0", "0", "0", "0"]  # B5 OS3
BIRMINGHAM_COURT = ["1", "0", "0", "1", "1", "0", "1", "0", "1", "0", "1", "0"]  # OS2
COVENTRY_COURT = ["2", "0", "0", "0", "0", "0", "1", "0", "0", "0", "0", "0"]  # S1 S2


def test_each_block_and_court_has_its_row_of_assessments_and_what_followed(made, client, login):
    login(Role.ANALYST)
    shown, _ = page(client, **PERIOD)
    assert shown.tables["outcomes-by-place"] == [
        ["Block or court", *COLUMNS],
        ["Bloxwich", *NONE],
        ["Coventry", *NONE],
        ["Oldbury", *NONE],
        ["Perry Barr", *PERRY_BARR],
        ["Stechford", *STECHFORD],
        ["Wolverhampton", *NONE],
        ["Birmingham Magistrates' Court", *BIRMINGHAM_COURT],
        ["Coventry Magistrates' Court", *COVENTRY_COURT],
        ["Dudley Magistrates' Court", *NONE],
        ["Walsall Magistrates' Court", *NONE],
        ["Wolverhampton Magistrates' Court", *NONE],
    ]


def test_one_place_chosen_shows_only_its_own_figures(made, client, login):
    login(Role.ANALYST)
    shown, _ = page(client, **(PERIOD | {"block": "stechford"}))
    assert shown.tables["outcomes-by-place"][1:] == [["Stechford", *STECHFORD]]
    totals = [value for _, value in shown.tables["assessments"][1:]]
    assert totals == ["3", "3", "2", "1", "1", "0", "0", "2", "1", "1", "2", "1", "2"]


MARCH = ["5", "3", "2", "2", "2", "1", "3", "1", "1", "1", "2", "2"]
APRIL = ["3", "1", "0", "0", "0", "0", "1", "0", "1", "1", "0", "0"]


def test_each_month_has_its_row_and_a_chart_draws_its_assessments_and_referrals(
    made, client, login
):
    login(Role.ANALYST)
    shown, _ = page(client, **PERIOD)
    assert shown.tables["outcomes-by-month"] == [
        ["Month", *COLUMNS],
        ["March 2027", *MARCH],
        ["April 2027", *APRIL],
    ]
    [chart] = [svg for svg in shown.svgs if svg["title"] == "Assessments and referrals by month"]
    attrs = chart["attrs"]
    assert attrs["role"] == "img"
    assert chart["titles"][attrs["aria-labelledby"]] == chart["title"]
    assert chart["titles"][attrs["aria-describedby"]] == chart["desc"]
    assert (
        "March 2027: 2 required assessments completed, 2 voluntary assessments, "
        "3 referrals into treatment." in chart["desc"]
    )
    assert (
        "April 2027: 0 required assessments completed, 0 voluntary assessments, "
        "1 referrals into treatment." in chart["desc"]
    )
    # The legend, the axis from 0 to 3, then each month's three values as the table has them.
    texts = chart["texts"]
    assert texts[:3] == [
        "Required assessments completed",
        "Voluntary assessments",
        "Referrals into treatment",
    ]
    assert texts[-8:] == ["2", "2", "3", "0", "0", "1", "Mar 2027", "Apr 2027"]
    # Colour is not the only cue: a solid, a hatched and an outlined series.
    [pattern] = chart["patterns"]
    fills = {rect.get("fill") for rect in chart["rects"]}
    assert {"#1d70b8", f"url(#{pattern})", "#ffffff"} <= fills


# Why referrals did not convert ---------------------------------------------------------------

REASONS = [
    "Did not attend",
    "Declined treatment",
    "Unable to contact",
    "Moved away",
    "In custody",
    "The treatment provider declined",
    "Died",
    "Already in treatment",
    "Another reason",
]


@pytest.mark.parametrize(
    "choice, counts",
    [
        ({}, {"Did not attend": "1", "Unable to contact": "1"}),  # OS2, OS1
        ({"block": "stechford"}, {"Unable to contact": "1"}),  # OS1
        ({"block": BIRMINGHAM}, {"Did not attend": "1"}),  # OS2
        ({"block": "perry-barr"}, {}),
        # OS1 was referred in March, but became known not to convert on 5 April.
        ({"end": ["31", "3", "2027"]}, {"Did not attend": "1"}),
    ],
)
def test_the_reasons_referrals_did_not_lead_into_treatment_in_words_for_the_period_and_place(
    made, client, login, choice, counts
):
    login(Role.COORDINATOR)
    shown, status = page(client, **(PERIOD | choice))
    assert status == 200
    rows = shown.tables["non-conversion"]
    assert rows[0] == ["Reason", "Referrals"]
    assert rows[1:-1] == [[reason, counts.get(reason, "0")] for reason in REASONS]
    assert rows[-1] == ["All reasons", str(sum(int(n) for n in counts.values()))]
    did_not_enter = next(v for label, v in shown.tables["assessments"] if label.startswith("Did"))
    assert did_not_enter == rows[-1][1]


# Words and personal data ---------------------------------------------------------------------


# The capitals allowed after a name's first word: places' names and acronyms.
PROPER_WORDS = {
    "Birmingham",
    "Solihull",
    "Coventry",
    "Wolverhampton",
    "Dudley",
    "Sandwell",
    "Walsall",
    "West",
    "Midlands",
    "GP",
    "NHS",
    "A&E",
}


@pytest.mark.parametrize(
    "names, codes",
    [
        (presentation.NON_CONVERSION_NAMES, NonConversionReason),
        (presentation.NALOXONE_NAMES, Naloxone),
        (presentation.REFERRAL_AREA_NAMES, ReferralArea),
        (presentation.ENTRY_NAMES, Entry),
        (presentation.CLOSURE_NAMES, ClosureReason),
        (presentation.ON_SITE_KIND_NAMES, OnSiteKind),
    ],
)
def test_every_code_of_what_followed_has_words_in_sentence_case(names, codes):
    assert list(names) == [code.value for code in codes]
    for words in names.values():
        assert words[0].isupper() and not words.endswith(".")
        # Sentence case: no capital after the first word but a place's name or an acronym.
        later = [word for word in words.split()[1:] if word[0].isupper()]
        assert set(later) <= PROPER_WORDS, (words, later)


def test_the_page_names_no_one_and_gives_no_reference(made, client, login):
    login(Role.ANALYST)
    html = client.get("/reports", query_string=PERIOD).get_data(as_text=True)
    for value in [*PERSONAL, *made.values()]:
        assert value not in html


def test_the_reports_page_links_to_the_year_summary(made, client, login):
    login(Role.ANALYST)
    shown, _ = page(client)
    assert shown.href("year summary") == "/reports/year"
    assert client.get("/reports/year").status_code == 200
