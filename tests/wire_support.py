"""Helpers shared by the settings-document tests (P6): one document fed as JSON bytes, JSON
text and a decoded mapping, and the checks that a refusal says what is wrong and where."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pytest
from pydantic import ValidationError

T = TypeVar("T")

Loc = tuple[str | int, ...]
Hostile = tuple[str, dict[str, Any], Loc, str]
"""A hostile case: the rule it breaks, the document, where the error is, what it says
(alternatives separated by ``|``)."""


def as_json(data: object) -> bytes:
    """``data`` as UTF-8 JSON, non-ASCII kept as it is."""
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def parsers(settings_of: Callable[[Any], T]) -> dict[str, Callable[[dict[str, Any]], T]]:
    """The three forms a host may hand a document in, each parsed by ``settings_of``."""
    return {
        "bytes": lambda data: settings_of(as_json(data)),
        "str": lambda data: settings_of(json.dumps(data)),
        "mapping": lambda data: settings_of(copy.deepcopy(data)),
    }


def hostile_ids(cases: Sequence[Hostile]) -> list[str]:
    """Test ids naming each hostile case by rule, position and location."""
    return [
        f"{rule}-{i}-{'.'.join(map(str, loc)) or 'document'}"
        for i, (rule, _, loc, _) in enumerate(cases)
    ]


def assert_refused_at(
    parse: Callable[[dict[str, Any]], object],
    rule: str,
    data: dict[str, Any],
    loc: Loc,
    fragment: str,
) -> None:
    """``parse(data)`` fails with an error at ``loc`` whose message holds one of the
    ``|``-separated parts of ``fragment``."""
    with pytest.raises(ValidationError) as caught:
        parse(data)
    errors = caught.value.errors()
    located = [e for e in errors if e["loc"] == loc]
    assert located, f"{rule}: no error at {loc}; got {[(e['loc'], e['msg']) for e in errors]}"
    assert any(part in e["msg"] for e in located for part in fragment.split("|")), [
        e["msg"] for e in located
    ]


def assert_refused_by_length(settings_of: Callable[[Any], object], data: object, loc: Loc) -> None:
    """The JSON of ``data`` is refused with a ``too_long`` error at ``loc``."""
    with pytest.raises(ValidationError) as caught:
        settings_of(as_json(data))
    assert any(e["loc"] == loc and e["type"] == "too_long" for e in caught.value.errors())
