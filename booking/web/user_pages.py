"""Coordinators manage users (create, give a role, disable, reset a password, API tokens) and
read the audit."""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovPasswordInput,
    GovSubmitInput,
    GovTextInput,
)
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired

from .. import audit, clock, permissions, places, settings
from ..accounts import users
from ..appointments.references import normalise_reference
from ..errors import InvalidField
from ..extensions import db
from ..models import ApiToken, AuditEvent, Role, User
from . import web
from .auth import roles_required
from .components import KeptSelect

ROLE_NAMES = {
    Role.SERGEANT: "Custody sergeant",
    Role.WORKER: "Worker",
    Role.COORDINATOR: "Coordinator",
    Role.ANALYST: "Analyst",
}
AUDIT_PAGE = 200


class NewUserForm(FlaskForm):
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter an email address")],
    )
    name = StringField(
        "Full name", widget=GovTextInput(), validators=[InputRequired(message="Enter a name")]
    )
    role = SelectField(
        "Role", choices=[(r.value, n) for r, n in ROLE_NAMES.items()], widget=KeptSelect()
    )
    block = SelectField(
        "Home block",
        description="A worker's home block; a sergeant's custody block",
        widget=KeptSelect(),
    )
    password = PasswordField(
        "First password",
        description="At least 10 characters; give it to them in person",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter a first password")],
    )
    submit = SubmitField("Create user", widget=GovSubmitInput())


class PasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        description="At least 10 characters",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter a new password")],
    )
    submit = SubmitField("Set password", widget=GovSubmitInput())


class RoleForm(FlaskForm):
    """A role for someone waiting for one since they first signed in with the force's provider."""

    role = SelectField(
        "Role", choices=[(r.value, n) for r, n in ROLE_NAMES.items()], widget=KeptSelect()
    )
    block = SelectField(
        "Block",
        description="A worker's home block (needed); a sergeant's custody block",
        widget=KeptSelect(),
    )
    submit = SubmitField("Give this role", widget=GovSubmitInput())


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


def _blocks_choices() -> list[tuple[str, str]]:
    blocks = places.blocks_by_name()
    return [("", "None")] + [(b.code, b.name) for b in blocks]


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@web.route("/users", methods=["GET", "POST"])
@roles_required(permissions.COORDINATION)
def users_list():
    form = NewUserForm()
    form.block.choices = _blocks_choices()
    if form.validate_on_submit():
        try:
            user = users.create_user(
                form.email.data,
                form.role.data,
                form.password.data,
                now=clock.now(),
                name=form.name.data.strip(),
                block_code=form.block.data or None,
                by=current_user,
            )
        except InvalidField as refusal:
            db.session.rollback()
            for name, message in refusal.errors.items():
                getattr(form, name, form.email).errors.append(message)
        else:
            db.session.commit()
            flash(f"Created {user.name} ({ROLE_NAMES[user.role].lower()}).", "success")
            return redirect(url_for("web.user_detail", user_id=user.id))
    people = db.session.scalars(select(User).order_by(User.active.desc(), User.name)).all()
    return render_template(
        "users/list.html",
        title="Users",
        form=form,
        people=people,
        role_names=ROLE_NAMES,
    ), (400 if form.errors else 200)


@web.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(permissions.COORDINATION)
def user_detail(user_id: int):
    user = _user_or_404(user_id)
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            users.reset_password(user, form.password.data, by=current_user, now=clock.now())
        except InvalidField as refusal:
            db.session.rollback()
            form.password.errors.append(refusal.errors["password"])
        else:
            db.session.commit()
            flash(f"The password of {user.name} has been changed.", "success")
            return redirect(url_for("web.user_detail", user_id=user.id))
    return _detail_page(user, form=form), (400 if form.errors else 200)


