"""The OpenAPI 3 document of the JSON API (served at /api/v1/openapi.json)."""

from __future__ import annotations

from functools import cache

from flask import current_app

from .schemas import BookingIn, CancelIn, OutcomeIn, RearrangeIn

TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
CODE = {"type": "string"}

ERROR = {
    "type": "object",
    "required": ["error", "errors"],
    "properties": {
        "error": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
SLOT = {
    "type": "object",
    "required": ["block", "starts_at", "ends_at", "free"],
    "properties": {
        "block": CODE,
        "starts_at": TIME,
        "ends_at": TIME,
        "free": {"type": "integer", "minimum": 1},
    },
}
SLOT_TAKEN = {
    "allOf": [
        {"$ref": "#/components/schemas/Error"},
        {
            "type": "object",
            "required": ["alternatives"],
            "properties": {
                "alternatives": {"type": "array", "items": {"$ref": "#/components/schemas/Slot"}}
            },
        },
    ]
}
BLOCK = {
    "type": "object",
    "required": ["code", "name", "address", "high_activity", "timezone"],
    "properties": {
        "code": CODE,
        "name": {"type": "string"},
        "address": {"type": "string"},
        "high_activity": {"type": "boolean"},
        "timezone": {"type": "string"},
    },
}
COVER = {
    "type": "object",
    "required": ["block", "at", "on_site", "workers_on_site", "next_on_site_at"],
    "properties": {
        "block": CODE,
        "at": TIME,
        "on_site": {"type": "boolean"},
        "workers_on_site": {"type": "integer", "minimum": 0},
        "next_on_site_at": {
            **NULLABLE_TIME,
            "description": "When cover next starts; null while a worker is on site.",
        },
    },
}
MESSAGE = {
    "type": "object",
    "required": ["kind", "send_at", "status", "attempts"],
    "properties": {
        "kind": {"enum": ["confirmation", "day_before", "same_day", "changed", "cancelled"]},
        "send_at": TIME,
        "status": {
            "enum": ["pending", "sending", "sent", "delivered", "failed", "cancelled", "skipped"]
        },
        "attempts": {"type": "integer", "minimum": 0},
    },
}
AUDIT_EVENT = {
    "type": "object",
    "required": ["at", "user", "action", "reference"],
    "properties": {
        "at": TIME,
        "user": {"type": ["string", "null"], "description": "email; null for the service itself"},
        "action": {"type": "string"},
        "reference": {"type": ["string", "null"]},
    },
}
COUNT = {"type": "integer", "minimum": 0}
HOURS = {"type": "number", "minimum": 0}
NULLABLE_NUMBER = {"type": ["number", "null"]}
FIGURES = {
    "type": "object",
    "required": [
        "bookings",
        "attended",
        "left_early",
        "did_not_attend",
        "cancelled",
        "rearranged",
        "sms_sent",
        "sms_delivered",
        "sms_failed",
    ],
    "properties": {
        **{
            name: COUNT
            for name in (
                "bookings",
                "initial",
                "follow_up",
                "voluntary",
                "attended",
                "left_early",
                "did_not_attend",
                "cancelled",
                "rearranged",
                "awaiting_outcome",
                "police_to_inform",
                "police_informed",
                "other_block",
                "sms_sent",
                "sms_delivered",
                "sms_failed",
                "sms_opted_out",
            )
        },
        "cover_hours": HOURS,
        "gap_hours": HOURS,
        "attendance_rate": NULLABLE_NUMBER,
        "other_block_share": NULLABLE_NUMBER,
        "median_hours_to_appointment": NULLABLE_NUMBER,
        "p90_hours_to_appointment": NULLABLE_NUMBER,
    },
}
KPI = {
    "allOf": [
        {"$ref": "#/components/schemas/Figures"},
        {
            "type": "object",
            "required": ["start", "end", "block", "block_by", "by_block", "by_month"],
            "properties": {
                "start": {"type": "string", "format": "date"},
                "end": {"type": "string", "format": "date"},
                "block": {"type": ["string", "null"]},
                "block_by": {"enum": ["appointment", "arrest"]},
                "by_block": {
                    "type": "object",
                    "additionalProperties": {"$ref": "#/components/schemas/Figures"},
                },
                "by_month": {
                    "type": "object",
                    "additionalProperties": {"$ref": "#/components/schemas/Figures"},
                },
            },
        },
    ]
}
BOOKING = {
    "type": "object",
    "required": [
        "reference",
        "status",
        "block",
        "starts_at",
        "ends_at",
        "custody_record",
        "person_name",
        "mobile",
        "sms_consent",
        "requirement",
        "test_result",
        "tested_at",
        "disputed",
        "arrest_block",
        "notice_version",
        "worker",
        "messages",
    ],
    "properties": {
        "reference": {"type": "string", "pattern": "^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$"},
        "status": {"enum": ["booked", "attended", "left_early", "did_not_attend", "cancelled"]},
        "block": CODE,
        "starts_at": TIME,
        "ends_at": TIME,
        "custody_record": {"type": ["string", "null"]},
        "person_name": {"type": ["string", "null"]},
        "mobile": {"type": ["string", "null"], "description": "E.164, +447…"},
        "sms_consent": {"type": "boolean"},
        "requirement": {"enum": ["initial", "follow_up", "voluntary"]},
        "test_result": {"enum": ["opiates", "cocaine", "both", "negative"]},
        "tested_at": TIME,
        "disputed": {"type": "boolean"},
        "arrest_block": CODE,
        "notice_version": {"type": "integer", "minimum": 1},
        "worker": {
            "type": ["object", "null"],
            "properties": {"name": {"type": "string"}},
            "description": "null while the appointment needs rearranging",
        },
        "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
    },
}


def _body_schema(model) -> dict:
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    return schema


def _error(description: str, schema: str = "Error") -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _ok(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


UNAUTHORISED = {"401": _error("No or bad token"), "403": _error("Role not allowed")}
BAD_REQUEST = {"400": _error("Malformed parameters or JSON")}
REFUSED = {"413": _error("Body over 64 KiB"), "422": _error("A field fails validation")}
REFERENCE = {
    "name": "reference",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "maxLength": 12},
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "A retry with the same key returns the first answer and changes nothing.",
}


def _json_body(model) -> dict:
    return {
        "required": True,
        "content": {"application/json": {"schema": _ref(model.__name__)}},
    }


def _time_query(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": TIME,
        "description": description,
    }


@cache
def _paths() -> dict:
    booking_answer = _ok("The booking", _ref("Booking"))
    return {
        "/blocks": {
            "get": {
                "summary": "The custody blocks",
                "responses": {
                    "200": _ok("Blocks", {"type": "array", "items": _ref("Block")}),
                    **UNAUTHORISED,
                },
            }
        },
        "/blocks/{code}/cover": {
            "get": {
                "summary": "Whether a rostered worker is on site at an instant",
                "parameters": [
                    {"name": "code", "in": "path", "required": True, "schema": CODE},
                    _time_query("at", "Defaults to now"),
                ],
                "responses": {
                    "200": _ok("Cover", _ref("Cover")),
                    **BAD_REQUEST,
                    **UNAUTHORISED,
                    "404": _error("Unknown block"),
                },
            }
        },
        "/slots": {
            "get": {
                "summary": "Free slots, earliest first (then by block code)",
                "parameters": [
                    _time_query("after", "No slot starting before this"),
                    _time_query("before", "No slot starting at or after this"),
                    {
                        "name": "block",
                        "in": "query",
                        "required": False,
                        "style": "form",
                        "explode": True,
                        "schema": {"type": "array", "items": CODE},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                    },
                    {
                        "name": "disputed",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "boolean", "default": False},
                    },
                    _time_query("tested_at", "When the disputed sample was taken"),
                ],
                "responses": {
                    "200": _ok("Slots", {"type": "array", "items": _ref("Slot")}),
                    **BAD_REQUEST,
                    **UNAUTHORISED,
                    "404": _error("Unknown block"),
                },
            }
        },
        "/bookings": {
            "post": {
                "summary": "Book an appointment in a free slot",
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": _json_body(BookingIn),
                "responses": {
                    "201": {
                        **booking_answer,
                        "headers": {"Location": {"schema": {"type": "string"}}},
                    },
                    **BAD_REQUEST,
                    **UNAUTHORISED,
                    "409": _error("Slot no longer free", "SlotTaken"),
                    **REFUSED,
                },
            }
        },
        "/bookings/{reference}": {
            "get": {
                "summary": "A booking",
                "parameters": [REFERENCE],
                "responses": {
                    "200": booking_answer,
                    **UNAUTHORISED,
                    "404": _error("Unknown reference"),
                },
            }
        },
        "/bookings/{reference}/rearrange": {
            "post": {
                "summary": "Move the appointment: the next notice version",
                "parameters": [REFERENCE, IDEMPOTENCY_KEY],
                "requestBody": _json_body(RearrangeIn),
                "responses": {
                    "200": booking_answer,
                    **BAD_REQUEST,
                    **UNAUTHORISED,
                    "404": _error("Unknown reference"),
                    "409": _error("Slot no longer free", "SlotTaken"),
                    **REFUSED,
                },
            }
        },
        "/bookings/{reference}/cancel": {
            "post": {
                "summary": "Cancel the appointment",
                "parameters": [REFERENCE, IDEMPOTENCY_KEY],
                "requestBody": _json_body(CancelIn),
                "responses": {
                    "200": booking_answer,
                    **BAD_REQUEST,
                    **UNAUTHORISED,
                    "404": _error("Unknown reference"),
                    **REFUSED,
                },
            }
        },
        "/bookings/{reference}/outcome": {
            "post": {
                "summary": "Record the outcome (once the appointment has started)",
                "parameters": [REFERENCE, IDEMPOTENCY_KEY],
                "requestBody": _json_body(OutcomeIn),
                "responses": {
                    "200": booking_answer,
                    **BAD_REQUEST,
                    **UNAUTHORISED,
                    "404": _error("Unknown reference"),
                    **REFUSED,
                },
            }
        },
        "/bookings/{reference}/calendar.ics": {
            "get": {
                "summary": "The appointment as iCalendar (REQUEST, or CANCEL once cancelled)",
                "parameters": [REFERENCE],
                "responses": {
                    "200": {
                        "description": "The calendar file",
                        "content": {"text/calendar": {"schema": {"type": "string"}}},
                    },
                    "304": {"description": "Not modified since the ETag or date given"},
                    **UNAUTHORISED,
                    "404": _error("Unknown reference"),
                },
            }
        },
        "/me/calendar": {
            "get": {
                "summary": "The signed-in worker's own calendar feed URL",
                "responses": {
                    "200": _ok(
                        "The feed URL",
                        {
                            "type": "object",
                            "required": ["url"],
                            "properties": {"url": {"type": "string", "format": "uri"}},
                        },
                    ),
                    **UNAUTHORISED,
                    "404": _error("This login has no place on the rota"),
                },
            }
        },
        "/audit": {
            "get": {
                "summary": "The audit trail, oldest first (coordinators)",
                "parameters": [
                    {
                        "name": "reference",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 12},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 10000,
                            "default": 1000,
                        },
                    },
                ],
                "responses": {
                    "200": _ok("Audit events", {"type": "array", "items": _ref("AuditEvent")}),
                    **BAD_REQUEST,
                    **UNAUTHORISED,
                },
            }
        },
        "/reports/kpi": {
            "get": {
                "summary": "The commissioner's figures over appointments in a date range",
                "parameters": [
                    {
                        "name": "start",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "format": "date"},
                        "description": "Defaults to the first of this month",
                    },
                    {
                        "name": "end",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "format": "date"},
                        "description": "Inclusive; defaults to today",
                    },
                    {"name": "block", "in": "query", "required": False, "schema": CODE},
                    {
                        "name": "block_by",
                        "in": "query",
                        "required": False,
                        "schema": {"enum": ["appointment", "arrest"], "default": "appointment"},
                    },
                ],
                "responses": {
                    "200": _ok("The figures", _ref("Kpi")),
                    **BAD_REQUEST,
                    **UNAUTHORISED,
                    "404": _error("Unknown block"),
                },
            }
        },
        "/bookings/{reference}/notice": {
            "get": {
                "summary": "The printable written notice (HTML) of the current version",
                "parameters": [REFERENCE],
                "responses": {
                    "200": {
                        "description": "The notice",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                    **UNAUTHORISED,
                    "404": _error("Unknown reference"),
                },
            }
        },
    }


def document() -> dict:
    base = current_app.config["PUBLIC_BASE_URL"]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Out-of-hours assessment booking API",
            "version": "1.0.0",
            "description": "Times are ISO 8601 with a UTC offset; any offset is accepted and "
            "times are returned in the block's local time (Europe/London). A refused request "
            "changes nothing.",
        },
        "servers": [{"url": f"{base}/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": ERROR,
                "Slot": SLOT,
                "SlotTaken": SLOT_TAKEN,
                "Block": BLOCK,
                "Cover": COVER,
                "Message": MESSAGE,
                "Booking": BOOKING,
                "AuditEvent": AUDIT_EVENT,
                "Figures": FIGURES,
                "Kpi": KPI,
                "BookingIn": _body_schema(BookingIn),
                "RearrangeIn": _body_schema(RearrangeIn),
                "CancelIn": _body_schema(CancelIn),
                "OutcomeIn": _body_schema(OutcomeIn),
            },
        },
    }
