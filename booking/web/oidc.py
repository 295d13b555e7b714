"""The force's OpenID Connect provider, through Authlib: the Authorization Code flow with PKCE,
the ID token's checks, and the provider's end-session endpoint.

Configured by OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET; the provider's endpoints
and keys come from its discovery document. The state, nonce and PKCE verifier of a sign-in in
progress wait in the browser's (signed) session, each good for one answer.
"""

from __future__ import annotations

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from authlib.oidc.core import CodeIDToken
from flask import Flask, current_app, request
from joserfc.errors import JoseError
from requests import RequestException

from .. import clock, settings
from ..accounts.single_sign_on import Identity, parse_role_values

EXTENSION = "booking.oidc"
# The ID token's times may be this far out, for clocks a little apart.
LEEWAY_SECONDS = 60
TIMEOUT_SECONDS = 10


class ProviderUnavailable(Exception):
    """The provider did not answer, or answered with an error of its own."""


class SignInNotCompleted(Exception):
    """The provider's answer does not sign anyone in: `reason` says why, for the log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class IDTokenOnServiceClock(CodeIDToken):
    """An ID token's checks, with the service's clock (booking/clock.py) as "now"."""

    def validate(self, now=None, leeway=0):
        super().validate(now=int(clock.now().timestamp()), leeway=leeway)


def init_app(app: Flask) -> None:
    """Register the provider's client when OIDC_ISSUER is set; refuse a configuration that
    would leave no way to sign in, or send the client secret in clear."""
    issuer = app.config.get("OIDC_ISSUER")
    if not issuer:
        if not app.config["PASSWORD_LOGIN"]:
            raise RuntimeError("PASSWORD_LOGIN=false needs OIDC_ISSUER: no one could sign in")
        return
    # Checked at start-up, so that a mistyped mapping stops the service rather than people.
    try:
        app.extensions["oidc_roles"] = parse_role_values(app.config.get("OIDC_ROLE_VALUES"))
    except ValueError as error:
        raise RuntimeError(str(error)) from None
    if not (app.config.get("OIDC_CLIENT_ID") and app.config.get("OIDC_CLIENT_SECRET")):
        raise RuntimeError("OIDC_ISSUER needs OIDC_CLIENT_ID and OIDC_CLIENT_SECRET")
    if not issuer.startswith("https://") and not app.config.get("OIDC_ALLOW_HTTP_ISSUER"):
        raise RuntimeError("OIDC_ISSUER must be an https:// URL")
    oauth = OAuth(app)
    app.extensions[EXTENSION] = oauth.register(
        "force",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid profile email",
            "code_challenge_method": "S256",
            "default_timeout": TIMEOUT_SECONDS,
        },
    )


def offered() -> bool:
    """Whether the sign-in page offers the force's provider."""
    return EXTENSION in current_app.extensions


def _client():
    return current_app.extensions[EXTENSION]


# The error codes of an authorization or token answer (RFC 6749, 4.1.2.1 and 5.2), Authlib's
# own for a state it does not know, and OpenID Connect's (Core 1.0, 3.1.2.6).
OAUTH_ERROR_CODES = frozenset(
    {
        "invalid_request",
        "unauthorized_client",
        "access_denied",
        "unsupported_response_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "invalid_client",
        "invalid_grant",
        "unsupported_grant_type",
        "mismatching_state",
        "missing_token",
        "interaction_required",
        "login_required",
        "account_selection_required",
        "consent_required",
        "invalid_request_uri",
        "invalid_request_object",
        "request_not_supported",
        "request_uri_not_supported",
        "registration_not_supported",
    }
)


def _issuer() -> str:
    return current_app.config["OIDC_ISSUER"]


def authorize_redirect(callback_path: str):
    """The redirect to the provider's authorization endpoint, with a new state, nonce and
    PKCE challenge kept in the session for the answer."""
    try:
        return _client().authorize_redirect(settings.public_base_url() + callback_path)
    except (RequestException, ValueError) as error:
        raise ProviderUnavailable(type(error).__name__) from error


def identity_from_callback() -> Identity:
    """Who the provider's answer (this request) says signed in, once its state matches one in
    this session, the code is exchanged with its PKCE verifier, and the ID token is checked:
    signature, issuer, audience, nonce, and its times on the service's clock."""
    claimed_issuer = request.args.get("iss")
    if claimed_issuer is not None and claimed_issuer != _issuer():
        raise SignInNotCompleted("the answer names another issuer")
    try:
        token = _client().authorize_access_token(
            claims_cls=IDTokenOnServiceClock,
            claims_options={"iss": {"essential": True, "value": _issuer()}},
            leeway=LEEWAY_SECONDS,
        )
    except OAuthError as error:  # a state not this session's, or the provider's own refusal
        # The error code may come from the query string: only a code of the standard's is logged.
        code = error.error if error.error in OAUTH_ERROR_CODES else "other"
        raise SignInNotCompleted(f"{type(error).__name__} {code}") from error
    except JoseError as error:  # the ID token fails a check (named, never its values)
        raise SignInNotCompleted(f"ID token: {type(error).__name__} {error}") from error
    except (RequestException, ValueError) as error:
        raise ProviderUnavailable(type(error).__name__) from error
    claims = token.get("userinfo")
    if not claims:
        raise SignInNotCompleted("no ID token")
    return Identity.from_claims(
        claims, current_app.config.get("OIDC_ROLE_CLAIM"), current_app.extensions["oidc_roles"]
    )


def sign_out_url() -> str | None:
    """The provider's end-session endpoint, to end the person's session there too and come
    back to the sign-in page; None when the provider has none (or cannot be reached)."""
    client = _client() if offered() else None
    if client is None:
        return None
    try:
        return client.create_logout_url(
            post_logout_redirect_uri=settings.public_base_url() + "/login",
            client_id=client.client_id,
        )["url"]
    except (RequestException, ValueError, RuntimeError):
        return None
