"""Reading and writing the store. Everything above this module speaks records, not SQL."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError

from scamwall.errors import AlreadyExists, InvalidIndicator, InvalidInput, NotFound
from scamwall.indicators.phone import check_region
from scamwall.store.bulk import insert_ignoring_known, insert_prepared, prepare_rows
from scamwall.store.database import connect, migrate, require_current_schema
from scamwall.store.records import Agency, LegalBasis, Sighting
from scamwall.store.schema import (
    agencies,
    imports,
    indicators,
    sighting_groups,
    sighting_recipients,
    sightings,
)
from scamwall.validation import clean_text
from scamwall.vocabulary import AgencyKind, Tlp

__all__ = [
    "BULK_LOAD",
    "ImportRecord",
    "PreparedBatch",
    "Store",
    "StoreCounts",
    "WriteResult",
    "prepare_batch",
]

log = logging.getLogger(__name__)

INDICATOR_COLUMNS = ("id", "kind", "canonical", "registered_domain", "created_at")
SIGHTING_COLUMNS = (
    "id",
    "indicator_id",
    "agency_id",
    "observed_at",
    "reported_at",
    "source_kind",
    "confidence",
    "tlp",
    "note",
    "evidence_ref",
    "import_id",
    "submitted_by",
    "jurisdiction",
    "legal_instrument",
    "retain_until",
)
_REPORTED_AT = SIGHTING_COLUMNS.index("reported_at")
#: Sightings one load (an import, a sync) must add for the database's statistics to be
#: refreshed after it (:meth:`Store.refresh_statistics`).
BULK_LOAD = 10_000
AGENCY_CODE_RULE = "2-32 letters, digits, '-' or '_', starting with a letter"


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a batch of sightings did: stored anew, or already known."""

    inserted: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """One file handed to bulk intake by one agency; its start time stands in for 'now'."""

    id: int
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoreCounts:
    """Totals for a dashboard: nothing here reveals a sighting's content."""

    agencies: int
    indicators_by_kind: dict[str, int]
    sightings: int
    sightings_by_tlp: dict[str, int]


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """A batch of sightings as driver-ready rows: the pure half of writing, which intake and a
    sync's pull run in a process of their own."""

    indicator_rows: list[tuple[Any, ...]]
    sighting_rows: list[tuple[Any, ...]]
    size: int

    def arriving(self, moment: datetime, dialect: Dialect) -> PreparedBatch:
        """The batch with its sightings' arrival time (``reported_at``) set to ``moment``."""
        (stamp,) = prepare_rows(dialect, sightings, ("reported_at",), [(moment,)])[0]
        at = _REPORTED_AT
        rows = [(*row[:at], stamp, *row[at + 1 :]) for row in self.sighting_rows]
        return PreparedBatch(self.indicator_rows, rows, self.size)

    def without(self, facts: Collection[str], dialect: Dialect) -> PreparedBatch:
        """The batch less the sightings whose ids are ``facts``; they count as duplicates."""
        if not facts:
            return self
        ids = prepare_rows(dialect, sightings, ("id",), [(fact,) for fact in facts])
        left_out = {row[0] for row in ids}
        rows = [row for row in self.sighting_rows if row[0] not in left_out]
        return PreparedBatch(self.indicator_rows, rows, self.size)

    @classmethod
    def joined(cls, parts: Sequence[PreparedBatch]) -> PreparedBatch:
        """Batches prepared apart as one, rows in key order (a key two of them hold is written
        once: the store skips it the second time)."""
        by_key = itemgetter(0)
        return cls(
            sorted((row for part in parts for row in part.indicator_rows), key=by_key),
            sorted((row for part in parts for row in part.sighting_rows), key=by_key),
            sum(part.size for part in parts),
        )


def _python_rows(
    batch: Sequence[Sighting], import_id: int | None, now: datetime | None = None
) -> list[tuple[Any, ...]]:
    """``sightings`` rows in :data:`SIGHTING_COLUMNS` order, as Python values."""
    reported = now or datetime.now(UTC)
    return [
        (
            s.id,
            s.indicator.id,
            s.agency.id,
            s.observed_at,
            reported,
            s.source_kind.value,
            s.confidence,
            s.tlp.value,
            s.note,
            s.evidence_ref,
            import_id,
            s.submitted_by,
            *_legal_values(s.legal_basis),
        )
        for s in batch
    ]


