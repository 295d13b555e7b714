"""The year summary page: a financial year's figures in the form the commissioner publishes,
for coordinators and analysts, printable on one sheet.

The set of `make_outcomes` (March and April 2027) falls in two financial years: March in
2026 to 2027, April in 2027 to 2028. The clock reads Tuesday 20 April 2027, 12:00 in London.
"""

from __future__ import annotations

import re

import pytest

from booking.demo.load import TEAM
from booking.models import Role
from tests.reports.test_outcome_report_pages import PERSONAL, make_outcomes
from tests.support import Page

ENGAGEMENT = [
    "Engaged",
    "Assessments completed",
    "Assessments completed, as a share of those engaged",
    "Statutory assessments",
    "Voluntary and court assessments",
    "Transferred to treatment",
]
NOT_APPLICABLE = "Not applicable"


@pytest.fixture
def made(team, users, blocks, clock) -> dict[str, str]:
    return make_outcomes(users, blocks, clock)


def year_page(client, **params) -> tuple[Page, int]:
    response = client.get("/reports/year", query_string=params)
    return Page(response.get_data(as_text=True)), response.status_code


def engagement(shown: Page) -> dict[str, str]:
    """The first table, by label (each label's hint after it in its cell)."""
    rows = shown.tables["year-engagement"][1:]
    assert len(rows) == len(ENGAGEMENT)
    read = {}
    for (cell, value), label in zip(rows, ENGAGEMENT, strict=True):
        assert cell == label or cell.startswith(label + " "), (cell, label)
        read[label] = value
    return read


# The figures ---------------------------------------------------------------------------------


def test_the_page_opens_on_this_financial_year_so_far(made, client, login):
    login(Role.ANALYST)
    shown, status = year_page(client)
    assert status == 200
    assert shown.ids["year-heading"]["tag"] == "h1"
    assert "Arrest referral service year summary 2027 to 2028" in shown.text
    assert shown.title.startswith("Year summary 2027 to 2028")
    assert shown.selected["year"] == "2027"
    assert (
        "1 April 2027 to 31 March 2028, all custody blocks and courts. The year is not over: "
        "these are the figures so far, to 20 April 2027." in shown.text
    )
    # April: B5 left early; S1 and S2 completed at court; S1 referred.
    assert engagement(shown) == {
        "Engaged": "3",
        "Assessments completed": "2",
        "Assessments completed, as a share of those engaged": "66.7%",
        "Statutory assessments": "0",
        "Voluntary and court assessments": "2",
        "Transferred to treatment": "1",
    }
    assert shown.tables["year-requirements"] == [
        [
            "Figure",
            "Drug rehabilitation requirement (DRR)",
            "Alcohol treatment requirement (ATR)",
        ],
        ["Found suitable", "1", "1"],
        ["Granted", "1", "0"],
        ["Share of those found suitable", "100.0%", "0.0%"],
    ]


def test_a_past_year_chosen_gives_its_figures_and_not_applicable_for_no_one_found_suitable(
    made, client, login
):
    login(Role.COORDINATOR)
    shown, status = year_page(client, year="2026")
    assert status == 200
    assert shown.selected["year"] == "2026"
    assert "1 April 2026 to 31 March 2027, all custody blocks and courts." in shown.text
    assert "so far" not in shown.text
    # March: B1 B2 OS1 OS2 OS3 engaged; B1 OS1 statutory; B2 OS2 voluntary; three referred.
    assert engagement(shown) == {
        "Engaged": "5",
        "Assessments completed": "4",
        "Assessments completed, as a share of those engaged": "80.0%",
        "Statutory assessments": "2",
        "Voluntary and court assessments": "2",
        "Transferred to treatment": "3",
    }
    assert shown.tables["year-requirements"][1:] == [
        ["Found suitable", "0", "0"],
        ["Granted", "0", "0"],
        ["Share of those found suitable", NOT_APPLICABLE, NOT_APPLICABLE],
    ]


