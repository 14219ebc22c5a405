"""Values that must never be blocked, whatever was reported: allowlists always win.

Three sources, all loaded into one :class:`Allowlist`:

- ``shipped:official`` — government suffixes, central and commercial banks, payment services,
  anti-fraud hotlines of the region (``data/official.tsv``, curated by the project: a starting
  point each operator checks and extends);
- ``shipped:top_sites`` — the most visited sites (``data/top_sites.txt``, names only, rebuilt by
  ``scripts/make_allowlist.py`` from the Tranco list in the shared data);
- ``operator`` — what this instance's operators add (``scamwall allow add``), kept in the store;
  a removal is recorded, never deleted.

Matching: a domain entry covers the subdomains its owner runs, not those it hands out. A public
suffix of the ICANN part of the list covers everything below it (``go.th``: every Thai
government site); a name covers its subdomains down to the next boundary of the public suffix
list's private part, where a platform gives names to its users (``amazonaws.com`` does not
cover ``evil.s3.amazonaws.com``, a customer's bucket; an entry ``github.io`` covers no user's
site). A platform that gives its users the label right below its name without being in that
list (``data/user_hosted.txt``: ``wordpress.com``, ``sharepoint.com``…) covers itself, its
``www`` and the labels it runs itself as the file lists them (``files.wordpress.com``), not its
users' (``kbank-secure.wordpress.com``). An IP entry covers the address, a CIDR entry every
address in it; other kinds match exactly. A URL is *not* allowlisted by its host: a scam page on
a shared host (``sites.google.com/...``) is judged by its own reports, while the host itself can
never be blocked.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources

from sqlalchemy import select

from scamwall.errors import InvalidIndicator, InvalidInput, NotFound
from scamwall.exchange.policy import Caller
from scamwall.indicators import Indicator, IndicatorKind
from scamwall.indicators.network import has_known_suffix, registered_domain
from scamwall.indicators.parse import parse_indicator, parse_kind
from scamwall.store.audit import AuditLog
from scamwall.store.repository import Store
from scamwall.store.schema import allowlist_entries
from scamwall.validation import clean_text

__all__ = [
    "AllowEntry",
    "Allowlist",
    "add_allowlist_entry",
    "allowlist_value",
    "load_allowlist",
    "operator_entries",
    "remove_allowlist_entry",
    "shipped_entries",
]


@dataclass(frozen=True, slots=True)
class AllowEntry:
    """One allowlisted value and why."""

    kind: IndicatorKind
    value: str
    reason: str
    source: str

    @property
    def public_reason(self) -> str:
        """The reason as anyone may read it: the shipped lists' own, or for the operator's
        entries only that they are the operator's (their notes stay with the operator)."""
        return self.reason if self.source.startswith("shipped:") else "on this instance's list"

    def as_public_dict(self) -> dict[str, str]:
        """Like :meth:`as_dict` with :attr:`public_reason`."""
        return {**self.as_dict(), "reason": self.public_reason}

    def as_dict(self) -> dict[str, str]:
        """``{"kind", "value", "reason", "source"}``."""
        return {
            "kind": self.kind.value,
            "value": self.value,
            "reason": self.reason,
            "source": self.source,
        }


def allowlist_value(value: str, kind: str | IndicatorKind | None = None) -> Indicator:
    """The canonical form of a value to allowlist. Unlike a sighting, a domain entry may be a
    public suffix itself (``go.th``, ``gov.cn``): that allowlists everything below it."""
    wanted = parse_kind(kind) if kind is not None else None
    try:
        return parse_indicator(value, wanted)
    except InvalidIndicator:
        name = value.strip().rstrip(".").lower()
        if wanted in (None, IndicatorKind.DOMAIN) and "." in name and has_known_suffix(name):
            labels = name.split(".")
            if all(label.isascii() and label.replace("-", "").isalnum() for label in labels):
                return Indicator(IndicatorKind.DOMAIN, name)
        raise


