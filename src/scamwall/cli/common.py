"""What every command shares: the app, the consoles, the store, JSON output."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

from scamwall.errors import InvalidIndicator, NotFound, StoreUnavailable
from scamwall.exchange.policy import Caller, Role
from scamwall.indicators.phone import check_region
from scamwall.settings import get_settings
from scamwall.store import Sighting, Store, WriteResult
from scamwall.store.audit import AuditLog

__all__ = [
    "Engine",
    "EngineOption",
    "JsonFlag",
    "RegionOption",
    "app",
    "emit",
    "err",
    "local_file",
    "local_operator",
    "opened_store",
    "out",
    "record_audited",
    "store_if_present",
]

app = typer.Typer(
    name="scamwall",
    help="Pool, screen and block cross-border fraud signals across agencies.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)

# no console markup: what is printed holds user data ("[/x]" in an agency code or a note),
# which Rich would read as markup, fail on, or silently drop; colour only where asked for
out = Console(highlight=False, markup=False)
err = Console(stderr=True, highlight=False, markup=False)

JsonFlag = Annotated[bool, typer.Option("--json", help="One JSON object per line on stdout.")]


def _known_region(region: str | None) -> str | None:
    """The region upper-cased, or a usage error naming the option (once, before any work)."""
    try:
        return check_region(region)
    except InvalidIndicator:
        raise typer.BadParameter(
            f"unknown region {region!r}; give an ISO 3166 alpha-2 code such as TH or CN"
        ) from None


RegionOption = Annotated[
    str | None,
    typer.Option(
        "--region",
        "-r",
        help="ISO 3166 alpha-2 region for local phone numbers.",
        callback=_known_region,
    ),
]


def emit(obj: dict[str, Any]) -> None:
    """Write one JSON line on stdout."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


@contextmanager
def opened_store(*, require_schema: bool = True) -> Iterator[Store]:
    """The configured store, closed when the command is done."""
    store = Store.open(get_settings().database_url, require_schema=require_schema)
    try:
        yield store
    finally:
        store.close()


def local_operator() -> Caller:
    """Who the audit trail names for commands run on the server itself: its operator."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Caller(name=f"cli:{user}", role=Role.ADMIN)


def record_audited(
    store: Store, sightings: Sequence[Sighting], action: str, *, target: str, **detail: Any
) -> WriteResult:
    """Store sightings a command brought in, audited in the same transaction as the data
    (as the server's operator, from the command line) when any is new."""
    with store.transaction() as connection:
        written = store.record_sightings(sightings, connection=connection)
        if written.inserted:
            AuditLog(store).record(
                local_operator(),
                action,
                target=target,
                detail={**detail, "accepted": written.inserted, "duplicates": written.duplicates},
                origin="cli",
                connection=connection,
            )
    return written


def store_if_present() -> Store | None:
    """The configured store when it exists and is initialised; screening works without (a
    first run, a gateway's own machine: nothing reported to miss), and says so. A database that
    cannot be opened, or holds an older schema, is an error on every backend: it was set up to
    be used, and screening on text alone would pass its reported numbers and links unnoticed."""
    url = make_url(get_settings().database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        err.print(f"note: screening without reputation (no database at {url.database})")
        return None
    try:
        return Store.open(get_settings().database_url)
    except StoreUnavailable as exc:
        if not exc.details.get("empty"):  # never initialised: it holds no report to miss
            raise
        err.print(f"note: screening without reputation ({exc.message})", soft_wrap=True)
        return None


class Engine(StrEnum):
    """Where batch screening runs."""

    LOCAL = "local"
    SPARK = "spark"


EngineOption = Annotated[
    Engine,
    typer.Option(help="local: in this process; spark: on the Spark master of the settings."),
]


def local_file(source: str, engine: Engine) -> str:
    """The input as the engine reads it: a local file must exist (as an absolute path, so
    Spark's executors find it too); Spark may also read a URI (hdfs://, s3a://)."""
    if engine is Engine.SPARK and "://" in source:
        return source
    path = Path(source)
    if not path.is_file():
        raise NotFound(f"no file {source}")
    return str(path.resolve())
