"""`Idempotency-Key`: a retried POST gets the first answer and changes nothing more.

The record is written in the same transaction as the change, so either both land or neither.
Only successful answers are kept: a refused request changed nothing and may simply be retried.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from flask import Response, jsonify, request
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..clock import now
from ..extensions import db
from ..models import IdempotencyRecord, User
from .responses import error_response

MAX_KEY_LENGTH = 255


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.path.encode() + b"\n")
    digest.update(request.get_data())
    return digest.hexdigest()


def _find(user: User, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user.id, IdempotencyRecord.key == key
        )
    )


def _replay(record: IdempotencyRecord, fingerprint: str):
    if record.fingerprint != fingerprint:
        return error_response(
            "That Idempotency-Key was already used for a different request.",
            422,
            {"Idempotency-Key": "Use a new key for a new request"},
        )
    response = Response(
        record.response_body, status=record.status_code, mimetype="application/json"
    )
    body = json.loads(record.response_body)
    if "reference" in body and record.status_code == 201:
        response.headers["Location"] = _location(body["reference"])
    response.headers["Idempotent-Replayed"] = "true"
    return response


def commit_once(user: User, perform: Callable[[], BaseModel], status: int = 200):
    """Run `perform` (which changes the session but does not commit and returns the response
    model) and commit its result, once per Idempotency-Key. Returns a Flask response."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_KEY_LENGTH:
        return error_response(
            "The Idempotency-Key is too long.", 400, {"Idempotency-Key": "At most 255 characters"}
        )
    if not key:
        body = perform().model_dump(mode="json")
        db.session.commit()
        return _json(body, status)

    fingerprint = _fingerprint()
    existing = _find(user, key)
    if existing is not None:
        return _replay(existing, fingerprint)
    # Claim the key before doing the work: a concurrent retry with the same key waits here on
    # the unique index until this transaction ends, then replays this answer.
    record = IdempotencyRecord(
        user_id=user.id,
        key=key,
        fingerprint=fingerprint,
        status_code=0,
        response_body="",
        created_at=now(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(record)
            db.session.flush()
    except IntegrityError:
        db.session.rollback()
        existing = _find(user, key)
        if existing is None:
            raise
        return _replay(existing, fingerprint)
    body = perform().model_dump(mode="json")
    record.status_code = status
    record.response_body = json.dumps(body)
    db.session.commit()
    return _json(body, status)


def _location(reference: str) -> str:
    """Where a created record lives: under the collection it was posted to."""
    return f"{request.path.rstrip('/')}/{reference}"


def _json(body: dict, status: int):
    response = jsonify(body)
    response.status_code = status
    if status == 201 and "reference" in body:
        response.headers["Location"] = _location(body["reference"])
    return response
