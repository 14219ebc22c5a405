"""Read messages to screen: one a line, plain text or JSON ``{"id", "text", "sender"?}``.

Lines are read as bytes and decoded one by one, so a line in a wrong encoding becomes that
message's ``encoding`` error and the rest of the file is screened. A plain-text line's id is its
line number; a JSON line without an id gets its line number too. A line that starts with ``{``
but is not JSON is screened as plain text, and its verdict says so: whoever writes the message
chooses its first character, and a message must not escape screening by opening with a brace.
A byte-order mark at the start of the input is left out.

That guess is the ``auto`` form. A gateway that knows what it sends says so: ``text`` reads
every line as a message (an SMS whose body is itself a JSON object is screened as written, not
read as a record), ``jsonl`` every line as a record (a line that is not one is an ``input``
error).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from enum import StrEnum

from scamwall.errors import InvalidInput
from scamwall.screening.text import Message

__all__ = ["InputForm", "message_from_json", "message_from_line", "read_messages"]


class InputForm(StrEnum):
    """How input lines are read (module docstring)."""

    AUTO = "auto"
    TEXT = "text"
    JSONL = "jsonl"


def message_from_json(record: object, fallback_id: str, where: str | None = None) -> Message:
    """A message from one decoded JSON value; a wrong shape becomes the message's problem,
    which starts with ``where`` the record was (``line 3``, ``message 3``) when given."""
    at = f"{where}: " if where else ""
    if not isinstance(record, dict):
        return Message(fallback_id, "", problem=f"{at}expected a JSON object with id and text")
    ident = record.get("id", fallback_id)
    if not isinstance(ident, str | int) or isinstance(ident, bool):
        return Message(fallback_id, "", problem=f"{at}field id: must be a string or an integer")
    text = record.get("text")
    if not isinstance(text, str):
        return Message(str(ident), "", problem=f"{at}field text: missing or not a string")
    sender = record.get("sender")
    if sender is not None and not isinstance(sender, str):
        return Message(str(ident), "", problem=f"{at}field sender: must be a string")
    return Message(str(ident), text, sender)


_BOM = b"\xef\xbb\xbf"


def message_from_line(raw: bytes, number: int, form: InputForm = InputForm.AUTO) -> Message:
    """The message of one raw line (its line terminator, if any, left out), line ``number``
    of the input counted from 1, read as ``form`` says."""
    line = raw.rstrip(b"\r\n")
    if number == 1:
        line = line.removeprefix(_BOM)
    fallback = str(number)
    if form is InputForm.TEXT:
        return Message(fallback, line)
    if form is InputForm.JSONL:
        return _record(line, number)
    if not line.lstrip().startswith(b"{"):
        return Message(fallback, line)
    try:
        decoded = line.decode("utf-8")
    except UnicodeDecodeError:
        # the screener refuses the bytes as not UTF-8; the record's id, where it can be read
        return Message(_readable_id(line) or fallback, line)
    try:
        record = json.loads(decoded)
    except ValueError as exc:
        note = f"line {number} is not valid JSON ({exc}): screened as plain text"
        return Message(fallback, decoded, note=note)
    return message_from_json(record, fallback, f"line {number}")


def _record(line: bytes, number: int) -> Message:
    """A line that must be a JSON record."""
    try:
        record = json.loads(line)
    except UnicodeDecodeError:
        return Message(_readable_id(line) or str(number), line)
    except ValueError as exc:
        return Message(str(number), "", problem=f"line {number}: not valid JSON ({exc})")
    return message_from_json(record, str(number), f"line {number}")


def _readable_id(line: bytes) -> str | None:
    """The id of a JSON record whose bytes are not all UTF-8, if the rest reads."""
    try:
        record = json.loads(line.decode("utf-8", "replace"))
    except ValueError:
        return None
    ident = record.get("id") if isinstance(record, dict) else None
    if isinstance(ident, str | int) and not isinstance(ident, bool):
        return str(ident)
    return None


#: Byte-order marks of the encodings a line-by-line reading of UTF-8 would misread: their line
#: ends are two or four bytes, so every line would come out cut and full of NULs.
_WIDE_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


def read_messages(lines: Iterable[bytes], form: InputForm = InputForm.AUTO) -> Iterator[Message]:
    """Messages from raw lines (see the module docstring). Input in UTF-16 or UTF-32 (known by
    its byte-order mark) is refused whole, before any message: it is not one message a line."""
    for number, raw in enumerate(lines, 1):
        if number == 1:
            wide = next((name for bom, name in _WIDE_BOMS.items() if raw.startswith(bom)), None)
            if wide is not None:
                raise InvalidInput(
                    f"the input is {wide} (it starts with its byte-order mark); messages are "
                    f"read as UTF-8, one a line: convert it, e.g. iconv -f {wide} -t UTF-8",
                    line=1,
                )
        yield message_from_line(raw, number, form)
