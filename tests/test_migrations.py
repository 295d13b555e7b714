"""The migrations build exactly the schema the models describe."""

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from booking.extensions import db

# Neither SQLAlchemy nor Alembic reads an index on an expression back from the database:
# those are compared by name below instead.
EXPRESSION_INDEXES = {("bookings", "ix_bookings_custody_record_key")}


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_the_indexes_on_expressions_are_there(app):
    with db.engine.connect() as connection:
        for table, name in EXPRESSION_INDEXES:
            on_table = {index.name for index in db.metadata.tables[table].indexes}
            assert name in on_table  # the models name it
            in_database = {
                row[0]
                for row in connection.exec_driver_sql(
                    "SELECT indexname FROM pg_indexes WHERE tablename = %(table)s"
                    if connection.dialect.name == "postgresql"
                    else "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
                    {"table": table} if connection.dialect.name == "postgresql" else (table,),
                )
            }
            assert name in in_database  # and the migrations made it


def test_an_existing_sqlite_database_upgrades_with_every_row_kept(tmp_path):
    """A database made before sign-in with the force's provider (0005), with a user who has
    done things, upgrades to the head: migration 0006 makes the users table anew on SQLite,
    which with foreign keys on would have deleted the user's tokens (ON DELETE CASCADE) or
    refused to drop the table their audit trail points at."""
    import flask_migrate
    from sqlalchemy import text

    from booking import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}"})
    with app.app_context():
        flask_migrate.upgrade(revision="0005")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (id, email, name, role, password_hash, active,"
                    " created_at, session_version)"
                    " VALUES (1, 'sam.sergeant@example.test', 'Sam Sergeant', 'sergeant', 'x',"
                    " 1, '2026-11-30 20:00:00', 1)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO api_tokens (user_id, token_hash, created_at)"
                    " VALUES (1, 'hash-of-a-token', '2026-11-30 20:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO audit_events (at, user_id, action)"
                    " VALUES ('2026-11-30 20:01:00', 1, 'signed_in')"
                )
            )
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            counts = [
                connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                for table in ("users", "api_tokens", "audit_events")
            ]
            foreign_keys = connection.execute(text("PRAGMA foreign_keys")).scalar()
        db.engine.dispose()
    assert counts == [1, 1, 1]
    assert foreign_keys == 1  # on again for the service
