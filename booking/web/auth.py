"""Signing in and out, and the role rule every page declares."""

from __future__ import annotations

import logging
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import InputRequired

from ..accounts import single_sign_on
from ..accounts.users import authenticate, waiting_for_role
from ..appointments import drafts
from ..clock import now
from ..extensions import db, limiter, login_manager
from ..models import Role, User
from . import oidc

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

# What a session remembers of the force's provider: that it signed this session in, that the
# sign-in page (just after signing out) offers to sign out there too, and the page asked for
# before going to sign in there.
SIGNED_IN_WITH_PROVIDER = "signed_in_with_provider"
OFFER_PROVIDER_SIGN_OUT = "offer_provider_sign_out"
NEXT_AFTER_PROVIDER = "next_after_provider"

login_manager.login_view = "auth.login"
login_manager.login_message = "Sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


class PageSessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions that only pages write.

    A permanent session is re-sent with every response; were static files (or a browser's
    guess at /favicon.ico, which no route answers) to re-send it, one answered late could put
    back an older session, with an older CSRF token, and the next form would be refused.
    """

    def should_set_cookie(self, app, session) -> bool:
        if request.endpoint in (None, "static"):
            return False
        return super().should_set_cookie(app, session)

    def save_session(self, app, session, response) -> None:
        # A static file is the same whoever asks: no "Vary: Cookie" (which Flask adds once the
        # session is looked at, as Flask-Login does on every request), or a browser holding a
        # file for a year would ask again whenever the session cookie was renewed.
        if request.endpoint == "static":
            return
        super().save_session(app, session, response)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or waiting_for_role(user):
        return None
    if session.get("session_version") != user.session_version:
        return None  # signed out elsewhere, or the password was reset: this cookie is spent
    return user


def roles_required(work: frozenset[Role]):
    """A page for signed-in users whose role does this work (booking/permissions.py); 403 for
    the others."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in work:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


class LoginForm(FlaskForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter your email address")],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter your password")],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect, nor a header split by a line break.

    Browsers read a backslash as a slash, so "/\\host" would leave the site too.
    """
    if not target or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def landing_page(user: User) -> str:
    """Where signing in leads when no page was asked for: a worker's day, else the home page."""
    if user.role == Role.WORKER:
        return url_for("web.my_day")
    return url_for("web.home")


def _account_key() -> str:
    return "login:" + (request.form.get("email") or "").strip().lower()


def _refused(response) -> bool:
    """Only refused sign-ins count towards the limits: a person who signs in, out and in again
    during a busy shift is never locked out, nor is a custody suite behind one address when
    the provider cannot be reached (503)."""
    return response.status_code not in (302, 503)


def start_session(user: User, *, with_provider: bool = False) -> None:
    """Sign this user in, in a fresh session: nothing carried over but a booking draft, and
    that only if it is this user's own. The idle time-out and signing out apply alike
    however they signed in."""
    held = drafts.held()
    session.clear()
    session.permanent = True
    login_user(user)
    session["session_version"] = user.session_version
    session["seen_at"] = now().timestamp()
    if with_provider:
        session[SIGNED_IN_WITH_PROVIDER] = True
    drafts.adopt(user, held, now())


