"""Screen SMS and chat messages: a pure function of a batch, a model, rules and a snapshot.

For each message (see ``docs/screening.md`` for the whole story):

1. *prepare* it (:mod:`~scamwall.screening.prepare`): refuse what is not text, convert Zawgyi;
2. *extract* its indicators and look each up in the reputation snapshot (a URL also by its
   host); the sender too, when the gateway names it;
3. *rules*: keyword rules of every language in one Aho-Corasick pass;
4. *signals* that need no language (:mod:`~scamwall.screening.signals`);
5. the *model*: calibrated probability of fraud-or-spam, and how much of the text it can read;
6. optionally the *encoder* second stage, for the few messages the fast stage cannot read;
7. *combine*: independent pieces of evidence, each a probability, by noisy-or::

       score = 1 - (1 - r*model) (1 - a(r)*rules) (1 - b(r)*signals) (1 - encoder) (1 - reputation)

   where ``r`` is how readable the message is to the model (0-1) and ``a``, ``b`` say how much
   rules and signals add (less where the model reads well, fully where it cannot; where it
   reads, per script); they are chosen in training (out of fold) and kept in the model file.
   Each reason carries its *share* of the evidence, ``-log(1 - s)`` of that piece over the sum.

The verdict is ``block`` from the block threshold, ``warn`` from the warn threshold, else
``allow``. Every reason of a verdict names what produced it: the rule id, the indicator with the
sightings behind its score, the model and snapshot versions (``trace``). A block backed by
reports lists the ids of its CLEAR sightings and the number of restricted ones in the trace;
the reported indicator, looked up through the sharing policy, leads an authorised analyst to the
rest (ids of restricted sightings would tell who reported, see ``reputation.snapshot``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from scamwall.indicators import Indicator, IndicatorKind
from scamwall.indicators.extract import FoundIndicator, ParseMemo, extract_indicators
from scamwall.indicators.network import is_ip_host, nat64_ipv4, url_host, url_page_forms
from scamwall.reputation.scoring import noisy_or
from scamwall.reputation.snapshot import Reputation, ReputationSnapshot
from scamwall.screening.features import distinct_ngram_shares, model_text
from scamwall.screening.model import TextModel
from scamwall.screening.prepare import Prepared, prepare_messages
from scamwall.screening.rules import RuleHit, RuleSet
from scamwall.screening.signals import SIGNAL_WEIGHT, LinkMemo, Signal, find_signals

__all__ = ["Encoder", "Message", "TextScreener", "Verdict", "readability"]

#: Rule categories that name a tactic, not a kind of fraud.
_TACTICS = frozenset({"urgency", "payment_request"})
#: Readability below which a message goes to the encoder stage (within its budget).
_UNREADABLE = 0.5
#: From this probability, where the model flags, its reading is checked for repetition: text
#: typed as one unit again and again ("lol lol lol…", a laugh, a phrase pasted twenty times)
#: adds to the same n-grams' counts while their scale shrinks only with the square root of the
#: length, so the model's score of it grows without the text saying more, and blocked chat.
#: Below this probability a lower score would change little worth the look.
_DOUBTED = 0.5
#: The share of distinct 4-grams (:func:`~scamwall.screening.features.distinct_ngram_shares`)
#: from which the model's reading counts in full; below, in proportion. No scam or spam of the
#: shared messages is under it (their lowest, 0.26, are bank-card advertisements of masked
#: digits); "lol" typed 26 times gives 0.04.
_VARIED = 0.25
#: What a message can have mended that no person's message has (over 64 KB, half of it control
#: characters): it is at least a warning, for a human to look at, whatever the part read says.
#: Bytes that are not UTF-8 are no such sign: gateways garble encodings every day.
_ANOMALIES = frozenset({"too_large", "binary"})
#: Most the encoder stage adds for a message the fast stage cannot read at all.
_ENCODER_SHARE = 0.6
#: Weight from which a rule's fraud type overrides the model's "spam".
_STRONG_RULE = 0.45
#: Signals that lawful advertising never carries (illegal gambling counts as fraud).
_FRAUD_SIGNALS = frozenset(
    {"wallet", "lookalike_link", "punycode_link", "ip_link", "gambling_link"}
)
#: A reason's strength, ``-log(1 - score)``, is counted up to this score.
_ALMOST_ONE = 1 - 1e-9
#: Messages the fast stages take at a time: a big batch goes through them in chunks of this
#: many, whose texts, features and intermediate results stay in the CPU's caches (batches of
#: 10,000: about 5% faster than in one piece).
_CHUNK = 2048
#: Rule categories reported as one.
_PHISHING = {"account_security": "phishing", "phishing_link": "phishing"}


class Encoder(Protocol):
    """The second stage: probability of fraud-or-spam from a multilingual encoder."""

    version: str

    def probabilities(self, texts: Sequence[str]) -> Sequence[float]:
        """One probability per text."""


@dataclass(frozen=True, slots=True)
class Message:
    """One message as a gateway hands it over."""

    id: str
    text: str | bytes
    sender: str | None = None
    #: What was wrong with the input record itself (a JSON line without text…), if anything.
    problem: str | None = None
    #: Something about how the input was read that the verdict should say (a line that looked
    #: like JSON but was not, screened as plain text), if anything.
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The screener's answer for one message."""

    id: str
    verdict: str
    score: float
    category: str
    reasons: list[dict[str, Any]]
    trace: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """``{"id", "verdict", "score", "category", "reasons", "trace"}``."""
        return {
            "id": self.id,
            "verdict": self.verdict,
            "score": round(self.score, 4),
            "category": self.category,
            "reasons": self.reasons,
            "trace": self.trace,
        }


