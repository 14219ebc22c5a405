"""Turning one raw intake record into a :class:`~scamwall.store.Sighting`, or saying why not.

The record's fields (CSV columns or JSON keys):

================ ========= ====================================================================
field            required  meaning
================ ========= ====================================================================
value            yes       the indicator as reported (a number, a link, a wallet…)
kind             no        its kind; guessed from the value's shape when absent
observed_at      no        ISO 8601 time it was seen; naive times are UTC; default: the time the
                           file was first ingested (so running the file again adds nothing)
confidence       no        0-100
tlp              no        clear, green, amber, amber+strict, red (TLP 2.0; ``TLP:`` prefix ok)
source_kind      no        victim_report, telecom_detection, police_case, partner_feed, …
note             no        free text, at most 2,000 characters
region           no        ISO 3166 alpha-2 region to read a local phone number
evidence_ref     no        a reference to the evidence (case number, report id), at most 500
jurisdiction     no        legal basis: where the instrument applies, an ISO 3166 code (TH, TH-10),
                           EU, UN or INT; given together with ``legal_instrument``
legal_instrument no        legal basis: the law, treaty, request or order the sighting is held and
                           shared under (MLA request 2026/114, Computer Crime Act s.20), 1-500
                           characters; given together with ``jurisdiction``
retain_until     no        legal basis: ISO 8601 time a recipient must delete the sighting by
                           (naive times are UTC; not before ``observed_at``); needs the other two
groups           no        AMBER only: sharing groups to share with (names; in CSV, comma-separated)
recipients       no        RED only: user names to share with (in CSV, comma-separated);
                           required for RED where no submitter is named (a file import)
================ ========= ====================================================================

A record without a legal basis is shared with peers under the operator's default
(``scamwall.exchange.legal``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from scamwall.errors import InvalidIndicator, InvalidInput, InvalidRecord, NotFound
from scamwall.exchange.policy import OUTSIDERS, READERS
from scamwall.indicators import parse_indicator
from scamwall.indicators.phone import check_region
from scamwall.store import Agency, LegalBasis, Sighting
from scamwall.store.access import Access
from scamwall.validation import clean_text
from scamwall.vocabulary import SourceKind, Tlp, parse_tlp

__all__ = ["KNOWN_FIELDS", "RecordDefaults", "sighting_from_record", "with_markings"]

KNOWN_FIELDS = frozenset(
    {
        "value",
        "kind",
        "observed_at",
        "confidence",
        "tlp",
        "source_kind",
        "note",
        "region",
        "evidence_ref",
        "jurisdiction",
        "legal_instrument",
        "retain_until",
        "groups",
        "recipients",
    }
)
MAX_NOTE = 2000
MAX_EVIDENCE_REF = 500
CLOCK_SKEW = timedelta(days=1)
EARLIEST_YEAR = 1970


@dataclass(frozen=True, slots=True)
class RecordDefaults:
    """What a record that is silent on a field gets."""

    observed_at: datetime
    tlp: Tlp
    source_kind: SourceKind
    confidence: int
    #: the region the caller gives (``--region``); a record naming its own keeps that
    region: str | None
    #: the region of the settings: only when neither the record, the caller nor the agency names one
    fallback_region: str | None = None


def _text(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidRecord(f"expected text, got {type(value).__name__}", field=name)
    text = str(value).strip()
    return text or None


def _time(text: str, field: str) -> datetime:
    """An ISO 8601 time in UTC; a naive one is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidRecord(
            f"{text!r} is not an ISO 8601 time such as 2026-11-30T08:15:00+07:00", field=field
        ) from None


def _observed_at(text: str | None, default: datetime, now: datetime) -> datetime:
    if text is None:
        return default
    moment = _time(text, "observed_at")
    if moment.year < EARLIEST_YEAR:
        raise InvalidRecord(f"{text} is before {EARLIEST_YEAR}", field="observed_at")
    if moment > now + CLOCK_SKEW:
        raise InvalidRecord(f"{text} is in the future", field="observed_at")
    return moment


def _confidence(value: Any, default: int) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        number = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError, OverflowError):
        number = float("nan")
    if not number.is_integer() or not 0 <= number <= 100:
        raise InvalidRecord(
            f"must be a whole number from 0 to 100, got {value!r}", field="confidence"
        )
    return int(number)


def _bounded(fields: dict[str, Any], name: str, limit: int) -> str | None:
    text = _text(fields, name)
    if text is None:
        return None
    try:
        return clean_text(text, field=name, max_length=limit)
    except InvalidInput as exc:
        raise InvalidRecord(exc.message.removeprefix(f"{name} "), field=name) from None


#: The record's fields named after the :class:`LegalBasis` field each one fills.
_LEGAL_FIELDS = {"jurisdiction": "jurisdiction", "instrument": "legal_instrument"}


