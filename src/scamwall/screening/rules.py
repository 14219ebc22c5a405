"""Keyword rules per language, matched all at once with an Aho-Corasick automaton.

Rules live in data files (``rules/<language>.yaml``, one per language plus ``common.yaml`` for
words every language borrows), so analysts can extend them without touching code::

    language: th
    rules:
      - id: th.police_impersonation
        category: police_impersonation
        weight: 0.5        # how strongly this rule alone suggests fraud (0-1)
        min_hits: 1        # distinct keywords that must appear for it to fire
        description: Fake police or court claiming the recipient is linked to a crime
        keywords: [หมายจับ, ฟอกเงิน, …]
        unless: [ไม่มีนโยบาย, …]  # optional: phrases that keep the rule from firing

``unless`` is for the messages that warn about the scam a rule describes: a bank's "never give
your OTP to anyone" names the very request a rule looks for, and must not read as that request.

Keywords are matched as substrings of a message's *matching form* (NFKC, case-folded, native
digits as ASCII: :mod:`scamwall.screening.prepare`), and are brought to that form when loaded.
A short Latin keyword (at most five ASCII letters and digits: brand names such as ``ufa``,
``m88``, ``usdt``) must not follow a letter, and one that ends in a letter must not run on into
letters: ``ufa`` finds "ufa" and "ufa168", not "manufacturer"; ``m88`` finds "m88vip", not
"RM88.00"; ``usdt`` finds "100USDT".
Every keyword of every language is found in one pass over the text, however many rules there are
(:mod:`scamwall.screening.keywords`: Hyperscan, or an Aho-Corasick automaton where Hyperscan is
not installed; ``bench/bench_text.py`` compares them with a Python ``re`` alternation of the same
keywords).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from scamwall.errors import InvalidInput
from scamwall.indicators.text import fold_characters
from scamwall.screening.keywords import KeywordFinder

__all__ = ["CATEGORIES", "Rule", "RuleHit", "RuleSet", "load_rules"]

#: Categories a rule may name; the screener reports the strongest one.
CATEGORIES = frozenset(
    {
        "police_impersonation",
        "customer_service_impersonation",
        "acquaintance_impersonation",
        "loan_credit",
        "investment",
        "prize_lottery",
        "parcel_delivery",
        "job_task",
        "romance",
        "gambling",
        "account_security",
        "payment_request",
        "urgency",
        "advertising",
        "phishing_link",
    }
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of a rule file."""

    id: str
    language: str
    category: str
    weight: float
    min_hits: int
    description: str
    keywords: tuple[str, ...]
    #: Phrases that keep the rule from firing (module docstring).
    unless: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule that fired on a message, and the keywords that made it fire."""

    rule: Rule
    keywords: tuple[str, ...]

    def as_reason(self) -> dict[str, object]:
        """The reason the screener reports for it."""
        return {
            "type": "rule",
            "rule": self.rule.id,
            "category": self.rule.category,
            "weight": self.rule.weight,
            "matched": list(self.keywords),
            "text": self.rule.description,
        }


#: Keywords that count only as words (module docstring).
_SHORT_WORD = re.compile(r"[a-z0-9]{1,5}")


def _as_word(keyword: str) -> re.Pattern[str]:
    """Where a short keyword counts (module docstring): not after a letter (after a digit too,
    for one that starts with a digit), and not before a letter when it ends in one. A number
    may come before ("100usdt") and anything after a digit ("new88vn")."""
    before = r"(?<![a-z0-9])" if keyword[0].isdigit() else r"(?<![a-z])"
    after = r"(?![a-z])" if keyword[-1].isalpha() else ""
    return re.compile(before + re.escape(keyword) + after)


#: libyaml's safe loader where PyYAML was built with it (ten times faster), else the Python one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _matching_form(keyword: str) -> str:
    return fold_characters(unicodedata.normalize("NFKC", keyword).casefold()).strip()


def _rule(raw: object, language: str, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: a rule is a mapping with id, category, weight, keywords")
    try:
        rule_id, category = str(raw["id"]), str(raw["category"])
        weight, keywords = float(raw["weight"]), raw["keywords"]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"{where}: missing or malformed field {exc}") from None
    if category not in CATEGORIES:
        raise InvalidInput(f"{where}: rule {rule_id}: unknown category {category!r}")
    if not 0 < weight <= 1:
        raise InvalidInput(f"{where}: rule {rule_id}: weight must be in (0, 1]")
    if not isinstance(keywords, list) or not keywords:
        raise InvalidInput(f"{where}: rule {rule_id}: keywords must be a non-empty list")
    forms = tuple(dict.fromkeys(form for k in keywords if (form := _matching_form(str(k)))))
    if any("\x00" in form for form in forms):
        raise InvalidInput(f"{where}: rule {rule_id}: a keyword holds a NUL character")
    min_hits = int(raw.get("min_hits", 1))
    if not 1 <= min_hits <= len(forms):
        raise InvalidInput(f"{where}: rule {rule_id}: min_hits must be 1-{len(forms)}")
    unless = raw.get("unless", [])
    if not isinstance(unless, list):
        raise InvalidInput(f"{where}: rule {rule_id}: unless must be a list of phrases")
    vetoes = tuple(dict.fromkeys(form for k in unless if (form := _matching_form(str(k)))))
    if any("\x00" in form for form in vetoes):
        raise InvalidInput(f"{where}: rule {rule_id}: an unless phrase holds a NUL character")
    return Rule(
        rule_id,
        language,
        category,
        weight,
        min_hits,
        str(raw.get("description", "")),
        forms,
        vetoes,
    )


def _parse_file(text: str, where: str) -> list[Rule]:
    try:
        document = yaml.load(text, Loader=_LOADER)  # noqa: S506 - _LOADER is a safe loader
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{where}: not valid YAML ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise InvalidInput(f"{where}: expected a mapping with `language` and a `rules` list")
    language = str(document.get("language", "any"))
    return [_rule(raw, language, f"{where} rule {n}") for n, raw in enumerate(document["rules"], 1)]


class RuleSet:
    """Rules and one finder of all their keywords. Immutable once built; safe to share across
    threads, and pickled for other processes."""

    def __init__(
        self, rules: Iterable[Rule], *, version: str = "custom", engine: str | None = None
    ) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.version = version
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise InvalidInput("rule ids must be unique across all rule files")
        owners: dict[str, list[tuple[int, int]]] = {}
        for number, rule in enumerate(self.rules):
            for index, keyword in enumerate(rule.keywords):
                owners.setdefault(keyword, []).append((number, index))
            for phrase in rule.unless:  # found in the same pass; index -1: a veto
                owners.setdefault(phrase, []).append((number, -1))
        self.keyword_count = len(owners)
        #: (rule number, keyword index) pairs of each keyword, by the keyword's number
        self._owners = [tuple(owned) for owned in owners.values()]
        self._finder = KeywordFinder(list(owners), engine=engine)
        #: short Latin keywords by number, and where they count (module docstring)
        self._words = {
            number: _as_word(keyword)
            for number, keyword in enumerate(owners)
            if _SHORT_WORD.fullmatch(keyword)
        }

    @property
    def engine(self) -> str:
        """What finds the keywords (:data:`scamwall.screening.keywords.ENGINES`)."""
        return self._finder.engine

    def match(self, matching: str) -> list[RuleHit]:
        """The rules that fire on one message's matching form."""
        # in the order they end in the text, each once: ties of weight keep that order
        found = self._finder.find(matching)
        if not found:
            return []
        words = self._words
        found = [n for n in found if n not in words or words[n].search(matching) is not None]
        seen: dict[int, set[int]] = {}
        vetoed: set[int] = set()
        for number in found:
            for rule_number, index in self._owners[number]:
                if index < 0:
                    vetoed.add(rule_number)
                else:
                    seen.setdefault(rule_number, set()).add(index)
        hits = []
        for number, indexes in seen.items():
            rule = self.rules[number]
            if len(indexes) >= rule.min_hits and number not in vetoed:
                hits.append(RuleHit(rule, tuple(rule.keywords[i] for i in sorted(indexes))))
        hits.sort(key=lambda hit: -hit.rule.weight)
        return hits


def load_rules(folder: Path | None = None) -> RuleSet:
    """The rule files of ``folder``, or the rules shipped in the package (read once)."""
    return _shipped_rules() if folder is None else _rules_from(folder)


@lru_cache(maxsize=1)
def _shipped_rules() -> RuleSet:
    return _rules_from(None)


def _rules_from(folder: Path | None) -> RuleSet:
    if folder is not None:
        files = sorted(folder.glob("*.yaml"))
        if not files:
            raise InvalidInput(f"no *.yaml rule files in {folder}")
        sources = [(f.name, f.read_text("utf-8")) for f in files]
    else:
        shipped = resources.files("scamwall.screening").joinpath("rules")
        sources = sorted(
            (entry.name, entry.read_text("utf-8"))
            for entry in shipped.iterdir()
            if entry.name.endswith(".yaml")
        )
    rules: list[Rule] = []
    for name, text in sources:
        rules.extend(_parse_file(text, name))
    digest = hashlib.blake2b(digest_size=6)
    for name, text in sources:
        digest.update(name.encode() + b"\0" + text.encode())
    return RuleSet(rules, version=f"rules-{digest.hexdigest()}")
