"""The store on every backend: agencies, append-only sightings, dedup, migrations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from scamwall.errors import AlreadyExists, InvalidInput, InvalidRecord, NotFound, StoreUnavailable
from scamwall.indicators import Indicator, parse_indicator
from scamwall.store import Agency, LegalBasis, Sighting, Store
from scamwall.store.bulk import insert_ignoring_known
from scamwall.store.database import current_revision, head_revision
from scamwall.store.repository import SIGHTING_COLUMNS, prepare_batch
from scamwall.store.schema import indicators, metadata, sightings
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

OBSERVED = datetime(2026, 11, 2, 2, 15, tzinfo=UTC)


def _sighting(store: Store, value: str, **changes: object) -> Sighting:
    agency = store.get_agency("TH-CCIB")
    fields: dict[str, object] = {
        "indicator": parse_indicator(value, region="TH"),
        "agency": agency,
        "observed_at": OBSERVED,
        "source_kind": SourceKind.VICTIM_REPORT,
        "confidence": 80,
        "tlp": Tlp.GREEN,
    }
    fields.update(changes)
    return Sighting(**fields)  # type: ignore[arg-type]


@pytest.fixture
def thai_police(store: Store) -> Store:
    store.add_agency("th-ccib", name="Cyber Crime Bureau", country="th", kind=AgencyKind.POLICE)
    return store


def test_agency_is_stored_with_normalised_code_and_country(thai_police: Store) -> None:
    agency = thai_police.get_agency("TH-CCIB")
    assert (agency.code, agency.country, agency.kind) == ("TH-CCIB", "TH", AgencyKind.POLICE)
    assert [a.code for a in thai_police.list_agencies()] == ["TH-CCIB"]


def test_agency_code_is_unique(thai_police: Store) -> None:
    with pytest.raises(AlreadyExists, match="TH-CCIB exists already"):
        thai_police.add_agency("TH-CCIB", name="x", country="TH", kind=AgencyKind.POLICE)


@pytest.mark.parametrize(
    ("code", "country", "message"),
    [("t", "TH", "agency code"), ("TH CCIB", "TH", "agency code"), ("TH-X", "QQ", "country")],
)
def test_bad_agency_is_refused(store: Store, code: str, country: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        store.add_agency(code, name="x", country=country, kind=AgencyKind.POLICE)


def test_unknown_agency_says_how_to_add_it(store: Store) -> None:
    with pytest.raises(NotFound, match="scamwall agency add LA-MPS"):
        store.get_agency("la-mps")


def test_same_fact_twice_is_stored_once(thai_police: Store) -> None:
    first = _sighting(thai_police, "081-234-5678")
    again = _sighting(thai_police, "+66 81 234 5678", note="sent again", confidence=10)
    assert first.id == again.id
    assert thai_police.record_sightings([first]).inserted == 1
    result = thai_police.record_sightings([again, again])
    assert (result.inserted, result.duplicates) == (0, 2)
    with thai_police.engine.connect() as connection:
        notes = connection.execute(select(sightings.c.note, sightings.c.confidence)).all()
    assert notes == [(None, 80)]  # the first report stands


def test_a_later_observation_is_a_new_fact(thai_police: Store) -> None:
    first = _sighting(thai_police, "081-234-5678")
    later = _sighting(thai_police, "081-234-5678", observed_at=OBSERVED + timedelta(hours=1))
    result = thai_police.record_sightings([first, later])
    assert result.inserted == 2
    counts = thai_police.counts()
    assert counts.indicators_by_kind == {"phone": 1}
    assert counts.sightings == 2


def test_sightings_read_back_exactly(thai_police: Store) -> None:
    fact = _sighting(
        thai_police,
        "hxxps://kbank-refund[.]example/verify",
        tlp=Tlp.AMBER_STRICT,
        note="smishing page",
        evidence_ref="CCIB-1",
        observed_at=datetime(2026, 11, 2, 9, 15, 0, 123456, tzinfo=UTC),
    )
    thai_police.record_sightings([fact])
    with thai_police.engine.connect() as connection:
        row = connection.execute(select(sightings)).one()
        indicator = connection.execute(select(indicators)).one()
    assert row.id == fact.id
    assert row.observed_at == fact.observed_at
    assert row.observed_at.tzinfo is not None
    assert (row.tlp, row.note, row.evidence_ref) == ("amber+strict", "smishing page", "CCIB-1")
    assert indicator.canonical == "https://kbank-refund.example/verify"
    assert indicator.registered_domain == "kbank-refund.example"
    assert indicator.id == fact.indicator.id


def test_a_sighting_built_from_its_stored_row_is_the_sighting_written() -> None:
    """``Sighting.stored`` and ``Indicator.stored`` take the stored ids instead of computing them
    again; every field must come through."""
    agency = Agency(7, "TH-CCIB", "Thai police", "TH", AgencyKind.POLICE)
    fact = Sighting(
        indicator=parse_indicator("pay.scam-bank.example"),
        agency=agency,
        observed_at=datetime(2026, 11, 2, 9, 15, 0, 123456, tzinfo=UTC),
        source_kind=SourceKind.POLICE_CASE,
        confidence=70,
        tlp=Tlp.RED,
        note="n",
        evidence_ref="CCIB-2",
        groups=frozenset({3}),
        recipients=frozenset({4, 5}),
        submitted_by=9,
        legal_basis=LegalBasis("TH", "court order 12/2569"),
    )
    indicator = Indicator.stored(
        fact.indicator.kind,
        fact.indicator.canonical,
        fact.indicator.registered_domain,
        fact.indicator.id,
    )
    values = {f.name: getattr(fact, f.name) for f in fields(Sighting) if f.name != "id"}
    rebuilt = Sighting.stored(fact.id, **{**values, "indicator": indicator})
    assert rebuilt == fact
    assert indicator.registered_domain == "scam-bank.example"
    assert {f.name: getattr(rebuilt, f.name) for f in fields(Sighting)} == {
        f.name: getattr(fact, f.name) for f in fields(Sighting)
    }


def test_rows_prepared_ahead_arrive_when_they_are_written(thai_police: Store) -> None:
    """A batch prepared in a parsing or reading process arrives at its write: a reader of the
    arrival order never finds a sighting stamped before one it has gone past."""
    fact = _sighting(thai_police, "late-arrival.example")
    prepared = prepare_batch([fact], thai_police.engine.dialect)
    between = datetime.now(UTC)
    with thai_police.transaction() as connection:
        thai_police.write_prepared(prepared, connection)
    with thai_police.engine.connect() as connection:
        arrived = connection.execute(select(sightings.c.reported_at)).scalar_one()
    assert arrived >= between


def test_legal_basis_reads_back_exactly_and_the_first_report_keeps_its_own(
    thai_police: Store,
) -> None:
    mla = LegalBasis(
        "TH-10",
        "MLA request 2026/114 (Myanmar ↔ Thailand), ศาลอาญา order 55/2569",
        datetime(2028, 11, 2, 9, 15, 0, 123456, tzinfo=timezone(timedelta(hours=7))),
    )
    with_limit = _sighting(thai_police, "081-234-5678", legal_basis=mla)
    no_limit = _sighting(  # RED: written with its markings, the other insert path
        thai_police,
        "scam-bank.example",
        tlp=Tlp.RED,
        legal_basis=LegalBasis("INT", "Interpol I-24/7 notice"),
    )
    without = _sighting(thai_police, "+66 92 555 0101")
    again = _sighting(thai_police, "+66 81 234 5678", legal_basis=LegalBasis("EU", "other"))
    assert again.id == with_limit.id  # the basis is not part of the fact
    assert thai_police.record_sightings([with_limit, no_limit, without, again]).inserted == 3
    assert thai_police.record_sightings([again]).duplicates == 1
    with thai_police.engine.connect() as connection:
        rows = {
            row.id: row
            for row in connection.execute(
                select(
                    sightings.c.id,
                    sightings.c.jurisdiction,
                    sightings.c.legal_instrument,
                    sightings.c.retain_until,
                )
            )
        }
    stored = rows[with_limit.id]
    assert (stored.jurisdiction, stored.legal_instrument) == ("TH-10", mla.instrument)
    assert stored.retain_until == mla.retain_until
    assert stored.retain_until.tzinfo is not None
    assert tuple(rows[no_limit.id][1:]) == ("INT", "Interpol I-24/7 notice", None)
    assert tuple(rows[without.id][1:]) == (None, None, None)


@pytest.mark.parametrize(
    ("jurisdiction", "instrument", "retain_until", "field"),
    [
        ("Thailand", "x", None, "jurisdiction"),
        ("th", "x", None, "jurisdiction"),
        ("TH\n", "x", None, "jurisdiction"),
        ("TH-1000", "x", None, "jurisdiction"),
        ("TH", " ", None, "instrument"),
        ("TH", "a\x07b", None, "instrument"),
        ("TH", "x" * 501, None, "instrument"),
        ("TH", "x", datetime(2028, 1, 1), "retain_until"),
    ],
)
def test_a_legal_basis_refuses_what_a_recipient_could_not_act_on(
    jurisdiction: str, instrument: str, retain_until: datetime | None, field: str
) -> None:
    with pytest.raises(InvalidRecord) as caught:
        LegalBasis(jurisdiction, instrument, retain_until)
    assert caught.value.field == field


def test_a_legal_basis_as_json() -> None:
    basis = LegalBasis("UN", "  UNTOC art. 18  ", datetime(2028, 1, 1, tzinfo=UTC))
    assert basis.as_dict() == {
        "jurisdiction": "UN",
        "instrument": "UNTOC art. 18",
        "retain_until": "2028-01-01T00:00:00+00:00",
    }
    assert LegalBasis("TH", "x").as_dict()["retain_until"] is None


@pytest.mark.parametrize(
    "statement", ["UPDATE sightings SET confidence = 1", "DELETE FROM sightings"]
)
def test_database_refuses_to_rewrite_a_sighting(thai_police: Store, statement: str) -> None:
    thai_police.record_sightings([_sighting(thai_police, "081-234-5678")])
    with pytest.raises(DBAPIError, match="append-only"), thai_police.engine.begin() as c:
        c.execute(text(statement))
    assert thai_police.counts().sightings == 1


def test_a_sighting_checks_its_own_fields(thai_police: Store) -> None:
    with pytest.raises(InvalidRecord, match="confidence"):
        _sighting(thai_police, "081-234-5678", confidence=101)
    with pytest.raises(InvalidRecord, match="time zone"):
        _sighting(thai_police, "081-234-5678", observed_at=OBSERVED.replace(tzinfo=None))


@pytest.mark.parametrize(("column", "bad"), [("confidence", 101), ("tlp", "purple")])
def test_bulk_writes_do_not_swallow_check_failures(
    thai_police: Store, column: str, bad: object
) -> None:
    fact = _sighting(thai_police, "081-234-5678")
    row = dict.fromkeys(SIGHTING_COLUMNS)
    row.update(
        id=fact.id,
        indicator_id=fact.indicator.id,
        agency_id=fact.agency.id,
        observed_at=OBSERVED,
        reported_at=OBSERVED,
        source_kind="victim_report",
        confidence=80,
        tlp="green",
    )
    row[column] = bad
    with thai_police.transaction() as connection:
        connection.execute(
            indicators.insert().values(
                id=fact.indicator.id,
                kind="phone",
                canonical=fact.indicator.canonical,
                created_at=OBSERVED,
            )
        )
    with thai_police.transaction() as connection, pytest.raises(DBAPIError):
        insert_ignoring_known(connection, sightings, SIGHTING_COLUMNS, [tuple(row.values())])
    assert thai_police.counts().sightings == 0


def test_uninitialised_database_is_reported(database_url: str) -> None:
    with pytest.raises(StoreUnavailable, match="scamwall init"):
        Store.open(database_url)


def test_initialise_is_idempotent_and_at_head(store: Store) -> None:
    store.initialise()
    assert current_revision(store.engine) == head_revision()


def _database_nobody_can_open(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite folder":
        return f"sqlite:///{tmp_path}"  # a folder, not a database file
    base = os.environ.get("SCAMWALL_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("PostgreSQL not configured: set SCAMWALL_TEST_POSTGRES_URL to run this case")
    if kind == "postgresql role":
        return make_url(base).set(username="no_such_scamwall_role").render_as_string(False)
    return make_url(base).set(database="no_such_scamwall_db").render_as_string(False)


@pytest.mark.parametrize("kind", ["sqlite folder", "postgresql role", "postgresql database"])
def test_init_says_why_the_database_cannot_be_opened(
    kind: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from scamwall.cli import main

    monkeypatch.setenv("SCAMWALL_DATABASE_URL", _database_nobody_can_open(kind, tmp_path))
    code = main(["init"])
    err = capsys.readouterr().err
    assert code == 69, err
    assert "error: cannot open the database" in err
    assert "Traceback" not in err


_INIT_AT_A_SIGNAL = """
import os, sys, time
from scamwall.cli import main
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[1]):
    time.sleep(0.001)
