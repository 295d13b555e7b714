"""Static files: fingerprinted names with a year's cache, and compressed answers.

`make assets` (assets/build.mjs) writes each built file twice, as `app.css` and as
`app.<fingerprint>.css` (the first 10 hex digits of its SHA-256), and a manifest from one name
to the other. Every URL of a static file is built by `url_for("static", filename=...)`, which
gives the fingerprinted name when there is one: a browser keeps that file for a year without
asking again (`immutable`), and a new build gives a new name. Any other static file, such as
the plain `app.css`, is cached for five minutes and then checked again (ETag, Last-Modified).
A fingerprint that is not the current build's is a 404, even if an older file is still on disk.

Static files and API answers are compressed (brotli when the browser takes it, else gzip) by
Flask-Compress, per response. Pages are not: every page holds a secret (the CSRF token of the
sign-out and "stay signed in" forms) beside text that someone else may have chosen (a search, a
refused form sent back), and the size of a compressed page would let an eavesdropper guess the
secret over many requests (BREACH). A page is about 16 KB; the files it loads are the bulk.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from flask import Flask, abort, current_app, send_from_directory
from flask_compress import Compress

STATIC = Path(__file__).resolve().parent / "static"
MANIFEST = STATIC / "asset-manifest.json"
FINGERPRINT = re.compile(r"\.[0-9a-f]{10}\.[A-Za-z0-9]+$")
YEAR = int(dt.timedelta(days=365).total_seconds())
SHORT = int(dt.timedelta(minutes=5).total_seconds())

COMPRESSION = {
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_ALGORITHM_STREAMING": ["br", "gzip"],
    # Not text/html: see the module's docstring (BREACH).
    "COMPRESS_MIMETYPES": [
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "image/svg+xml",
    ],
    # A body smaller than this fits one packet with its headers as it is: compressing it
    # saves a few hundred bytes at most, for the CPU of every request.
    "COMPRESS_MIN_SIZE": 1024,
    # Each answer is compressed as it is sent: a 16 KB answer takes a millisecond or two at
    # brotli's 5 (4, the default, sends about a tenth more bytes).
    "COMPRESS_BR_LEVEL": 5,
    "COMPRESS_LEVEL": 6,
}


class Manifest:
    """The build's names (`app.css` to `app.<fingerprint>.css`), read again when the build
    writes a new manifest, so a running `flask run` follows `make assets`."""

    def __init__(self, path: Path = MANIFEST):
        self.path = path
        self._read_at: float | None = None
        self.names: dict[str, str] = {}
        self.fingerprinted: frozenset[str] = frozenset()

    def current(self) -> Manifest:
        try:
            changed_at = self.path.stat().st_mtime
        except FileNotFoundError:  # not built: plain names, as before `make assets`
            changed_at = None
        if changed_at != self._read_at:
            self.names = json.loads(self.path.read_text()) if changed_at is not None else {}
            self.fingerprinted = frozenset(self.names.values())
            self._read_at = changed_at
        return self

    def url_name(self, filename: str) -> str:
        return self.current().names.get(filename, filename)

    def is_current(self, filename: str) -> bool:
        return filename in self.current().fingerprinted


def init_app(app: Flask, manifest: Manifest | None = None) -> None:
    """Serve /static/ with the cache headers above, and give templates fingerprinted URLs."""
    for key, value in COMPRESSION.items():
        app.config.setdefault(key, value)
    # Registered before the security headers and the request id, so it runs after them.
    Compress(app)
    app.extensions["assets"] = manifest or Manifest()
    app.url_defaults(fingerprinted_names)
    app.view_functions["static"] = serve_static


def fingerprinted_names(endpoint: str, values: dict) -> None:
    """`url_for("static", filename="app.css")` gives the build's fingerprinted name."""
    if endpoint == "static" and "filename" in values:
        values["filename"] = current_app.extensions["assets"].url_name(values["filename"])


def serve_static(filename: str):
    manifest: Manifest = current_app.extensions["assets"]
    current = manifest.is_current(filename)
    if FINGERPRINT.search(filename) and not current:
        abort(404)
    response = send_from_directory(
        current_app.static_folder, filename, max_age=YEAR if current else SHORT
    )
    if current:
        response.cache_control.immutable = True
    # Read whole (the largest is the stylesheet, about 110 KB), so that Flask-Compress
    # compresses it as a body of known length, as it does a page, and the file is closed.
    response.direct_passthrough = False
    response.make_sequence()
    return response
