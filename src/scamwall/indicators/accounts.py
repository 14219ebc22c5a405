"""Chat handles, SMS sender IDs and file hashes.

A handle's canonical form is ``platform:id``. Platforms and their id rules:

========= ===================================================== ==========================
platform  id                                                    written as
========= ===================================================== ==========================
telegram  5-32 letters, digits, ``_``; starts with a letter;    ``t.me/name``, ``@name``
          case-insensitive. Invite links keep their case.       ``t.me/+AbC`` -> ``+AbC``
line      1-20 letters, digits, ``.``, ``-``, ``_``;            ``line.me/ti/p/~id``,
          case-insensitive; a leading ``@`` is dropped.         ``@id``
wechat    6-20 letters, digits, ``_``, ``-``; starts with a     ``微信: abc123``
          letter; case-insensitive.
whatsapp  the account's phone number, E.164.                    ``wa.me/66812345678``
qq        5-11 digits, no leading zero.                         ``QQ 12345678``
========= ===================================================== ==========================

A link names its account whatever follows it: a post (``t.me/name/123``), Telegram's preview
(``t.me/s/name``), a query (``?start=…``; ``api.whatsapp.com/send?phone=…&text=…``).
"""

from __future__ import annotations

import re

from scamwall.errors import InvalidIndicator
from scamwall.indicators.phone import canonical_phone

__all__ = [
    "PLATFORM_ALIASES",
    "canonical_file_hash",
    "canonical_handle",
    "canonical_sms_sender",
    "handle_from_link",
]

HANDLE = "handle"

PLATFORM_ALIASES = {
    "telegram": "telegram",
    "tg": "telegram",
    "line": "line",
    "wechat": "wechat",
    "weixin": "wechat",
    "wx": "wechat",
    "whatsapp": "whatsapp",
    "wa": "whatsapp",
    "qq": "qq",
}

_RULES = {
    "telegram": (re.compile(r"^[a-z][a-z0-9_]{3,30}[a-z0-9]$"), "5-32 letters, digits or _"),
    "line": (re.compile(r"^[a-z0-9._-]{1,20}$"), "1-20 letters, digits, '.', '-' or '_'"),
    "wechat": (re.compile(r"^[a-z][a-z0-9_-]{5,19}$"), "6-20 letters, digits, '_' or '-'"),
    "qq": (re.compile(r"^[1-9]\d{4,10}$"), "5-11 digits without a leading zero"),
}
_TELEGRAM_INVITE = re.compile(r"^\+[A-Za-z0-9_-]{10,40}$")

# Telegram's own pages under t.me, never a username: "t.me/share?url=…" is a link, not an
# account (and a query no longer tells them apart).
_TELEGRAM_ROUTES = (
    "addemoji|addlist|addstickers|addtheme|bg|boost|c|confirmphone|contact|giftcode|invoice|iv"
    "|login|proxy|setlanguage|share|socks"
)
# A link names the account whatever follows it: a post id (t.me/name/123), the web preview
# (t.me/s/name), a query (?start=…, &text=…) or a fragment. The pattern reads the link up to its
# query; the query is split on '&' apart from it, as repeats over it in a pattern would try every
# way to cut a long query (a 10 KB link took half a second). wa.me names the number's account,
# and api.whatsapp.com/send the number of its query's phone parameter.
_LINKS = re.compile(
    rf"""(?:https?://)?(?:www\.)?
    (?:
        (?:t|telegram)\.me/
        (?:
            joinchat/(?P<tg_join>[A-Za-z0-9_-]+)
          | (?P<tg_invite>\+[A-Za-z0-9_-]+)
          | (?:s/)?(?!(?:{_TELEGRAM_ROUTES})(?![A-Za-z0-9_]))(?P<tg>[A-Za-z0-9_]+)(?:/\d+)?
        )
      | wa\.me/(?:\+|%2B)?(?P<wa>\d{{6,15}})
      | (?P<wa_send>(?:api\.)?whatsapp\.com/send)
      | line\.me/(?:R/)?ti/p/(?:~|@|%40)(?P<line>[A-Za-z0-9._-]{{1,20}})
    )/?""",
    re.VERBOSE | re.IGNORECASE,
)
_SEND_PHONE = re.compile(r"(?:\+|%2B)?(\d{6,15})", re.IGNORECASE)
_SPACE = re.compile(r"\s")

