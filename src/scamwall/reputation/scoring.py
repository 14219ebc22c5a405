"""How sightings become a score: trust in the reporter, how it was seen, how sure, how long ago.

For one indicator, every counted sighting gets a weight in [0, 1]::

    weight = trust(agency) x confidence/100 x source_weight(source_kind) x 0.5 ** (age / half_life)

An agency counts once: its strongest sighting stands for it (a hundred reports from one desk are
one opinion). Independent agencies then combine like independent witnesses, by noisy-or::

    belief = 1 - prod(1 - strongest weight of each agency)

so two agencies at 0.7 give 0.91 and consensus raises the score without ever reaching 1. Each
false-positive report, weighted by the trust in the agency that made it and its age, takes its
share away: ``score = belief x prod(1 - weight of each false-positive report)``. An allowlisted
value scores 0 whatever was reported (:mod:`scamwall.reputation.allowlist`).

Enforcement receipts weigh nothing: a resolver saying "I blocked it" repeats our own verdict and
must not strengthen it (a feedback loop would keep a mistaken entry alive).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from scamwall.indicators import IndicatorKind
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

__all__ = [
    "DEFAULT_HALF_LIFE_DAYS",
    "DEFAULT_KIND_TRUST",
    "SOURCE_WEIGHT",
    "ScoringRules",
    "noisy_or",
]

#: How fast a report loses weight, per kind: numbers and links are recycled or abandoned within
#: weeks; bank accounts and wallets stay with a gang much longer.
DEFAULT_HALF_LIFE_DAYS: Mapping[IndicatorKind, float] = MappingProxyType(
    {
        IndicatorKind.PHONE: 90.0,
        IndicatorKind.SMS_SENDER: 60.0,
        IndicatorKind.URL: 30.0,
        IndicatorKind.DOMAIN: 90.0,
        IndicatorKind.IP: 14.0,
        IndicatorKind.CIDR: 30.0,
        IndicatorKind.EMAIL: 180.0,
        IndicatorKind.BANK_ACCOUNT: 365.0,
        IndicatorKind.CRYPTO_WALLET: 365.0,
        IndicatorKind.HANDLE: 180.0,
        IndicatorKind.FILE_HASH: 3650.0,
    }
)

#: Trust in an agency by what it is, when the operator names no trust for it.
DEFAULT_KIND_TRUST: Mapping[AgencyKind, float] = MappingProxyType(
    {
        AgencyKind.POLICE: 0.9,
        AgencyKind.TELECOM_REGULATOR: 0.85,
        AgencyKind.INTERNET_REGULATOR: 0.85,
        AgencyKind.CERT: 0.85,
        AgencyKind.BANK: 0.85,
        AgencyKind.OPERATOR: 0.8,
        AgencyKind.EMBASSY: 0.7,
    }
)

#: How much a way of seeing counts: a police case is proven, a public report is a claim.
SOURCE_WEIGHT: Mapping[SourceKind, float] = MappingProxyType(
    {
        SourceKind.POLICE_CASE: 1.0,
        SourceKind.ANALYST: 0.9,
        SourceKind.BANK_REPORT: 0.9,
        SourceKind.TELECOM_DETECTION: 0.8,
        SourceKind.AGENCY_UPLOAD: 0.8,
        SourceKind.PARTNER_FEED: 0.7,
        SourceKind.VICTIM_REPORT: 0.6,
        SourceKind.PUBLIC_REPORT: 0.4,
        SourceKind.ENFORCEMENT_RECEIPT: 0.0,
    }
)

_SECONDS_PER_DAY = 86_400.0


def noisy_or(weights: Iterable[float]) -> float:
    """``1 - prod(1 - w)``: the chance at least one of independent witnesses is right."""
    doubt = 1.0
    for weight in weights:
        doubt *= 1.0 - weight
    return 1.0 - doubt


@dataclass(frozen=True, slots=True)
class ScoringRules:
    """The knobs of the formula in the module docstring; :meth:`from_settings` reads them."""

    half_life_days: Mapping[IndicatorKind, float] = field(
        default_factory=lambda: DEFAULT_HALF_LIFE_DAYS
    )
    kind_trust: Mapping[AgencyKind, float] = field(default_factory=lambda: DEFAULT_KIND_TRUST)
    #: Trust in named agencies (by code), overriding :attr:`kind_trust`.
    agency_trust: Mapping[str, float] = field(default_factory=dict)
    #: Markings whose sightings count; AMBER+STRICT and RED stay with their holders.
    counted_tlps: frozenset[Tlp] = frozenset({Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER})

    @classmethod
    def from_settings(
        cls,
        *,
        half_life_days: Mapping[str, float],
        agency_trust: Mapping[str, float],
        max_tlp: str,
    ) -> ScoringRules:
        """Rules with the operator's overrides on top of the defaults."""
        half_lives = dict(DEFAULT_HALF_LIFE_DAYS)
        half_lives.update({IndicatorKind(k): float(v) for k, v in half_life_days.items()})
        order = list(Tlp)
        counted = frozenset(order[: order.index(Tlp(max_tlp)) + 1])
        return cls(
            half_life_days=MappingProxyType(half_lives),
            agency_trust=MappingProxyType({k.upper(): float(v) for k, v in agency_trust.items()}),
            counted_tlps=counted,
        )

    def trust(self, agency_code: str, agency_kind: AgencyKind) -> float:
        """Trust in one agency, 0-1."""
        named = self.agency_trust.get(agency_code)
        return named if named is not None else self.kind_trust.get(agency_kind, 0.5)

    def decay(self, kind: IndicatorKind, age_seconds: float) -> float:
        """Share of a weight left after ``age_seconds`` (1 for a report from the future)."""
        if age_seconds <= 0:
            return 1.0
        half_life = self.half_life_days[kind] * _SECONDS_PER_DAY
        return float(0.5 ** (age_seconds / half_life))

    def sighting_weight(
        self,
        kind: IndicatorKind,
        *,
        trust: float,
        source_kind: SourceKind,
        confidence: int,
        age_seconds: float,
    ) -> float:
        """The weight of one sighting (module docstring)."""
        return (
            trust
            * (confidence / 100.0)
            * SOURCE_WEIGHT[source_kind]
            * self.decay(kind, age_seconds)
        )
