"""Bearer-token authentication and the role rule each API route declares."""

from __future__ import annotations

from functools import wraps

from flask import g, request

from .. import clock, settings
from ..accounts.users import user_for_token
from ..models import Role, User
from .responses import error_response


def _bearer_user() -> User | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return user_for_token(token.strip(), now=clock.now(), lifetime=settings.api_token_lifetime())


def api_roles(work: frozenset[Role]):
    """An API route for the roles of this work (booking/permissions.py): 401 without a valid
    token, 403 for other roles."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = _bearer_user()
            if user is None:
                response, status = error_response(
                    "Send a valid API token: Authorization: Bearer TOKEN.", 401
                )
                response.headers["WWW-Authenticate"] = "Bearer"
                return response, status
            if user.role not in work:
                return error_response("Your role is not allowed to do that.", 403)
            g.api_user = user
            return view(*args, **kwargs)

        return wrapped

    return decorator


def api_user() -> User:
    return g.api_user
