"""Who may do what: the role sets that the pages, the API and the domain all ask.

A role set names a kind of work, not a page: add a role to the work, and every shell that
offers it and every domain function that guards it agree at once.
"""

from __future__ import annotations

from .models import Role, User

# Booking, rearranging, cancelling, and reading appointments and notices.
BOOKING = frozenset({Role.SERGEANT, Role.WORKER, Role.COORDINATOR})
# Places and cover (blocks, slots, who is on site): all but the analyst.
PLACES = BOOKING
# Booking a follow-up assessment: the assessor decides one is needed.
FOLLOW_UP = frozenset({Role.WORKER, Role.COORDINATOR})
# Outcomes, the worker's day, and the follow-up that an outcome leads to.
OUTCOMES = frozenset({Role.WORKER, Role.COORDINATOR})
# The non-attendances the police must be told of, and marking them told.
POLICE_LIST = frozenset({Role.SERGEANT, Role.WORKER, Role.COORDINATOR})
# Court work: suitability assessments and the court duty list.
COURT_WORK = frozenset({Role.WORKER, Role.COORDINATOR})
# On-site assessments, what followed an assessment, and the follow-through list.
PATHWAY = frozenset({Role.WORKER, Role.COORDINATOR})
# Aggregate figures only, never personal data.
REPORTS = frozenset({Role.COORDINATOR, Role.ANALYST})
# The worker's own calendar feed.
OWN_CALENDAR = frozenset({Role.WORKER})
# The rota, absences, users and tokens, the audit trail, the outbox, block feeds.
COORDINATION = frozenset({Role.COORDINATOR})


def may(user: User | None, work: frozenset[Role]) -> bool:
    """Whether this user's role covers that kind of work."""
    return user is not None and user.role in work
