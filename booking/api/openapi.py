"""The OpenAPI 3.1 document of the JSON API (served at /api/v1/openapi.json).

Made, not written: the paths from the register of operations (operations.py), and every
schema from the pydantic models the routes read and write (schemas.py, responses.py), with
pydantic's own JSON Schema generator.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, get_args, get_origin

from flask import current_app
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .operations import JSON, OPERATIONS, Operation
from .responses import Error, SlotTaken

REF = "#/components/schemas/{model}"
DEFAULT_ANSWERS = {
    400: "Malformed parameters or JSON",
    401: "No or bad token",
    403: "Role not allowed",
    413: "Body over 64 KiB",
    422: "A field fails validation",
}
# Answers that any path may give, described once: a method the path does not take, and too
# many requests where a deployment sets a rate limit (the service sets none on the API).
SHARED_ANSWERS = {
    "MethodNotAllowed": "405: this path does not take that method; the Allow header lists "
    "those it takes.",
    "TooManyRequests": "429: too many requests; the API sets no rate limit of its own, and "
    "answers so only where a deployment sets one. Retry later.",
}
DESCRIPTION = (
    "Times are ISO 8601 with a UTC offset; any offset is accepted and times are returned in "
    "the block's local time (Europe/London) with its offset. A refused request changes "
    "nothing. Every error, whatever its status (405 and 429 included), is JSON: "
    '`{"error": "one sentence", "errors": {"field": "message"}}`.'
)


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _model(kind: Any) -> type[BaseModel] | None:
    """The response model of a response type (itself, or what a list holds)."""
    if get_origin(kind) is list:
        kind = get_args(kind)[0]
    return kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None


def _schema_of(kind: Any) -> dict:
    if get_origin(kind) is list:
        return {"type": "array", "items": _schema_of(get_args(kind)[0])}
    if _model(kind) is not None:
        return _ref(kind)
    return {"type": "object"} if kind is dict else {"type": "string"}


def _components() -> dict:
    """Every model's schema: bodies as they are read, answers as they are written."""
    bodies = {op.body for op in OPERATIONS if op.body is not None}
    answers = {_model(op.response) for op in OPERATIONS} - {None} | {Error, SlotTaken}
    pairs = [(model, "validation") for model in bodies]
    pairs += [(model, "serialization") for model in answers]
    _, schemas = models_json_schema(sorted(pairs, key=lambda p: p[0].__name__), ref_template=REF)
    return schemas["$defs"]


def _without_null(schema: dict) -> dict:
    """A query parameter's schema: left out rather than null, so no null branch."""
    branches = [s for s in schema.get("anyOf", ()) if s != {"type": "null"}]
    if len(branches) == 1:
        rest = {key: value for key, value in schema.items() if key != "anyOf"}
        schema = branches[0] | rest
    if "default" in schema and schema["default"] is None:
        del schema["default"]
    return schema


def _query_parameters(op: Operation, components: dict) -> list[dict]:
    schema = op.query.model_json_schema(ref_template=REF)
    components.update(schema.pop("$defs", {}))
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema["properties"].items():
        prop.pop("title", None)
        description = prop.pop("description", None)
        parameter = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _without_null(prop),
        }
        if description:
            parameter["description"] = description
        if prop.get("type") == "array":
            parameter |= {"style": "form", "explode": True}
        parameters.append(parameter)
    return parameters


def _parameters(op: Operation, components: dict) -> list[dict]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", op.rule)
    ]
    if op.idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 255},
                "description": "A retry with the same key returns the first answer and "
                "changes nothing.",
            }
        )
    if op.query is not None:
        parameters += _query_parameters(op, components)
    return parameters


def _answer(description: str, schema: dict | None, media_type: str = JSON) -> dict:
    answer: dict = {"description": description}
    if schema is not None:
        answer["content"] = {media_type: {"schema": schema}}
    return answer


def _responses(op: Operation) -> dict:
    success = _answer(op.summary, _schema_of(op.response), op.media_type)
    if op.status == 201:
        success["headers"] = {
            "Location": {"description": "The new resource's path", "schema": {"type": "string"}}
        }
    statuses = dict(op.answers)
    if op.roles is not None:
        statuses |= {401: DEFAULT_ANSWERS[401], 403: DEFAULT_ANSWERS[403]}
    if op.query is not None or op.body is not None:
        statuses[400] = DEFAULT_ANSWERS[400]
    if op.body is not None:
        statuses |= {413: DEFAULT_ANSWERS[413], 422: DEFAULT_ANSWERS[422]}
    responses = {str(op.status): success}
    for status, description in sorted(statuses.items()):
        if status < 400:
            responses[str(status)] = _answer(description, None)
        else:
            error = SlotTaken if status == 409 else Error
            responses[str(status)] = _answer(description, _ref(error))
    return responses


def _description(op: Operation) -> str:
    if op.roles is None:
        return "Anyone, without a token."
    return "Roles: " + ", ".join(sorted(role.value for role in op.roles)) + "."


def _operation(op: Operation, components: dict) -> dict:
    described = {
        "operationId": op.operation_id,
        "tags": [op.tag],
        "summary": op.summary,
        "description": _description(op),
    }
    parameters = _parameters(op, components)
    if parameters:
        described["parameters"] = parameters
    if op.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": _ref(op.body)}},
        }
    described["responses"] = _responses(op)
    if op.roles is None:
        described["security"] = []
    return described


@cache
def _document_without_servers() -> dict:
    components = _components()
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", op.rule)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op, components)
    error = _ref(Error)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Out-of-hours assessment booking API",
            "version": "1.0.0",
            "description": DESCRIPTION,
        },
        "security": [{"bearer": []}],
        "tags": [{"name": tag} for tag in dict.fromkeys(op.tag for op in OPERATIONS)],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": dict(sorted(components.items())),
            "responses": {
                name: _answer(description, error) for name, description in SHARED_ANSWERS.items()
            },
        },
    }


def document() -> dict:
    """The OpenAPI document, with this deployment's address."""
    base = current_app.config["PUBLIC_BASE_URL"]
    return {**_document_without_servers(), "servers": [{"url": f"{base}/api/v1"}]}
