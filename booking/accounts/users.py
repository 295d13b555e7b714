"""Users, their roles, passwords and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit, places
from ..errors import InvalidField, NotAllowed
from ..extensions import db
from ..models import ApiToken, Role, User, Worker
from ..phones import InvalidMobile, normalise_mobile
from ..text_fields import has_control_characters, one_line

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
    by: User | None = None,
) -> User:
    """A new user; a worker also gets their place in the rota, at their home block. `by` is
    the coordinator who made it (None for the operator's command line), for the trail."""
    email = email.strip().lower()
    name = one_line(name) or email.split("@")[0][:100]
    errors = {}
    if "@" not in email or len(email) > 254 or has_control_characters(email):
        errors["email"] = "Enter an email address"
    elif find_by_email(email):
        errors["email"] = "A user with that email address already exists"
    if has_control_characters(name) or len(name) > 100:
        errors["name"] = "Enter a name on one line, up to 100 characters"
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters"
    block = _role_and_block(role, block_code, errors)
    if mobile:
        try:
            mobile = normalise_mobile(mobile, allow_test_numbers)
        except InvalidMobile as refusal:
            errors["mobile"] = str(refusal)
    if errors:
        raise InvalidField("The user was not created.", errors)

    user = User(
        email=email,
        name=name,
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
    audit.record(audit.Action.USER_CREATED, now, by, detail=audit.about_user(user))
    return user


def _role_and_block(role: str, block_code: str | None, errors: dict[str, str]):
    """The block named for a user of this role (a worker's home block, a sergeant's custody
    block), with what is wrong with either added to `errors`."""
    if role not in set(Role):
        errors["role"] = "Role must be one of " + ", ".join(Role)
    block = None
    if block_code:
        block = places.block_with_code(block_code)
        if block is None:
            errors["block"] = "Unknown block"
    elif role == Role.WORKER:
        errors["block"] = "A worker needs a home block"
    return block


def waiting_for_role(user: User) -> bool:
    """Whether this user cannot work yet: they have no role, or are a worker with no home
    block (no place in the rota). Only someone who signs in with the force's provider can be."""
    return user.role is None or (user.role == Role.WORKER and user.worker is None)


def give_role(user: User, role: str, block_code: str | None, *, by: User, now: dt.datetime) -> None:
    """A coordinator gives a role (and a block) to someone waiting for one since they first
    signed in with the force's provider. A worker also gets their place in the rota."""
    if not user.active:
        raise InvalidField("This user is disabled.", {"role": "Enable them first"})
    if not waiting_for_role(user):
        raise InvalidField("This user already has a role.", {"role": "They already have one"})
    errors: dict[str, str] = {}
    block = _role_and_block(role, block_code, errors)
    if errors:
        raise InvalidField("The role was not given.", errors)
    user.block = block
    if role == Role.WORKER and user.worker is None:
        db.session.add(Worker(name=user.name, home_block=block, user=user))
    was = move_to_role(user, role)
    db.session.flush()
    audit.record(audit.Action.ROLE_CHANGED, now, by, detail=audit.role_change(user, was))


def move_to_role(user: User, role: Role | None) -> Role | None:
    """Give the user this role (None: none); the role they had. Their place in the rota is
    kept only while they are a worker, and their other sessions end: each was for the old
    role. The caller records the change in the audit trail."""
    was = user.role
    user.role = role
    user.session_version += 1
    if user.worker is not None:
        user.worker.active = role == Role.WORKER
    return was


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials; the same answer for an unknown email, and
    for a user with no password (who signs in with the force's provider)."""
    user = find_by_email(email or "")
    if user is None or user.password_hash is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, now: dt.datetime, *, by: User | None = None) -> str:
    """A new API token; only its digest is stored, so it is shown this once.

    A token acts as its user, so it is personal: a user issues only their own (`by` is None
    for the operator's command line, which holds the database anyway).
    """
    if by is not None and by.id != user.id:
        raise NotAllowed("An API token is personal: only its user can issue it.")
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=_digest(token), created_at=now))
    db.session.flush()
    audit.record(audit.Action.TOKEN_ISSUED, now, by, detail=audit.about_user(user))
    return token


def user_for_token(token: str, *, now: dt.datetime, lifetime: dt.timedelta) -> User | None:
    """The active user whose live token this is: not revoked, and issued within `lifetime`."""
    # The user alone, through a join: every API request asks this first, and loading the
    # token row beside it cost more CPU than the lookup itself.
    return db.session.scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == _digest(token),
            ApiToken.revoked_at.is_(None),
            ApiToken.created_at > now - lifetime,
            User.active.is_(True),
        )
    )


def set_active(user: User, active: bool, *, by: User, now: dt.datetime) -> None:
    """Disable (or enable again) a login. Disabling ends the user's sessions and revokes their
    tokens for good: enabling again gives back the sign-in, never an old token."""
    if user.id == by.id and not active:
        raise InvalidField("You cannot disable yourself.", {"user": "Ask another coordinator"})
    if user.active == active:
        return
    user.active = active
    user.session_version += 1
    if user.worker is not None:
        user.worker.active = active
    if not active:
        _revoke_all(user, now, by)
    action = audit.Action.USER_ENABLED if active else audit.Action.USER_DISABLED
    audit.record(action, now, by, detail=audit.about_user(user))
    db.session.flush()


def reset_password(user: User, password: str, *, by: User | None, now: dt.datetime) -> None:
    """A new password; the user's sessions and API tokens end with the old one. Someone who
    signs in with the force's provider has none: a password would be a way round it."""
    if user.oidc_subject is not None:
        raise InvalidField(
            "This user signs in with the force's sign-in, not a password.",
            {"password": "This user signs in with the force's sign-in, not a password"},
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidField(
            "The password is too short.",
            {"password": f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters"},
        )
    user.password_hash = hash_password(password)
    user.session_version += 1  # sessions signed in with the old password end
    _revoke_all(user, now, by)
    audit.record(audit.Action.PASSWORD_RESET, now, by, detail=audit.about_user(user))
    db.session.flush()


def live_tokens(user: User, *, now: dt.datetime, lifetime: dt.timedelta) -> list[ApiToken]:
    """The user's tokens that still work, oldest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(
                ApiToken.user_id == user.id,
                ApiToken.revoked_at.is_(None),
                ApiToken.created_at > now - lifetime,
            )
            .order_by(ApiToken.created_at)
        )
    )


def revoke_token(token: ApiToken, now: dt.datetime, *, by: User | None) -> None:
    if token.revoked_at is None:
        token.revoked_at = now
        audit.record(audit.Action.TOKEN_REVOKED, now, by, detail=audit.about_user(token.user))
        db.session.flush()


def _revoke_all(user: User, now: dt.datetime, by: User | None) -> None:
    for token in db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ):
        token.revoked_at = now
        audit.record(audit.Action.TOKEN_REVOKED, now, by, detail=audit.about_user(user))
