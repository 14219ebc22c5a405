"""Training: what is tuned after the heads is tuned out of fold."""

from __future__ import annotations

import random

import numpy as np

from scamwall.screening.model import TextModel
from scamwall.screening.rules import load_rules
from scamwall.screening.training import (
    _FOLDS,
    Example,
    _fit_classifier,
    _fold_of,
    _texts,
    _tuning_parts,
    train_model,
)

HAM = ["see you at {n} for dinner", "running {n} minutes late", "明天{n}点开会，别迟到"]
SPAM = ["big sale! {n}% off all shoes this weekend only", "全场{n}折优惠，欢迎光临本店"]
FRAUD = [
    "your bank account is locked, verify now at http://secure-{n}.top/login",
    "您的账户涉嫌洗钱，请立即转账到安全账户{n}",
]


def _examples(count: int, seed: int = 3) -> list[Example]:
    rng = random.Random(seed)
    examples = []
    for i in range(count):
        label, templates = rng.choice((("ham", HAM), ("spam", SPAM), ("fraud", FRAUD)))
        text = rng.choice(templates).format(n=rng.randint(1, 9999)) + f" #{i}"
        examples.append(Example(text, label, label, "made_up", "en"))
    return examples


def test_every_train_message_is_tuned_on_once_by_heads_that_did_not_learn_it() -> None:
    examples = _examples(600)
    train = [e for e in examples if e.split == "train"]
    dev = [e for e in examples if e.split == "dev"]
    # a word only one fold's messages hold (twice: a word seen once is not vocabulary)
    word_fold = _fold_of("zorblax offer 0")
    marked = [t for t in (f"zorblax offer {i}" for i in range(1000)) if _fold_of(t) == word_fold]
    train += [Example(text, "spam", "spam", "made_up", "en") for text in marked[:2]]
    texts = _texts(train)
    coef, intercept = _fit_classifier(texts, train, ("other", "fraud"), bits=12)

    model = TextModel(
        classes=("other", "fraud"),
        coef=coef,
        intercept=intercept,
        platt=(1.0, 0.0),
        mix={},
        seen=np.ones(1, dtype=bool),
        bits=12,
        ngrams=(1, 4),
        vocabulary=frozenset({"zorblax"}),
    )
    parts = _tuning_parts(model, train, texts, dev)

    assert parts[0].model is model
    assert list(parts[0].examples) == dev
    assert len(parts) == 1 + _FOLDS
    held = [e for part in parts[1:] for e in part.examples]
    assert sorted(e.text for e in held) == sorted(e.text for e in train)
    for part in parts[1:]:
        folds = {_fold_of(e.text) for e in part.examples}
        assert len(folds) == 1
        assert not np.array_equal(part.model.coef, model.coef)
        assert ("zorblax" in part.model.vocabulary) == (folds != {word_fold})


def test_training_tunes_on_the_folds_and_is_deterministic() -> None:
    examples = _examples(500)
    rules = load_rules()
    first, report = train_model(examples, rules, bits=12)
    second, _ = train_model(examples, rules, bits=12)
    assert first.platt != (1.0, 0.0)  # calibrated
    assert first.platt == second.platt
    assert first.offsets == second.offsets
    assert first.mix == second.mix
    assert report["all"]["f1"] >= 0.9
    # rules and signals weigh per script where there were messages to tune on, never below
    # the weight tuned for every script
    for name in ("latin", "han"):
        assert first.mix[f"rules_read.{name}"] >= first.mix["rules_read"]
        assert first.mix[f"signals_read.{name}"] >= first.mix["signals_read"]
    assert "rules_read.thai" not in first.mix
