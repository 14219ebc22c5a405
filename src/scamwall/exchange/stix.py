"""STIX 2.1 vocabulary shared by export and import: ids, timestamps, TLP 2.0 markings, the custom
observable types and the legal basis a sighting is held under.

Ids are deterministic, so the same fact has the same STIX id on every instance and a peer
deduplicates it:

==================== ===========================================================================
object               id
==================== ===========================================================================
observable (SCO)     the STIX 2.1 rule: UUIDv5 in the SCO namespace over the JSON-canonicalised
                     (RFC 8785) id-contributing properties, as the ``stix2`` library computes it
indicator            UUIDv5 in the SCO namespace over ``{"pattern": …}``: OpenCTI's rule, so an
                     OpenCTI instance holding the same pattern holds the same object. The pattern
                     is a function of the indicator's kind and canonical value alone
identity (agency)    UUIDv5 in :data:`STIX_NAMESPACE` over ``agency:<code>``
sighting             ``sighting--`` + scamwall's own sighting id (already a UUIDv5 of the fact)
marking-definition   the ids OASIS published for TLP 2.0 (``cti-stix-common-objects``)
==================== ===========================================================================

Phone numbers, SMS senders, bank accounts and crypto wallets have no STIX 2.1 observable type.
They use the types OpenCTI exports (``phone-number`` and ``cryptocurrency-wallet`` with ``value``,
``bank-account`` with ``iban``/``account_number``), each declared by an ``extension-definition``
of scamwall (``extension_types: ["new-sco"]``) that travels in the bundle with them. Chat handles
are standard ``user-account`` objects. Both directions of the mapping live here, side by side:

============== ======================================================================
kind           observable and pattern
============== ======================================================================
domain, url,   ``domain-name``/``url``/``email-addr``:``value``
email
ip, cidr       ``ipv4-addr``/``ipv6-addr``:``value`` (a block as ``10.0.0.0/8``)
file_hash      ``file:hashes.'SHA-256'``
phone,         ``phone-number:value`` (E.164; a sender ID or short code as scamwall writes
sms_sender     it, the indicator's ``x_scamwall_kind`` telling the two apart)
crypto_wallet  ``cryptocurrency-wallet:value``
bank_account   ``bank-account:iban``, or ``account_number`` AND ``x_scamwall_country`` AND
               ``x_scamwall_bank`` where the country has no IBAN
handle         ``user-account:account_type`` (the platform) AND ``account_login``
============== ======================================================================
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from scamwall.errors import InvalidIndicator, InvalidRecord
from scamwall.indicators import Indicator, IndicatorKind, guess_kind, parse_indicator
from scamwall.indicators.kinds import uuid5_text
from scamwall.store.records import LegalBasis
from scamwall.vocabulary import Tlp

__all__ = [
    "CUSTOM_SCO_TYPES",
    "DEFINITIONS_CREATED",
    "EXPORTABLE_TLPS",
    "OBSERVABLE_TYPES",
    "OPENCTI_TYPES",
    "SCAMWALL_IDENTITY_ID",
    "SCO_NAMESPACE",
    "SPEC_VERSION",
    "STIX_NAMESPACE",
    "TLP1_MARKING_IDS",
    "TLP2_EXTENSION_ID",
    "TLP_BY_MARKING_ID",
    "TLP_MARKING_IDS",
    "LegalBasis",
    "StixObject",
    "agency_stix_id",
    "extension_definition",
    "extension_id",
    "format_timestamp",
    "indicator_from_observable",
    "indicator_pattern",
    "indicator_stix_id",
    "legal_basis_as_stix",
    "legal_basis_from_stix",
    "most_restrictive",
    "observable_fields",
    "observable_pattern",
    "observable_properties",
    "observable_stix_id",
    "parse_timestamp",
    "read_pattern",
    "scamwall_identity",
    "sighting_stix_id",
    "tlp_marking_definition",
]

#: A STIX object as plain JSON-ready data.
StixObject = dict[str, Any]

SPEC_VERSION = "2.1"
#: The namespace STIX 2.1 fixes for observable ids (section 2.9 of the specification).
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
#: scamwall's namespace for the STIX ids it mints (agencies, extension definitions, bundles).
#: Never change it: ids are shared with peers.
STIX_NAMESPACE = uuid.UUID("a325c9cd-a52c-496a-94ba-2c9cd1e00cdd")
#: When scamwall's identity and extension definitions were published; objects that carry no
#: time of their own (agencies) use it too, so a re-export is byte-identical.
DEFINITIONS_CREATED = "2026-12-01T00:00:00.000Z"

#: TLP levels an export lets out unless the caller says otherwise. RED and AMBER+STRICT stay.
EXPORTABLE_TLPS = frozenset({Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER})

# --- TLP 2.0 markings: the objects OASIS published, ids and all ------------------------------

TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"
TLP_MARKING_IDS: Mapping[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
#: The TLP 1.0 markings STIX 2.1 predefines (``stix2.TLP_WHITE`` …), still sent by many peers.
TLP1_MARKING_IDS: Mapping[str, Tlp] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,  # TLP:WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
}
#: Every published TLP marking id (1.0 and 2.0) and the level it stands for.
TLP_BY_MARKING_ID: Mapping[str, Tlp] = {
    **{marking: tlp for tlp, marking in TLP_MARKING_IDS.items()},
    **TLP1_MARKING_IDS,
}
_TLP_ORDER = {tlp: rank for rank, tlp in enumerate(Tlp)}


def tlp_marking_definition(tlp: Tlp) -> StixObject:
    """The TLP 2.0 ``marking-definition`` object of ``tlp``, exactly as OASIS published it."""
    return {
        "type": "marking-definition",
        "spec_version": SPEC_VERSION,
        "id": TLP_MARKING_IDS[tlp],
        "created": TLP2_CREATED,
        "name": f"TLP:{tlp.value.upper()}",
        "extensions": {
            TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": tlp.value}
        },
    }


def most_restrictive(levels: list[Tlp]) -> Tlp:
    """The most restrictive of ``levels`` (RED over AMBER+STRICT over AMBER …)."""
    return max(levels, key=_TLP_ORDER.__getitem__)


# --- ids ---------------------------------------------------------------------------------------

_CANONICAL_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def observable_stix_id(object_type: str, contributing: Mapping[str, Any]) -> str:
    """``<type>--<uuid>`` of an observable from its id-contributing properties (STIX 2.1 §2.9).

    Python's JSON with sorted keys, no spaces and raw non-ASCII is RFC 8785 for the strings and
    ASCII keys these objects hold; a test holds the result equal to the ``stix2`` library's.
    """
    if len(contributing) == 1 and type(value := contributing.get("value")) is str:
        canonical = '{"value":' + encode_basestring(value) + "}"  # most observables, fast
    else:
        canonical = _CANONICAL_JSON.encode(contributing)
    return f"{object_type}--{uuid5_text(SCO_NAMESPACE, canonical)}"


def indicator_stix_id(pattern: str) -> str:
    """``indicator--<uuid>`` over the canonical ``{"pattern": pattern}``, as OpenCTI derives it."""
    canonical = '{"pattern":' + encode_basestring(pattern) + "}"
    return f"indicator--{uuid5_text(SCO_NAMESPACE, canonical)}"


def agency_stix_id(agency_code: str) -> str:
    """``identity--<uuid>`` of the agency with this code, the same on every instance."""
    return f"identity--{uuid5_text(STIX_NAMESPACE, f'agency:{agency_code}')}"


def sighting_stix_id(scamwall_sighting_id: str) -> str:
    """``sighting--<uuid>`` of a scamwall sighting: its own deterministic id."""
    return f"sighting--{scamwall_sighting_id}"


# --- timestamps --------------------------------------------------------------------------------

_TIMESTAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$")


def format_timestamp(moment: datetime) -> str:
    """STIX form in UTC: ``2026-11-30T08:15:00.000Z``; a naive time is taken as UTC.

    Milliseconds, or microseconds when the time has a finer part: scamwall keeps microseconds,
    and cutting them would give a re-imported sighting another id than the one exported.
    """
    offset = moment.utcoffset()
    if offset is None:
        moment = moment.replace(tzinfo=UTC)
    elif offset:
        moment = moment.astimezone(UTC)
    spec = "microseconds" if moment.microsecond % 1000 else "milliseconds"
    return moment.isoformat(timespec=spec)[:-6] + "Z"  # drop "+00:00"


def parse_timestamp(value: object, field: str) -> datetime:
    """A STIX timestamp (UTC, ``Z``) as an aware datetime; :class:`InvalidRecord` names
    ``field``."""
    if not isinstance(value, str):
        raise InvalidRecord(f"expected a timestamp string, got {type(value).__name__}", field=field)
    moment = _read_timestamp(value)
    if isinstance(moment, str):
        raise InvalidRecord(moment, field=field)
    return moment


@functools.lru_cache(maxsize=4096)
def _read_timestamp(value: str) -> datetime | str:
    """The time of a STIX timestamp, or what is wrong with it. The objects of one sighting
    repeat its time in several fields, so the last few thousand are remembered."""
    match = _TIMESTAMP.match(value)
    if match is None:
        return f"{value[:40]!r} is not a STIX timestamp such as 2026-11-30T08:15:00.000Z"
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=UTC,
        )
    except ValueError as exc:
        return f"{value[:40]!r} is not a valid time ({exc})"


# --- scamwall's own objects: its identity and the extension definitions of custom observables --

SCAMWALL_IDENTITY_ID = f"identity--{uuid5_text(STIX_NAMESPACE, 'scamwall')}"

#: Observable types STIX 2.1 lacks, the properties each carries and its id-contributing ones.
CUSTOM_SCO_TYPES: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "phone-number": (
        "A telephone number or SMS sender: value is E.164 (+66812345678) for a number, the "
        "case-folded sender ID (kbank) or short code (95588) for an SMS sender. "
        "Id-contributing: value. Same type and property as OpenCTI's Phone-Number.",
        ("value",),
    ),
    "bank-account": (
        "A bank account: iban without spaces, or, where a country has no IBAN, account_number "
        "with x_scamwall_country (ISO 3166 alpha-2) and x_scamwall_bank (the bank's code as "
        "reported, e.g. KBANK). Id-contributing: iban, bic, account_number, x_scamwall_country, "
        "x_scamwall_bank (those present). Same type and iban/account_number as OpenCTI's "
        "Bank-Account.",
        ("iban", "bic", "account_number", "x_scamwall_country", "x_scamwall_bank"),
    ),
    "cryptocurrency-wallet": (
        "A crypto wallet address as its chain writes it (EIP-55 for EVM chains, lower-case "
        "Bech32, Base58 as is). Id-contributing: value. Same type and property as OpenCTI's "
        "Cryptocurrency-Wallet.",
        ("value",),
    ),
}


def extension_id(sco_type: str) -> str:
    """``extension-definition--<uuid>`` declaring the custom observable type ``sco_type``."""
    return f"extension-definition--{uuid5_text(STIX_NAMESPACE, f'new-sco:{sco_type}')}"


def scamwall_identity() -> StixObject:
    """The identity that signs scamwall's extension definitions (``identity_class`` system)."""
    return {
        "type": "identity",
        "spec_version": SPEC_VERSION,
        "id": SCAMWALL_IDENTITY_ID,
        "created": DEFINITIONS_CREATED,
        "modified": DEFINITIONS_CREATED,
        "name": "scamwall",
        "description": "Pooled cross-border fraud indicators; publisher of the scamwall "
        "STIX extensions.",
        "identity_class": "system",
    }