def _ramp(value: float, low: float, high: float) -> float:
    return min(1.0, max(0.0, (value - low) / (high - low)))


def readability(letters: float, words: float, mix: dict[str, float]) -> float:
    """How far the model can be trusted on a message, 0-1, from the shares of its letters and
    of its Latin-script words seen in training, each ramped between a low and a high mark kept
    in the model (``coverage_low``/``coverage_high``, ``words_low``/``words_high``)."""
    return float(_readabilities(np.array([letters]), np.array([words]), mix)[0])


def _readabilities(
    letters: npt.NDArray[np.float64], words: npt.NDArray[np.float64], mix: dict[str, float]
) -> npt.NDArray[np.float64]:
    """:func:`readability` of a whole batch."""
    low, high = mix["coverage_low"], mix["coverage_high"]
    words_low, words_high = mix.get("words_low", 0.0), mix.get("words_high", 1e-9)
    return np.minimum(
        np.clip((letters - low) / (high - low), 0.0, 1.0),
        np.clip((words - words_low) / (words_high - words_low), 0.0, 1.0),
    )


def _scaled(factor: float, weight: float) -> float:
    """A rule's or signal's weight scaled by the mix, kept below certainty."""
    return min(0.95, factor * weight)


@dataclass(slots=True)
class _Work:
    """One message on its way through the stages."""

    message: Message
    prepared: Prepared
    found: list[FoundIndicator] = field(default_factory=list)
    hits: list[RuleHit] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    pieces: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    readable: float = 1.0
    model_category: str = "fraud"
    encoder: float | None = None
    sightings: list[str] = field(default_factory=list)
    restricted: int = 0