class Allowlist:
    """An immutable set of allowlisted values with the matching rules of the module."""

    def __init__(self, entries: Iterable[AllowEntry]) -> None:
        self._exact: dict[tuple[IndicatorKind, str], AllowEntry] = {}
        self._domains: dict[str, AllowEntry] = {}
        user_hosted = _user_hosted()
        #: how far below itself each domain entry reaches (:meth:`_covers`)
        self._reach: dict[str, str] = {}
        self._networks: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, AllowEntry]] = []
        for entry in entries:
            self._exact.setdefault((entry.kind, entry.value), entry)
            if entry.kind is IndicatorKind.DOMAIN:
                self._domains.setdefault(entry.value, entry)
                if entry.value in user_hosted:
                    self._reach[entry.value] = "own labels"
                elif registered_domain(entry.value, icann_only=True) is None:  # go.th
                    self._reach[entry.value] = "all"
                else:  # a name, or a platform's suffix of the private part (github.io)
                    self._reach[entry.value] = "owner"
            if entry.kind is IndicatorKind.CIDR:
                self._networks.append((ipaddress.ip_network(entry.value), entry))

    def __len__(self) -> int:
        return len(self._exact)

    def __iter__(self) -> Iterator[AllowEntry]:
        return iter(self._exact.values())

    def match(self, kind: IndicatorKind, value: str) -> AllowEntry | None:
        """The entry that protects this canonical value, if any."""
        if kind is IndicatorKind.DOMAIN:
            return self.match_domain(value)
        found = self._exact.get((kind, value))
        if found is not None or kind not in (IndicatorKind.IP, IndicatorKind.CIDR):
            return found
        return self._match_network(value)

    def match_domain(self, name: str) -> AllowEntry | None:
        """The entry protecting a domain name: its own, or a parent's that reaches it."""
        domains = self._domains
        found = domains.get(name)
        if found is not None:
            return found
        parent = name
        while True:
            dot = parent.find(".")
            if dot < 0:
                return None
            parent = parent[dot + 1 :]
            found = domains.get(parent)
            if found is not None and self._covers(parent, name):
                return found

    def _covers(self, entry: str, name: str) -> bool:
        """Whether the entry ``entry`` reaches ``name``, one of its subdomains: an ICANN
        public suffix reaches every name below it, a platform of user subdomains the names
        under its own labels (``www`` and those of ``data/user_hosted.txt``), any other name
        what lies above the next boundary of the suffix list's private part (the registrable
        name of ``name`` is ``entry`` or one of its parents)."""
        reach = self._reach[entry]
        if reach == "all":
            return True
        if reach == "own labels":
            label = name[: len(name) - len(entry) - 1].rsplit(".", 1)[-1]
            return label in _user_hosted()[entry]
        owner = registered_domain(name)
        return owner is not None and (owner == entry or entry.endswith("." + owner))

    def _match_network(self, value: str) -> AllowEntry | None:
        if not self._networks:
            return None
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return None
        for allowed, entry in self._networks:
            if network.version == allowed.version and network.subnet_of(allowed):  # type: ignore[arg-type]
                return entry
        return None


def _data_lines(name: str) -> Iterator[str]:
    text = resources.files("scamwall.reputation").joinpath("data").joinpath(name).read_text("utf-8")
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            yield line


@lru_cache(maxsize=1)
def _user_hosted() -> dict[str, frozenset[str]]:
    """Platforms whose subdomains are their users' sites, which the public suffix list does
    not name, and the labels below each that the platform runs itself, ``www`` among them
    (``data/user_hosted.txt``)."""
    platforms: dict[str, frozenset[str]] = {}
    for line in _data_lines("user_hosted.txt"):
        name, *own = line.split()
        platforms[name] = frozenset(["www", *own])
    return platforms


