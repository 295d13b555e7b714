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

The floor of bench/sergeant_pages.py is `/page/<name>/<size>`: a page of exactly `size` bytes
rendered from a Jinja template through Flask's `render_template`, for a session signed in
through `/sign-in`: the signed session cookie is read and renewed on every page, as a
signed-in page of the service does (its idle time-out), and a form sent is parsed. No
database, no form validation, no macros: what any page of that size costs at the least.
"""

from __future__ import annotations

import datetime as dt
import os
import time

from flask import Flask, abort, jsonify, render_template, request, session
from jinja2 import DictLoader
from sqlalchemy import DateTime, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from booking.extensions import db

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
app.secret_key = os.environ.get("SECRET_KEY", "bench-floor")
db.init_app(app)
# A loader's template is compiled once per process, as the service's are.
app.jinja_loader = DictLoader(
    {
        "page.html": '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>{{ title }}</title></head><body><main>{{ filler }}</main></body></html>\n"
    }
)
with app.test_request_context():
    # The page's bytes without its title and filler: the filler makes up the rest.
    PAGE_FRAME_BYTES = len(render_template("page.html", title="", filler="").encode())


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


@app.post("/sign-in")
def sign_in():
    session.clear()
    session.permanent = True
    session["user"] = request.form["user"]
    session["seen_at"] = time.time()
    return "", 204


@app.route("/page/<name>/<int:size>", methods=["GET", "POST"])
def page(name: str, size: int):
    if "user" not in session:
        abort(401)
    session["seen_at"] = time.time()
    fields = request.form.to_dict(flat=False) if request.method == "POST" else {}
    filler = "x" * max(0, size - PAGE_FRAME_BYTES - len(name.encode()))
    return render_template("page.html", title=name, filler=filler, fields=fields)


@app.after_request
def request_id(response):
    # The caller's request id back, for the access line, as the service does.
    response.headers["X-Request-Id"] = request.headers.get("X-Request-Id", "-")[:64]
    return response