def password_login() -> bool:
    """Whether passwords sign people in (PASSWORD_LOGIN)."""
    return current_app.config["PASSWORD_LOGIN"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"], deduct_when=_refused)  # per address
@limiter.limit(  # per account
    "5 per minute", methods=["POST"], key_func=_account_key, deduct_when=_refused
)
def login():
    if current_user.is_authenticated:
        return redirect(landing_page(current_user))
    if not password_login():
        if request.method == "POST":
            return _login_page(None), 403
        return _login_page(None)
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            form.email.errors.append("Enter a correct email address and password")
        else:
            start_session(user)
            return redirect(_safe_next(request.args.get("next")) or landing_page(user))
    return _login_page(form), 200 if not form.errors else 400


def _login_page(form: LoginForm | None):
    """The sign-in page: the password form (unless PASSWORD_LOGIN is off) and the force's
    sign-in (when OIDC_ISSUER is set), which comes back to the page asked for."""
    return render_template(
        "auth/login.html",
        form=form,
        provider_sign_in=oidc.offered(),
        provider_sign_out=(
            oidc.sign_out_url() if session.pop(OFFER_PROVIDER_SIGN_OUT, False) else None
        ),
        next_url=_safe_next(request.args.get("next")),
    )


# Refused sign-ins with the force's provider, from one address: as many as with passwords.
provider_limit = limiter.shared_limit("20 per minute", scope="provider", deduct_when=_refused)


@bp.get("/login/oidc")
@provider_limit
def provider_sign_in():
    """Off to the force's provider (Authorization Code flow with PKCE), to come back to the
    page asked for."""
    if not oidc.offered():
        abort(404)
    if current_user.is_authenticated:
        return redirect(landing_page(current_user))
    session[NEXT_AFTER_PROVIDER] = _safe_next(request.args.get("next"))
    try:
        return oidc.authorize_redirect(url_for("auth.provider_callback"))
    except oidc.ProviderUnavailable:
        return render_template("auth/provider_answer.html", reason="unavailable"), 503


@bp.get("/login/oidc/callback")
@provider_limit
def provider_callback():
    """The provider's answer: a signed-in user, or a page that says why not."""
    if not oidc.offered():
        abort(404)
    try:
        identity = oidc.identity_from_callback()
    except oidc.ProviderUnavailable:
        return render_template("auth/provider_answer.html", reason="unavailable"), 503
    except oidc.SignInNotCompleted as refusal:
        session.pop(NEXT_AFTER_PROVIDER, None)
        log.info("sign-in with the provider refused: %s", refusal.reason)
        return render_template("auth/provider_answer.html", reason="refused"), 400
    user = single_sign_on.user_for(
        identity, role_claim=current_app.config["OIDC_ROLE_CLAIM"], now=now()
    )
    db.session.commit()
    # Whatever comes of it, this sign-in is over: a later one goes where it is asked to.
    next_url = session.pop(NEXT_AFTER_PROVIDER, None)
    if not user.active:
        log.info("sign-in with the provider refused: user %s is disabled", user.id)
        return render_template("auth/provider_answer.html", reason="disabled"), 403
    if waiting_for_role(user):
        log.info("sign-in with the provider refused: user %s has no role yet", user.id)
        return render_template(
            "auth/provider_answer.html",
            reason="waiting",
            role_from_claim=bool(current_app.config["OIDC_ROLE_CLAIM"]),
            needs_block=user.role is not None,
        ), 403
    start_session(user, with_provider=True)
    return redirect(next_url or landing_page(user))


def keeps_typed_input(view):
    """Mark a form page whose input, sent after the session ended, is kept for the same user
    to find filled in again once signed in (the page shows `drafts.typed`)."""
    view.keeps_typed_input = True
    return view


@bp.before_app_request
def end_idle_sessions():
    """Sign out a session left idle longer than IDLE_TIMEOUT_MINUTES (checked on the server)."""
    return sign_out_if_idle(keep_input=True)


def sign_out_if_idle(*, keep_input: bool):
    """The idle time-out: signed out, and sent to sign in again, back to this page after.

    The booking draft stays with the browser for the same user to take up after signing in;
    with `keep_input` (the form passed its CSRF check), so does what was typed into a form page
    that keeps it. Nothing else is done with the request.
    """
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    idle_limit = current_app.config["IDLE_TIMEOUT_MINUTES"] * 60
    seen_at = session.get("seen_at", 0)
    current = now().timestamp()
    if current - seen_at > idle_limit:
        if keep_input and _keeps_typed_input():
            typed = [
                (name, value)
                for name, value in request.form.items(multi=True)
                if name != "csrf_token" and "password" not in name.lower()
            ]
            drafts.keep_typed(current_user, request.path, typed, now())
            db.session.commit()
        held = drafts.held()
        logout_user()
        session.clear()
        drafts.hold(held)
        flash("You were signed out after a period of inactivity.", "info")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    session["seen_at"] = current
    return None


def _keeps_typed_input() -> bool:
    view = current_app.view_functions.get(request.endpoint)
    return request.method == "POST" and getattr(view, "keeps_typed_input", False)


@bp.post("/session/keep-alive")
@login_required
def keep_alive():
    """ "Stay signed in" in the time-out warning: a request like any other restarts the idle
    time (`end_idle_sessions` does that); there is nothing else to do."""
    return "", 204


def end_all_sessions(user: User) -> None:
    """Make every session cookie of this user worthless (the caller commits)."""
    user.session_version = (user.session_version or 0) + 1


class LogoutForm(FlaskForm):
    submit = SubmitField("Sign out", widget=GovSubmitInput())


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """GET asks, POST signs out: another site cannot sign someone out with a link."""
    form = LogoutForm()
    if request.method == "POST":
        if form.validate_on_submit():
            if current_user.is_authenticated:
                end_all_sessions(current_user)
                db.session.commit()
            with_provider = session.get(SIGNED_IN_WITH_PROVIDER, False)
            logout_user()
            session.clear()
            if with_provider:  # the sign-in page then offers the provider's sign-out too
                session[OFFER_PROVIDER_SIGN_OUT] = True
            flash("You have signed out.", "success")
        return redirect(url_for("auth.login"))
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("auth/logout.html", form=form, title="Sign out")
