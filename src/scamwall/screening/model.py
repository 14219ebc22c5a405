"""The statistical text model: hashed character n-grams and a linear classifier.

A model file (``.npz``, NumPy arrays only: nothing executable, unlike a pickle) holds:

- ``coef``/``intercept``: two logistic regressions (scikit-learn) over
  :func:`~scamwall.screening.features.hash_ngrams` features. The *fraud head* is multinomial,
  one column per class: ``other`` (ham or spam), ``fraud`` and the finer fraud types the
  training data names; the *spam head*, the last column, is binary: advertising or not. Two
  heads because sources disagree about advertising: a fraud corpus files operator promotions
  under "normal", a spam corpus calls them spam. The fraud head learns from every source, the
  spam head from the sources that label spam, with every source's fraud as "not
  advertising". ``P(bad) = 1 - (1 - P(fraud)) (1 - P(spam))``;
- ``platt``: the calibration of ``P(not ham)``, fitted out of fold (``training``);
- ``offsets``: optionally, a shift of that calibrated log-odds per script
  (``features.SCRIPTS``: other, Latin, Thai, Han), chosen out of fold: the
  threshold per language the script tells (``other``, where no training data is, stays 0);
- ``mix``: how much rules and language-independent signals add where the model can read
  the message and where it cannot (chosen out of fold); where the model reads, per script
  too (``rules_read.latin``...): a language's rules may be worth more than another's;
- ``seen`` and ``vocabulary``: the characters and the Latin-script words seen in training,
  which tell whether the model can read a new message at all (``features.coverage`` and
  ``features.word_coverage``);
- optionally ``encoder_coef``/``encoder_intercept``: a logistic head over multilingual-e5-small
  embeddings for the second stage (:mod:`scamwall.screening.encoder`);
- ``card``: the model card as JSON (sources, licences, split, metrics).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from scamwall.errors import InvalidInput, NotFound
from scamwall.screening.features import (
    CODE_POINTS,
    SCRIPTS,
    coverage,
    hash_ngrams,
    letters,
    script_counts,
    scripts,
    word_coverage,
)

__all__ = ["CLASSES", "ModelOutput", "TextModel", "default_model", "load_model"]

#: Classes of the fraud head, ``other`` first; the spam head comes after them.
CLASSES = (
    "other",
    "fraud",
    "police_impersonation",
    "loan_credit",
    "customer_service_impersonation",
    "acquaintance_impersonation",
)
_DEFAULT_FILE = "text-model.npz"
_LATIN = SCRIPTS.index("latin")


@dataclass(frozen=True, slots=True)
class ModelOutput:
    """What the model says about a batch."""

    #: Calibrated probability that each message is fraud or spam.
    bad: npt.NDArray[np.float64]
    #: ``spam`` or the likeliest fraud class, per message.
    category: list[str]
    #: Probability of fraud (any type), uncalibrated, per message.
    fraud: npt.NDArray[np.float64]
    #: Share of each message's letters seen in training.
    letters: npt.NDArray[np.float64]
    #: Share of each message's Latin-script words seen in training (1 with fewer than three).
    words: npt.NDArray[np.float64]
    #: The script each message is mostly written in, an index into ``features.SCRIPTS``.
    script: npt.NDArray[np.int64]


@dataclass(frozen=True)
class TextModel:
    """A trained model (see the module docstring); immutable, safe to share across threads."""

    #: Classes of the fraud head; ``coef`` has one more column, the spam head.
    classes: tuple[str, ...]
    coef: npt.NDArray[np.float32]
    intercept: npt.NDArray[np.float32]
    platt: tuple[float, float]
    mix: dict[str, float]
    seen: npt.NDArray[np.bool_]
    bits: int
    ngrams: tuple[int, int]
    card: dict[str, Any] = field(default_factory=dict)
    #: Latin-script words seen in training (see ``features.word_coverage``).
    vocabulary: frozenset[str] = frozenset()
    encoder_coef: npt.NDArray[np.float32] | None = None
    encoder_intercept: float = 0.0
    #: Calibrated log-odds shift per script of ``features.SCRIPTS`` (empty: none).
    offsets: tuple[float, ...] = ()

    def mix_by_script(self, name: str) -> npt.NDArray[np.float64]:
        """A setting of the mix per script of ``features.SCRIPTS``: ``<name>.<script>`` where
        the mix has it, else ``<name>``."""
        default = self.mix[name]
        return np.array([self.mix.get(f"{name}.{script}", default) for script in SCRIPTS])

    @property
    def version(self) -> str:
        """The version named in verdicts: the card's, or ``unversioned``."""
        return str(self.card.get("version", "unversioned"))

    def logits(self, texts: list[str]) -> npt.NDArray[np.float64]:
        """Raw class scores of a batch of model texts (``features.model_text``)."""
        matrix = hash_ngrams(texts, bits=self.bits, ngrams=self.ngrams)
        return np.asarray(matrix @ self.coef, dtype=np.float64) + self.intercept

    def predict(self, texts: list[str]) -> ModelOutput:
        """Calibrated probability of fraud-or-spam, likeliest bad class and coverage."""
        if not texts:
            empty = np.zeros(0)
            return ModelOutput(empty, [], empty, empty, empty, np.zeros(0, dtype=np.int64))
        scores = self.logits(texts)
        fraud_scores = scores[:, :-1]
        fraud_scores -= fraud_scores.max(axis=1, keepdims=True)
        probabilities = np.exp(fraud_scores)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        fraud = 1.0 - probabilities[:, 0]
        spam = 1.0 / (1.0 + np.exp(-scores[:, -1]))
        bad = np.clip(1.0 - (1.0 - fraud) * (1.0 - spam), 1e-6, 1 - 1e-6)
        slope, offset = self.platt
        log_odds = slope * np.log(bad / (1 - bad)) + offset
        letters_of = letters(texts)
        counts = script_counts(texts, letters_of=letters_of)
        written = scripts(texts, counts=counts)
        if any(self.offsets):
            log_odds += np.asarray(self.offsets)[written]
        calibrated = 1.0 / (1.0 + np.exp(-log_odds))
        likeliest = probabilities[:, 1:].argmax(axis=1) + 1
        category = [
            "spam" if s > f else self.classes[i]
            for s, f, i in zip(spam, fraud, likeliest, strict=True)
        ]
        return ModelOutput(
            calibrated,
            category,
            fraud,
            coverage(texts, self.seen, letters_of=letters_of),
            (
                word_coverage(texts, self.vocabulary, latin_letters=counts[:, _LATIN])
                if self.vocabulary
                else np.ones(len(texts))
            ),
            written,
        )

    def save(self, path: Path) -> None:
        """Write the model file."""
        arrays: dict[str, Any] = {
            "classes": np.array(self.classes),
            "coef": self.coef.astype(np.float16),
            "intercept": self.intercept.astype(np.float32),
            "platt": np.array(self.platt, dtype=np.float64),
            "mix_keys": np.array(sorted(self.mix)),
            "mix_values": np.array([self.mix[k] for k in sorted(self.mix)]),
            "seen": np.packbits(self.seen),
            "vocabulary": np.array(sorted(self.vocabulary)),
            "shape": np.array([self.bits, *self.ngrams]),
            "card": np.array(json.dumps(self.card, ensure_ascii=False, sort_keys=True)),
        }
        if any(self.offsets):
            arrays["offsets"] = np.array(self.offsets, dtype=np.float64)
        if self.encoder_coef is not None:
            arrays["encoder_coef"] = self.encoder_coef.astype(np.float32)
            arrays["encoder_intercept"] = np.array(self.encoder_intercept)
        with path.open("wb") as handle:
            np.savez_compressed(handle, **arrays)


