"""Training: what is tuned after the heads is tuned out of fold."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from scamwall.errors import InvalidRecord
from scamwall.screening import training
from scamwall.screening.features import SCRIPTS, scripts
from scamwall.screening.model import TextModel
from scamwall.screening.rules import load_rules
from scamwall.screening.text import Verdict
from scamwall.screening.training import (
    _FOLDS,
    Example,
    _fit_classifier,
    _Part,
    _texts,
    _tuning_parts,
    fold_of,
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
    word_fold = fold_of("zorblax offer 0")
    marked = [t for t in (f"zorblax offer {i}" for i in range(1000)) if fold_of(t) == word_fold]
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
        folds = {fold_of(e.text) for e in part.examples}
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


# _best_per_script, with screening faked: a value says which messages of its script are flagged


def _verdict(example: Example, flagged: bool) -> Verdict:
    return Verdict("x", "warn" if flagged else "allow", 0.9 if flagged else 0.1, "fraud", [])


def _fake_screening(
    monkeypatch: pytest.MonkeyPatch, flags: dict[tuple[str, int], set[str]]
) -> list[tuple[int, int]]:
    """Screening where value ``v`` set for a script flags the texts ``flags[(script, v)]``;
    returns the (script, value) of every call, to check what was screened."""
    calls: list[tuple[int, int]] = []

    def screen_parts(
        parts: list[_Part], rules: object, keep: list[bool] | None = None, **changes: object
    ) -> tuple[list[Example], list[Verdict]]:
        chosen = [e for part in parts for e, k in zip(part.examples, keep or [], strict=True) if k]
        setting = changes.get("setting")
        if not isinstance(setting, tuple):
            return chosen, [_verdict(e, False) for e in chosen]
        script, value = int(setting[0]), int(setting[1])
        calls.append((script, value))
        assert all(scripts([e.text])[0] == script for e in chosen)  # its own messages only
        flagged = flags[(SCRIPTS[script], value)]
        return chosen, [_verdict(e, e.text in flagged) for e in chosen]

    monkeypatch.setattr(training, "_screen_parts", screen_parts)
    monkeypatch.setattr(training, "_texts", lambda examples: [e.text for e in examples])
    return calls


def _parts() -> list[_Part]:
    texts = [("latin bad", "fraud"), ("latin ham", "ham"), ("中文坏", "fraud"), ("中文好", "ham")]
    texts += [(f"latin ham {i}", "ham") for i in range(8)]
    examples = tuple(Example(t, label, label, "made_up", "?") for t, label in texts)
    model = TextModel(
        classes=("other", "fraud"),
        coef=np.zeros((2, 2), dtype=np.float32),
        intercept=np.zeros(2, dtype=np.float32),
        platt=(1.0, 0.0),
        mix={"warn": 0.5},
        seen=np.ones(1, dtype=bool),
        bits=1,
        ngrams=(1, 4),
    )
    return [_Part(model, examples)]


def _choose(parts: list[_Part], max_fpr: float) -> dict[int, int]:
    return training._best_per_script(
        parts,
        load_rules(),
        max_fpr,
        values=[0, 1, 2],
        changes=lambda script, value: {"setting": (script, value)},
        preference=lambda value: value,
    )


def test_each_script_gets_the_value_with_the_best_f1_within_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    latin, han = SCRIPTS.index("latin"), SCRIPTS.index("han")
    flags = {
        ("latin", 0): set(),
        ("latin", 1): {"latin bad"},
        ("latin", 2): {"latin bad", "latin ham"},  # catches as much, one false positive more
        ("han", 0): {"中文坏"},
        ("han", 1): {"中文坏"},  # the same as 0 and 2: the preferred, largest value wins
        ("han", 2): {"中文坏"},
    }
    calls = _fake_screening(monkeypatch, flags)
    assert _choose(_parts(), max_fpr=0.05) == {latin: 1, han: 2}
    # every value screened once per script with messages; none for the scripts without
    assert sorted(calls) == sorted((s, v) for s in (latin, han) for v in (0, 1, 2))


def test_over_the_budget_the_lowest_false_positive_rate_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    latin, han = SCRIPTS.index("latin"), SCRIPTS.index("han")
    every_ham = {"latin ham", *(f"latin ham {i}" for i in range(8))}
    flags = {
        ("latin", 0): {"latin bad", *every_ham},
        ("latin", 1): {"latin ham", "latin ham 0"},  # the fewest false positives, no catch
        ("latin", 2): {"latin bad", *every_ham},
        ("han", 0): {"中文坏", "中文好"},
        ("han", 1): {"中文坏", "中文好"},
        ("han", 2): {"中文坏", "中文好"},
    }
    _fake_screening(monkeypatch, flags)
    assert _choose(_parts(), max_fpr=0.0) == {latin: 1, han: 2}


def test_bad_lines_of_labelled_data_are_named_and_the_rest_loaded(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_bytes(
        b'\xef\xbb\xbf{"text": "win now", "label": "spam"}\n'
        b'{"text": "unterminated\n'
        b'["a"]\n'
        b"\n"
        b'{"text": "hi", "label": "bogus"}\n'
        b"\xff\xfe\n"
        b'{"text": "see you", "label": "ham"}\n'
    )
    problems: list[str] = []
    examples = training.load_examples([data], problems=problems)
    assert [e.text for e in examples] == ["win now", "see you"]
    assert [p.split(":")[0] for p in problems] == [
        "d.jsonl line 2",
        "d.jsonl line 3",
        "d.jsonl line 5",
        "d.jsonl line 6",
    ]
    with pytest.raises(InvalidRecord, match=r"d\.jsonl line 2: not valid JSON"):
        training.load_examples([data])
