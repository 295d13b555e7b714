"""Out-of-hours required-assessment booking for an arrest referral service."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask, abort, g, render_template, request
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from sqlalchemy.engine import make_url
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .extensions import csrf, db, limiter, login_manager, migrate
from .sms.texts import PHONE_MAX

ROOT = Path(__file__).resolve().parent.parent


def _pool_for_postgresql(app: Flask) -> None:
    """The connection pool of DATABASE_POOL, on PostgreSQL only: SQLite keeps the driver's
    defaults (an in-memory SQLite engine refuses pool sizes). A setting named in
    SQLALCHEMY_ENGINE_OPTIONS still wins."""
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "postgresql":
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = (
            app.config.get("DATABASE_POOL", {}) | app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        )


class RowId(IntegerConverter):
    """A row id in a path: what an integer column holds, so a larger number is a 404 rather
    than an error from the database."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
    )
    if test_config is None:
        app.config.from_object("config.Config")
    else:
        app.config.from_object("config.TestConfig")
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError(
            "SECRET_KEY is not set: set it in the environment (`make run` makes one for you)"
        )
    if not app.config.get("SERVICE_PHONE"):
        raise RuntimeError(
            "SERVICE_PHONE is not set: the service's phone number, printed on every notice "
            "(`make run` sets the demo's)"
        )
    if len(app.config["SERVICE_PHONE"]) > PHONE_MAX:
        raise RuntimeError(
            f"SERVICE_PHONE is longer than {PHONE_MAX} characters: every text carries it, "
            "and a longer number would not fit one text message"
        )

    if app.config["ENTRY_CHECK_DAYS"] < 1:
        raise RuntimeError("ENTRY_CHECK_DAYS must be a whole number of days, 1 or more")

    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    WTFormsHelpers(app)

    _pool_for_postgresql(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    from . import assets, cli, logs
    from .api import api
    from .web import auth, components, monitoring, oidc, presentation, refused_forms, web, webhooks
    from .web import calendar_feed as feeds

    assets.init_app(app)
    oidc.init_app(app)
    app.session_interface = auth.PageSessionInterface()
    app.url_map.converters["int"] = RowId  # before the routes are added
    app.register_blueprint(auth.bp)
    app.register_blueprint(web)
    app.register_blueprint(api)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(feeds.bp)
    csrf.exempt(api)
    cli.register(app)
    logs.init_app(app)
    presentation.register(app)
    components.register(app)

    def open_request():
        """Everything a request needs before any other hook may answer it, in this order."""
        logs.assign_request_id()
        g.csp_nonce = secrets.token_urlsafe(16)
        _refuse_nul_characters()

    # One hook, first of all: the CSRF check, the idle time-out and the NUL refusal answer by
    # themselves, and their answers need the request id and the nonce as much as any page.
    app.before_request_funcs.setdefault(None, []).insert(0, open_request)
    monitoring.init_app(app)  # after open_request: a request's time counts from before it

    @app.after_request
    def security_headers(response):
        nonce = g.get("csp_nonce", "")
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self'; img-src 'self' data:; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        if not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    for status in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(status, _error_page(status))
    refused_forms.register(app)

    return app


def _refuse_nul_characters() -> None:
    """A NUL in a path, query or form field is never meant, and PostgreSQL refuses it."""
    fields = [request.path, *request.args.keys(), *request.args.values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields += [*request.form.keys(), *request.form.values()]
    if any("\x00" in field for field in fields):
        abort(400)


def _error_page(status: int):
    def handler(error):
        if request.path.startswith("/api/"):
            from .api.responses import error_response

            messages = {
                400: "The request is malformed.",
                403: "Your role is not allowed to do that.",
                404: "Not found.",
                405: "This path does not take that method.",
                413: "The request body is larger than 64 KiB.",
                429: "Too many requests: try again later.",
                500: "Something went wrong on our side.",
            }
            response, code = error_response(messages[status], status)
            if getattr(error, "valid_methods", None):  # a 405 names the methods the path takes
                response.headers["Allow"] = ", ".join(error.valid_methods)
            return response, code
        if status == 405:  # Werkzeug's own page: no page of the site answers a wrong method
            return error
        return render_template(f"errors/{status}.html"), status

    return handler
