"""The lexical domain model: is a host name a scam, phishing or gambling site, from the name alone.

No network: the model reads the name's characters, nothing else, and only those of the
*registered domain* (``scam.example`` of ``pay.scam.example``, from the public suffix list): what
its owner chose and paid for. Labels in front of it cost nothing and can say anything, and no
list of popular sites holds them (the top-sites list names registered domains only): a model
that read them would learn that any label in front is a bad sign (one did: with ``careers.`` or
``intranet.`` in front, labels its training never put before a benign name, 99% of the top
sites went over its threshold). On a hosting platform the user's label is such a label too:
the registered domain is read by the ICANN part of the list (``wixsite.com`` of
``shop.wixsite.com``). The labels in front are read by the lexical signals instead
(:mod:`~scamwall.screening.domain_signals`: brands, phishing words, punycode in any label). A
leading ``www.`` is dropped. The registered domain's hashed
character n-grams (:func:`~scamwall.screening.features.hash_ngrams`, 1- to 4-grams with the
name's edges marked) are followed by a few dense features of its shape
(:data:`DENSE_FEATURES`).

A multinomial logistic regression (scikit-learn) over ``benign``, ``scam``, ``phishing`` and
``gambling`` turns them into probabilities. A prediction's ``score`` is the probability that the
name is not benign; its ``category`` is the likeliest bad class when the score reaches the model's
``threshold`` (chosen at training, :mod:`scamwall.screening.domain_training`), else ``benign``.

A model file (``.npz``, NumPy arrays only, loaded with ``allow_pickle=False``) holds ``coef``
(float16), ``intercept``, ``classes``, ``threshold``, ``shape`` (bits and the n-gram range) and
``card``, the model card as JSON (version, sources, split, metrics).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix, hstack

from scamwall.errors import InvalidInput, NotFound
from scamwall.indicators.network import is_ip_host, registered_domain
from scamwall.screening.features import hash_ngrams

__all__ = [
    "DENSE_FEATURES",
    "DOMAIN_CLASSES",
    "DomainModel",
    "DomainPrediction",
    "domain_features",
    "split_host",
]

#: Classes of the model, ``benign`` first.
DOMAIN_CLASSES = ("benign", "scam", "phishing", "gambling")
#: Dense features after the hashed n-grams, each scaled to about 0-1.
DENSE_FEATURES = (
    "registered label length / 20",
    "share of digits in the registered label",
    "hyphens in the registered label / 3",
    "character entropy of the registered label / 4 bits",
    "registered domain length / 40",
    "punycode in the registered domain",
)
#: Bits of the hashed n-grams of the registered domain.
DEFAULT_DOMAIN_BITS = 18
DEFAULT_DOMAIN_NGRAMS = (1, 4)
_DEFAULT_FILE = "domain-model.npz"
_DENSE_CAP = 3.0  # a freak 200-letter name must not outweigh every n-gram


def split_host(host: str) -> tuple[str, str]:
    """``(registered domain, labels in front of it)`` of a canonical host. The registered domain
    is what its owner paid for, by the ICANN part of the public suffix list: on a hosting
    platform, ``wixsite.com`` of ``shop.wixsite.com`` (the user's label costs nothing, like any
    label in front). A leading ``www`` label is dropped from the front; an IP address, or a
    host the list cannot split (a bare suffix), is all registered domain."""
    if is_ip_host(host):
        return host, ""
    registered = registered_domain(host, icann_only=True) or host
    front = host[: max(len(host) - len(registered) - 1, 0)]
    return registered, "" if front == "www" else front.removeprefix("www.")


def _entropy(text: str) -> float:
    if not text:
        return 0.0
    # H = log2(n) - sum(c log2 c) / n over the counts c of each distinct character
    counts = [text.count(character) for character in set(text)]
    return math.log2(len(text)) - sum(c * math.log2(c) for c in counts) / len(text)


def _dense(registered: str) -> list[float]:
    label = registered.split(".", 1)[0]
    size = max(len(label), 1)
    return [
        len(label) / 20,
        sum(map(label.count, "0123456789")) / size,
        label.count("-") / 3,
        _entropy(label) / 4,
        len(registered) / 40,
        1.0 if "xn--" in registered else 0.0,
    ]


def domain_features(
    names: Sequence[str],
    *,
    bits: int = DEFAULT_DOMAIN_BITS,
    ngrams: tuple[int, int] = DEFAULT_DOMAIN_NGRAMS,
) -> csr_matrix:
    """The model's features of a batch of canonical host names (module docstring): one row per
    name, the registered domain's n-grams, then :data:`DENSE_FEATURES`."""
    registered = [split_host(name)[0] for name in names]
    # "<" and ">" cannot occur in a host name: they mark where the name starts and ends
    grams = hash_ngrams([f"<{r}>" for r in registered], bits=bits, ngrams=ngrams)
    dense = np.array([_dense(r) for r in registered], dtype=np.float32)
    dense = dense.reshape(len(names), len(DENSE_FEATURES))
    np.clip(dense, 0.0, _DENSE_CAP, out=dense)
    matrix = hstack([grams, csr_matrix(dense)], format="csr")
    matrix.sum_duplicates()
    return matrix


