"""STIX 2.1 export throughput on one core: scamwall's plain-dict export against the ``stix2``
library building the same objects.

The corpus is ``bench_parse.py``'s: distinct values of every kind (real phones, domains and
wallets from ``../shared/data`` when it exists, generated values for the rest), parsed untimed
into indicators. Each indicator gets one sighting (agencies, TLP CLEAR/GREEN/AMBER, notes and
evidence references varying), so a bundle holds per indicator its observable, its ``indicator``
and its ``sighting``, plus the markings, identities and extension definitions they refer to.

Timed, best of ``--repeat`` runs: :func:`~scamwall.exchange.stix_export.iter_bundle_json` over
every sighting, the chunks counted and dropped (serialised, not written); then the dict path,
``export_objects`` with each dict encoded by ``json``. Baseline in the same
run: ``stix2`` 3.x building the same objects (``stix2.Indicator``, ``stix2.Sighting``, observables
with their ids computed by ``stix2``, the custom ones registered as ``stix2`` custom observables)
and serialising each, over the first ``--baseline`` sightings. The baseline's objects are compared
with scamwall's, so both sides build the same thing. Run: ``python bench/bench_stix.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import stix2
from stix2.properties import StringProperty
from stix2.v21 import CustomObservable

from bench_parse import DATA, build_corpus, warm_up
from scamwall.errors import InvalidIndicator, InvalidRecord
from scamwall.exchange.stix import extension_id, parse_timestamp
from scamwall.exchange.stix_export import export_objects, iter_bundle_json
from scamwall.indicators import parse_indicator
from scamwall.store import Agency, Sighting
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

TARGET_INDICATORS_PER_SECOND = 50_000
T0 = datetime(2026, 11, 1, tzinfo=UTC)
AGENCIES = (
    Agency(1, "TH-CCIB", "Central Investigation Bureau", "TH", AgencyKind.POLICE),
    Agency(2, "TH-NBTC", "NBTC", "TH", AgencyKind.TELECOM_REGULATOR),
    Agency(3, "MM-KBZ", "KBZ Bank fraud desk", "MM", AgencyKind.BANK),
    Agency(4, "KH-CERT", "CamCERT", "KH", AgencyKind.CERT),
)
LEVELS = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER)
SOURCES = (SourceKind.VICTIM_REPORT, SourceKind.TELECOM_DETECTION, SourceKind.POLICE_CASE)


def build_sightings(per_kind: int, seed: int) -> list[Sighting]:
    """One sighting of every distinct indicator of the corpus (invalid raw values dropped)."""
    warm_up()
    items, _ = build_corpus(per_kind, seed)
    sightings: list[Sighting] = []
    seen: set[str] = set()
    for n, (value, kind, region) in enumerate(items):
        with contextlib.suppress(InvalidIndicator):
            indicator = parse_indicator(value, kind, region)
            if indicator.id in seen:
                continue
            seen.add(indicator.id)
            sightings.append(
                Sighting(
                    indicator=indicator,
                    agency=AGENCIES[n % len(AGENCIES)],
                    observed_at=T0 + timedelta(seconds=n * 7, microseconds=(n % 4) * 250_000),
                    source_kind=SOURCES[n % len(SOURCES)],
                    confidence=50 + n % 50,
                    tlp=LEVELS[n % len(LEVELS)],
                    note="reported through the 1441 hotline" if n % 3 == 0 else None,
                    evidence_ref=f"CASE-2026-{n:07d}" if n % 2 == 0 else None,
                )
            )
    return sightings


def time_scamwall(sightings: list[Sighting], repeat: int) -> tuple[float, int, int]:
    """Best seconds of ``repeat`` full exports, the characters and the objects written."""
    best = float("inf")
    characters = 0
    for _ in range(repeat):
        characters = 0
        started = time.perf_counter()
        for chunk in iter_bundle_json(sightings):
            characters += len(chunk)
        best = min(best, time.perf_counter() - started)
    objects = sum(1 for _ in export_objects(sightings))
    return best, characters, objects


def time_dicts(sightings: list[Sighting], repeat: int) -> float:
    """Best seconds of ``repeat`` passes of the dict path: ``export_objects``, each dict encoded
    by the standard library's ``json`` (what a caller that wants the dicts pays)."""
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for stix_object in export_objects(sightings):
            encode(stix_object)
        best = min(best, time.perf_counter() - started)
    return best


# --- the baseline: stix2 building the same objects ---------------------------------------


def register_custom_observables() -> None:
    """scamwall's custom observable types as stix2 classes, ids by their extension's rule."""
    types = {
        "phone-number": ["value"],
        "cryptocurrency-wallet": ["value"],
        "bank-account": ["iban", "bic", "account_number", "x_scamwall_country", "x_scamwall_bank"],
    }
    for sco_type, names in types.items():
        properties = [(name, StringProperty()) for name in names]
        with contextlib.suppress(stix2.exceptions.DuplicateRegistrationError):
            CustomObservable(sco_type, properties, names, extension_id(sco_type))(type("C", (), {}))


