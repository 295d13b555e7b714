"""The commissioner's figures over two financial years (1 April 2026 to 31 March 2028), from a
known set of records made through the domain, each with the clock at the time it happened.

Appointments (B), assessments and contacts on site (O), suitability assessments (R) and the
pathways after them (named after their assessment: PB2 follows B2) sit around both clock
changes (Sunday 25 October 2026, Sunday 28 March 2027), the financial year's end (31 March
2027 at 23:30 against 1 April at 00:30) and the two years' outer edges. Every event near
midnight is placed where its UTC date and its local date differ, so only counting by the local
date gives the hand-worked figures below. The clock then reads 1 January 2029.

    B0  Stechford   31 Mar 2026 23:30 BST  initial     attended  (before the two years)
    B1  Stechford   24 Oct 2026 23:30 BST  voluntary   attended
    B2  Stechford   25 Oct 2026 00:30 BST  initial     attended  (23:30 UTC on the 24th)
    B3  Perry Barr  25 Oct 2026 01:30 BST  follow_up   left early (the first 01:30)
    B4  Stechford   15 Dec 2026 10:00      initial     did not attend; its text delivered
    B5  Stechford   20 Jan 2027 10:00      initial     cancelled
    B6  Stechford   28 Mar 2027 00:30 GMT  follow_up   attended
    B7  Stechford   28 Mar 2027 23:30 BST  voluntary   attended
    B8  Stechford   29 Mar 2027 00:30 BST  initial     attended  (23:30 UTC on the 28th)
    B9  Stechford   31 Mar 2027 23:30 BST  initial     attended
    B10 Perry Barr   1 Apr 2027 00:30 BST  voluntary   attended  (23:30 UTC on 31 March)
    B11 Perry Barr  10 Jun 2027, moved to 11 Jun 14:00, initial, attended
    B12 Stechford   31 Oct 2027 00:30 BST  voluntary   left early
    B13 Stechford   20 Nov 2027 10:00      follow_up   no outcome; its text failed
    B14 Stechford    1 Apr 2028 00:30 BST  initial     attended  (after the two years)

    O1  Stechford   25 Oct 2026 00:00 BST  required_initial    (local midnight)
    O2  Perry Barr  24 Oct 2026 23:30 BST  contact_only
    O3  Birmingham  31 Mar 2027 23:30 BST  voluntary           (a court)
    O4  Coventry     1 Apr 2027 00:30 BST  required_follow_up  (a court)
    O5  Stechford   28 Mar 2027 00:00 GMT  voluntary
    O6  Stechford   29 Mar 2027 00:00 BST  required_initial    (23:00 UTC on the 28th)
    O7  Perry Barr  31 Mar 2028 23:30 BST  contact_only
    O8  Stechford    1 Apr 2028 00:30 BST  required_initial    (after the two years)

    R   court       requested         completed (DRR, ATR)            adjourned     sentence
    R1  Birmingham  23 Oct 2026       25 Oct 00:30 BST (S, -)                        drr 26 Oct
    R2  Birmingham  25 Mar 2027       31 Mar 23:30 BST (S, S)  28 Mar 23:30, 29 Mar 00:30
                                                                            drr_and_atr 1 Apr
    R3  Coventry    31 Mar 23:30 BST  1 Apr 00:30 BST (-, S)            other_community_order
    R4  Birmingham   1 Jun 2027       not completed
    R5  Coventry     6 Sep 2027       6 Sep (S, S)                                   atr 6 Sep
    R6  Birmingham   1 Nov 2027       1 Nov (S, -)                                   drr 3 Nov
    R7  Birmingham  31 Mar 2028 23:30 1 Apr 2028 00:30 BST (S, -)  (after the two years)
    R8  Birmingham  10 Feb 2027       10 Feb (S, S)                             custody 10 Feb

    pathway  naloxone  referred (area)        entry                       closed
    PB0      issued    1 Apr 2026
    PB1      declined  no; harm reduction                                 25 Oct 2026 nfa
    PB2      issued    26 Oct 2026            entered 2 Nov 2026          10 Nov treatment
    PB6                29 Mar 2027            not converted (dna), 2 Apr  5 Apr 2027 disengaged
    PB7      issued
    PB9                1 Apr 2027             awaiting                    1 Jun 2027 nfa
    PB10     issued    1 Apr 2027             entered 20 Apr 2027         1 May treatment
    PB11     not_appr. no; harm reduction
    PO1                25 Oct 2026            not converted (declined) 25 Oct, then entered
                                              30 Oct 2026                 30 Nov treatment
    PO2      issued
    PO3                31 Mar 2027            not converted (moved away), 31 Mar 23:45
                                                                          2 Apr 2027 other
    PR1                26 Oct 2026            entered 5 Nov 2026
    PR2      issued
    PR5                7 Sep 2027             not converted (provider declined), 30 Sep
                                                                          1 Oct 2027 other
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from booking import retention
from booking.accounts.users import issue_token
from booking.appointments import bookings, outcomes
from booking.appointments.slots import SlotRules
from booking.court import suitability
from booking.extensions import db
from booking.models import (
    Booking,
    Message,
    MessageStatus,
    OnSiteAssessment,
    Pathway,
    Role,
    SuitabilityAssessment,
)
from booking.models import NonConversionReason as Reason
from booking.pathway import on_site, pathways
from booking.sms import dispatch
from booking.sms.backends import SendFailed
from tests.court.conftest import request_details
from tests.support import add_courts, auth, local, utc
from tests.support import on_site as rostered

STECHFORD, PERRY_BARR = "stechford", "perry-barr"
BIRMINGHAM, COVENTRY = "birmingham-magistrates", "coventry-magistrates"
KPI = "/api/v1/reports/kpi"
YEAR = "/api/v1/reports/year"
TWO_YEARS = {"start": "2026-04-01", "end": "2028-03-31"}
# From the autumn clock change to the spring one: both Sundays are in it.
WINTER = {"start": "2026-10-25", "end": "2027-03-28"}
AFTERWARDS = local(2029, 1, 1, 12, 0)
MINUTE = dt.timedelta(minutes=1)
TWILIO_TOKEN = "year-figures-twilio-token"

# The contract's keys of GET /reports/kpi, the first nine from before the court work.
KPI_KEYS = (
    "bookings",
    "attended",
    "left_early",
    "did_not_attend",
    "cancelled",
    "rearranged",
    "sms_sent",
    "sms_delivered",
    "sms_failed",
    "voluntary_assessments",
    "required_requested",
    "required_completed",
    "suitability_requested",
    "suitability_completed",
    "suitability_adjournments",
    "suitable_drr",
    "suitable_atr",
    "drr_made",
    "atr_made",
    "referrals",
    "entries",
    "non_conversion",
    "cases_closed",
    "naloxone_issued",
)


def non_conversion(**counts: int) -> dict[str, int]:
    """Every reason, at zero unless given."""
    return {reason.value: 0 for reason in Reason} | counts


# fmt: off
# Both years, every place. Counted from the tables above:
#   bookings 13: B1-B13 (B0 and B14 fall outside; B10 is in by its local date)
#   attended 8: B1 B2 B6 B7 B8 B9 B10 B11 | left early 2: B3 B12 | dna 1: B4 | cancelled 1: B5
#   rearranged 1: B11 | texts: B4's sent and delivered, B13's failed (never taken)
#   voluntary 5: B1 B7 B10, O3 O5 | required requested 11: B2 B3 B4 B6 B8 B9 B11 B13 (not B5),
#   O1 O4 O6 | required completed 8: B2 B6 B8 B9 B11, O1 O4 O6
#   suitability requested 8: R1-R8 | completed 6: R1 R2 R3 R5 R6 R8 (R7 after) | adjourned 2: R2
#   suitable DRR 5: R1 R2 R5 R6 R8 | ATR 4: R2 R3 R5 R8 | DRR made 3: R1 R2 R6 | ATR 2: R2 R5
#   referrals 9: PB0 PB2 PB6 PB9 PB10 PO1 PO3 PR1 PR5 | entries 4: PB2 PB10 PO1 PR1
#   not converted: PB6 dna, PO3 moved away, PR5 provider declined (PO1's entered after all)
#   closed 8: PB1 PB2 PB6 PB9 PB10 PO1 PO3 PR5 | naloxone 5: PB2 PB7 PB10 PO2 PR2 (PB0 before)
EVERY_PLACE = {
    "bookings": 13, "attended": 8, "left_early": 2, "did_not_attend": 1, "cancelled": 1,
    "rearranged": 1, "sms_sent": 1, "sms_delivered": 1, "sms_failed": 1,
    "voluntary_assessments": 5, "required_requested": 11, "required_completed": 8,
    "suitability_requested": 8, "suitability_completed": 6, "suitability_adjournments": 2,
    "suitable_drr": 5, "suitable_atr": 4, "drr_made": 3, "atr_made": 2,
    "referrals": 9, "entries": 4,
    "non_conversion": non_conversion(did_not_attend=1, moved_away=1, provider_declined=1),
    "cases_closed": 8, "naloxone_issued": 5,
}
# Stechford alone:
#   bookings 10: B1 B2 B4 B5 B6 B7 B8 B9 B12 B13 | attended 6: B1 B2 B6 B7 B8 B9 | left B12
#   dna B4 | cancelled B5 | texts B4, B13 | voluntary 3: B1 B7 O5
#   required requested 8: B2 B4 B6 B8 B9 B13, O1 O6 | completed 6: B2 B6 B8 B9, O1 O6
#   referrals 5: PB0 PB2 PB6 PB9 PO1 | entries 2: PB2 PO1 | not converted: PB6 dna
#   closed 5: PB1 PB2 PB6 PB9 PO1 | naloxone 2: PB2 PB7
STECHFORD_ONLY = {
    "bookings": 10, "attended": 6, "left_early": 1, "did_not_attend": 1, "cancelled": 1,
    "rearranged": 0, "sms_sent": 1, "sms_delivered": 1, "sms_failed": 1,
    "voluntary_assessments": 3, "required_requested": 8, "required_completed": 6,
    "suitability_requested": 0, "suitability_completed": 0, "suitability_adjournments": 0,
    "suitable_drr": 0, "suitable_atr": 0, "drr_made": 0, "atr_made": 0,
    "referrals": 5, "entries": 2, "non_conversion": non_conversion(did_not_attend=1),
    "cases_closed": 5, "naloxone_issued": 2,
}
# Birmingham magistrates' court alone: no appointments; O3 voluntary
#   requested 6: R1 R2 R4 R6 R7 R8 | completed 4: R1 R2 R6 R8 | adjourned 2: R2
#   suitable DRR 4: R1 R2 R6 R8 | ATR 2: R2 R8 | DRR made 3: R1 R2 R6 | ATR made 1: R2
#   referrals 2: PO3 PR1 | entries 1: PR1 | not converted: PO3 moved away | closed 1: PO3
#   naloxone 1: PR2
BIRMINGHAM_ONLY = {
    "bookings": 0, "attended": 0, "left_early": 0, "did_not_attend": 0, "cancelled": 0,
    "rearranged": 0, "sms_sent": 0, "sms_delivered": 0, "sms_failed": 0,
    "voluntary_assessments": 1, "required_requested": 0, "required_completed": 0,
    "suitability_requested": 6, "suitability_completed": 4, "suitability_adjournments": 2,
    "suitable_drr": 4, "suitable_atr": 2, "drr_made": 3, "atr_made": 1,
    "referrals": 2, "entries": 1, "non_conversion": non_conversion(moved_away=1),
    "cases_closed": 1, "naloxone_issued": 1,
}
# 25 October 2026 to 28 March 2027, every place:
#   bookings 6: B2 B3 B4 B5 B6 B7 (B1 the evening before, B8 the night after)
#   attended 3: B2 B6 B7 | left B3 | dna B4 | cancelled B5 | texts: B4's
#   voluntary 2: B7 O5 | required requested 5: B2 B3 B4 B6 O1 | completed 3: B2 B6 O1
#   requested 2: R2 R8 | completed 2: R1 R8 | adjourned 1: R2's first (its second is on the
#   29th) | suitable DRR 2: R1 R8 | ATR 1: R8 | DRR made 1: R1
#   referrals 3: PO1 PB2 PR1 | entries 3: PO1 PB2 PR1 | none not converted (PO1 entered)
#   closed 3: PB1 PB2 PO1 | naloxone 2: PB2 PB7 (PO2's assessment was on the 24th)
BETWEEN_THE_CLOCK_CHANGES = {
    "bookings": 6, "attended": 3, "left_early": 1, "did_not_attend": 1, "cancelled": 1,
    "rearranged": 0, "sms_sent": 1, "sms_delivered": 1, "sms_failed": 0,
    "voluntary_assessments": 2, "required_requested": 5, "required_completed": 3,
    "suitability_requested": 2, "suitability_completed": 2, "suitability_adjournments": 1,
    "suitable_drr": 2, "suitable_atr": 1, "drr_made": 1, "atr_made": 0,
    "referrals": 3, "entries": 3, "non_conversion": non_conversion(),
    "cases_closed": 3, "naloxone_issued": 2,
}
# 2026 to 2027:
#   engaged 15: attended B1 B2 B6 B7 B8 B9, left early B3, on site O1 O2 O3 O5 O6,
#   suitability R1 R2 R8 | statutory 6: B2 B6 B8 B9, O1 O6
#   voluntary and court 7: B1 B7, O3 O5, R1 R2 R8 | completed 13 of 15
#   transferred 6: PB0 PO1 PB2 PR1 PB6 PO3 (PB9, PB10 on 1 April)
#   suitable DRR 3: R1 R2 R8, granted 2: R1 R2 (R2 sentenced in the next year) | ATR 2: R2 R8,
#   granted 1: R2
YEAR_2026 = {
    "start": "2026-04-01", "end": "2027-03-31", "engaged": 15,
    "assessments_completed": 13, "assessments_completed_share": 0.867,
    "statutory_assessments": 6, "voluntary_and_court_assessments": 7,
    "transferred_to_treatment": 6,
    "suitable_drr": 3, "drr_granted": 2, "drr_granted_share": 0.667,
    "suitable_atr": 2, "atr_granted": 1, "atr_granted_share": 0.5,
}
# 2027 to 2028:
#   engaged 8: attended B10 B11, left early B12, on site O4 O7, suitability R3 R5 R6
#   statutory 2: B11, O4 | voluntary and court 4: B10, R3 R5 R6 | completed 6 of 8
#   transferred 3: PB9 PB10 PR5 | suitable DRR 2: R5 R6, granted R6 | ATR 2: R3 R5, granted R5
YEAR_2027 = {
    "start": "2027-04-01", "end": "2028-03-31", "engaged": 8,
    "assessments_completed": 6, "assessments_completed_share": 0.75,
    "statutory_assessments": 2, "voluntary_and_court_assessments": 4,
    "transferred_to_treatment": 3,
    "suitable_drr": 2, "drr_granted": 1, "drr_granted_share": 0.5,
    "suitable_atr": 2, "atr_granted": 1, "atr_granted_share": 0.5,
}
# fmt: on


class RefusingBackend:
    """A text provider that turns every message down for good."""

    concurrent = False

    def send(
        self, to: str, body: str, status_callback: str | None, reference: str | None = None
    ) -> str:
        raise SendFailed("Unreachable handset", transient=False, code="30003")


class Records:
    """Writes the records through the domain, the clock set to when each thing happened."""

    def __init__(self, app, client, users, blocks, clock, book):
        self.app, self.client, self.users = app, client, users
        self.blocks, self.clock, self.book = blocks, clock, book
        self.worker = users[Role.WORKER]
        self.refs: dict[str, str] = {}

    def at(self, instant: dt.datetime) -> dt.datetime:
        self.clock.set(instant)
        return instant

    def appointment(
        self,
        name: str,
        block: str,
        starts_at: dt.datetime,
        requirement: str,
        outcome: str | None,
        *,
        mobile: str | None = None,
        backend=None,
    ) -> Booking:
        """Booked 90 minutes ahead in the worker's half-hour shift (with a mobile, its
        confirmation sent at once: the reminders' times have passed), then its outcome
        recorded 45 minutes after it started."""
        rostered(self.worker.worker, self.blocks[block], starts_at, starts_at + 30 * MINUTE)
        self.at(starts_at - 90 * MINUTE)
        booking = self.book(
            starts_at,
            block,
            by=Role.WORKER if requirement == "follow_up" else Role.SERGEANT,
            requirement=requirement,
            test_result="negative" if requirement == "voluntary" else "cocaine",
            mobile=mobile,
            sms_consent=mobile is not None,
        )
        self.refs[name] = booking.reference
        if mobile is not None:
            self.send_texts(backend)
        if outcome is not None:
            self.outcome(booking, outcome, starts_at + 45 * MINUTE)
        return booking

    def outcome(self, booking: Booking, outcome: str, at: dt.datetime) -> None:
        outcomes.record_outcome(booking, outcome, by=self.worker, now=self.at(at))
        db.session.commit()

    def send_texts(self, backend=None) -> None:
        dispatch.dispatch(self.clock, backend=backend)
        db.session.commit()

    def delivered(self, booking: Booking, at: dt.datetime) -> None:
        """Twilio's signed callback: the confirmation was delivered."""
        self.at(at)
        sid = db.session.scalar(
            select(Message.provider_id).where(
                Message.booking == booking, Message.kind == "confirmation"
            )
        )
        params = {"MessageSid": sid, "MessageStatus": "delivered"}
        url = self.app.config["PUBLIC_BASE_URL"] + "/sms/status"
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
        response = self.client.post(
            "/sms/status", data=params, headers={"X-Twilio-Signature": signature}
        )
        assert response.status_code == 204

    def on_site(self, name: str, place: str, kind: str, assessed_at: dt.datetime) -> None:
        self.at(assessed_at + 10 * MINUTE)
        record = on_site.record(place, kind, assessed_at, by=self.worker, now=self.clock())
        db.session.commit()
        self.refs[name] = record.reference

    def request(
        self, name: str, court: str, at: dt.datetime, hearing: dt.date
    ) -> SuitabilityAssessment:
        self.at(at)
        record = suitability.request(
            request_details(court=court, hearing_date=hearing),
            by=self.worker,
            now=self.clock(),
            allow_test_numbers=True,
        )
        db.session.commit()
        self.refs[name] = record.reference
        return record

    def result(self, record, completed_at: dt.datetime, drr: str, atr: str) -> None:
        self.at(completed_at + 15 * MINUTE)
        suitability.record_result(
            record,
            drr=drr,
            atr=atr,
            willing=True,
            completed_at=completed_at,
            by=self.worker,
            now=self.clock(),
        )
        db.session.commit()

    def adjourn(self, record, at: dt.datetime, to: dt.date) -> None:
        self.at(at)
        suitability.adjourn(
            record,
            to,
            None,
            by=self.worker,
            now=self.clock(),
            rules=SlotRules(),
            lead_working_days=1,
            allow_test_numbers=True,
        )
        db.session.commit()

    def sentence(self, record, outcome: str, on: dt.date) -> None:
        self.at(local(on.year, on.month, on.day, 17, 0))
        suitability.record_sentence(record, outcome, on, by=self.worker, now=self.clock())
        db.session.commit()

    def pathway(self, name: str, at: dt.datetime, **changes) -> None:
        """What followed assessment `name`, as recorded at `at`: PB2 follows B2."""
        self.at(at)
        found = pathways.assessment(self.refs[name])
        pathways.record(found, changes, by=self.worker, now=self.clock())
        db.session.commit()


