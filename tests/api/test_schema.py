"""Schemathesis against the live app: no server error, and no answer that breaks the schema.

It generates requests from /api/v1/openapi.json (valid and invalid ones), sends them through the
app with a coordinator's token, and checks every response against the document.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from booking.extensions import db

EXAMPLES_PER_OPERATION = 10
# Schema-valid requests may still be refused by the domain (422: an unknown block, a time that
# is not a free slot), so "positive data acceptance" is not asked of the API; everything else is.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def test_the_api_keeps_to_its_openapi_document(app, tokens, rostered):
    db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # Schemathesis asks for compression as `requests` does, but through WSGI reads the body as it
    # comes: uncompressed answers here (tests/test_page_weight.py checks the compressed ones).
    headers = {"Authorization": f"Bearer {tokens['coordinator']}", "Accept-Encoding": "identity"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def keeps_to_the_document(case):
            case.call_and_validate(headers=headers, checks=CHECKS)
            db.session.rollback()  # the test's session must not hold SQLite's write lock

        keeps_to_the_document()
