"""Appeals: anyone may ask for an entry to come off the feeds; an analyst decides.

An appeal names a value (``pay.scam.example`` finds the entry ``scam.example`` that blocks it)
and gives evidence; a contact is optional and erased once the appeal is decided (it is only
there to tell the result). An **accepted** appeal, in one transaction:

- takes the entry off every feed at once, as a new serial (reason ``appeal``);
- marks every sighting of the value made until then as **disputed**: they no longer count
  towards its score, so the next publication does not put it back. A report made after the
  decision counts again (new evidence, new judgement).

A rejected appeal changes nothing but its own record. Both are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from scamwall.enforcement.feeds import FEED_KINDS, remove_entries
from scamwall.errors import InvalidInput, NotFound, UsageError
from scamwall.exchange.policy import Caller
from scamwall.indicators import IndicatorKind, parse_indicator
from scamwall.reputation.matching import NetworkIndex
from scamwall.store.audit import AuditLog
from scamwall.store.repository import Store
from scamwall.store.schema import appeals, disputed_sightings, feed_entries, indicators, sightings
from scamwall.validation import clean_text

__all__ = ["Appeal", "decide_appeal", "get_appeal", "list_appeals", "submit_appeal"]

STATUSES = ("pending", "accepted", "rejected")


@dataclass(frozen=True, slots=True)
class Appeal:
    """One appeal and its decision."""

    id: int
    kind: IndicatorKind
    value: str
    evidence: str
    status: str
    submitted_at: datetime
    submitted_by: str
    has_contact: bool
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_note: str | None = None
    #: the serial that took the entry off the feeds (accepted appeals, on the decision only)
    removed_at_serial: int | None = None

    def as_public_dict(self) -> dict[str, Any]:
        """What the appellant (anyone holding the id) may read: no evidence, no names."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "value": self.value,
            "status": self.status,
            "submitted_at": self.submitted_at.isoformat(),
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
        }

    def as_dict(self) -> dict[str, Any]:
        """Everything, for the analysts who decide."""
        return {
            **self.as_public_dict(),
            "evidence": self.evidence,
            "submitted_by": self.submitted_by,
            "has_contact": self.has_contact,
            "decided_by": self.decided_by,
            "decision_note": self.decision_note,
            "removed_at_serial": self.removed_at_serial,
        }


def _covering_entry(
    connection: Connection, kind: IndicatorKind, value: str
) -> tuple[IndicatorKind, str] | None:
    """The active feed entry that blocks ``value``: itself, a parent domain, or a block
    holding the address."""
    table = feed_entries
    active = table.c.removed_serial.is_(None)
    if kind is IndicatorKind.DOMAIN:
        labels = value.split(".")
        parents = [".".join(labels[i:]) for i in range(len(labels) - 1)]
        rows = connection.execute(
            select(table.c.value).where(
                active, table.c.kind == kind.value, table.c.value.in_(parents)
            )
        ).scalars()
        found = sorted(rows, key=len)
        return (kind, found[0]) if found else None
    if kind in (IndicatorKind.IP, IndicatorKind.CIDR):
        networks = connection.execute(
            select(table.c.kind, table.c.value).where(
                active, table.c.kind.in_([IndicatorKind.IP.value, IndicatorKind.CIDR.value])
            )
        ).all()
        index: NetworkIndex[str] = NetworkIndex((row.value, row.kind) for row in networks)
        widest = index.widest(value)
        return (IndicatorKind(widest[1]), widest[0]) if widest else None
    row = connection.execute(
        select(table.c.value).where(active, table.c.kind == kind.value, table.c.value == value)
    ).first()
    return (kind, value) if row else None


def submit_appeal(
    store: Store,
    value: str,
    *,
    evidence: str,
    caller: Caller,
    contact: str | None = None,
    kind: str | IndicatorKind | None = None,
    region: str | None = None,
    origin: str | None = None,
) -> Appeal:
    """Record an appeal against the feed entry that blocks ``value``."""
    indicator = parse_indicator(value, kind, region)
    if indicator.kind not in FEED_KINDS and indicator.kind is not IndicatorKind.URL:
        raise InvalidInput(
            f"{indicator.kind.value} values are not on the block lists; appeal a domain, an "
            "address or a number",
            field="value",
        )
    why = clean_text(evidence, field="evidence", max_length=5000)
    if len(why) < 10:
        raise InvalidInput(
            "say why the entry is wrong (at least 10 characters of evidence)", field="evidence"
        )
    reach = clean_text(contact, field="contact", max_length=200) if contact else None
    target_kind, target = indicator.kind, indicator.canonical
    if target_kind is IndicatorKind.URL:  # a page is blocked by its host's entry
        target_kind, target = IndicatorKind.DOMAIN, target.split("/")[2].split(":")[0]
    now = datetime.now(UTC)
    with store.transaction() as connection:
        entry = _covering_entry(connection, target_kind, target)
        if entry is None:
            raise NotFound(
                f"{indicator.canonical} is on no block list now; nothing to appeal",
                value=indicator.canonical,
            )
        appeal_id = connection.execute(
            insert(appeals)
            .values(
                kind=entry[0].value,
                value=entry[1],
                evidence=why,
                contact=reach or None,
                submitted_at=now,
                submitted_by=caller.name,
                status="pending",
            )
            .returning(appeals.c.id)
        ).scalar_one()
        AuditLog(store).record(
            caller,
            "appeal.submit",
            target=f"appeal:{appeal_id}",
            detail={"kind": entry[0].value, "value": entry[1]},
            origin=origin,
            connection=connection,
        )
    return Appeal(appeal_id, entry[0], entry[1], why, "pending", now, caller.name, bool(reach))


