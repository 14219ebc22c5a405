"""The MISP tags and taxonomies scamwall reads and writes: TLP, distribution, confidence, scam type.

============================================== =================================================
on import, read from                           gives
============================================== =================================================
``tlp:*`` (TLP 2.0, and ``tlp:white``)         the marking; the most restricted when several
                                               (``tlp:ex:chr`` is a rider, not a colour)
``misp:confidence-level``                      its numerical value in the ``misp`` taxonomy
``estimative-language:likelihood-probability`` the middle of the ICD 203 band
MISP distribution (0-4; 5 inherits)            the widest marking it allows, when no tag gives one
============================================== =================================================

On export each attribute carries ``tlp:*``, the ``misp:confidence-level`` nearest its confidence
and, where one fits its kind, a ``gsma-fraud`` tag; the event carries its most restricted TLP,
the distribution that TLP allows and the ``circl`` scam classification.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from scamwall.errors import InvalidInput
from scamwall.exchange.misp.fields import RejectedField
from scamwall.indicators import IndicatorKind
from scamwall.vocabulary import Tlp, parse_tlp

__all__ = [
    "DISTRIBUTION_TLP",
    "GSMA_TAGS",
    "SCAM_TAG",
    "TLP_DISTRIBUTION",
    "confidence_tag",
    "most_restricted",
    "read_markings",
]

K = IndicatorKind
_RESTRICTION = [Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED]
#: MISP distribution -> the widest marking it allows (5, "inherit", defers to object and event).
DISTRIBUTION_TLP = {0: Tlp.AMBER, 1: Tlp.GREEN, 2: Tlp.GREEN, 3: Tlp.CLEAR, 4: Tlp.AMBER}
#: Marking -> the distribution an exported event gets (RED never leaves).
TLP_DISTRIBUTION = {Tlp.CLEAR: 3, Tlp.GREEN: 1, Tlp.AMBER: 0, Tlp.AMBER_STRICT: 0}
# The misp taxonomy's numerical values ("evalued" is its own spelling); estimative language
# (ICD 203) at the middle of each band.
_CONFIDENCE_LEVELS = {"completely-confident": 100, "usually-confident": 75, "fairly-confident": 50}
_CONFIDENCE_LEVELS |= {"rarely-confident": 25, "unconfident": 0, "confidence-cannot-be-evalued": 50}
_LIKELIHOOD = {"almost-no-chance": 3, "very-unlikely": 12, "unlikely": 32, "likely": 68}
_LIKELIHOOD |= {"roughly-even-chance": 50, "very-likely": 88, "almost-certain": 97}
_MACHINE_TAG = re.compile(r'^(?P<ns>[^:=]+):(?P<predicate>[^=]+?)(?:="?(?P<value>[^"]*)"?)?$')

#: The ``gsma-fraud`` tag an exported attribute of each kind carries (other kinds carry none).
GSMA_TAGS = {
    K.PHONE: 'gsma-fraud:business="social-engineering"',
    K.SMS_SENDER: 'gsma-fraud:technical="spamming"',
    K.URL: 'gsma-fraud:technical="phishing-pharming"',
    K.DOMAIN: 'gsma-fraud:technical="phishing-pharming"',
    K.FILE_HASH: 'gsma-fraud:technical="mobile-malware"',
}
#: The classification every exported event carries.
SCAM_TAG = 'circl:incident-classification="scam"'


def read_markings(tags: Any) -> tuple[list[Tlp], int | None]:
    """The TLPs and the confidence one tag list gives."""
    if tags in (None, ""):
        return [], None
    if not isinstance(tags, list):
        raise RejectedField("Tag", "expected a list of tags")
    tlps: list[Tlp] = []
    levels: list[int] = []
    likelihoods: list[int] = []
    for tag in tags:
        name = tag.get("name") if isinstance(tag, dict) else None
        if not isinstance(name, str):
            raise RejectedField("Tag", 'each tag is an object with a "name"')
        match = _MACHINE_TAG.match(name.strip())
        if match is None:
            continue
        namespace, predicate = match["ns"].lower(), match["predicate"].lower()
        value = (match["value"] or "").lower()
        if namespace == "tlp" and predicate != "ex:chr":  # CHR is a rider, not a colour
            try:
                tlps.append(parse_tlp(name))
            except InvalidInput:
                raise RejectedField("Tag", f"{name!r} is not a TLP 2.0 marking") from None
        elif (namespace, predicate) == ("misp", "confidence-level"):
            if value not in _CONFIDENCE_LEVELS:
                raise RejectedField("Tag", f"{name!r}: unknown confidence level")
            levels.append(_CONFIDENCE_LEVELS[value])
        elif (namespace, predicate) == ("estimative-language", "likelihood-probability"):
            if value not in _LIKELIHOOD:
                raise RejectedField("Tag", f"{name!r}: unknown likelihood")
            likelihoods.append(_LIKELIHOOD[value])
    confidence = min(levels or likelihoods) if levels or likelihoods else None
    return tlps, confidence


def confidence_tag(confidence: int) -> str:
    """The ``misp:confidence-level`` tag nearest a confidence of 0-100."""
    level = min(_CONFIDENCE_LEVELS.items(), key=lambda item: abs(item[1] - confidence))[0]
    return f'misp:confidence-level="{level}"'


def most_restricted(tlps: Iterable[Tlp]) -> Tlp:
    """The most restricted of some markings (RED before AMBER+STRICT before AMBER...)."""
    return max(tlps, key=_RESTRICTION.index)
