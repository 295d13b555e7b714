"""The shapes of API request bodies: unknown fields and wrong types are refused.

Pydantic checks only the shape; the meaning (lengths, valid mobiles, free slots) is checked
by the domain, so the web and the API refuse the same things with the same words.
"""

from __future__ import annotations

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*")
    @classmethod
    def no_nul_characters(cls, value):
        # No text field may hold a NUL: PostgreSQL refuses it, and no person's name has one.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("Remove the NUL character")
        return value


class BookingIn(Body):
    block: str = Field(max_length=40)
    starts_at: AwareDatetime
    custody_record: str = Field(max_length=200)
    person_name: str = Field(max_length=400)
    mobile: str | None = Field(default=None, max_length=40)
    sms_consent: bool = False
    requirement: str = Field(max_length=20)
    test_result: str = Field(max_length=20)
    tested_at: AwareDatetime
    disputed: bool = False
    arrest_block: str = Field(max_length=40)


class RearrangeIn(Body):
    block: str = Field(max_length=40)
    starts_at: AwareDatetime


class CancelIn(Body):
    reason: str = Field(max_length=2000)


class OutcomeIn(Body):
    outcome: str = Field(max_length=20)


class MalformedBody(Exception):
    """Not JSON, or not a JSON object: a 400, not a field error."""


def parse(model: type[Body], raw: bytes) -> Body:
    """The body as `model`, MalformedBody (400) or ValidationError (422)."""
    try:
        return model.model_validate_json(raw or b"")
    except ValidationError as error:
        if any(e["type"] in ("json_invalid", "model_type") or not e["loc"] for e in error.errors()):
            raise MalformedBody("The request body must be a JSON object.") from None
        raise


def field_errors(error: ValidationError) -> dict[str, str]:
    """Pydantic's errors as the contract's {"field": "message"}."""
    messages = {}
    for e in error.errors():
        field = str(e["loc"][0])
        if e["type"] == "extra_forbidden":
            messages[field] = "Unknown field"
        elif e["type"] == "missing":
            messages[field] = "This field is required"
        elif e["type"] == "value_error":
            messages[field] = str(e["ctx"]["error"])
        elif e["type"] == "timezone_aware":
            messages[field] = "A time needs a UTC offset, such as +00:00 or Z"
        else:
            messages[field] = e["msg"]
    return messages
