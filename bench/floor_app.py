"""The floor of bench/booking_load.py: a minimal Flask + Flask-SQLAlchemy app that inserts one
row per request, on the same database, under the same gunicorn settings.

    gunicorn bench.floor_app:app   (DATABASE_URL from the environment)

It does what every booking request must do at the least: parse a JSON body, open a
transaction, insert one row, commit, answer 201 with JSON. On SQLite it opens its connections
as the service does (WAL, busy_timeout, BEGIN IMMEDIATE), so the two are compared on the same
terms. Its table, `bench_floor`, is made on start and dropped by booking_load.py afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Integer, String, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
db = SQLAlchemy(app)


@event.listens_for(Engine, "connect")
def _sqlite_connection(dbapi_connection, connection_record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class FloorRow(db.Model):
    __tablename__ = "bench_floor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    block: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    person_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


with app.app_context():
    try:
        FloorRow.__table__.create(db.engine, checkfirst=True)
    except Exception:  # another worker made it at the same moment
        db.session.rollback()


@app.get("/healthz")
def healthz():
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")


@app.post("/insert")
def insert():
    body = request.get_json()
    row = FloorRow(
        block=body["block"],
        starts_at=dt.datetime.fromisoformat(body["starts_at"]),
        person_name=body["person_name"],
        created_at=dt.datetime.now(dt.UTC),
    )
    db.session.add(row)
    db.session.commit()
    return jsonify(id=row.id, block=row.block, starts_at=row.starts_at.isoformat()), 201
