"""The audit trail: append-only, hash-chained, verifiable.

Each entry records who did what, when and from where, and carries the hash of the entry before
it; its own hash covers its content and that link. Editing an entry breaks its hash; deleting one
breaks the next entry's link; the database also refuses ``UPDATE`` and ``DELETE`` on the table.
What a chain alone cannot show is the loss of its newest entries: for that, record the head
(``scamwall audit head``) somewhere else and give it to ``scamwall audit verify --anchor``.

Entries are written for every write, every share or export, every read of AMBER or RED data, and
every refused token.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from scamwall.exchange.policy import Caller
from scamwall.store.repository import Store
from scamwall.store.schema import audit_log

__all__ = ["GENESIS", "AuditEntry", "AuditLog", "AuditProblem"]

GENESIS = "0" * 64
_RETRIES = 20
_HEAD = select(audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit trail."""

    seq: int
    at: datetime
    actor: str
    agency: str | None
    action: str
    target: str | None
    detail: dict[str, Any] | None
    origin: str | None
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """Where the chain is broken, and how."""

    seq: int
    problem: str


def _entry_hash(  # noqa: PLR0917 - the hashed fields, in their fixed order
    prev_hash: str,
    at: datetime,
    actor: str,
    agency: str | None,
    action: str,
    target: str | None,
    detail_json: str | None,
    origin: str | None,
) -> str:
    body = json.dumps(
        [
            prev_hash,
            at.astimezone(UTC).isoformat(),
            actor,
            agency,
            action,
            target,
            detail_json,
            origin,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class AuditLog:
    """Appending to and verifying the audit trail in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(
        self,
        caller: Caller | None,
        action: str,
        *,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
        origin: str | None = None,
        connection: Connection | None = None,
    ) -> str:
        """Append an entry and return its hash.

        With ``connection``, the entry joins that transaction (it commits or rolls back with the
        write it records). Without, it commits on its own, retrying when another process took the
        head first: the unique link (``prev_hash``) lets only one successor per entry in.
        """
        if connection is not None:
            return self._append(
                connection, caller, action, target=target, detail=detail, origin=origin
            )
        for attempt in range(_RETRIES):
            try:
                with self.store.transaction() as own:
                    return self._append(
                        own, caller, action, target=target, detail=detail, origin=origin
                    )
            except (IntegrityError, OperationalError):
                if attempt == _RETRIES - 1:
                    raise
                time.sleep(0.002 * (attempt + 1))
        raise AssertionError("unreachable")

    def _append(
        self,
        connection: Connection,
        caller: Caller | None,
        action: str,
        *,
        target: str | None,
        detail: dict[str, Any] | None,
        origin: str | None,
    ) -> str:
        actor = caller.name if caller is not None else "system"
        agency = caller.agency_code if caller is not None else None
        detail_json = json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None
        at = datetime.now(UTC)
        # No lock of our own is held across the write (it would deadlock with SQLite's write
        # lock): PostgreSQL serialises appenders with an advisory lock, SQLite with its single
        # writer, and the unique link refuses whichever racer lost (a standalone append retries).
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7202611300)")
        prev = connection.execute(_HEAD).scalar() or GENESIS
        digest = _entry_hash(prev, at, actor, agency, action, target, detail_json, origin)
        connection.execute(
            insert(audit_log).values(
                at=at,
                actor=actor,
                agency=agency,
                action=action,
                target=target,
                detail=detail_json,
                origin=origin,
                prev_hash=prev,
                hash=digest,
            )
        )
        return digest

    def entries(self, *, after_seq: int = 0, limit: int | None = None) -> list[AuditEntry]:
        """Entries in order, from after ``after_seq``."""
        query = select(audit_log).where(audit_log.c.seq > after_seq).order_by(audit_log.c.seq)
        if limit is not None:
            query = query.limit(limit)
        with self.store.reading() as connection:
            rows = connection.execute(query).all()
        return [
            AuditEntry(
                r.seq,
                r.at,
                r.actor,
                r.agency,
                r.action,
                r.target,
                json.loads(r.detail) if r.detail else None,
                r.origin,
                r.prev_hash,
                r.hash,
            )
            for r in rows
        ]

    def head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the newest entry, ``(0, GENESIS)`` when empty."""
        with self.store.reading() as connection:
            row = connection.execute(
                select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
            ).first()
        return (row.seq, row.hash) if row is not None else (0, GENESIS)

    def verify(self, *, anchor: tuple[int, str] | None = None) -> list[AuditProblem]:
        """Every break in the chain: edited entries, deleted entries, a lost head."""
        problems: list[AuditProblem] = []
        expected_prev = GENESIS
        seen: dict[int, str] = {}
        query = select(audit_log).order_by(audit_log.c.seq)
        with self.store.reading() as connection:
            for row in connection.execute(query):
                recomputed = _entry_hash(
                    row.prev_hash,
                    row.at,
                    row.actor,
                    row.agency,
                    row.action,
                    row.target,
                    row.detail,
                    row.origin,
                )
                if recomputed != row.hash:
                    problems.append(
                        AuditProblem(
                            row.seq, "entry was edited: its hash no longer matches its content"
                        )
                    )
                if row.prev_hash != expected_prev:
                    problems.append(
                        AuditProblem(
                            row.seq,
                            "entry before it is missing or was altered: the chain link "
                            "does not match",
                        )
                    )
                expected_prev = row.hash
                seen[row.seq] = row.hash
        if anchor is not None:
            seq, digest = anchor
            if seq not in seen:
                problems.append(AuditProblem(seq, "anchored entry is gone: the log was cut"))
            elif seen[seq] != digest:
                problems.append(AuditProblem(seq, "anchored entry differs from the anchor"))
        return problems