def test_a_year_with_nothing_in_it_has_every_share_not_applicable(users, client, login):
    login(Role.ANALYST)
    shown, status = year_page(client, year="2025")
    assert status == 200
    assert engagement(shown) == {
        label: NOT_APPLICABLE if "share" in label else "0" for label in ENGAGEMENT
    }
    assert shown.tables["year-requirements"][-1][1:] == [NOT_APPLICABLE, NOT_APPLICABLE]


# The chooser ---------------------------------------------------------------------------------


def test_the_chooser_offers_this_financial_year_and_the_five_before_without_csrf(
    made, client, login
):
    login(Role.ANALYST)
    shown, _ = year_page(client)
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', shown.html)
    assert options == [(str(year), f"{year} to {year + 1}") for year in range(2027, 2021, -1)]
    form = re.search(
        r'<form method="get" action="/reports/year"[^>]*>(.*?)</form>', shown.html, re.S
    )
    assert form and "csrf_token" not in form.group(1)
    # Choosing another year is an ordinary GET of the same page.
    assert year_page(client, year="2022")[1] == 200


@pytest.mark.parametrize(
    "year", ["abc", "", "2021", "2028", "2026.5", "-2026", "99999999999999999999999"]
)
def test_a_bad_year_is_shown_in_the_error_summary_not_a_server_error(made, client, login, year):
    login(Role.ANALYST)
    shown, status = year_page(client, year=year)
    assert status == 400
    assert shown.title.strip().startswith("Error: Year summary")
    assert shown.error_links == [("#year", "Choose a financial year from the list")]
    assert shown.ids["year"]["tag"] == "select"  # the summary links to the chooser
    assert "year-engagement" not in shown.tables  # no figures for a year that is not one


# Who may see it, and what it shows -----------------------------------------------------------


@pytest.mark.parametrize(
    "role, status",
    [(Role.COORDINATOR, 200), (Role.ANALYST, 200), (Role.SERGEANT, 403), (Role.WORKER, 403)],
)
def test_the_year_summary_is_for_coordinators_and_analysts(users, client, login, role, status):
    login(role)
    assert client.get("/reports/year").status_code == status
    assert client.get("/reports/year", query_string={"year": "2026"}).status_code == status


def test_signed_out_the_year_summary_asks_to_sign_in(users, client):
    response = client.get("/reports/year")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_the_year_summary_names_no_one_and_gives_no_reference(made, client, login):
    login(Role.ANALYST)
    for year in ("2026", "2027"):
        html = client.get("/reports/year", query_string={"year": year}).get_data(as_text=True)
        for value in [*PERSONAL, *made.values(), *(name for name, _ in TEAM)]:
            assert value not in html


def test_printed_the_page_leaves_off_the_navigation_chooser_and_button(made, client, login):
    login(Role.ANALYST)
    response = client.get("/reports/year")
    shown = Page(response.get_data(as_text=True))
    html = " ".join(shown.html.split())
    # The body takes the print stylesheet's named A4 page; what is not for print says so.
    assert '<body class="govuk-template__body app-year-page">' in html
    assert 'class="govuk-service-navigation app-no-print"' in html
    assert '<form method="get" action="/reports/year" class="app-no-print' in html
    # GOV.UK's print button: hidden until app.js can print; the keyboard's way meanwhile.
    assert re.search(
        r'<div class="app-no-print"> <p class="govuk-body" data-app-print-fallback>To print '
        r"this page, use your browser’s print command \(Ctrl and P\).</p> "
        r'<div class="app-print-button" data-app-print="year-summary" hidden> '
        r'<button type="button" class="govuk-button govuk-button--secondary"[^>]*> '
        r"Print this page </button>",
        html,
    )
    # Nothing written into the page for the CSP but GOV.UK's line under the page's nonce.
    assert shown.styled == []
    [nonce] = shown.inline_scripts
    assert f"'nonce-{nonce}'" in response.headers["Content-Security-Policy"]
