"""/api/v1/openapi.json is made from the models and the register the routes use, and every
error under /api/, 405 and 429 included, is the contract's JSON error."""

from __future__ import annotations

import re

import pytest
from pydantic.json_schema import models_json_schema

from booking import create_app
from booking.api import responses, schemas
from booking.api.operations import OPERATIONS
from booking.extensions import db, limiter
from booking.reports import figures as reports
from tests.api_helpers import auth, booking_body

REF = "#/components/schemas/{model}"
ERROR_KEYS = {"error", "errors"}


@pytest.fixture
def document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def operations_of(document: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, described)
        for path, methods in document["paths"].items()
        for method, described in methods.items()
    ]


def test_every_api_route_is_described_with_its_methods(app, document):
    assert document["openapi"].startswith("3.")
    described = {(method, path) for method, path, _ in operations_of(document)}
    routes = {
        (method, re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1")))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert described == routes


def test_every_operation_has_its_own_readable_id_and_a_tag(document):
    operations = operations_of(document)
    ids = [described["operationId"] for _, _, described in operations]
    assert len(set(ids)) == len(ids) == len(OPERATIONS)
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]*)*", name) for name in ids), ids
    assert {"createBooking", "getBooking", "rearrangeBooking", "cancelBooking"} <= set(ids)
    tags = {tag["name"] for tag in document["tags"]}
    for _, _, described in operations:
        assert len(described["tags"]) == 1
        assert described["tags"][0] in tags


def test_the_schemas_are_the_models_the_routes_read_and_write(document):
    read = [(op.body, "validation") for op in OPERATIONS if op.body]
    written = [(model, "serialization") for model in (responses.Booking, responses.Kpi)]
    _, expected = models_json_schema(read + written, ref_template=REF)
    for name, schema in expected["$defs"].items():
        assert document["components"]["schemas"][name] == schema, name


def test_query_parameters_are_the_query_models_fields(document):
    described = {
        described["operationId"]: {p["name"] for p in described.get("parameters", ())}
        for _, _, described in operations_of(document)
    }
    assert described["listSlots"] == set(schemas.SlotsQuery.model_fields)
    assert described["getKpiReport"] == set(schemas.KpiQuery.model_fields)
    assert described["listAuditEvents"] == set(schemas.AuditQuery.model_fields)


def test_the_report_figures_are_those_the_report_module_names(document):
    figures = document["components"]["schemas"]["Figures"]
    assert (
        set(figures["properties"]) == set(figures["required"]) == set(reports.Figures().as_dict())
    )
    kpi = document["components"]["schemas"]["Kpi"]["properties"]
    assert set(figures["properties"]) < set(kpi)


@pytest.fixture
def api_booking(client, tokens, rostered) -> dict:
    """A booking as POST /api/v1/bookings answered it."""
    headers = auth(tokens["sergeant"])
    slot = client.get("/api/v1/slots?limit=1", headers=headers).get_json()[0]
    response = client.post("/api/v1/bookings", json=booking_body(slot), headers=headers)
    assert response.status_code == 201
    return response.get_json()


def test_a_booking_answers_in_its_documented_shape(api_booking, document):
    booking = document["components"]["schemas"]["Booking"]
    assert set(api_booking) == set(booking["properties"]) == set(booking["required"])
    responses.Booking.model_validate(api_booking)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/blocks", {"GET"}),
        ("PUT", "/api/v1/bookings/ABCD-EFGH/cancel", {"POST"}),
        ("POST", "/api/v1/openapi.json", {"GET"}),
    ],
)
def test_a_method_a_path_does_not_take_is_a_json_405(client, tokens, method, path, allowed):
    response = client.open(path, method=method, headers=auth(tokens["coordinator"]))
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert set(response.get_json()) == ERROR_KEYS
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_a_405_outside_the_api_is_still_a_page(client):
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert response.mimetype == "text/html"


def test_405_and_429_are_documented(document):
    shared = document["components"]["responses"]
    for name in ("MethodNotAllowed", "TooManyRequests"):
        schema = shared[name]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}
    assert "405" in shared["MethodNotAllowed"]["description"]
    assert "429" in shared["TooManyRequests"]["description"]


@pytest.fixture
def rate_limited(app, schema, clock):
    """An app whose deployment sets a rate limit over every path: 2 requests a minute."""
    db.session.commit()
    limited = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": schema,
            "CLOCK": clock,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_APPLICATION": "2 per minute",
        }
    )
    yield limited
    # The limiter is one object for every app: later apps must not inherit this limit.
    limiter.limit_manager.set_application_limits([])
    with limited.app_context():
        db.engine.dispose()


def test_too_many_requests_under_the_api_is_a_json_429(rate_limited):
    client = rate_limited.test_client()
    for _ in range(2):
        assert client.get("/api/v1/openapi.json").status_code == 200
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 429
    assert response.mimetype == "application/json"
    assert set(response.get_json()) == ERROR_KEYS
