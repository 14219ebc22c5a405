"""Streaming readers for CSV, JSON and NDJSON files, in constant memory.

Each yields :class:`RawRecord` items that carry where they came from (the line of a CSV row or an
NDJSON object, the position of an object in a JSON array) and either the record's fields or the
reason it could not be read. A reader never stops at a bad record, except where the file's own
structure is broken beyond it (a JSON array cut in the middle): then it says so and stops. A CSV
quote left open is refused with its record, and reading goes on at the record's second line.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import ijson

from scamwall.errors import UsageError

__all__ = ["FORMATS", "ByteCounter", "RawRecord", "guess_format", "read_records"]

FORMATS = ("csv", "json", "ndjson")
_EXTENSIONS = {".csv": "csv", ".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson"}
MAX_LINE_BYTES = 1 << 20  # a record of over 1 MiB is not an indicator report
#: Lines a CSV record may span: quoted fields with line breaks (a note) are short
MAX_RECORD_LINES = 100

csv.field_size_limit(MAX_LINE_BYTES)


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as read: ``fields`` or ``error``, and ``location`` (a line or record number)."""

    location: int
    fields: dict[str, Any] | None = None
    error: str | None = None


class ByteCounter(io.RawIOBase):
    """A binary file that counts the bytes read through it, for progress bars.

    Wrap it in :class:`io.BufferedReader`: line iteration over a raw stream reads byte by byte.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        return size

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.count += len(data)
        return data


def guess_format(path: Path) -> str:
    """The format named by the file's extension, or a :class:`UsageError` asking for one."""
    name = path.name.lower().removesuffix(".gz")
    for extension, file_format in _EXTENSIONS.items():
        if name.endswith(extension):
            return file_format
    raise UsageError(f"cannot tell the format of {path.name}; pass --format csv, json or ndjson")


class _QuoteLeftOpen(Exception):
    """Raised through :mod:`csv` by :class:`_CsvLines` to stop a record that never closes."""


class _LineTooLong(Exception):
    """A physical line of over ``MAX_LINE_BYTES`` characters, read past and left out."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _CsvLines:
    """The physical lines of a CSV text, as :func:`csv.reader` asks for them, record by record.

    The reader asks for a record's second line only when a quoted field is still open at the end
    of the first, so a record's lines are known. One stray quote would otherwise make the rest of
    the file one field: a record may span at most ``MAX_RECORD_LINES`` lines and
    ``MAX_LINE_BYTES`` characters, and a record refused for a quote left open is read again
    from its second line, as records of their own. Only one record's lines are held.
    """

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self._last = 0  # number of the last line read from the text
        #: lines to read again, first to last: (number, text, or None for a line too long)
        self._again: deque[tuple[int, str | None]] = deque()
        #: the (number, text) lines of the record being read
        self.record: list[tuple[int, str]] = []
        self._size = 0
        #: the text ended inside the record: a quote it opened never closes
        self.open_at_end = False

    def start_record(self) -> None:
        """Forget the record read; the next line asked for starts another."""
        self.record, self._size, self.open_at_end = [], 0, False

    def read_again_after_first(self) -> None:
        """Give the lines after the record's first again, as lines of the records that follow."""
        self._again.extendleft(reversed(self.record[1:]))

    def _physical_line(self) -> tuple[int, str | None] | None:
        if self._again:
            return self._again.popleft()
        text = self._text.readline(MAX_LINE_BYTES)
        if not text:
            return None
        self._last += 1
        if len(text) == MAX_LINE_BYTES and not text.endswith(("\n", "\r")):
            while (rest := self._text.readline(MAX_LINE_BYTES)) and not rest.endswith(("\n", "\r")):
                pass  # the rest of the line, read in bounded pieces and left
            return self._last, None
        return self._last, text

    def __iter__(self) -> _CsvLines:
        return self

    def __next__(self) -> str:
        if self.record and (len(self.record) >= MAX_RECORD_LINES or self._size >= MAX_LINE_BYTES):
            raise _QuoteLeftOpen
        line = self._physical_line()
        if line is None:
            self.open_at_end = bool(self.record)
            raise StopIteration
        number, text = line
        if text is None:
            if self.record:  # the open quote would run into it: the line is refused on its own
                self._again.appendleft(line)
                raise _QuoteLeftOpen
            raise _LineTooLong(number)
        self.record.append((number, text))
        self._size += len(text)
        return text


def _csv_rows(lines: _CsvLines) -> Iterator[RawRecord | list[str]]:
    """Each record's cells, or a :class:`RawRecord` saying why it could not be read."""
    reader = csv.reader(lines)
    while True:
        lines.start_record()
        try:
            row = next(reader)
        except StopIteration:
            return
        except _LineTooLong as exc:
            yield RawRecord(exc.line, error=f"line longer than {MAX_LINE_BYTES} characters")
            continue
        except _QuoteLeftOpen:
            yield RawRecord(
                lines.record[0][0],
                error=f"a quoted field does not close within {MAX_RECORD_LINES} lines or "
                f'{MAX_LINE_BYTES} characters; write a quote inside a field as two ("")',
            )
            lines.read_again_after_first()
            continue
        except csv.Error as exc:  # the reader starts afresh at the next record
            yield RawRecord(lines.record[0][0], error=f"cannot be read as CSV: {exc}")
            lines.read_again_after_first()
            continue
        if lines.open_at_end:
            yield RawRecord(
                lines.record[0][0],
                error="a quoted field is still open at the end of the file; write a quote "
                'inside a field as two ("")',
            )
            lines.read_again_after_first()
            continue
        yield row


