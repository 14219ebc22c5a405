"""Appeals: anyone may ask for an entry to come off the feeds; an analyst decides.

An appeal names a value (a domain, an address, a number, or a URL for its host) and gives
evidence; it is refused when no entry blocks the value (``pay.scam.example`` is blocked by the
entry ``scam.example``, ``198.51.100.7`` by ``198.51.100.0/24``). A contact is optional and is
erased once the appeal is decided (it is only there to tell the result). An **accepted** appeal,
in one transaction:

- takes every entry blocking the value off every feed at once, as a new serial (reason
  ``appeal``);
- marks every sighting of those entries' values stored until then as **disputed**, whatever
  time it says it was observed: they no longer count towards a score, so the next publication
  does not put them back. A report stored after the decision counts again (new evidence, new
  judgement). Where the entries left the feeds after the appeal came (expired, or their score
  fell), the sightings of the entries that blocked the value and left since are disputed all
  the same; entries gone before the appeal came are not what it was about.

A rejected appeal changes nothing but its own record. Both are audited; of two analysts deciding
the same appeal at once, one wins and the other is told.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, tuple_

from scamwall.enforcement.feeds import FEED_KINDS, remove_entries
from scamwall.errors import InvalidInput, NotFound, UsageError
from scamwall.exchange.policy import Caller
from scamwall.indicators import Indicator, IndicatorKind, parse_indicator
from scamwall.indicators.network import is_ip_host, url_host
from scamwall.store.audit import AuditLog
from scamwall.store.repository import Store
from scamwall.store.schema import (
    appeals,
    disputed_sightings,
    feed_entries,
    feed_serials,
    indicators,
    sightings,
)
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
    #: the serial that took the entries off the feeds (accepted appeals, on the decision only)
    removed_at_serial: int | None = None
    #: the feed entries blocking the value: those accepting would take off (pending), or
    #: took off (accepted, on the decision)
    entries: tuple[str, ...] = ()

    def as_public_dict(self) -> dict[str, Any]:
        """What anyone holding the id may read: its status, not what it is about (ids are
        sequential: the values appealed stay with the analysts)."""
        return {
            "id": self.id,
            "status": self.status,
            "submitted_at": self.submitted_at.isoformat(),
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
        }

    def as_dict(self) -> dict[str, Any]:
        """Everything, for the analysts who decide."""
        return {
            **self.as_public_dict(),
            "kind": self.kind.value,
            "value": self.value,
            "evidence": self.evidence,
            "submitted_by": self.submitted_by,
            "has_contact": self.has_contact,
            "decided_by": self.decided_by,
            "decision_note": self.decision_note,
            "removed_at_serial": self.removed_at_serial,
            "entries": list(self.entries),
        }


def _covering_values(kind: IndicatorKind, value: str) -> list[tuple[str, str]]:
    """Every ``(kind, value)`` an entry blocking ``value`` could have: the name and its parents;
    the address and every block holding it (one per prefix length)."""
    if kind is IndicatorKind.DOMAIN:
        labels = value.split(".")
        return [(kind.value, ".".join(labels[i:])) for i in range(len(labels) - 1)]
    if kind in (IndicatorKind.IP, IndicatorKind.CIDR):
        network = ipaddress.ip_network(value)
        found = (
            [(IndicatorKind.IP.value, str(network.network_address))]
            if (network.prefixlen == network.max_prefixlen)
            else []
        )
        for length in range(network.prefixlen, -1, -1):
            found.append((IndicatorKind.CIDR.value, str(network.supernet(new_prefix=length))))
        return found
    return [(kind.value, value)]


def _covering_entries(
    connection: Connection,
    kind: IndicatorKind,
    value: str,
    *,
    removed_since: datetime | None = None,
) -> list[tuple[IndicatorKind, str]]:
    """The active feed entries that block ``value`` (a few indexed look-ups, never a scan);
    with ``removed_since``, instead the entries that blocked it and left the feeds since then
    (by a serial published from that moment on)."""
    candidates = _covering_values(kind, value)
    table = feed_entries
    query = select(table.c.kind, table.c.value).where(
        tuple_(table.c.kind, table.c.value).in_(candidates)
    )
    if removed_since is None:
        query = query.where(table.c.removed_serial.is_(None))
    else:
        query = query.join(feed_serials, feed_serials.c.serial == table.c.removed_serial).where(
            feed_serials.c.published_at >= removed_since
        )
    found = connection.execute(query.distinct()).all()
    return sorted((IndicatorKind(row.kind), row.value) for row in found)


def _appealed(value: str, kind: str | IndicatorKind | None, region: str | None) -> Indicator:
    """What an appeal is about: a domain, an address or a number (a URL by its host)."""
    indicator = parse_indicator(value, kind, region)
    if indicator.kind is IndicatorKind.URL:
        host = url_host(indicator.canonical)
        return parse_indicator(host, IndicatorKind.IP if is_ip_host(host) else IndicatorKind.DOMAIN)
    if indicator.kind not in FEED_KINDS:
        raise InvalidInput(
            f"{indicator.kind.value} values are not on the block lists; appeal a domain, an "
            "address or a number",
            field="value",
        )
    return indicator


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
    indicator = _appealed(value, kind, region)
    why = clean_text(evidence, field="evidence", max_length=5000)
    if len(why) < 10:
        raise InvalidInput(
            "say why the entry is wrong (at least 10 characters of evidence)", field="evidence"
        )
    reach = clean_text(contact, field="contact", max_length=200) if contact else None
    now = datetime.now(UTC)
    with store.transaction() as connection:
        entries = _covering_entries(connection, indicator.kind, indicator.canonical)
        if not entries:
            raise NotFound(
                f"{indicator.canonical} is on no block list now; nothing to appeal",
                value=indicator.canonical,
            )
        appeal_id = connection.execute(
            insert(appeals)
            .values(
                kind=indicator.kind.value,
                value=indicator.canonical,
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
            detail={"kind": indicator.kind.value, "value": indicator.canonical},
            origin=origin,
            connection=connection,
        )
    return Appeal(
        appeal_id,
        indicator.kind,
        indicator.canonical,
        why,
        "pending",
        now,
        caller.name,
        bool(reach),
        entries=tuple(value for _, value in entries),
    )


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
    """One appeal by id (a pending one with the entries accepting it would take off)."""
    with store.reading() as connection:
        row = connection.execute(select(appeals).where(appeals.c.id == appeal_id)).first()
        if row is None:
            raise NotFound(f"no appeal {appeal_id}", appeal=appeal_id)
        return _with_entries(connection, _appeal_from_row(row))


def _with_entries(connection: Connection, appeal: Appeal) -> Appeal:
    """A pending appeal with the entries blocking its value now (what accepting it would take
    off); a decided one as it is."""
    if appeal.status != "pending":
        return appeal
    entries = _covering_entries(connection, appeal.kind, appeal.value)
    return replace(appeal, entries=tuple(value for _, value in entries))


def list_appeals(store: Store, *, status: str | None = None, limit: int = 100) -> list[Appeal]:
    """Appeals, oldest first (pending ones are what analysts work through). A pending appeal
    names the feed entries blocking its value now: what accepting it would take off (a whole
    domain for an appeal about a name under it, a block for an address in it)."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    query = select(appeals).order_by(appeals.c.id).limit(limit)
    if status is not None:
        query = query.where(appeals.c.status == status)
    with store.reading() as connection:
        rows = connection.execute(query).all()
        return [_with_entries(connection, _appeal_from_row(row)) for row in rows]


