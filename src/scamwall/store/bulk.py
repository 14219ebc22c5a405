"""Fast bulk writes that skip rows already present, and fast bulk reads (:func:`stream_rows`).

SQLAlchemy's generic executemany costs ~15 µs a row in Python; intake needs less than half of
that. So bulk writes go to the driver directly, each backend its fastest way:

* SQLite: ``INSERT … ON CONFLICT (key) DO NOTHING`` through ``executemany`` (its rowcount is the
  number stored; not ``INSERT OR IGNORE``, which would also swallow CHECK and NOT NULL failures);
* PostgreSQL: ``COPY`` into a temporary staging table, then ``INSERT … SELECT … ON CONFLICT DO
  NOTHING`` (its rowcount is the number stored).

Values are converted by the columns' own SQLAlchemy type processors, so rows written here read back
through SQLAlchemy exactly like rows it wrote itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Select, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

from scamwall.store.schema import UTCDateTime

__all__ = ["insert_ignoring_known", "insert_prepared", "naive_utc", "prepare_rows", "stream_rows"]

_Processor = Callable[[Any], Any] | None


def _processors(table: Table, columns: Sequence[str], dialect: Dialect) -> list[_Processor]:
    return [_processor(table.c[name].type, dialect) for name in columns]


def _processor(column_type: Any, dialect: Dialect) -> _Processor:
    if dialect.name == "sqlite" and isinstance(column_type, UTCDateTime):
        return _sqlite_utc_text  # what the type's own processors give, at a third of the cost
    return column_type.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[no-any-return]


def _sqlite_utc_text(value: datetime | None) -> str | None:
    """A :class:`UTCDateTime` as SQLite stores it: UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; attach a time zone")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def prepare_rows(
    dialect: Dialect, table: Table, columns: Sequence[str], rows: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """Rows converted to what the driver stores (SQLAlchemy's own conversions for SQLite; COPY
    takes Python values as they are). Pure, so it can run in a worker process."""
    if dialect.name == "postgresql":
        return [tuple(row) for row in rows]
    processors = _processors(table, columns, dialect)
    if all(p is None for p in processors):
        return [tuple(row) for row in rows]
    return [
        tuple(value if p is None else p(value) for p, value in zip(processors, row, strict=True))
        for row in rows
    ]


def _sqlite(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Any]
) -> int:
    names = ", ".join(columns)
    marks = ", ".join("?" * len(columns))
    key = ", ".join(c.name for c in table.primary_key.columns)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        statement = (
            f"INSERT INTO {table.name} ({names}) VALUES ({marks}) "  # noqa: S608
            f"ON CONFLICT ({key}) DO NOTHING"
        )
        cursor.executemany(statement, rows)
        return int(cursor.rowcount)
    finally:
        cursor.close()


def _postgresql(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Any]
) -> int:
    names = ", ".join(columns)
    stage = f"scamwall_stage_{table.name}"
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} "
            f"(LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        key = ", ".join(c.name for c in table.primary_key.columns)
        cursor.execute(
            f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {stage} "  # noqa: S608
            f"ON CONFLICT ({key}) DO NOTHING"
        )
        stored = int(cursor.rowcount)
        cursor.execute(f"TRUNCATE {stage}")
        return stored
    finally:
        cursor.close()


def insert_ignoring_known(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Any]
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order), skip those whose key exists; return how
    many were stored. Runs in ``connection``'s current transaction."""
    return insert_prepared(
        connection, table, columns, prepare_rows(connection.dialect, table, columns, rows)
    )


def insert_prepared(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Any]
) -> int:
    """:func:`insert_ignoring_known` for rows already through :func:`prepare_rows`."""
    if not rows:
        return 0
    write = _postgresql if connection.dialect.name == "postgresql" else _sqlite
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
        return write(connection, table, columns, rows)
    except driver_error as exc:  # surface driver errors as SQLAlchemy's, like every other write
        raise DBAPIError.instance(
            f"bulk insert into {table.name}", None, exc, driver_error
        ) from exc


def stream_rows(
    connection: Connection, query: Select[Any], *, batch: int = 20_000
) -> Iterator[tuple[Any, ...]]:
    """Every row of ``query`` as the driver returns it, read ``batch`` rows at a time, without
    SQLAlchemy's per-row work (a few microseconds a row: seconds over millions). PostgreSQL reads
    through a server-side cursor, so the result never sits in memory whole; run it inside a
    transaction. Values are the driver's own types: for column types with conversions (UUIDs,
    timestamps on SQLite) the caller converts what it keeps."""
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    raw = connection.connection.dbapi_connection
    assert raw is not None
    if connection.dialect.name == "postgresql":
        # a named cursor is a server-side one (psycopg)
        cursor = raw.cursor(name=f"stream_{uuid.uuid4().hex[:12]}")
    else:
        cursor = raw.cursor()
    try:
        parameters = compiled.params
        if compiled.positiontup is not None:
            cursor.execute(compiled.string, [parameters[name] for name in compiled.positiontup])
        else:
            cursor.execute(compiled.string, parameters)
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


def naive_utc(value: object) -> datetime:
    """A time as :func:`stream_rows` gives it, as naive UTC: SQLite's text (naive UTC already),
    PostgreSQL's text or datetime (with an offset), or a datetime."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)
