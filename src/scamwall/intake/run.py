"""Bulk intake: a file of reports in, sightings stored, bad rows set aside with their reasons.

A run is safe to repeat and to kill. Every sighting has a deterministic id (who saw what, when,
how, on which evidence), so a row stored before is counted as a duplicate, never stored twice;
records without ``observed_at`` take the time the file was *first* ingested, kept in the
``imports`` table, so they too get the same id on every run. Rows are written in batches, one
transaction each: a killed run loses at most the batch in flight, and the next run of the same
file stores exactly what is missing.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import make_url

from scamwall.errors import InvalidIndicator, InvalidRecord, NotFound, UsageError
from scamwall.exchange.policy import Caller
from scamwall.indicators.phone import check_region
from scamwall.intake.readers import FORMATS, ByteCounter, RawRecord, guess_format, read_records
from scamwall.intake.records import (
    KNOWN_FIELDS,
    RecordDefaults,
    sighting_from_record,
    with_markings,
)
from scamwall.store import Agency, ImportRecord, Sighting, Store, WriteResult
from scamwall.store.access import Access
from scamwall.store.audit import AuditLog
from scamwall.store.repository import BULK_LOAD, PreparedBatch, prepare_batch
from scamwall.vocabulary import SourceKind, Tlp

__all__ = ["IntakeOptions", "IntakeReport", "ingest_file", "reject_path_for"]

log = logging.getLogger(__name__)

#: Files smaller than this are parsed in-process: starting a worker would cost more.
PARALLEL_MIN_BYTES = 4 << 20
#: Parsing processes; this one reads the file and writes to the database meanwhile.
PARSE_WORKERS = 2

#: Called after each batch with (bytes read so far, total bytes).
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class IntakeOptions:
    """How to read a file and what its records default to."""

    file_format: str | None = None
    tlp: Tlp = Tlp.AMBER
    source_kind: SourceKind = SourceKind.AGENCY_UPLOAD
    confidence: int = 50
    #: the region of every record that names none (``--region``), before the agency's country
    region: str | None = None
    #: the region of records when neither they, ``region`` nor the agency's country gives one
    fallback_region: str | None = None
    batch_size: int = 20_000
    reject_dir: Path = Path()
    #: Parse in a second process when the file has at least this many bytes (None: never).
    parse_in_worker_from: int | None = PARALLEL_MIN_BYTES


@dataclass(slots=True)
class IntakeReport:
    """What a run did. ``accepted`` counts sightings stored by this run."""

    path: Path
    reject_path: Path
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    ignored_fields: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        """The report as ``scamwall ingest --json`` prints it."""
        return {
            "file": str(self.path),
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "reject_file": str(self.reject_path) if self.rejected else None,
            "ignored_fields": sorted(self.ignored_fields),
        }


def reject_path_for(path: Path, reject_dir: Path, import_id: int) -> Path:
    """Where the rejects of ``path``, read as import ``import_id``, go:
    ``<reject_dir>/<file name>.<import id>.rejects.jsonl``.

    An import is one file's content reported by one agency: files of other content or of other
    agencies never share a reject file, even in one folder under one name, while a re-run of the
    same file by the same agency replaces its own.

    One JSON object a line: ``line`` (of a CSV or NDJSON file; for a JSON array, ``position``,
    the record's place in the array from 1), ``field`` (null when no one field is to blame),
    ``error`` and ``record`` (the fields as read, null when the record could not be read).
    """
    return reject_dir / f"{path.name}.{import_id}.rejects.jsonl"


def _make_reject_dir(reject_dir: Path) -> None:
    """Create the reject folder now, so that one that cannot be written stops the run before
    the file is read, rather than at its first reject."""
    try:
        reject_dir.mkdir(parents=True, exist_ok=True)
        writable = os.access(reject_dir, os.W_OK | os.X_OK)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    else:
        if writable:
            return
        reason = "not writable"
    raise UsageError(
        f"--rejects: cannot write reject files in {reject_dir} ({reason}); name a folder that "
        "can be created and written, with --rejects or SCAMWALL_REJECT_DIR",
        field="rejects",
    )


def _shown_name(path: Path) -> str:
    """The file's name as text the database and the audit trail can hold: bytes of a name that
    are not UTF-8 (``rapport_f\xe9vrier.csv``) are shown as U+FFFD."""
    return path.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _location_name(file_format: str) -> str:
    """What a record's location is called in a reject: a JSON array's lines say nothing of it."""
    return "position" if file_format == "json" else "line"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Batcher:
    """Collects sightings and rejects; writes each batch in its own transaction.

    Writing runs on one background thread while the next batch is parsed: the database (its
    server process, or SQLite with the GIL released) works while Python reads the file. At most
    one batch is in flight, so a crash still loses at most one batch of work.
    """

    def __init__(
        self,
        store: Store,
        imported: ImportRecord,
        report: IntakeReport,
        actor: Caller | None,
    ):
        self.store = store
        self.import_id = imported.id
        # A finished import's rejects are on its counter already: the same file, read again,
        # refuses the same records.
        self.counts_rejects = imported.finished_at is None
        self.actor = actor
        self.report = report
        self._rejects: IO[str] | None = None  # opened at the first reject: see reject()
        self.prepared: list[PreparedBatch] = []
        self.sightings: list[Sighting] = []  # those with markings: written with their names
        self.rejected_here = 0
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scamwall-intake")
        self._in_flight: Future[tuple[int, int, int]] | None = None

    def reject(self, entry: dict[str, Any]) -> None:
        """Write one reject line: where, which field, why, and the record as read."""
        if self._rejects is None:
            # Opening truncates the reject file of the run before: only a run that has
            # rejects of its own replaces them.
            try:
                self.report.reject_path.parent.mkdir(parents=True, exist_ok=True)
                # a record's text may hold lone surrogates (JSON can escape them; UTF-8 cannot
                # encode them): written as the JSON escapes they were, never a failed run. The
                # records are agencies' reports, RED ones too: for the owner only, as the
                # database is
                descriptor = os.open(
                    self.report.reject_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600
                )
                os.fchmod(descriptor, 0o600)  # a file of an earlier run keeps no wider mode
                self._rejects = open(  # noqa: SIM115 - closed with the batcher
                    descriptor, "w", encoding="utf-8", errors="backslashreplace"
                )
            except OSError as exc:  # the folder went, or refuses even a writer checked before
                raise UsageError(
                    f"--rejects: cannot write {self.report.reject_path} "
                    f"({exc.strerror or type(exc).__name__}); run again with a folder that "
                    "can be written: the rows stored so far are kept",
                    field="rejects",
                ) from None
        self._rejects.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
        self.rejected_here += 1

    def _write(
        self, prepared: list[PreparedBatch], batch: list[Sighting], rejected: int, *, finished: bool
    ) -> tuple[int, int, int]:
        with self.store.transaction() as connection:
            results = [self.store.write_prepared(p, connection) for p in prepared]
            results.append(
                self.store.record_sightings(batch, import_id=self.import_id, connection=connection)
            )
            result = WriteResult(
                sum(r.inserted for r in results), sum(r.duplicates for r in results)
            )
            self.store.count_import_progress(
                connection,
                self.import_id,
                accepted=result.inserted,
                duplicates=result.duplicates,
                rejected=rejected if self.counts_rejects else 0,
                finished=finished,
            )
            if result.inserted:  # every write is on record, in the same transaction as the data
                AuditLog(self.store).record(
                    self.actor,
                    "ingest",
                    target=f"import:{self.import_id}",
                    detail={
                        "file": _shown_name(self.report.path),
                        "accepted": result.inserted,
                        "duplicates": result.duplicates,
                        "rejected": rejected,
                    },
                    origin="intake",
                    connection=connection,
                )
        return result.inserted, result.duplicates, rejected

    def flush(self, *, finished: bool = False) -> None:
        """Hand the current batch to the writer, once the batch before it is committed."""
        prepared, batch, rejected = self.prepared, self.sightings, self.rejected_here
        self.prepared, self.sightings, self.rejected_here = [], [], 0
        self.wait()
        self._in_flight = self._writer.submit(
            functools.partial(self._write, finished=finished), prepared, batch, rejected
        )
        if finished:
            self.wait()

    def wait(self) -> None:
        """Let the batch in flight commit and count it."""
        if self._in_flight is None:
            return
        inserted, duplicates, rejected = self._in_flight.result()
        self._in_flight = None
        if self._rejects is not None:
            self._rejects.flush()
        self.report.accepted += inserted
        self.report.duplicates += duplicates
        self.report.rejected += rejected

    def close(self) -> None:
        """Stop the writer thread (after the last batch, or after an error); close the rejects."""
        self._writer.shutdown(wait=True, cancel_futures=True)
        if self._rejects is not None:
            self._rejects.close()


@dataclass(slots=True)
class _ParsedChunk:
    """One batch of records, parsed: what goes in, what needs markings, what is rejected."""

    #: driver-ready rows of the sightings that need nothing more from the store
    prepared: PreparedBatch | None
    #: (sighting, line, record) of records naming groups or users: the writer resolves the names
    marked: list[tuple[Sighting, int, dict[str, Any]]]
    rejects: list[dict[str, Any]]
    ignored_fields: set[str]
    #: the line of each plain fact's first report
    plain_lines: dict[str, int] = field(default_factory=dict)


def _parse_chunk(  # noqa: PLR0917 - called through a process pool, positionally
    records: list[RawRecord],
    agency: Agency,
    defaults: RecordDefaults,
    now: datetime,
    drivername: str,
    import_id: int,
    location_name: str,
) -> _ParsedChunk:
    """Parse one batch into driver-ready rows; pure, so it runs in a worker process too."""
    chunk = _ParsedChunk(None, [], [], set())
    plain: list[Sighting] = []
    for record in records:
        if record.fields is None:
            error = record.error or "unreadable"
            chunk.rejects.append(_reject_entry(location_name, record.location, None, error, None))
            continue
        chunk.ignored_fields.update(k for k in record.fields if k not in KNOWN_FIELDS)
        try:
            sighting = sighting_from_record(
                record.fields, agency=agency, defaults=defaults, now=now
            )
        except InvalidRecord as exc:
            chunk.rejects.append(
                _reject_entry(location_name, record.location, exc.field, exc.reason, record.fields)
            )
            continue
        marked = record.fields.get("groups") or record.fields.get("recipients")
        if marked or sighting.tlp is Tlp.RED:  # RED: for the users it names, or refused
            chunk.marked.append((sighting, record.location, record.fields))
        else:
            plain.append(sighting)
            chunk.plain_lines.setdefault(sighting.id, record.location)
    dialect = make_url(f"{drivername}://").get_dialect()()
    chunk.prepared = prepare_batch(plain, dialect, import_id=import_id)
    return chunk


def _reject_entry(
    location_name: str,
    location: int,
    field_name: str | None,
    reason: str,
    fields: dict[str, Any] | None,
) -> dict[str, Any]:
    """One line of the reject file: see :func:`reject_path_for`."""
    return {location_name: location, "field": field_name, "error": reason, "record": fields}


def _batches(records: Iterator[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    batch: list[RawRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def ingest_file(
    store: Store,
    path: Path,
    agency: Agency,
    options: IntakeOptions,
    *,
    progress: ProgressCallback | None = None,
    actor: Caller | None = None,
) -> IntakeReport:
    """Read ``path`` and store its sightings as reported by ``agency``; see the module docstring."""
    if not path.is_file():
        raise NotFound(f"no such file: {path}")
    file_format = options.file_format or guess_format(path)
    if file_format not in FORMATS:
        raise UsageError(f"unknown format {file_format!r}; use --format {', '.join(FORMATS)}")
    if path.name.lower().endswith(".gz"):
        raise UsageError(f"{path.name} is compressed; decompress it first")
    try:
        check_region(options.region)
    except InvalidIndicator as exc:
        raise UsageError(f"--region: {exc.reason}") from None
    _make_reject_dir(options.reject_dir)
    imported = store.start_import(
        agency, file_name=_shown_name(path), file_sha256=_sha256(path), file_format=file_format
    )
    defaults = RecordDefaults(
        observed_at=imported.started_at,
        tlp=options.tlp,
        source_kind=options.source_kind,
        confidence=options.confidence,
        region=options.region,
        fallback_region=options.fallback_region,
    )
    report = IntakeReport(path, reject_path_for(path, options.reject_dir, imported.id))
    location_name = _location_name(file_format)
    total = path.stat().st_size
    access = Access(store)
    now = datetime.now(UTC)
    drivername = store.engine.url.drivername
    with ExitStack() as stack:
        raw = stack.enter_context(path.open("rb"))
        counted = ByteCounter(raw)
        parser: ProcessPoolExecutor | None = None
        if (
            options.parse_in_worker_from is not None
            and total >= options.parse_in_worker_from
            and "fork" in get_all_start_methods()
        ):
            # Parsing is most of intake's CPU: a second process parses while this one writes.
            # Forked (before the writer thread starts), not spawned: a spawned worker would
            # re-import the caller's main module, which embedding scripts do not guard.
            parser = stack.enter_context(
                ProcessPoolExecutor(max_workers=PARSE_WORKERS, mp_context=get_context("fork"))
            )
        batcher = _Batcher(store, imported, report, actor)
        stack.callback(batcher.close)
        in_flight: deque[Future[_ParsedChunk]] = deque()

        def store_chunk(chunk: _ParsedChunk) -> None:
            report.ignored_fields |= chunk.ignored_fields
            for entry in chunk.rejects:
                batcher.reject(entry)
            # a fact's first report is the fact: a plain report after a marked one is left out
            # (plain rows are written before marked ones); a marked one after a plain one finds
            # the fact stored and adds no markings
            shadowed: set[str] = set()
            for sighting, line, fields in chunk.marked:  # group and user names live in the store
                try:
                    batcher.sightings.append(
                        with_markings(
                            sighting,
                            fields,
                            access,
                            submitted_by=actor.user_id if actor is not None else None,
                        )
                    )
                except InvalidRecord as exc:
                    batcher.reject(
                        _reject_entry(location_name, line, exc.field, exc.reason, fields)
                    )
                    continue
                if chunk.plain_lines.get(sighting.id, 0) > line:
                    shadowed.add(sighting.id)
            if chunk.prepared is not None:
                batcher.prepared.append(chunk.prepared.without(shadowed, store.engine.dialect))
            batcher.flush()
            if progress is not None:
                progress(counted.count, total)

        records = read_records(io.BufferedReader(counted, 1 << 20), file_format)
        for batch in _batches(records, options.batch_size):
            if parser is None:
                store_chunk(
                    _parse_chunk(
                        batch, agency, defaults, now, drivername, imported.id, location_name
                    )
                )
                continue
            in_flight.append(
                parser.submit(
                    _parse_chunk,
                    batch,
                    agency,
                    defaults,
                    now,
                    drivername,
                    imported.id,
                    location_name,
                )
            )
            if len(in_flight) >= PARSE_WORKERS:  # each worker busy while one batch is written
                store_chunk(in_flight.popleft().result())
        while in_flight:
            store_chunk(in_flight.popleft().result())
        batcher.flush(finished=True)
        if progress is not None:
            progress(total, total)
    if report.accepted >= BULK_LOAD:
        store.refresh_statistics()
    if not report.rejected:
        report.reject_path.unlink(missing_ok=True)
    log.info(
        "ingested %s: %d accepted, %d duplicates, %d rejected",
        path,
        report.accepted,
        report.duplicates,
        report.rejected,
    )
    return report
