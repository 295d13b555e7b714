"""The worker's forms: which day, the outcome, the follow-up decision, telling the police.

Their shape only: `booking.appointments.outcomes` judges the content, and its refusals land on
these fields.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import HiddenField, RadioField, SelectField, SubmitField
from wtforms.validators import InputRequired

from ...appointments.outcomes import FOLLOW_UP_BOOKED, FOLLOW_UP_NOT_NEEDED, OUTCOMES
from ...models import BookingStatus, Worker
from ..components import KeptSelect
from ..presentation import STATUS_NAMES
from .fields import GovRadios, add_errors

OUTCOME_HINTS = {
    BookingStatus.ATTENDED: "The person came and stayed for the whole assessment",
    BookingStatus.LEFT_EARLY: "The person came but left before the assessment was finished: "
    "the police must be told",
    BookingStatus.DID_NOT_ATTEND: "The person did not come: the police must be told",
}
FOLLOW_UP_CHOICES = [
    (FOLLOW_UP_BOOKED, "Book the follow-up assessment"),
    (FOLLOW_UP_NOT_NEEDED, "No follow-up assessment is needed"),
]
FOLLOW_UP_HINTS = {
    FOLLOW_UP_BOOKED: "Choose a time now and give the person its written notice",
    FOLLOW_UP_NOT_NEEDED: "You decided, as the initial assessor, that none is required",
}


class WorkerChoiceForm(FlaskForm):
    """A coordinator's choice of whose day to see; the date travels with it."""

    class Meta:
        csrf = False  # a GET that changes nothing

    worker = SelectField("Worker", widget=KeptSelect(), validate_choice=False)
    date = HiddenField()

    @classmethod
    def for_workers(cls, workers: list[Worker], **kwargs) -> WorkerChoiceForm:
        form = cls(**kwargs)
        form.worker.choices = [("", "Choose a worker")] + [(str(w.id), w.name) for w in workers]
        return form


class OutcomeForm(FlaskForm):
    outcome = RadioField(
        "What happened?",
        choices=[(outcome.value, STATUS_NAMES[outcome]) for outcome in OUTCOMES],
        widget=GovRadios(),
        validate_choice=False,
        validators=[InputRequired(message="Select attended, left early or did not attend")],
    )
    submit = SubmitField("Save the outcome", widget=GovSubmitInput())

    # Every refusal of an outcome is about the outcome chosen, whatever field the domain names.
    DOMAIN_FIELDS = {"reference": "outcome"}

    def outcome_items(self) -> list[dict]:
        return [{"hint": {"text": OUTCOME_HINTS[value]}} for value, _ in self.outcome.choices]

    def add_domain_errors(self, errors: dict[str, str]) -> None:
        add_errors(self, errors, self.DOMAIN_FIELDS, fallback="outcome")


class FollowUpForm(FlaskForm):
    decision = RadioField(
        "Is a follow-up assessment needed?",
        choices=FOLLOW_UP_CHOICES,
        widget=GovRadios(),
        validate_choice=False,
        validators=[
            InputRequired(message="Select whether to book the follow-up or that none is needed")
        ],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def decision_items(self) -> list[dict]:
        return [{"hint": {"text": FOLLOW_UP_HINTS[value]}} for value, _ in self.decision.choices]

    def add_domain_errors(self, errors: dict[str, str]) -> None:
        add_errors(self, errors, {"reference": "decision"}, fallback="decision")


class PoliceInformedForm(FlaskForm):
    """Only a CSRF token: the button records that the police were told."""
