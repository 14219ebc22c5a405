"""What is on the enforcement feeds, serial by serial.

A **publication** compares what the reputation snapshot says should be blocked with what the
feeds hold, and records the difference as a new serial (nothing changes, no new serial):

- a domain, IP address, CIDR block, phone number or SMS sender goes on when its score reaches
  ``enforcement_min_score`` and its newest report is younger than ``enforcement_entry_days``;
- it comes off when its score falls below (``score``: decay, false-positive reports), when its
  newest report that weighs anything grows older than that (``expired``; receipts do not count),
  when the allowlist protects it (``allowlisted``), or at once when an analyst accepts an appeal
  against it (``appeal``).

A value reported strongly enough but that must stay off is a **conflict**, reported by every
publication for an analyst to settle: the allowlist protects it, or an allowlisted name lies
under it (a listed parent would block it) or an allowlisted address in it; or it is a block wider
than /16 (IPv4) or /32 (IPv6), or a private or special-purpose range (``refused``).

Entries are rows with the serial that added them and the one that removed them, so the feed at
any serial, and the change between two serials, can be rebuilt exactly.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select

from scamwall.errors import InvalidInput, NotFound
from scamwall.indicators import IndicatorKind
from scamwall.reputation.allowlist import AllowEntry, Allowlist
from scamwall.reputation.snapshot import Listed, ReputationSnapshot
from scamwall.store.bulk import insert_prepared, naive_utc, stream_rows
from scamwall.store.repository import Store
from scamwall.store.schema import feed_entries, feed_serials

__all__ = [
    "FEED_KINDS",
    "FeedEntry",
    "FeedState",
    "Publication",
    "feed_state",
    "latest_serial",
    "publish",
    "remove_entries",
]

#: The kinds the feeds carry. URLs are not among them: a resolver or a firewall can only block
#: a whole name or address, and a scam page on a shared host must not take the host down.
FEED_KINDS = (
    IndicatorKind.DOMAIN,
    IndicatorKind.IP,
    IndicatorKind.CIDR,
    IndicatorKind.PHONE,
    IndicatorKind.SMS_SENDER,
)
_ENTRY_COLUMNS = ("kind", "value", "score", "added_serial", "expires_at")
#: Key of the PostgreSQL advisory lock publications take ("scamwall feeds").
_FEEDS_LOCK = 0x5CA3_F33D
#: Conflicts a publication lists by name (all are counted).
CONFLICTS_SHOWN = 100


class FeedEntry:
    """One value on the feeds. A plain class with slots: a feed holds a million, and the
    expiry is kept as read from the store until asked for."""

    __slots__ = ("_expires", "id", "kind", "score", "value")

    def __init__(
        self, id: int, kind: IndicatorKind, value: str, score: float, expires_at: object
    ) -> None:
        self.id = id
        self.kind = kind
        self.value = value
        self.score = score
        self._expires = expires_at

    @property
    def expires_at(self) -> datetime:
        """When the entry leaves the feeds unless reported again (UTC)."""
        return naive_utc(self._expires).replace(tzinfo=UTC)

    def __repr__(self) -> str:
        return f"FeedEntry({self.id}, {self.kind.value}, {self.value!r}, {self.score:.3f})"


@dataclass(frozen=True, slots=True)
class FeedState:
    """Every entry on the feeds at one serial (0: before the first publication)."""

    serial: int
    published_at: datetime | None
    entries: tuple[FeedEntry, ...]


@dataclass(slots=True)
class Publication:
    """The outcome of :func:`publish`."""

    serial: int
    changed: bool
    added: int = 0
    removed: dict[str, int] = field(default_factory=dict)
    active: int = 0
    conflicts: int = 0
    conflicts_shown: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "serial": self.serial,
            "changed": self.changed,
            "added": self.added,
            "removed": self.removed,
            "active": self.active,
            "conflicts": self.conflicts,
            "conflicts_shown": self.conflicts_shown,
        }


def latest_serial(connection: Connection) -> int:
    """The newest serial (0 before the first publication)."""
    return int(
        connection.execute(select(func.coalesce(func.max(feed_serials.c.serial), 0))).one()[0]
    )


def publish(
    store: Store,
    snapshot: ReputationSnapshot,
    *,
    min_score: float,
    entry_days: float,
    now: datetime | None = None,
) -> Publication:
    """Bring the feeds in line with ``snapshot``; a new serial if anything changed."""
    now = now or datetime.now(UTC)
    lifetime = timedelta(days=entry_days)
    naive_now = naive_utc(now)
    wanted: dict[tuple[str, str], tuple[float, datetime]] = {}
    conflicts: list[dict[str, Any]] = []
    conflict_count = 0
    guard = _Guard(snapshot.allowlist)
    refused_keys: dict[tuple[str, str], str] = {}
    for listed in snapshot.listed(FEED_KINDS, min_score):
        expires = listed.newest + lifetime
        if expires <= naive_now:
            continue
        refused = guard.refusal(listed)
        if refused is not None:
            refused_keys[(listed.kind.value, listed.canonical)] = (
                "allowlisted" if refused["allowlisted_by"] else "refused"
            )
            conflict_count += 1
            if len(conflicts) < CONFLICTS_SHOWN:
                conflicts.append(
                    {
                        "kind": listed.kind.value,
                        "value": listed.canonical,
                        "score": round(listed.score, 4),
                        **refused,
                    }
                )
            continue
        wanted[(listed.kind.value, listed.canonical)] = (listed.score, expires)

    with store.transaction() as connection:
        _lock_feeds(connection)
        serial = latest_serial(connection)
        serial_after = serial + 1
        # entries appeals took off after the snapshot read the disputes: it still counts the
        # sightings they dispute, and must not put them back. By the serial of the removal,
        # which follows the order of decisions, and by the entries removed (a parent name, a
        # covering block), not the value appealed
        overruled = {
            (row.kind, row.value)
            for row in connection.execute(
                select(feed_entries.c.kind, feed_entries.c.value).where(
                    feed_entries.c.removed_reason == "appeal",
                    feed_entries.c.removed_serial > snapshot.feed_serial_seen,
                )
            )
        }
        active = _active_rows(connection)
        removed: dict[str, list[int]] = {}
        for key, (entry_id, _) in active.items():
            if key in wanted and key not in overruled:
                continue
            reason = refused_keys.get(key) or _removal_reason(
                snapshot, key, min_score, key in overruled
            )
            removed.setdefault(reason, []).append(entry_id)
        stored_time = _stored_time(connection)
        additions = [
            (kind, value, score, serial_after, stored_time(expires))
            for (kind, value), (score, expires) in wanted.items()
            if (kind, value) not in active and (kind, value) not in overruled
        ]
        renewals = [
            {"entry": active[key][0], "expires": expires.replace(tzinfo=UTC)}
            for key, (_, expires) in wanted.items()
            if key in active and naive_utc(active[key][1]) < expires
        ]
        changed = bool(additions or removed)
        if changed:
            serial += 1
            total = len(active) + len(additions) - sum(len(ids) for ids in removed.values())
            connection.execute(
                feed_serials.insert().values(
                    serial=serial,
                    published_at=now,
                    snapshot_version=snapshot.version[:64],
                    added=len(additions),
                    removed=sum(len(ids) for ids in removed.values()),
                    active=total,
                )
            )
            for reason, ids in removed.items():
                _mark_removed(connection, ids, serial, reason)
            insert_prepared(connection, feed_entries, _ENTRY_COLUMNS, additions)
        if renewals:  # a new report keeps an entry longer; the feeds' content does not change
            connection.execute(
                feed_entries.update()
                .where(feed_entries.c.id == bindparam("entry"))
                .values(expires_at=bindparam("expires")),
                renewals,
            )
        active_now = len(active) + len(additions) - sum(len(ids) for ids in removed.values())
    return Publication(
        serial=serial,
        changed=changed,
        added=len(additions),
        removed={reason: len(ids) for reason, ids in removed.items()},
        active=active_now,
        conflicts=conflict_count,
        conflicts_shown=conflicts,
    )


#: Ranges no public block list may hold: private, loopback, link-local, shared, multicast and
#: reserved (documentation ranges are left alone: harmless, and what examples use).
_SPECIAL_RANGES = tuple(
    ipaddress.ip_network(block)
    for block in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",  # protocol assignments: NAT64 discovery, DS-Lite...
        "192.88.99.0/24",  # 6to4 relays
        "192.168.0.0/16",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/127",
        "::ffff:0:0/96",  # IPv4-mapped
        "64:ff9b::/96",  # NAT64: on an IPv6-only network, the whole IPv4 Internet
        "64:ff9b:1::/48",  # NAT64, local use
        "100::/64",  # discard-only
        "2001::/23",  # protocol assignments: Teredo, ORCHID...
        "2002::/16",  # 6to4: every host behind a 6to4 tunnel
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)
#: The widest blocks the feeds carry: a wider one would cut off a large part of the Internet.
WIDEST_BLOCK = {4: 16, 6: 32}


class _Guard:
    """Why a value scoring high enough must still stay off the feeds, if it must: the
    allowlist protects it or something under it, or it is a range no block list may hold."""

    def __init__(self, allowlist: Allowlist) -> None:
        self._allowlist = allowlist
        #: names with an allowlisted name below them, with that entry
        self._above: dict[str, AllowEntry] = {}
        self._networks: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, AllowEntry]] = []
        for entry in allowlist:
            if entry.kind is IndicatorKind.DOMAIN:
                parent = entry.value.partition(".")[2]
                while parent:
                    self._above.setdefault(parent, entry)
                    parent = parent.partition(".")[2]
            elif entry.kind in (IndicatorKind.IP, IndicatorKind.CIDR):
                self._networks.append((ipaddress.ip_network(entry.value), entry))

    def refusal(self, listed: Listed) -> dict[str, Any] | None:
        """``{"reason", "allowlisted_by"}`` when ``listed`` must stay off, else None."""
        if listed.allowlisted is not None:
            return _refused("allowlisted", listed.allowlisted)
        if listed.kind is IndicatorKind.DOMAIN:
            below = self._above.get(listed.canonical)
            return _refused(f"{below.value}, allowlisted, lies under it", below) if below else None
        if listed.kind not in (IndicatorKind.IP, IndicatorKind.CIDR):
            return None
        if "%" in listed.canonical:  # a zone id, stored before addresses refused them
            return _refused("an address with a zone id, which no feed can carry", None)
        network = ipaddress.ip_network(listed.canonical)
        if network.prefixlen < WIDEST_BLOCK[network.version]:
            return _refused(f"wider than /{WIDEST_BLOCK[network.version]}", None)
        for special in _SPECIAL_RANGES:
            if network.version == special.version and network.overlaps(special):
                return _refused(f"a private or special-purpose range ({special})", None)
        for allowed, entry in self._networks:
            if allowed.version == network.version and allowed.subnet_of(network):  # type: ignore[arg-type]
                return _refused(f"{entry.value}, allowlisted, lies in it", entry)
        return None


def _refused(reason: str, entry: AllowEntry | None) -> dict[str, Any]:
    return {"reason": reason, "allowlisted_by": entry.as_public_dict() if entry else None}


def _removal_reason(
    snapshot: ReputationSnapshot, key: tuple[str, str], min_score: float, overruled: bool
) -> str:
    if overruled:
        return "appeal"
    kind, value = IndicatorKind(key[0]), key[1]
    if snapshot.allowlist.match(kind, value) is not None:
        return "allowlisted"
    found = snapshot.lookup_value(kind, value)
    return "score" if found is None or found.score < min_score else "expired"


def _active_rows(connection: Connection) -> dict[tuple[str, str], tuple[int, object]]:
    """Entries on the feeds now: ``(kind, value) -> (id, expiry as the driver returns it)``."""
    query = select(
        feed_entries.c.id, feed_entries.c.kind, feed_entries.c.value, feed_entries.c.expires_at
    ).where(feed_entries.c.removed_serial.is_(None))
    return {
        (kind, value): (ref, expires)
        for ref, kind, value, expires in stream_rows(connection, query)
    }


def _lock_feeds(connection: Connection) -> None:
    """One publication at a time. PostgreSQL: a transaction-scoped advisory lock (a racing
    publisher waits, then sees the first one's serial). SQLite serialises writers; a racing
    publisher fails on the serial's primary key or on the one-active-entry index instead, and
    the next round publishes."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(_FEEDS_LOCK)))


def _mark_removed(connection: Connection, ids: list[int], serial: int, reason: str) -> None:
    for start in range(0, len(ids), 10_000):
        chunk = ids[start : start + 10_000]
        connection.execute(
            feed_entries.update()
            .where(feed_entries.c.id.in_(chunk), feed_entries.c.removed_serial.is_(None))
            .values(removed_serial=serial, removed_reason=reason)
        )


def remove_entries(
    store: Store,
    values: Iterable[tuple[IndicatorKind, str]],
    *,
    reason: str,
    snapshot_version: str,
    connection: Connection,
    now: datetime | None = None,
) -> int | None:
    """Take values off the feeds at once, as a new serial (an accepted appeal); the serial, or
    None when none of them was on the feeds."""
    now = now or datetime.now(UTC)
    _lock_feeds(connection)
    keys = [(kind.value, value) for kind, value in values]
    ids: list[int] = []
    for kind, value in keys:
        ids.extend(
            connection.execute(
                select(feed_entries.c.id).where(
                    feed_entries.c.kind == kind,
                    feed_entries.c.value == value,
                    feed_entries.c.removed_serial.is_(None),
                )
            ).scalars()
        )
    if not ids:
        return None
    serial = latest_serial(connection) + 1
    active = connection.execute(
        select(func.count())
        .select_from(feed_entries)
        .where(feed_entries.c.removed_serial.is_(None))
    ).scalar_one()
    connection.execute(
        feed_serials.insert().values(
            serial=serial,
            published_at=now,
            snapshot_version=snapshot_version[:64],
            added=0,
            removed=len(ids),
            active=int(active) - len(ids),
        )
    )
    _mark_removed(connection, ids, serial, reason)
    return serial


def _entries_at(connection: Connection, serial: int, kinds: Iterable[str]) -> list[FeedEntry]:
    table = feed_entries
    query = (
        select(table.c.id, table.c.kind, table.c.value, table.c.score, table.c.expires_at)
        .where(
            table.c.kind.in_(list(kinds)),
            table.c.added_serial <= serial,
            or_(table.c.removed_serial.is_(None), table.c.removed_serial > serial),
        )
        .order_by(table.c.kind, table.c.value)
    )
    kinds = {kind.value: kind for kind in IndicatorKind}
    return [
        FeedEntry(ref, kinds[kind], value, score, expires)
        for ref, kind, value, score, expires in stream_rows(connection, query)
    ]


def _stored_time(connection: Connection) -> Callable[[datetime], object]:
    """How a naive UTC time goes to the driver as ``UTCDateTime`` stores it: SQLite keeps naive
    ISO text (written here directly: SQLAlchemy's conversion costs seconds over a million)."""
    if connection.dialect.name == "sqlite":
        return lambda moment: moment.isoformat(sep=" ", timespec="microseconds")
    return lambda moment: moment.replace(tzinfo=UTC)


def _check_serial(connection: Connection, serial: int | None) -> tuple[int, datetime | None]:
    """``serial`` (the newest when None) and when it was published: a negative number is no
    serial at all (:class:`InvalidInput`), one not published yet is not found (:class:`NotFound`,
    as an unknown appeal is)."""
    newest = latest_serial(connection)
    if serial is None:
        serial = newest
    if serial < 0:
        raise InvalidInput(
            f"serial {serial} is not a serial: serials are whole numbers from 0", field="serial"
        )
    if serial > newest:
        raise NotFound(
            f"no serial {serial}: the feeds are at serial {newest}", serial=serial, latest=newest
        )
    published = connection.execute(
        select(feed_serials.c.published_at).where(feed_serials.c.serial == serial)
    ).scalar_one_or_none()
    return serial, published


def feed_state(
    store: Store, kinds: Iterable[IndicatorKind] = FEED_KINDS, *, serial: int | None = None
) -> FeedState:
    """The entries of ``kinds`` on the feeds at ``serial`` (the newest by default), by kind
    and value."""
    names = [kind.value for kind in kinds]
    with store.transaction() as connection:
        serial, published = _check_serial(connection, serial)
        return FeedState(serial, published, tuple(_entries_at(connection, serial, names)))
