"""Fraud patterns in the behaviour of calling numbers, with a score and reasons in words.

:func:`detect` reads the rows of :func:`~scamwall.screening.calls.features.number_features` (one
per calling number and window) and keeps those where a pattern fires:

=====================  ========================================================================
pattern                fires when, in one window (thresholds of :class:`CallThresholds`)
=====================  ========================================================================
``mass_dialing``       many calls to many distinct numbers, mostly short or unanswered; left out
                       when a more specific pattern below (``wangiri``, ``simbox``,
                       ``spoofed_caller_id``) already explains the volume
``wangiri``            a foreign number ringing many subscribers from abroad, almost never
                       answered, 0 s: the victim is meant to call back a premium number
``simbox``             many distinct numbers called from one or two cells through a handset that
                       carries several SIMs, or a SIM that moves between handsets: international
                       calls terminated as local ones. Their share of short calls is reported
                       but not required: a box carries real conversations
``spoofed_caller_id``  a number of the home country calling many subscribers over foreign
                       trunks: the home operators' subscribers do not come in from abroad
``victim_contact``     calls to several distinct known victims (recovery scams, repeat fraud),
                       counted over all the records as the calls are few a day, and flagged in
                       the windows where victims are a marked share of the numbers called; left
                       out when a volume pattern above fires, since at hundreds of calls to
                       strangers some victims are reached by chance
``reported``           the number's own reputation (reports, earlier detections) is high
=====================  ========================================================================

Every pattern needs a volume far above what a person makes (2-15 calls a day to their own
contacts): ordinary subscribers and busy legitimate lines (taxis, delivery, call centres: many
distinct numbers, but long answered calls) fail the other conditions.

A flag's score says how far beyond its thresholds the number went: it is 0.6 at the
thresholds and ``1 - 0.4 / r`` beyond, where ``r`` is how many times over the threshold the
pattern's counts are (their ratios multiplied); ``reported`` scores the reputation itself. The
number's score is the noisy-or of its flags' scores, ``1 - prod(1 - score)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TypeVar

import polars as pl

from scamwall.errors import InvalidInput
from scamwall.screening.calls.features import FEATURE_COLUMNS, FEATURE_SCHEMA

__all__ = [
    "CALL_PATTERNS",
    "DETECTION_SCHEMA",
    "CallThresholds",
    "detect",
    "in_detection_order",
]

#: The patterns :func:`detect` reports, in the order of its ``flags``.
CALL_PATTERNS = (
    "mass_dialing",
    "wangiri",
    "simbox",
    "spoofed_caller_id",
    "victim_contact",
    "reported",
)

#: The columns of :func:`detect`: the verdict, then the features and reputation behind it.
DETECTION_SCHEMA: Mapping[str, pl.DataType] = {
    **{name: FEATURE_SCHEMA[name] for name in ("number", "window_start", "window_end")},
    "score": pl.Float64(),
    "flags": pl.List(pl.String()),
    "reasons": pl.List(pl.String()),
    **{
        name: dtype
        for name, dtype in FEATURE_SCHEMA.items()
        if name not in ("number", "window_start", "window_end")
    },
    "reputation": pl.Float64(),
}

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)

# A flag's score at its thresholds: a flag is a finding, not a doubt.
_SCORE_AT_THRESHOLD = 0.6


@dataclass(frozen=True)
class CallThresholds:
    """Where each pattern starts, per window of the features (the defaults suit 24 h windows).

    Counts are per window (victims called: over all the records); shares are fractions of the
    number's calls in the window, from 0 to 1.
    """

    #: A short call lasts less than this many seconds (pass the same to ``number_features``).
    short_call_s: float = 10.0

    #: Mass dialing: calls in the window; a busy person makes a few dozen.
    mass_dialing_min_calls: int = 100
    #: Mass dialing: distinct numbers called.
    mass_dialing_min_callees: int = 80
    #: Mass dialing: share of short calls (unanswered ones count), or else ...
    mass_dialing_min_short_share: float = 0.6
    #: ... at most this share answered (taxis and call centres answer 80-90%).
    mass_dialing_max_answer_rate: float = 0.35

    #: Wangiri: distinct subscribers rung.
    wangiri_min_callees: int = 30
    #: Wangiri: share of the calls arriving from abroad (inbound, foreign origin).
    wangiri_min_foreign_share: float = 0.8
    #: Wangiri: share of calls of 0 s.
    wangiri_min_zero_duration_share: float = 0.7
    #: Wangiri: at most this share answered.
    wangiri_max_answer_rate: float = 0.2

    #: SIM box: distinct numbers called.
    simbox_min_callees: int = 20
    #: SIM box: at most this many cells (a box does not move; a person does).
    simbox_max_cells: int = 2
    #: SIM box: SIMs seen in one of its handsets, or handsets one of its SIMs was seen in.
    simbox_min_handset_sharing: int = 2

    #: Spoofed caller id: distinct subscribers called.
    spoofed_min_callees: int = 20
    #: Spoofed caller id: share of the calls arriving from abroad (a roaming subscriber
    #: calling home looks the same, but calls a few relatives, not dozens of strangers).
    spoofed_min_foreign_share: float = 0.8

    #: Victim contact: distinct known victims called in all the records (a person may know
    #: one or two victims; a third is rare by chance).
    victim_min_contacts: int = 3
    #: Victim contact: share of the window's distinct numbers called that are victims. Victims
    #: are a small fraction of all numbers, so a line calling hundreds of strangers (a call
    #: centre) reaches a few by chance, at that fraction; one that seeks them out does not.
    victim_min_share: float = 0.05

    #: Reported: reputation of the number from which it is flagged (as enforcement feeds).
    reported_min_score: float = 0.7

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            share = spec.name.endswith(("_share", "_rate", "_score"))
            if share and not 0 <= value <= 1:
                raise InvalidInput(f"{spec.name} is {value}; give a share from 0 to 1")
            if not share and value < 0:
                raise InvalidInput(f"{spec.name} is {value}; give a number >= 0")


def call_thresholds(overrides: Mapping[str, float]) -> CallThresholds:
    """The default thresholds with some changed by name (the ``calls_thresholds`` setting);
    an unknown name is refused with the known ones."""
    known = {spec.name: spec for spec in fields(CallThresholds)}
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise InvalidInput(
            f"unknown call thresholds: {', '.join(unknown)}; known: {', '.join(known)}",
            field="calls_thresholds",
        )
    typed = {
        name: int(value) if known[name].type in (int, "int") else float(value)
        for name, value in overrides.items()
    }
    return CallThresholds(**typed)  # type: ignore[arg-type]


def _ratio(value: str, threshold: float) -> pl.Expr:
    """How many times over its threshold a count is."""
    return pl.col(value) / max(threshold, 1)


def _flag_score(ratio: pl.Expr) -> pl.Expr:
    """0.6 at the threshold (ratio 1), towards 1 as the ratio grows."""
    return 1 - (1 - _SCORE_AT_THRESHOLD) / pl.max_horizontal(ratio, pl.lit(1.0))


def _percent(column: str) -> pl.Expr:
    """A share as a whole percentage."""
    return (pl.col(column) * 100).round(0).cast(pl.Int64)


def _counted(column: str, noun: str) -> pl.Expr:
    """``1 cell``, ``2 cells``."""
    count = pl.col(column)
    return pl.format(
        "{} {}", count, pl.when(count == 1).then(pl.lit(noun)).otherwise(pl.lit(f"{noun}s"))
    )


def _hours() -> pl.Expr:
    """The window's length in hours, as text without a needless ``.0``."""
    hours = (pl.col("window_end") - pl.col("window_start")).dt.total_seconds() / 3600
    return (
        pl.when(hours == hours.round(0))
        .then(hours.round(0).cast(pl.Int64).cast(pl.String))
        .otherwise(hours.round(1).cast(pl.String))
    )


