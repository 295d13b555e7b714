"""The reports page, its charts and its CSV export, for coordinators and the commissioner's
analysts.

The known period of `test_reports` (March and April 2027), seen through the pages; the clock
reads Tuesday 20 April 2027, 12:00 in London.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from booking import charts, retention
from booking.demo.load import TEAM
from booking.models import Role
from tests.reports.test_figures import EXPECTED_CSV, NOW, PERSONAL, local, make_known_period
from tests.support import Page, trail

PERIOD = {"start": ["1", "3", "2027"], "end": ["30", "4", "2027"], "block_by": "appointment"}
WORKER_NAMES = [name for name, _ in TEAM]
SVG_NS = "http://www.w3.org/2000/svg"


@pytest.fixture
def known(team, users, clock):
    make_known_period()
    clock.set(NOW)


def page(client, **params) -> tuple[Page, int]:
    response = client.get("/reports", query_string=params)
    return Page(response.get_data(as_text=True)), response.status_code


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# Who may see it ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, status",
    [(Role.COORDINATOR, 200), (Role.ANALYST, 200), (Role.SERGEANT, 403), (Role.WORKER, 403)],
)
def test_reports_are_for_coordinators_and_analysts(known, client, login, role, status):
    login(role)
    assert client.get("/reports").status_code == status
    assert client.get("/reports.csv", query_string=PERIOD).status_code == status


def test_signed_out_the_reports_ask_to_sign_in(known, client):
    for path in ("/reports", "/reports.csv"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


# The period ----------------------------------------------------------------------------------


def test_the_page_starts_with_the_last_three_full_months_and_this_month_so_far(
    known, client, login
):
    login(Role.ANALYST)
    shown, status = page(client)
    assert status == 200
    assert [shown.ids[f"start-{box}"]["value"] for box in ("day", "month", "year")] == [
        "01",
        "01",
        "2027",
    ]
    assert [shown.ids[f"end-{box}"]["value"] for box in ("day", "month", "year")] == [
        "20",
        "04",
        "2027",
    ]
    assert shown.ids["period"]["tag"] == "h2"
    assert shown.tables["by-month"][1:] == [
        ["January 2027", "0", "0", "0", "0", "No outcomes"],
        ["February 2027", "1", "1", "0", "0", "100.0%"],  # 28 February, 23:30
        ["March 2027", "5", "2", "2", "1", "50.0%"],
        ["April 2027", "3", "1", "1", "0", "50.0%"],  # to the 20th
    ]
    href = shown.ids["download-csv"]["href"]
    assert href == (
        "/reports.csv?start=1&start=1&start=2027&end=20&end=4&end=2027&block_by=appointment"
    )


def test_the_period_is_shown_as_asked(known, client, login):
    login(Role.COORDINATOR)
    response = client.get("/reports", query_string=PERIOD)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'<h2[^>]*id="period">1 March 2027 to 30 April 2027</h2>', html)
    words = " ".join(html.split())
    assert "All blocks and courts, counted by the block of the appointment." in words
    assert [row[0] for row in Page(html).tables["by-month"][1:]] == ["March 2027", "April 2027"]


@pytest.mark.parametrize(
    "changes, link, message",
    [
        (
            {"start": ["30", "4", "2027"], "end": ["1", "3", "2027"]},
            "#end-day",
            "The end date must be the same as or after the start date",
        ),
        (
            {"start": ["31", "2", "2027"]},
            "#start-day",
            "The start date must be a real date, like 13 1 2027",
        ),
        ({"start": ["1", "3", ""]}, "#start-day", "The start date must include a year"),
        ({"end": ["", "", ""]}, "#end-day", "Enter the end date"),
        (
            {"end": ["x", "4", "2027"]},
            "#end-day",
            "The end date must be a real date, like 13 1 2027",
        ),
        (
            {"start": ["1", "3", "27"]},
            "#start-day",
            "The year of the start date must include 4 numbers",
        ),
        (
            {"start": ["1", "1", "2025"]},
            "#end-day",
            "The end date must be no more than 2 years after the start date",
        ),
        ({"block": "birmingham-central"}, "#block", "Choose a block or court from the list"),
        ({"block_by": "worker"}, "#block_by", "Choose how to count appointments"),
    ],
)
def test_bad_choices_are_shown_in_the_error_summary(known, client, login, changes, link, message):
    login(Role.ANALYST)
    shown, status = page(client, **(PERIOD | changes))
    assert status == 400
    assert shown.title.strip().startswith("Error: Reports")
    assert shown.error_links == [(link, message)]
    assert link[1:] in shown.ids  # the summary links to the box to correct
    assert "appointments" not in shown.tables  # no figures for a period that is not one
    assert not shown.svgs


def test_a_bad_csv_request_shows_the_errors_and_discloses_nothing(known, client, login):
    login(Role.ANALYST)
    response = client.get("/reports.csv", query_string=PERIOD | {"end": ["1", "1", "2027"]})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert Page(response.get_data(as_text=True)).error_links[0][0] == "#end-day"
    assert trail() == []


# The figures ---------------------------------------------------------------------------------


def figure(rows: dict[str, str], label: str) -> str:
    """The value in the row of this label (which its hint may follow)."""
    if label in rows:
        return rows[label]
    [value] = [value for name, value in rows.items() if name.startswith(label + " ")]
    return value


def test_the_page_gives_every_figure_of_the_period(known, client, login):
    login(Role.ANALYST)
    shown, _ = page(client, **PERIOD)
    appointments = shown.figures("appointments")
    assert {label: figure(appointments, label) for label in EXPECTED_APPOINTMENTS} == (
        EXPECTED_APPOINTMENTS
    )
    assert len(appointments) == len(EXPECTED_APPOINTMENTS)
    other_block = "Booked at a block other than the arresting block"
    assert f"{other_block} 5 of 8 not cancelled" in appointments
    messages = shown.figures("text-messages")
    assert {label: figure(messages, label) for label in ("Sent", "Delivered", "Failed")} == {
        "Sent": "9",
        "Delivered": "5",
        "Failed": "2",
    }
    assert figure(messages, "Opted out") == "2"


EXPECTED_APPOINTMENTS = {
    "Booked": "10",
    "Initial assessments": "6",
    "Follow-up assessments": "2",
    "Voluntary assessments": "2",
    "Attended": "3",
    "Left early": "1",
    "Did not attend": "2",
    "Cancelled": "2",
    "Rearranged": "3",
    "Awaiting outcome": "1",
    "Attendance rate": "50.0%",
    "Police to be informed": "3",
    "Police informed": "1",
    "Median hours from test to appointment": "30.0",
    "90th percentile hours from test to appointment": "83.2",
    "Booked at a block other than the arresting block": "62.5%",
}


def test_the_month_and_block_tables_and_the_cover_of_each_block(known, client, login):
    login(Role.COORDINATOR)
    shown, _ = page(client, **PERIOD)
    assert shown.tables["by-month"] == [
        [
            "Month",
            "Booked",
            "Attended",
            "Did not attend or left early",
            "Cancelled",
            "Attendance rate",
        ],
        ["March 2027", "5", "2", "2", "1", "50.0%"],
        ["April 2027", "5", "1", "1", "1", "50.0%"],
    ]
    assert shown.tables["by-block"][1:] == [
        ["Bloxwich", "0", "0", "0", "0", "No outcomes", "None booked"],
        ["Coventry", "1", "0", "0", "1", "No outcomes", "None booked"],
        ["Oldbury", "2", "1", "0", "1", "100.0%", "100.0%"],
        ["Perry Barr", "3", "0", "1", "0", "0.0%", "66.7%"],
        ["Stechford", "4", "2", "2", "0", "50.0%", "50.0%"],
        ["Wolverhampton", "0", "0", "0", "0", "No outcomes", "None booked"],
    ]
    assert shown.tables["cover"][1:] == [
        ["Bloxwich", "0.0", "1,463.0"],
        ["Coventry", "0.0", "1,463.0"],
        ["Oldbury", "0.0", "1,463.0"],
        ["Perry Barr", "23.0", "1,440.0"],
        ["Stechford", "34.0", "1,429.0"],
        ["Wolverhampton", "0.0", "1,463.0"],
        ["All blocks", "57.0", "8,721.0"],
    ]


def test_one_block_counted_by_where_people_were_arrested(known, client, login):
    login(Role.COORDINATOR)
    shown, status = page(client, **(PERIOD | {"block": "stechford", "block_by": "arrest"}))
    assert status == 200
    appointments = shown.figures("appointments")
    assert (figure(appointments, "Booked"), figure(appointments, "Attended")) == ("4", "3")
    assert shown.tables["by-block"][1:] == [
        ["Stechford", "4", "3", "0", "0", "100.0%", "50.0%"],
    ]
    assert shown.tables["cover"][1:] == [["Stechford", "34.0", "1,429.0"]]  # its own cover
    assert shown.ids["download-csv"]["href"] == (
        "/reports.csv?start=1&start=3&start=2027&end=30&end=4&end=2027"
        "&block=stechford&block_by=arrest"
    )
    _, blocks_chart, _ = shown.svgs
    assert blocks_chart["title"] == "Appointments by arresting block"


# The charts ----------------------------------------------------------------------------------


def test_the_charts_are_accessible_images_with_a_title_and_every_value_described(
    known, client, login
):
    login(Role.ANALYST)
    shown, _ = page(client, **PERIOD)
    assert len(shown.svgs) == 3, "by month, by block, and assessments and referrals by month"
    months, blocks, assessments = shown.svgs
    for chart in shown.svgs:
        attrs = chart["attrs"]
        assert attrs["role"] == "img"
        assert attrs["xmlns"] == SVG_NS
        assert chart["titles"][attrs["aria-labelledby"]] == chart["title"]
        assert chart["titles"][attrs["aria-describedby"]] == chart["desc"]
    assert months["title"] == "Attendance by month"
    assert "March 2027: 2 attended, 2 did not attend or left early." in months["desc"]
    assert "April 2027: 1 attended, 1 did not attend or left early." in months["desc"]
    assert blocks["title"] == "Appointments by block of the appointment"
    assert "Stechford: 4 booked, 2 attended, 2 did not attend or left early." in blocks["desc"]
    assert "Perry Barr: 3 booked, 0 attended, 1 did not attend or left early." in blocks["desc"]
    assert assessments["title"] == "Assessments and referrals by month"


def test_charts_label_their_categories_and_values_as_the_tables_do(known, client, login):
    login(Role.ANALYST)
    shown, _ = page(client, **PERIOD)
    months, blocks, _ = shown.svgs
    # Legend, ticks 0 to 2, a value per column, then the months.
    assert months["texts"] == [
        "Attended",
        "Did not attend or left early",
        "0",
        "1",
        "2",
        "2",
        "2",
        "1",
        "1",
        "Mar 2027",
        "Apr 2027",
    ]
    month_values = [row[2:4] for row in shown.tables["by-month"][1:]]
    assert month_values == [["2", "2"], ["1", "1"]]
    block_rows = {row[0]: row[1:4] for row in shown.tables["by-block"][1:]}
    texts = blocks["texts"]
    assert texts[:3] == ["Booked", "Attended", "Did not attend or left early"]
    assert texts[3:8] == ["0", "1", "2", "3", "4"]  # the axis
    values, names = texts[8:-6], texts[-6:]
    assert names == list(block_rows)
    assert [values[i : i + 3] for i in range(0, len(values), 3)] == list(block_rows.values())


def test_colour_is_not_the_only_cue_each_series_has_its_own_fill(known, client, login):
    login(Role.ANALYST)
    shown, _ = page(client, **PERIOD)
    for chart in shown.svgs:
        [pattern] = chart["patterns"]
        fills = {(rect.get("fill"), rect.get("stroke")) for rect in chart["rects"]}
        assert (f"url(#{pattern})", charts.RED) in fills  # hatched
        assert (charts.BLUE, charts.BLUE) in fills  # solid
    # "Booked" is drawn as an outline: in the legend and for the four blocks with bookings.
    outlines = [rect for rect in shown.svgs[1]["rects"] if rect.get("stroke") == charts.BLACK]
    assert len(outlines) == 5
    assert {rect["fill"] for rect in outlines} == {charts.WHITE}


def test_the_page_has_no_inline_style_or_script_for_the_csp(known, client, login):
    login(Role.ANALYST)
    response = client.get("/reports", query_string=PERIOD)
    shown = Page(response.get_data(as_text=True))
    policy = response.headers["Content-Security-Policy"]
    assert "style-src 'self';" in policy
    assert shown.styled == []
    # GOV.UK's one line that marks the page as having JavaScript, under the page's nonce.
    [nonce] = shown.inline_scripts
    assert f"'nonce-{nonce}'" in policy
    ids = [element_id for element_id in shown.ids]
    assert len(ids) == len(set(ids))


def test_an_empty_period_still_draws_its_axes(blocks, users, client, login):
    login(Role.ANALYST)
    shown, status = page(client, **PERIOD)
    assert status == 200
    months, *_ = shown.svgs
    assert "March 2027: 0 attended, 0 did not attend or left early." in months["desc"]
    assert months["texts"][2:4] == ["0", "1"]


def test_a_column_is_as_tall_as_its_value_on_a_round_axis():
    chart = charts.column_chart(
        "c",
        "Title",
        "Summary",
        [charts.Series("Attended", "solid"), charts.Series("Not", "hatched")],
        [charts.Category("Mar", (7, 0)), charts.Category("Apr", (3, 5))],
    )
    assert charts.axis_top(7) == (8, 2)
    assert [tick.text for tick in chart.ticks] == ["0", "2", "4", "6", "8"]
    heights = [bar.height + 1 for bar in chart.bars]  # drawn inside a 1-unit stroke
    assert heights == [
        7 / 8 * charts.COLUMN_PLOT_HEIGHT,
        3 / 8 * charts.COLUMN_PLOT_HEIGHT,
        5 / 8 * charts.COLUMN_PLOT_HEIGHT,
    ]  # no bar for a zero, but its value is written
    assert [value.text for value in chart.values] == ["7", "0", "3", "5"]
    for shape in chart.bars:
        assert shape.x >= 0 and shape.x + shape.width <= chart.width
        assert shape.y >= 0 and shape.y + shape.height <= chart.height
    assert chart.description == "Summary. Mar: 7 attended, 0 not. Apr: 3 attended, 5 not."


@pytest.mark.parametrize(
    "largest, top",
    [(0, (1, 1)), (1, (1, 1)), (5, (5, 1)), (6, (6, 2)), (11, (15, 5)), (230, (250, 50))],
)
def test_the_value_axis_ends_on_a_round_number(largest, top):
    assert charts.axis_top(largest) == top


def test_a_chart_refuses_values_that_do_not_match_its_series():
    with pytest.raises(ValueError):
        charts.bar_chart(
            "c", "T", "S", [charts.Series("A", "solid")], [charts.Category("x", (1, 2))]
        )
    with pytest.raises(ValueError):
        charts.Series("A", "rainbow")


# The CSV -------------------------------------------------------------------------------------


def test_the_csv_gives_one_row_per_block_and_month_with_every_figure(known, client, login):
    login(Role.ANALYST)
    response = client.get("/reports.csv", query_string=PERIOD)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="reports-2027-03-01-to-2027-04-30.csv"'
    )
    assert csv_rows(response.get_data(as_text=True)) == csv_rows(EXPECTED_CSV)


def test_the_download_link_gives_the_csv_of_the_figures_shown(known, client, login):
    login(Role.COORDINATOR)
    shown, _ = page(client, **(PERIOD | {"block": "perry-barr"}))
    response = client.get(shown.ids["download-csv"]["href"])
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="reports-2027-03-01-to-2027-04-30-perry-barr.csv"'
    )
    expected = [row for row in csv_rows(EXPECTED_CSV) if row[0] in ("block", "perry-barr")]
    assert csv_rows(response.get_data(as_text=True)) == expected


def test_each_csv_download_is_recorded_in_the_audit_trail(known, client, login, users):
    login(Role.ANALYST)
    client.get("/reports.csv", query_string=PERIOD)
    client.get("/reports.csv", query_string=PERIOD | {"block": "stechford", "block_by": "arrest"})
    events = trail()
    assert [(e.action, e.user_id, e.detail, e.reference) for e in events] == [
        ("csv_exported", users[Role.ANALYST].id, "reports 2027-03-01..2027-04-30", None),
        (
            "csv_exported",
            users[Role.ANALYST].id,
            "reports 2027-03-01..2027-04-30 block stechford by arresting block",
            None,
        ),
    ]
    assert all(event.at == NOW for event in events)


def test_viewing_the_page_is_not_a_disclosure_and_records_nothing(known, client, login):
    login(Role.ANALYST)
    page(client, **PERIOD)
    assert trail() == []


# Personal data -------------------------------------------------------------------------------


def test_the_analysts_page_and_csv_carry_no_name_mobile_or_custody_record(known, client, login):
    login(Role.ANALYST)
    texts = [
        client.get("/reports", query_string=PERIOD).get_data(as_text=True),
        client.get("/reports").get_data(as_text=True),
        client.get("/reports.csv", query_string=PERIOD).get_data(as_text=True),
    ]
    for text in texts:
        for value in [*PERSONAL, *WORKER_NAMES]:
            assert value not in text
        assert not re.search(r"RPT\d{4}", text)  # nor a booking's reference


def test_the_page_and_csv_are_unchanged_after_the_retention_purge(known, client, login, clock):
    login(Role.COORDINATOR)
    page_before, _ = page(client, **PERIOD)
    csv_before = client.get("/reports.csv", query_string=PERIOD).get_data(as_text=True)

    clock.set(local(2028, 1, 10, 3, 0))
    assert retention.purge(clock(), 90) == 12  # every one: all are long past by then
    clock.set(NOW)  # the same "now": an appointment awaiting its outcome stays awaiting

    page_after, _ = page(client, **PERIOD)
    csv_after = client.get("/reports.csv", query_string=PERIOD).get_data(as_text=True)
    assert page_after.tables == page_before.tables
    assert [svg["desc"] for svg in page_after.svgs] == [svg["desc"] for svg in page_before.svgs]
    assert csv_rows(csv_after) == csv_rows(csv_before) == csv_rows(EXPECTED_CSV)
