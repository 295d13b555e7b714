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
