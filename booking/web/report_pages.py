"""Placeholder: filled in by the reports pages."""

from . import web  # noqa: F401
