"""Calendar feeds behind secret tokens: /calendar/<token>.ics, for calendar apps to subscribe to.

No login: whoever holds the URL may read the feed, so it carries no detainee details, and the
token can be replaced at any time (the old URL then answers 404).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from .. import clock, settings
from ..calendars import feeds
from ..calendars.ics import CalendarFile

bp = Blueprint("feeds", __name__)


def ics_response(calendar_file: CalendarFile, filename: str) -> Response:
    """A calendar file with ETag and Last-Modified, answering 304 when the client is current."""
    response = Response(calendar_file.body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-cache"
    response.set_etag(calendar_file.etag)
    response.last_modified = calendar_file.last_modified
    return response.make_conditional(request)


@bp.get("/calendar/<token>.ics")
def feed(token: str):
    now = clock.now()
    base_url = settings.public_base_url()
    worker = feeds.worker_for_token(token)
    if worker is not None and worker.active:
        return ics_response(feeds.worker_feed(worker, now, base_url), "rota.ics")
    block = feeds.block_for_token(token)
    if block is not None:
        return ics_response(feeds.block_feed(block, now, base_url), f"{block.code}.ics")
    abort(404)