class TextScreener:
    """Model, rules, thresholds and the optional encoder; :meth:`screen` judges batches."""

    def __init__(
        self,
        model: TextModel,
        rules: RuleSet,
        *,
        warn: float = 0.5,
        block: float = 0.9,
        region: str | None = None,
        encoder: Encoder | None = None,
        encoder_budget: int = 8,
        encoder_time_share: float = 0.1,
    ) -> None:
        if not 0 < warn < block <= 1:
            raise ValueError("thresholds must satisfy 0 < warn < block <= 1")
        if encoder_time_share < 0:
            raise ValueError("encoder_time_share must be 0 or more")
        self.model = model
        self.rules = rules
        self.warn = warn
        self.block = block
        self.region = region
        self.encoder = encoder
        self.encoder_budget = encoder_budget
        self.encoder_time_share = encoder_time_share
        #: seconds the encoder took a message, lately (updated as it runs; a guess before)
        self.encoder_seconds = 0.1

    def screen(
        self,
        messages: Sequence[Message],
        snapshot: ReputationSnapshot,
        *,
        region: str | None = None,
        second_stage: bool = True,
    ) -> list[Verdict]:
        """A verdict per message, in order. Never raises for a bad message: it gets a verdict
        with an ``error`` reason. ``second_stage=False`` leaves the encoder out (real-time
        callers that cannot wait a tenth of a second)."""
        region = region or self.region
        started = time.perf_counter()
        prepared = iter(prepare_messages([m.text for m in messages if not m.problem]))
        work = [
            _Work(m, Prepared("", "", "input", m.problem) if m.problem else next(prepared))
            for m in messages
        ]
        readable = [w for w in work if w.prepared.error is None]
        # a link or number sent in many messages of the batch is parsed once, a host read once
        memo = ParseMemo()
        links: LinkMemo = {}
        for start in range(0, len(readable), _CHUNK):
            chunk = readable[start : start + _CHUNK]
            self._gather(chunk, snapshot, region, memo, links)
            self._score_text(chunk)
        if second_stage and self.encoder is not None and self.encoder_budget > 0:
            self._second_stage(readable, time.perf_counter() - started)
        trace = {
            "model": self.model.version,
            "rules": self.rules.version,
            "snapshot": snapshot.version,
        }
        return [self._verdict(w, trace) for w in work]

    # stages ----------------------------------------------------------------------------------

    def _gather(
        self,
        items: list[_Work],
        snapshot: ReputationSnapshot,
        region: str | None,
        memo: ParseMemo,
        links: LinkMemo,
    ) -> None:
        """Indicators and their reputation, rules and signals: each stage over all the items
        before the next (one stage's code and tables stay in the CPU's caches: 5-8% faster than
        all stages a message at a time)."""
        for item in items:
            item.found = extract_indicators(item.prepared.folded, region, folded=True, memo=memo)
        match = self.rules.match
        for item in items:
            item.hits = match(item.prepared.matching)
        for item in items:
            item.signals = find_signals(
                item.prepared.matching, item.found, snapshot.allowlist, links
            )
            self._look_up(item, snapshot, region, memo)

    def _look_up(
        self, item: _Work, snapshot: ReputationSnapshot, region: str | None, memo: ParseMemo
    ) -> None:
        """The message's indicators and sender in the snapshot; notes on its preparation."""
        prepared = item.prepared
        if item.message.note:
            item.notes.append({"type": "note", "text": item.message.note})
        for error, detail in prepared.mended:
            item.notes.append({"type": "error", "error": error, "text": detail})
        item.notes.extend({"type": "note", "text": note} for note in prepared.notes)
        candidates = [f.indicator for f in item.found]
        senders = _sender_indicators(item.message.sender, region, memo)
        # one sender: allowlisted in one form (96110 as a sender id), it is not scored through
        # another (96110 read as a number): only the allowlisted form is looked up, and noted
        allowed = [s for s in senders if snapshot.allowlist.match(s.kind, s.canonical)]
        senders = allowed or senders
        candidates.extend(senders)
        if not candidates:
            return  # most messages: nothing to look up
        looked: set[tuple[IndicatorKind, str]] = set()
        best: tuple[float, dict[str, Any]] | None = None
        for indicator in candidates:
            for kind, value in _lookup_keys(indicator):
                if (kind, value) in looked:
                    continue
                looked.add((kind, value))
                found = snapshot.lookup_value(kind, value)
                if found is None and kind is IndicatorKind.IP:
                    found = snapshot.covering_block(value)  # a reported block holding it
                if found is None:
                    continue
                if found.allowlisted is not None:
                    # a parent's entry: where it reaches the name, the name's own key says so;
                    # where it does not (a platform's user's site), it says nothing of it
                    if kind is IndicatorKind.DOMAIN and value != _own_host(indicator):
                        continue
                    item.notes.append(_allowlisted_reason(found))
                    continue
                if found.score <= 0:
                    continue
                weighing = [e for e in found.evidence if e.weight > 0]
                item.sightings.extend(e.sighting_id for e in weighing if not e.restricted)
                item.restricted += sum(1 for e in weighing if e.restricted)
                reason = _indicator_reason(found, any(indicator is s for s in senders))
                if best is None or found.score > best[0]:
                    if best is not None:  # outranked: still listed, as a note
                        item.notes.append(best[1])
                    best = (found.score, reason)
                else:
                    item.notes.append(reason)
        if best is not None:
            item.pieces.append(best)

    def _score_text(self, items: list[_Work]) -> None:
        if not items:
            return
        texts = [model_text(w.prepared.matching) for w in items]
        output = self.model.predict(texts)
        mix = self.model.mix
        version = self.model.version
        readable = _readabilities(output.letters, output.words, mix)
        doubted = np.flatnonzero(output.bad >= _DOUBTED)
        if len(doubted):
            shares = distinct_ngram_shares([texts[i] for i in doubted.tolist()])
            readable[doubted] *= np.minimum(1.0, shares / _VARIED)
        rules_read = self.model.mix_by_script("rules_read")[output.script]
        signals_read = self.model.mix_by_script("signals_read")[output.script]
        rules_factors = rules_read * readable + mix["rules_unread"] * (1 - readable)
        signals_factors = signals_read * readable + mix["signals_unread"] * (1 - readable)
        for item, bad, category, r, rules_factor, signals_factor in zip(
            items,
            output.bad.tolist(),
            output.category,
            readable.tolist(),
            rules_factors.tolist(),
            signals_factors.tolist(),
            strict=True,
        ):
            item.readable = r
            item.model_category = category
            item.pieces.append(
                (
                    r * bad,
                    {
                        "type": "model",
                        "model": version,
                        "probability": round(bad, 4),
                        "readable": round(r, 3),
                        "class": category,
                    },
                )
            )
            for hit in item.hits:
                item.pieces.append((_scaled(rules_factor, hit.rule.weight), hit.as_reason()))
            for signal in item.signals:
                item.pieces.append(
                    (_scaled(signals_factor, SIGNAL_WEIGHT[signal.name]), signal.as_reason())
                )

    def _encoder_room(self, fast_seconds: float) -> int:
        """Messages the encoder may take after a fast stage of ``fast_seconds``: as many as
        fit in ``encoder_time_share`` of that time, at least one, at most ``encoder_budget``.
        A big batch of a gateway keeps its throughput (the encoder reads a message in the time
        the fast stage screens a thousand); a few messages get their second opinion."""
        fitting = int(self.encoder_time_share * fast_seconds / max(self.encoder_seconds, 1e-6))
        return max(1, min(self.encoder_budget, fitting))

    def _second_stage(self, items: list[_Work], fast_seconds: float) -> None:
        assert self.encoder is not None
        # only what the fast stage mostly cannot read: where it reads, the encoder's word
        # counts for little (its weight is 1 - readability), and it costs ~100 ms a message
        unread = []
        for item in items:
            if item.readable >= _UNREADABLE or not any(map(str.isalpha, item.prepared.text)):
                continue  # read already, or no letters to read (emoji, digits, punctuation)
            score = noisy_or(s for s, _ in item.pieces)
            if score < self.block:
                unread.append((item.readable, -score, item))
        unread.sort(key=lambda entry: (entry[0], entry[1]))
        # a text sent many times in the batch (a campaign) is read once, and all its copies
        # get the same second opinion
        copies: dict[str, list[_Work]] = {}
        for _, _, item in unread:
            copies.setdefault(item.prepared.text, []).append(item)
        texts = list(copies)[: self._encoder_room(fast_seconds)]
        if not texts:
            return
        started = time.perf_counter()
        probabilities = self.encoder.probabilities(texts)
        took = (time.perf_counter() - started) / len(texts)
        self.encoder_seconds = 0.8 * self.encoder_seconds + 0.2 * took
        chosen = [
            (item, p) for text, p in zip(texts, probabilities, strict=True) for item in copies[text]
        ]
        for item, probability in chosen:
            # the head is trained on other languages and ranks better than it is calibrated
            # (on the unseen-language set: AUC 0.83, 13% of ham above 0.7): only its
            # confident part counts, and only as far as the fast stage cannot read
            weight = (1 - item.readable) * _ENCODER_SHARE * _ramp(float(probability), 0.6, 1.0)
            item.pieces.append(
                (
                    weight,
                    {
                        "type": "encoder",
                        "model": self.encoder.version,
                        "probability": round(float(probability), 4),
                    },
                )
            )

    # verdict ---------------------------------------------------------------------------------

    def _verdict(self, item: _Work, trace: dict[str, Any]) -> Verdict:
        prepared = item.prepared
        if prepared.error is not None:
            reason = {"type": "error", "error": prepared.error, "text": prepared.detail}
            return Verdict(item.message.id, "allow", 0.0, "error", [reason], dict(trace))
        pieces = [piece for piece in item.pieces if piece[0] > 0]
        score = noisy_or([s for s, _ in pieces])
        pieces.sort(key=itemgetter(0), reverse=True)
        strengths = [-math.log(max(1e-12, 1.0 - min(s, _ALMOST_ONE))) for s, _ in pieces]
        total = sum(strengths) or 1.0
        reasons: list[dict[str, Any]] = []
        for (piece_score, said), strength in zip(pieces, strengths, strict=True):
            # every reason is a dict of this message's own: completed, not copied
            said["score"] = round(piece_score, 4)
            said["share"] = round(strength / total, 3)
            reasons.append(said)
        reasons.extend(item.notes)
        if score >= self.block:
            verdict = "block"
        elif score >= self.warn:
            verdict = "warn"
        else:
            verdict = "allow"
        category = "ham" if verdict == "allow" else self._category(item, pieces)
        if verdict == "allow" and any(e in _ANOMALIES for e, _ in prepared.mended):
            # no person sends this: a human looks, whatever the part read says
            verdict, score, category = "warn", max(score, self.warn), "error"
        here = dict(trace)
        if verdict == "block" and (item.sightings or item.restricted):
            here["sightings"] = sorted(set(item.sightings))
            here["restricted_sightings"] = item.restricted
        return Verdict(item.message.id, verdict, score, category, reasons, here)

    def _category(self, item: _Work, pieces: list[tuple[float, dict[str, Any]]]) -> str:
        """The finest category the evidence supports. Where the model reads the message, its
        class, refined by the strongest rule naming a kind of fraud (tactics such as urgency
        name none); its "spam" gives way to fraud when a strong fraud rule, a reported
        indicator or a fraud-only signal (a wallet; a look-alike, punycode, bare-IP or gambling
        link) is there. Where the model cannot read, the rules alone decide."""
        fraud_hit = next(
            (h for h in item.hits if h.rule.category not in _TACTICS | {"advertising"}), None
        )
        typed = (
            _PHISHING.get(fraud_hit.rule.category, fraud_hit.rule.category) if fraud_hit else None
        )
        model_piece = next((s for s, r in pieces if r["type"] == "model"), 0.0)
        if item.readable >= 0.5 and model_piece >= 0.5:
            if item.model_category == "fraud":
                return typed or "fraud"
            if item.model_category == "spam":
                strong = fraud_hit is not None and fraud_hit.rule.weight >= _STRONG_RULE
                reported = any(r["type"] == "indicator" for _, r in pieces)
                telling = any(signal.name in _FRAUD_SIGNALS for signal in item.signals)
                if strong or reported or telling:
                    return typed or "fraud"
            return item.model_category
        if typed is not None:
            return typed
        if any(h.rule.category == "advertising" for h in item.hits):
            return "spam"
        return "fraud"


