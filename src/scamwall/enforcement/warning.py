"""The warning page a blocked visitor sees, in their own language, with a form to appeal.

A resolver that loads our RPZ feed answers a blocked name with a CNAME to the walled-garden host;
the visitor's browser then asks that host for a page, with the blocked name in its ``Host``
header. That name is chosen by whoever runs the blocked site, so everything taken from a request
is HTML-escaped before it reaches the page.

The texts live in ``pages/warning.json`` (``{language: {key: text}}``, the same keys in every
language), so translators can work on them without reading Python. The pages are small,
self-contained HTML5: inline CSS, no scripts, no external resources, readable on a phone.
"""

from __future__ import annotations

import json
import re
from functools import cache
from html import escape
from importlib import resources
from urllib.parse import quote

__all__ = [
    "SUPPORTED_LANGUAGES",
    "negotiate_language",
    "render_appeal_error_page",
    "render_appeal_received_page",
    "render_warning_page",
]

#: Languages the pages are written in (ISO 639-1), in the order their links are shown.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "zh", "th", "my", "lo", "vi", "km")

_DEFAULT_LANGUAGE = "en"

# The Chinese texts are simplified; saying so lets the browser pick simplified glyphs.
_HTML_LANG = {"zh": "zh-Hans"}

# RFC 9110 section 12.5.4: a language range, then an optional weight from 0 to 1 with at most
# three decimals. Anything else in the header is skipped, never an error.
_LANGUAGE_RANGE = re.compile(r"\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")

# Browsers send a handful of ranges; a longer header is read only this far.
_MAX_RANGES = 32

_STYLE = (
    "body{margin:0;background:#f3f3f3;color:#1b1b1b;"
    "font:1.05rem/1.6 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',sans-serif}"
    ":lang(my),:lang(km),:lang(lo),:lang(th){line-height:1.9}"
    "main{box-sizing:border-box;max-width:40rem;margin:0 auto;padding:1rem 1.25rem;"
    "background:#fff;min-height:100vh}"
    "h1{color:#a50e0e;font-size:1.5rem;line-height:1.3;margin-top:.5rem}"
    "h2{font-size:1.2rem;margin-top:2rem}"
    ".label{margin-bottom:0;color:#555}"
    ".site{margin-top:.25rem;padding:.5rem .75rem;background:#fdecea;border-left:4px solid #a50e0e;"
    "font-family:ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}"
    ".advice{font-weight:700}"
    ".message{padding:.5rem .75rem;background:#f3f3f3;overflow-wrap:anywhere}"
    ".note{color:#555;font-size:.95rem;margin:.25rem 0}"
    "label{display:block;font-weight:700;margin-top:1rem}"
    "textarea,input[type=text]{box-sizing:border-box;width:100%;padding:.5rem;font:inherit;"
    "border:1px solid #888;border-radius:4px}"
    "button{margin-top:1.25rem;padding:.6rem 1.4rem;font:inherit;color:#fff;background:#1a56b0;"
    "border:0;border-radius:4px}"
    "nav{margin-top:2.5rem;border-top:1px solid #ddd;padding-top:.5rem}"
    "nav a{display:inline-block;margin:0 1rem .5rem 0}"
)


@cache
def _texts_by_language() -> dict[str, dict[str, str]]:
    """The shipped translations, read once."""
    source = resources.files("scamwall.enforcement").joinpath("pages").joinpath("warning.json")
    texts: dict[str, dict[str, str]] = json.loads(source.read_text(encoding="utf-8"))
    return texts


def _supported(tag: str) -> str | None:
    """The supported language a tag's primary subtag names (``zh-Hans-CN`` → ``zh``), if any."""
    if not tag.isascii():
        return None
    primary = tag.split("-", 1)[0].strip().lower()
    return primary if primary in SUPPORTED_LANGUAGES else None


def _parse_range(item: str) -> tuple[str, float] | None:
    """One ``range;q=weight`` element of Accept-Language, or None when it is malformed."""
    tag, *parameters = (part.strip() for part in item.split(";"))
    if not tag.isascii() or not _LANGUAGE_RANGE.fullmatch(tag):
        return None
    weight = 1.0
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            if not _QVALUE.fullmatch(value.strip()):
                return None
            weight = float(value)
    return tag.lower(), weight


def negotiate_language(accept_language: str | None, requested: str | None = None) -> str:
    """The language to answer in: ``requested`` (``?lang=``) if supported, else the best match
    for the Accept-Language header by its q-values, else English.

    A region or script subtag matches its language (``th-TH``, ``zh-Hans`` and ``zh-TW`` all
    give ``zh`` or ``th``); ``*`` stands for any language not named; ``q=0`` refuses one.
    Malformed elements are skipped, so any header gives an answer.
    """
    if requested and (chosen := _supported(requested)):
        return chosen
    if not accept_language:
        return _DEFAULT_LANGUAGE
    weights: dict[str, float] = {}
    first_seen: dict[str, int] = {}
    wildcard: float | None = None
    for position, item in enumerate(accept_language.split(",")[:_MAX_RANGES]):
        parsed = _parse_range(item)
        if parsed is None:
            continue
        tag, weight = parsed
        if tag == "*":
            wildcard = weight if wildcard is None else max(wildcard, weight)
        elif language := _supported(tag):
            weights[language] = max(weight, weights.get(language, 0.0))
            first_seen.setdefault(language, position)
    # Best weight first; among equals, the language named earliest, then those only `*` covers.
    candidates = [(weight, -first_seen[language], language) for language, weight in weights.items()]
    if wildcard is not None:
        candidates += [
            (wildcard, -_MAX_RANGES - rank, language)
            for rank, language in enumerate(SUPPORTED_LANGUAGES)
            if language not in weights
        ]
    best = max((c for c in candidates if c[0] > 0), default=None)
    return best[2] if best else _DEFAULT_LANGUAGE


