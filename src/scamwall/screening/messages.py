"""Read messages to screen: one a line, plain text or JSON ``{"id", "text", "sender"?}``.

Lines are read as bytes and decoded one by one, so a line in a wrong encoding becomes that
message's ``encoding`` error and the rest of the file is screened. A plain-text line's id is its
line number; a JSON line without an id gets its line number too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from scamwall.screening.text import Message

__all__ = ["message_from_json", "message_from_line", "read_messages"]


def message_from_json(record: object, fallback_id: str) -> Message:
    """A message from one decoded JSON value; a wrong shape becomes the message's problem."""
    if not isinstance(record, dict):
        return Message(fallback_id, "", problem="expected a JSON object with id and text")
    ident = record.get("id", fallback_id)
    if not isinstance(ident, str | int) or isinstance(ident, bool):
        return Message(fallback_id, "", problem="field id: must be a string or a number")
    text = record.get("text")
    if not isinstance(text, str):
        return Message(str(ident), "", problem="field text: missing or not a string")
    sender = record.get("sender")
    if sender is not None and not isinstance(sender, str):
        return Message(str(ident), "", problem="field sender: must be a string")
    return Message(str(ident), text, sender)


def message_from_line(raw: bytes, number: int) -> Message:
    """The message of one raw line (its line terminator, if any, left out), line ``number``
    of the input counted from 1."""
    line = raw.rstrip(b"\r\n")
    fallback = str(number)
    if line.lstrip().startswith(b"{"):
        try:
            record = json.loads(line)
        except (UnicodeDecodeError, ValueError) as exc:
            return Message(fallback, "", problem=f"line {number}: not valid JSON ({exc})")
        return message_from_json(record, fallback)
    return Message(fallback, line)


def read_messages(lines: Iterable[bytes]) -> Iterator[Message]:
    """Messages from raw lines (see the module docstring)."""
    for number, raw in enumerate(lines, 1):
        yield message_from_line(raw, number)