def _sender_indicators(sender: str | None, region: str | None, memo: ParseMemo) -> list[Indicator]:
    """The sender as a phone number and as an SMS sender id, as far as it reads as each: a short
    code such as 96110 is a sender id that a region's numbering plan may also read as a number,
    and the allowlist or the reports may know it as either. Parsed once a batch (a bulk
    sender's messages share one parse)."""
    if not sender:
        return []
    forms = (
        memo.indicator(sender, IndicatorKind.PHONE, region),
        memo.indicator(sender, IndicatorKind.SMS_SENDER, region),
    )
    return [form for form in forms if form is not None]


def _lookup_keys(indicator: Indicator) -> list[tuple[IndicatorKind, str]]:
    """Where reports of an indicator may be, as the web screener looks: a link also under the
    other ways its page is written (http or https, a '/' ending the path, no query) and by its
    host; a name also by each parent down to its registered domain; an address also as the
    IPv4 address a NAT64 one reaches (and, in :meth:`TextScreener._look_up`, by a reported
    block holding it); a WhatsApp account also as its phone number."""
    keys = [(indicator.kind, indicator.canonical)]
    kind = indicator.kind
    if kind is IndicatorKind.URL:
        keys.extend((IndicatorKind.URL, form) for form in url_page_forms(indicator.canonical))
        host = url_host(indicator.canonical)
        if host and is_ip_host(host):
            keys.extend(_address_keys(host))
        elif host:
            keys.extend(_name_keys(host, indicator.registered_domain))
    elif kind is IndicatorKind.DOMAIN:
        keys.extend(_name_keys(indicator.canonical, indicator.registered_domain)[1:])
    elif kind is IndicatorKind.IP:
        keys.extend(_address_keys(indicator.canonical)[1:])
    elif kind is IndicatorKind.HANDLE and indicator.canonical.startswith("whatsapp:+"):
        keys.append((IndicatorKind.PHONE, indicator.canonical.partition(":")[2]))
    return keys


