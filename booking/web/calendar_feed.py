"""Calendar feeds behind secret tokens: /calendar/<token>.ics, for calendar apps to subscribe to.

No login: whoever holds the URL may read the feed, so it carries no detainee details, and the
token can be replaced at any time (the old URL then answers 404).
"""

from __future__ import annotations

from flask import Blueprint, abort, request

from .. import clock, settings
from ..calendars import feeds

bp = Blueprint("feeds", __name__)


@bp.get("/calendar/<token>.ics")
def feed(token: str):
    now = clock.now()
    base_url = settings.public_base_url()
    worker = feeds.worker_for_token(token)
    if worker is not None and worker.active:
        return feeds.worker_feed(worker, now, base_url).as_response("rota.ics", request)
    block = feeds.block_for_token(token)
    if block is not None:
        return feeds.block_feed(block, now, base_url).as_response(f"{block.code}.ics", request)
    abort(404)