def _read(source: Any, name: str) -> TextModel:
    try:
        with np.load(source, allow_pickle=False) as data:
            bits, low, high = (int(v) for v in data["shape"])
            encoder = data.get("encoder_coef")
            return TextModel(
                classes=tuple(str(c) for c in data["classes"]),
                coef=data["coef"].astype(np.float32),
                intercept=data["intercept"].astype(np.float32),
                platt=(float(data["platt"][0]), float(data["platt"][1])),
                mix={
                    str(k): float(v)
                    for k, v in zip(data["mix_keys"], data["mix_values"], strict=True)
                },
                seen=np.unpackbits(data["seen"])[:CODE_POINTS].astype(bool),
                bits=bits,
                ngrams=(low, high),
                card=json.loads(str(data["card"])),
                vocabulary=frozenset(str(w) for w in data.get("vocabulary", ())),
                encoder_coef=encoder,
                encoder_intercept=(
                    float(data["encoder_intercept"]) if encoder is not None else 0.0
                ),
                offsets=tuple(float(v) for v in data.get("offsets", ())),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise InvalidInput(f"{name} is not a scamwall text model ({exc})") from None


def load_model(path: Path) -> TextModel:
    """Read a model file written by :meth:`TextModel.save` (``scamwall model train``)."""
    if not path.is_file():
        raise NotFound(f"no model file at {path}; train one with `scamwall model train`")
    return _read(path, str(path))


@lru_cache(maxsize=1)
def default_model() -> TextModel:
    """The model shipped in the package (see ``MODEL_CARD.md`` beside it)."""
    shipped = resources.files("scamwall.screening").joinpath("models").joinpath(_DEFAULT_FILE)
    with shipped.open("rb") as handle:
        return _read(handle, f"the shipped {_DEFAULT_FILE}")
