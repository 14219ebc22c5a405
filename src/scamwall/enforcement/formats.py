"""The feeds as resolvers, firewalls and telecom switches load them.

Each format turns the entries of one serial into its **elements** (what the consumer holds:
names, networks, numbers) and renders them whole, or renders what changed between two serials
(elements added and removed) in the form that consumer applies changes:

=========  ===========================================  ====================================
format     full                                         incremental (``--since N``)
=========  ===========================================  ====================================
rpz        RPZ zone (SOA serial = feed serial; a name   ``nsupdate`` script for a dynamic
           and ``*.name``: NXDOMAIN or a CNAME to the   RPZ zone
           walled garden)
unbound    ``local-zone:`` lines (``always_nxdomain``   ``unbound-control local_zones`` /
           or ``redirect`` to the walled garden)         ``local_zones_remove`` script
hosts      ``0.0.0.0 name`` lines                       ``+``/``-`` lines
dnsmasq    ``address=/name/`` (NXDOMAIN, subdomains)    ``+``/``-`` lines
nft        nftables script: interval sets for IPv4 and  ``add element`` / ``delete element``
           IPv6, size declared to fit                   script
ipset      ``ipset restore`` file (``hash:net``)        ``add``/``del`` lines for ``restore``
numbers    CSV of E.164 numbers and SMS senders         CSV with an ``action`` column
numbers.json  the same as JSON                          ``{"added": [...], "removed": [...]}``
=========  ===========================================  ====================================

In the name formats a name under a listed parent is left out (the parent's entry covers it),
except in ``hosts``, which has no notion of subdomains; in ``rpz`` a name too long to sit under
the zone's origin is left out and counted in the header. In ``nft`` a block inside another
listed block is left out too (interval sets refuse overlaps); ``ipset``'s ``hash:net`` takes
them as they are.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from scamwall.enforcement.feeds import FeedEntry
from scamwall.errors import InvalidInput
from scamwall.indicators import IndicatorKind
from scamwall.reputation.matching import NetworkIndex

__all__ = ["FORMATS", "FeedFormat", "FeedOptions", "feed_format", "render_change", "render_full"]

Elements = dict[str, FeedEntry]


@dataclass(frozen=True, slots=True)
class FeedOptions:
    """How the DNS feeds answer and name themselves (from the settings)."""

    rpz_origin: str = "rpz.scamwall."
    #: host name of the warning page; None: NXDOMAIN
    walled_garden: str | None = None
    ttl: int = 300

    @property
    def garden(self) -> str | None:
        """The walled garden as an absolute name."""
        if not self.walled_garden:
            return None
        return self.walled_garden.rstrip(".") + "."


@dataclass(frozen=True, slots=True)
class FeedMeta:
    """What a rendered feed says about itself."""

    serial: int
    published_at: datetime | None
    options: FeedOptions
    since: int | None = None

    def header(self, comment: str, title: str) -> str:
        when = (self.published_at or datetime.now(UTC)).isoformat(timespec="seconds")
        change = f", changes since serial {self.since}" if self.since is not None else ""
        return f"{comment} scamwall {title}: serial {self.serial}{change}, published {when}\n"


@dataclass(frozen=True, slots=True)
class FeedFormat:
    """One feed format: which kinds it carries and how it renders them."""

    name: str
    kinds: tuple[IndicatorKind, ...]
    media_type: str
    elements: Callable[[Sequence[FeedEntry]], Elements]
    full: Callable[[Elements, FeedMeta], str]
    change: Callable[[Elements, Elements, FeedMeta], str]


# --- elements ----------------------------------------------------------------------------------


def _names(entries: Sequence[FeedEntry]) -> Elements:
    """Listed names in the entries' order (the store's: by name), those under a listed parent
    left out."""
    listed = {e.value: e for e in entries if e.kind is IndicatorKind.DOMAIN}
    kept: Elements = {}
    for name, entry in listed.items():
        parent = name.partition(".")[2]
        while parent and parent not in listed:
            parent = parent.partition(".")[2]
        if not parent:
            kept[name] = entry
    return kept


def _all_names(entries: Sequence[FeedEntry]) -> Elements:
    return {e.value: e for e in entries if e.kind is IndicatorKind.DOMAIN}


def _networks(entries: Sequence[FeedEntry]) -> Elements:
    return {e.value: e for e in entries if e.kind in (IndicatorKind.IP, IndicatorKind.CIDR)}


def _outermost_networks(entries: Sequence[FeedEntry]) -> Elements:
    """Networks, those inside another listed network left out (nft's interval sets refuse
    overlaps). Blocks nest or are disjoint, so what is left never overlaps."""
    networks = _networks(entries)
    index: NetworkIndex[None] = NetworkIndex((value, None) for value in networks)
    kept: Elements = {}
    for value, entry in networks.items():
        widest = index.widest(value)
        if widest is not None and widest[0] == value:
            kept[value] = entry
    return kept


def _numbers(entries: Sequence[FeedEntry]) -> Elements:
    return {
        f"{e.kind.value}:{e.value}": e
        for e in entries
        if e.kind in (IndicatorKind.PHONE, IndicatorKind.SMS_SENDER)
    }


# --- DNS -----------------------------------------------------------------------------------------


def _rpz_target(options: FeedOptions) -> str:
    return options.garden or "."


def _rpz_soa(meta: FeedMeta) -> str:
    ttl = meta.options.ttl
    return (
        f"$TTL {ttl}\n$ORIGIN {meta.options.rpz_origin.rstrip('.')}.\n"
        f"@ IN SOA localhost. hostmaster.localhost. {meta.serial} 3600 600 604800 {ttl}\n"
        "@ IN NS localhost.\n"
    )


def _rpz_fits(names: Elements, options: FeedOptions) -> tuple[list[str], int]:
    """The names whose ``*.name.origin`` fits a DNS name (255 octets on the wire), and how many
    do not: one name too long makes BIND refuse the whole zone."""
    room = 255 - 2 - len(options.rpz_origin.rstrip(".")) - 3  # "*." + "." + wire overhead
    fitting = [name for name in names if len(name) <= room]
    return fitting, len(names) - len(fitting)


def _rpz_full(names: Elements, meta: FeedMeta) -> str:
    target = _rpz_target(meta.options)
    action = "walled garden " + target if meta.options.garden else "NXDOMAIN"
    fitting, too_long = _rpz_fits(names, meta.options)
    left_out = f" ({too_long} left out: too long for a name under the origin)" if too_long else ""
    head = meta.header(
        ";", f"RPZ zone, {len(fitting)} names and their subdomains -> {action}{left_out}"
    )
    records = "".join(f"{name} CNAME {target}\n*.{name} CNAME {target}\n" for name in fitting)
    return head + _rpz_soa(meta) + records


#: Names per ``send`` of an nsupdate script: one DNS UPDATE message holds only so much.
NSUPDATE_BATCH = 200


def _rpz_change(added: Elements, removed: Elements, meta: FeedMeta) -> str:
    origin = meta.options.rpz_origin.rstrip(".") + "."
    target = _rpz_target(meta.options)
    ttl = meta.options.ttl
    lines = [meta.header(";", "RPZ changes as an nsupdate script"), f"zone {origin}\n"]
    changes = [("delete", name) for name in _rpz_fits(removed, meta.options)[0]]
    changes += [("add", name) for name in _rpz_fits(added, meta.options)[0]]
    for start in range(0, len(changes), NSUPDATE_BATCH):
        for verb, name in changes[start : start + NSUPDATE_BATCH]:
            if verb == "delete":
                lines.append(f"update delete {name}.{origin} CNAME\n")
                lines.append(f"update delete *.{name}.{origin} CNAME\n")
            else:
                lines.append(f"update add {name}.{origin} {ttl} CNAME {target}\n")
                lines.append(f"update add *.{name}.{origin} {ttl} CNAME {target}\n")
        lines.append("send\n")
    return "".join(lines)


def _unbound_zone(name: str, options: FeedOptions) -> str:
    garden = options.garden
    if garden is None:
        return f'    local-zone: "{name}." always_nxdomain\n'
    return (
        f'    local-zone: "{name}." redirect\n'
        f'    local-data: "{name}. {options.ttl} IN CNAME {garden}"\n'
    )


def _unbound_full(names: Elements, meta: FeedMeta) -> str:
    head = meta.header("#", f"Unbound local zones, {len(names)} names and their subdomains")
    return head + "server:\n" + "".join(_unbound_zone(name, meta.options) for name in names)


def _unbound_change(added: Elements, removed: Elements, meta: FeedMeta) -> str:
    zone_type = "redirect" if meta.options.garden else "always_nxdomain"
    lines = ["#!/bin/sh\n", meta.header("#", "Unbound changes for unbound-control"), "set -e\n"]
    if removed:
        lines.append("unbound-control local_zones_remove <<'NAMES'\n")
        lines.extend(f"{name}.\n" for name in removed)
        lines.append("NAMES\n")
    if added:
        lines.append("unbound-control local_zones <<'ZONES'\n")
        lines.extend(f"{name}. {zone_type}\n" for name in added)
        lines.append("ZONES\n")
        if meta.options.garden:
            lines.append("unbound-control local_datas <<'DATA'\n")
            garden = meta.options.garden
            lines.extend(f"{name}. {meta.options.ttl} IN CNAME {garden}\n" for name in added)
            lines.append("DATA\n")
    return "".join(lines)


def _hosts_full(names: Elements, meta: FeedMeta) -> str:
    head = meta.header("#", f"hosts file, {len(names)} names (a hosts file blocks no subdomain)")
    return head + "".join(f"0.0.0.0 {name}\n" for name in names)


def _line_change(render: Callable[[str], str]) -> Callable[[Elements, Elements, FeedMeta], str]:
    def change(added: Elements, removed: Elements, meta: FeedMeta) -> str:
        head = meta.header("#", "changes: '-' lines to remove, '+' lines to add")
        return (
            head
            + "".join(f"-{render(key)}\n" for key in removed)
            + "".join(f"+{render(key)}\n" for key in added)
        )

    return change


def _dnsmasq_full(names: Elements, meta: FeedMeta) -> str:
    head = meta.header("#", f"dnsmasq config, {len(names)} names and their subdomains (NXDOMAIN)")
    return head + "".join(f"address=/{name}/\n" for name in names)


# --- firewalls ----------------------------------------------------------------------------------

NFT_TABLE = "inet scamwall"
IPSET_NAMES = {4: "scamwall-v4", 6: "scamwall-v6"}


def _set_size(count: int) -> int:
    """Room for the set to grow between full loads: a set's size cannot change once it exists
    (nft ignores a new size, ipset refuses one), so it starts large: at least 1,048,576, or a
    power of two at least twice the entries (a feed outgrowing its consumers' set needs the
    set deleted and loaded again, see docs/enforcement.md)."""
    size = 1_048_576
    while size < 2 * count:
        size *= 2
    return size


def _split(elements: Elements) -> dict[int, list[str]]:
    by_version: dict[int, list[str]] = {4: [], 6: []}
    for value in elements:
        by_version[6 if ":" in value else 4].append(value)
    return by_version


def _nft_elements(verb: str, set_name: str, values: list[str]) -> str:
    return "".join(
        f"{verb} element {NFT_TABLE} {set_name} {{ {', '.join(values[i : i + 1000])} }}\n"
        for i in range(0, len(values), 1000)
    )


def _nft_full(networks: Elements, meta: FeedMeta) -> str:
    by_version = _split(networks)
    parts = [
        meta.header("#", f"nftables sets, {len(networks)} addresses and blocks"),
        f"add table {NFT_TABLE}\n",
    ]
    for version, kind in ((4, "ipv4_addr"), (6, "ipv6_addr")):
        name = f"blocked_v{version}"
        size = _set_size(len(by_version[version]))
        parts.append(
            f"add set {NFT_TABLE} {name} {{ type {kind}; flags interval; size {size}; }}\n"
        )
        parts.append(f"flush set {NFT_TABLE} {name}\n")
        parts.append(_nft_elements("add", name, by_version[version]))
    return "".join(parts)


def _nft_change(added: Elements, removed: Elements, meta: FeedMeta) -> str:
    parts = [meta.header("#", "nftables set changes")]
    gone, new = _split(removed), _split(added)
    for version in (4, 6):
        name = f"blocked_v{version}"
        parts.append(_nft_elements("delete", name, gone[version]))
        parts.append(_nft_elements("add", name, new[version]))
    return "".join(parts)


def _ipset_full(networks: Elements, meta: FeedMeta) -> str:
    by_version = _split(networks)
    parts = [meta.header("#", f"ipset restore file, {len(networks)} addresses and blocks")]
    for version, family in ((4, "inet"), (6, "inet6")):
        name = IPSET_NAMES[version]
        size = _set_size(len(by_version[version]))
        parts.append(f"create {name} hash:net family {family} maxelem {size} -exist\n")
        parts.append(f"flush {name}\n")
        parts.append("".join(f"add {name} {value}\n" for value in by_version[version]))
    return "".join(parts)


def _ipset_change(added: Elements, removed: Elements, meta: FeedMeta) -> str:
    parts = [meta.header("#", "ipset changes, for `ipset restore -exist`")]
    gone, new = _split(removed), _split(added)
    for version in (4, 6):
        name = IPSET_NAMES[version]
        parts.append("".join(f"del {name} {value}\n" for value in gone[version]))
        parts.append("".join(f"add {name} {value}\n" for value in new[version]))
    return "".join(parts)


# --- numbers -------------------------------------------------------------------------------------


def _number_row(entry: FeedEntry) -> list[str]:
    return [entry.kind.value, entry.value, f"{entry.score:.4f}"]


# The CSV forms carry no comment line: CSV has none, and a reader would take it for the header.
# Their serial (and a change's first serial) come in the HTTP headers and in the JSON form,
# numbers.json, the form to take where the file must say itself which serial it is.


def _numbers_csv_full(numbers: Elements, meta: FeedMeta) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["kind", "value", "score"])
    writer.writerows(_number_row(entry) for entry in numbers.values())
    return out.getvalue()


def _numbers_csv_change(added: Elements, removed: Elements, meta: FeedMeta) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["action", "kind", "value", "score"])
    writer.writerows(["remove", *_number_row(entry)] for entry in removed.values())
    writer.writerows(["add", *_number_row(entry)] for entry in added.values())
    return out.getvalue()


def _number_object(entry: FeedEntry) -> dict[str, object]:
    return {"kind": entry.kind.value, "value": entry.value, "score": round(entry.score, 4)}


def _published(meta: FeedMeta) -> str | None:
    return meta.published_at.isoformat(timespec="seconds") if meta.published_at else None


def _numbers_json_full(numbers: Elements, meta: FeedMeta) -> str:
    body = {
        "serial": meta.serial,
        "published_at": _published(meta),
        "entries": [_number_object(entry) for entry in numbers.values()],
    }
    return json.dumps(body, ensure_ascii=False, indent=1) + "\n"


def _numbers_json_change(added: Elements, removed: Elements, meta: FeedMeta) -> str:
    body = {
        "serial": meta.serial,
        "since": meta.since,
        "published_at": _published(meta),
        "added": [_number_object(entry) for entry in added.values()],
        "removed": [_number_object(entry) for entry in removed.values()],
    }
    return json.dumps(body, ensure_ascii=False, indent=1) + "\n"


_DOMAIN = (IndicatorKind.DOMAIN,)
_NETWORK = (IndicatorKind.IP, IndicatorKind.CIDR)
_NUMBER = (IndicatorKind.PHONE, IndicatorKind.SMS_SENDER)

#: Every feed format by name.
FORMATS: Mapping[str, FeedFormat] = {
    f.name: f
    for f in (
        FeedFormat("rpz", _DOMAIN, "text/dns", _names, _rpz_full, _rpz_change),
        FeedFormat("unbound", _DOMAIN, "text/plain", _names, _unbound_full, _unbound_change),
        FeedFormat(
            "hosts",
            _DOMAIN,
            "text/plain",
            _all_names,
            _hosts_full,
            _line_change(lambda name: f"0.0.0.0 {name}"),
        ),
        FeedFormat(
            "dnsmasq",
            _DOMAIN,
            "text/plain",
            _names,
            _dnsmasq_full,
            _line_change(lambda name: f"address=/{name}/"),
        ),
        FeedFormat("nft", _NETWORK, "text/plain", _outermost_networks, _nft_full, _nft_change),
        FeedFormat("ipset", _NETWORK, "text/plain", _networks, _ipset_full, _ipset_change),
        FeedFormat(
            "numbers", _NUMBER, "text/csv", _numbers, _numbers_csv_full, _numbers_csv_change
        ),
        FeedFormat(
            "numbers.json",
            _NUMBER,
            "application/json",
            _numbers,
            _numbers_json_full,
            _numbers_json_change,
        ),
    )
}


def feed_format(name: str) -> FeedFormat:
    """The format called ``name``; an error listing the formats otherwise."""
    found = FORMATS.get(name.lower())
    if found is None:
        raise InvalidInput(
            f"unknown feed format {name!r}; use one of {', '.join(FORMATS)}", field="format"
        )
    return found


def render_full(
    form: FeedFormat,
    entries: Sequence[FeedEntry],
    *,
    serial: int,
    published_at: datetime | None,
    options: FeedOptions,
) -> str:
    """The whole feed at one serial."""
    meta = FeedMeta(serial, published_at, options)
    return form.full(form.elements(entries), meta)


def render_change(
    form: FeedFormat,
    before: Sequence[FeedEntry],
    after: Sequence[FeedEntry],
    *,
    since: int,
    serial: int,
    published_at: datetime | None,
    options: FeedOptions,
) -> str:
    """What a consumer holding the feed at serial ``since`` applies to reach ``serial``:
    the difference of the two serials' elements."""
    old, new = form.elements(before), form.elements(after)
    added = {key: entry for key, entry in new.items() if key not in old}
    removed = {key: entry for key, entry in old.items() if key not in new}
    meta = FeedMeta(serial, published_at, options, since=since)
    return form.change(added, removed, meta)