def referred(area: str, on: dt.date, entry: str = "awaiting") -> dict:
    return {"referred": True, "referral_area": area, "referred_on": on, "entry": entry}


def make_two_years(records: Records) -> None:
    r = records
    day = dt.date

    # B0: the evening before the two years; its referral is the first day of them.
    r.appointment("B0", STECHFORD, local(2026, 3, 31, 23, 30), "initial", "attended")
    r.pathway(
        "B0",
        local(2026, 4, 1, 10, 0),
        naloxone="issued",
        **referred("birmingham", day(2026, 4, 1)),
    )

    # The autumn clock change: Saturday evening 24 October, then Sunday 25 October.
    r1 = r.request("R1", BIRMINGHAM, local(2026, 10, 23, 23, 30), day(2026, 10, 26))
    r.appointment("B1", STECHFORD, local(2026, 10, 24, 23, 30), "voluntary", "attended")
    r.on_site("O2", PERRY_BARR, "contact_only", local(2026, 10, 24, 23, 30))
    r.appointment("B2", STECHFORD, local(2026, 10, 25, 0, 30), "initial", "attended")
    r.on_site("O1", STECHFORD, "required_initial", local(2026, 10, 25, 0, 0))
    r.result(r1, local(2026, 10, 25, 0, 30), "suitable", "not_assessed")
    # The first of the two 01:30s (BST), half an hour after midnight in UTC.
    r.appointment("B3", PERRY_BARR, local(2026, 10, 25, 1, 30), "follow_up", "left_early")
    r.pathway("O2", local(2026, 10, 25, 9, 0), naloxone="issued")
    r.pathway(
        "O1",
        local(2026, 10, 25, 10, 0),
        **referred("dudley", day(2026, 10, 25), "not_converted"),
        non_conversion_reason="declined",
    )
    r.pathway(
        "B1",
        local(2026, 10, 25, 12, 0),
        naloxone="declined",
        harm_reduction=True,
        referred=False,
        closed_on=day(2026, 10, 25),
        closure_reason="no_further_action",
    )
    r.pathway(
        "B2",
        local(2026, 10, 26, 10, 0),
        naloxone="issued",
        **referred("birmingham", day(2026, 10, 26)),
    )
    r.sentence(r1, "drr", day(2026, 10, 26))
    r.pathway(
        "R1",
        local(2026, 10, 26, 18, 0),
        **referred("birmingham", day(2026, 10, 26)),
    )
    # O1's referral led into treatment after all: it no longer counts as not converted.
    r.pathway(
        "O1",
        local(2026, 10, 30, 10, 0),
        entry="entered",
        entered_on=day(2026, 10, 30),
        non_conversion_reason=None,
    )
    r.pathway("B2", local(2026, 11, 2, 10, 0), entry="entered", entered_on=day(2026, 11, 2))
    r.pathway("R1", local(2026, 11, 5, 10, 0), entry="entered", entered_on=day(2026, 11, 5))
    r.pathway(
        "B2",
        local(2026, 11, 10, 10, 0),
        closed_on=day(2026, 11, 10),
        closure_reason="treatment_entered",
    )
    r.pathway(
        "O1",
        local(2026, 11, 30, 10, 0),
        closed_on=day(2026, 11, 30),
        closure_reason="treatment_entered",
    )

    # Winter: a text taken and delivered, a cancellation, a suitability assessment in a day.
    b4 = r.appointment(
        "B4", STECHFORD, local(2026, 12, 15, 10, 0), "initial", None, mobile="07700 900471"
    )
    r.delivered(b4, local(2026, 12, 15, 8, 35))
    r.outcome(b4, "did_not_attend", local(2026, 12, 15, 10, 45))
    b5 = r.appointment("B5", STECHFORD, local(2027, 1, 20, 10, 0), "initial", None)
    r.at(local(2027, 1, 20, 9, 0))
    bookings.cancel(b5, "Released to another area", by=r.users[Role.SERGEANT], now=r.clock())
    db.session.commit()
    r8 = r.request("R8", BIRMINGHAM, local(2027, 2, 10, 9, 0), day(2027, 2, 10))
    r.result(r8, local(2027, 2, 10, 11, 0), "suitable", "suitable")
    r.sentence(r8, "custody", day(2027, 2, 10))

    # The spring clock change, Sunday 28 March (Easter Day; Easter Monday is no sitting day).
    r2 = r.request("R2", BIRMINGHAM, local(2027, 3, 25, 10, 0), day(2027, 3, 25))
    r.on_site("O5", STECHFORD, "voluntary", local(2027, 3, 28, 0, 0))
    r.appointment("B6", STECHFORD, local(2027, 3, 28, 0, 30), "follow_up", "attended")
    r.appointment("B7", STECHFORD, local(2027, 3, 28, 23, 30), "voluntary", "attended")
    r.adjourn(r2, local(2027, 3, 28, 23, 30), day(2027, 3, 30))
    r.on_site("O6", STECHFORD, "required_initial", local(2027, 3, 29, 0, 0))
    r.appointment("B8", STECHFORD, local(2027, 3, 29, 0, 30), "initial", "attended")
    r.adjourn(r2, local(2027, 3, 29, 0, 30), day(2027, 3, 31))
    r.pathway("B7", local(2027, 3, 29, 9, 0), naloxone="issued")
    r.pathway(
        "B6",
        local(2027, 3, 29, 10, 0),
        **referred("coventry", day(2027, 3, 29)),
    )

    # The financial year's end: 31 March at 23:30 against 1 April at 00:30.
    r.appointment("B9", STECHFORD, local(2027, 3, 31, 23, 30), "initial", "attended")
    r.on_site("O3", BIRMINGHAM, "voluntary", local(2027, 3, 31, 23, 30))
    r.result(r2, local(2027, 3, 31, 23, 30), "suitable", "suitable")
    r3 = r.request("R3", COVENTRY, local(2027, 3, 31, 23, 30), day(2027, 4, 1))
    r.pathway(
        "O3",
        local(2027, 3, 31, 23, 45),
        **referred("out_of_area", day(2027, 3, 31), "not_converted"),
        non_conversion_reason="moved_away",
    )
    r.appointment("B10", PERRY_BARR, local(2027, 4, 1, 0, 30), "voluntary", "attended")
    r.on_site("O4", COVENTRY, "required_follow_up", local(2027, 4, 1, 0, 30))
    r.result(r3, local(2027, 4, 1, 0, 30), "not_suitable", "suitable")
    r.pathway(
        "B9",
        local(2027, 4, 1, 9, 0),
        **referred("sandwell", day(2027, 4, 1)),
    )
    r.pathway(
        "B10",
        local(2027, 4, 1, 10, 0),
        naloxone="issued",
        **referred("wolverhampton", day(2027, 4, 1)),
    )
    r.sentence(r2, "drr_and_atr", day(2027, 4, 1))
    r.sentence(r3, "other_community_order", day(2027, 4, 1))
    r.pathway("R2", local(2027, 4, 1, 18, 0), naloxone="issued")
    r.pathway(
        "B6",
        local(2027, 4, 2, 10, 0),
        entry="not_converted",
        non_conversion_reason="did_not_attend",
    )
    r.pathway("O3", local(2027, 4, 2, 10, 0), closed_on=day(2027, 4, 2), closure_reason="other")
    r.pathway(
        "B6", local(2027, 4, 5, 10, 0), closed_on=day(2027, 4, 5), closure_reason="disengaged"
    )
    r.pathway("B10", local(2027, 4, 20, 10, 0), entry="entered", entered_on=day(2027, 4, 20))
    r.pathway(
        "B10",
        local(2027, 5, 1, 10, 0),
        closed_on=day(2027, 5, 1),
        closure_reason="treatment_entered",
    )
    r.pathway(
        "B9",
        local(2027, 6, 1, 10, 0),
        closed_on=day(2027, 6, 1),
        closure_reason="no_further_action",
    )

    # 2027 to 2028.
    r4 = r.request("R4", BIRMINGHAM, local(2027, 6, 1, 9, 0), day(2027, 6, 1))
    r.at(local(2027, 6, 1, 10, 0))
    suitability.record_not_completed(r4, "declined", by=r.worker, now=r.clock())
    db.session.commit()
    b11 = r.appointment("B11", PERRY_BARR, local(2027, 6, 10, 14, 0), "initial", None)
    moved_to = local(2027, 6, 11, 14, 0)
    rostered(r.worker.worker, r.blocks[PERRY_BARR], moved_to, moved_to + 30 * MINUTE)
    r.at(local(2027, 6, 10, 13, 0))
    bookings.rearrange(
        b11, PERRY_BARR, moved_to, by=r.users[Role.SERGEANT], now=r.clock(), rules=SlotRules()
    )
    db.session.commit()
    r.outcome(b11, "attended", moved_to + 45 * MINUTE)
    r.pathway(
        "B11",
        local(2027, 6, 11, 15, 0),
        naloxone="not_appropriate",
        harm_reduction=True,
        referred=False,
    )
    r5 = r.request("R5", COVENTRY, local(2027, 9, 6, 9, 0), day(2027, 9, 6))
    r.result(r5, local(2027, 9, 6, 12, 0), "suitable", "suitable")
    r.sentence(r5, "atr", day(2027, 9, 6))
    r.pathway(
        "R5",
        local(2027, 9, 7, 10, 0),
        **referred("walsall", day(2027, 9, 7)),
    )
    r.pathway(
        "R5",
        local(2027, 9, 30, 10, 0),
        entry="not_converted",
        non_conversion_reason="provider_declined",
    )
    r.pathway("R5", local(2027, 10, 1, 10, 0), closed_on=day(2027, 10, 1), closure_reason="other")
    r.appointment("B12", STECHFORD, local(2027, 10, 31, 0, 30), "voluntary", "left_early")
    r6 = r.request("R6", BIRMINGHAM, local(2027, 11, 1, 9, 0), day(2027, 11, 1))
    r.result(r6, local(2027, 11, 1, 11, 0), "suitable", "not_suitable")
    r.sentence(r6, "drr", day(2027, 11, 3))
    r.appointment(
        "B13",
        STECHFORD,
        local(2027, 11, 20, 10, 0),
        "follow_up",
        None,
        mobile="07700 900472",
        backend=RefusingBackend(),
    )

    # The last evening of the two years, and the first night after them.
    r.on_site("O7", PERRY_BARR, "contact_only", local(2028, 3, 31, 23, 30))
    r7 = r.request("R7", BIRMINGHAM, local(2028, 3, 31, 23, 30), day(2028, 4, 3))
    r.appointment("B14", STECHFORD, local(2028, 4, 1, 0, 30), "initial", "attended")
    r.on_site("O8", STECHFORD, "required_initial", local(2028, 4, 1, 0, 30))
    r.result(r7, local(2028, 4, 1, 0, 30), "suitable", "not_assessed")
    r.at(AFTERWARDS)