def _patterns(t: CallThresholds) -> dict[str, tuple[pl.Expr, pl.Expr, pl.Expr]]:
    """Per pattern: whether it fires, its score, and its reason."""
    callees = pl.col("distinct_callees")
    calls = pl.col("calls")
    shared = pl.max_horizontal("imsis_per_imei", "imeis_per_imsi")
    from_abroad = (pl.col("inbound_share") >= t.wangiri_min_foreign_share) & (
        pl.col("foreign_origin_share") >= t.wangiri_min_foreign_share
    )
    wangiri = (
        ~pl.col("domestic_caller")
        & from_abroad
        & (callees >= t.wangiri_min_callees)
        & (pl.col("zero_duration_share") >= t.wangiri_min_zero_duration_share)
        & (pl.col("answer_rate") <= t.wangiri_max_answer_rate)
    )
    simbox = (
        (callees >= t.simbox_min_callees)
        & pl.col("cells").is_between(1, t.simbox_max_cells)
        & (shared >= t.simbox_min_handset_sharing)
    )
    spoofed = (
        pl.col("domestic_caller")
        & (pl.col("inbound_share") >= t.spoofed_min_foreign_share)
        & (pl.col("foreign_origin_share") >= t.spoofed_min_foreign_share)
        & (callees >= t.spoofed_min_callees)
    )
    mass_dialing = (
        (calls >= t.mass_dialing_min_calls)
        & (callees >= t.mass_dialing_min_callees)
        & (
            (pl.col("short_share") >= t.mass_dialing_min_short_share)
            | (pl.col("answer_rate") <= t.mass_dialing_max_answer_rate)
        )
        & ~(wangiri | simbox | spoofed)
    )
    victim_contact = (
        (pl.col("victim_contacts") >= 1)
        & (pl.col("victim_contacts_overall") >= t.victim_min_contacts)
        & (pl.col("victim_contacts") >= t.victim_min_share * callees)
        & ~(mass_dialing | wangiri | simbox | spoofed)
    )
    reported = pl.col("reputation").fill_null(0.0) >= t.reported_min_score

    hours = _hours()
    short_s = f"{t.short_call_s:g}"
    return {
        "mass_dialing": (
            mass_dialing,
            _flag_score(
                _ratio("calls", t.mass_dialing_min_calls)
                * _ratio("distinct_callees", t.mass_dialing_min_callees)
            ),
            pl.format(
                "mass dialing: {} calls in {} h to {} distinct numbers, {}% under {} s, "
                "{}% answered",
                calls,
                hours,
                callees,
                _percent("short_share"),
                pl.lit(short_s),
                _percent("answer_rate"),
            ),
        ),
        "wangiri": (
            wangiri,
            _flag_score(_ratio("distinct_callees", t.wangiri_min_callees)),
            pl.format(
                "wangiri: {} calls in {} h from abroad ({}% of foreign origin) to {} distinct "
                "numbers, {}% lasting 0 s, {}% answered",
                calls,
                hours,
                _percent("foreign_origin_share"),
                callees,
                _percent("zero_duration_share"),
                _percent("answer_rate"),
            ),
        ),
        "simbox": (
            simbox,
            _flag_score(
                _ratio("distinct_callees", t.simbox_min_callees)
                * (shared / max(t.simbox_min_handset_sharing, 1))
            ),
            pl.format(
                "SIM box: {} distinct numbers called in {} h from {}, its handset seen with {}, "
                "its SIM in {}, {}% of calls under {} s",
                callees,
                hours,
                _counted("cells", "cell"),
                _counted("imsis_per_imei", "SIM"),
                _counted("imeis_per_imsi", "handset"),
                _percent("short_share"),
                pl.lit(short_s),
            ),
        ),
        "spoofed_caller_id": (
            spoofed,
            _flag_score(_ratio("distinct_callees", t.spoofed_min_callees)),
            pl.format(
                "spoofed caller id: home-country number {} on {} calls in {} h, {}% arriving "
                "from abroad, to {} distinct numbers",
                pl.col("number"),
                calls,
                hours,
                _percent("foreign_origin_share"),
                callees,
            ),
        ),
        "victim_contact": (
            victim_contact,
            _flag_score(_ratio("victim_contacts_overall", t.victim_min_contacts)),
            pl.format(
                "victim contact: called {} known victims in {} h ({}% of the {} distinct numbers "
                "called), {} in all the records",
                pl.col("victim_contacts"),
                hours,
                (pl.col("victim_contacts") / callees * 100).round(0).cast(pl.Int64),
                callees,
                pl.col("victim_contacts_overall"),
            ),
        ),
        "reported": (
            reported,
            pl.col("reputation").fill_null(0.0),
            pl.format(
                "reported: reputation {} (flagged from {})",
                pl.col("reputation").round(2),
                pl.lit(f"{t.reported_min_score:g}"),
            ),
        ),
    }


