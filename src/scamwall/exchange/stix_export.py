"""Sightings out as STIX 2.1: plain dicts and streamed JSON, byte-identical on every re-export.

Each scamwall sighting becomes, in a bundle, these objects (each shared one only once, the first
time a sighting needs it):

- the TLP 2.0 ``marking-definition`` of its level, as OASIS published it;
- an ``identity`` of the reporting agency (``identity_class`` organization);
- the ``extension-definition`` and scamwall ``identity`` behind a custom observable type;
- the observable (SCO) and an ``indicator`` whose STIX pattern matches it; both carry the marking
  of the first sighting that brings them in (a value already shared at that level is known at it);
- the ``sighting``: ``sighting_of_ref`` the indicator, ``where_sighted_refs`` and
  ``created_by_ref`` the agency, ``first_seen`` = ``last_seen`` = ``created`` = ``modified`` =
  the time it was observed, ``confidence``, its TLP, and ``x_scamwall_source_kind``,
  ``x_scamwall_note``, ``x_scamwall_evidence_ref`` and ``x_scamwall_legal_basis`` when present.

Times come from the data, never the clock: an indicator is ``created`` and ``valid_from`` at the
observation of the first of its sightings in the export, agencies at
:data:`~scamwall.exchange.stix.DEFINITIONS_CREATED` (the agency record has no time yet). The same
sightings in the same order give the same bytes, the bundle id included (a UUIDv5 of the objects'
text, so it is written last).

RED and AMBER+STRICT never leave unless the caller passes ``allowed_tlps``: an export meeting one
raises :class:`~scamwall.errors.PermissionDenied` before anything of that sighting is yielded.
Give an export only what the recipient may see, read through :mod:`scamwall.exchange.reads`.

:func:`export_objects` gives dicts. :func:`iter_bundle_json` walks the same way but writes the
three objects every indicator needs (observable, indicator, sighting) from text templates, the
other objects with the standard library's encoder: a test holds its text byte-equal to the dicts
encoded, and the templates make it about twice as fast. The ``stix2`` library, some eighty times
slower (``bench/bench_stix.py``), is kept to tests and the benchmark as the reference.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from scamwall.errors import PermissionDenied, UsageError
from scamwall.exchange.stix import (
    CUSTOM_SCO_TYPES,
    DEFINITIONS_CREATED,
    EXPORTABLE_TLPS,
    OPENCTI_TYPES,
    SPEC_VERSION,
    STIX_NAMESPACE,
    TLP_MARKING_IDS,
    LegalBasis,
    StixObject,
    agency_stix_id,
    extension_definition,
    extension_id,
    format_timestamp,
    indicator_pattern,
    indicator_stix_id,
    legal_basis_as_stix,
    observable_pattern,
    observable_properties,
    observable_stix_id,
    scamwall_identity,
    sighting_stix_id,
    tlp_marking_definition,
)
from scamwall.indicators import Indicator, IndicatorKind
from scamwall.store import Agency, Sighting
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

__all__ = [
    "LegalBasisSource",
    "agency_identity",
    "export_bundle",
    "export_objects",
    "indicator_object",
    "iter_bundle_json",
    "observable_object",
    "sighting_object",
]

#: A legal basis for every sighting of an export, or a function giving each sighting its own.
LegalBasisSource = LegalBasis | Callable[[Sighting], LegalBasis | None] | None

_NEW_SCO = {t: {extension_id(t): {"extension_type": "new-sco"}} for t in CUSTOM_SCO_TYPES}
# industry-sector-ov of STIX 2.1 for each kind of agency; the others are government bodies
_SECTORS = {AgencyKind.BANK: "financial-services", AgencyKind.OPERATOR: "telecommunications"}
# enum members' values by plain lookup: reading ``.value`` goes through the enum machinery
_KIND_TEXT = {kind: kind.value for kind in IndicatorKind}
_SOURCE_TEXT = {source: source.value for source in SourceKind}
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


# --- the objects as dicts ----------------------------------------------------------------------


def observable_object(indicator: Indicator, tlp: Tlp | None = None) -> StixObject:
    """The observable (SCO) of an indicator, with its STIX 2.1 deterministic id."""
    sco_type, properties = observable_properties(indicator)
    return _observable(sco_type, properties, tlp)


def _observable(sco_type: str, properties: dict[str, Any], tlp: Tlp | None) -> StixObject:
    sco: StixObject = {
        "type": sco_type,
        "spec_version": SPEC_VERSION,
        "id": observable_stix_id(sco_type, properties),
    }
    sco.update(properties)
    if tlp is not None:
        sco["object_marking_refs"] = [TLP_MARKING_IDS[tlp]]
    extension = _NEW_SCO.get(sco_type)
    if extension is not None:
        sco["extensions"] = {key: dict(value) for key, value in extension.items()}
    return sco


def indicator_object(
    indicator: Indicator, valid_from: datetime, tlp: Tlp | None = None
) -> StixObject:
    """The ``indicator`` SDO of an indicator; ``created`` = ``modified`` = ``valid_from``."""
    sco_type, properties = observable_properties(indicator)
    pattern = observable_pattern(sco_type, properties)
    stamp = format_timestamp(valid_from)
    return _indicator(indicator, indicator_stix_id(pattern), sco_type, pattern, stamp, tlp)


def _indicator(  # noqa: PLR0917 - one call site per path, in the order of the object
    indicator: Indicator, stix_id: str, sco_type: str, pattern: str, stamp: str, tlp: Tlp | None
) -> StixObject:
    sdo: StixObject = {
        "type": "indicator",
        "spec_version": SPEC_VERSION,
        "id": stix_id,
        "created": stamp,
        "modified": stamp,
        "name": indicator.canonical,
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "pattern_version": SPEC_VERSION,
        "valid_from": stamp,
    }
    if tlp is not None:
        sdo["object_marking_refs"] = [TLP_MARKING_IDS[tlp]]
    sdo["x_scamwall_kind"] = _KIND_TEXT[indicator.kind]
    sdo["x_opencti_main_observable_type"] = OPENCTI_TYPES[sco_type]
    return sdo


def agency_identity(agency: Agency) -> StixObject:
    """The ``identity`` of an agency (``identity_class`` organization), id from its code."""
    return {
        "type": "identity",
        "spec_version": SPEC_VERSION,
        "id": agency_stix_id(agency.code),
        "created": DEFINITIONS_CREATED,
        "modified": DEFINITIONS_CREATED,
        "name": agency.name,
        "identity_class": "organization",
        "sectors": [_SECTORS.get(agency.kind, "government-national")],
        "x_scamwall_agency_code": agency.code,
        "x_scamwall_agency_kind": agency.kind.value,
        "x_scamwall_country": agency.country,
    }


def _sighting(
    sighting: Sighting, indicator_ref: str, agency_ref: str, stamp: str, legal: LegalBasis | None
) -> StixObject:
    sdo: StixObject = {
        "type": "sighting",
        "spec_version": SPEC_VERSION,
        "id": sighting_stix_id(sighting.id),
        "created_by_ref": agency_ref,
        "created": stamp,
        "modified": stamp,
        "first_seen": stamp,
        "last_seen": stamp,
        "count": 1,
        "sighting_of_ref": indicator_ref,
        "where_sighted_refs": [agency_ref],
        "confidence": sighting.confidence,
        "object_marking_refs": [TLP_MARKING_IDS[sighting.tlp]],
        "x_scamwall_source_kind": _SOURCE_TEXT[sighting.source_kind],
    }
    if sighting.note is not None:
        sdo["x_scamwall_note"] = sighting.note
    if sighting.evidence_ref is not None:
        sdo["x_scamwall_evidence_ref"] = sighting.evidence_ref
    if legal is not None:
        sdo["x_scamwall_legal_basis"] = legal_basis_as_stix(legal)
    return sdo


def sighting_object(
    sighting: Sighting,
    *,
    allowed_tlps: Collection[Tlp] = EXPORTABLE_TLPS,
    legal_basis: LegalBasisSource = None,
) -> StixObject:
    """The ``sighting`` SDO of one scamwall sighting; refuses RED and AMBER+STRICT by default."""
    _refuse(sighting, allowed_tlps)
    return _sighting(
        sighting,
        indicator_stix_id(indicator_pattern(sighting.indicator)),
        agency_stix_id(sighting.agency.code),
        format_timestamp(sighting.observed_at),
        _legal_basis(legal_basis, sighting),
    )


# --- the same objects as JSON text -------------------------------------------------------------
# Only values that need it go through the encoder: ids, timestamps, enum values, marking ids and
# type names are ASCII letters, digits, '-', ':' and '.', already JSON as they are.

_NEW_SCO_TEXT = {t: ',"extensions":' + _ENCODER.encode(e) for t, e in _NEW_SCO.items()}
_MARKING_TEXT = {tlp: f',"object_marking_refs":["{ref}"]' for tlp, ref in TLP_MARKING_IDS.items()}


def _observable_text(sco_type: str, properties: dict[str, Any], tlp: Tlp | None) -> str:
    value = properties.get("value")
    if value is not None and len(properties) == 1:
        body = '"value":' + encode_basestring(value)
    else:
        body = _ENCODER.encode(properties)[1:-1]
    return (
        f'{{"type":"{sco_type}","spec_version":"2.1",'
        f'"id":"{observable_stix_id(sco_type, properties)}",{body}'
        f"{_MARKING_TEXT[tlp] if tlp is not None else ''}{_NEW_SCO_TEXT.get(sco_type, '')}}}"
    )


def _indicator_text(  # noqa: PLR0917 - the same signature as _indicator
    indicator: Indicator, stix_id: str, sco_type: str, pattern: str, stamp: str, tlp: Tlp | None
) -> str:
    return (
        f'{{"type":"indicator","spec_version":"2.1","id":"{stix_id}","created":"{stamp}",'
        f'"modified":"{stamp}","name":{encode_basestring(indicator.canonical)},'
        f'"indicator_types":["malicious-activity"],"pattern":{encode_basestring(pattern)},'
        f'"pattern_type":"stix","pattern_version":"2.1","valid_from":"{stamp}"'
        f"{_MARKING_TEXT[tlp] if tlp is not None else ''},"
        f'"x_scamwall_kind":"{_KIND_TEXT[indicator.kind]}",'
        f'"x_opencti_main_observable_type":"{OPENCTI_TYPES[sco_type]}"}}'
    )


def _sighting_text(
    sighting: Sighting, indicator_ref: str, agency_ref: str, stamp: str, legal: LegalBasis | None
) -> str:
    text = (
        f'{{"type":"sighting","spec_version":"2.1","id":"sighting--{sighting.id}",'
        f'"created_by_ref":"{agency_ref}","created":"{stamp}","modified":"{stamp}",'
        f'"first_seen":"{stamp}","last_seen":"{stamp}","count":1,'
        f'"sighting_of_ref":"{indicator_ref}","where_sighted_refs":["{agency_ref}"],'
        f'"confidence":{int(sighting.confidence)}{_MARKING_TEXT[sighting.tlp]},'
        f'"x_scamwall_source_kind":"{_SOURCE_TEXT[sighting.source_kind]}"'
    )
    if sighting.note is not None:
        text += ',"x_scamwall_note":' + encode_basestring(sighting.note)
    if sighting.evidence_ref is not None:
        text += ',"x_scamwall_evidence_ref":' + encode_basestring(sighting.evidence_ref)
    if legal is not None:
        text += ',"x_scamwall_legal_basis":' + _ENCODER.encode(legal_basis_as_stix(legal))
    return text + "}"


# --- the walk ----------------------------------------------------------------------------------


class _Builders(NamedTuple):
    """How one walk writes its objects: as dicts, or as JSON text."""

    observable: Callable[[str, dict[str, Any], Tlp | None], Any]
    indicator: Callable[[Indicator, str, str, str, str, Tlp | None], Any]
    sighting: Callable[[Sighting, str, str, str, LegalBasis | None], Any]
    other: Callable[[StixObject], Any]


_AS_DICTS = _Builders(_observable, _indicator, _sighting, lambda stix_object: stix_object)
_AS_TEXT = _Builders(_observable_text, _indicator_text, _sighting_text, _ENCODER.encode)


def _refuse(sighting: Sighting, allowed_tlps: Collection[Tlp]) -> None:
    if sighting.tlp not in allowed_tlps:
        raise PermissionDenied(
            f"sighting {sighting.id} is TLP:{sighting.tlp.value.upper()}, which this export may "
            "not carry; RED and AMBER+STRICT stay unless allowed_tlps names them",
            sighting=sighting.id,
            tlp=sighting.tlp.value,
        )


def _legal_basis(source: LegalBasisSource, sighting: Sighting) -> LegalBasis | None:
    if source is None or isinstance(source, LegalBasis):
        return source
    return source(sighting)


def _walk(
    sightings: Iterable[Sighting],
    allowed_tlps: Collection[Tlp],
    legal_basis: LegalBasisSource,
    build: _Builders,
) -> Iterator[Any]:
    allowed = frozenset(allowed_tlps)
    markings_out: set[Tlp] = set()
    agencies_out: dict[str, str] = {}
    extensions_out: set[str] = set()
    indicators_out: set[str] = set()
    for sighting in sightings:
        _refuse(sighting, allowed)
        tlp = sighting.tlp
        if tlp not in markings_out:
            markings_out.add(tlp)
            yield build.other(tlp_marking_definition(tlp))
        agency = sighting.agency
        agency_ref = agencies_out.get(agency.code)
        if agency_ref is None:
            identity = agency_identity(agency)
            agency_ref = agencies_out[agency.code] = identity["id"]
            yield build.other(identity)
        stamp = format_timestamp(sighting.observed_at)
        indicator = sighting.indicator
        sco_type, properties = observable_properties(indicator)
        pattern = observable_pattern(sco_type, properties)
        indicator_ref = indicator_stix_id(pattern)
        if indicator_ref not in indicators_out:
            indicators_out.add(indicator_ref)
            if sco_type in CUSTOM_SCO_TYPES and sco_type not in extensions_out:
                if not extensions_out:
                    yield build.other(scamwall_identity())
                extensions_out.add(sco_type)
                yield build.other(extension_definition(sco_type))
            yield build.observable(sco_type, properties, tlp)
            yield build.indicator(indicator, indicator_ref, sco_type, pattern, stamp, tlp)
        legal = _legal_basis(legal_basis, sighting)
        yield build.sighting(sighting, indicator_ref, agency_ref, stamp, legal)


def export_objects(
    sightings: Iterable[Sighting],
    *,
    allowed_tlps: Collection[Tlp] = EXPORTABLE_TLPS,
    legal_basis: LegalBasisSource = None,
) -> Iterator[StixObject]:
    """Every STIX object the sightings need, each once, in an order where an object comes after
    the objects it refers to. Lazy: memory holds the ids of the indicators seen so far, not the
    objects (about 150 bytes per distinct indicator)."""
    return _walk(sightings, allowed_tlps, legal_basis, _AS_DICTS)


def iter_bundle_json(
    sightings: Iterable[Sighting],
    *,
    allowed_tlps: Collection[Tlp] = EXPORTABLE_TLPS,
    legal_basis: LegalBasisSource = None,
    objects_per_chunk: int = 1000,
) -> Iterator[str]:
    """A STIX 2.1 bundle as JSON text in chunks of ``objects_per_chunk`` objects; write them out
    as they come. The bundle id, a UUIDv5 of the objects' text, is the last member."""
    if objects_per_chunk < 1:
        raise UsageError(f"objects_per_chunk must be 1 or more, not {objects_per_chunk}")
    # the id is a UUIDv5 of exactly the objects array's text, however it is cut into chunks
    digest = hashlib.sha1(STIX_NAMESPACE.bytes)  # noqa: S324 - UUIDv5 is defined over SHA-1
    parts: list[str] = []
    count = 0
    for text in _walk(sightings, allowed_tlps, legal_basis, _AS_TEXT):
        parts.append(text)
        count += 1
        if len(parts) == objects_per_chunk:
            yield _chunk(parts, count, digest)
            parts = []
    if parts:
        yield _chunk(parts, count, digest)
    bundle_id = f"bundle--{_uuid5_from(digest)}"
    yield f'],"id":"{bundle_id}"}}' if count else f'{{"type":"bundle","id":"{bundle_id}"}}'


def _chunk(parts: list[str], count: int, digest: Any) -> str:
    """The next piece of the objects array (``count`` objects so far)."""
    text = ",".join(parts)
    if count > len(parts):
        text = "," + text
    digest.update(text.encode("utf-8"))
    return text if count > len(parts) else '{"type":"bundle","objects":[' + text


def _uuid5_from(digest: Any) -> str:
    raw = bytearray(digest.digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x50
    raw[8] = (raw[8] & 0x3F) | 0x80
    hexed = raw.hex()
    return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"


def export_bundle(
    sightings: Iterable[Sighting],
    *,
    allowed_tlps: Collection[Tlp] = EXPORTABLE_TLPS,
    legal_basis: LegalBasisSource = None,
) -> StixObject:
    """The whole bundle as one dict, equal to what :func:`iter_bundle_json` writes; for small
    exports (it holds every object)."""
    text = "".join(iter_bundle_json(sightings, allowed_tlps=allowed_tlps, legal_basis=legal_basis))
    bundle: StixObject = json.loads(text)
    return bundle
