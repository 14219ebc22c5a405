"""Connecting to the store: SQLite (embedded, WAL) or PostgreSQL, and running migrations."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from scamwall.errors import ConfigurationError, StoreUnavailable

__all__ = ["connect", "current_revision", "head_revision", "migrate", "require_current_schema"]

log = logging.getLogger(__name__)

SUPPORTED = ("sqlite", "postgresql")
#: The PostgreSQL advisory lock a migration holds: a key of scamwall's and one of the schema
#: (coalesce: the strict hashtext would give NULL for a schema that does not exist, and no lock).
_MIGRATION_LOCK = 0x5C4_3A11
_SCHEMA_KEY = "hashtext(coalesce(current_schema(), ''))"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # first: switching a new file to WAL takes a lock another process may hold for a moment
    cursor.execute("PRAGMA busy_timeout=10000")
    # WAL lets readers work while intake writes; NORMAL sync is durable across process crashes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # 64 MiB of page cache: indexes keyed by random ids stay in memory as the store grows
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _postgresql_session(dbapi_connection: Any, _record: Any) -> None:
    # Times travel as text between server and driver, in the session's DateStyle and time zone:
    # psycopg reads ISO only, so a server or role configured otherwise ("German, DMY") would
    # make every timestamp unreadable. Set both, outside any transaction so they stay.
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET DateStyle TO 'ISO, YMD'")
        cursor.execute("SET TimeZone TO 'UTC'")
    dbapi_connection.autocommit = autocommit


def connect(database_url: str, **engine_options: Any) -> Engine:
    """An engine for ``database_url`` (a SQLAlchemy URL), with scamwall's per-backend options."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise ConfigurationError(
            f"SCAMWALL_DATABASE_URL is not a database URL: {database_url!r}; "
            "use sqlite:///path/file.db or postgresql+psycopg://user@host/db"
        ) from None
    backend = url.get_backend_name()
    if backend not in SUPPORTED:
        raise ConfigurationError(f"database {backend!r} is not supported; use SQLite or PostgreSQL")
    if backend == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver we ship with
    if backend == "sqlite" and url.database and url.database != ":memory:":
        folder = Path(url.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(
                f"cannot open the database {url.render_as_string(hide_password=True)}: cannot "
                f"create the folder {folder} ({exc.strerror}); check SCAMWALL_DATABASE_URL"
            ) from None
        if not url.query.get("uri"):
            _create_private_file(Path(url.database))
    try:
        engine = create_engine(url, **engine_options)
    except ImportError as exc:
        raise ConfigurationError(
            f"the driver for {backend} is not installed ({exc}); "
            "install scamwall with the 'postgres' extra"
        ) from None
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        event.listen(engine, "connect", _postgresql_session)
    return engine


def _create_private_file(path: Path) -> None:
    """Create a new SQLite database file readable and writable by its owner only, whatever the
    umask: it holds RED notes and token hashes. SQLite gives the -wal and -shm files it makes
    beside it the same mode. An existing file keeps its mode (see :func:`migrate`)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # SQLite will fail to open it too, and say why
    os.close(descriptor)  # an empty file is an empty SQLite database


def _warn_if_others_may_read(engine: Engine) -> None:
    """Warn when an existing SQLite database file is open to the owner's group or to everyone
    (made by an older scamwall, or copied): the operator decides, so its mode is left alone."""
    name = engine.url.database
    if engine.dialect.name != "sqlite" or not name or name == ":memory:":
        return
    try:
        mode = stat.S_IMODE(Path(name).stat().st_mode)
    except OSError:
        return
    if mode & 0o077:
        log.warning(
            "the database file %s can be read or written by users other than its owner "
            "(mode %03o) and holds RED notes and token hashes; `chmod 600 %s` (and its -wal "
            "and -shm files) unless that is meant",
            name,
            mode,
            name,
        )


def _alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("scamwall.store") / "migrations"))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest migration this version of scamwall knows."""
    script = ScriptDirectory.from_config(_alembic_config())
    head = script.get_current_head()
    assert head is not None
    return head


def _where(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None when it was never initialised."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise StoreUnavailable(
            f"cannot open the database {_where(engine)}: {exc.orig}; check SCAMWALL_DATABASE_URL"
        ) from None


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration (idempotent). Migrations of one database
    run one at a time: a second ``scamwall init`` waits for the first, then finds nothing to
    do. A migration that fails leaves the database as it was (one transaction)."""
    before = current_revision(engine)  # a database that cannot be opened says so here
    _warn_if_others_may_read(engine)
    log.info("migrating %s from %s", _where(engine), before or "empty")
    try:
        with _migrating(engine) as migration_engine:
            command.upgrade(_alembic_config(migration_engine), "head")
    except DBAPIError as exc:
        raise StoreUnavailable(
            f"cannot upgrade the database {_where(engine)} to migration {head_revision()}: "
            f"{exc.orig}; the upgrade was rolled back"
        ) from None


@contextmanager
def _migrating(engine: Engine) -> Iterator[Engine]:
    """The engine to migrate with, while no other process migrates the same database.
    PostgreSQL: an advisory lock of the schema, held on a connection of its own. SQLite: a
    migration engine whose transactions are ``BEGIN EXCLUSIVE`` (pysqlite on its own would run
    DDL outside any transaction, each statement committed by itself)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as holder:
            holder.execution_options(isolation_level="AUTOCOMMIT")
            _advisory_lock(holder, _where(engine))
            try:
                yield engine
            finally:
                try:
                    holder.execute(
                        text(f"SELECT pg_advisory_unlock(:key, {_SCHEMA_KEY})"),
                        {"key": _MIGRATION_LOCK},
                    )
                except DBAPIError:
                    holder.invalidate()  # closed, so the server lets the lock go
        return
    if engine.url.database in (None, "", ":memory:"):
        yield engine  # a database no other process can open
        return
    migration_engine = create_engine(engine.url, poolclass=NullPool)
    event.listen(migration_engine, "connect", _sqlite_pragmas)
    event.listen(migration_engine, "connect", _sqlite_explicit_transactions)
    event.listen(migration_engine, "begin", _sqlite_begin_exclusive)
    try:
        yield migration_engine
    finally:
        migration_engine.dispose()


def _advisory_lock(holder: Connection, where: str) -> None:
    """Take the migration lock of the connection's schema, waiting for its holder if any."""
    key = {"key": _MIGRATION_LOCK}
    if not holder.execute(text(f"SELECT pg_try_advisory_lock(:key, {_SCHEMA_KEY})"), key).scalar():
        log.warning("waiting for another migration of %s to finish", where)
        holder.execute(text(f"SELECT pg_advisory_lock(:key, {_SCHEMA_KEY})"), key)


def _sqlite_explicit_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the "begin" event below starts transactions


def _sqlite_begin_exclusive(connection: Connection) -> None:
    """Start the migration's transaction with the database's write lock, waiting as long as
    another process holds it (another migration, a long write)."""
    driver = connection.connection.driver_connection
    assert driver is not None
    waited = False
    while True:
        try:
            driver.execute("BEGIN EXCLUSIVE")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorname != "SQLITE_BUSY":
                raise StoreUnavailable(
                    f"cannot lock the database {connection.engine.url} to migrate it: {exc}"
                ) from None
            if not waited:
                log.warning("waiting for another process writing to the database to finish")
                waited = True


def require_current_schema(engine: Engine) -> None:
    """Raise :class:`StoreUnavailable` unless the schema is initialised and up to date."""
    current = current_revision(engine)
    if current is None:
        raise StoreUnavailable("the database is empty; run `scamwall init` first", empty=True)
    if current != head_revision():
        raise StoreUnavailable(
            f"the database is at migration {current}, this scamwall needs {head_revision()}; "
            "run `scamwall init` to upgrade it"
        )
