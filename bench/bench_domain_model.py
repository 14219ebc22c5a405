"""Lexical domain model: quality per list on the test split, and names scored per second.

    python bench/bench_domain_model.py [--shipped] [--names 100000] [--batch 10000] [--no-pin]

- Trains on the train split of the shared domain lists (``train_domain_model``, about a
  minute), or with ``--shipped`` takes the model shipped in the package, and reports per list
  (scam, phishing, gambling) on the test split: recall at a 1% false-positive rate on the benign
  top sites, and recall and false-positive rate at the model's own threshold.
- Baseline, same split, same run: TF-IDF over the registered domain's character 1-4-grams
  and a linear SVM per list (scikit-learn ``LinearSVC``, each list against benign), next to
  the model, both scored two ways: one score for every list (the model's probability of "not
  benign", the highest of the three SVMs) under one 1% budget of false positives, and each
  list's own score under a budget per list (three budgets: a resolver loading all three lists
  would flag up to three times as many benign names).
- Baseline, same split, same run: the lexical signals alone (``domain_signals``): recall at the
  same 1% false-positive rate with the strongest signal's weight as the score, and recall and
  false-positive rate when any signal fires.
- The web screener from the name alone (no reports): warn and block shares per list, on the
  benign test names past the shipped allowlist and popular sites (taken from the top of the same
  benign list), with an ordinary label in front (``careers.``, ``intranet.``...), and on
  their first labels as users' pages on hosting platforms (``<label>.wixsite.com``).
- Throughput on one core: ``DomainModel.predict`` in batches of ``--batch`` over ``--names``
  distinct real names (all lists mixed, shuffled with a fixed seed), and ``domain_signals`` one
  host at a time. Without the shared data, the shipped model on generated names (throughput
  only).

Targets: recall >= 0.9 at a false-positive rate <= 1% for each list; 10,000 names well under a
second.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from scamwall.reputation.allowlist import Allowlist, shipped_entries
from scamwall.reputation.snapshot import ReputationSnapshot
from scamwall.screening.domain_model import DomainModel
from scamwall.screening.domain_signals import domain_signals, is_popular
from scamwall.screening.domain_training import (
    BAD_LISTS,
    evaluate_domain_model,
    load_labelled_names,
    threshold_at_fpr,
    train_domain_model,
)
from scamwall.screening.web import WebScreener

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "domains"


def _generated(count: int) -> list[str]:
    tlds = ("com", "net", "xyz", "top", "vip", "co.th", "com.cn", "shop")
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    names = []
    for i in range(count):
        label = "".join(rng.choice(letters) for _ in range(rng.randint(4, 16)))
        front = f"{rng.choice(('www', 'm', 'pay', 'login'))}." if i % 3 == 0 else ""
        names.append(f"{front}{label}{i}.{tlds[i % len(tlds)]}")
    return names


def _quality(model: DomainModel) -> None:
    report = evaluate_domain_model(model, SHARED)
    print(f"test split, model {model.version}, threshold {report['threshold']}")
    print(f"  benign top sites: {report['benign']['n']:,}, FPR at the threshold "
          f"{report['benign']['fpr']:.4f}")  # fmt: skip
    print(f"  {'list':<10} {'n':>7} {'recall@FPR1%':>13} {'recall@thr':>11} {'FPR@thr':>8}")
    for name in BAD_LISTS:
        row = report[name]
        print(
            f"  {name:<10} {row['n']:>7,} {row['recall_at_fpr_1pct']:>13.4f} "
            f"{row['recall']:>11.4f} {row['fpr']:>8.4f}"
        )
    print("  recall@FPR1% of bare names / of names with labels in front; hosts on a registered")
    print("  domain of the benign list (by name, the platform):")
    for name in BAD_LISTS:
        row = report[name]
        bare, fronted = row.get("bare", {}), row.get("fronted", {})
        print(
            f"  {name:<10} bare {bare.get('recall_at_fpr_1pct')} (n={bare.get('n')}), "
            f"fronted {fronted.get('recall_at_fpr_1pct')} (n={fronted.get('n')}), "
            f"on a benign domain {row['on_benign_domain']}"
        )
    allowlist = Allowlist(shipped_entries())
    test = [i for i in load_labelled_names(SHARED) if i.split == "test"]
    scores = np.array(
        [max((s.weight for s in domain_signals(i.name, allowlist)), default=0.0) for i in test]
    )
    labels = np.array([i.label for i in test])
    cut = threshold_at_fpr(scores[labels == "benign"], 0.01)
    fired = scores[labels == "benign"] > 0
    print(
        "baseline: lexical signals alone; recall at FPR 1% (strongest signal's weight as the "
        f"score), and recall when any signal fires (benign FPR {fired.mean():.4f})"
    )
    for name in BAD_LISTS:
        chosen = scores[labels == name]
        print(f"  {name:<10} {(chosen >= cut).mean():>7.4f} {(chosen > 0).mean():>7.4f}")


def _per_list_baseline(model: DomainModel) -> None:
    """The shipped model against TF-IDF + a linear SVM, on the same split: recall at FPR 1%
    with one score for every list (one budget of false positives), and with each list's own
    score (a budget per list: a resolver loading all three would flag up to three times as many
    benign names)."""
    items = load_labelled_names(SHARED)
    train = [i for i in items if i.split != "test"]
    test = [i for i in items if i.split == "test"]
    labels = np.array([i.label for i in test])
    benign = labels == "benign"

    def recall(scores: npt.NDArray[np.float64], name: str) -> float:
        cut = threshold_at_fpr(scores[benign], 0.01)
        return float((scores[labels == name] >= cut).mean())

    # the registered domain with its edges marked, as the model reads it
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True)
    learnt = vectorizer.fit_transform([f"<{i.registered}>" for i in train])
    judged = vectorizer.transform([f"<{i.registered}>" for i in test])
    learnt_labels = np.array([i.label for i in train])
    own: dict[str, npt.NDArray[np.float64]] = {}
    for name in BAD_LISTS:
        chosen = (learnt_labels == "benign") | (learnt_labels == name)
        svm = LinearSVC(C=0.5, class_weight="balanced")
        svm.fit(learnt[chosen], learnt_labels[chosen] == name)
        own[name] = svm.decision_function(judged)
    either = np.max(list(own.values()), axis=0)
    probabilities = model.probabilities([i.name for i in test])
    classes = list(model.classes)
    not_benign = 1.0 - probabilities[:, classes.index("benign")]
    print("recall at FPR 1%: one score for every list | each list's own score")
    print("  baseline: TF-IDF of character 1-4-grams + LinearSVC, one list against benign each")
    for name in BAD_LISTS:
        shipped_own = probabilities[:, classes.index(name)]
        print(
            f"  {name:<10} shipped {recall(not_benign, name):.4f} | "
            f"{recall(shipped_own, name):.4f}   baseline (the highest of the three SVMs) "
            f"{recall(either, name):.4f} | {recall(own[name], name):.4f}"
        )


#: Labels real sites put in front of their domain, for the benign names with one (the top-sites
#: list names registered domains only).
_FRONT = ("careers", "intranet", "files", "vpn", "wiki", "events", "investors", "mail", "shop")


def _web_screener(model: DomainModel) -> None:
    """The web screener's verdicts from the name alone (no reports) on the test split, and on
    the benign test names with a label in front."""
    snapshot = ReputationSnapshot.empty(Allowlist(shipped_entries()))
    screener = WebScreener(model)
    test = [i for i in load_labelled_names(SHARED) if i.split == "test"]
    groups = {label: [i.name for i in test if i.label == label] for label in ("benign", *BAD_LISTS)}
    benign = groups["benign"]
    # the shipped lists come from the top of the benign list: the allowlist (ranks 1-1,000)
    # allows its names, the popular sites (1,001-10,000) keep them from the model; the names
    # past both are what the lists do not already answer
    allowlist = snapshot.allowlist
    groups["benign, past the shipped lists"] = [
        name for name in benign if allowlist.match_domain(name) is None and not is_popular(name)
    ]
    groups["benign, a label in front"] = [
        f"{_FRONT[k % len(_FRONT)]}.{name}" for k, name in enumerate(benign)
    ]
    # a user's page on a hosting platform: the benign name's first label under the platform
    groups["benign, as platform pages"] = [
        f"{name.split('.', 1)[0]}.{('wixsite.com', 'blogspot.com')[k % 2]}"
        for k, name in enumerate(benign)
    ]
    print("web screener from the name alone (warn / block share):")
    for label, names in groups.items():
        verdicts = [v.verdict for v in screener.screen(names, snapshot)]
        warn, block = verdicts.count("warn") / len(names), verdicts.count("block") / len(names)
        print(f"  {label:<32} {len(names):>7,} warn {warn:.4f} block {block:.4f}")


def _throughput(model: DomainModel, names: list[str], batch: int) -> None:
    model.predict(names[:1000])  # warm: the suffix list and the weights in the cache
    started = time.perf_counter()
    for start in range(0, len(names), batch):
        model.predict(names[start : start + batch])
    seconds = time.perf_counter() - started
    print(f"  DomainModel.predict, batches of {batch:,}: {len(names) / seconds:>12,.0f} names/s")
    print(f"  one batch of {batch:,}: {seconds / len(names) * batch * 1000:.0f} ms")
    allowlist = Allowlist(shipped_entries())
    sample = names[: min(len(names), 50_000)]
    started = time.perf_counter()
    for name in sample:
        domain_signals(name, allowlist)
    seconds = time.perf_counter() - started
    print(
        f"  domain_signals, one host at a time:   {len(sample) / seconds:>12,.0f} hosts/s "
        f"({seconds / len(sample) * 1e6:.1f} µs each)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipped", action="store_true", help="skip training: shipped model")
    parser.add_argument("--names", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args()
    if not args.no_pin:
        os.sched_setaffinity(0, {0})
    shipped = " --shipped" if args.shipped else ""
    print(f"python bench/bench_domain_model.py{shipped} --names {args.names} --batch {args.batch}")
    print(f"one core: {not args.no_pin}")
    if not SHARED.is_dir():
        print(f"no shared data at {SHARED}: throughput of the shipped model on generated names")
        print("throughput")
        _throughput(DomainModel.load(), _generated(args.names), args.batch)
        return
    if args.shipped:
        model = DomainModel.load()
    else:
        started = time.perf_counter()
        model, _ = train_domain_model(SHARED)
        print(f"trained in {time.perf_counter() - started:.0f} s")
    _quality(model)
    _per_list_baseline(model)
    _web_screener(model)
    names = sorted({i.name for i in load_labelled_names(SHARED)})
    random.Random(7).shuffle(names)
    print(f"throughput ({min(args.names, len(names)):,} distinct real names, all lists)")
    _throughput(model, names[: args.names], args.batch)


if __name__ == "__main__":
    main()
