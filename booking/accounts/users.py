"""Users, their roles, passwords and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from .. import places
from ..errors import InvalidField
from ..extensions import db
from ..models import ApiToken, Role, User, Worker
from ..phones import InvalidMobile, normalise_mobile

# Checked against when the email is unknown, so both refusals take the same time.
_DUMMY_HASH = generate_password_hash("not a real password")
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    """scrypt in service; tests may choose a cheaper method (PASSWORD_HASH_METHOD)."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(
    email: str,
    role: str,
    password: str,
    *,
    now: dt.datetime,
    name: str | None = None,
    block_code: str | None = None,
    mobile: str | None = None,
    allow_test_numbers: bool = False,
) -> User:
    """A new user; a worker also gets their place in the rota, at their home block."""
    email = email.strip().lower()
    errors = {}
    if "@" not in email or len(email) > 254:
        errors["email"] = "Enter an email address"
    elif find_by_email(email):
        errors["email"] = "A user with that email address already exists"
    if role not in set(Role):
        errors["role"] = "Role must be one of " + ", ".join(Role)
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters"
    block = None
    if block_code:
        block = places.block_with_code(block_code)
        if block is None:
            errors["block"] = "Unknown block"
    elif role == Role.WORKER:
        errors["block"] = "A worker needs a home block"
    if mobile:
        try:
            mobile = normalise_mobile(mobile, allow_test_numbers)
        except InvalidMobile as refusal:
            errors["mobile"] = str(refusal)
    if errors:
        raise InvalidField("The user was not created.", errors)

    user = User(
        email=email,
        name=name or email.split("@")[0],
        role=role,
        password_hash=hash_password(password),
        block=block,
        mobile=mobile,
        created_at=now,
    )
    db.session.add(user)
    if role == Role.WORKER:
        db.session.add(Worker(name=user.name, home_block=block, user=user))
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials; the same answer for an unknown email."""
    user = find_by_email(email or "")
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, now: dt.datetime) -> str:
    """A new API token; only its digest is stored, so it is shown this once."""
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=_digest(token), created_at=now))
    db.session.flush()
    return token


def user_for_token(token: str) -> User | None:
    api_token = db.session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.user))
        .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None))
    )
    if api_token is None or not api_token.user.active:
        return None
    return api_token.user


def set_active(user: User, active: bool, *, by: User) -> None:
    """Disable (or enable again) a login; a disabled user's session and tokens stop working."""
    if user.id == by.id and not active:
        raise InvalidField("You cannot disable yourself.", {"user": "Ask another coordinator"})
    user.active = active
    user.session_version += 1
    if user.worker is not None:
        user.worker.active = active
    db.session.flush()


def reset_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidField(
            "The password is too short.",
            {"password": f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters"},
        )
    user.password_hash = hash_password(password)
    user.session_version += 1  # sessions signed in with the old password end
    db.session.flush()


def live_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at)
        )
    )


def revoke_token(token: ApiToken, now: dt.datetime) -> None:
    if token.revoked_at is None:
        token.revoked_at = now
        db.session.flush()