sys.exit(main(["init"]))
"""


def test_two_inits_at_once_on_a_new_database_both_succeed(
    database_url: str, tmp_path: Path
) -> None:
    """The second waits for the first's migration, then finds nothing to do."""
    signal = tmp_path / "go"
    ready = [tmp_path / f"ready-{n}" for n in range(2)]
    environment = {**os.environ, "SCAMWALL_DATABASE_URL": database_url}
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _INIT_AT_A_SIGNAL, str(signal), str(flag)],
            env=environment,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag in ready
    ]
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=60)
        while not all(flag.exists() for flag in ready) and datetime.now(UTC) < deadline:
            time.sleep(0.01)
        signal.touch()  # both loaded: they migrate together
        errors = [run.communicate(timeout=120)[1] for run in runs]
    finally:
        for run in runs:
            run.kill()
    assert [run.returncode for run in runs] == [0, 0], errors
    store = Store.open(database_url)
    try:
        assert current_revision(store.engine) == head_revision()
    finally:
        store.close()


def test_screening_refuses_an_outdated_schema_alike_on_every_backend(
    cli: Callable[..., tuple[int, str, str]], database_url: str, tmp_path: Path
) -> None:
    """It holds reports that screening on text alone would miss; an empty database holds none."""
    from alembic import command

    from scamwall.store.database import _alembic_config

    message = tmp_path / "m.txt"
    message.write_text("hello\n", encoding="utf-8")
    Store.open(database_url, require_schema=False).close()  # there, never initialised
    code, out, err = cli("screen", "text", str(message))
    assert (code, "screening without reputation" in err) == (0, True), err
    assert json.loads(out)["verdict"] == "allow"

    assert cli("init")[0] == 0
    store = Store.open(database_url)
    try:
        command.downgrade(_alembic_config(store.engine), "0005")
    finally:
        store.close()
    code, out, err = cli("screen", "text", str(message))
    assert (code, out) == (69, "")
    assert "at migration 0005" in err
    assert "run `scamwall init`" in err
    assert "without reputation" not in err


