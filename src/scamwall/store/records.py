"""The records the store keeps: agencies and sightings (append-only facts)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from scamwall.errors import InvalidRecord
from scamwall.indicators import Indicator
from scamwall.indicators.kinds import uuid5_text
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

__all__ = ["SIGHTING_NAMESPACE", "Agency", "Sighting", "sighting_id"]

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

    Confidence, TLP, sharing and note describe the report but are not part of its identity: the
    same observation sent twice with another note is still one fact, and the first one stays,
    markings included (a re-report can never widen who sees a fact).
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
    #: The fact's id, see :func:`sighting_id`.
    id: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.confidence, bool) or not 0 <= self.confidence <= 100:
            raise InvalidRecord(f"must be 0-100, got {self.confidence!r}", field="confidence")
        if self.observed_at.tzinfo is None:
            raise InvalidRecord("needs a time zone", field="observed_at")
        fact = sighting_id(
            self.indicator.id,
            self.agency.code,
            self.observed_at,
            self.source_kind,
            self.evidence_ref,
        )
        object.__setattr__(self, "id", fact)
