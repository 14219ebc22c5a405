"""Checked reading of one field of MISP JSON, for import.

A peer's JSON can hold anything in any field. Each reader here returns the field as scamwall uses
it or raises :class:`RejectedField` naming the field and what is wrong with it; the importer turns
that into a :class:`~scamwall.exchange.misp.importing.MispReject` for the attribute (or the event)
and goes on with the next one. A field that is absent reads as ``None`` (or empty), never as a
reject: what it means then is the caller's choice.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "RejectedField",
    "read_distribution",
    "read_flag",
    "read_list",
    "read_moment",
    "read_text",
    "read_uuid",
]


class RejectedField(Exception):
    """A field of the input that cannot be read; caught by the importer, never raised to callers."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def read_list(body: dict[str, Any], name: str, label: str | None = None) -> list[Any]:
    """``body[name]`` as a list (empty when absent); ``label`` names it in the reject."""
    value = body.get(name) or []
    if not isinstance(value, list):
        raise RejectedField(label or name, f"expected a list, got {type(value).__name__}")
    return value


def read_uuid(value: Any, name: str) -> str:
    """A uuid in its canonical form."""
    if not isinstance(value, str):
        raise RejectedField(name, f"expected a uuid, got {type(value).__name__}")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise RejectedField(name, f"{value!r} is not a uuid") from None


def read_text(value: Any, name: str) -> str | None:
    """Text, or ``None``; a number is read as its text (MISP writes some values either way)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise RejectedField(name, f"expected text, got {type(value).__name__}")


def read_flag(value: Any, name: str) -> bool:
    """A boolean as MISP writes it: a JSON boolean, ``0``/``1``, or their text."""
    if value in (None, False, 0, "0", "false", "False", ""):
        return False
    if value in (True, 1, "1", "true", "True"):
        return True
    raise RejectedField(name, f"{value!r} is not true or false")


def read_moment(value: Any) -> datetime:
    """A time in UTC from Unix seconds (a number or its digits) or ISO 8601 (UTC when naive).

    Raises what :mod:`datetime` raises (``TypeError``, ``ValueError``, ``OverflowError``,
    ``OSError``): the caller knows which field it read and rejects that.
    """
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, int | float) or (
        isinstance(value, str) and value.isascii() and value.isdigit()
    ):
        return datetime.fromtimestamp(int(value), UTC)
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def read_distribution(raw: dict[str, Any], parent: dict[str, Any] | None = None) -> int | None:
    """The MISP distribution level 0-4 of ``raw``, else of ``parent``; ``None`` when neither sets
    one or both say 5, "inherit" (then the event's applies)."""
    for source in (raw, parent or {}):
        value = source.get("distribution")
        if value in (None, ""):
            continue
        level = _distribution_level(value)
        if level not in (0, 1, 2, 3, 4, 5):
            raise RejectedField("distribution", f"{value!r} is not a MISP distribution 0-5")
        if level != 5:  # 5: inherit from the object, then the event
            return level
    return None


def _distribution_level(value: Any) -> int | None:
    """A whole number or its digits; ``int()`` alone would read ``true`` as 1 and ``2.7`` as 2."""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        return None  # is_integer is also False for JSON's Infinity and NaN
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None
