"""Connecting to the store: SQLite (embedded, WAL) or PostgreSQL, and running migrations."""

from __future__ import annotations

import logging
from importlib.resources import files
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from scamwall.errors import ConfigurationError, StoreUnavailable

__all__ = ["connect", "current_revision", "head_revision", "migrate", "require_current_schema"]

log = logging.getLogger(__name__)

SUPPORTED = ("sqlite", "postgresql")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while intake writes; NORMAL sync is durable across process crashes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
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
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
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


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None when it was never initialised."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise StoreUnavailable(
            f"cannot open the database {engine.url.render_as_string(hide_password=True)}: "
            f"{exc.orig}; check SCAMWALL_DATABASE_URL"
        ) from None


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration (idempotent)."""
    log.info("migrating %s", engine.url.render_as_string(hide_password=True))
    command.upgrade(_alembic_config(engine), "head")


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
