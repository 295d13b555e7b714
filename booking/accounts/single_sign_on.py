"""Who someone is who signed in with the force's OpenID Connect provider, and their role.

The web shell has checked the provider's ID token; here its claims become a user. A person is
known by the token's issuer and subject, never by their email address alone: a provider's
email address can belong to a user who signs in with a password, and that user is not them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..extensions import db
from ..models import Role, User
from ..text_fields import has_control_characters, one_line
from .users import find_by_email, move_to_role

NAME_MAX = 100
EMAIL_MAX = 254


@dataclass(frozen=True)
class Identity:
    """What the provider's ID token says about the person."""

    issuer: str
    subject: str
    name: str | None
    email: str | None
    claimed_role: Role | None

    @classmethod
    def from_claims(
        cls, claims: Mapping, role_claim: str | None, role_values: Mapping[str, Role] | None = None
    ) -> Identity:
        return cls(
            issuer=claims["iss"],
            subject=claims["sub"],
            name=claims.get("name") if isinstance(claims.get("name"), str) else None,
            email=claims.get("email") if isinstance(claims.get("email"), str) else None,
            claimed_role=role_from_claim(claims, role_claim, role_values) if role_claim else None,
        )


# Without OIDC_ROLE_VALUES, the claim's values are the roles' own names.
ROLE_NAMES = {role.value: role for role in Role}


def parse_role_values(setting: str | None) -> dict[str, Role]:
    """OIDC_ROLE_VALUES, "sergeant=ARS.Sergeant,worker=ARS.Worker,…": which value of the role
    claim (an Entra ID app role's value, or a group's id) gives which role. A role may have
    several values; a value names one role. ValueError says what is wrong."""
    if not setting or not setting.strip():
        return dict(ROLE_NAMES)
    values: dict[str, Role] = {}
    for pair in setting.split(","):
        role, equals, value = (part.strip() for part in pair.partition("="))
        if not equals or not value or role not in ROLE_NAMES:
            raise ValueError(f"OIDC_ROLE_VALUES: {pair.strip()!r} is not role=value")
        if value in values and values[value] != ROLE_NAMES[role]:
            raise ValueError(f"OIDC_ROLE_VALUES: one value is given to two roles ({role})")
        values[value] = ROLE_NAMES[role]
    return values


def role_from_claim(
    claims: Mapping, role_claim: str, role_values: Mapping[str, Role] | None = None
) -> Role | None:
    """The one role the claim names (a string or a list, as Microsoft Entra ID sends app roles
    and groups), by OIDC_ROLE_VALUES, or None: a claim naming none, or two roles, gives none."""
    role_values = ROLE_NAMES if role_values is None else role_values
    value = claims.get(role_claim)
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    named = {role_values[v] for v in values if isinstance(v, str) and v in role_values}
    return named.pop() if len(named) == 1 else None


def find_by_identity(issuer: str, subject: str) -> User | None:
    return db.session.scalar(
        select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
    )


def user_for(identity: Identity, *, role_claim: str | None, now: dt.datetime) -> User:
    """The user this person signs in as, made on their first sign-in with no role.

    With a role claim (OIDC_ROLE_CLAIM) the provider decides the role at every sign-in: a
    claim naming no role leaves the user waiting for one. Without it a coordinator gives the
    role. Whether the user may come in (active, with a role) is the caller's question.
    """
    user = find_by_identity(identity.issuer, identity.subject) or _first_sign_in(identity, now)
    if role_claim and user.active and identity.claimed_role != user.role:
        was = move_to_role(user, identity.claimed_role)
        detail = audit.role_change(user, was) + ", from the provider's role claim"
        audit.record(audit.Action.ROLE_CHANGED, now, None, detail=detail)
    db.session.flush()
    return user


def _first_sign_in(identity: Identity, now: dt.datetime) -> User:
    """A new user for this person, with no role. Two first sign-ins at once (two tabs), or an
    email address taken in between, meet the unique indexes: then the other's user is theirs,
    or the user is made without the address."""
    for email in (_free_email(identity.email), None):
        user = User(
            email=email,
            name=_name(identity.name),
            role=None,
            password_hash=None,
            oidc_issuer=identity.issuer,
            oidc_subject=identity.subject,
            created_at=now,
        )
        try:
            with db.session.begin_nested():
                db.session.add(user)
                db.session.flush()
        except IntegrityError:
            found = find_by_identity(identity.issuer, identity.subject)
            if found is not None:
                return found
            continue
        audit.record(audit.Action.USER_CREATED, now, None, detail=audit.about_user(user))
        return user
    raise RuntimeError("a user for this identity could be neither made nor found")


def _name(claimed: str | None) -> str:
    name = one_line(claimed)
    if not name or len(name) > NAME_MAX or has_control_characters(name):
        return "New user"
    return name


def _free_email(claimed: str | None) -> str | None:
    """The provider's email address, kept to tell people apart on the users' page; none if it
    is not one, or another user already has it (that user is someone else until shown not)."""
    email = (claimed or "").strip().lower()
    if "@" not in email or len(email) > EMAIL_MAX or has_control_characters(email):
        return None
    return None if find_by_email(email) else email