@pytest.fixture
def two_years(app, client, blocks, clock, request) -> Records:
    """The records above; the users made a month before the first of them."""
    clock.set(local(2026, 3, 1, 9, 0))
    users = request.getfixturevalue("users")
    book = request.getfixturevalue("book")
    add_courts()
    app.config["TWILIO_AUTH_TOKEN"] = TWILIO_TOKEN
    records = Records(app, client, users, blocks, clock, book)
    make_two_years(records)
    return records


@pytest.fixture
def read(two_years, client, clock):
    """GET a report as the analyst, who sees figures only; the answer's JSON."""
    token = issue_token(two_years.users[Role.ANALYST], clock())
    db.session.commit()

    def get(path: str, **params) -> dict:
        response = client.get(path, query_string=params, headers=auth(token))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    return get


def kpi_figures(answer: dict) -> dict:
    return {key: answer[key] for key in KPI_KEYS}


def every_answer(read) -> dict[str, dict]:
    return {
        "two years": read(KPI, **TWO_YEARS),
        "stechford": read(KPI, **TWO_YEARS, block=STECHFORD),
        "birmingham": read(KPI, **TWO_YEARS, block=BIRMINGHAM),
        "winter": read(KPI, **WINTER),
        "2026": read(YEAR, year="2026"),
        "2027": read(YEAR, year="2027"),
    }


