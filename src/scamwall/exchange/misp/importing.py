"""MISP import: events from peers become sightings of the event creator's agency.

Reads one event (``{"Event": {...}}`` or the bare event), a list of them, a MISP REST search
answer (``{"response": [...]}``), :class:`pymisp.MISPEvent` objects, or a feed directory
(``manifest.json`` beside ``<uuid>.json`` files). Each attribute of a kind scamwall pools (see
:mod:`~scamwall.exchange.misp.attributes`) becomes a :class:`~scamwall.store.Sighting` of the
event creator's agency, canonicalised by :func:`~scamwall.indicators.parse_indicator`:

============ ======================================================================================
field        read from (the first present)
============ ======================================================================================
observed_at  attribute ``first_seen``; object ``first_seen``; attribute ``timestamp``; event
             ``date`` (midnight UTC)
tlp          ``tlp:*`` tags of the attribute, else of the event (the most restricted when several);
             else the caller's default, narrowed (never widened) by the MISP distribution
confidence   ``misp:confidence-level`` or ``estimative-language:likelihood-probability`` tag of the
             attribute, else of the event, else the caller's default
note         the attribute's ``comment``
evidence_ref ``misp:<event uuid>/<attribute uuid>``
============ ======================================================================================

``to_ids`` is not a filter by default: it tells an IDS whether to alert on a value, and MISP leaves
it off for phone numbers, the first indicator of a phone scam (``require_to_ids`` makes it one).
Deleted attributes are skipped. Inside objects only the relations that name the scam's
infrastructure are read; the others describe and are counted as ``ignored``. A bad attribute is
rejected with the event uuid, its place and uuid, the field and the reason; the rest imports.
Nothing is written: the caller records :attr:`MispImport.facts`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from pymisp import MISPEvent

from scamwall.errors import InvalidIndicator, InvalidInput, PayloadTooLarge, UsageError
from scamwall.exchange.misp.attributes import indicator_values
from scamwall.exchange.misp.fields import (
    RejectedField,
    read_distribution,
    read_flag,
    read_list,
    read_moment,
    read_text,
    read_uuid,
)
from scamwall.exchange.misp.tags import DISTRIBUTION_TLP, most_restricted, read_markings
from scamwall.indicators import IndicatorKind, parse_indicator
from scamwall.indicators.phone import check_region
from scamwall.store import Agency, Sighting
from scamwall.validation import clean_text
from scamwall.vocabulary import SourceKind, Tlp

__all__ = [
    "CLOCK_SKEW",
    "MAX_NOTE",
    "AgencyResolver",
    "MispImport",
    "MispImportOptions",
    "MispOrg",
    "MispReject",
    "agencies_by_org",
    "import_misp_events",
    "import_misp_feed",
    "import_misp_file",
    "import_misp_json",
]

#: The longest note (an attribute's ``comment``) kept; a longer one rejects the attribute.
MAX_NOTE = 2000
#: How far past ``now`` an observation may be before it is rejected as in the future.
CLOCK_SKEW = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class MispOrg:
    """The organisation that created an event (MISP's ``Orgc``), as the event names it."""

    name: str | None
    uuid: str | None


#: Gives the agency whose sightings an event's attributes become.
AgencyResolver = Callable[[MispOrg], Agency]


def agencies_by_org(
    codes: Mapping[str, str], agencies: Iterable[Agency], default: Agency
) -> AgencyResolver:
    """A resolver from an ``Orgc`` uuid or name (keys of ``codes``, any case) to an agency code,
    then to one of ``agencies``; organisations not in ``codes`` map to ``default``."""
    by_code = {agency.code: agency for agency in agencies}
    keys = {key.strip().lower(): code for key, code in codes.items()}
    missing = sorted(set(keys.values()) - by_code.keys())
    if missing:
        raise UsageError(f"no agency with code {', '.join(missing)}; add it or fix the mapping")

    def resolve(org: MispOrg) -> Agency:
        for key in (org.uuid, org.name):
            if key and key.strip().lower() in keys:
                return by_code[keys[key.strip().lower()]]
        return default

    return resolve


@dataclass(frozen=True, slots=True)
class MispImportOptions:
    """How an import reads what an event leaves unsaid, and its bounds.

    An imported AMBER sighting belongs to the peer's agency: besides that agency's users only the
    agencies of ``groups`` see it, so name the groups that should. RED ones are seen by
    ``recipients`` only.
    """

    default_tlp: Tlp = Tlp.AMBER
    default_confidence: int = 50
    source_kind: SourceKind = SourceKind.PARTNER_FEED
    #: ISO 3166 region to read local phone numbers and bank accounts; default: the agency's.
    region: str | None = None
    require_to_ids: bool = False
    groups: frozenset[int] = frozenset()
    recipients: frozenset[int] = frozenset()
    max_attributes_per_event: int = 50_000
    max_file_bytes: int = 64 * 1024 * 1024
    #: Events one import reads, rejected ones too; past it, one reject and reading stops.
    max_events: int = 10_000

    def __post_init__(self) -> None:
        if not 0 <= self.default_confidence <= 100:
            raise UsageError(f"default_confidence is 0-100, got {self.default_confidence}")
        caps = (self.max_attributes_per_event, self.max_file_bytes, self.max_events)
        if min(caps) < 1:
            raise UsageError("the max_* bounds are positive numbers")
        check_region(self.region)  # an unknown region fails here, not once per event


@dataclass(frozen=True, slots=True)
class MispReject:
    """One attribute (or a whole event) that did not import, and why."""

    source: str
    event: str | None
    #: Where it sits: ``Attribute[3]``, ``Object[0].Attribute[2]``, ``Event[1]`` or ``-``.
    place: str
    attribute: str | None
    field: str
    reason: str

    @property
    def message(self) -> str:
        """One line naming where and why, for logs and reject files."""
        named = f" ({self.attribute})" if self.attribute else ""
        where = f"{self.source}: event {self.event or '?'} {self.place}{named}"
        return f"{where}: {self.field}: {self.reason}"


@dataclass(frozen=True, slots=True)
class MispImport:
    """What an import produced: facts to record, rejects to report."""

    facts: tuple[Sighting, ...]
    rejects: tuple[MispReject, ...]
    events: int
    #: Attributes read but not pooled: describing object relations, deleted ones, and (with
    #: ``require_to_ids``) those with ``to_ids`` off.
    ignored: int


@dataclass(slots=True)
class _Event:
    """What an event gives each of its attributes: its uuid, agency, region, date and markings."""

    uuid: str
    agency: Agency
    region: str | None
    date: datetime | None
    distribution: int | None
    tlps: list[Tlp]
    confidence: int | None


@dataclass(slots=True)
class _Importer:
    """One import: events go in one by one, facts (deduplicated by id) and rejects gather."""

    resolve: AgencyResolver
    options: MispImportOptions
    now: datetime
    facts: dict[str, Sighting] = field(default_factory=dict)
    rejects: list[MispReject] = field(default_factory=list)
    events: int = 0
    #: Events read, rejected ones too: what ``max_events`` bounds.
    read: int = 0
    ignored: int = 0

    def result(self) -> MispImport:
        return MispImport(
            tuple(self.facts.values()), tuple(self.rejects), self.events, self.ignored
        )

    def reject(
        self, source: str, event: str | None, place: str, exc: RejectedField, attribute: str | None
    ) -> None:
        self.rejects.append(MispReject(source, event, place, attribute, exc.field, exc.reason))

    @property
    def full(self) -> bool:
        """Whether ``max_events`` events have been read: nothing more is."""
        return self.read >= self.options.max_events

    def refuse_the_rest(self, source: str, event: str | None, place: str) -> None:
        """The one reject that says reading stopped at ``max_events``."""
        cap = self.options.max_events
        reason = f"over {cap} events; the rest is not read: split the input"
        self.reject(source, event, place, RejectedField("Event", reason), None)

    def document(self, data: Any, source: str) -> bool:
        """An event, a list of events or a REST ``response``; False once :attr:`full`."""
        if isinstance(data, dict) and isinstance(data.get("response"), list):
            data = data["response"]
        for index, item in enumerate(data if isinstance(data, list) else [data]):
            if not self.event(item, source, f"Event[{index}]"):
                return False
        return True

    def event(self, raw: Any, source: str, place: str) -> bool:
        """One event, accepted or rejected; False, and nothing read, once :attr:`full`."""
        body = raw.get("Event", raw) if isinstance(raw, dict) else raw
        named = body.get("uuid") if isinstance(body, dict) else None
        named = named if isinstance(named, str) else None
        if self.full:  # a peer's bad events count too, or it could send them without end
            self.refuse_the_rest(source, named, place)
            return False
        self.read += 1
        try:
            context = self.event_context(body)
        except RejectedField as exc:
            self.reject(source, named, place, exc, None)
            return True
        self.events += 1
        for index, attribute in enumerate(body.get("Attribute") or []):
            self.attribute(context, source, attribute, f"Attribute[{index}]", None)
        for o_index, obj in enumerate(body.get("Object") or []):
            for index, attribute in enumerate(obj.get("Attribute") or []):
                where = f"Object[{o_index}].Attribute[{index}]"
                self.attribute(context, source, attribute, where, obj)
        return True

    def event_context(self, body: Any) -> _Event:
        if not isinstance(body, dict):
            raise RejectedField("Event", f"expected a JSON object, got {type(body).__name__}")
        event_uuid = read_uuid(body.get("uuid"), "uuid")
        attributes = read_list(body, "Attribute")
        objects = read_list(body, "Object")
        for index, obj in enumerate(objects):
            if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
                raise RejectedField(f"Object[{index}]", "expected a JSON object with a name")
            read_list(obj, "Attribute", f"Object[{index}].Attribute")
        count = len(attributes) + sum(len(obj.get("Attribute") or []) for obj in objects)
        if count > self.options.max_attributes_per_event:
            cap = self.options.max_attributes_per_event
            raise RejectedField("Attribute", f"{count} attributes, over the cap of {cap}; split it")
        orgc = body.get("Orgc") or {}
        if not isinstance(orgc, dict):
            raise RejectedField("Orgc", "expected a JSON object with name and uuid")
        org = MispOrg(read_text(orgc.get("name"), "Orgc"), read_text(orgc.get("uuid"), "Orgc"))
        try:
            agency = self.resolve(org)
            region = check_region(self.options.region) or agency.country
        except (InvalidInput, UsageError) as exc:
            raise RejectedField("Orgc", exc.message) from None
        day = body.get("date")
        try:
            moment = datetime.combine(date.fromisoformat(day), time(), UTC) if day else None
        except (TypeError, ValueError):
            raise RejectedField("date", f"{day!r} is not a date such as 2026-11-30") from None
        tlps, confidence = read_markings(body.get("Tag"))
        return _Event(event_uuid, agency, region, moment, read_distribution(body), tlps, confidence)

    def attribute(
        self, event: _Event, source: str, raw: Any, place: str, obj: dict[str, Any] | None
    ) -> None:
        attribute_uuid = None
        try:
            if not isinstance(raw, dict):
                raise RejectedField(
                    "Attribute", f"expected a JSON object, got {type(raw).__name__}"
                )
            if read_flag(raw.get("deleted"), "deleted"):  # whatever it holds: it is gone
                self.ignored += 1
                return
            attribute_uuid = read_uuid(raw.get("uuid"), "uuid")
            values = indicator_values(raw, obj, event.region)
            skipped = self.options.require_to_ids and not read_flag(raw.get("to_ids"), "to_ids")
            if values is None or skipped:
                self.ignored += 1
                return
            facts = self.facts_of(event, raw, obj, attribute_uuid, values)
        except RejectedField as exc:
            self.reject(source, event.uuid, place, exc, attribute_uuid)
            return
        for fact in facts:  # all parts of a composite value, or none
            self.facts.setdefault(fact.id, fact)

    def facts_of(
        self,
        event: _Event,
        raw: dict[str, Any],
        obj: dict[str, Any] | None,
        attribute_uuid: str,
        values: list[tuple[IndicatorKind | None, str]],
    ) -> list[Sighting]:
        observed_at = self.observed_at(raw, obj, event)
        tlps, confidence = read_markings(raw.get("Tag"))
        tlps = tlps or event.tlps
        if tlps:
            tlp = most_restricted(tlps)
        else:
            level = read_distribution(raw, obj)
            level = event.distribution if level is None else level
            widest = Tlp.CLEAR if level is None else DISTRIBUTION_TLP[level]
            tlp = most_restricted([self.options.default_tlp, widest])
        if tlp is Tlp.RED and not self.options.recipients:
            # RED is for the people it names; with no one named, no one could ever read it
            raise RejectedField(
                "Tag",
                "TLP:RED is seen only by the users it names, and this import names nobody, so "
                "no one could read it here: not imported (ask the sender to share it as "
                "AMBER+STRICT)",
            )
        note = read_text(raw.get("comment"), "comment")
        try:
            note = clean_text(note, field="comment", max_length=MAX_NOTE) if note else None
        except InvalidInput as exc:
            raise RejectedField("comment", exc.message) from None
        facts = []
        for kind, text in values:
            try:
                indicator = parse_indicator(text, kind, event.region)
            except InvalidIndicator as exc:
                raise RejectedField("value", exc.message) from None
            facts.append(
                Sighting(
                    indicator=indicator,
                    agency=event.agency,
                    observed_at=observed_at,
                    source_kind=self.options.source_kind,
                    confidence=_first(
                        confidence, event.confidence, self.options.default_confidence
                    ),
                    tlp=tlp,
                    note=note or None,
                    evidence_ref=f"misp:{event.uuid}/{attribute_uuid}",
                    groups=self.options.groups if tlp is Tlp.AMBER else frozenset(),
                    recipients=self.options.recipients if tlp is Tlp.RED else frozenset(),
                )
            )
        return facts

    def observed_at(
        self, raw: dict[str, Any], obj: dict[str, Any] | None, event: _Event
    ) -> datetime:
        candidates = [("first_seen", raw.get("first_seen"))]
        if obj is not None:
            candidates.append(("Object.first_seen", obj.get("first_seen")))
        candidates.append(("timestamp", raw.get("timestamp")))
        for name, value in candidates:
            if value in (None, ""):
                continue
            try:
                moment = read_moment(value)
            except (TypeError, ValueError, OverflowError, OSError):
                reason = f"{value!r} is not a time (ISO 8601, or Unix seconds)"
                raise RejectedField(name, reason) from None
            return self.in_range(name, moment)
        if event.date is None:
            raise RejectedField(
                "first_seen", "no time: give first_seen, timestamp or the event date"
            )
        return self.in_range("date", event.date)

    def in_range(self, name: str, moment: datetime) -> datetime:
        """``moment`` when it lies between 1970 and a day past now, else a reject of ``name``."""
        if moment.year < 1970 or moment > self.now + CLOCK_SKEW:
            raise RejectedField(name, f"{moment.isoformat()} is before 1970 or in the future")
        return moment


def _first(*values: int | None) -> int:
    return next(value for value in values if value is not None)


def import_misp_events(
    events: Iterable[Any],
    agency: Agency | AgencyResolver,
    options: MispImportOptions | None = None,
    *,
    now: datetime | None = None,
    source: str = "<input>",
) -> MispImport:
    """Sightings from MISP events: parsed JSON (``{"Event": ...}`` or the bare event) or
    :class:`pymisp.MISPEvent` objects (as ``PyMISP.search(pythonify=True)`` gives them)."""
    importer = _importer(agency, options, now)
    for index, event in enumerate(events):
        body = json.loads(event.to_json()) if isinstance(event, MISPEvent) else event
        if not importer.event(body, source, f"Event[{index}]"):
            break  # a generator is not drained past max_events
    return importer.result()


def import_misp_json(
    text: str | bytes,
    agency: Agency | AgencyResolver,
    options: MispImportOptions | None = None,
    *,
    now: datetime | None = None,
    source: str = "<input>",
) -> MispImport:
    """Sightings from MISP JSON text: one event, a list of events or a REST search answer.
    :class:`PayloadTooLarge` past ``max_file_bytes``."""
    importer = _importer(agency, options, now)
    limit = importer.options.max_file_bytes
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise PayloadTooLarge(f"{source} is over {limit} bytes; raise max_file_bytes", limit=limit)
    _load_into(importer, text, source)
    return importer.result()


def import_misp_file(
    path: str | Path,
    agency: Agency | AgencyResolver,
    options: MispImportOptions | None = None,
    *,
    now: datetime | None = None,
) -> MispImport:
    """Sightings from a MISP JSON file; :class:`PayloadTooLarge` past ``max_file_bytes``."""
    importer = _importer(agency, options, now)
    _load_into(importer, _read_bounded(Path(path), importer.options.max_file_bytes), str(path))
    return importer.result()


def import_misp_feed(
    directory: str | Path,
    agency: Agency | AgencyResolver,
    options: MispImportOptions | None = None,
    *,
    now: datetime | None = None,
) -> MispImport:
    """Sightings from a MISP feed directory: the events ``manifest.json`` lists, each read from
    ``<uuid>.json`` beside it. A name that is not a uuid is rejected, never opened."""
    folder = Path(directory)
    importer = _importer(agency, options, now)
    manifest_path = folder / "manifest.json"
    limit = importer.options.max_file_bytes
    try:
        manifest = json.loads(_read_bounded(manifest_path, limit))
    except (OSError, ValueError, RecursionError) as exc:
        raise InvalidInput(f"{manifest_path}: not a MISP feed manifest ({exc})") from None
    if not isinstance(manifest, dict):
        raise InvalidInput(f"{manifest_path}: expected an object of event uuid -> metadata")
    for key in sorted(manifest):
        if importer.full:  # the next file is not opened
            importer.refuse_the_rest(str(manifest_path), key, "-")
            break
        try:
            if read_uuid(key, "manifest") != key.lower():
                raise RejectedField("manifest", f"{key!r} is not a uuid in its canonical form")
            text = _read_bounded(folder / f"{key.lower()}.json", limit)
        except RejectedField as exc:
            importer.reject(str(manifest_path), key, "-", exc, None)
            continue
        except (OSError, PayloadTooLarge) as exc:
            reason = exc.message if isinstance(exc, PayloadTooLarge) else f"cannot read: {exc}"
            importer.reject(str(manifest_path), key, "-", RejectedField("file", reason), None)
            continue
        if not _load_into(importer, text, str(folder / f"{key.lower()}.json")):
            break
    return importer.result()


def _importer(
    agency: Agency | AgencyResolver, options: MispImportOptions | None, now: datetime | None
) -> _Importer:
    resolve: AgencyResolver = (lambda _org: agency) if isinstance(agency, Agency) else agency
    return _Importer(resolve, options or MispImportOptions(), now or datetime.now(UTC))


def _read_bounded(path: Path, limit: int) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"{path} is over {limit} bytes; raise max_file_bytes", limit=limit)
    return data


def _load_into(importer: _Importer, text: str | bytes, source: str) -> bool:
    """Reads one JSON document into ``importer``; False once it is full."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        importer.reject(source, None, "-", RejectedField("json", f"not JSON: {exc}"), None)
        return True
    return importer.document(data, source)
