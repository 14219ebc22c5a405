"""Train and evaluate the domain model on lists of names (``scamwall model train-domains``).

Data: a folder with ``benign_top.txt`` and any of ``scam.txt``, ``phishing.txt``, ``gambling.txt``,
one host name a line (the layout of the project's shared data). Names of the bad lists that the
shipped allowlist protects (``docs.google.com``, a Thai military site, a bank's own domain) are
dropped: the lists' own false positives, and never blocked anyway.

The split is fixed by a hash of the *registered domain*, like the text model's by a hash of the
text (:func:`scamwall.screening.training.split_of`: 80% train, 10% development, 10% test): every
host under one registered domain falls in the same part, so the thousands of phishing hosts under
one domain cannot be learnt in train and "found" in test.

The model reads the registered domain alone (:mod:`scamwall.screening.domain_model`). Hosts of a
bad list whose registered domain is on the benign list (2,250 phishing pages on
``godaddysites.com``, ``yi.org``, ``webcindario.com``...: hosting platforms and compromised
popular sites) are left out of training, where they would teach that the platform itself is
bad; the evaluation counts them, as the misses they are (``on_benign_domain``). It reports
recall apart for bare names and for names with labels in front (``bare``, ``fronted``).

Training is deterministic: same data, same bytes of the saved model. Its version is
``domain-<date of the newest data file>-<digest of the data, settings and weights>``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from scamwall.errors import InvalidRecord, NotFound
from scamwall.reputation.allowlist import Allowlist, shipped_entries
from scamwall.screening.domain_model import (
    DEFAULT_DOMAIN_BITS,
    DEFAULT_DOMAIN_NGRAMS,
    DENSE_FEATURES,
    DOMAIN_CLASSES,
    DomainModel,
    domain_features,
    split_host,
)
from scamwall.screening.training import split_of

__all__ = [
    "BAD_LISTS",
    "LabelledName",
    "evaluate_domain_model",
    "load_labelled_names",
    "render_domain_card",
    "threshold_at_fpr",
    "train_domain_model",
]

log = logging.getLogger(__name__)

#: The lists of bad names, each a class of the model.
BAD_LISTS = ("scam", "phishing", "gambling")
BENIGN_FILE = "benign_top.txt"
#: Where each list of the shared data comes from, and its licence (for the model card).
SOURCES = {
    "scam": "scam sites from durablenapkin/scamblocklist (hand-curated from Trustpilot and "
    "r/Scams reports; MIT) and blocklistproject/Lists scam-nl (The Unlicense, file headers MIT)",
    "phishing": "blocklistproject/Lists phishing-nl (aggregated feeds, little curation, known "
    "false positives such as real banks; The Unlicense, file headers MIT)",
    "gambling": "Sinfonietta/hostfiles gambling-hosts (mostly licensed bookmakers and casinos; "
    "MIT) and bigdargon/hostsVN gambling lists (Asian online gambling, largely illegal in "
    "VN/CN/TH; MIT)",
    "benign": "Tranco top-100k list (a mirror in kamika-ze/test-ech; list ID not recorded; free "
    "for research use, the mirror states no licence), names on the other lists removed; "
    "popular is not the same as benign",
}
#: The false-positive rate on benign development names the default threshold allows.
THRESHOLD_FPR = 0.0075
#: The false-positive rate at which recall is reported.
REPORT_FPR = 0.01
# Inverse regularisation, chosen on the development split among 0.3, 1, 3 and 10. A bootstrap by
# registered domain later put the noise of a difference between two settings at about 1.5
# points of recall: 1, 3 and 10 are level within it.
_C = 3.0
# The threshold lies in the far tail of the benign scores, where each benign mistake costs the
# most: benign names weigh three times as much in total as each bad list (on the development
# split, recall at a 1% false-positive rate gained one to three points per list over 1x, about
# the noise of such a difference).
_BENIGN_WEIGHT = 3.0
# lbfgs stops here, short of full convergence: twice the budget moved the development figures
# by two points at most, and a fixed budget keeps training time (under a minute on the shared
# data) predictable.
_MAX_ITER = 300
_HOST = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")


@dataclass(frozen=True, slots=True)
class LabelledName:
    """One host name of a list, and the list it comes from."""

    name: str
    label: str
    registered: str

    @property
    def split(self) -> str:
        """``train``, ``dev`` or ``test``, fixed by the registered domain's hash."""
        return split_of(self.registered)


