"""Bulk intake: a file of reports in, sightings stored, bad rows set aside with their reasons.

A run is safe to repeat and to kill. Every sighting has a deterministic id (who saw what, when,
how, on which evidence), so a row stored before is counted as a duplicate, never stored twice;
records without ``observed_at`` take the time the file was *first* ingested, kept in the
``imports`` table, so they too get the same id on every run. Rows are written in batches, one
transaction each: a killed run loses at most the batch in flight, and the next run of the same
file stores exactly what is missing.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from scamwall.errors import InvalidRecord, NotFound, UsageError
from scamwall.exchange.policy import Caller
from scamwall.intake.readers import ByteCounter, RawRecord, guess_format, read_records
from scamwall.intake.records import (
    KNOWN_FIELDS,
    RecordDefaults,
    sighting_from_record,
    with_markings,
)
from scamwall.store import Agency, Sighting, Store
from scamwall.store.access import Access
from scamwall.store.audit import AuditLog
from scamwall.vocabulary import SourceKind, Tlp

__all__ = ["IntakeOptions", "IntakeReport", "ingest_file", "reject_path_for"]

log = logging.getLogger(__name__)

#: Called after each batch with (bytes read so far, total bytes).
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class IntakeOptions:
    """How to read a file and what its records default to."""

    file_format: str | None = None
    tlp: Tlp = Tlp.AMBER
    source_kind: SourceKind = SourceKind.AGENCY_UPLOAD
    confidence: int = 50
    region: str | None = None
    batch_size: int = 5000
    reject_dir: Path = Path()


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


def reject_path_for(path: Path, reject_dir: Path) -> Path:
    """Where the rejects of ``path`` go: ``<reject_dir>/<file name>.rejects.jsonl``."""
    return reject_dir / f"{path.name}.rejects.jsonl"


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
        import_id: int,
        rejects: IO[str],
        report: IntakeReport,
        actor: Caller | None,
    ):
        self.store = store
        self.import_id = import_id
        self.actor = actor
        self.rejects = rejects
        self.report = report
        self.sightings: list[Sighting] = []
        self.rejected_here = 0
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scamwall-intake")
        self._in_flight: Future[tuple[int, int, int]] | None = None

    def reject(self, record: RawRecord, reason: str, field_name: str | None) -> None:
        entry = {
            "line": record.location,
            "field": field_name,
            "error": reason,
            "record": record.fields,
        }
        self.rejects.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
        self.rejected_here += 1

    def _write(self, batch: list[Sighting], rejected: int, finished: bool) -> tuple[int, int, int]:
        with self.store.transaction() as connection:
            result = self.store.record_sightings(
                batch, import_id=self.import_id, connection=connection
            )
            self.store.count_import_progress(
                connection,
                self.import_id,
                accepted=result.inserted,
                duplicates=result.duplicates,
                rejected=rejected,
                finished=finished,
            )
            if result.inserted:  # every write is on record, in the same transaction as the data
                AuditLog(self.store).record(
                    self.actor,
                    "ingest",
                    target=f"import:{self.import_id}",
                    detail={
                        "file": self.report.path.name,
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
        batch, rejected = self.sightings, self.rejected_here
        self.sightings, self.rejected_here = [], 0
        self.wait()
        self._in_flight = self._writer.submit(self._write, batch, rejected, finished)
        if finished:
            self.wait()

    def wait(self) -> None:
        """Let the batch in flight commit and count it."""
        if self._in_flight is None:
            return
        inserted, duplicates, rejected = self._in_flight.result()
        self._in_flight = None
        self.rejects.flush()
        self.report.accepted += inserted
        self.report.duplicates += duplicates
        self.report.rejected += rejected

    def close(self) -> None:
        """Stop the writer thread (after the last batch, or after an error)."""
        self._writer.shutdown(wait=True, cancel_futures=True)


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
    if path.name.lower().endswith(".gz"):
        raise UsageError(f"{path.name} is compressed; decompress it first")
    imported = store.start_import(
        agency, file_name=path.name, file_sha256=_sha256(path), file_format=file_format
    )
    defaults = RecordDefaults(
        observed_at=imported.started_at,
        tlp=options.tlp,
        source_kind=options.source_kind,
        confidence=options.confidence,
        region=options.region,
    )
    report = IntakeReport(path, reject_path_for(path, options.reject_dir))
    report.reject_path.parent.mkdir(parents=True, exist_ok=True)
    total = path.stat().st_size
    access = Access(store)
    now = datetime.now(UTC)
    with ExitStack() as stack:
        raw = stack.enter_context(path.open("rb"))
        rejects = stack.enter_context(report.reject_path.open("w", encoding="utf-8"))
        counted = ByteCounter(raw)
        batcher = _Batcher(store, imported.id, rejects, report, actor)
        stack.callback(batcher.close)
        for record in read_records(io.BufferedReader(counted, 1 << 20), file_format):
            if record.fields is None:
                batcher.reject(record, record.error or "unreadable", None)
                continue
            report.ignored_fields.update(k for k in record.fields if k not in KNOWN_FIELDS)
            try:
                sighting = sighting_from_record(
                    record.fields, agency=agency, defaults=defaults, now=now
                )
                if record.fields.get("groups") or record.fields.get("recipients"):
                    sighting = with_markings(
                        sighting,
                        record.fields,
                        access,
                        submitted_by=actor.user_id if actor is not None else None,
                    )
            except InvalidRecord as exc:
                batcher.reject(record, exc.reason, exc.field)
                continue
            batcher.sightings.append(sighting)
            if len(batcher.sightings) >= options.batch_size:
                batcher.flush()
                if progress is not None:
                    progress(counted.count, total)
        batcher.flush(finished=True)
        if progress is not None:
            progress(total, total)
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