def assert_every_figure(answers: dict[str, dict]) -> None:
    assert kpi_figures(answers["two years"]) == EVERY_PLACE
    assert kpi_figures(answers["stechford"]) == STECHFORD_ONLY
    assert kpi_figures(answers["birmingham"]) == BIRMINGHAM_ONLY
    assert kpi_figures(answers["winter"]) == BETWEEN_THE_CLOCK_CHANGES
    assert answers["2026"] == YEAR_2026
    assert answers["2027"] == YEAR_2027


def test_the_events_near_midnight_fall_on_other_utc_dates():
    # The set-up's premise: counting by UTC date would move these to the day before.
    assert local(2026, 10, 25, 0, 0) == utc(2026, 10, 24, 23, 0)
    assert local(2026, 10, 25, 0, 30) == utc(2026, 10, 24, 23, 30)
    assert local(2027, 3, 29, 0, 0) == utc(2027, 3, 28, 23, 0)
    assert local(2027, 3, 29, 0, 30) == utc(2027, 3, 28, 23, 30)
    assert local(2027, 4, 1, 0, 30) == utc(2027, 3, 31, 23, 30)
    assert local(2028, 4, 1, 0, 30) == utc(2028, 3, 31, 23, 30)
    # And these are GMT: the first 01:30 of 25 October 2026 is still BST.
    assert local(2026, 10, 25, 1, 30) == utc(2026, 10, 25, 0, 30)
    assert local(2027, 3, 28, 0, 30) == utc(2027, 3, 28, 0, 30)