def _detail_page(user: User, **shown):
    """A user's page; `shown` replaces its forms or adds the new token."""
    role_form = RoleForm(formdata=None, role=user.role or Role.SERGEANT.value)
    role_form.block.choices = _blocks_choices()
    page = {
        "form": PasswordForm(formdata=None),
        "role_form": role_form,
        "action_form": ActionForm(),
        "new_token": None,
    } | shown
    return render_template(
        "users/detail.html",
        title=user.name,
        person=user,
        waiting_for_role=users.waiting_for_role(user),
        role_from_claim=current_app.config["OIDC_ROLE_CLAIM"],
        tokens=users.live_tokens(user, now=clock.now(), lifetime=settings.api_token_lifetime()),
        token_lifetime=settings.api_token_lifetime(),
        role_names=ROLE_NAMES,
        **page,
    )


@web.post("/users/<int:user_id>/role")
@roles_required(permissions.COORDINATION)
def user_role(user_id: int):
    """Give a role to someone waiting for one (first signed in with the force's provider)."""
    user = _user_or_404(user_id)
    form = RoleForm()
    form.block.choices = _blocks_choices()
    if form.validate_on_submit():
        try:
            users.give_role(
                user, form.role.data, form.block.data or None, by=current_user, now=clock.now()
            )
        except InvalidField as refusal:
            db.session.rollback()
            for name, message in refusal.errors.items():
                getattr(form, name, form.role).errors.append(message)
        else:
            db.session.commit()
            flash(f"Gave {user.name} the role of {ROLE_NAMES[user.role].lower()}.", "success")
            return redirect(url_for("web.user_detail", user_id=user.id))
    return _detail_page(user, role_form=form), 400


@web.post("/users/<int:user_id>/active")
@roles_required(permissions.COORDINATION)
def user_active(user_id: int):
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        users.set_active(
            user, request.form.get("active") == "yes", by=current_user, now=clock.now()
        )
    except InvalidField as refusal:
        db.session.rollback()
        flash(refusal.message, "info")
    else:
        db.session.commit()
        flash(f"{user.name} is now {'enabled' if user.active else 'disabled'}.", "success")
    return redirect(url_for("web.user_detail", user_id=user.id))


@web.post("/users/<int:user_id>/tokens")
@roles_required(permissions.COORDINATION)
def user_token(user_id: int):
    """Issue an API token: shown on this page once, stored only as a digest. Tokens are
    personal: a coordinator issues only their own."""
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if user.id != current_user.id:
        abort(403)
    token = users.issue_token(user, clock.now(), by=current_user)
    db.session.commit()
    return _detail_page(user, new_token=token)


@web.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
@roles_required(permissions.COORDINATION)
def revoke_user_token(user_id: int, token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id or not ActionForm().validate_on_submit():
        abort(404)
    users.revoke_token(token, clock.now(), by=current_user)
    db.session.commit()
    flash("The API token was revoked: it no longer works.", "success")
    return redirect(url_for("web.user_detail", user_id=user_id))


@web.get("/audit")
@roles_required(permissions.COORDINATION)
def audit_trail():
    """Browse the audit trail: newest first, filtered by reference, user or action."""
    query = select(AuditEvent).options(joinedload(AuditEvent.user))
    reference = (request.args.get("reference") or "").strip()
    email = (request.args.get("user") or "").strip().lower()
    action = (request.args.get("action") or "").strip()
    day = (request.args.get("date") or "").strip()
    if reference:
        query = query.where(AuditEvent.reference == normalise_reference(reference))
    if email:
        query = query.where(AuditEvent.user.has(User.email == email))
    if action:
        query = query.where(AuditEvent.action == action)
    bad_date = False
    if day:
        try:
            local_day = dt.date.fromisoformat(day)
        except ValueError:
            bad_date = True
        else:
            first, after = clock.local_day_span(local_day)
            query = query.where(AuditEvent.at >= first, AuditEvent.at < after)
    events = db.session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(AUDIT_PAGE)
    ).all()
    actions = sorted(
        value for name, value in vars(audit.Action).items() if not name.startswith("_")
    )
    return render_template(
        "audit/list.html",
        title="Audit trail",
        events=events,
        filters={"reference": reference, "user": email, "action": action, "date": day},
        actions=actions,
        bad_date=bad_date,
    )