@dataclass(frozen=True, slots=True)
class DomainPrediction:
    """What the model says about one name."""

    #: Probability that the name is not benign (0-1), as the training mixture saw it.
    score: float
    #: ``scam``, ``phishing`` or ``gambling`` at or above the model's threshold, else ``benign``.
    category: str


@dataclass(frozen=True)
class DomainModel:
    """A trained domain model (module docstring); immutable, safe to share across threads."""

    classes: tuple[str, ...]
    #: ``n_features x n_classes`` weights over :func:`domain_features`.
    coef: npt.NDArray[np.float32]
    intercept: npt.NDArray[np.float32]
    #: Score at or above which a name is reported as its likeliest bad class.
    threshold: float
    bits: int = DEFAULT_DOMAIN_BITS
    ngrams: tuple[int, int] = DEFAULT_DOMAIN_NGRAMS
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """The version named in verdicts (``domain-YYYYMMDD-<digest>``), or ``unversioned``."""
        return str(self.card.get("version", "unversioned"))

    def probabilities(self, names: Sequence[str]) -> npt.NDArray[np.float64]:
        """``len(names) x len(classes)`` class probabilities of a batch of canonical names."""
        if not names:
            return np.zeros((0, len(self.classes)))
        matrix = domain_features(names, bits=self.bits, ngrams=self.ngrams)
        scores = np.asarray(matrix @ self.coef, dtype=np.float64) + self.intercept
        scores -= scores.max(axis=1, keepdims=True)
        probabilities = np.exp(scores)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        return probabilities

    def scores(self, names: Sequence[str]) -> npt.NDArray[np.float64]:
        """Probability that each name is not benign."""
        return 1.0 - self.probabilities(names)[:, 0]

    def predict(self, names: Sequence[str]) -> list[DomainPrediction]:
        """Score and category of each canonical host name (lower-case, punycode, no dot at the
        end); a URL's host or a subdomain is scored by its registered domain (module docstring).
        IP addresses are not names: the model never saw one, leave them out."""
        probabilities = self.probabilities(names)
        bad = 1.0 - probabilities[:, 0]
        likeliest = probabilities[:, 1:].argmax(axis=1) + 1
        return [
            DomainPrediction(
                float(score), self.classes[index] if score >= self.threshold else "benign"
            )
            for score, index in zip(bad, likeliest, strict=True)
        ]

    def save(self, path: Path) -> None:
        """Write the model file (the same model always gives the same bytes)."""
        arrays: dict[str, Any] = {
            "classes": np.array(self.classes),
            "coef": self.coef.astype(np.float16),
            "intercept": self.intercept.astype(np.float32),
            "threshold": np.array(self.threshold, dtype=np.float64),
            "shape": np.array([self.bits, *self.ngrams]),
            "card": np.array(json.dumps(self.card, ensure_ascii=False, sort_keys=True)),
        }
        with path.open("wb") as handle:
            np.savez_compressed(handle, **arrays)

    @classmethod
    def load(cls, path: Path | None = None) -> DomainModel:
        """Read a model file written by :meth:`save`; without a path, the model shipped in the
        package (read once, then shared)."""
        if path is None:
            return _shipped_model()
        if not path.is_file():
            raise NotFound(
                f"no domain model file at {path}; train one with `scamwall model train-domains`"
            )
        with path.open("rb") as handle:
            return _read(handle, str(path))


def _read(source: IO[bytes], name: str) -> DomainModel:
    try:
        with np.load(source, allow_pickle=False) as data:
            shape = [int(v) for v in data["shape"]]
            if len(shape) == 4:  # bits of the registered domain and of the labels in front
                raise InvalidInput(
                    f"{name} is a domain model of an earlier layout, which read the labels in "
                    "front of the registered domain: train a new one with "
                    "`scamwall model train-domains`"
                )
            bits, low, high = shape
            rows = (1 << bits) + len(DENSE_FEATURES)
            if data["coef"].shape != (rows, len(data["classes"])):
                raise ValueError(f"weights of shape {data['coef'].shape}, expected {rows} rows")
            return DomainModel(
                classes=tuple(str(c) for c in data["classes"]),
                coef=data["coef"].astype(np.float32),
                intercept=data["intercept"].astype(np.float32),
                threshold=float(data["threshold"]),
                bits=bits,
                ngrams=(low, high),
                card=json.loads(str(data["card"])),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise InvalidInput(f"{name} is not a scamwall domain model ({exc})") from None


@lru_cache(maxsize=1)
def _shipped_model() -> DomainModel:
    shipped = resources.files("scamwall.screening").joinpath("models").joinpath(_DEFAULT_FILE)
    with shipped.open("rb") as handle:
        return _read(handle, f"the shipped {_DEFAULT_FILE}")
