"""The JSON API for custody systems, under /api/v1."""

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api/v1")

from . import routes  # noqa: E402,F401  (routes register on import)