def _read_names(path: Path) -> list[str]:
    names: list[str] = []
    skipped = 0
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            name = line.strip().lower().rstrip(".")
            if not name or name.startswith("#"):
                continue
            if _HOST.fullmatch(name):
                names.append(name)
            else:
                skipped += 1
    if skipped:
        log.warning("%s: %d lines are not host names and were skipped", path.name, skipped)
    return names


def load_labelled_names(data_dir: Path) -> list[LabelledName]:
    """Every usable name of the lists in ``data_dir`` (module docstring), in file order."""
    if not (data_dir / BENIGN_FILE).is_file():
        raise NotFound(f"no {BENIGN_FILE} in {data_dir}; give the folder of the domain lists")
    allowlist = Allowlist(shipped_entries())
    bad: dict[str, list[str]] = {}
    for label in BAD_LISTS:
        path = data_dir / f"{label}.txt"
        if path.is_file():
            names = _read_names(path)
            bad[label] = [n for n in names if allowlist.match_domain(n) is None]
            log.info(
                "%s: %d names, %d allowlisted ones dropped",
                label,
                len(names),
                len(names) - len(bad[label]),
            )
    if not bad:
        raise NotFound(f"none of {', '.join(f'{b}.txt' for b in BAD_LISTS)} in {data_dir}")
    # one site, however written: www.unibet.co.uk on a bad list takes unibet.co.uk off the benign
    listed = {name.removeprefix("www.") for names in bad.values() for name in names}
    benign = [
        n for n in _read_names(data_dir / BENIGN_FILE) if n.removeprefix("www.") not in listed
    ]
    labelled = [LabelledName(n, "benign", split_host(n)[0]) for n in benign]
    for label, names in bad.items():
        labelled.extend(LabelledName(n, label, split_host(n)[0]) for n in names)
    return labelled


def _weights(items: Sequence[LabelledName]) -> npt.NDArray[np.float64]:
    """Each class weighs the same in total (benign more, see ``_BENIGN_WEIGHT``); inside a
    class, a registered domain with ``k`` hosts weighs ``sqrt(k)``, not ``k``: thousands of
    hosts under one free-hosting domain must not drown the rest of the list."""
    per_domain = Counter((item.label, item.registered) for item in items)
    weights = np.array([1 / math.sqrt(per_domain[(i.label, i.registered)]) for i in items])
    labels = np.array([i.label for i in items])
    for label in set(labels):
        chosen = labels == label
        share = _BENIGN_WEIGHT if label == "benign" else 1.0
        weights[chosen] *= share * len(items) / len(DOMAIN_CLASSES) / weights[chosen].sum()
    return weights