def test_migrations_produce_exactly_the_declared_schema(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_sqlite_runs_in_wal_mode(tmp_path: object) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/wal.db", require_schema=False)
    store.initialise()
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_new_sqlite_database_is_private_to_its_owner(tmp_path: Path) -> None:
    """It holds RED notes and token hashes: 0600 for the file, its -wal and -shm, whatever
    the umask."""
    umask = os.umask(0o022)
    try:
        store = Store.open(f"sqlite:///{tmp_path / 'private.db'}", require_schema=False)
        store.initialise()
        with store.engine.connect() as connection:  # open: the -wal and -shm files exist
            connection.execute(text("SELECT count(*) FROM agencies"))
            modes = {f.name: f.stat().st_mode & 0o777 for f in tmp_path.glob("private.db*")}
        store.close()
    finally:
        os.umask(umask)
    assert modes == {"private.db": 0o600, "private.db-wal": 0o600, "private.db-shm": 0o600}


def test_an_existing_database_keeps_its_mode_and_init_warns_when_others_may_read_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shared = tmp_path / "shared.db"
    shared.touch()
    shared.chmod(0o644)
    store = Store.open(f"sqlite:///{shared}", require_schema=False)
    try:
        with caplog.at_level("WARNING", logger="scamwall.store.database"):
            store.initialise()
    finally:
        store.close()
    assert shared.stat().st_mode & 0o777 == 0o644
    assert "chmod 600" in caplog.text
    assert "mode 644" in caplog.text


def test_upgrade_keeps_data_and_guards(database_url: str) -> None:
    from alembic import command

    from scamwall.store.database import _alembic_config

    store = Store.open(database_url, require_schema=False)
    try:
        command.upgrade(_alembic_config(store.engine), "0001")
        store.add_agency("TH-CCIB", name="CCIB", country="TH", kind=AgencyKind.POLICE)
        fact = _sighting(store, "081-234-5678")
        with store.transaction() as connection:  # written as a 0001-era scamwall wrote it
            insert_ignoring_known(
                connection,
                indicators,
                ("id", "kind", "canonical", "created_at"),
                [(fact.indicator.id, "phone", fact.indicator.canonical, OBSERVED)],
            )
            insert_ignoring_known(
                connection,
                sightings,
                SIGHTING_COLUMNS[: SIGHTING_COLUMNS.index("submitted_by")],  # 0001's columns
                [
                    (
                        fact.id,
                        fact.indicator.id,
                        fact.agency.id,
                        OBSERVED,
                        OBSERVED,
                        "victim_report",
                        80,
                        "green",
                        None,
                        None,
                        None,
                    )
                ],
            )
        store.initialise()
        assert store.counts().sightings == 1
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as c:
            c.execute(text("DELETE FROM sightings"))
    finally:
        store.close()


def test_one_instant_is_one_fact_whatever_its_offset() -> None:
    agency = Agency(1, "TH-CCIB", "CCIB", "TH", AgencyKind.POLICE)
    utc = datetime(2026, 11, 1, 5, tzinfo=UTC)
    bangkok = utc.astimezone(timezone(timedelta(hours=7)))
    facts = [
        Sighting(
            indicator=parse_indicator("scam.example"),
            agency=agency,
            observed_at=moment,
            source_kind=SourceKind.POLICE_CASE,
            confidence=50,
            tlp=Tlp.GREEN,
        )
        for moment in (utc, bangkok)
    ]
    assert facts[0].id == facts[1].id
    assert facts[1].observed_at.utcoffset() == timedelta(0)
