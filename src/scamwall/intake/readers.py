"""Streaming readers for CSV, JSON and NDJSON files, in constant memory.

Each yields :class:`RawRecord` items that carry where they came from (the line of a CSV row or an
NDJSON object, the position of an object in a JSON array) and either the record's fields or the
reason it could not be read. A reader never stops at a bad record, except where the file's own
structure is broken beyond it (a JSON array cut in the middle): then it says so and stops.
"""

from __future__ import annotations

import csv
import io
import json
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


def _csv_records(stream: IO[bytes]) -> Iterator[RawRecord]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        return
    columns = [name.strip().lower() for name in header]
    if "value" not in columns:
        yield RawRecord(1, error="the header row has no 'value' column; name the columns in row 1")
        return
    line = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # the reader starts afresh at the next line
            yield RawRecord(line + 1, error=f"cannot be read as CSV: {exc}")
            line = reader.line_num
            continue
        start, line = line + 1, reader.line_num
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
        yield RawRecord(start, dict(zip(columns, row, strict=False)))


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
    opening = stream.peek(64).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
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


def read_records(stream: io.BufferedReader, file_format: str) -> Iterator[RawRecord]:
    """Records of a binary stream in ``csv``, ``json`` (an array of objects) or ``ndjson``."""
    if file_format == "csv":
        return _csv_records(stream)
    if file_format == "ndjson":
        return _ndjson_records(stream)
    if file_format == "json":
        return _json_records(stream)
    raise UsageError(f"unknown format {file_format!r}; use csv, json or ndjson")
