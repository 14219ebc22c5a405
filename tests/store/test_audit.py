"""The audit trail: every kind of write is on record, and tampering is found and located."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from scamwall.exchange.policy import Caller, Role
from scamwall.store import Store
from scamwall.store.audit import AuditLog
from scamwall.vocabulary import AgencyKind


@pytest.fixture
def log(store: Store) -> AuditLog:
    audit = AuditLog(store)
    operator = Caller("cli:test", Role.ADMIN)
    for i in range(5):
        audit.record(operator, "agency_add", target=f"agency:A{i}", origin="cli")
    return audit


def _unguard(store: Store) -> None:
    """What a tamperer with database rights would do first: drop the append-only triggers."""
    with store.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_log_append_only_update"))
            connection.execute(text("DROP TRIGGER audit_log_append_only_delete"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))


def test_intact_chain_verifies(log: AuditLog) -> None:
    assert log.verify() == []
    entries = log.entries()
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]


def test_the_database_refuses_to_edit_the_log(store: Store, log: AuditLog) -> None:
    with pytest.raises(Exception, match="append-only"), store.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'someone else'"))


def test_an_edited_entry_is_found(store: Store, log: AuditLog) -> None:
    _unguard(store)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET target = 'agency:X' WHERE seq = 3"))
    problems = log.verify()
    assert [(p.seq, "edited" in p.problem) for p in problems] == [(3, True)]


def test_a_deleted_entry_is_found(store: Store, log: AuditLog) -> None:
    _unguard(store)
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    problems = log.verify()
    assert [(p.seq, "missing" in p.problem) for p in problems] == [(3, True)]


def test_a_cut_tail_is_found_against_an_anchor(store: Store, log: AuditLog) -> None:
    anchor = log.head()
    _unguard(store)
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq >= 4"))
    assert log.verify() == []  # the chain alone cannot tell
    assert [p.seq for p in log.verify(anchor=anchor)] == [anchor[0]]


def test_writes_through_the_store_are_audited(store: Store) -> None:
    from scamwall.store.access import Access

    store.add_agency("TH-CCIB", name="x", country="TH", kind=AgencyKind.POLICE)
    issued = Access(store).issue_token_for(agency_code="TH-CCIB", role=Role.ANALYST)
    caller = Access(store).authenticate(issued.secret)
    from scamwall.intake.submit import submit_sightings

    submit_sightings(store, caller, [{"value": "081-234-5678"}], max_batch=10, origin="test")
    entry = AuditLog(store).entries()[-1]
    assert (entry.action, entry.actor, entry.agency) == ("submit_sightings", caller.name, "TH-CCIB")
    assert entry.detail is not None
    assert entry.detail["accepted"] == 1


def test_concurrent_appenders_keep_one_chain(store: Store) -> None:
    """Writers in parallel (threads here, processes in production) never fork the chain."""
    from concurrent.futures import ThreadPoolExecutor

    audit = AuditLog(store)
    operator = Caller("cli:test", Role.ADMIN)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: audit.record(operator, "read", target=str(i)), range(40)))
    entries = audit.entries()
    assert len(entries) == 40
    assert audit.verify() == []


def test_a_second_successor_of_an_entry_is_refused(store: Store, log: AuditLog) -> None:
    """The schema itself allows one successor per entry (what a racing writer would add)."""
    from datetime import UTC, datetime

    from sqlalchemy.exc import IntegrityError

    from scamwall.store.schema import audit_log

    first = log.entries()[0]
    with pytest.raises(IntegrityError), store.engine.begin() as connection:
        connection.execute(
            audit_log.insert().values(
                at=datetime.now(UTC),
                actor="x",
                action="read",
                prev_hash=first.prev_hash,
                hash="f" * 64,
            )
        )


def test_postgresql_refuses_truncate(store: Store, log: AuditLog) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is a PostgreSQL statement")
    for table in ("audit_log", "sightings"):
        with pytest.raises(Exception, match="append-only"), store.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {table} CASCADE"))
    assert len(log.entries()) == 5


def test_an_append_inside_a_write_does_not_wait_for_a_standalone_one(store: Store) -> None:
    """A transaction that already writes appends its entry while another thread appends alone:
    neither waits for the other's lock (this once stalled SQLite for its busy timeout)."""
    import threading
    import time

    audit = AuditLog(store)
    operator = Caller("cli:test", Role.ADMIN)
    started = time.monotonic()
    with store.transaction() as connection:
        audit.record(operator, "write", connection=connection)
        other = threading.Thread(target=lambda: audit.record(operator, "standalone"))
        other.start()
        time.sleep(0.2)
        audit.record(operator, "write-2", connection=connection)
    other.join(timeout=15)
    assert not other.is_alive()
    assert time.monotonic() - started < 5
    assert audit.verify() == []
    assert len(audit.entries()) == 3
