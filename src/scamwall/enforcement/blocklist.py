"""The feeds' entries in memory, for answering "is this blocked?" at memory speed.

Built from the entries of one serial (:func:`scamwall.enforcement.feeds.feed_state`): domain
names with suffix matching (an entry for ``scam.example`` blocks ``pay.scam.example``), IPv4 and
IPv6 addresses and blocks with CIDR matching, numbers and SMS senders exactly. The web screener
and the warning page ask it; it never touches the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from scamwall.enforcement.feeds import FeedEntry, FeedState
from scamwall.indicators import IndicatorKind
from scamwall.reputation.matching import DomainSuffixIndex, NetworkIndex

__all__ = ["Blocklist"]

_NETWORK_KINDS = (IndicatorKind.IP, IndicatorKind.CIDR)


@dataclass(frozen=True)
class Blocklist:
    """Every entry of one serial, indexed for look-ups."""

    serial: int
    domains: DomainSuffixIndex[FeedEntry] = field(default_factory=DomainSuffixIndex)
    networks: NetworkIndex[FeedEntry] = field(default_factory=NetworkIndex)
    exact: dict[tuple[IndicatorKind, str], FeedEntry] = field(default_factory=dict)

    @classmethod
    def from_entries(cls, serial: int, entries: Iterable[FeedEntry]) -> Blocklist:
        """Index ``entries`` (the feeds at ``serial``)."""
        domains: DomainSuffixIndex[FeedEntry] = DomainSuffixIndex()
        networks: NetworkIndex[FeedEntry] = NetworkIndex()
        exact: dict[tuple[IndicatorKind, str], FeedEntry] = {}
        for entry in entries:
            if entry.kind is IndicatorKind.DOMAIN:
                domains.add(entry.value, entry)
            elif entry.kind in _NETWORK_KINDS:
                networks.add(entry.value, entry)
            else:
                exact[(entry.kind, entry.value)] = entry
        return cls(serial, domains, networks, exact)

    @classmethod
    def from_state(cls, state: FeedState) -> Blocklist:
        """Index the feeds at ``state``'s serial."""
        return cls.from_entries(state.serial, state.entries)

    def __len__(self) -> int:
        return len(self.domains) + len(self.networks) + len(self.exact)

    def match_domain(self, name: str) -> FeedEntry | None:
        """The entry blocking a name: its own or its nearest listed parent's."""
        found = self.domains.match(name)
        return found[1] if found is not None else None

    def match_address(self, value: str) -> FeedEntry | None:
        """The most specific entry holding an address or block."""
        found = self.networks.match(value)
        return found[1] if found is not None else None

    def match(self, kind: IndicatorKind, value: str) -> FeedEntry | None:
        """The entry blocking a canonical value of any kind."""
        if kind is IndicatorKind.DOMAIN:
            return self.match_domain(value)
        if kind in _NETWORK_KINDS:
            return self.match_address(value)
        return self.exact.get((kind, value))
