"""gunicorn's settings for the web app: `gunicorn wsgi:app` reads this file from the working
directory (or `gunicorn -c gunicorn.conf.py wsgi:app` from elsewhere).

The app processes are stateless: the database holds everything, and Flask-Limiter's counters
belong in Redis (RATELIMIT_STORAGE_URI) once more than one process serves. Run as many
processes and machines as the load needs, behind a proxy that terminates HTTPS. The scheduler
is never started here: it is its own process (`flask scheduler run`).

Settings from the environment (the README's configuration tables): WEB_BIND, WEB_CONCURRENCY,
WEB_THREADS, WEB_TIMEOUT, WEB_ACCESS_LOG, FORWARDED_ALLOW_IPS, and PROXY_FIX_HOPS, which the
app reads too. Command-line options still override anything here. With PROMETHEUS_MULTIPROC_DIR
set, each worker counts into a file there and /metrics adds them up (booking/monitoring).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys

from gunicorn.glogging import Logger


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = [address.strip() for address in os.environ.get("WEB_BIND", "127.0.0.1:8000").split(",")]
# Each worker is a process with its own connection pool; its threads share it. Threads keep
# a worker answering while one request waits on the database.
workers = _int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1)
worker_class = "gthread"
threads = _int("WEB_THREADS", 4)
# A year's report takes tens of seconds at national scale; anything slower is stuck.
timeout = _int("WEB_TIMEOUT", 60)
# On SIGTERM, requests in hand are finished (for up to this long) before a worker stops.
graceful_timeout = 30
keepalive = 5
# gunicorn's runtime control socket is off: nothing here needs it, and several masters on one
# machine would share its one default path.
control_socket_disable = True

# Forwarded headers are trusted exactly when the app trusts them: with PROXY_FIX_HOPS=0 no
# client can claim https through X-Forwarded-Proto; with a proxy, ProxyFix in the app picks
# the header values by hop count, and the app port must be reachable from the proxy only.
PROXY_FIX_HOPS = _int("PROXY_FIX_HOPS", 0)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*") if PROXY_FIX_HOPS else ""

# Calendar feed URLs carry the secret that opens them: their paths are logged without it, as
# the app's own logs do.
from booking.logs import loggable_path  # noqa: E402

# Asked every few seconds by the load balancer, the deployment and Prometheus.
QUIET_PATHS = {"/healthz", "/readyz", "/metrics"}


class AccessLog(Logger):
    """gunicorn's logger, with an access line of JSON in the app's own log shape.

    It holds the method, the path (see `loggable_path`), the status, the size, the time taken
    and the request id: no query string (search parameters), no referrer, no user agent and
    no address, so no personal data and no secret. Health and readiness checks and metrics
    scrapes that succeed are not logged.
    """

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        try:
            entry = self.entry(resp, environ, request_time)
            if entry is not None:
                self.access_log.info(json.dumps(entry))
        except Exception:  # the answer has gone already; a log line must not fail it
            self.exception("access log line not written")

    def entry(self, resp, environ, request_time) -> dict | None:
        """The access line's fields, or None for a request not logged."""
        status = int(str(resp.status).split(None, 1)[0])
        path = environ.get("PATH_INFO", "")
        if path in QUIET_PATHS and status == 200:
            return None
        headers = resp.headers.items() if hasattr(resp.headers, "items") else resp.headers
        return {
            "time": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "message": "request",
            "method": environ.get("REQUEST_METHOD"),
            "path": loggable_path(path),
            "status": status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "request_id": next((v for k, v in headers if k.lower() == "x-request-id"), None),
        }


logger_class = AccessLog
# "-" is standard output; an empty WEB_ACCESS_LOG turns the access log off.
accesslog = os.environ.get("WEB_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = "info"


def on_starting(server):
    if (
        server.cfg.workers > 1
        and os.environ.get("RATELIMIT_STORAGE_URI", "memory://") == "memory://"
    ):
        server.log.warning(
            "RATELIMIT_STORAGE_URI is memory://: each worker counts sign-in attempts on its "
            "own; set it to redis://... so that the limits hold across processes"
        )


def worker_exit(server, worker):
    """Close the worker's database connections cleanly as it stops."""
    app_module = sys.modules.get("wsgi")
    if app_module is None:  # the app never loaded in this worker
        return
    from booking.extensions import db

    try:
        with app_module.app.app_context():
            db.engine.dispose()
    except Exception:  # stopping anyway; the server closes what is left
        logging.getLogger("gunicorn.error").warning("database connections not closed cleanly")


def child_exit(server, worker):
    """prometheus-client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR): a worker gone keeps
    its file of counts, so that the totals never go down; only its live gauges, were there
    any, are dropped."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
