"""The register of API operations: each route says once what it takes and what it answers.

`operation` adds the route to the blueprint, checks the caller's role, reads the query string
and the body through their models (handing them to the view as `query` and `body`), and
writes the view's answer through its response model. The OpenAPI document is made from the
same register (openapi.py), so what a route does and what the document says are one thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Response, jsonify, request
from pydantic import TypeAdapter

from ..models import Role
from . import api
from .access import api_roles
from .schemas import Body, Query, parse, parse_query

JSON = "application/json"


@dataclass(frozen=True)
class Operation:
    """One method on one path, as the document describes it."""

    method: str
    rule: str  # as Flask writes it under /api/v1, e.g. /bookings/<reference>
    operation_id: str
    tag: str
    summary: str
    roles: frozenset[Role] | None  # None: anyone, without a token
    query: type[Query] | None
    body: type[Body] | None
    response: Any  # a response model, a list of one, or str for a text answer
    status: int
    media_type: str
    # Further answers: status -> description (an error body from 400 up).
    answers: dict[int, str] = field(default_factory=dict)
    idempotent: bool = False  # takes an Idempotency-Key header


OPERATIONS: list[Operation] = []


def operation(
    method: str,
    rule: str,
    *,
    operation_id: str,
    tag: str,
    summary: str,
    roles: frozenset[Role] | None,
    response: Any,
    query: type[Query] | None = None,
    body: type[Body] | None = None,
    status: int = 200,
    media_type: str = JSON,
    answers: dict[int, str] | None = None,
    idempotent: bool = False,
) -> Callable:
    """Register a view as an API operation (see the module's docstring)."""
    described = Operation(
        method=method.upper(),
        rule=rule,
        operation_id=operation_id,
        tag=tag,
        summary=summary,
        roles=roles,
        query=query,
        body=body,
        response=response,
        status=status,
        media_type=media_type,
        answers=answers or {},
        idempotent=idempotent,
    )
    writer = TypeAdapter(response) if media_type == JSON else None

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def handle(**arguments):
            if query is not None:
                arguments["query"] = parse_query(query, request.args)
            if body is not None:
                arguments["body"] = parse(body, request.get_data())
            answer = view(**arguments)
            # A response already made (a replayed or refused retry, a file) goes as it is.
            if writer is None or isinstance(answer, Response | tuple):
                return answer
            return jsonify(writer.dump_python(answer, mode="json")), status

        guarded = api_roles(roles)(handle) if roles is not None else handle
        api.add_url_rule(rule, endpoint=view.__name__, view_func=guarded, methods=[method])
        OPERATIONS.append(described)
        return guarded

    return decorator