def _appeal_from_row(row: Any) -> Appeal:
    return Appeal(
        id=row.id,
        kind=IndicatorKind(row.kind),
        value=row.value,
        evidence=row.evidence,
        status=row.status,
        submitted_at=row.submitted_at,
        submitted_by=row.submitted_by,
        has_contact=row.contact is not None,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        decision_note=row.decision_note,
    )


def get_appeal(store: Store, appeal_id: int) -> Appeal:
    """One appeal by id."""
    with store.reading() as connection:
        row = connection.execute(select(appeals).where(appeals.c.id == appeal_id)).first()
    if row is None:
        raise NotFound(f"no appeal {appeal_id}", appeal=appeal_id)
    return _appeal_from_row(row)


def list_appeals(store: Store, *, status: str | None = None, limit: int = 100) -> list[Appeal]:
    """Appeals, oldest first (pending ones are what analysts work through)."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    query = select(appeals).order_by(appeals.c.id).limit(limit)
    if status is not None:
        query = query.where(appeals.c.status == status)
    with store.reading() as connection:
        return [_appeal_from_row(row) for row in connection.execute(query)]


def decide_appeal(
    store: Store,
    appeal_id: int,
    *,
    accept: bool,
    note: str,
    caller: Caller,
    snapshot_version: str = "appeal",
) -> Appeal:
    """Accept or reject a pending appeal (see the module docstring); audited."""
    why = clean_text(note, field="note", max_length=2000)
    if not why:
        raise InvalidInput("say why the appeal is accepted or rejected", field="note")
    now = datetime.now(UTC)
    status = "accepted" if accept else "rejected"
    with store.transaction() as connection:
        row = connection.execute(select(appeals).where(appeals.c.id == appeal_id)).first()
        if row is None:
            raise NotFound(f"no appeal {appeal_id}", appeal=appeal_id)
        if row.status != "pending":
            raise UsageError(f"appeal {appeal_id} was already {row.status}", appeal=appeal_id)
        kind = IndicatorKind(row.kind)
        serial = None
        disputed = 0
        if accept:
            disputed = _dispute_sightings(connection, kind, row.value, appeal_id, now)
            serial = remove_entries(
                store,
                [(kind, row.value)],
                reason="appeal",
                snapshot_version=snapshot_version,
                connection=connection,
                now=now,
            )
        connection.execute(
            appeals.update()
            .where(appeals.c.id == appeal_id)
            .values(
                status=status,
                decided_at=now,
                decided_by=caller.name,
                decision_note=why,
                contact=None,
            )
        )
        AuditLog(store).record(
            caller,
            f"appeal.{status}",
            target=f"appeal:{appeal_id}",
            detail={"value": row.value, "disputed_sightings": disputed, "serial": serial},
            connection=connection,
        )
    decided = _appeal_from_row(row)
    return Appeal(
        decided.id,
        decided.kind,
        decided.value,
        decided.evidence,
        status,
        decided.submitted_at,
        decided.submitted_by,
        False,
        now,
        caller.name,
        why,
        serial,
    )


def _dispute_sightings(
    connection: Connection, kind: IndicatorKind, value: str, appeal_id: int, now: datetime
) -> int:
    """Mark the value's sightings made until ``now`` as disputed; how many were newly marked."""
    found = [
        str(ref)
        for ref in connection.execute(
            select(sightings.c.id)
            .join(indicators, indicators.c.id == sightings.c.indicator_id)
            .where(
                indicators.c.kind == kind.value,
                indicators.c.canonical == value,
                sightings.c.observed_at <= now,
            )
        ).scalars()
    ]
    known = {
        str(ref)
        for start in range(0, len(found), 1000)
        for ref in connection.execute(
            select(disputed_sightings.c.sighting_id).where(
                disputed_sightings.c.sighting_id.in_(found[start : start + 1000])
            )
        ).scalars()
    }
    rows = [
        {"sighting_id": ref, "appeal_id": appeal_id, "disputed_at": now}
        for ref in found
        if ref not in known
    ]
    if rows:
        connection.execute(disputed_sightings.insert(), rows)
    return len(rows)
