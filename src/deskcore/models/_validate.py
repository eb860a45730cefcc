"""Field validators shared by the models (T1).

Validators raise :class:`~deskcore.errors.InvalidModelError` subclasses naming the model and
the field, so a bad value is reported where it was made, not where it is later used.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import attrs

from deskcore.errors import InvalidModelError, NaiveDatetimeError, UnknownValueError

MAX_ID_LENGTH = 255
MAX_TEXT_LENGTH = 1_000_000
MAX_INT = 2**63 - 1  # what SQLite and most databases store in an integer column

E = TypeVar("E", bound=enum.Enum)


def _model(instance: object) -> str:
    return type(instance).__name__


def fixed_offset(value: datetime) -> datetime:
    """Converter: an aware datetime re-expressed in a fixed-offset zone, same instant and offset.

    Models keep instants, not zone rules. A ``zoneinfo`` datetime inside a daylight-saving
    fold or gap never compares equal to the same instant in another tzinfo (PEP 495), so a
    ticket read back from storage would differ from the one saved. Naive values and
    non-datetimes pass through for the validator to report.
    """
    if isinstance(value, datetime) and value.tzinfo is not None:
        offset = value.utcoffset()
        if offset is not None and not isinstance(value.tzinfo, timezone):
            return value.replace(tzinfo=timezone(offset), fold=0)
    return value


def optional_fixed_offset(value: datetime | None) -> datetime | None:
    """:func:`fixed_offset` for optional fields."""
    return None if value is None else fixed_offset(value)


def is_aware(value: datetime) -> bool:
    """True when ``value`` carries a time zone that gives it a UTC offset."""
    return value.tzinfo is not None and value.tzinfo.utcoffset(value) is not None


def aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require an aware datetime."""
    if not isinstance(value, datetime):
        raise InvalidModelError(
            _model(instance), attribute.name, f"expected a datetime, got {type(value).__name__}"
        )
    if not is_aware(value):
        raise NaiveDatetimeError(
            _model(instance),
            attribute.name,
            f"naive datetime {value.isoformat()}; give it a time zone (T1)",
        )


def optional_aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require ``None`` or an aware datetime."""
    if value is not None:
        aware(instance, attribute, value)


def identifier(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require a non-empty id of printable characters, without surrounding whitespace."""
    if not isinstance(value, str):
        raise InvalidModelError(
            _model(instance), attribute.name, f"expected a string id, got {type(value).__name__}"
        )
    if not value:
        raise InvalidModelError(_model(instance), attribute.name, "id must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidModelError(
            _model(instance), attribute.name, f"id longer than {MAX_ID_LENGTH} characters"
        )
    if value != value.strip() or not value.isprintable():
        raise InvalidModelError(
            _model(instance),
            attribute.name,
            f"id {value!r} has surrounding whitespace or unprintable characters",
        )


def optional_identifier(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require ``None`` or a valid id."""
    if value is not None:
        identifier(instance, attribute, value)


def text(
    max_length: int = MAX_TEXT_LENGTH,
) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """Require a string of at most ``max_length`` characters, with no lone surrogates."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str):
            raise InvalidModelError(
                _model(instance), attribute.name, f"expected a string, got {type(value).__name__}"
            )
        if len(value) > max_length:
            raise InvalidModelError(
                _model(instance),
                attribute.name,
                f"{len(value)} characters, more than the limit of {max_length}",
            )
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidModelError(
                _model(instance), attribute.name, "text is not valid Unicode (lone surrogate)"
            ) from exc

    return check


def optional_text(
    max_length: int = MAX_TEXT_LENGTH,
) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """Like :func:`text`, but ``None`` is allowed too."""
    check = text(max_length)

    def optional(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            check(instance, attribute, value)

    return optional


def non_negative_int(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require an ``int`` (not a ``bool``) that is zero or more."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidModelError(
            _model(instance), attribute.name, f"expected an integer, got {type(value).__name__}"
        )
    if value < 0:
        raise InvalidModelError(_model(instance), attribute.name, f"{value} is negative")
    if value > MAX_INT:
        raise InvalidModelError(_model(instance), attribute.name, f"{value} is above 2**63 - 1")


def positive_int(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require an ``int`` of one or more."""
    non_negative_int(instance, attribute, value)
    if value == 0:
        raise InvalidModelError(_model(instance), attribute.name, "must be at least 1")


def non_negative_duration(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require a ``timedelta`` that is zero or more."""
    if not isinstance(value, timedelta):
        raise InvalidModelError(
            _model(instance), attribute.name, f"expected a timedelta, got {type(value).__name__}"
        )
    if value < timedelta(0):
        raise InvalidModelError(_model(instance), attribute.name, f"{value} is negative")


def lenient(enum_type: type[E], value: object) -> E:
    """Convert ``value`` to a member of ``enum_type`` if it names one; else return it unchanged.

    Used as the body of attrs converters: the matching :func:`member` validator then reports an
    unknown value with the model and field names, which a converter cannot know.
    """
    if isinstance(value, enum_type):
        return value
    try:
        return enum_type(value)
    except (ValueError, TypeError):
        return value  # type: ignore[return-value]


def member(enum_type: type[E]) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """Validator: the value is a member of ``enum_type``, else :class:`UnknownValueError`."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, enum_type):
            allowed = tuple(str(m.value) for m in enum_type)
            raise UnknownValueError(_model(instance), attribute.name, value, allowed)

    return check


def members(enum_type: type[E]) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """Validator: a ``frozenset`` of members of ``enum_type``."""
    one = member(enum_type)

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, frozenset):
            raise InvalidModelError(
                _model(instance), attribute.name, f"expected a set of {enum_type.__name__}"
            )
        for item in value:
            one(instance, attribute, item)

    return check


def instance_of(kind: type[Any] | tuple[type[Any], ...]) -> Callable[..., None]:
    """Like :func:`attrs.validators.instance_of`, but raising :class:`InvalidModelError`."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            names = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            raise InvalidModelError(
                _model(instance),
                attribute.name,
                f"expected {names}, got {type(value).__name__}",
            )

    return check


def tuple_of(kind: type[Any] | tuple[type[Any], ...]) -> Callable[..., None]:
    """Require a tuple whose every element is an instance of ``kind``."""
    element = instance_of(kind)

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, tuple):
            raise InvalidModelError(
                _model(instance), attribute.name, f"expected a tuple, got {type(value).__name__}"
            )
        for item in value:
            element(instance, attribute, item)

    return check


def coerce(enum_type: type[E], value: object, model: str, field: str) -> E:
    """Return ``value`` as a member of ``enum_type``, or raise :class:`UnknownValueError`."""
    if isinstance(value, enum_type):
        return value
    try:
        return enum_type(value)
    except (ValueError, TypeError):
        allowed = tuple(str(member.value) for member in enum_type)
        raise UnknownValueError(model, field, value, allowed) from None


def to_tuple(value: Any) -> Any:
    """Converter: an iterable to a tuple. A bare string is one value typed where a list was
    meant: it is left for the validator to name."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return value
    return tuple(value)


def id_tuple(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Validator: a tuple of ids (see :func:`identifier`)."""
    if not isinstance(value, tuple):
        raise InvalidModelError(
            _model(instance),
            attribute.name,
            f"expected a sequence of ids, got {type(value).__name__}",
        )
    for item in value:
        identifier(instance, attribute, item)