def _header_problem(columns: list[str]) -> str | None:
    """Why a header row (its names as read: trimmed, lower case) cannot name a file's fields."""
    first: dict[str, int] = {}
    for number, name in enumerate(columns, start=1):
        if not name:  # spreadsheets export empty columns: a row is refused if it fills one
            continue
        if name in first:  # a row would keep only the last of the two cells
            return (
                f"the header row names {name!r} twice (columns {first[name]} and {number}); "
                "name each column once"
            )
        first[name] = number
    if "value" not in first:
        return "the header row has no 'value' column; name the columns in row 1"
    return None


def _csv_records(stream: IO[bytes]) -> Iterator[RawRecord]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    lines = _CsvLines(text)
    rows = _csv_rows(lines)
    header = next(rows, None)
    if header is None:
        return
    if isinstance(header, RawRecord):
        yield RawRecord(1, error=f"the header row cannot be read: {header.error}")
        return
    columns = [name.strip().lower() for name in header]
    if problem := _header_problem(columns):
        yield RawRecord(1, error=problem)
        return
    unnamed_columns = "" in columns
    for row in rows:
        if isinstance(row, RawRecord):
            yield row
            continue
        start = lines.record[0][0]
        if not row or all(not cell.strip() for cell in row):
            continue
        if any("\udc80" <= ch <= "\udcff" for cell in row for ch in cell):
            yield RawRecord(start, error="not valid UTF-8; save the file as UTF-8")
            continue
        if len(row) > len(columns):
            yield RawRecord(
                start,
                error=f"{len(row)} fields but the header names {len(columns)}; quote "
                "fields that contain commas",
            )
            continue
        if not unnamed_columns:  # most files: the row as the header names it
            yield RawRecord(start, dict(zip(columns, row, strict=False)))
            continue
        cells = list(zip(columns, row, strict=False))  # a short row leaves the rest empty
        unnamed = next(
            (n for n, (name, cell) in enumerate(cells, 1) if not name and cell.strip()), None
        )
        if unnamed is not None:
            yield RawRecord(
                start,
                error=f"column {unnamed} has a value but no name in the header row; name it",
            )
            continue
        yield RawRecord(start, {name: cell for name, cell in cells if name})


def _ndjson_records(stream: IO[bytes]) -> Iterator[RawRecord]:
    for number, raw_line in enumerate(stream, start=1):
        if len(raw_line) > MAX_LINE_BYTES:
            yield RawRecord(number, error=f"line longer than {MAX_LINE_BYTES} bytes")
            continue
        try:
            line = raw_line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            yield RawRecord(number, error=f"not valid UTF-8 at byte {exc.start}; save as UTF-8")
            continue
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield RawRecord(number, error=f"not JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(value, dict):
            yield RawRecord(number, error=f"expected a JSON object, got {type(value).__name__}")
            continue
        yield RawRecord(number, value)


def _json_records(stream: io.BufferedReader) -> Iterator[RawRecord]:
    if stream.peek(len(codecs.BOM_UTF8)).startswith(codecs.BOM_UTF8):
        stream.read(len(codecs.BOM_UTF8))  # the parser takes a byte-order mark for a bad character
    opening = _first_after_whitespace(stream)
    if opening not in (b"[", b""):
        yield RawRecord(
            1, error="a JSON file holds an array of objects; for one object a line use ndjson"
        )
        return
    number = 0
    try:
        for number, value in enumerate(ijson.items(stream, "item", use_float=True), start=1):
            if isinstance(value, dict):
                yield RawRecord(number, value)
            else:
                yield RawRecord(number, error=f"expected a JSON object, got {type(value).__name__}")
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        yield RawRecord(
            number + 1,
            error=f"the JSON array breaks after record {number} ({exc}); records before it were "
            "read, fix the file and run again to add the rest",
        )


def _first_after_whitespace(stream: io.BufferedReader) -> bytes:
    """The first byte after any whitespace, which is read past (however much there is: a
    look at a fixed number of bytes took a file indented further for an empty one)."""
    while True:
        ahead = stream.peek(1)
        if not ahead:
            return b""
        kept = ahead.lstrip(b" \t\r\n")
        stream.read(len(ahead) - len(kept))
        if kept:
            return kept[:1]


def read_records(stream: io.BufferedReader, file_format: str) -> Iterator[RawRecord]:
    """Records of a binary stream in ``csv``, ``json`` (an array of objects) or ``ndjson``."""
    if file_format == "csv":
        return _csv_records(stream)
    if file_format == "ndjson":
        return _ndjson_records(stream)
    if file_format == "json":
        return _json_records(stream)
    raise UsageError(f"unknown format {file_format!r}; use csv, json or ndjson")
