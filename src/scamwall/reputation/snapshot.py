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
from typing import Any

from sqlalchemy import String, select, type_coerce

from scamwall.indicators import Indicator, IndicatorKind
from scamwall.reputation.allowlist import AllowEntry, Allowlist, load_allowlist
from scamwall.reputation.scoring import SOURCE_WEIGHT, ScoringRules, noisy_or
from scamwall.store.repository import Store
from scamwall.store.schema import agencies, false_positive_reports, indicators, sightings
from scamwall.vocabulary import AgencyKind, Tlp

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


def _naive_utc(value: object) -> datetime:
    """A stored time as naive UTC: SQLite hands over text, PostgreSQL an aware datetime."""
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.astimezone(UTC).replace(tzinfo=None)


def _sighting_text(value: object) -> str:
    """A stored sighting id in its usual dashed form (SQLite keeps 32 hex digits)."""
    text = str(value)
    if len(text) == 32:
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text


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
    source_weight = {kind.value: weight for kind, weight in SOURCE_WEIGHT.items()}
    kinds = {kind.value: kind for kind in IndicatorKind}
    half_lives = {kind.value: rules.half_life_days[kind] * 86_400.0 for kind in IndicatorKind}
    clear = Tlp.CLEAR.value
    scores: dict[tuple[str, str], Reputation] = {}
    now_naive = now.astimezone(UTC).replace(tzinfo=None)

    def finish(key: tuple[str, str], best: dict[int, tuple[float, Evidence]], count: int) -> None:
        kind = kinds[key[0]]
        if len(best) == 1:
            ((belief, only),) = best.values()
            evidence: tuple[Evidence, ...] = (only,)
            agreeing = 1 if belief > 0 else 0
        else:
            ranked = sorted(best.values(), key=lambda pair: -pair[0])
            belief = noisy_or(weight for weight, _ in ranked)
            evidence = tuple(e for _, e in ranked)
            agreeing = sum(1 for weight, _ in ranked if weight > 0)
        penalties = disputed.get(key, ())
        for penalty in penalties:
            belief *= 1.0 - penalty
        allowed = allowlist.match(kind, key[1])
        scores[key] = Reputation(
            kind,
            key[1],
            0.0 if allowed is not None else belief,
            agreeing,
            count,
            len(penalties),
            evidence,
            allowed,
        )

    # raw column values: the drivers' own types, without SQLAlchemy's per-row conversions
    # (a million UUID and datetime conversions cost seconds); see _sighting_text and _naive_utc
    query = (
        select(
            indicators.c.kind,
            indicators.c.canonical,
            type_coerce(sightings.c.id, String),
            sightings.c.agency_id,
            type_coerce(sightings.c.observed_at, String),
            sightings.c.source_kind,
            sightings.c.confidence,
            sightings.c.tlp,
        )
        .join(indicators, indicators.c.id == sightings.c.indicator_id)
        .where(sightings.c.tlp.in_(sorted(t.value for t in rules.counted_tlps)))
        .execution_options(yield_per=_BATCH)
    )
    # grouped here rather than sorted by the database: a sort of a million joined rows costs
    # more than a dictionary of them
    groups: dict[tuple[str, str], list[Any]] = {}
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
            group = groups.get(key)
            if group is None:
                group = groups[key] = [{}, 0]
            digest.update(str(sid).encode())
            seen_at = _naive_utc(observed)
            age = (now_naive - seen_at).total_seconds()
            weight = trust[agency_id] * confidence * 0.01 * source_weight[source]
            if age > 0:
                weight *= 0.5 ** (age / half_lives[kind_text])
            group[1] += 1
            best = group[0]
            held = best.get(agency_id)
            if held is None or weight > held[0]:
                named = codes[agency_id] if tlp == clear else None
                best[agency_id] = (
                    weight,
                    Evidence(
                        _sighting_text(sid), source, weight, seen_at.replace(tzinfo=UTC), named
                    ),
                )
    for key, (best, count) in groups.items():
        finish(key, best, count)
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