def _fit(items: Sequence[LabelledName]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The weight matrix and intercepts over :func:`domain_features`, one column per class."""
    matrix = domain_features([i.name for i in items])
    index = {label: k for k, label in enumerate(DOMAIN_CLASSES)}
    targets = np.array([index[i.label] for i in items])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the budget is deliberate
        fitted = LogisticRegression(C=_C, max_iter=_MAX_ITER).fit(
            matrix, targets, sample_weight=_weights(items)
        )
    log.info("logistic regression: %d iterations of at most %d", fitted.n_iter_[0], _MAX_ITER)
    coef = np.zeros((matrix.shape[1], len(DOMAIN_CLASSES)), dtype=np.float32)
    intercept = np.full(len(DOMAIN_CLASSES), -30.0, dtype=np.float32)  # a class absent from data
    if len(fitted.classes_) == 2:  # binary: scikit-learn keeps one column, for the second class
        coef[:, fitted.classes_[1]] = fitted.coef_[0]
        intercept[fitted.classes_[0]] = 0.0
        intercept[fitted.classes_[1]] = fitted.intercept_[0]
    else:
        for column, class_index in enumerate(fitted.classes_):
            coef[:, class_index] = fitted.coef_[column]
            intercept[class_index] = fitted.intercept_[column]
    # the model file keeps float16 weights: the threshold is chosen on exactly those
    return coef.astype(np.float16).astype(np.float32), intercept


def threshold_at_fpr(benign_scores: npt.NDArray[np.float64], fpr: float) -> float:
    """The lowest score threshold that flags at most ``fpr`` of the benign names."""
    if len(benign_scores) == 0:
        return 0.5
    ranked = np.sort(benign_scores)[::-1]
    allowed = math.floor(fpr * len(ranked))
    if allowed >= len(ranked):
        return float(ranked[-1])
    return float(np.nextafter(ranked[allowed], np.inf))


def _version(data_dir: Path, coef: npt.NDArray[np.float32]) -> str:
    """``domain-<date of the newest data file>-<digest>``: the digest covers the data, the
    settings and the weights they gave (so a change of features shows too)."""
    digest = hashlib.blake2b(coef.astype(np.float16).tobytes(), digest_size=5)
    settings = (_C, _BENIGN_WEIGHT, _MAX_ITER, THRESHOLD_FPR, DEFAULT_DOMAIN_BITS)
    digest.update(repr((settings, DEFAULT_DOMAIN_NGRAMS)).encode())
    newest = 0.0
    for name in (BENIGN_FILE, *(f"{label}.txt" for label in BAD_LISTS)):
        path = data_dir / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes())
            newest = max(newest, path.stat().st_mtime)
    return f"domain-{datetime.fromtimestamp(newest, UTC):%Y%m%d}-{digest.hexdigest()}"


def _libraries() -> dict[str, str]:
    """Versions of the libraries the weights and the split depend on (for the card)."""
    return {name: version(name) for name in ("numpy", "scipy", "scikit-learn", "publicsuffixlist")}


def _on_benign_domain(labelled: Sequence[LabelledName]) -> set[str]:
    """Registered domains of the benign list (a bad host on one cannot be told by its name)."""
    return {i.registered for i in labelled if i.label == "benign"}


def train_domain_model(data_dir: Path) -> tuple[DomainModel, dict[str, Any]]:
    """Train on the train split, choose the threshold on dev, report on test (module docstring).
    Returns the model (its card filled in) and the test report."""
    labelled = load_labelled_names(data_dir)
    train = [i for i in labelled if i.split == "train"]
    dev = [i for i in labelled if i.split == "dev"]
    if not any(i.label == "benign" for i in dev) or len({i.label for i in train}) < 2:
        raise InvalidRecord(
            "too little data: the train split needs benign and bad names, the dev split benign ones"
        )
    benign_domains = _on_benign_domain(labelled)
    coef, intercept = _fit(
        [i for i in train if i.label == "benign" or i.registered not in benign_domains]
    )
    untuned = DomainModel(classes=DOMAIN_CLASSES, coef=coef, intercept=intercept, threshold=0.5)
    benign_dev = [i.name for i in dev if i.label == "benign"]
    threshold = threshold_at_fpr(untuned.scores(benign_dev), THRESHOLD_FPR)
    model = DomainModel(classes=DOMAIN_CLASSES, coef=coef, intercept=intercept, threshold=threshold)
    report = _report(model, labelled, "test")
    sizes = Counter((i.split, i.label) for i in labelled)
    card = {
        "version": _version(data_dir, coef),
        "classes": list(DOMAIN_CLASSES),
        "features": (
            f"character {DEFAULT_DOMAIN_NGRAMS[0]}-{DEFAULT_DOMAIN_NGRAMS[1]}-grams of the "
            f"registered domain (labels in front of it are not read) hashed to "
            f"2^{DEFAULT_DOMAIN_BITS}; dense: {'; '.join(DENSE_FEATURES)}"
        ),
        "classifier": (
            f"scikit-learn LogisticRegression (multinomial, lbfgs), C={_C}, at most {_MAX_ITER} "
            f"iterations; classes weigh alike in total, benign x{_BENIGN_WEIGHT}; hosts of one "
            "registered domain weigh sqrt(k) together"
        ),
        "split": "blake2b(registered domain) % 10: 0-7 train, 8 dev, 9 test",
        "sizes": {
            split: {label: sizes[(split, label)] for label in DOMAIN_CLASSES}
            for split in ("train", "dev", "test")
        },
        "threshold": round(threshold, 6),
        "threshold_rule": f"false-positive rate <= {THRESHOLD_FPR} on the benign dev names",
        "libraries": _libraries(),
        "test": report,
    }
    return DomainModel(**{**model.__dict__, "card": card}), report


def _rates(
    bad: npt.NDArray[np.float64], benign: npt.NDArray[np.float64], threshold: float
) -> dict[str, Any]:
    at_report = threshold_at_fpr(benign, REPORT_FPR)
    return {
        "n": len(bad),
        "recall": round(float((bad >= threshold).mean()), 4) if len(bad) else None,
        "fpr": round(float((benign >= threshold).mean()), 5) if len(benign) else None,
        "recall_at_fpr_1pct": round(float((bad >= at_report).mean()), 4) if len(bad) else None,
        "threshold_at_fpr_1pct": round(at_report, 6),
    }


def _report(model: DomainModel, labelled: Sequence[LabelledName], split: str) -> dict[str, Any]:
    chosen = [i for i in labelled if split in ("all", i.split)]
    probabilities = model.probabilities([i.name for i in chosen])
    scores = 1.0 - probabilities[:, 0]
    likeliest = probabilities[:, 1:].argmax(axis=1) + 1
    labels = np.array([i.label for i in chosen])
    benign = scores[labels == "benign"]
    fronted = np.array([split_host(i.name)[1] != "" for i in chosen])
    benign_domains = _on_benign_domain(labelled)
    on_benign = np.array([i.registered in benign_domains for i in chosen])
    report: dict[str, Any] = {
        "split": split,
        "threshold": round(model.threshold, 6),
        "benign": {"n": len(benign), "fpr": round(float((benign >= model.threshold).mean()), 5)}
        if len(benign)
        else {"n": 0, "fpr": None},
    }
    for label in BAD_LISTS:
        members = labels == label
        if not members.any():
            continue
        entry = _rates(scores[members], benign, model.threshold)
        flagged = members & (scores >= model.threshold)
        right = likeliest[flagged] == model.classes.index(label)
        entry["category_right"] = round(float(right.mean()), 4) if flagged.any() else None
        for part, inside in (("bare", ~fronted), ("fronted", fronted)):
            if (members & inside).any():
                rates = _rates(scores[members & inside], benign, model.threshold)
                entry[part] = {k: rates[k] for k in ("n", "recall", "recall_at_fpr_1pct")}
        entry["on_benign_domain"] = int((members & on_benign).sum())
        report[label] = entry
    return report


def evaluate_domain_model(
    model: DomainModel, data_dir: Path, *, split: str = "test"
) -> dict[str, Any]:
    """Per list: names, recall and benign false-positive rate at the model's threshold, recall
    at a 1% false-positive rate and the threshold that gives it, and how often a flagged name
    gets its list's category; ``split`` is ``train``, ``dev``, ``test`` or ``all``."""
    if split not in ("all", "train", "dev", "test"):
        raise InvalidRecord("split must be all, train, dev or test", field="split")
    return _report(model, load_labelled_names(data_dir), split)


def render_domain_card(card: dict[str, Any]) -> str:
    """The model card as Markdown, to write beside a trained model."""
    test = dict(card.get("test", {}))
    lines = [
        f"# Domain model {card.get('version')}",
        "",
        "Says from a host name alone whether it is a scam, phishing or gambling site. See",
        "`scamwall.screening.domain_model`.",
        "",
        "## Data",
        "",
        *(f"- `{label}`: {text}." for label, text in SOURCES.items()),
        "",
        "Names of the bad lists that the shipped allowlist protects are dropped (the lists' own",
        "false positives: real banks, hosting platforms' own names).",
        "",
        f"Split: {card.get('split')}.",
        "",
        "| split | " + " | ".join(DOMAIN_CLASSES) + " |",
        "| --- |" + " --- |" * len(DOMAIN_CLASSES),
        *(
            f"| {split} | " + " | ".join(str(counts.get(c)) for c in DOMAIN_CLASSES) + " |"
            for split, counts in dict(card.get("sizes", {})).items()
        ),
        "",
        "## Model",
        "",
        f"- Features: {card.get('features')}",
        f"- Classifier: {card.get('classifier')}",
        f"- Threshold {card.get('threshold')}: {card.get('threshold_rule')}",
        "",
        "## Test-split figures",
        "",
        "| list | n | recall at FPR 1% | recall at the threshold | FPR at the threshold | "
        "category right |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label in BAD_LISTS:
        row = test.get(label)
        if row:
            lines.append(
                f"| {label} | {row['n']} | {row['recall_at_fpr_1pct']} | {row['recall']} | "
                f"{row['fpr']} | {row['category_right']} |"
            )
    lines += [
        "",
        f"Benign test names: {test.get('benign', {}).get('n')}. Recall at the threshold and at "
        "FPR 1%, of bare names and of names with labels in front (`pay.`, `m.`..., read as their "
        "registered domain), and hosts on a registered domain of the benign list (hosting "
        "platforms, compromised popular sites: by name, the platform):",
        "",
        "| list | bare n | bare | bare at FPR 1% | fronted n | fronted | fronted at FPR 1% | "
        "on a benign domain |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label in BAD_LISTS:
        row = test.get(label)
        if row:
            bare, front = dict(row.get("bare", {})), dict(row.get("fronted", {}))
            lines.append(
                f"| {label} | {bare.get('n')} | {bare.get('recall')} | "
                f"{bare.get('recall_at_fpr_1pct')} | {front.get('n')} | {front.get('recall')} | "
                f"{front.get('recall_at_fpr_1pct')} | {row.get('on_benign_domain')} |"
            )
    lines += [
        "",
        "## Limits",
        "",
        *LIMITS,
        "",
        "## Rebuild",
        "",
        "From the repository root, with the shared data beside it. The same data files (the",
        "version's date is the newest one's modification date) and library versions give",
        "the same bytes. Libraries it was trained with: "
        + ", ".join(f"{name} {v}" for name, v in dict(card.get("libraries", {})).items())
        + ".",
        "",
        "```sh",
        "scamwall model train-domains --data ../shared/data/domains --out FILE",
        "scamwall model eval-domains --data ../shared/data/domains",
        "```",
        "",
    ]
    return "\n".join(lines)


LIMITS = [
    "- Recall at a 1% false-positive rate is below 90% for every list, far below for scam and "
    "phishing: the name alone cannot tell a compromised small-business site (most of the "
    "phishing list) or a fake shop with an ordinary name (much of the scam list) from a real "
    "site. Use the score as one signal beside reputation, the look-alike signals "
    "(`scamwall.screening.domain_signals`) and what the page says.",
    "- Benign means popular (Tranco). Legitimate long-tail sites, with longer names made of "
    "several words, look more like the bad lists than top sites do: expect more false "
    "positives on live traffic than on the test split.",
    "- The top-sites list itself holds casinos, bookmakers and numeric gambling names; they "
    "count as false positives here and hold gambling recall down.",
    "- Only the registered domain is read, by the ICANN part of the public suffix list: a "
    "phishing page on a hosting platform (`shop.wixsite.com`, `x.godaddysites.com`) or a "
    "compromised site (`login.some-shop.com`) scores as that domain, whatever the labels in "
    "front say. Those labels are left to the look-alike and phishing-word signals and to "
    "reputation: the top-sites list names no subdomains, so the model could only learn that "
    "any label in front is bad.",
    "- A leading `www.` is dropped before scoring: the lists carry it far more often than the "
    "top sites, which says how they were compiled, not what the sites are.",
    "- Figures count hosts: a registered domain with many hosts in a list counts many times.",
    "- Scores are probabilities under the training mixture (classes weighed alike, benign "
    "three times), not under live traffic: the threshold carries over, the raw score does not.",
]