def _html_lang(language: str) -> str:
    return _HTML_LANG.get(language, language)


def _page(language: str, title: str, body: str) -> str:
    """A whole HTML5 document around ``body`` (already escaped markup)."""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(_html_lang(language))}">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{escape(title)}</title>\n"
        f"<style>{_STYLE}</style>\n"
        "</head>\n"
        "<body>\n"
        f"<main>\n{body}</main>\n"
        "</body>\n"
        "</html>\n"
    )


def _language_links(current: str, blocked_name: str | None) -> str:
    """Links to the same page in every other language, each named in its own language; they
    carry the blocked entry, which a page reached by its query (``/blocked?name=…``) would
    otherwise lose."""
    texts = _texts_by_language()
    entry = f"&amp;name={quote(blocked_name, safe='')}" if blocked_name else ""
    links = "".join(
        f'<a href="?lang={code}{entry}" hreflang="{_html_lang(code)}" lang="{_html_lang(code)}">'
        f"{escape(texts[code]['language_name'])}</a>\n"
        for code in SUPPORTED_LANGUAGES
        if code != current
    )
    label = escape(texts[current]["other_languages"])
    return f'<nav aria-label="{label}">\n<p class="label">{label}</p>\n{links}</nav>\n'


def render_warning_page(
    *, blocked_name: str | None, language: str, appeal_url: str, reference: str | None = None
) -> str:
    """The page shown instead of a blocked site: what happened, what not to do, and how to appeal.

    ``blocked_name`` comes from the request's Host header and is escaped wherever it appears.
    When it is missing, the appeal form asks the visitor to type the address instead. The form
    POSTs ``value``, ``evidence``, ``contact`` and ``lang`` to ``appeal_url``.
    An unsupported ``language`` falls back to English.
    """
    language = negotiate_language(None, language)
    t = {key: escape(text) for key, text in _texts_by_language()[language].items()}
    if blocked_name:
        name = escape(blocked_name)
        shown_name = name
        site_field = f'<input type="hidden" name="value" value="{name}">\n'
    else:
        shown_name = t["unknown_site"]
        site_field = (
            f'<label for="value">{t["site_address_label"]}</label>\n'
            '<input type="text" id="value" name="value" required>\n'
        )
    reference_line = (
        f'<p class="note">{t["reference_label"]} '
        f'<code translate="no">{escape(reference)}</code></p>\n'
        if reference
        else ""
    )
    body = (
        f"<h1>{t['heading']}</h1>\n"
        f'<p class="label">{t["site_label"]}</p>\n'
        f'<p class="site" translate="no">{shown_name}</p>\n'
        f"{reference_line}"
        f"<p>{t['reason']}</p>\n"
        f'<p class="advice">{t["advice"]}</p>\n'
        f"<p>{t['victim']}</p>\n"
        f"<p>{t['hotline']}</p>\n"
        f"<h2>{t['appeal_heading']}</h2>\n"
        f"<p>{t['appeal_intro']}</p>\n"
        f'<form method="post" action="{escape(appeal_url)}" '
        'enctype="application/x-www-form-urlencoded" accept-charset="utf-8">\n'
        f"{site_field}"
        f'<input type="hidden" name="lang" value="{language}">\n'
        f'<label for="evidence">{t["evidence_label"]}</label>\n'
        f'<p class="note" id="evidence-hint">{t["evidence_hint"]}</p>\n'
        '<textarea id="evidence" name="evidence" rows="6" required '
        'aria-describedby="evidence-hint"></textarea>\n'
        f'<label for="contact">{t["contact_label"]}</label>\n'
        '<input type="text" id="contact" name="contact" aria-describedby="contact-note">\n'
        f'<p class="note" id="contact-note">{t["contact_note"]}</p>\n'
        f'<button type="submit">{t["submit"]}</button>\n'
        "</form>\n"
        f"{_language_links(language, blocked_name)}"
    )
    return _page(language, t["title"], body)


def render_appeal_received_page(*, appeal_id: str, language: str) -> str:
    """The confirmation after an appeal was stored: its number and what happens next."""
    language = negotiate_language(None, language)
    t = {key: escape(text) for key, text in _texts_by_language()[language].items()}
    received = t["received_text"].replace(
        "{appeal_id}", f'<strong translate="no">{escape(appeal_id)}</strong>'
    )
    body = (
        f"<h1>{t['received_title']}</h1>\n"
        f"<p>{received}</p>\n"
        f"<p>{t['received_next']}</p>\n"
        f'<p class="note">{t["received_keep"]}</p>\n'
    )
    return _page(language, t["received_title"], body)


def render_appeal_error_page(*, message: str, language: str) -> str:
    """The page for a rejected appeal: a translated heading and the server's English reason."""
    language = negotiate_language(None, language)
    t = {key: escape(text) for key, text in _texts_by_language()[language].items()}
    body = (
        f"<h1>{t['error_title']}</h1>\n"
        f'<p class="message" lang="en">{escape(message)}</p>\n'
        f"<p>{t['error_retry']}</p>\n"
    )
    return _page(language, t["error_title"], body)