def detect(
    features: pl.DataFrame,
    thresholds: CallThresholds = CallThresholds(),
    *,
    reputation: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """The flagged numbers and windows of ``features`` (from ``number_features``), highest
    score first, with ``score`` (0-1), ``flags`` (names of :data:`CALL_PATTERNS`), ``reasons``
    (one sentence a flag, with the figures behind it) and the features and ``reputation``
    (null when unknown) they came from: the columns of :data:`DETECTION_SCHEMA`.

    ``reputation`` maps numbers to their score in the reputation snapshot.
    """
    missing = [c for c in FEATURE_COLUMNS if c not in features.columns]
    if missing:
        raise InvalidInput(
            f"feature columns missing: {', '.join(missing)}; give the frame number_features made",
            field=missing[0],
        )
    scores = pl.DataFrame(
        {
            "number": list((reputation or {}).keys()),
            "reputation": list((reputation or {}).values()),
        },
        schema={"number": pl.String(), "reputation": pl.Float64()},
    )
    rows = features.lazy().select(FEATURE_COLUMNS).join(scores.lazy(), on="number", how="left")
    patterns = _patterns(thresholds)
    fired = rows.with_columns(
        **{f"_{name}": fires for name, (fires, _, _) in patterns.items()}
    ).filter(pl.any_horizontal(f"_{name}" for name in patterns))
    no_score = pl.lit(0.0)
    miss = pl.lit(1.0)
    for name, (_, score, _) in patterns.items():
        miss = miss * (1 - pl.when(pl.col(f"_{name}")).then(score).otherwise(no_score))
    verdicts = fired.with_columns(
        score=1 - miss,
        flags=pl.concat_list(
            pl.when(pl.col(f"_{name}")).then(pl.lit(name)) for name in patterns
        ).list.drop_nulls(),
        reasons=pl.concat_list(
            pl.when(pl.col(f"_{name}")).then(reason) for name, (_, _, reason) in patterns.items()
        ).list.drop_nulls(),
    )
    return in_detection_order(
        verdicts.select(pl.col(name).cast(dtype) for name, dtype in DETECTION_SCHEMA.items())
    ).collect()


def in_detection_order(frame: Frame) -> Frame:
    """Detections in the order :func:`detect` gives them: highest score first, then by number
    and window (an engine that detects in pieces puts them back in this order)."""
    return frame.sort(["score", "number", "window_start"], descending=[True, False, False])
