from flask import redirect, render_template, url_for
from flask_login import login_required

from . import web


@web.get("/")
@login_required
def home():
    return render_template("home.html", title="Home")


@web.get("/bookings/new")
@login_required
def new_booking():
    return redirect(url_for("web.home"))


@web.get("/bookings")
@login_required
def bookings():
    return redirect(url_for("web.home"))