def test_every_kpi_figure_over_the_two_years_at_every_place(read):
    answer = read(KPI, **TWO_YEARS)
    assert set(KPI_KEYS) <= set(answer)
    assert answer["block"] is None
    assert kpi_figures(answer) == EVERY_PLACE


def test_every_kpi_figure_at_one_custody_block(read):
    answer = read(KPI, **TWO_YEARS, block=STECHFORD)
    assert answer["block"] == STECHFORD
    assert kpi_figures(answer) == STECHFORD_ONLY


def test_every_kpi_figure_at_one_court(read):
    answer = read(KPI, **TWO_YEARS, block=BIRMINGHAM)
    assert answer["block"] == BIRMINGHAM
    assert kpi_figures(answer) == BIRMINGHAM_ONLY


def test_every_kpi_figure_between_the_clock_changes_counts_each_event_by_its_local_date(read):
    assert kpi_figures(read(KPI, **WINTER)) == BETWEEN_THE_CLOCK_CHANGES


def test_the_year_summaries_of_two_consecutive_financial_years_split_at_local_midnight(read):
    assert read(YEAR, year="2026") == YEAR_2026
    assert read(YEAR, year="2027") == YEAR_2027


def test_the_two_years_add_up_to_the_kpi_over_both(read):
    both = read(KPI, **TWO_YEARS)
    years = [read(YEAR, year="2026"), read(YEAR, year="2027")]
    assert both["engaged"] == sum(year["engaged"] for year in years)
    assert both["referrals"] == sum(year["transferred_to_treatment"] for year in years)
    assert both["required_completed"] == sum(year["statutory_assessments"] for year in years)


