"""The records the store keeps: agencies, sightings (append-only facts) and the legal basis a
sighting is held and shared under."""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scamwall.errors import InvalidInput, InvalidRecord
from scamwall.indicators import Indicator
from scamwall.indicators.kinds import uuid5_text
from scamwall.validation import clean_text
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

__all__ = [
    "MAX_INSTRUMENT",
    "SIGHTING_NAMESPACE",
    "Agency",
    "LegalBasis",
    "Sighting",
    "sighting_id",
]

#: UUIDv5 namespace of sighting ids. Never change it: ids make re-reported facts collide.
SIGHTING_NAMESPACE = uuid.UUID("9d3f6a52-0c1e-5b7a-8e44-71b2d6c0f3a9")


@dataclass(frozen=True, slots=True)
class Agency:
    """A participating organisation: police unit, regulator, CERT, bank, operator…"""

    id: int
    code: str
    name: str
    country: str
    kind: AgencyKind


#: ISO 3166-1 alpha-2 (``TH``, also ``EU`` and ``UN``), ISO 3166-2 subdivision (``TH-10``) or
#: ``INT`` (international, e.g. an Interpol channel).
_JURISDICTION = re.compile(r"(?:[A-Z]{2}(?:-[A-Z0-9]{1,3})?|INT)")
MAX_INSTRUMENT = 500


@functools.lru_cache(maxsize=1024)
def _clean_instrument(instrument: str) -> str:
    """An instrument's text, checked; the same few instruments cover most sightings, so the
    last thousand are remembered (a refused one is checked again each time)."""
    try:
        text = clean_text(instrument, field="instrument", max_length=MAX_INSTRUMENT)
    except InvalidInput as exc:
        raise InvalidRecord(exc.message.removeprefix("instrument "), field="instrument") from None
    if not text:
        raise InvalidRecord("is empty", field="instrument")
    return text


@dataclass(frozen=True, slots=True)
class LegalBasis:
    """The law a sighting is held and shared under.

    ``jurisdiction`` is an ISO 3166 code (``TH``, ``TH-10``), ``EU``, ``UN`` or ``INT``;
    ``instrument`` names the law, treaty, request or order (``MLA request 2026/114``,
    ``Computer Crime Act B.E. 2560 s.20``); ``retain_until`` is when a recipient must delete the
    fact, if the instrument limits it. Bad values raise :class:`InvalidRecord` naming the field.
    """

    jurisdiction: str
    instrument: str
    retain_until: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.jurisdiction, str) or not _JURISDICTION.fullmatch(self.jurisdiction):
            raise InvalidRecord(
                f"{str(self.jurisdiction)[:20]!r} is not an ISO 3166 code (TH, TH-10), EU, UN "
                "or INT",
                field="jurisdiction",
            )
        if not isinstance(self.instrument, str):
            raise InvalidRecord("expected text", field="instrument")
        object.__setattr__(self, "instrument", _clean_instrument(self.instrument))
        if self.retain_until is not None:
            if not isinstance(self.retain_until, datetime):
                raise InvalidRecord("expected a time", field="retain_until")
            if self.retain_until.tzinfo is None:
                raise InvalidRecord("needs a time zone", field="retain_until")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form; ``retain_until`` is ISO 8601, or None when the instrument sets no
        limit."""
        return {
            "jurisdiction": self.jurisdiction,
            "instrument": self.instrument,
            "retain_until": None if self.retain_until is None else self.retain_until.isoformat(),
        }


def sighting_id(
    indicator_id: str,
    agency_code: str,
    observed_at: datetime,
    source_kind: SourceKind,
    evidence_ref: str | None,
) -> str:
    """Id of a fact: who saw what, when, how and on which evidence. Same fact, same id."""
    key = "|".join(
        (indicator_id, agency_code, observed_at.isoformat(), source_kind.value, evidence_ref or "")
    )
    return uuid5_text(SIGHTING_NAMESPACE, key)


@dataclass(frozen=True, slots=True)
class Sighting:
    """One agency's report that it saw an indicator. Never changed once stored.

    Confidence, TLP, sharing, note and legal basis describe the report but are not part of its
    identity: the same observation sent twice with another note is still one fact, and the first
    one stays, markings and legal basis included (a re-report can never widen who sees a fact).
    """

    indicator: Indicator
    agency: Agency
    observed_at: datetime
    source_kind: SourceKind
    confidence: int
    tlp: Tlp
    note: str | None = None
    evidence_ref: str | None = None
    #: Sharing groups an AMBER sighting is shared with (ids); see ``scamwall.exchange.policy``.
    groups: frozenset[int] = frozenset()
    #: Users a RED sighting is shared with (ids), besides the user who submitted it.
    recipients: frozenset[int] = frozenset()
    #: The user who submitted it, when it came through an authenticated request.
    submitted_by: int | None = None
    #: The law it is held and shared under, when the reporting agency named one; without it, the
    #: operator's default applies when it is shared (``scamwall.exchange.legal``).
    legal_basis: LegalBasis | None = None
    #: The fact's id, see :func:`sighting_id`.
    id: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.confidence, bool) or not 0 <= self.confidence <= 100:
            raise InvalidRecord(f"must be 0-100, got {self.confidence!r}", field="confidence")
        if self.observed_at.tzinfo is None:
            raise InvalidRecord("needs a time zone", field="observed_at")
        if self.observed_at.utcoffset():  # one instant, one id: times are kept in UTC
            object.__setattr__(self, "observed_at", self.observed_at.astimezone(UTC))
        fact = sighting_id(
            self.indicator.id,
            self.agency.code,
            self.observed_at,
            self.source_kind,
            self.evidence_ref,
        )
        object.__setattr__(self, "id", fact)

    @classmethod
    def stored(
        cls,
        stored_id: str,
        *,
        indicator: Indicator,
        agency: Agency,
        observed_at: datetime,
        source_kind: SourceKind,
        confidence: int,
        tlp: Tlp,
        note: str | None,
        evidence_ref: str | None,
        groups: frozenset[int],
        recipients: frozenset[int] = frozenset(),
        submitted_by: int | None,
        legal_basis: LegalBasis | None,
    ) -> Sighting:
        """A sighting read back from the store (checked when it was written, ``observed_at`` in
        UTC) with its stored id: nothing checked or computed again. Pages of the shared view
        build thousands of these."""
        sighting = object.__new__(cls)
        for name, value in (
            ("indicator", indicator),
            ("agency", agency),
            ("observed_at", observed_at),
            ("source_kind", source_kind),
            ("confidence", confidence),
            ("tlp", tlp),
            ("note", note),
            ("evidence_ref", evidence_ref),
            ("groups", groups),
            ("recipients", recipients),
            ("submitted_by", submitted_by),
            ("legal_basis", legal_basis),
            ("id", stored_id),
        ):
            object.__setattr__(sighting, name, value)
        return sighting