def extension_definition(sco_type: str) -> StixObject:
    """The ``extension-definition`` (``new-sco``) that declares ``sco_type``."""
    schema, _ = CUSTOM_SCO_TYPES[sco_type]
    return {
        "type": "extension-definition",
        "spec_version": SPEC_VERSION,
        "id": extension_id(sco_type),
        "created_by_ref": SCAMWALL_IDENTITY_ID,
        "created": DEFINITIONS_CREATED,
        "modified": DEFINITIONS_CREATED,
        "name": f"scamwall {sco_type}",
        "description": f"The {sco_type} observable as scamwall exchanges it.",
        "schema": schema,
        "version": "1.0.0",
        "extension_types": ["new-sco"],
    }


# --- observables: indicator kinds to STIX and back -----------------------------------------

_VALUE_TYPES = {
    IndicatorKind.DOMAIN: "domain-name",
    IndicatorKind.URL: "url",
    IndicatorKind.EMAIL: "email-addr",
    IndicatorKind.PHONE: "phone-number",
    IndicatorKind.SMS_SENDER: "phone-number",
    IndicatorKind.CRYPTO_WALLET: "cryptocurrency-wallet",
}
#: What OpenCTI calls each observable type (an indicator's ``x_opencti_main_observable_type``).
OPENCTI_TYPES: Mapping[str, str] = {
    "domain-name": "Domain-Name",
    "url": "Url",
    "email-addr": "Email-Addr",
    "ipv4-addr": "IPv4-Addr",
    "ipv6-addr": "IPv6-Addr",
    "file": "StixFile",
    "phone-number": "Phone-Number",
    "bank-account": "Bank-Account",
    "cryptocurrency-wallet": "Cryptocurrency-Wallet",
    "user-account": "User-Account",
}
#: Observable types scamwall reads and writes.
OBSERVABLE_TYPES = frozenset(OPENCTI_TYPES)
# The properties (or path prefixes) naming an indicator, per observable type.
_READABLE: Mapping[str, tuple[str, ...]] = {
    **dict.fromkeys(("domain-name", "url", "email-addr", "ipv4-addr", "ipv6-addr"), ("value",)),
    "phone-number": ("value",),
    "cryptocurrency-wallet": ("value",),
    "file": ("hashes.",),
    "bank-account": CUSTOM_SCO_TYPES["bank-account"][1],
    "user-account": ("account_type", "account_login", "user_id"),
}
_SHA256_NAMES = frozenset({"SHA-256", "SHA256", "SHA2-256"})
# One comparison of a pattern: object type, property path, operator, string literal.
_COMPARISON = re.compile(
    r"\s*(?P<type>[a-z0-9][a-z0-9-]*):"
    r"(?P<path>[A-Za-z_][A-Za-z0-9_]*(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|'[^'\\]{1,64}'))*)"
    r"\s*(?P<op>=|ISSUBSET)\s*'(?P<value>(?:[^'\\]|\\['\\])*)'\s*"
)
_AND = re.compile(r"AND\b")
_UNESCAPE = re.compile(r"\\(['\\])")
_PATTERN_SHAPE = (
    "scamwall reads one observation of = comparisons joined by AND on one object, such as "
    "[domain-name:value = 'example.com']"
)


