"""Matching a name or an address against many entries at memory speed.

- :class:`DomainSuffixIndex`: an entry for ``scam.example`` covers ``scam.example`` and every name
  below it (``pay.scam.example``); a look-up walks from the name to its parents, one dictionary
  probe per label.
- :class:`NetworkIndex`: IPv4 and IPv6 addresses and CIDR blocks; a look-up masks the address at
  each prefix length present (a handful in practice) and probes a dictionary per length, so its
  cost does not grow with the number of entries.

Both hold any payload per entry and return the most specific match.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

__all__ = ["DomainSuffixIndex", "NetworkIndex", "parse_network"]

T = TypeVar("T")

_FAMILIES = {4: (socket.AF_INET, 32), 6: (socket.AF_INET6, 128)}


def parse_network(value: str) -> tuple[int, int, int] | None:
    """``(version, network as int, prefix length)`` of an address or a CIDR block in canonical
    text form; None when it is neither. Host bits of a block are cleared."""
    address, _, length = value.partition("/")
    version = 6 if ":" in address else 4
    family, bits = _FAMILIES[version]
    try:
        number = int.from_bytes(socket.inet_pton(family, address), "big")
    except OSError:
        return None
    if length:
        if not length.isdigit() or int(length) > bits:
            return None
        prefix = int(length)
    else:
        prefix = bits
    shift = bits - prefix
    return version, (number >> shift) << shift, prefix


class DomainSuffixIndex(Generic[T]):
    """Domain names, each covering itself and its subdomains."""

    __slots__ = ("_names", "exact")

    def __init__(self, entries: Iterable[tuple[str, T]] = ()) -> None:
        self._names: dict[str, T] = dict(entries)
        #: The entry for exactly this name, or None: the dictionary's own ``get``, so that a
        #: look-up is one call into C (millions a second).
        self.exact: Callable[[str], T | None] = self._names.get

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def add(self, name: str, payload: T) -> None:
        """Add or replace an entry."""
        self._names[name] = payload

    def match(self, name: str) -> tuple[str, T] | None:
        """The entry covering ``name`` (itself or its nearest listed parent), with the listed
        name."""
        names = self._names
        while True:
            found = names.get(name)
            if found is not None:
                return name, found
            dot = name.find(".")
            if dot < 0:
                return None
            name = name[dot + 1 :]


class NetworkIndex(Generic[T]):
    """IPv4 and IPv6 addresses and blocks; a block covers every address and block inside it."""

    __slots__ = ("_by_length", "_count")

    def __init__(self, entries: Iterable[tuple[str, T]] = ()) -> None:
        #: per IP version, prefix length -> {network as int: (canonical text, payload)},
        #: longest prefixes first so that the most specific entry wins
        self._by_length: dict[int, list[tuple[int, int, dict[int, tuple[str, T]]]]] = {4: [], 6: []}
        self._count = 0
        for value, payload in entries:
            self.add(value, payload)

    def __len__(self) -> int:
        return self._count

    def add(self, value: str, payload: T) -> None:
        """Add an address or block in canonical text form; raises ValueError for anything else."""
        parsed = parse_network(value)
        if parsed is None:
            raise ValueError(f"not an IP address or CIDR block: {value!r}")
        version, network, prefix = parsed
        bits = _FAMILIES[version][1]
        levels = self._by_length[version]
        table = next((level[2] for level in levels if level[0] == prefix), None)
        if table is None:
            table = {}
            levels.append((prefix, bits - prefix, table))
            levels.sort(key=lambda level: -level[0])
        key = network >> (bits - prefix)
        if key not in table:
            self._count += 1
        table[key] = (value, payload)

    def match(self, value: str) -> tuple[str, T] | None:
        """The most specific entry covering an address or block (canonical text), with the
        entry's own text; None when nothing covers it or it is not an address."""
        parsed = parse_network(value)
        if parsed is None:
            return None
        version, network, prefix = parsed
        for length, shift, table in self._by_length[version]:
            if length <= prefix:
                found = table.get(network >> shift)
                if found is not None:
                    return found
        return None

    def widest(self, value: str) -> tuple[str, T] | None:
        """The least specific entry covering an address or block (itself, when nothing wider
        is listed); None when nothing covers it."""
        parsed = parse_network(value)
        if parsed is None:
            return None
        version, network, prefix = parsed
        for length, shift, table in reversed(self._by_length[version]):
            if length <= prefix:
                found = table.get(network >> shift)
                if found is not None:
                    return found
        return None

    def entries(self) -> Iterable[tuple[str, T]]:
        """Every entry as ``(canonical text, payload)``."""
        for version in (4, 6):
            for _, _, table in self._by_length[version]:
                yield from table.values()
