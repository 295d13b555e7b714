"""The floor of bench/booking_load.py: a minimal Flask + Flask-SQLAlchemy app that inserts one
row per request, on the same database, under the same gunicorn settings.

    gunicorn bench.floor_app:app   (DATABASE_URL from the environment)

It does what every booking request must do at the least: parse a JSON body, open a
transaction, insert one row, commit, answer 201 with JSON. Its database handle is the
service's own (booking.extensions), so on SQLite it opens its connections exactly as the
service does (WAL, busy_timeout, BEGIN IMMEDIATE) and the two are compared on the same terms;
importing the extensions only creates them, and none but the database is bound to this app, so
a request here still does no more than the floor. Its table, `bench_floor`, is made on start
and dropped by booking_load.py afterwards.
"""

from __future__ import annotations

import datetime as dt
import os

from flask import Flask, jsonify, request
from sqlalchemy import DateTime, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from booking.extensions import db

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
db.init_app(app)


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
