"""Field types and the base class shared by the wire models (P6, T1).

The wire models are strict: a value of the wrong JSON type is an error, never coerced (no
``"3"`` for an integer, no ``1`` for a string, no ``1.0`` for an integer, no ``"true"`` for a
boolean). Three kinds of field opt out of pydantic's strict *Python* mode in a controlled way,
so that a mapping decoded from JSON (``json.loads``) validates like the JSON text itself:

- timestamps accept an ISO 8601 string (date, time and UTC offset) as well as an aware
  :class:`~datetime.datetime`;
- closed enumerations accept their string values as well as their members;
- arrays accept a list as well as a tuple (they are stored as tuples).

The limits mirror the domain validators in :mod:`deskcore.models._validate`, so whatever a wire
model accepts converts into a domain model without an error.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import PydanticCustomError, TzInfo

from deskcore.models import Direction, Priority, TicketStatus, Visibility
from deskcore.models._validate import MAX_ID_LENGTH, MAX_TEXT_LENGTH

MAX_LABEL_LENGTH = 1000
"""Names, subjects, content types, storage keys and digests (as in the domain models)."""

MAX_SHORT_LENGTH = 320
"""A contact's email address and phone number."""

MAX_INT64 = 2**63 - 1
"""Largest size, number or version: what a 64-bit integer column (SQLite's) can store."""

MAX_TIMESTAMP_LENGTH = 64


class WireModel(BaseModel):
    """Base of every wire model: strict, frozen, and closed to unknown fields (P6).

    Field docstrings become the field descriptions of the exported JSON Schema.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        allow_inf_nan=False,
        use_attribute_docstrings=True,
    )


# -- identifiers ----------------------------------------------------------------------------------


def _check_identifier(value: str) -> str:
    # The same rule as deskcore.models._validate.identifier. isprintable() is also False for
    # lone surrogates, line breaks and other control characters.
    if value != value.strip() or not value.isprintable():
        raise PydanticCustomError(
            "identifier",
            "An id must not have surrounding whitespace or unprintable characters",
        )
    return value


Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_ID_LENGTH),
    AfterValidator(_check_identifier),
]
"""A non-empty id of at most 255 printable characters without surrounding whitespace."""

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
"""A code of an open code list (a channel, a classification): the rule of ``Channel``."""

# Lone surrogates need no check of their own: the JSON parser rejects ``"\ud800"`` escapes
# (``json_invalid``) and pydantic-core rejects Python strings holding them (``string_unicode``).

Body = Annotated[str, StringConstraints(max_length=MAX_TEXT_LENGTH)]
"""A message body or other long text: at most 1,000,000 characters."""

Label = Annotated[str, StringConstraints(max_length=MAX_LABEL_LENGTH)]
"""A name, subject, content type, storage key or digest: at most 1,000 characters."""

Short = Annotated[str, StringConstraints(max_length=MAX_SHORT_LENGTH)]
"""An email address or phone number: at most 320 characters."""

Size = Annotated[int, Field(ge=0, le=MAX_INT64)]
"""A size in bytes (or another count): an integer from 0 to 2**63 - 1."""


# -- timestamps -----------------------------------------------------------------------------------

_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
_PARSE_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def _parse_timestamp(value: object) -> object:
    # Strings are parsed here, in both modes: a before-validator's result is validated as a
    # Python value, which strict mode would refuse as a string. Requiring the date-and-time
    # shape also rejects what pydantic's parser would otherwise accept as a Unix timestamp
    # ("1700000000"): the wire wants an explicit UTC offset (T1), not an epoch count.
    if not isinstance(value, str):
        return value  # a datetime passes; anything else fails the strict check that follows
    if len(value) > MAX_TIMESTAMP_LENGTH or not _ISO_DATETIME.match(value):
        raise PydanticCustomError(
            "datetime_format",
            "Input should be an ISO 8601 date and time with a UTC offset, "
            "like 2024-05-01T09:30:00+09:00",
        )
    try:
        return _PARSE_DATETIME.validate_python(value)
    except ValidationError:
        raise PydanticCustomError(
            "datetime_format",
            "Input should be a valid ISO 8601 date and time with a UTC offset",
        ) from None


def _standard_tz(value: datetime) -> datetime:
    # Parsed offsets come as pydantic-core's TzInfo; the domain gets the standard library's
    # fixed-offset timezone with the same offset, so the offset survives and nothing outside
    # the wire layer sees a pydantic type. Other tzinfos (zoneinfo) are kept as they are.
    if isinstance(value.tzinfo, TzInfo):
        offset = value.utcoffset()
        assert offset is not None  # AwareDatetime has checked it
        return value.replace(tzinfo=timezone(offset))
    return value


Timestamp = Annotated[
    AwareDatetime,
    BeforeValidator(_parse_timestamp),
    AfterValidator(_standard_tz),
]
"""An aware datetime (T1); in JSON an ISO 8601 string with a UTC offset. Naive is an error."""


# -- lenient containers and enums -----------------------------------------------------------------

FromList = Strict(False)
"""Marks a ``tuple[X, ...]`` field that also accepts a list (or another non-string sequence)
from Python input; its items stay strict. JSON arrays are accepted either way."""

StatusField = Annotated[TicketStatus, Strict(False)]
"""A ticket status: ``open``, ``on_hold``, ``escalated`` or ``closed`` (T3)."""

PriorityField = Annotated[Priority, Strict(False)]
"""A priority: ``high``, ``medium`` or ``low`` (T3)."""

DirectionField = Annotated[Direction, Strict(False)]
"""``inbound`` (the customer wrote) or ``outbound`` (the brand replied) (T5)."""

VisibilityField = Annotated[Visibility, Strict(False)]
"""``public`` (shown in the help center) or ``private`` (T5)."""
