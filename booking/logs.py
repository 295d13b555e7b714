"""Application logs as JSON lines, with a request id, and a guard against personal data.

The guard lets only scalars (numbers, booleans, short identifiers and fixed messages) through:
a model object, dict or list passed to a log call is replaced by "[withheld]" before any handler
sees it, so a booking can never be dumped into a log by accident.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
SCALARS = (int, float, bool, type(None), str)
WITHHELD = "[withheld]"
STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
NAMED_PLACEHOLDER = re.compile(r"%\([^)]*\)")


# Calendar feed URLs carry the secret that opens them: an access log shows their paths
# without it (gunicorn's, through gunicorn.conf.py, and the development server's).
SECRET_PATHS = [(re.compile(r"/calendar/[^/\s?]+\.ics"), "/calendar/[token].ics")]
LONGEST_LOGGED_PATH = 200


def loggable_path(path: str) -> str:
    """A request path as an access log shows it: no token, never over 200 characters."""
    for pattern, replacement in SECRET_PATHS:
        path = pattern.sub(replacement, path)
    return path[:LONGEST_LOGGED_PATH]


class SecretPathsMasked(logging.Filter):
    """The development server's access lines (`make run`) with the feed tokens masked: it
    logs the request line as an argument of its record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                loggable_path(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def _scalar(value):
    return value if isinstance(value, SCALARS) else WITHHELD


class _WithheldMapping(dict):
    """Stands in for a lone dict argument: it formats as "[withheld]" wherever "%s" puts it."""

    def __str__(self) -> str:
        return WITHHELD

    __repr__ = __str__


class ScalarsOnly(logging.Filter):
    """Replace every non-scalar argument and extra field of a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping):
            if isinstance(record.msg, str) and NAMED_PLACEHOLDER.search(record.msg):
                record.args = {key: _scalar(value) for key, value in record.args.items()}
            else:
                # log.info("%s", a_dict): logging keeps a lone dict as the args mapping, and
                # "%s" would print the whole of it.
                record.args = _WithheldMapping(withheld=WITHHELD)
        elif record.args:
            record.args = tuple(_scalar(arg) for arg in record.args)
        if not isinstance(record.msg, str):
            record.msg = WITHHELD
        for key, value in list(vars(record).items()):
            if key not in STANDARD_ATTRIBUTES:
                setattr(record, key, _scalar(value))
        if has_request_context() and not hasattr(record, "request_id"):
            record.request_id = g.get("request_id")
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in STANDARD_ATTRIBUTES:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def assign_request_id() -> None:
    """Take the caller's X-Request-Id when it is a plain identifier, or make one.

    The app factory runs this first of all, before any hook that may answer by itself.
    """
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def init_app(app: Flask) -> None:
    werkzeug_logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, SecretPathsMasked) for f in werkzeug_logger.filters):
        werkzeug_logger.addFilter(SecretPathsMasked())
    service_logger = logging.getLogger("booking")  # also app.logger: the app is named "booking"
    guard = next((f for f in service_logger.filters if isinstance(f, ScalarsOnly)), None)
    if guard is None:  # once per process, however many apps are created
        guard = ScalarsOnly()
        service_logger.addFilter(guard)
    app.logger.addFilter(guard)
    if not app.testing:
        # Flask gives its logger a plain-text handler when no other handler would take its
        # records; that handler has no guard, and it would stop ours from being installed.
        service_logger.removeHandler(default_handler)
    if not app.testing and not service_logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        handler.addFilter(guard)
        service_logger.addHandler(handler)
        service_logger.setLevel(logging.INFO)
        service_logger.propagate = False

    @app.after_request
    def echo_request_id(response):
        if g.get("request_id"):
            response.headers["X-Request-Id"] = g.request_id
        return response