def stix2_object(reference: dict[str, Any]) -> Any:
    """The stix2 object with the same content as one of scamwall's dicts. Observables get no
    id: stix2 computes it, and the comparison checks it equals scamwall's."""
    if reference["type"] == "marking-definition":
        return stix2.MarkingDefinition(**reference)
    properties = dict(reference)
    if reference["type"] not in ("identity", "indicator", "sighting", "extension-definition"):
        properties.pop("id")
        properties.pop("extensions", None)  # the registered class adds its own
    return stix2.parse(properties, allow_custom=True, version="2.1")


def time_stix2(
    references: list[dict[str, Any]],
) -> tuple[float, int, list[str]]:
    """Seconds for stix2 to build and serialise ``references``, and how many equal them."""
    started = time.perf_counter()
    built = [stix2_object(reference).serialize() for reference in references]
    seconds = time.perf_counter() - started
    differences = []
    same = 0
    for reference, text in zip(references, built, strict=True):
        if _instants(json.loads(text)) == _instants(reference):
            same += 1
        elif len(differences) < 3:
            differences.append(f"{reference['type']}: ours {reference} / stix2 {text}")
    return seconds, same, differences


def _instants(value: Any) -> Any:
    """``value`` with its timestamps as datetimes: stix2 writes ``…07.25Z`` where scamwall
    writes ``…07.250Z``, the same instant."""
    if isinstance(value, dict):
        return {key: _instants(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_instants(item) for item in value]
    if isinstance(value, str) and value.endswith("Z") and value[:4].isdigit():
        with contextlib.suppress(InvalidRecord):
            return parse_timestamp(value, "time")
    return value


def best_of(repeat: int, function: Callable[[], tuple[float, int, list[str]]]) -> Any:
    runs = [function() for _ in range(repeat)]
    return min(runs, key=lambda run: run[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--per-kind", type=int, default=10_000, help="raw values per kind")
    parser.add_argument("--seed", type=int, default=20261130, help="seed of generated values")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs; the best is shown")
    parser.add_argument(
        "--baseline", type=int, default=3000, help="sightings the stix2 baseline builds"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin the process to core 0")
    args = parser.parse_args()

    command = shlex.join([sys.executable, *sys.argv])
    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"

    sightings = build_sightings(args.per_kind, args.seed)
    seconds, characters, objects = time_scamwall(sightings, args.repeat)
    ours_rate = len(sightings) / seconds
    dict_seconds = time_dicts(sightings, args.repeat)

    register_custom_observables()
    sample = sightings[: args.baseline]
    references = list(export_objects(sample))
    stix2_seconds, same, differences = best_of(
        max(1, args.repeat // 2), lambda: time_stix2(references)
    )
    # the same sample through scamwall, for a like-for-like ratio on the same objects
    ours_sample = min(
        _timed(lambda: sum(len(chunk) for chunk in iter_bundle_json(sample)))
        for _ in range(args.repeat)
    )
    base_rate = len(sample) / stix2_seconds

    print(f"command: {command}")
    print(
        f"data: {DATA if DATA.is_dir() else 'absent (generated values only)'}; "
        f"cores: {cores}; python {sys.version.split()[0]}; stix2 {stix2.__version__}"
    )
    kinds = sorted({s.indicator.kind.value for s in sightings})
    print(
        f"corpus: {len(sightings):,} distinct indicators of {len(kinds)} kinds, one sighting "
        f"each; {objects:,} STIX objects, {characters / 1e6:,.1f} MB of JSON"
    )
    print()
    print(
        f"scamwall iter_bundle_json: {ours_rate:>10,.0f} indicators/s "
        f"({objects / seconds:,.0f} objects/s, {characters / seconds / 1e6:,.1f} MB/s; "
        f"best of {args.repeat})"
    )
    print(
        f"export_objects + json:     {len(sightings) / dict_seconds:>10,.0f} indicators/s "
        f"(the dicts, each encoded by the json module; best of {args.repeat})"
    )
    print(
        f"stix2 objects + serialize: {base_rate:>10,.0f} indicators/s "
        f"({len(references) / stix2_seconds:,.0f} objects/s; first {len(sample):,} sightings)"
    )
    print(
        f"ratio on the same {len(sample):,} sightings: {stix2_seconds / ours_sample:,.1f}x "
        f"(scamwall {len(sample) / ours_sample:,.0f} indicators/s on them)"
    )
    print(f"same objects: {same:,} of {len(references):,} equal as JSON")
    for difference in differences:
        print(f"  differs: {difference[:400]}")
    met = ours_rate >= TARGET_INDICATORS_PER_SECOND
    print(
        f"target: >= {TARGET_INDICATORS_PER_SECOND:,} indicators/s: {'met' if met else 'NOT met'}"
    )
    return 0 if same == len(references) else 1


def _timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