def _legal_values(basis: LegalBasis | None) -> tuple[str | None, str | None, datetime | None]:
    """The ``jurisdiction``, ``legal_instrument`` and ``retain_until`` columns of a basis."""
    if basis is None:
        return None, None, None
    return basis.jurisdiction, basis.instrument, basis.retain_until


def prepare_batch(
    batch: Sequence[Sighting], dialect: Dialect, *, import_id: int | None = None
) -> PreparedBatch:
    """Rows for the ``indicators`` and ``sightings`` tables, deduplicated, converted for
    ``dialect``. Sharing markings are not rows here: :meth:`Store.record_sightings` adds them."""
    now = datetime.now(UTC)
    sighting_rows = {row[0]: row for row in reversed(_python_rows(batch, import_id, now))}
    # in key order: B-tree inserts of sorted keys touch each page once, random ids everywhere
    return PreparedBatch(
        _indicator_rows(batch, dialect, now),
        prepare_rows(dialect, sightings, SIGHTING_COLUMNS, sorted(sighting_rows.values())),
        len(batch),
    )


def _indicator_rows(
    batch: Sequence[Sighting], dialect: Dialect, now: datetime
) -> list[tuple[Any, ...]]:
    """Driver-ready ``indicators`` rows of a batch, one per indicator, in key order."""
    rows = {
        s.indicator.id: (
            s.indicator.id,
            s.indicator.kind.value,
            s.indicator.canonical,
            s.indicator.registered_domain,
            now,
        )
        for s in batch
    }
    return prepare_rows(dialect, indicators, INDICATOR_COLUMNS, sorted(rows.values()))


def _normalise_agency_code(code: str) -> str:
    text = code.strip().upper()
    if not (2 <= len(text) <= 32 and text[0].isalpha() and text.isascii()) or not all(
        ch.isalnum() or ch in "-_" for ch in text
    ):
        raise InvalidInput(f"agency code {code!r} must be {AGENCY_CODE_RULE}", field="code")
    return text