def columns(model) -> list[dict]:
    """Every row of the model's table, column by column, in id order."""
    names = [attribute.key for attribute in model.__mapper__.column_attrs]
    rows = db.session.scalars(select(model).order_by(model.id))
    return [{name: getattr(row, name) for name in names} for row in rows]


PERSONAL = ("person_name", "mobile", "custody_record")


def test_the_purge_removes_personal_data_and_changes_no_figure(two_years, read, clock):
    before = every_answer(read)
    pathway_rows, on_site_rows = columns(Pathway), columns(OnSiteAssessment)
    coded = [
        {k: v for k, v in row.items() if k not in (*PERSONAL, "purged_at")}
        for row in columns(SuitabilityAssessment)
    ]
    assert len(pathway_rows) == 14 and len(on_site_rows) == 8
    # Two of the appointments have a mobile; every one has a name and custody record.
    assert all(row["person_name"] and row["custody_record"] for row in columns(Booking))
    assert sum(1 for row in columns(Booking) if row["mobile"]) == 2

    # Past every appointment's and assessment's retention; 15 bookings and 8 assessments.
    assert retention.purge(clock(), 90) == 23

    db.session.expire_all()
    for row in columns(Booking) + columns(SuitabilityAssessment):
        assert {name: row[name] for name in PERSONAL} == dict.fromkeys(PERSONAL), row["reference"]
        assert row["purged_at"] == AFTERWARDS
    assert [
        {k: v for k, v in row.items() if k not in (*PERSONAL, "purged_at")}
        for row in columns(SuitabilityAssessment)
    ] == coded
    assert columns(Pathway) == pathway_rows
    assert columns(OnSiteAssessment) == on_site_rows
    after = every_answer(read)
    assert after == before
    assert_every_figure(after)


def test_a_purged_appointment_still_shows_what_followed_it(two_years, client, clock):
    token = issue_token(two_years.users[Role.WORKER], clock())
    db.session.commit()
    path = f"/api/v1/pathway/{two_years.refs['B2']}"
    before = client.get(path, headers=auth(token)).get_json()
    retention.purge(clock(), 90)
    response = client.get(path, headers=auth(token))
    assert response.status_code == 200
    assert response.get_json() == before
    assert before["entry"] == "entered" and before["closure_reason"] == "treatment_entered"


def test_the_texts_counted_are_the_ones_that_went(two_years):
    # The premise of the text figures: B4's confirmation taken and delivered, B13's refused.
    statuses = {
        name: db.session.scalar(
            select(Message.status).where(
                Message.booking.has(reference=two_years.refs[name]),
                Message.kind == "confirmation",
            )
        )
        for name in ("B4", "B13")
    }
    assert statuses == {"B4": MessageStatus.DELIVERED, "B13": MessageStatus.FAILED}
