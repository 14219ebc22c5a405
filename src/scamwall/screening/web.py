"""The web screener: a verdict for a URL, a domain name or an IP address, with its reasons.

A pure function of the inputs, the reputation snapshot and the blocklist (the feeds' entries)::

    screener = WebScreener(model)
    screener.screen(["https://pay.scam.example/login", "203.0.113.9"], snapshot, blocklist)

Reasons, strongest first:

``allowlisted``  the allowlist protects the name or address: the verdict is ``allow``, whatever
                 else was found; if it was reported too, a ``conflict`` reason says so, and a
                 shortener's ``signal`` is still shown. A URL reported itself on an allowlisted
                 host (a page on a shared host) is judged by its own reports
                 (``allowlisted_host`` says the host stays unblocked)
``blocked``      it is on the enforcement feeds, itself or through a listed parent domain
                 (suffix matching) or a listed block (CIDR matching); a NAT64 address is matched
                 as itself and as the IPv4 address it reaches, here and in the reports
``reported``     its reputation (or a parent's, or the URL's own) from agencies' sightings; a
                 URL is also found as reports write it with the other of http and https, with or
                 without a '/' ending its path, or without its query ("reported as …")
``signal``       a lexical signal in the name (look-alike of a protected brand, punycode,
                 shortener, risky TLD, gambling or scam words); in a link, a host name shown
                 before an '@' that the link does not go to (``userinfo_host``, enough for a
                 warning), or an address for a host (``ip_host``, as text screening's
                 ``ip_link``)
``model``        the domain model's probability and category (not for a popular site,
                 ranks 1,001 to 10,000 of the Tranco list (``domain_signals.is_popular``),
                 unless it reads the name as a gambling site's)
``note``         how the line was read: the chat account a link opens, a link too long to read
                 whole judged by its host

The score combines reputation, signals and model by noisy-or (the model's probability counts
half below its own threshold, where it calls the name benign). The verdict:

- ``block``: the value is on the feeds, or its reputation reaches the block threshold, or the
  model flags the name *and* it imitates a protected brand (the name alone, no reports);
- ``warn``: the model flags the name, or its signals together reach ``STRONG_SIGNALS``, or its
  reputation reaches ``REPORTED_WARN``;
- ``allow`` otherwise. On the shared lists' test split this warns on 0.93% and blocks 0.01% of
  the benign top sites (1.02% of those past the shipped lists; 0.97% with a label in front of
  each: BENCHMARKS.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, TypeVar
from urllib.parse import unquote

from scamwall.enforcement.blocklist import Blocklist
from scamwall.errors import InvalidIndicator
from scamwall.indicators import Indicator, IndicatorKind, parse_indicator
from scamwall.indicators.accounts import handle_from_link
from scamwall.indicators.network import (
    MAX_URL_LENGTH,
    canonical_domain,
    is_ip_host,
    nat64_ipv4,
    registered_domain,
    url_host,
    url_page_forms,
)
from scamwall.indicators.text import normalize_for_matching
from scamwall.reputation.scoring import noisy_or
from scamwall.reputation.snapshot import Reputation, ReputationSnapshot
from scamwall.screening.domain_model import DomainModel
from scamwall.screening.domain_signals import DomainSignal, domain_signals, is_popular
from scamwall.screening.signals import SIGNAL_WEIGHT

__all__ = ["WebScreener", "WebVerdict"]

#: Signals that together reach this strength make a name worth a warning on their own (a
#: look-alike, or gambling words with a risky TLD).
STRONG_SIGNALS = 0.6
#: Reputation from which a reported value is worth a warning.
REPORTED_WARN = 0.5
#: Characters of one input line the screener reads; longer lines are refused.
MAX_INPUT = 4096
_SCREENED = (IndicatorKind.URL, IndicatorKind.DOMAIN, IndicatorKind.IP)
_SURROGATE = re.compile("[\ud800-\udfff]")
#: What each kind not screened here is called in an error, with its article.
_KIND_NAMES = {
    IndicatorKind.PHONE: "a phone number",
    IndicatorKind.SMS_SENDER: "an SMS sender ID",
    IndicatorKind.EMAIL: "an e-mail address",
    IndicatorKind.CIDR: "an address block (CIDR)",
    IndicatorKind.BANK_ACCOUNT: "a bank account",
    IndicatorKind.CRYPTO_WALLET: "a crypto-currency wallet",
    IndicatorKind.HANDLE: "a chat handle",
    IndicatorKind.FILE_HASH: "a file hash",
}
#: The kinds whose reports are a link's own: the page's, or the chat account's it opens.
_OWN_KINDS = (IndicatorKind.URL, IndicatorKind.HANDLE, IndicatorKind.PHONE)
#: A link's scheme (if it is one read here) and authority: up to a '/', '?', '#' or '\\'.
_HEAD = re.compile(r"^(?:(https?|ftp):)?[/\\]*([^/?#\\]*)", re.IGNORECASE)
_Found = TypeVar("_Found")


@dataclass(frozen=True, slots=True)
class WebVerdict:
    """The verdict on one input line (or the error that kept it from being screened)."""

    input: str
    verdict: str = "allow"
    score: float = 0.0
    category: str | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """``{"input", "verdict", "score", "category", "reasons"}`` or ``{"input", "error"}``."""
        if self.error is not None:
            return {"input": self.input, "error": self.error}
        return {
            "input": self.input,
            "verdict": self.verdict,
            "score": round(self.score, 4),
            "category": self.category,
            "reasons": self.reasons,
        }


def _reported_reason(found: Reputation, via: str | None) -> dict[str, Any]:
    reason: dict[str, Any] = {
        "type": "reported",
        "kind": found.kind.value,
        "indicator": found.canonical,
        "score": round(found.score, 4),
        "agencies": found.agencies,
        "evidence": [e.as_dict() for e in found.evidence[:5]],
    }
    if via is not None:
        reason["covers"] = via
        if found.kind is IndicatorKind.URL:  # the page, written another way
            reason["text"] = f"reported as {found.canonical}"
    return reason


class WebScreener:
    """Screens URLs, domain names and IP addresses (see the module docstring)."""

    def __init__(
        self,
        model: DomainModel | None = None,
        *,
        warn_threshold: float | None = None,
        block_threshold: float = 0.9,
    ) -> None:
        self.model = model if model is not None else DomainModel.load()
        self.warn_threshold = warn_threshold if warn_threshold is not None else REPORTED_WARN
        self.block_threshold = block_threshold

    def screen(
        self,
        inputs: Sequence[str],
        snapshot: ReputationSnapshot,
        blocklist: Blocklist | None = None,
    ) -> list[WebVerdict]:
        """A verdict per input, in input order; a line that is no URL, domain or IP address
        gets an ``error`` and the others are screened."""
        blocklist = blocklist if blocklist is not None else Blocklist(0)
        parsed: list[_Line | WebVerdict] = []
        for raw in inputs:
            parsed.append(_parse(raw))
        hosts = [p.host for p in parsed if isinstance(p, _Line) and p.kind is not IndicatorKind.IP]
        predictions = iter(self.model.predict(hosts)) if hosts else iter(())
        verdicts: list[WebVerdict] = []
        for item in parsed:
            if isinstance(item, WebVerdict):
                verdicts.append(item)
                continue
            prediction = next(predictions) if item.kind is not IndicatorKind.IP else None
            verdict = self._judge(
                item.raw,
                kind=item.kind,
                canonical=item.canonical,
                host=item.host,
                handle=item.handle,
                prediction=prediction,
                snapshot=snapshot,
                blocklist=blocklist,
            )
            if item.notes:
                verdict = replace(verdict, reasons=[*verdict.reasons, *item.notes])
            verdicts.append(verdict)
        return verdicts

    def _judge(
        self,
        raw: str,
        *,
        kind: IndicatorKind,
        canonical: str,
        host: str,
        handle: str | None,
        prediction: Any,
        snapshot: ReputationSnapshot,
        blocklist: Blocklist,
    ) -> WebVerdict:
        is_address = kind is IndicatorKind.IP or is_ip_host(host)
        host_kind = IndicatorKind.IP if is_address else IndicatorKind.DOMAIN
        reasons: list[dict[str, Any]] = []
        matched_as = _matched_as(host, is_address)
        allowed = _first(snapshot.allowlist.match, host_kind, matched_as)
        reported = _reputations(snapshot, kind, canonical, host, is_address)
        if handle is not None:  # a chat link's account: the link's own reports
            account = snapshot.lookup_value(IndicatorKind.HANDLE, handle)
            if account is not None and account.sightings:
                reported.insert(0, (account, canonical))
            platform, _, number = handle.partition(":")
            if platform == "whatsapp":  # a WhatsApp account is its phone number's
                phone = snapshot.lookup_value(IndicatorKind.PHONE, number)
                if phone is not None and phone.sightings:
                    reported.insert(0, (phone, canonical))
        pages = [(r, via) for r, via in reported if r.kind in _OWN_KINDS]
        page, page_via = max(pages, key=lambda item: item[0].score, default=(None, None))
        if allowed is not None and page is not None and page.score > 0:
            # a page reported on an allowlisted host (a shared host): judged by its own
            # reports, while the host itself stays unblocked
            reasons.append(_reported_reason(page, page_via))
            reasons.append({"type": "allowlisted_host", **allowed.as_public_dict()})
            reasons.extend(_allowlisted_host_signals(host, is_address, snapshot))
            verdict = (
                "block"
                if page.score >= self.block_threshold
                else "warn"
                if page.score >= self.warn_threshold
                else "allow"
            )
            category: str | None = None if verdict == "allow" else "fraud"
            return WebVerdict(raw, verdict, page.score, category, reasons)
        if allowed is not None:
            reasons.append({"type": "allowlisted", **allowed.as_public_dict()})
            # the host's own reports: a page's or an account's are no conflict with its entry
            strongest = max(
                (r.sightings for r, _ in reported if r.kind not in _OWN_KINDS), default=0
            )
            entry = _first(blocklist.match, host_kind, matched_as)
            if strongest or entry is not None:
                reasons.append(
                    {
                        "type": "conflict",
                        "text": f"{host} is reported or listed but allowlisted; it is never "
                        "exported, and an analyst should settle which is right",
                    }
                )
            reasons.extend(_allowlisted_host_signals(host, is_address, snapshot))
            return WebVerdict(raw, "allow", 0.0, None, reasons)

        entry = _first(blocklist.match, host_kind, matched_as)
        if entry is not None:
            reasons.append(
                {
                    "type": "blocked",
                    "entry": entry.value,
                    "kind": entry.kind.value,
                    "serial": blocklist.serial,
                    "expires_at": entry.expires_at.isoformat(timespec="seconds"),
                }
            )
        reputation = 0.0
        for found, via in reported:
            reputation = max(reputation, found.score)
            reasons.append(_reported_reason(found, via))
        lexical = 1.0  # doubt left by what the name itself shows
        flagged = False
        signals = [] if is_address else list(domain_signals(host, snapshot.allowlist))
        if kind is IndicatorKind.URL:
            signals.extend(_link_signals(canonical, host, is_address, snapshot))
        for signal in signals:
            lexical *= 1.0 - signal.weight
            reasons.append(signal.as_reason())
        model_category: str | None = None
        # the model reads a name by its registrable part: a popular site's subdomains too
        # (their own labels still give signals: domain_signals). Its taking a popular name for
        # a scam or phishing site is no evidence; for a gambling site it is (popular gambling
        # sites are gambling sites, which the region's law forbids all the same)
        site = None if is_address else (registered_domain(host) or host)
        if (
            site is not None
            and is_popular(site)
            and (prediction is None or prediction.category != "gambling")
        ):
            reasons.append(
                {
                    "type": "note",
                    "text": f"{site} is among the 10,000 most visited sites: judged by reports "
                    "and signals, not by the model's reading of its name",
                }
            )
        elif not is_address and prediction is not None:
            flagged = prediction.score >= self.model.threshold
            # below its own threshold the model calls the name benign: weak evidence only
            lexical *= 1.0 - (prediction.score if flagged else prediction.score / 2)
            model_category = prediction.category if flagged else None
            reasons.append(
                {
                    "type": "model",
                    "model": self.model.version,
                    "score": round(prediction.score, 4),
                    "category": prediction.category,
                    "flagged": flagged,
                }
            )
        signal_strength = noisy_or(signal.weight for signal in signals)
        score = 1.0 - (1.0 - reputation) * lexical
        if entry is not None:
            score = max(score, entry.score)
        # a look-alike name, or a link showing another host's name: it poses as another site
        lookalike = any(s.name in ("lookalike", "userinfo_host") for s in signals)
        # the name alone blocks only when the model and a look-alike agree; reports block
        # from the block threshold, listed values always
        if entry is not None or reputation >= self.block_threshold or (flagged and lookalike):
            verdict = "block"
        elif flagged or signal_strength >= STRONG_SIGNALS or reputation >= self.warn_threshold:
            verdict = "warn"
        else:
            verdict = "allow"
        category = None
        if verdict != "allow":
            if entry is not None or reputation >= self.warn_threshold:
                category = "fraud"
            elif lookalike:
                category = "phishing"
            elif model_category is not None:
                category = model_category
            elif any(s.name == "gambling_words" for s in signals):
                category = "gambling"
            else:
                category = "fraud"
        reasons.sort(key=_reason_rank)
        return WebVerdict(raw, verdict, score, category, reasons)


_RANK = {
    "allowlisted": 0,
    "conflict": 1,
    "blocked": 2,
    "reported": 3,
    "allowlisted_host": 4,
    "signal": 5,
    "model": 6,
    "note": 7,
}


def _reason_rank(reason: dict[str, Any]) -> int:
    return _RANK.get(str(reason.get("type")), 9)


def _echoed(raw: str) -> str:
    """The input as an answer can carry it: a lone surrogate (JSON's "\\ud800") has no UTF-8
    form, and one would fail the answer of the whole batch; it is shown as U+FFFD."""
    return raw if raw.isascii() else _SURROGATE.sub("\ufffd", raw)


class _Line(NamedTuple):
    """One input line, read for screening."""

    raw: str
    kind: IndicatorKind
    canonical: str
    host: str
    #: the chat account a t.me, wa.me or line.me link names: its reports are the link's own
    handle: str | None = None
    #: what the reasons should say about how the line was read
    notes: tuple[dict[str, Any], ...] = ()


def _parse(raw: str) -> _Line | WebVerdict:
    text = raw.strip()
    if not text:
        return WebVerdict(raw, error="empty line: give a URL, a domain name or an IP address")
    if len(text) > MAX_INPUT:
        return WebVerdict(_echoed(raw[:200]), error=f"longer than {MAX_INPUT} characters")
    try:
        indicator, handle, notes = _read(text)
    except InvalidIndicator as exc:
        return WebVerdict(_echoed(raw), error=f"not a URL, domain name or IP address: {exc.reason}")
    if indicator.kind not in _SCREENED:
        return WebVerdict(
            raw,
            error=f"this is {_KIND_NAMES[indicator.kind]}, not a URL, domain name or IP address",
        )
    canonical = indicator.canonical
    host = url_host(canonical) if indicator.kind is IndicatorKind.URL else canonical
    return _Line(raw, indicator.kind, canonical, host, handle, notes)


def _read(text: str) -> tuple[Indicator, str | None, tuple[dict[str, Any], ...]]:
    """The indicator a line is screened as, the chat account it links to, and notes on how it
    was read. Where the kind guessed is none screened here, the line is read as a browser opens
    it: a chat link (``t.me/name``) as a link to its host, whose own reports are the account's
    (text screening finds the account in such a link); a name that may be a URL's host but not
    a domain indicator (``x_y.example``, ``scam%2Dbank.com``) as a URL; a line of no kind at all
    as a URL, whose parser says why it is none (no kind can be given here); and a link too long
    to be kept whole by its host alone."""
    if len(text) > MAX_URL_LENGTH:  # whatever its kind would be: padding must not hide it
        return _by_host(text)
    try:
        indicator = parse_indicator(text)
    except InvalidIndicator as exc:
        if exc.kind not in (None, "domain"):
            raise
        try:
            return parse_indicator(text, IndicatorKind.URL), None, ()
        except InvalidIndicator as as_url:
            if exc.kind == "domain" or as_url.kind is None:  # a NUL, a surrogate: as said
                raise exc from None
            raise
    if indicator.kind is IndicatorKind.HANDLE and _is_chat_link(text):
        link = parse_indicator(text, IndicatorKind.URL)
        note = {"type": "note", "text": f"a link to the chat account {indicator.canonical}"}
        return link, indicator.canonical, (note,)
    return indicator, None, ()


def _is_chat_link(text: str) -> bool:
    """Whether a line guessed as a handle is a link to one (``t.me/name``), not ``line:name``."""
    return handle_from_link(normalize_for_matching(text).text.strip()) is not None


def _by_host(text: str) -> tuple[Indicator, str | None, tuple[dict[str, Any], ...]]:
    """A link longer than a URL indicator may be, read by its scheme and host: padding a link
    must not take it past the blocklist."""
    head = _HEAD.match(normalize_for_matching(text).text.strip())
    scheme, authority = head.groups(default="") if head is not None else ("", "")
    host = authority.rpartition("@")[2]  # the userinfo is no part of where it leads
    link = parse_indicator(f"{scheme or 'http'}://{host}/", IndicatorKind.URL)
    note = {
        "type": "note",
        "text": f"the link is longer than {MAX_URL_LENGTH} characters: judged by its host "
        f"{url_host(link.canonical)} alone",
    }
    # a chat link's account is in its path (t.me/name), or in its query's first fields
    # (api.whatsapp.com/send?phone=), before the padding that follows
    account = None
    for part in (text.strip().partition("#")[0].partition("?")[0], text.strip()[:MAX_URL_LENGTH]):
        if _is_chat_link(part):
            try:
                account = parse_indicator(part, IndicatorKind.HANDLE).canonical
            except InvalidIndicator:
                continue
            break
    return link, account, (note,)


def _allowlisted_host_signals(
    host: str, is_address: bool, snapshot: ReputationSnapshot
) -> list[dict[str, Any]]:
    """The signals an allowlisted name still gives, as reasons that leave its verdict alone: a
    shortener's, which says nothing against the shortener, only that the link hides where it
    leads (``domain_signals`` gives no other for an allowlisted name)."""
    if is_address:
        return []
    return [signal.as_reason() for signal in domain_signals(host, snapshot.allowlist)]


def _link_signals(
    canonical: str, host: str, is_address: bool, snapshot: ReputationSnapshot
) -> list[DomainSignal]:
    """What a link shows beyond its host's name: a trusted site's name written before an '@',
    which the link does not go to (``http://www.kasikornbank.com@evil.example/``; an
    allowlisted name, or one holding a protected brand: ``mark.me@`` is a user's name), and an
    address for a host, which text screening counts in a message's link (``ip_link``) as well.
    A bare address given alone is judged by the feeds and the reports only."""
    found: list[DomainSignal] = []
    authority = canonical.partition("://")[2].partition("/")[0]
    if "@" in authority:
        shown = unquote(authority.rpartition("@")[0])
        shown = shown.partition("://")[2] or shown  # "https%3A%2F%2Fbank.example@"
        shown = re.split(r"[:/\\?#]", shown, maxsplit=1)[0]  # "bank.example%2F@": the name
        if _poses_as_trusted(shown, snapshot):
            found.append(
                DomainSignal(
                    "userinfo_host",
                    STRONG_SIGNALS,
                    f"the link shows {shown} before an @ but goes to {host}",
                )
            )
    if is_address:
        found.append(
            DomainSignal("ip_host", SIGNAL_WEIGHT["ip_link"], f"a link to the bare address {host}")
        )
    return found


def _poses_as_trusted(text: str, snapshot: ReputationSnapshot) -> bool:
    """Whether a link's user name reads as a trusted site's name: allowlisted, or holding a
    protected brand (which the look-alike signal names)."""
    try:
        name = canonical_domain(text)
    except InvalidIndicator:
        return False
    if snapshot.allowlist.match_domain(name) is not None:
        return True
    return any(s.name == "lookalike" for s in domain_signals(name, snapshot.allowlist))


def _matched_as(host: str, is_address: bool) -> tuple[str, ...]:
    """The values a host is matched as: itself, and for a NAT64 address the IPv4 address it
    reaches (an IPv4-mapped address is that IPv4 address already in its canonical form)."""
    ipv4 = nat64_ipv4(host) if is_address else None
    return (host,) if ipv4 is None else (host, ipv4)


def _first(
    match: Callable[[IndicatorKind, str], _Found | None], kind: IndicatorKind, values: Iterable[str]
) -> _Found | None:
    """The first match of any of the values, in their order."""
    for value in values:
        found = match(kind, value)
        if found is not None:
            return found
    return None


def _reputations(
    snapshot: ReputationSnapshot,
    kind: IndicatorKind,
    canonical: str,
    host: str,
    is_address: bool,
) -> list[tuple[Reputation, str | None]]:
    """Reports on the URL itself, on its host or a parent of it, or on a block holding the
    address; each with the value it covers when that is not the reported value itself."""
    found: list[tuple[Reputation, str | None]] = []
    if kind is IndicatorKind.URL:
        own = snapshot.lookup_value(IndicatorKind.URL, canonical)
        if own is not None and own.sightings:
            found.append((own, None))
        for form in url_page_forms(canonical):
            other = snapshot.lookup_value(IndicatorKind.URL, form)
            if other is not None and other.sightings:
                found.append((other, canonical))
    if is_address:
        for address in _matched_as(host, is_address):
            own = snapshot.lookup_value(IndicatorKind.IP, address)
            if own is not None and own.sightings:
                itself = kind is IndicatorKind.IP and address == host
                found.append((own, None if itself else host))
            block = snapshot.covering_block(address)
            if block is not None and block.sightings:
                found.append((block, host))
        return found
    name = host
    while True:
        own = snapshot.lookup_value(IndicatorKind.DOMAIN, name)
        if own is not None and own.sightings:
            found.append((own, None if name == canonical else host))
        dot = name.find(".")
        if dot < 0 or "." not in name[dot + 1 :]:
            break
        name = name[dot + 1 :]
    return found
