"""A form refused by its security check (CSRF) is shown again with what was typed, never lost.

A page left open for long, a session renewed in another tab or a sign-in elsewhere can leave a
form's CSRF token stale. The sergeant then gets the same page back, filled in as sent (but for
passwords, which are never shown), with a fresh token and an error summary saying to check
it and send it again. Nothing of the refused request is saved: the page's own view renders it
while every commit is refused but one that records only that the page was viewed (a page that
shows a person's details records the look, and this one did show them), and what it may have
begun is rolled back.
"""

from __future__ import annotations

from contextlib import contextmanager

from flask import Flask, current_app, g, has_request_context, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from .. import audit
from ..extensions import db
from ..models import AuditEvent
from . import auth

EXPIRED = (
    "This page had expired, so what you entered has not been sent. "
    "Check the details below and submit the form again."
)
REFUSING = "_saving_refused"


class SavingRefused(RuntimeError):
    """A commit was attempted while a refused request was being shown again."""


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, show_again)


WRITTEN = "_written_while_refusing"


def _refusing() -> bool:
    return has_request_context() and bool(g.get(REFUSING))


def _only_views(objects) -> bool:
    return all(
        isinstance(thing, AuditEvent) and thing.action == audit.Action.VIEWED for thing in objects
    )


def _changes(session) -> list:
    dirty = [thing for thing in session.dirty if session.is_modified(thing)]
    return [*session.new, *dirty, *session.deleted]


@event.listens_for(Session, "after_flush")
def _note_writes(session, flush_context) -> None:
    # Flushed rows leave session.new; remember whether any of them was more than a view.
    if _refusing() and not _only_views(_changes(session)):
        setattr(g, WRITTEN, True)


@event.listens_for(Session, "before_commit")
def _refuse_commits(session) -> None:
    if _refusing() and (g.get(WRITTEN) or not _only_views(_changes(session))):
        raise SavingRefused("a request that failed its CSRF check saves nothing")


@contextmanager
def saving_refused():
    setattr(g, REFUSING, True)
    setattr(g, WRITTEN, False)
    try:
        yield
    finally:
        setattr(g, REFUSING, False)
        db.session.rollback()


def show_again(error: CSRFError):
    """The page the form came from, as its view shows a form it refused, with `EXPIRED` first in
    its error summary; else a page saying the same and that nothing was saved."""
    view = current_app.view_functions.get(request.endpoint or "")
    if request.method != "POST" or view is None:
        return _expired_page()
    # The idle time-out's hook runs after the CSRF check, so it has not run: run it here, but
    # keep nothing typed, since nothing of a request that failed the check may be kept.
    timed_out = auth.sign_out_if_idle(keep_input=False)
    if timed_out is not None:
        return timed_out
    g.form_refused = EXPIRED
    try:
        with saving_refused():
            response = current_app.make_response(
                current_app.ensure_sync(view)(**(request.view_args or {}))
            )
    except (SavingRefused, HTTPException):
        return _expired_page()
    if 300 <= response.status_code < 400:
        # The view would have moved on (the form passed its own check): it has saved nothing,
        # and the person is told so rather than sent somewhere unexpected.
        return _expired_page()
    response.status_code = 400
    return response


def _expired_page():
    g.form_refused = None
    return render_template(
        "errors/expired.html", title="This page had expired", again=request.full_path.rstrip("?")
    ), 400
