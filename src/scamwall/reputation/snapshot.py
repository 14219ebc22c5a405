"""An immutable, versioned, in-memory view of every indicator's reputation.

Screening asks the snapshot, never the database: a batch of messages is judged against one
consistent state, at memory speed, and the verdict names the snapshot it used. The API and long
runs build a new snapshot in the background and swap it in whole (:class:`SnapshotHolder`).

What a snapshot tells about the sightings behind a score is safe for any caller: the agency is
named only for CLEAR sightings; for the others the evidence says how it was seen, how strongly,
and the sighting's id, which an authorised user can look up (the policy decides what they see).
Sightings marked AMBER+STRICT or RED never count (see ``ScoringRules.counted_tlps``).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from scamwall.indicators import Indicator, IndicatorKind
from scamwall.reputation.allowlist import AllowEntry, Allowlist, load_allowlist
from scamwall.reputation.scoring import ScoringRules, noisy_or
from scamwall.store.repository import Store
from scamwall.store.schema import agencies, false_positive_reports, indicators, sightings
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

__all__ = ["Evidence", "Reputation", "ReputationSnapshot", "SnapshotHolder", "build_snapshot"]

_BATCH = 20_000


@dataclass(frozen=True, slots=True)
class Evidence:
    """The strongest sighting of one agency behind a score."""

    sighting_id: str
    source_kind: str
    weight: float
    observed_at: datetime
    #: The reporting agency's code, for CLEAR sightings only (see the module docstring).
    agency: str | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "sighting": self.sighting_id,
            "agency": self.agency,
            "source_kind": self.source_kind,
            "weight": round(self.weight, 4),
            "observed_at": self.observed_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Reputation:
    """What the snapshot knows about one indicator."""

    kind: IndicatorKind
    canonical: str
    score: float
    agencies: int = 0
    sightings: int = 0
    false_positives: int = 0
    evidence: tuple[Evidence, ...] = ()
    allowlisted: AllowEntry | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "kind": self.kind.value,
            "canonical": self.canonical,
            "score": round(self.score, 4),
            "agencies": self.agencies,
            "sightings": self.sightings,
            "false_positives": self.false_positives,
            "allowlisted": self.allowlisted.as_dict() if self.allowlisted else None,
            "evidence": [e.as_dict() for e in self.evidence],
        }


@dataclass(frozen=True)
class ReputationSnapshot:
    """Reputation of every reported indicator at one moment. Never changes once built."""

    version: str
    built_at: datetime
    allowlist: Allowlist
    _scores: Mapping[tuple[str, str], Reputation] = field(repr=False)

    def __len__(self) -> int:
        return len(self._scores)

    def lookup(self, indicator: Indicator) -> Reputation | None:
        """The reputation of a reported or allowlisted indicator; None for an unknown one."""
        return self.lookup_value(indicator.kind, indicator.canonical)

    def lookup_value(self, kind: IndicatorKind, canonical: str) -> Reputation | None:
        """Like :meth:`lookup`, from a kind and a canonical value."""
        found = self._scores.get((kind.value, canonical))
        if found is not None:
            return found
        allowed = self.allowlist.match(kind, canonical)
        if allowed is None:
            return None
        return Reputation(kind, canonical, 0.0, allowlisted=allowed)

    @classmethod
    def empty(cls, allowlist: Allowlist | None = None) -> ReputationSnapshot:
        """A snapshot with no reports (what screening uses without a store)."""
        return cls("empty", datetime.now(UTC), allowlist or Allowlist(()), {})


class _Accumulator:
    """Sightings of one indicator, strongest per agency."""

    __slots__ = ("best", "count")

    def __init__(self) -> None:
        self.best: dict[int, tuple[float, Evidence]] = {}
        self.count = 0


def _agencies(store: Store) -> dict[int, tuple[str, AgencyKind]]:
    with store.reading() as connection:
        rows = connection.execute(select(agencies.c.id, agencies.c.code, agencies.c.kind)).all()
    return {r.id: (r.code, AgencyKind(r.kind)) for r in rows}


def _false_positive_weights(
    store: Store,
    rules: ScoringRules,
    known: Mapping[int, tuple[str, AgencyKind]],
    now: datetime,
    digest: hashlib.blake2b,
) -> dict[tuple[str, str], list[float]]:
    query = (
        select(
            indicators.c.kind,
            indicators.c.canonical,
            false_positive_reports.c.id,
            false_positive_reports.c.agency_id,
            false_positive_reports.c.reported_at,
        )
        .join(indicators, indicators.c.id == false_positive_reports.c.indicator_id)
        .order_by(false_positive_reports.c.id)
    )
    found: dict[tuple[str, str], list[float]] = {}
    with store.reading() as connection:
        for row in connection.execute(query):
            code, agency_kind = known[row.agency_id]
            age = (now - row.reported_at).total_seconds()
            weight = rules.trust(code, agency_kind) * rules.decay(IndicatorKind(row.kind), age)
            found.setdefault((row.kind, row.canonical), []).append(weight)
            digest.update(f"fp{row.id}".encode())
    return found


def build_snapshot(
    store: Store | None,
    rules: ScoringRules | None = None,
    *,
    now: datetime | None = None,
    allowlist: Allowlist | None = None,
) -> ReputationSnapshot:
    """Score every indicator with counted sightings in ``store`` (see
    :mod:`scamwall.reputation.scoring`), apply the allowlist, and freeze the result."""
    rules = rules or ScoringRules()
    now = now or datetime.now(UTC)
    allowlist = allowlist if allowlist is not None else load_allowlist(store)
    digest = hashlib.blake2b(digest_size=16)
    for entry in allowlist:
        digest.update(f"{entry.kind}:{entry.value}".encode())
    if store is None:
        return ReputationSnapshot(
            f"{now:%Y%m%dT%H%M%SZ}.{digest.hexdigest()[:10]}", now, allowlist, {}
        )
    known = _agencies(store)
    disputed = _false_positive_weights(store, rules, known, now, digest)
    trust = {agency_id: rules.trust(code, kind) for agency_id, (code, kind) in known.items()}
    codes = {agency_id: code for agency_id, (code, _) in known.items()}
    sources = {kind.value: kind for kind in SourceKind}
    kinds = {kind.value: kind for kind in IndicatorKind}
    clear = Tlp.CLEAR.value
    scores: dict[tuple[str, str], Reputation] = {}

    def finish(key: tuple[str, str], kind: IndicatorKind, acc: _Accumulator) -> None:
        ranked = sorted(acc.best.values(), key=lambda pair: -pair[0])
        belief = noisy_or(weight for weight, _ in ranked)
        penalties = disputed.get(key, ())
        for penalty in penalties:
            belief *= 1.0 - penalty
        allowed = allowlist.match(kind, key[1])
        scores[key] = Reputation(
            kind,
            key[1],
            0.0 if allowed is not None else belief,
            agencies=sum(1 for weight, _ in ranked if weight > 0),
            sightings=acc.count,
            false_positives=len(penalties),
            evidence=tuple(evidence for _, evidence in ranked),
            allowlisted=allowed,
        )

    query = (
        select(
            indicators.c.kind,
            indicators.c.canonical,
            sightings.c.id,
            sightings.c.agency_id,
            sightings.c.observed_at,
            sightings.c.source_kind,
            sightings.c.confidence,
            sightings.c.tlp,
        )
        .join(indicators, indicators.c.id == sightings.c.indicator_id)
        .where(sightings.c.tlp.in_(sorted(t.value for t in rules.counted_tlps)))
        .order_by(sightings.c.indicator_id, sightings.c.id)
        .execution_options(yield_per=_BATCH)
    )
    current: tuple[str, str] | None = None
    current_kind = IndicatorKind.PHONE
    acc = _Accumulator()
    # a transaction, not an autocommit read: PostgreSQL streams through a server-side cursor,
    # which lives in one
    with store.transaction() as connection:
        for (
            kind_text,
            canonical,
            sid,
            agency_id,
            observed,
            source,
            confidence,
            tlp,
        ) in connection.execute(query):
            key = (kind_text, canonical)
            if key != current:
                if current is not None:
                    finish(current, current_kind, acc)
                current, current_kind, acc = key, kinds[kind_text], _Accumulator()
            digest.update(sid.encode())
            source_kind = sources[source]
            weight = rules.sighting_weight(
                current_kind,
                trust=trust[agency_id],
                source_kind=source_kind,
                confidence=confidence,
                age_seconds=(now - observed).total_seconds(),
            )
            acc.count += 1
            best = acc.best.get(agency_id)
            if best is None or weight > best[0]:
                named = codes[agency_id] if tlp == clear else None
                acc.best[agency_id] = (weight, Evidence(sid, source, weight, observed, named))
    if current is not None:
        finish(current, current_kind, acc)
    version = f"{now:%Y%m%dT%H%M%SZ}.{digest.hexdigest()[:10]}"
    return ReputationSnapshot(version, now, allowlist, scores)


class SnapshotHolder:
    """The current snapshot of a long-running process, replaced whole, never edited.

    Readers take :attr:`current` once per batch and keep using it; :meth:`refresh` builds the
    next one (outside any lock: building takes seconds) and swaps the reference.
    """

    def __init__(self, build: Callable[[], ReputationSnapshot]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self.current = build()

    def refresh(self) -> ReputationSnapshot:
        """Build a new snapshot and make it current."""
        fresh = self._build()
        with self._lock:
            self.current = fresh
        return fresh
