"""Fixtures shared by the whole suite.

Store tests run once per backend: SQLite (a file in a temporary folder) and PostgreSQL when
``SCAMWALL_TEST_POSTGRES_URL`` names a server (e.g. ``postgresql+psycopg://postgres@127.0.0.1/test``);
each PostgreSQL test gets a schema of its own, dropped afterwards. Without the variable the
PostgreSQL cases are skipped with that reason, never silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from scamwall.cli import main
from scamwall.store import Store

POSTGRES_ENV = "SCAMWALL_TEST_POSTGRES_URL"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's own SCAMWALL_* variables or .env file."""
    for name in list(os.environ):
        if name.startswith("SCAMWALL_") and name != POSTGRES_ENV:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _postgres_schema_url(base: str) -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(base).set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(base).set(drivername="postgresql+psycopg")
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend, as a SQLAlchemy URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'scamwall.db'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL not configured: set {POSTGRES_ENV} to run this case")
    yield from _postgres_schema_url(base)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """An initialised store on each backend."""
    opened = Store.open(database_url, require_schema=False)
    opened.initialise()
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def cli(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """Run ``scamwall ARGS`` in-process against a fresh database; returns (code, out, err)."""
    monkeypatch.setenv("SCAMWALL_DATABASE_URL", database_url)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def shared_data() -> Path:
    """The shared public data folder, or a skip saying it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA
