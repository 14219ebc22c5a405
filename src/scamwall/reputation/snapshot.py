"""An immutable, versioned, in-memory view of every indicator's reputation.

Screening asks the snapshot, never the database: a batch of messages is judged against one
consistent state, at memory speed, and the verdict names the snapshot it used. The API and long
runs build a new snapshot in the background and swap it in whole (:class:`SnapshotHolder`).

What a snapshot tells about the sightings behind a score is safe for any caller: a CLEAR
sighting with its id, agency, source and time; any other only as "restricted" with its weight
(an id, a time or a source could tell who reported it). The indicator itself is what an
authorised user looks up, through the policy, to see the rest.
Sightings marked AMBER+STRICT or RED never count (see ``ScoringRules.counted_tlps``).
"""

from __future__ import annotations

import gc
import hashlib
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, DateTime, Float, String, cast, func, literal, select

from scamwall.indicators import Indicator, IndicatorKind
from scamwall.reputation.allowlist import AllowEntry, Allowlist, load_allowlist
from scamwall.reputation.matching import NetworkIndex
from scamwall.reputation.scoring import SOURCE_WEIGHT, ScoringRules, noisy_or
from scamwall.store.bulk import naive_utc, stream_rows
from scamwall.store.repository import Store
from scamwall.store.schema import (
    agencies,
    disputed_sightings,
    false_positive_reports,
    feed_serials,
    indicators,
    sightings,
)
from scamwall.vocabulary import AgencyKind, Tlp

__all__ = [
    "Evidence",
    "Listed",
    "Reputation",
    "ReputationSnapshot",
    "SnapshotHolder",
    "build_snapshot",
]


class Evidence:
    """The strongest sighting of one agency behind a score.

    A plain class with slots: a snapshot makes one per indicator and agency (millions), and a
    frozen dataclass costs three times as much to create. The id and time are kept as read and
    given their usual forms when asked for."""

    __slots__ = ("_observed", "_ref", "agency", "source_kind", "weight")

    def __init__(
        self, ref: object, source_kind: str, weight: float, observed: object, agency: str | None
    ) -> None:
        self._ref = ref
        self.source_kind = source_kind
        self.weight = weight
        self._observed = observed
        #: The reporting agency's code, for CLEAR sightings only (see the module docstring).
        self.agency = agency

    @property
    def sighting_id(self) -> str:
        """The sighting's id (dashed UUID)."""
        return _sighting_text(self._ref)

    @property
    def observed_at(self) -> datetime:
        """When the agency saw it (UTC)."""
        return naive_utc(self._observed).replace(tzinfo=UTC)

    def __repr__(self) -> str:
        return f"Evidence({self.sighting_id}, {self.source_kind}, {self.weight:.3f}, {self.agency})"

    @property
    def restricted(self) -> bool:
        """Whether the sighting is marked above CLEAR (its details are not for everyone)."""
        return self.agency is None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form, safe for any caller: a restricted sighting shows its weight only.
        Its id, time and source could tell who reported it (an id is derived from the agency,
        the time and the source: few enough guesses to confirm), so they stay with those the
        policy lets read it (``GET /v1/indicators/lookup``)."""
        if self.restricted:
            return {"restricted": True, "weight": round(self.weight, 4)}
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
            "allowlisted": self.allowlisted.as_public_dict() if self.allowlisted else None,
            "evidence": [e.as_dict() for e in self.evidence],
        }


class Listed(NamedTuple):
    """One indicator's score as the enforcement feeds need it (see
    :meth:`ReputationSnapshot.listed`); a tuple, made a million times per publication."""

    kind: IndicatorKind
    canonical: str
    #: the score before the allowlist (a conflict is a high score on an allowlisted value)
    score: float
    #: when the newest report still counting was made (naive UTC)
    newest: datetime
    allowlisted: AllowEntry | None


#: What a build keeps per indicator: its strongest sighting per agency, as
#: ``agency id -> (weight, sighting id, source kind, observed at, agency code or None)`` (made
#: into :class:`Evidence` on look-up), and the number of counted sightings.
_Strongest = tuple[float, object, str, object, str | None]
_Group = tuple[dict[int, _Strongest], int, object]


@dataclass(frozen=True)
class ReputationSnapshot:
    """Reputation of every reported indicator at one moment. Never changes once built.

    A build keeps, per indicator, only its strongest sighting per agency; the score, the
    false-positive discount and the allowlist are applied when a value is looked up (a few per
    message), not to every indicator at build time (a million)."""

    version: str
    built_at: datetime
    allowlist: Allowlist
    _groups: Mapping[tuple[str, str], _Group | Reputation] = field(repr=False)
    _disputed: Mapping[tuple[str, str], tuple[float, ...]] = field(default_factory=dict, repr=False)
    #: The newest feed serial when the disputed sightings were read: entries an accepted appeal
    #: took off the feeds at a later serial are ones whose disputes this snapshot did not see.
    feed_serial_seen: int = 0

    def __len__(self) -> int:
        return len(self._groups)

    def lookup(self, indicator: Indicator) -> Reputation | None:
        """The reputation of a reported or allowlisted indicator; None for an unknown one."""
        return self.lookup_value(indicator.kind, indicator.canonical)

    def lookup_value(self, kind: IndicatorKind, canonical: str) -> Reputation | None:
        """Like :meth:`lookup`, from a kind and a canonical value."""
        key = (kind.value, canonical)
        held = self._groups.get(key)
        found = (
            held
            if held is None or isinstance(held, Reputation)
            else _reputation(kind, canonical, held, self._disputed.get(key, ()))
        )
        allowed = self.allowlist.match(kind, canonical)
        if allowed is None:
            return found
        if found is None:
            return Reputation(kind, canonical, 0.0, allowlisted=allowed)
        return replace(found, score=0.0, allowlisted=allowed)

    @cached_property
    def _blocks(self) -> NetworkIndex[None]:
        """The reported CIDR blocks, indexed on first use (most snapshots are never asked)."""
        cidr = IndicatorKind.CIDR.value
        return NetworkIndex((value, None) for kind, value in self._groups if kind == cidr)

    def covering_block(self, address: str) -> Reputation | None:
        """The reputation of the most specific reported block holding an address or block."""
        found = self._blocks.match(address)
        if found is None:
            return None
        return self.lookup_value(IndicatorKind.CIDR, found[0])

    def listed(self, kinds: Collection[IndicatorKind], min_score: float) -> Iterator[Listed]:
        """Every indicator of ``kinds`` scoring at least ``min_score`` before the allowlist,
        with the allowlist entry that protects it, if any. Scores are computed without the
        evidence objects of :meth:`lookup` (this walks the whole snapshot)."""
        wanted = {kind.value: kind for kind in kinds}
        built = self.built_at.replace(tzinfo=None)
        for (kind_name, canonical), held in self._groups.items():
            kind = wanted.get(kind_name)
            if kind is None:
                continue
            if isinstance(held, Reputation):
                score = held.score
                times = [e.observed_at.replace(tzinfo=None) for e in held.evidence]
                newest = max(times) if times else built
            else:
                best = held[0]
                score = noisy_or(strongest[0] for strongest in best.values())
                for penalty in self._disputed.get((kind_name, canonical), ()):
                    score *= 1.0 - penalty
                if score < min_score:
                    continue
                if held[2] is None:  # only sightings that weigh nothing (receipts)
                    continue
                newest = naive_utc(held[2])
            if score < min_score:
                continue
            yield Listed(kind, canonical, score, newest, self.allowlist.match(kind, canonical))

    @classmethod
    def of(
        cls, version: str, reputations: Iterable[Reputation], allowlist: Allowlist
    ) -> ReputationSnapshot:
        """A snapshot holding given reputations (tests, benchmarks, imports)."""
        held = {(r.kind.value, r.canonical): r for r in reputations}
        return cls(version, datetime.now(UTC), allowlist, held)

    @classmethod
    def empty(cls, allowlist: Allowlist | None = None) -> ReputationSnapshot:
        """A snapshot with no reports (what screening uses without a store)."""
        return cls("empty", datetime.now(UTC), allowlist or Allowlist(()), {})


def _reputation(
    kind: IndicatorKind, canonical: str, group: _Group, penalties: tuple[float, ...]
) -> Reputation:
    """The score of one indicator from its group (formula in ``scoring``)."""
    best, count, _ = group
    ranked = sorted(best.values(), key=lambda strongest: -strongest[0])
    belief = noisy_or(strongest[0] for strongest in ranked)
    evidence = tuple(
        Evidence(ref, source, weight, observed, agency)
        for weight, ref, source, observed, agency in ranked
    )
    agreeing = sum(1 for strongest in ranked if strongest[0] > 0)
    for penalty in penalties:
        belief *= 1.0 - penalty
    return Reputation(kind, canonical, belief, agreeing, count, len(penalties), evidence)


def _observed_text(dialect: str) -> ColumnElement[str]:
    """A sighting's time as ISO text in UTC, whatever the session's DateStyle and time zone."""
    if dialect == "sqlite":  # stored as naive UTC ISO text already
        return cast(sightings.c.observed_at, String)
    return func.to_char(func.timezone("UTC", sightings.c.observed_at), 'YYYY-MM-DD"T"HH24:MI:SS.US')


def _age_seconds(dialect: str, now: datetime) -> ColumnElement[float]:
    """A sighting's age at ``now`` in seconds, computed by the database (in C, not per row in
    Python)."""
    if dialect == "sqlite":  # times are stored as naive UTC text
        moment = literal(now.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" "))
        return (func.julianday(moment) - func.julianday(sightings.c.observed_at)) * 86_400.0
    moment = literal(now, DateTime(timezone=True))
    return cast(func.extract("epoch", moment - sightings.c.observed_at), Float)


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
    # one voice per agency, as for sightings: its strongest report stands for it, so that one
    # desk repeating itself cannot talk a score down to nothing
    voices: dict[tuple[str, str], dict[int, float]] = {}
    with store.reading() as connection:
        for row in connection.execute(query):
            if row.agency_id not in known:
                continue  # an agency added since they were read: the next build counts it
            code, agency_kind = known[row.agency_id]
            age = (now - row.reported_at).total_seconds()
            weight = rules.trust(code, agency_kind) * rules.decay(IndicatorKind(row.kind), age)
            heard = voices.setdefault((row.kind, row.canonical), {})
            heard[row.agency_id] = max(weight, heard.get(row.agency_id, 0.0))
            digest.update(f"fp{row.id}".encode())
    return {key: list(heard.values()) for key, heard in voices.items()}


def build_snapshot(
    store: Store | None,
    rules: ScoringRules | None = None,
    *,
    now: datetime | None = None,
    allowlist: Allowlist | None = None,
) -> ReputationSnapshot:
    """Score every indicator with counted sightings in ``store`` (see
    :mod:`scamwall.reputation.scoring`), apply the allowlist, and freeze the result.

    The cyclic garbage collector is paused meanwhile: a build creates millions of acyclic
    objects, and each collection would rescan the growing heap for nothing."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build(store, rules, now=now, allowlist=allowlist)
    finally:
        if collecting:
            gc.enable()


