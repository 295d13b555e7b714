"""/healthz (liveness), /readyz (readiness) and /metrics (Prometheus), and the count of every
request the app answers.

/metrics answers a bearer token equal to METRICS_TOKEN when one is set; with none set, only a
request made on this machine straight to the app: its peer is a loopback address and it
carries no forwarding header. A proxy on the same machine connects from loopback too, so a
request that came through one is never taken as local, whatever PROXY_FIX_HOPS says.
"""

from __future__ import annotations

import ipaddress
import time

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from sqlalchemy import text

from ..extensions import db, limiter
from ..monitoring import exposition, metrics
from ..monitoring.readiness import READY, readiness
from .bearer import bearer_matches

bp = Blueprint("monitoring", __name__)
# A load balancer and Prometheus ask often, each from one address.
limiter.exempt(bp)

# Headers a proxy adds (and X-Forwarded-*); a request carrying any of them came through one.
FORWARDING_HEADERS = {"forwarded", "x-real-ip"}
# The methods a route can answer; any other is counted as "other", not by its own name.
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
UNMATCHED = "<unmatched>"
STARTED = "booking.monitoring.started"


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # the load balancer needs an answer, not a traceback
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    status = readiness()
    return jsonify(status=status), 200 if status == READY else 503


@bp.get("/metrics", endpoint="metrics")
def metrics_page():
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        if not bearer_matches(token):
            return Response(
                "Send Authorization: Bearer METRICS_TOKEN.\n",
                401,
                {"WWW-Authenticate": 'Bearer realm="metrics"'},
                mimetype="text/plain",
            )
    elif not _from_this_machine():
        return Response(
            "Metrics are served on this machine only, unless METRICS_TOKEN is set.\n",
            403,
            mimetype="text/plain",
        )
    body, content_type = exposition.scrape(request.headers.get("Accept"))
    return Response(body, 200, {"Content-Type": content_type})


def _from_this_machine() -> bool:
    names = {name.lower() for name, _value in request.headers}
    if names & FORWARDING_HEADERS or any(name.startswith("x-forwarded-") for name in names):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def _start_clock() -> None:
    request.environ[STARTED] = time.perf_counter()


def _count_request(response: Response) -> Response:
    started = request.environ.get(STARTED)
    if started is not None:
        metrics.request_answered(
            request.method if request.method in METHODS else "other",
            request.url_rule.rule if request.url_rule is not None else UNMATCHED,
            response.status_code,
            time.perf_counter() - started,
        )
    return response


def init_app(app: Flask) -> None:
    metrics.check_multiprocess_dir()
    app.register_blueprint(bp)
    # First of the hooks before a request, and last of those after it, so that the time counted
    # is the whole of the app's, and the status is the one sent.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_clock)
    app.after_request_funcs.setdefault(None, []).insert(0, _count_request)
