"""/readyz: 200 when the database answers and its migrations are at head, 503 otherwise."""

from __future__ import annotations

import flask_migrate
import pytest
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text

from booking import create_app
from booking.extensions import db


@pytest.fixture
def migrated_to(app):
    """Stamp the test database at another revision for a test; back at head after it."""

    def stamp(revision: str) -> None:
        db.session.commit()
        flask_migrate.stamp(revision=revision)

    yield stamp
    db.session.rollback()
    flask_migrate.stamp(revision="head", purge=True)  # whatever it holds now


def test_ready_when_the_database_is_at_the_migrations_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}


def test_not_ready_while_the_database_is_behind_the_migrations(client, migrated_to):
    migrations = ScriptDirectory(current_app.extensions["migrate"].directory)
    migrated_to(migrations.get_revision(migrations.get_current_head()).down_revision)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "migrations_not_at_head"}


def test_not_ready_when_the_database_is_ahead_of_this_code(client, migrated_to):
    """A release's migrations applied while the previous release's processes still run."""
    migrated_to("head")
    db.session.execute(text("UPDATE alembic_version SET version_num = 'from_a_later_release'"))
    db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "migrations_not_at_head"}


def test_not_ready_when_the_database_does_not_answer(tmp_path):
    unreachable = f"sqlite:///{tmp_path / 'no-such-folder' / 'booking.sqlite'}"
    response = create_app({"SQLALCHEMY_DATABASE_URI": unreachable}).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
