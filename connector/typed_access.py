"""Typed access to untrusted JSON: a wrong type raises `MalformedEvent` naming the path, it is
never passed along as `None`. Shared by both vendors' webhook contracts."""

from __future__ import annotations

import json
from typing import Any, Literal, overload

MAX_ID = 2**63 - 1  # ids land in BigInteger columns
MAX_TEXT = 255


class MalformedEvent(ValueError):
    """The body cannot be a delivery we handle; the message says which part is wrong."""


def as_object(value: Any, where: str, *, required: bool = False) -> dict[str, Any]:
    """A JSON object; an absent one (None) is empty unless `required`."""
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise MalformedEvent(f"{where} must be a JSON object, not {type(value).__name__}")
    return value


@overload
def as_text(obj: dict[str, Any], key: str, where: str, *, required: Literal[True]) -> str: ...
@overload
def as_text(obj: dict[str, Any], key: str, where: str, *, required: bool = False) -> str | None: ...
def as_text(obj: dict[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    """A string of at most MAX_TEXT characters; absent or empty is None unless `required`."""
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise MalformedEvent(f"{where} is missing")
        return None
    if not isinstance(value, str):
        raise MalformedEvent(f"{where} must be a string, not {type(value).__name__}")
    if len(value) > MAX_TEXT:
        raise MalformedEvent(f"{where} is longer than {MAX_TEXT} characters")
    return value


def as_id(value: Any, where: str) -> int | None:
    """A positive id, given as a number or (Zendesk envelopes, rendered placeholders) a string
    of ASCII digits; absent or empty is None."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise MalformedEvent(f"{where} must be a positive integer id")
    return value


def lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None


def parse_json(raw: bytes) -> Any:
    """The parsed body; anything that is not JSON (bad UTF-8 and absurd nesting included) is
    malformed, never an unexpected error."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise MalformedEvent("body is not valid JSON") from None
