"""Readiness: the database answers, and its schema is the one this code's migrations end at."""

from __future__ import annotations

import functools

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db

READY = "ready"
UNAVAILABLE = "unavailable"
NOT_AT_HEAD = "migrations_not_at_head"


@functools.cache
def migration_heads(directory: str) -> frozenset[str]:
    """The head revisions of the migrations in `directory`, read once per process."""
    config = Config()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def readiness() -> str:
    """READY, UNAVAILABLE (the database does not answer) or NOT_AT_HEAD (its schema is behind
    or ahead of this code's migrations: `flask db upgrade` not yet run, or the code is older)."""
    try:
        current = MigrationContext.configure(db.session.connection()).get_current_heads()
    except SQLAlchemyError:
        db.session.rollback()
        return UNAVAILABLE
    heads = migration_heads(current_app.extensions["migrate"].directory)
    return READY if frozenset(current) == heads else NOT_AT_HEAD