def observable_properties(indicator: Indicator) -> tuple[str, dict[str, Any]]:
    """The observable type of an indicator and its properties, all of them id-contributing."""
    kind, value = indicator.kind, indicator.canonical
    value_type = _VALUE_TYPES.get(kind)
    if value_type is not None:
        return value_type, {"value": value}
    if kind is IndicatorKind.IP or kind is IndicatorKind.CIDR:
        return ("ipv6-addr" if ":" in value else "ipv4-addr"), {"value": value}
    if kind is IndicatorKind.FILE_HASH:
        return "file", {"hashes": {"SHA-256": value}}
    if kind is IndicatorKind.BANK_ACCOUNT:
        if ":" not in value:
            return "bank-account", {"iban": value}
        country, bank, number = value.split(":")
        return "bank-account", {
            "account_number": number,
            "x_scamwall_country": country,
            "x_scamwall_bank": bank,
        }
    platform, _, login = value.partition(":")  # a handle: platform:id
    return "user-account", {"account_type": platform, "account_login": login}


def _string_literal(value: str) -> str:
    """A STIX pattern string literal: quotes and backslashes escaped, nothing else."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def observable_pattern(sco_type: str, properties: Mapping[str, Any]) -> str:
    """The STIX pattern matching an observable of these properties."""
    value = properties.get("value")
    if value is not None:
        return f"[{sco_type}:value = {_string_literal(value)}]"
    if sco_type == "file":
        (algorithm, digest), *_ = properties["hashes"].items()
        return f"[file:hashes.'{algorithm}' = {_string_literal(digest)}]"
    comparisons = (f"{sco_type}:{name} = {_string_literal(v)}" for name, v in properties.items())
    return "[" + " AND ".join(comparisons) + "]"


def indicator_pattern(indicator: Indicator) -> str:
    """The STIX pattern of an indicator (``[domain-name:value = 'example.com']``)."""
    return observable_pattern(*observable_properties(indicator))


def read_pattern(pattern: str) -> tuple[str, dict[str, str]]:
    """``(object type, {property path: value})`` of a pattern that names one observable;
    :class:`InvalidRecord` for any other (OR, several observations, qualifiers, other operators)."""
    text = pattern.strip()
    if not (text.startswith("[") and text.endswith("]")):
        raise InvalidRecord(f"not one observation; {_PATTERN_SHAPE}", field="pattern")
    inner, position = text[1:-1], 0
    object_type: str | None = None
    fields: dict[str, str] = {}
    while True:
        match = _COMPARISON.match(inner, position)
        if match is None:
            raise InvalidRecord(f"cannot be read; {_PATTERN_SHAPE}", field="pattern")
        path = match["path"].replace("'", "")
        if object_type not in (None, match["type"]):
            problem = f"compares two objects ({object_type} and {match['type']})"
            raise InvalidRecord(f"{problem}; it names no one indicator", field="pattern")
        if path in fields:
            raise InvalidRecord(
                f"compares {path} twice; it names no one indicator", field="pattern"
            )
        object_type = match["type"]
        if match["op"] == "ISSUBSET" and object_type not in ("ipv4-addr", "ipv6-addr"):
            raise InvalidRecord("ISSUBSET is read for address blocks only", field="pattern")
        fields[path] = _UNESCAPE.sub(r"\1", match["value"])
        position = match.end()
        if position == len(inner):
            return object_type, fields
        joined = _AND.match(inner, position)
        if joined is None:
            problem = "holds more than one observation" if "]" in inner[position:] else "uses OR"
            raise InvalidRecord(
                f"{problem} or an operator other than AND; {_PATTERN_SHAPE}", field="pattern"
            )
        position = joined.end()


def observable_fields(sco: Mapping[str, Any]) -> dict[str, str]:
    """The properties of an observable object that name its indicator, as pattern paths
    (``hashes.SHA-256``); :class:`InvalidRecord` when one is not a string."""
    readable = _READABLE.get(str(sco.get("type")), ())
    fields: dict[str, Any] = {}
    for name, value in sco.items():
        if name == "hashes" and "hashes." in readable:
            if not isinstance(value, dict):
                raise InvalidRecord("expected an object of algorithm: digest", field="hashes")
            fields.update({f"hashes.{algorithm}": digest for algorithm, digest in value.items()})
        elif name in readable:
            fields[name] = value
    for name, value in fields.items():
        if not isinstance(value, str):
            raise InvalidRecord("expected a string", field=name)
    return fields


def indicator_from_observable(
    object_type: str, fields: Mapping[str, str], kind_hint: object, region: str | None
) -> Indicator:
    """The canonical indicator an observable's fields name (from a pattern or an object).

    ``kind_hint`` (an indicator's ``x_scamwall_kind``) tells a phone number from an SMS sender;
    without it a ``phone-number`` is a sender when its shape says so (``KBANK``, ``95588``).
    Raises :class:`InvalidRecord` or :class:`~scamwall.errors.InvalidIndicator`.
    """
    readable = _READABLE.get(object_type)
    if readable is None:
        raise InvalidRecord(f"{object_type[:40]} observables are not imported", field="type")
    prefixes = tuple(name for name in readable if name.endswith("."))
    extra = sorted(f for f in fields if f not in readable and not f.startswith(prefixes))
    if extra:
        raise InvalidRecord(
            f"{object_type} property {extra[0]} is not one scamwall reads", field=extra[0]
        )

    def need(name: str) -> str:
        if name not in fields:
            raise InvalidRecord(f"a {object_type} needs {name}", field=name)
        return fields[name]

    if object_type in ("ipv4-addr", "ipv6-addr"):
        value = need("value")
        kind = IndicatorKind.CIDR if "/" in value else IndicatorKind.IP
    elif object_type == "phone-number":
        value = need("value")
        if kind_hint in (IndicatorKind.PHONE.value, IndicatorKind.SMS_SENDER.value):
            kind = IndicatorKind(kind_hint)
        else:
            try:
                shaped_as_sender = guess_kind(value) is IndicatorKind.SMS_SENDER
            except InvalidIndicator:
                shaped_as_sender = False
            kind = IndicatorKind.SMS_SENDER if shaped_as_sender else IndicatorKind.PHONE
    elif object_type == "file":
        digests = {k.split(".", 1)[1].upper(): v for k, v in fields.items()}
        value = next((v for k, v in digests.items() if k in _SHA256_NAMES), "")
        if not value:
            raise InvalidRecord(
                "files are read by SHA-256 only; give hashes.'SHA-256'", field="hashes"
            )
        kind = IndicatorKind.FILE_HASH
    elif object_type == "bank-account":
        kind = IndicatorKind.BANK_ACCOUNT
        if "iban" in fields:
            value = fields["iban"]
        elif "x_scamwall_country" in fields and "x_scamwall_bank" in fields:
            country, bank = fields["x_scamwall_country"], fields["x_scamwall_bank"]
            value = f"{country}:{bank}:{need('account_number')}"
        else:
            raise InvalidRecord(
                "needs iban, or account_number with x_scamwall_country and x_scamwall_bank",
                field="iban",
            )
    elif object_type == "user-account":
        kind = IndicatorKind.HANDLE
        value = f"{need('account_type')}:{fields.get('account_login') or need('user_id')}"
    else:
        kind = next(k for k, t in _VALUE_TYPES.items() if t == object_type)
        value = need("value")
    return parse_indicator(value, kind, region)


# --- legal basis -------------------------------------------------------------------------------


def legal_basis_as_stix(basis: LegalBasis) -> dict[str, str]:
    """The ``x_scamwall_legal_basis`` value of a sighting's legal basis."""
    value = {"jurisdiction": basis.jurisdiction, "instrument": basis.instrument}
    if basis.retain_until is not None:
        value["retain_until"] = format_timestamp(basis.retain_until)
    return value


def legal_basis_from_stix(value: object) -> LegalBasis:
    """Read an ``x_scamwall_legal_basis`` value; :class:`InvalidRecord` names the bad key."""
    field = "x_scamwall_legal_basis"
    if not isinstance(value, dict):
        raise InvalidRecord(f"expected an object, got {type(value).__name__}", field=field)
    unknown = set(value) - {"jurisdiction", "instrument", "retain_until"}
    if unknown:
        raise InvalidRecord(f"unknown keys {sorted(map(str, unknown))[:5]}", field=field)
    retain = value.get("retain_until")
    try:
        return LegalBasis(
            value.get("jurisdiction"),  # type: ignore[arg-type]  # checked by LegalBasis
            value.get("instrument"),  # type: ignore[arg-type]
            None if retain is None else parse_timestamp(retain, "retain_until"),
        )
    except InvalidRecord as exc:
        raise InvalidRecord(exc.reason, field=f"{field}.{exc.field}") from None