def decide_appeal(
    store: Store,
    appeal_id: int,
    *,
    accept: bool,
    note: str,
    caller: Caller,
    snapshot_version: str = "appeal",
    origin: str | None = None,
) -> Appeal:
    """Accept or reject a pending appeal (see the module docstring); audited."""
    if not 1 <= appeal_id <= 2**31 - 1:  # past the column's range: none such, on any backend
        raise NotFound(f"no appeal {appeal_id}")
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
        entries = _covering_entries(connection, kind, row.value) if accept else []
        if accept:
            # an entry off the feeds since the appeal came (expired, or its score fell) would
            # come back with its next report but one: its sightings are disputed all the same
            judged = entries or _covering_entries(
                connection, kind, row.value, removed_since=row.submitted_at
            )
            for entry_kind, entry_value in judged:
                disputed += _dispute_sightings(connection, entry_kind, entry_value, appeal_id, now)
            serial = remove_entries(
                store,
                entries,
                reason="appeal",
                snapshot_version=snapshot_version,
                connection=connection,
                now=now,
            )
        decided_row = connection.execute(
            appeals.update()
            .where(appeals.c.id == appeal_id, appeals.c.status == "pending")
            .values(
                status=status,
                decided_at=now,
                decided_by=caller.name,
                decision_note=why,
                contact=None,
            )
        )
        if decided_row.rowcount != 1:  # decided meanwhile by someone else: this one loses
            raise UsageError(f"appeal {appeal_id} was decided meanwhile", appeal=appeal_id)
        AuditLog(store).record(
            caller,
            f"appeal.{status}",
            target=f"appeal:{appeal_id}",
            detail={
                "value": row.value,
                "entries": [value for _, value in entries],
                "disputed_sightings": disputed,
                "serial": serial,
            },
            origin=origin,
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
        tuple(value for _, value in entries),
    )


def _dispute_sightings(
    connection: Connection, kind: IndicatorKind, value: str, appeal_id: int, now: datetime
) -> int:
    """Mark every sighting of the value stored so far as disputed, whenever it says it was
    observed (a report dated a little ahead, within the clock skew intake allows, is one the
    analyst judged too); how many were newly marked."""
    found = [
        str(ref)
        for ref in connection.execute(
            select(sightings.c.id)
            .join(indicators, indicators.c.id == sightings.c.indicator_id)
            .where(indicators.c.kind == kind.value, indicators.c.canonical == value)
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
