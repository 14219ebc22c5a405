"""STIX 2.1 bundles from peers in, as scamwall facts; a bad object is rejected, the rest go in.

What becomes a fact (:class:`ImportedFact`), one per source object:

=============================== ===============================================================
object                          fact
=============================== ===============================================================
``sighting`` of an indicator    one per agency in ``where_sighted_refs`` (else
                                ``created_by_ref``); observed at ``first_seen``, else
                                ``last_seen``, else ``created``
``indicator`` no sighting names its author's (``created_by_ref``), observed at ``valid_from``
observable no indicator names   the peer's (``default_agency``), observed at ``received_at``
=============================== ===============================================================

Each fact also takes ``confidence`` (the sighting's, else its indicator's, else the default),
``x_scamwall_source_kind``, ``x_scamwall_note`` (else ``description``, cut to a note's 2,000
characters), ``x_scamwall_evidence_ref`` and ``x_scamwall_legal_basis``.

Every value goes through :func:`~scamwall.indicators.parse_indicator`, so ``Example.COM.`` comes
back as ``example.com``. Patterns are read when they are one observation of ``=`` comparisons
joined by ``AND`` on one object (``[domain-name:value = 'example.com']``, ``[file:hashes.'SHA-256'
= '…']``, ``[user-account:account_type = 'telegram' AND user-account:account_login = 'x']``;
``ISSUBSET`` for an address block); anything wider names more than one indicator and is refused.

Agencies: a peer's identities are claims. Each is mapped to a local agency code by the caller's
``agencies`` (a mapping from identity id or name, or a function of :class:`PeerIdentity`); an
identity it does not map is the peer's ``default_agency``. Nothing maps by itself, not even a
scamwall peer's ``x_scamwall_agency_code``: a peer could otherwise report in a local agency's name.

Markings: the published TLP 1.0 and 2.0 marking ids, and the ids the caller maps in
``extra_markings``. An object with no marking gets ``default_tlp``; a fact takes the most
restrictive of its object's and its indicator's markings (granular markings count as whole-object
ones: scamwall cannot honour a part). A marking scamwall cannot honour rejects the object.

Rejected, with the object's index, id, field and reason: objects that are not JSON objects, wrong
or missing ``type``/``id``/required properties, wrong types, ``spec_version`` other than 2.1,
unknown or unused object types, patterns not mapping to one indicator, values
``parse_indicator`` refuses, timestamps that do not parse or lie in the future, revoked objects,
objects over :attr:`StixImportOptions.max_object_bytes`, and every object past
:attr:`StixImportOptions.max_objects` (one reject for them all). A bundle that is not JSON, not a
bundle or over :attr:`StixImportOptions.max_bundle_bytes` raises instead.

Nothing is written here: the caller records the facts (:meth:`ImportedFact.to_sighting`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scamwall import wire
from scamwall.errors import (
    InvalidIndicator,
    InvalidInput,
    InvalidRecord,
    PayloadTooLarge,
    UsageError,
)
from scamwall.exchange.stix import (
    OBSERVABLE_TYPES,
    SPEC_VERSION,
    TLP1_MARKING_IDS,
    TLP2_EXTENSION_ID,
    TLP_BY_MARKING_ID,
    LegalBasis,
    StixObject,
    indicator_from_observable,
    legal_basis_from_stix,
    most_restrictive,
    observable_fields,
    parse_timestamp,
    read_pattern,
)
from scamwall.indicators import Indicator
from scamwall.intake.records import CLOCK_SKEW, EARLIEST_YEAR, MAX_EVIDENCE_REF, MAX_NOTE
from scamwall.store import Agency, Sighting
from scamwall.store.records import sighting_id
from scamwall.validation import clean_text
from scamwall.vocabulary import SourceKind, Tlp

__all__ = [
    "AgencyMap",
    "ImportReject",
    "ImportedFact",
    "PeerIdentity",
    "StixImportOptions",
    "StixImportResult",
    "import_bundle",
]

# Objects that give context to facts (who, which marking, which extension) and are read as such.
_CONTEXT_TYPES = frozenset(
    {"identity", "marking-definition", "extension-definition", "relationship"}
)
_READ_TYPES = _CONTEXT_TYPES | OBSERVABLE_TYPES | {"indicator", "sighting"}
_ID = re.compile(
    r"^([a-z0-9][a-z0-9-]{0,248})--"
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
)


@dataclass(frozen=True, slots=True)
class PeerIdentity:
    """A peer's ``identity`` as the bundle states it; ``agency_code`` is a scamwall peer's
    ``x_scamwall_agency_code``, a claim to map, never to trust as it is."""

    id: str
    name: str | None = None
    identity_class: str | None = None
    agency_code: str | None = None


#: From a peer's identity to a local agency code: by identity id or name, or a function.
AgencyMap = Mapping[str, str] | Callable[[PeerIdentity], str | None]


@dataclass(frozen=True, slots=True)
class StixImportOptions:
    """How a peer's bundle is read.

    ``default_agency`` is the local code of the peer that sent it, and of every identity
    ``agencies`` does not map; ``region`` reads phone numbers written without a country code;
    ``received_at`` (default: the call's time) dates bare observables and bounds "in the
    future"; ``extra_markings`` maps the peer's own marking ids to a TLP level. Over
    ``max_bundle_bytes`` the bundle is refused; objects past ``max_objects`` and objects over
    ``max_object_bytes`` are rejected.
    """

    default_agency: str
    agencies: AgencyMap | None = None
    default_tlp: Tlp = Tlp.AMBER
    default_confidence: int = 50
    default_source_kind: SourceKind = SourceKind.PARTNER_FEED
    region: str | None = None
    received_at: datetime | None = None
    extra_markings: Mapping[str, Tlp] | None = None
    max_objects: int = 100_000
    max_object_bytes: int = 64 * 1024
    max_bundle_bytes: int = 256 * 1024 * 1024

    def __post_init__(self) -> None:
        if not isinstance(self.default_agency, str) or not self.default_agency.strip():
            raise UsageError("default_agency must be the local code of the peer's agency")
        if not 0 <= self.default_confidence <= 100:
            raise UsageError(f"default_confidence must be 0-100, not {self.default_confidence}")
        if min(self.max_objects, self.max_object_bytes, self.max_bundle_bytes) < 1:
            raise UsageError("max_objects, max_object_bytes and max_bundle_bytes must be positive")


@dataclass(frozen=True, slots=True)
class ImportReject:
    """One object left out, and why: its place in the bundle, its id, the field and reason."""

    index: int | None
    stix_id: str | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = f"object {self.index}" if self.index is not None else "bundle"
        if self.stix_id:
            where += f" ({self.stix_id})"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as reject files and API answers show it."""
        return {"index": self.index, "id": self.stix_id, "field": self.field, "error": self.reason}


@dataclass(frozen=True, slots=True)
class ImportedFact:
    """One sighting a peer reported, ready to record once the agency is resolved."""

    indicator: Indicator
    agency_code: str
    observed_at: datetime
    tlp: Tlp
    confidence: int
    source_kind: SourceKind
    note: str | None
    evidence_ref: str | None
    legal_basis: LegalBasis | None
    #: The object it came from and its place in the bundle.
    stix_id: str
    index: int

    @property
    def sighting_id(self) -> str:
        """The id the sighting will have in the store (the same fact is the same id)."""
        return sighting_id(
            self.indicator.id, self.agency_code, self.observed_at, self.source_kind,
            self.evidence_ref,
        )  # fmt: skip

    def to_sighting(self, resolve_agency: Callable[[str], Agency]) -> Sighting:
        """The :class:`~scamwall.store.Sighting` to record; ``resolve_agency`` gives the
        :class:`~scamwall.store.Agency` of a code (``store.get_agency`` does)."""
        return Sighting(
            indicator=self.indicator,
            agency=resolve_agency(self.agency_code),
            observed_at=self.observed_at,
            source_kind=self.source_kind,
            confidence=self.confidence,
            tlp=self.tlp,
            note=self.note,
            evidence_ref=self.evidence_ref,
            legal_basis=self.legal_basis,
        )


@dataclass(frozen=True, slots=True)
class StixImportResult:
    """What a bundle gave: the facts to record and the objects rejected."""

    facts: tuple[ImportedFact, ...]
    rejects: tuple[ImportReject, ...]

    def sightings(self, resolve_agency: Callable[[str], Agency]) -> Iterator[Sighting]:
        """Every fact as a sighting, agencies resolved by ``resolve_agency``."""
        for fact in self.facts:
            yield fact.to_sighting(resolve_agency)


@dataclass(frozen=True, slots=True)
class _ParsedIndicator:
    indicator: Indicator
    tlp: Tlp | None
    confidence: int | None


def import_bundle(
    bundle: Mapping[str, Any] | str | bytes, options: StixImportOptions
) -> StixImportResult:
    """Read a peer's STIX 2.1 bundle (a dict, or its JSON text or bytes) into facts and rejects.

    Raises :class:`~scamwall.errors.InvalidInput` when the input is not a bundle at all and
    :class:`~scamwall.errors.PayloadTooLarge` over ``options.max_bundle_bytes``.
    """
    objects = _bundle_objects(_load(bundle, options.max_bundle_bytes))
    rejects: list[ImportReject] = []
    if len(objects) > options.max_objects:
        rejects.append(
            ImportReject(
                options.max_objects,
                None,
                "objects",
                f"the bundle holds {len(objects)} objects; only the first {options.max_objects} "
                "are read (max_objects): send the rest in another bundle",
            )
        )
        objects = objects[: options.max_objects]
    received_at = options.received_at or datetime.now(UTC)
    if received_at.tzinfo is None:  # a naive time is UTC, as in intake
        received_at = received_at.replace(tzinfo=UTC)
    received_at = received_at.astimezone(UTC)
    return _Reader(options, received_at, rejects).read(objects)


def _load(bundle: Mapping[str, Any] | str | bytes, max_bytes: int) -> Any:
    if isinstance(bundle, Mapping):
        return bundle
    if not isinstance(bundle, str | bytes):
        raise InvalidInput(f"expected a bundle as dict, str or bytes, not {type(bundle).__name__}")
    if len(bundle) > max_bytes:
        raise PayloadTooLarge(
            f"the bundle is {len(bundle)} bytes, over the limit of {max_bytes}; ask the peer "
            "for smaller bundles",
            limit=max_bytes,
        )
    try:
        return wire.decode(bundle)
    except ValueError as exc:
        raise InvalidInput(f"the bundle is not JSON: {str(exc)[:200]}") from None


def _bundle_objects(bundle: Any) -> list[Any]:
    if not isinstance(bundle, Mapping) or bundle.get("type") != "bundle":
        raise InvalidInput('expected a STIX bundle: a JSON object with "type": "bundle"')
    objects = bundle.get("objects", [])
    if not isinstance(objects, list):
        raise InvalidInput('the bundle\'s "objects" must be a list', field="objects")
    return objects


class _Reader:
    """A pass to check and index the objects, then one per kind of fact. A step that raises
    :class:`InvalidRecord` rejects its object and no other."""

    def __init__(
        self, options: StixImportOptions, received_at: datetime, rejects: list[ImportReject]
    ) -> None:
        self.options = options
        self.received_at = received_at
        self.rejects = rejects
        #: by what a sighting's id is derived from (:func:`sighting_id`): the same fact once
        self.facts: dict[tuple[Any, ...], ImportedFact] = {}
        self.identities: dict[str, PeerIdentity] = {}
        #: id -> (index, object): the newest version of every object that passed the checks
        self.latest: dict[str, tuple[int, StixObject]] = {}
        self.indicators: dict[str, _ParsedIndicator] = {}
        self.rejected_ids: set[str] = set()
        #: what the indicators' patterns name, read or refused for their markings: observables
        #: equal to one are not facts of their own (and are not parsed again)
        self.named: set[tuple[str, frozenset[tuple[str, str]]]] = set()
        self.withheld: set[str] = set()
        #: what markings and identities came to, read once a bundle
        self.tlps: dict[tuple[str, ...], Tlp | None] = {}
        self.agencies: dict[str | None, str] = {}

    def read(self, objects: list[Any]) -> StixImportResult:
        for index, candidate in enumerate(objects):
            self._guard(index, candidate, self._index)
        ordered = sorted(self.latest.values(), key=lambda item: item[0])
        by_type: dict[str, list[tuple[int, StixObject]]] = {}
        for index, stix_object in ordered:
            by_type.setdefault(stix_object["type"], []).append((index, stix_object))
        for index, stix_object in by_type.get("indicator", []):
            self._guard(index, stix_object, self._indicator)
        sightings = by_type.get("sighting", [])
        targets = (o.get("sighting_of_ref") for _, o in sightings)
        sighted = {ref for ref in targets if isinstance(ref, str)}
        for index, stix_object in sightings:
            self._guard(index, stix_object, self._sighting)
        for index, stix_object in by_type.get("indicator", []):
            if stix_object["id"] not in sighted and stix_object["id"] in self.indicators:
                self._guard(index, stix_object, self._lone_indicator)
        covered = {p.indicator.id for p in self.indicators.values()} | self.withheld
        for index, stix_object in ordered:
            if stix_object["type"] in OBSERVABLE_TYPES:
                self._guard(index, stix_object, lambda i, o: self._observable(i, o, covered))
        facts = sorted(self.facts.values(), key=lambda fact: fact.index)
        self.rejects.sort(key=lambda r: -1 if r.index is None else r.index)
        return StixImportResult(tuple(facts), tuple(self.rejects))

    def _guard(self, index: int, candidate: Any, step: Callable[[int, Any], None]) -> None:
        try:
            step(index, candidate)
        except InvalidRecord as exc:
            stix_id = candidate.get("id") if isinstance(candidate, dict) else None
            if isinstance(stix_id, str):
                self.rejected_ids.add(stix_id)
                stix_id = stix_id[:120]
            else:
                stix_id = None
            self.rejects.append(ImportReject(index, stix_id, exc.field, exc.reason))

    # -- checks ------------------------------------------------------------------------------

    def _index(self, index: int, candidate: Any) -> None:
        if not isinstance(candidate, dict):
            raise InvalidRecord(f"expected a JSON object, got {type(candidate).__name__}")
        self._check_size(candidate)
        stix_type, stix_id = candidate.get("type"), candidate.get("id")
        if not isinstance(stix_type, str) or not stix_type:
            raise InvalidRecord("missing or not a string", field="type")
        if not isinstance(stix_id, str) or (match := _ID.match(stix_id)) is None:
            raise InvalidRecord("missing or not a STIX id such as indicator--<uuid>", field="id")
        if match.group(1) != stix_type:
            raise InvalidRecord(f"names type {match.group(1)!r}, not {stix_type!r}", field="id")
        if stix_type not in _READ_TYPES:
            raise InvalidRecord(
                f"{stix_type[:80]!r} objects are not imported; scamwall reads indicators, "
                f"sightings and the observables {', '.join(sorted(OBSERVABLE_TYPES))}",
                field="type",
            )
        spec = candidate.get("spec_version")
        if spec is None and stix_type not in OBSERVABLE_TYPES:
            raise InvalidRecord("missing (STIX 2.0 is not read; send 2.1)", field="spec_version")
        if spec is not None and spec != SPEC_VERSION:
            raise InvalidRecord(f"{str(spec)[:20]!r} is not read; send 2.1", field="spec_version")
        if candidate.get("revoked") is True:
            raise InvalidRecord("the producer revoked this object", field="revoked")
        if stix_type == "marking-definition":
            _check_marking_definition(candidate)
        elif stix_type == "identity":
            self._identity(candidate)
        previous = self.latest.get(stix_id)
        if previous is None or _newer(candidate, previous[1]):
            self.latest[stix_id] = (index, candidate)

    def _check_size(self, candidate: dict[str, Any]) -> None:
        try:
            size = wire.encoded_size(candidate)
        except ValueError:
            raise InvalidRecord("not plain JSON data") from None
        if size > self.options.max_object_bytes:
            raise InvalidRecord(
                f"{size} bytes, over the limit of {self.options.max_object_bytes} for an object"
            )

    def _identity(self, identity: dict[str, Any]) -> None:
        name, code = identity.get("name"), identity.get("x_scamwall_agency_code")
        identity_class = identity.get("identity_class")
        if not isinstance(name, str):
            raise InvalidRecord("an identity needs a name", field="name")
        self.identities[identity["id"]] = PeerIdentity(
            identity["id"],
            name,
            identity_class if isinstance(identity_class, str) else None,
            code if isinstance(code, str) else None,
        )

    # -- facts -------------------------------------------------------------------------------

    def _indicator(self, index: int, stix_object: StixObject) -> None:
        _require(stix_object, "created", "modified", "pattern", "pattern_type", "valid_from")
        for name in ("created", "modified", "valid_from"):
            parse_timestamp(stix_object[name], name)
        if stix_object["pattern_type"] != "stix":
            kind = str(stix_object["pattern_type"])[:40]
            raise InvalidRecord(f"{kind!r} patterns are not read", field="pattern_type")
        pattern = stix_object["pattern"]
        if not isinstance(pattern, str):
            raise InvalidRecord("expected a string", field="pattern")
        object_type, fields = read_pattern(pattern)
        hint = stix_object.get("x_scamwall_kind")
        indicator = self._to_indicator(object_type, fields, hint, "pattern")
        self.named.add((object_type, frozenset(fields.items())))
        try:
            tlp, confidence = self._tlp(stix_object), _confidence(stix_object)
        except InvalidRecord:
            self.withheld.add(indicator.id)  # nor may its observable stand in for it
            raise
        self.indicators[stix_object["id"]] = _ParsedIndicator(indicator, tlp, confidence)

    def _sighting(self, index: int, stix_object: StixObject) -> None:
        _require(stix_object, "created", "modified", "sighting_of_ref")
        target = stix_object["sighting_of_ref"]
        parsed = self.indicators.get(target) if isinstance(target, str) else None
        if parsed is None:
            if not isinstance(target, str) or not target.startswith("indicator--"):
                raise InvalidRecord(
                    "scamwall reads sightings of indicators only", field="sighting_of_ref"
                )
            problem = "was rejected" if target in self.rejected_ids else "is not in this bundle"
            raise InvalidRecord(f"{target[:120]} {problem}", field="sighting_of_ref")
        for name in ("created", "modified", "first_seen", "last_seen"):
            if name in stix_object:
                parse_timestamp(stix_object[name], name)
        seen = next(n for n in ("first_seen", "last_seen", "created") if n in stix_object)
        where = stix_object.get("where_sighted_refs") or []
        if not isinstance(where, list) or not all(isinstance(ref, str) for ref in where):
            raise InvalidRecord("expected a list of identity ids", field="where_sighted_refs")
        confidence = _confidence(stix_object)
        self._add_facts(
            stix_object,
            index,
            indicator=parsed.indicator,
            refs=where or [_optional_ref(stix_object, "created_by_ref")],
            observed_at=self._observed_at(stix_object[seen], seen),
            tlp=self._fact_tlp(
                stix_object, None if self._marks_itself(stix_object) else parsed.tlp
            ),
            confidence=parsed.confidence if confidence is None else confidence,
        )

    def _marks_itself(self, sighting: StixObject) -> bool:
        """A scamwall sighting with its own TLP marking: that marking is the fact's. A scamwall
        export marks an indicator with the TLP of the first of its sightings there (a GREEN
        sighting after an AMBER one shares an AMBER indicator). Another tool's sighting takes
        the stricter of its own marking and its indicator's."""
        return "x_scamwall_source_kind" in sighting and self._tlp(sighting) is not None

    def _lone_indicator(self, index: int, stix_object: StixObject) -> None:
        parsed = self.indicators[stix_object["id"]]
        self._add_facts(
            stix_object,
            index,
            indicator=parsed.indicator,
            refs=[_optional_ref(stix_object, "created_by_ref")],
            observed_at=self._observed_at(stix_object["valid_from"], "valid_from"),
            tlp=self._fact_tlp(stix_object, None),
            confidence=parsed.confidence,
        )

    def _observable(self, index: int, stix_object: StixObject, covered: set[str]) -> None:
        fields = observable_fields(stix_object)
        if (stix_object["type"], frozenset(fields.items())) in self.named:
            return  # the observable of an indicator of this bundle
        indicator = self._to_indicator(stix_object["type"], fields, None, None)
        tlp = self._fact_tlp(stix_object, None)
        if indicator.id in covered:
            return  # the observable of an indicator read already
        covered.add(indicator.id)
        self._add_facts(
            stix_object,
            index,
            indicator=indicator,
            refs=[None],
            observed_at=self.received_at,
            tlp=tlp,
            confidence=None,
        )

    def _add_facts(
        self,
        stix_object: StixObject,
        index: int,
        *,
        indicator: Indicator,
        refs: list[str | None],
        observed_at: datetime,
        tlp: Tlp,
        confidence: int | None,
    ) -> None:
        """One fact per local agency the identities ``refs`` map to."""
        if tlp is Tlp.RED:
            # RED is for the people it names, and an import names nobody: stored, it could
            # never be read by anyone here
            raise InvalidRecord(
                "TLP:RED is seen only by the users it names, and an import names nobody, so "
                "no one could read it here: not imported (ask the sender to share it as "
                "AMBER+STRICT)",
                field="object_marking_refs",
            )
        source_kind, note, evidence_ref, legal_basis = self._details(stix_object)
        for agency_code in dict.fromkeys(self._agency(ref) for ref in refs):
            fact = ImportedFact(
                indicator=indicator,
                agency_code=agency_code,
                observed_at=observed_at,
                tlp=tlp,
                confidence=self.options.default_confidence if confidence is None else confidence,
                source_kind=source_kind,
                note=note,
                evidence_ref=evidence_ref,
                legal_basis=legal_basis,
                stix_id=stix_object["id"],
                index=index,
            )
            # what the sighting's id is derived from, without deriving it: the same fact once
            key = (indicator.id, agency_code, observed_at, fact.source_kind, evidence_ref)
            self.facts.setdefault(key, fact)

    # -- fields ------------------------------------------------------------------------------

    def _to_indicator(
        self, object_type: str, fields: dict[str, str], hint: Any, field: str | None
    ) -> Indicator:
        """The indicator, or a reject naming ``field`` (a pattern's) or the observable's own."""
        try:
            return indicator_from_observable(object_type, fields, hint, self.options.region)
        except InvalidIndicator as exc:
            raise InvalidRecord(exc.message, field=field or "value") from None
        except InvalidRecord as exc:
            raise InvalidRecord(exc.reason, field=field or exc.field) from None

    def _observed_at(self, value: Any, field: str) -> datetime:
        moment = parse_timestamp(value, field)
        if moment.year < EARLIEST_YEAR:
            raise InvalidRecord(f"{value} is before {EARLIEST_YEAR}", field=field)
        if moment > self.received_at + CLOCK_SKEW:
            raise InvalidRecord(f"{value} is in the future", field=field)
        return moment

    def _tlp(self, stix_object: StixObject) -> Tlp | None:
        """The most restrictive TLP of the object's markings, None when it has none."""
        markings = stix_object.get("object_marking_refs") or []
        if (
            "granular_markings" not in stix_object
            and isinstance(markings, list)
            and all(isinstance(ref, str) for ref in markings)
        ):  # the common case: the same few lists of marking ids on every object
            key = tuple(markings)
            if key not in self.tlps:
                self.tlps[key] = self._read_tlp(stix_object)
            return self.tlps[key]
        return self._read_tlp(stix_object)

    def _read_tlp(self, stix_object: StixObject) -> Tlp | None:
        refs: list[tuple[str, Any]] = []
        markings = stix_object.get("object_marking_refs") or []
        if not isinstance(markings, list):
            raise InvalidRecord("expected a list of marking ids", field="object_marking_refs")
        refs += [("object_marking_refs", ref) for ref in markings]
        granular = stix_object.get("granular_markings") or []
        if not isinstance(granular, list) or not all(isinstance(g, dict) for g in granular):
            raise InvalidRecord("expected a list of granular markings", field="granular_markings")
        refs += [("granular_markings", g.get("marking_ref")) for g in granular]
        levels = []
        extra = self.options.extra_markings or {}
        for field, ref in refs:
            tlp = TLP_BY_MARKING_ID.get(ref) or extra.get(ref) if isinstance(ref, str) else None
            if tlp is None:
                raise InvalidRecord(
                    f"{str(ref)[:120]} is not a TLP marking scamwall can honour; map it with "
                    "extra_markings to import this object",
                    field=field,
                )
            levels.append(tlp)
        return most_restrictive(levels) if levels else None

    def _fact_tlp(self, stix_object: StixObject, indicator_tlp: Tlp | None) -> Tlp:
        levels = [t for t in (self._tlp(stix_object), indicator_tlp) if t is not None]
        return most_restrictive(levels) if levels else self.options.default_tlp

    def _agency(self, ref: str | None) -> str:
        if ref not in self.agencies:  # identities are all read before the first fact
            self.agencies[ref] = self._map_agency(ref)
        return self.agencies[ref]

    def _map_agency(self, ref: str | None) -> str:
        mapping = self.options.agencies
        if ref is None or mapping is None:
            return self.options.default_agency
        peer = self.identities.get(ref) or PeerIdentity(ref)
        if isinstance(mapping, Mapping):
            code = mapping.get(ref) or (mapping.get(peer.name) if peer.name else None)
        else:
            code = mapping(peer)
        return code or self.options.default_agency

    def _details(
        self, stix_object: StixObject
    ) -> tuple[SourceKind, str | None, str | None, LegalBasis | None]:
        """Source kind, note, evidence reference and legal basis of a fact's object."""
        source = stix_object.get("x_scamwall_source_kind")
        if source is None:
            source_kind = self.options.default_source_kind
        elif not isinstance(source, str):
            raise InvalidRecord("expected a string", field="x_scamwall_source_kind")
        else:
            try:
                source_kind = SourceKind.parse(source)
            except InvalidRecord as exc:
                raise InvalidRecord(exc.reason, field="x_scamwall_source_kind") from None
        note = _text(stix_object, "x_scamwall_note", MAX_NOTE)
        if note is None:  # a peer's description, cut to a note's length rather than refused
            note = (_text(stix_object, "description", None) or "")[:MAX_NOTE] or None
        evidence_ref = _text(stix_object, "x_scamwall_evidence_ref", MAX_EVIDENCE_REF)
        legal = stix_object.get("x_scamwall_legal_basis")
        legal_basis = None if legal is None else legal_basis_from_stix(legal)
        return source_kind, note, evidence_ref, legal_basis


def _check_marking_definition(marking: dict[str, Any]) -> None:
    """A published TLP id must carry its published level: anything else is a forgery."""
    expected = TLP_BY_MARKING_ID.get(marking["id"])
    if expected is None:
        return  # another producer's marking; objects referring to it are judged there
    if marking["id"] in TLP1_MARKING_IDS:
        definition = marking.get("definition")
        stated = definition.get("tlp") if isinstance(definition, dict) else None
        wanted = "white" if expected is Tlp.CLEAR else expected.value
    else:
        extensions = marking.get("extensions")
        extension = extensions.get(TLP2_EXTENSION_ID) if isinstance(extensions, dict) else None
        stated = extension.get("tlp_2_0") if isinstance(extension, dict) else None
        wanted = expected.value
    if stated != wanted:
        raise InvalidRecord(
            f"the published TLP:{expected.value.upper()} marking id with another content",
            field="definition",
        )


def _newer(candidate: StixObject, previous: StixObject) -> bool:
    """Whether ``candidate`` is a later version than ``previous`` (by ``modified``)."""
    new, old = candidate.get("modified"), previous.get("modified")
    return isinstance(new, str) and isinstance(old, str) and new > old


def _require(stix_object: StixObject, *fields: str) -> None:
    for name in fields:
        if name not in stix_object:
            raise InvalidRecord(f"required for a {stix_object['type']}, missing", field=name)


def _optional_ref(stix_object: StixObject, field: str) -> str | None:
    ref = stix_object.get(field)
    if ref is not None and not isinstance(ref, str):
        raise InvalidRecord("expected a STIX id", field=field)
    return ref


def _confidence(stix_object: StixObject) -> int | None:
    value = stix_object.get("confidence")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise InvalidRecord(
            f"must be a whole number from 0 to 100, got {value!r:.40}", field="confidence"
        )
    return value


def _text(stix_object: StixObject, field: str, limit: int | None) -> str | None:
    value = stix_object.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRecord("expected a string", field=field)
    try:
        text = clean_text(value, field=field, max_length=limit or len(value))
    except InvalidInput as exc:
        raise InvalidRecord(exc.message.removeprefix(f"{field} "), field=field) from None
    return text or None