def _legal_basis(fields: dict[str, Any], observed_at: datetime) -> LegalBasis | None:
    """The basis a record names: jurisdiction and instrument together or neither; a retention
    limit only with them, and not before the observation."""
    jurisdiction = _text(fields, "jurisdiction")
    instrument = _text(fields, "legal_instrument")
    retain_text = _text(fields, "retain_until")
    if jurisdiction is None and instrument is None:
        if retain_text is not None:
            raise InvalidRecord(
                "needs jurisdiction and legal_instrument: a retention limit is part of a legal "
                "basis",
                field="retain_until",
            )
        return None
    if jurisdiction is None:
        raise InvalidRecord("is required with legal_instrument", field="jurisdiction")
    if instrument is None:
        raise InvalidRecord("is required with jurisdiction", field="legal_instrument")
    retain_until = None if retain_text is None else _time(retain_text, "retain_until")
    if retain_until is not None and retain_until < observed_at:
        raise InvalidRecord(f"{retain_text} is before observed_at", field="retain_until")
    if jurisdiction.isascii():  # "th" means TH; "ß".upper() would be "SS", a country
        jurisdiction = jurisdiction.upper()
    try:
        return LegalBasis(jurisdiction, instrument, retain_until)
    except InvalidRecord as exc:
        field = _LEGAL_FIELDS.get(exc.field or "", exc.field)
        raise InvalidRecord(exc.reason, field=field) from None


def sighting_from_record(
    fields: dict[str, Any], *, agency: Agency, defaults: RecordDefaults, now: datetime
) -> Sighting:
    """The sighting a record describes; :class:`InvalidRecord` names the first bad field."""
    value = _text(fields, "value")
    if value is None:
        raise InvalidRecord("is required and empty", field="value")
    try:
        region = (
            check_region(_text(fields, "region"))
            or defaults.region
            or agency.country
            or defaults.fallback_region
        )
    except InvalidIndicator as exc:
        raise InvalidRecord(exc.reason, field="region") from None
    try:
        indicator = parse_indicator(value, _text(fields, "kind"), region)
    except InvalidIndicator as exc:
        field = "kind" if exc.kind is None and "unknown kind" in exc.reason else "value"
        raise InvalidRecord(exc.message, field=field) from None
    tlp_text = _text(fields, "tlp")
    source_text = _text(fields, "source_kind")
    observed_at = _observed_at(_text(fields, "observed_at"), defaults.observed_at, now)
    return Sighting(
        indicator=indicator,
        agency=agency,
        observed_at=observed_at,
        source_kind=SourceKind.parse(source_text) if source_text else defaults.source_kind,
        confidence=_confidence(fields.get("confidence"), defaults.confidence),
        tlp=parse_tlp(tlp_text) if tlp_text else defaults.tlp,
        note=_bounded(fields, "note", MAX_NOTE),
        evidence_ref=_bounded(fields, "evidence_ref", MAX_EVIDENCE_REF),
        legal_basis=_legal_basis(fields, observed_at),
    )


def _names(fields: dict[str, Any], name: str) -> list[str]:
    value = fields.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidRecord("expected a list of names", field=name)
    try:
        names = [clean_text(v, field=name, max_length=100) for v in value]
    except InvalidInput as exc:
        raise InvalidRecord(exc.message, field=name) from None
    return [n for n in names if n]


def with_markings(
    fact: Sighting, fields: dict[str, Any], access: Access, *, submitted_by: int | None
) -> Sighting:
    """``fact`` with the sharing groups (AMBER) and recipients (RED) its record names."""
    groups = _names(fields, "groups")
    recipients = _names(fields, "recipients")
    if groups and fact.tlp is not Tlp.AMBER:
        raise InvalidRecord("groups apply to AMBER sightings only", field="groups")
    if recipients and fact.tlp is not Tlp.RED:
        raise InvalidRecord("recipients apply to RED sightings only", field="recipients")
    try:
        named = [access.get_user(name) for name in recipients]
    except NotFound as exc:
        raise InvalidRecord(exc.message, field="recipients") from None
    user_ids = frozenset(user.id for user in named)
    readers = [user for user in named if user.role in READERS and user.role not in OUTSIDERS]
    if fact.tlp is Tlp.RED and not readers and submitted_by is None:
        # RED is for the people it names; with no one named, no one could ever read it
        raise InvalidRecord(
            "a RED sighting is seen only by the users it names, and this one names nobody "
            "who may read sightings (feed and public users may not): list their user names in "
            "recipients, or mark it AMBER+STRICT (your agency only)",
            field="recipients",
        )
    try:
        group_ids = access.group_ids_by_name(groups) if groups else frozenset()
    except InvalidInput as exc:
        raise InvalidRecord(exc.message, field="groups") from None
    return dataclasses.replace(
        fact, groups=group_ids, recipients=user_ids, submitted_by=submitted_by
    )