@lru_cache(maxsize=1)
def shipped_entries() -> tuple[AllowEntry, ...]:
    """The allowlist the package ships (official services and the top sites)."""
    entries: list[AllowEntry] = []
    for line in _data_lines("official.tsv"):
        kind, value, reason = line.split("\t")
        indicator = allowlist_value(value, kind)
        entries.append(AllowEntry(indicator.kind, indicator.canonical, reason, "shipped:official"))
    for line in _data_lines("top_sites.txt"):
        indicator = allowlist_value(line.strip(), IndicatorKind.DOMAIN)
        entries.append(
            AllowEntry(indicator.kind, indicator.canonical, "top site", "shipped:top_sites")
        )
    return tuple(entries)


def operator_entries(store: Store) -> list[AllowEntry]:
    """The operator's current entries (removed ones left out), oldest first."""
    query = (
        select(allowlist_entries.c.kind, allowlist_entries.c.canonical, allowlist_entries.c.reason)
        .where(allowlist_entries.c.removed_at.is_(None))
        .order_by(allowlist_entries.c.id)
    )
    with store.reading() as connection:
        rows = connection.execute(query).all()
    return [AllowEntry(IndicatorKind(r.kind), r.canonical, r.reason, "operator") for r in rows]


def load_allowlist(store: Store | None, *, shipped: bool = True) -> Allowlist:
    """The shipped entries (unless ``shipped`` is false) and the operator's, in one matcher."""
    entries: list[AllowEntry] = []
    if store is not None:
        entries.extend(operator_entries(store))
    if shipped:
        entries.extend(shipped_entries())
    return Allowlist(entries)


def add_allowlist_entry(
    store: Store,
    value: str,
    *,
    reason: str,
    caller: Caller,
    kind: str | IndicatorKind | None = None,
    origin: str | None = None,
) -> AllowEntry:
    """Allowlist ``value`` (audited, with the ``origin`` of the request); adding a value
    already on the operator's list is a no-op that returns the existing entry."""
    indicator = allowlist_value(value, kind)
    why = clean_text(reason, field="reason", max_length=500)
    if not why:
        raise InvalidInput("say why the value must never be blocked", field="reason")
    for entry in operator_entries(store):
        if (entry.kind, entry.value) == (indicator.kind, indicator.canonical):
            return entry
    with store.transaction() as connection:
        connection.execute(
            allowlist_entries.insert().values(
                kind=indicator.kind.value,
                canonical=indicator.canonical,
                reason=why,
                added_by=caller.name,
                added_at=datetime.now(UTC),
            )
        )
        AuditLog(store).record(
            caller,
            "allowlist.add",
            target=f"{indicator.kind.value}:{indicator.canonical}",
            detail={"reason": why},
            origin=origin,
            connection=connection,
        )
    return AllowEntry(indicator.kind, indicator.canonical, why, "operator")


def remove_allowlist_entry(
    store: Store,
    value: str,
    *,
    caller: Caller,
    kind: str | IndicatorKind | None = None,
    origin: str | None = None,
) -> AllowEntry:
    """Take ``value`` off the operator's list (audited); shipped entries cannot be removed."""
    indicator = allowlist_value(value, kind)
    table = allowlist_entries
    now = datetime.now(UTC)
    with store.transaction() as connection:
        row = connection.execute(
            select(table.c.id, table.c.reason).where(
                table.c.kind == indicator.kind.value,
                table.c.canonical == indicator.canonical,
                table.c.removed_at.is_(None),
            )
        ).first()
        if row is None:
            raise NotFound(
                f"{indicator.kind.value} {indicator.canonical} is not on the operator's "
                "allowlist; `scamwall allow list` shows it",
                value=indicator.canonical,
            )
        connection.execute(
            table.update()
            .where(table.c.id == row.id)
            .values(removed_at=now, removed_by=caller.name)
        )
        AuditLog(store).record(
            caller,
            "allowlist.remove",
            target=f"{indicator.kind.value}:{indicator.canonical}",
            origin=origin,
            connection=connection,
        )
    return AllowEntry(indicator.kind, indicator.canonical, row.reason, "operator")