_SENDER = re.compile(r"^[a-z0-9][a-z0-9 .&_-]{0,10}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def handle_from_link(text: str) -> str | None:
    """``platform:value`` for a t.me / wa.me / line.me link, else None (not yet canonical)."""
    link, _, fragment = text.strip().partition("#")
    path, _, query = link.partition("?")
    match = _LINKS.fullmatch(path)
    if match is None or _SPACE.search(query) or _SPACE.search(fragment):
        return None
    if match["tg_join"]:
        return f"telegram:+{match['tg_join']}"
    if match["tg_invite"] or match["tg"]:
        return f"telegram:{match['tg_invite'] or match['tg']}"
    if match["wa"]:
        return f"whatsapp:+{match['wa']}"
    if match["wa_send"]:
        number = _send_phone(query)
        return None if number is None else f"whatsapp:+{number}"
    return f"line:{match['line']}"


def _send_phone(query: str) -> str | None:
    """The digits of the last phone parameter holding a number (``text=hi&phone=%2B668…``)."""
    digits = None
    for parameter in query.split("&"):
        name, _, value = parameter.partition("=")
        number = _SEND_PHONE.fullmatch(value) if name.lower() == "phone" else None
        if number is not None:
            digits = number[1]
    return digits


def canonical_handle(value: str, region: str | None = None) -> str:
    """``platform:id`` (``telegram:scam_support``); see the module docstring for the rules."""
    text = value.strip()
    linked = handle_from_link(text)
    if linked is not None:
        text = linked
    platform_part, sep, ident = text.partition(":")
    platform = PLATFORM_ALIASES.get(platform_part.strip().lower())
    if not sep or platform is None:
        raise InvalidIndicator(
            HANDLE,
            "write it as platform:id (telegram, line, wechat, whatsapp or qq), e.g. telegram:@name",
        )
    ident = ident.strip()
    if platform == "whatsapp":
        return f"whatsapp:{canonical_phone(ident, region)}"
    if platform == "telegram" and _TELEGRAM_INVITE.match(ident):
        return f"telegram:{ident}"
    ident = ident.removeprefix("@").lower()
    pattern, rule = _RULES[platform]
    if not pattern.match(ident):
        raise InvalidIndicator(HANDLE, f"a {platform} id is {rule}, got {ident!r}")
    return f"{platform}:{ident}"


def canonical_sms_sender(value: str) -> str:
    """Case-folded alphanumeric sender ID (at most 11 characters) or numeric short code."""
    text = " ".join(value.split()).casefold()
    if text.isdigit():
        if not 3 <= len(text) <= 15:
            raise InvalidIndicator("sms_sender", "a numeric sender has 3-15 digits")
        return text
    if not _SENDER.match(text) or not any(ch.isalpha() for ch in text):
        raise InvalidIndicator(
            "sms_sender",
            "an alphanumeric sender ID is 1-11 letters, digits, spaces or .&_- with at least one "
            "letter; a numeric one is 3-15 digits",
        )
    return text


def canonical_file_hash(value: str) -> str:
    """Lower-case hex SHA-256 of a file (an APK, a document)."""
    text = value.strip().lower().removeprefix("sha256:").removeprefix("sha-256:")
    if _HEX64.match(text):
        return text
    if re.fullmatch(r"[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{128}", text):
        raise InvalidIndicator("file_hash", "only SHA-256 is accepted; give the file's sha256")
    raise InvalidIndicator("file_hash", "a SHA-256 is 64 hexadecimal digits")