def _build(
    store: Store | None,
    rules: ScoringRules | None,
    *,
    now: datetime | None,
    allowlist: Allowlist | None,
) -> ReputationSnapshot:
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
    half_lives = {kind.value: rules.half_life_days[kind] * 86_400.0 for kind in IndicatorKind}
    clear = Tlp.CLEAR.value

    # Two sequential scans instead of a join: the names of all indicators first, then the
    # counted sightings, grouped here. A join (or a sort) would look each indicator up at random
    # across the whole table, which costs more than holding the names in a dictionary.
    # Rows come straight from the driver (``stream_rows``), in its own types.
    # Ids and times as text: turning a million of them into UUID and datetime objects (what
    # psycopg does) costs more than the rest of the build; text compares and hashes the same.
    names = select(cast(indicators.c.id, String), indicators.c.kind, indicators.c.canonical)
    counted = select(
        cast(sightings.c.indicator_id, String),
        cast(sightings.c.id, String),
        sightings.c.agency_id,
        _observed_text(store.engine.dialect.name),
        _age_seconds(store.engine.dialect.name, now),
        sightings.c.source_kind,
        sightings.c.confidence,
        sightings.c.tlp,
    ).where(sightings.c.tlp.in_(sorted(t.value for t in rules.counted_tlps)))
    groups: dict[object, list[Any]] = {}
    # sightings are append-only: their number changes with any change to what counts
    total = 0
    # a transaction, not an autocommit read: PostgreSQL streams through a server-side cursor,
    # which lives in one
    with store.transaction() as connection:
        # the newest feed serial, read before the disputed sightings: an appeal accepted later
        # takes its entries off at a later serial (an appeal accepted in between has its
        # disputes read too, and counts as later: harmless), and publication must not put
        # those back from this snapshot (see scamwall.enforcement.feeds.publish)
        feed_serial_seen = int(
            connection.execute(
                select(func.coalesce(func.max(feed_serials.c.serial), 0))
            ).scalar_one()
        )
        # sightings an accepted appeal disputes no longer count (few: a set, not a join per row)
        disputed_ids = {
            str(ref)
            for (ref,) in connection.execute(select(cast(disputed_sightings.c.sighting_id, String)))
        }
        digest.update(f"disputed:{len(disputed_ids)}".encode())
        keys = {ref: (kind, canonical) for ref, kind, canonical in stream_rows(connection, names)}
        half_life = {ref: half_lives[name[0]] for ref, name in keys.items()}
        rows = stream_rows(connection, counted)
        for ref, sid, agency_id, observed, age, source, confidence, tlp in rows:
            if disputed_ids and sid in disputed_ids:
                continue
            try:
                life = half_life[ref]
                # ScoringRules.sighting_weight, inline (a call per row costs seconds over
                # millions; a test holds the two equal)
                weight = trust[agency_id] * confidence * 0.01 * source_weight[source]
            except KeyError:
                # its indicator or agency was written after the scan of those began (each
                # statement reads its own moment): the next build counts it
                continue
            if age > 0:
                weight *= 0.5 ** (age / life)
            group = groups.get(ref)  # by the stored id: cheaper to hash than (kind, value)
            if group is None:
                group = groups[ref] = [{}, 0, None]
            total += 1
            group[1] += 1
            # the newest report that weighs anything: an entry on the feeds expires after it
            # (a receipt, our own verdict echoed back, must not keep it alive)
            if weight > 0 and (group[2] is None or observed > group[2]):
                group[2] = observed
            best = group[0]
            held = best.get(agency_id)
            if held is None or weight > held[0]:
                named = codes[agency_id] if tlp == clear else None
                best[agency_id] = (weight, sid, source, observed, named)
    digest.update(f"sightings:{total}".encode())
    version = f"{now:%Y%m%dT%H%M%SZ}.{digest.hexdigest()[:10]}"
    frozen = {keys[ref]: (best, count, newest) for ref, (best, count, newest) in groups.items()}
    penalties = {key: tuple(weights) for key, weights in disputed.items()}
    return ReputationSnapshot(version, now, allowlist, frozen, penalties, feed_serial_seen)


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