def _own_host(indicator: Indicator) -> str | None:
    """The host name a link or a name stands for."""
    if indicator.kind is IndicatorKind.URL:
        return url_host(indicator.canonical)
    return indicator.canonical if indicator.kind is IndicatorKind.DOMAIN else None


def _name_keys(host: str, registered: str | None) -> list[tuple[IndicatorKind, str]]:
    """A host name and each parent of it down to its registered domain."""
    keys = [(IndicatorKind.DOMAIN, host)]
    name = host
    while registered and name != registered and "." in name:
        name = name.partition(".")[2]
        keys.append((IndicatorKind.DOMAIN, name))
    return keys


def _address_keys(address: str) -> list[tuple[IndicatorKind, str]]:
    """An address, and the IPv4 address a NAT64 one reaches."""
    ipv4 = nat64_ipv4(address)
    keys = [(IndicatorKind.IP, address)]
    return keys if ipv4 is None else [*keys, (IndicatorKind.IP, ipv4)]


def _indicator_reason(found: Reputation, is_sender: bool) -> dict[str, Any]:
    # only evidence that weighs: an enforcement receipt (weight 0) reports nothing
    weighing = [e for e in found.evidence if e.weight > 0]
    named = sorted({e.agency for e in weighing if e.agency})
    restricted = sum(1 for e in weighing if e.restricted)
    who = ", ".join(named) if named else ""
    if restricted:
        who = f"{who} and " if who else ""
        who += f"{restricted} agenc{'y' if restricted == 1 else 'ies'} (restricted)"
    role = "the sender" if is_sender else "in the message"
    return {
        "type": "indicator",
        "kind": found.kind.value,
        "value": found.canonical,
        "reputation": round(found.score, 4),
        "agencies": found.agencies,
        "sightings": [e.as_dict() for e in found.evidence],
        "text": f"{found.kind.value} {found.canonical} ({role}) reported by {who}",
    }


def _allowlisted_reason(found: Reputation) -> dict[str, Any]:
    entry = found.allowlisted
    assert entry is not None
    return {
        "type": "allowlisted",
        "kind": found.kind.value,
        "value": found.canonical,
        "text": f"{found.canonical} is allowlisted ({entry.public_reason}, {entry.source})",
    }