class Store:
    """The database behind scamwall, SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Reads need no transaction: on PostgreSQL, autocommit skips BEGIN and the ROLLBACK a
        # pooled connection gets on return, two round trips of a look-up's three. SQLite has no
        # round trips to save, and switching modes costs it time.
        self._reader = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )

    @classmethod
    def open(cls, database_url: str, *, require_schema: bool = True) -> Store:
        """Connect to ``database_url``; unless told otherwise, insist it is initialised."""
        store = cls(connect(database_url))
        if require_schema:
            try:
                require_current_schema(store.engine)
            except Exception:
                store.close()
                raise
        return store

    def initialise(self) -> None:
        """Create or upgrade the schema (what ``scamwall init`` does)."""
        migrate(self.engine)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads only (autocommit: each statement sees committed data)."""
        with self._reader.connect() as connection:
            yield connection

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside one transaction, committed on success."""
        with self.engine.begin() as connection:
            yield connection

    def refresh_statistics(self) -> None:
        """Let the database's planner know the tables' sizes after a bulk load. PostgreSQL
        plans from sampled statistics its autovacuum refreshes only later; until then a freshly
        loaded ``sightings`` looks tiny, and paged reads (exchange, listings) pick plans that
        read the whole table. SQLite plans from its indexes and needs nothing."""
        if self.engine.dialect.name != "postgresql":
            return
        with self.engine.connect() as connection:
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.execute(text("ANALYZE sightings, indicators"))

    # agencies -------------------------------------------------------------------------------

    def add_agency(self, code: str, *, name: str, country: str, kind: AgencyKind) -> Agency:
        """Register an agency; its code is its stable name across instances."""
        code = _normalise_agency_code(code)
        try:
            region = check_region(country)
        except InvalidIndicator:
            region = None
        if region is None:
            raise InvalidInput(
                f"an agency needs a country: {country!r} is not an ISO 3166 alpha-2 code such "
                "as TH or CN",
                field="country",
            )
        full_name = clean_text(name, field="name", max_length=200) or code
        row = {
            "code": code,
            "name": full_name,
            "country": region,
            "kind": kind.value,
            "created_at": datetime.now(UTC),
        }
        try:
            with self.transaction() as connection:
                new_id = connection.execute(agencies.insert().values(**row)).inserted_primary_key
        except IntegrityError:
            raise AlreadyExists(f"agency {code} exists already", code=code) from None
        assert new_id is not None
        return Agency(new_id[0], code, full_name, region, kind)

    def get_agency(self, code: str) -> Agency:
        """The agency with this code, or :class:`NotFound` naming the fix."""
        normalised = code.strip().upper()
        if not normalised.isascii() or not normalised.replace("-", "").replace("_", "").isalnum():
            raise NotFound(f"no agency with code {normalised!r}", code=normalised)
        with self.reading() as connection:
            row = connection.execute(
                select(agencies).where(agencies.c.code == normalised)
            ).one_or_none()
        if row is None:
            raise NotFound(
                f"no agency with code {normalised}; add it with `scamwall agency add {normalised}`",
                code=normalised,
            )
        return Agency(row.id, row.code, row.name, row.country, AgencyKind(row.kind))

    def list_agencies(self) -> list[Agency]:
        """Every agency, by code."""
        with self.reading() as connection:
            rows = connection.execute(select(agencies).order_by(agencies.c.code)).all()
        return [Agency(r.id, r.code, r.name, r.country, AgencyKind(r.kind)) for r in rows]

    # sightings ------------------------------------------------------------------------------

    def record_sightings(
        self,
        batch: Sequence[Sighting],
        *,
        import_id: int | None = None,
        connection: Connection | None = None,
    ) -> WriteResult:
        """Store a batch of sightings and their indicators; known facts are counted, not stored."""
        if connection is None:
            with self.transaction() as own:
                return self.record_sightings(batch, import_id=import_id, connection=own)
        if not batch:
            return WriteResult(0, 0)
        first: dict[str, Sighting] = {}
        for sighting in batch:  # the first report of a fact is the fact, markings included
            first.setdefault(sighting.id, sighting)
        marked = [s for s in first.values() if s.groups or s.tlp is Tlp.RED]
        plain = [s for s in first.values() if not (s.groups or s.tlp is Tlp.RED)]
        result = self._write_rows(
            prepare_batch(plain, connection.dialect, import_id=import_id), connection
        )
        inserted = self._insert_marked(marked, connection, import_id=import_id)
        return WriteResult(
            inserted=result.inserted + len(inserted),
            duplicates=len(batch) - result.inserted - len(inserted),
        )

    def _insert_marked(
        self, marked: list[Sighting], connection: Connection, *, import_id: int | None
    ) -> set[str]:
        """Insert sightings that carry markings, and their markings only where this statement
        stored the fact: a re-report, even a concurrent one, never widens who sees a fact."""
        if not marked:
            return set()
        insert_prepared(
            connection,
            indicators,
            INDICATOR_COLUMNS,
            _indicator_rows(marked, connection.dialect, datetime.now(UTC)),
        )
        dialect_insert = (
            postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        )
        rows = [
            dict(zip(SIGHTING_COLUMNS, row, strict=True)) for row in _python_rows(marked, import_id)
        ]
        stored = {
            str(i)
            for i in connection.execute(
                dialect_insert(sightings)
                .on_conflict_do_nothing(index_elements=["id"])
                .returning(sightings.c.id),
                rows,
            ).scalars()
        }
        by_id = {s.id: s for s in marked if s.id in stored}
        group_rows = [(sid, g) for sid, s in by_id.items() for g in sorted(s.groups)]
        insert_ignoring_known(connection, sighting_groups, ("sighting_id", "group_id"), group_rows)
        recipient_rows = [
            (sid, user)
            for sid, s in by_id.items()
            if s.tlp is Tlp.RED
            for user in sorted(s.recipients | ({s.submitted_by} if s.submitted_by else set()))
        ]
        insert_ignoring_known(
            connection, sighting_recipients, ("sighting_id", "user_id"), recipient_rows
        )
        return stored

    def write_prepared(self, prepared: PreparedBatch, connection: Connection) -> WriteResult:
        """Write a batch from :func:`prepare_batch` made ahead of its write (in a parsing or
        reading process; markings are :meth:`record_sightings`'s). Its sightings arrive now,
        when they are written, not when they were prepared, which can be long before: the
        arrival time of a row is as close to its commit as a write makes it (readers of the
        arrival order still allow for the commits in flight, as a pull's overlap does)."""
        arriving = prepared.arriving(datetime.now(UTC), connection.dialect)
        return self._write_rows(arriving, connection)

    def _write_rows(self, prepared: PreparedBatch, connection: Connection) -> WriteResult:
        insert_prepared(connection, indicators, INDICATOR_COLUMNS, prepared.indicator_rows)
        stored = insert_prepared(connection, sightings, SIGHTING_COLUMNS, prepared.sighting_rows)
        return WriteResult(inserted=stored, duplicates=prepared.size - stored)

    # imports --------------------------------------------------------------------------------

    def start_import(
        self, agency: Agency, *, file_name: str, file_sha256: str, file_format: str
    ) -> ImportRecord:
        """The import of this file by this agency, created on first sight, found again after.
        Two runs starting on one file at once: the one whose row lands second takes the
        first's (facts dedupe; each run counts its own rejects)."""
        try:
            return self._start_import(agency, file_name, file_sha256, file_format)
        except IntegrityError:  # the other run's row landed between our look and our insert
            return self._start_import(agency, file_name, file_sha256, file_format)

    def _start_import(
        self, agency: Agency, file_name: str, file_sha256: str, file_format: str
    ) -> ImportRecord:
        query = select(imports.c.id, imports.c.started_at, imports.c.finished_at).where(
            imports.c.file_sha256 == file_sha256, imports.c.agency_id == agency.id
        )
        with self.transaction() as connection:
            row = connection.execute(query).one_or_none()
            if row is None:
                started = datetime.now(UTC)
                result = connection.execute(
                    imports.insert().values(
                        agency_id=agency.id,
                        file_name=file_name,
                        file_sha256=file_sha256,
                        format=file_format,
                        started_at=started,
                        accepted=0,
                        duplicates=0,
                        rejected=0,
                    )
                )
                assert result.inserted_primary_key is not None
                return ImportRecord(result.inserted_primary_key[0], started, None)
            if row.finished_at is None:
                # a run stopped half-way: the next reads the whole file again and counts every
                # reject anew (its accepted facts stay counted; stored again, they collide)
                connection.execute(update(imports).where(imports.c.id == row.id).values(rejected=0))
        return ImportRecord(row.id, row.started_at, row.finished_at)

    def count_import_progress(
        self,
        connection: Connection,
        import_id: int,
        *,
        accepted: int,
        duplicates: int,
        rejected: int,
        finished: bool = False,
    ) -> None:
        """Add a batch's counts to its import, in the batch's own transaction."""
        values: dict[str, Any] = {
            "accepted": imports.c.accepted + accepted,
            "duplicates": imports.c.duplicates + duplicates,
            "rejected": imports.c.rejected + rejected,
        }
        if finished:
            values["finished_at"] = datetime.now(UTC)
        connection.execute(update(imports).where(imports.c.id == import_id).values(**values))

    # reading --------------------------------------------------------------------------------

    def counts(self) -> StoreCounts:
        """Totals per indicator kind and per TLP."""
        with self.reading() as connection:
            agency_count = connection.execute(select(func.count()).select_from(agencies)).scalar()
            by_kind = connection.execute(
                select(indicators.c.kind, func.count()).group_by(indicators.c.kind)
            ).all()
            by_tlp = connection.execute(
                select(sightings.c.tlp, func.count()).group_by(sightings.c.tlp)
            ).all()
        return StoreCounts(
            agencies=int(agency_count or 0),
            indicators_by_kind={kind: int(n) for kind, n in sorted(by_kind)},
            sightings=sum(int(n) for _, n in by_tlp),
            sightings_by_tlp={tlp: int(n) for tlp, n in sorted(by_tlp)},
        )
