"""The walled-garden warning page: translations, language choice, escaping and the appeal form."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from html.parser import HTMLParser
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st
from myanmartools import ZawgyiDetector

from scamwall.enforcement.warning import (
    SUPPORTED_LANGUAGES,
    negotiate_language,
    render_appeal_error_page,
    render_appeal_received_page,
    render_warning_page,
)

APPEAL_URL = "https://garden.example.org/appeals?from=rpz&x=1"
HOSTILE_NAME = '<script>alert("x")</script>.evil.example&"\'>'
VOID_ELEMENTS = {"meta", "input", "br", "hr", "img", "link"}

# Each script's own block(s), for the languages whose texts must be written in it.
SCRIPT_RANGES: dict[str, list[tuple[int, int]]] = {
    "th": [(0x0E00, 0x0E7F)],
    "lo": [(0x0E80, 0x0EFF)],
    "my": [(0x1000, 0x109F), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F)],
    "km": [(0x1780, 0x17FF), (0x19E0, 0x19FF)],
    "zh": [(0x3000, 0x303F), (0x4E00, 0x9FFF), (0xFF00, 0xFFEF)],
}


def _shipped_texts() -> dict[str, dict[str, str]]:
    source = resources.files("scamwall.enforcement").joinpath("pages").joinpath("warning.json")
    texts: dict[str, dict[str, str]] = json.loads(source.read_text(encoding="utf-8"))
    return texts


class _PageParser(HTMLParser):
    """Collects what a test looks at and fails on tags that are not closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open_tags: list[str] = []
        self.problems: list[str] = []
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.doctype: str | None = None

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag not in VOID_ELEMENTS:
            self.open_tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open_tags or self.open_tags[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open_tags[-1:]}")
        else:
            self.open_tags.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **wanted: str) -> list[dict[str, str | None]]:
        return [
            attrs
            for name, attrs in self.elements
            if name == tag and all(attrs.get(k) == v for k, v in wanted.items())
        ]


def _parse(page: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(page)
    parser.close()
    assert parser.problems == []
    assert parser.open_tags == []
    assert parser.doctype is not None
    assert parser.doctype.lower() == "doctype html"
    return parser


def _all_pages(language: str) -> dict[str, str]:
    return {
        "warning": render_warning_page(
            blocked_name="pay-fast.example", language=language, appeal_url=APPEAL_URL
        ),
        "warning without a name": render_warning_page(
            blocked_name=None, language=language, appeal_url=APPEAL_URL, reference="rpz-42"
        ),
        "received": render_appeal_received_page(appeal_id="A-1017", language=language),
        "error": render_appeal_error_page(message="evidence is empty", language=language),
    }


# --- translations -------------------------------------------------------------------------------


def test_every_supported_language_is_shipped_and_nothing_else() -> None:
    assert set(_shipped_texts()) == set(SUPPORTED_LANGUAGES)
    assert {"en", "zh", "th", "my", "lo", "vi"} <= set(SUPPORTED_LANGUAGES)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_language_has_every_key_and_no_empty_text(language: str) -> None:
    texts = _shipped_texts()
    assert set(texts[language]) == set(texts["en"])
    for key, text in texts[language].items():
        assert text.strip(), f"{language}.{key} is empty"
        assert unicodedata.normalize("NFC", text) == text, f"{language}.{key} is not NFC"
        placeholders = re.findall(r"\{\w+\}", text)
        assert placeholders == re.findall(r"\{\w+\}", texts["en"][key]), f"{language}.{key}"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_hotline_numbers_are_only_the_real_ones(language: str) -> None:
    numbers = set(re.findall(r"\d{3,}", " ".join(_shipped_texts()[language].values())))
    assert numbers <= {"96110", "1441"}


@pytest.mark.parametrize("language", sorted(SCRIPT_RANGES))
def test_texts_are_written_in_their_own_script(language: str) -> None:
    ranges = SCRIPT_RANGES[language]
    for key, text in _shipped_texts()[language].items():
        native = [c for c in text if any(low <= ord(c) <= high for low, high in ranges)]
        assert native, f"{language}.{key} has no {language} script"
        foreign = [
            c
            for c in text
            if not c.isascii()
            and unicodedata.category(c)[0] in "LM"
            and not any(low <= ord(c) <= high for low, high in ranges)
        ]
        assert foreign == [], f"{language}.{key} mixes in {foreign}"


# The detector loads its model with a deprecated importlib call.
@pytest.mark.filterwarnings("ignore:open_binary is deprecated:DeprecationWarning")
def test_burmese_is_unicode_not_zawgyi() -> None:
    detector = ZawgyiDetector()
    texts = _shipped_texts()["my"]
    for key, text in texts.items():
        assert detector.get_zawgyi_probability(text) < 0.05, key
    assert detector.get_zawgyi_probability(" ".join(texts.values())) < 0.05


# --- language negotiation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("th-TH,th;q=0.9,en-US;q=0.8,en;q=0.7", "th"),
        ("en;q=0.5, zh-CN", "zh"),
        ("zh-Hans", "zh"),
        ("ZH-cn", "zh"),
        ("zh-TW;q=0, zh-CN;q=0.4, en;q=0.3", "zh"),
        ("fr-FR, de;q=0.9, th-TH;q=0.8", "th"),
        ("my;q=0.9, lo;q=0.95", "lo"),
        ("vi-VN;q=0.5, km-KH;q=0.500", "vi"),
        ("fr, de", "en"),
        ("th;q=0", "en"),
        ("*", "en"),
        ("en;q=0, *;q=0.5", "zh"),
        ("fr, *;q=0.1, my;q=0.2", "my"),
        ("th-" + "-".join(["a"] * 5_000), "th"),
    ],
)
def test_accept_language_picks_the_best_supported_language(
    header: str | None, expected: str
) -> None:
    assert negotiate_language(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        ";;;,,q=,",
        "th;q=abc",
        "lo;q=2",
        "km;q=0.1234",
        "ไทย, ລາວ",
        "\u212am",  # KELVIN SIGN lower-cases to ASCII "k"
        "x" * 10_000,
    ],
)
def test_garbage_headers_fall_back_to_english(header: str) -> None:
    assert negotiate_language(header) == "en"


def test_a_malformed_element_does_not_spoil_the_rest() -> None:
    assert negotiate_language("lo;q=2, th;q=0.3, ;q=1") == "th"


def test_lang_parameter_wins_when_supported() -> None:
    assert negotiate_language("th-TH", requested="vi") == "vi"
    assert negotiate_language("th-TH", requested="KM") == "km"
    assert negotiate_language(None, requested="zh-CN") == "zh"
    assert negotiate_language("th-TH", requested="xx") == "th"
    assert negotiate_language("th-TH", requested="../en") == "th"
    assert negotiate_language(None, requested="") == "en"


@given(header=st.text(max_size=200), requested=st.none() | st.text(max_size=20))
def test_any_input_gives_a_supported_language(header: str, requested: str | None) -> None:
    assert negotiate_language(header, requested) in SUPPORTED_LANGUAGES


# --- pages --------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_page_is_well_formed_html_in_its_language(language: str) -> None:
    texts = _shipped_texts()[language]
    for name, page in _all_pages(language).items():
        parsed = _parse(page)
        (html,) = parsed.find("html")
        assert (html["lang"] or "").split("-")[0] == language, name
        assert parsed.find("meta", charset="utf-8"), name
        assert any("width=device-width" in (m.get("content") or "") for m in parsed.find("meta"))
        for embedded in ("script", "link", "img", "iframe"):
            assert not parsed.find(embedded), f"{name} has <{embedded}>"
        assert "http" not in "".join(
            str(v) for _, attrs in parsed.elements for k, v in attrs.items() if k != "action"
        ), f"{name} loads something from elsewhere"
        heading = {"received": "received_title", "error": "error_title"}.get(name, "heading")
        assert texts[heading] in "".join(parsed.text), name


def test_the_blocked_name_is_escaped_everywhere() -> None:
    page = render_warning_page(
        blocked_name=HOSTILE_NAME, language="en", appeal_url=APPEAL_URL, reference=HOSTILE_NAME
    )
    assert "<script" not in page
    assert HOSTILE_NAME not in page
    parsed = _parse(page)
    assert not parsed.find("script")
    (value,) = parsed.find("input", name="value")
    assert value["value"] == HOSTILE_NAME
    assert HOSTILE_NAME in parsed.text


def test_the_form_posts_the_appeal_fields_to_the_given_url() -> None:
    parsed = _parse(
        render_warning_page(blocked_name="pay-fast.example", language="th", appeal_url=APPEAL_URL)
    )
    (form,) = parsed.find("form")
    assert form["action"] == APPEAL_URL
    assert (form["method"] or "").lower() == "post"
    assert form["enctype"] == "application/x-www-form-urlencoded"
    assert parsed.find("input", type="hidden", name="value", value="pay-fast.example")
    assert parsed.find("input", type="hidden", name="lang", value="th")
    (evidence,) = parsed.find("textarea", name="evidence")
    assert "required" in evidence
    (contact,) = parsed.find("input", name="contact")
    assert "required" not in contact
    texts = _shipped_texts()["th"]
    assert texts["contact_note"] in parsed.text


def test_without_a_name_the_visitor_types_the_address() -> None:
    parsed = _parse(render_warning_page(blocked_name=None, language="lo", appeal_url=APPEAL_URL))
    (value,) = parsed.find("input", name="value")
    assert value["type"] == "text"
    assert "required" in value
    assert _shipped_texts()["lo"]["unknown_site"] in parsed.text


def test_links_lead_to_every_other_language_named_in_itself() -> None:
    texts = _shipped_texts()
    parsed = _parse(render_warning_page(blocked_name="a.example", language="my", appeal_url="/a"))
    links = {attrs["href"] for attrs in parsed.find("a")}
    # each carries the entry: a page reached as /blocked?name=… must not lose it
    expected = {f"?lang={code}&name=a.example" for code in SUPPORTED_LANGUAGES if code != "my"}
    assert links == expected
    unnamed = _parse(render_warning_page(blocked_name=None, language="my", appeal_url="/a"))
    assert {attrs["href"] for attrs in unnamed.find("a")} == {
        f"?lang={code}" for code in SUPPORTED_LANGUAGES if code != "my"
    }
    for code in SUPPORTED_LANGUAGES:
        if code != "my":
            assert texts[code]["language_name"] in parsed.text
    assert {"English", "中文", "ไทย", "ລາວ", "Tiếng Việt"} <= set(parsed.text)


def test_unsupported_language_falls_back_to_english() -> None:
    page = render_warning_page(blocked_name="a.example", language="fr", appeal_url="/a")
    assert '<html lang="en">' in page
    assert _shipped_texts()["en"]["heading"] in page


@pytest.mark.parametrize(
    ("render", "hostile"),
    [
        (lambda s: render_appeal_received_page(appeal_id=s, language="zh"), "<b>1</b>"),
        (lambda s: render_appeal_error_page(message=s, language="vi"), "<img src=x onerror=1>"),
    ],
)
def test_confirmation_and_error_pages_escape_what_they_show(
    render: Callable[[str], str], hostile: str
) -> None:
    page = render(hostile)
    assert hostile not in page
    parsed = _parse(page)
    assert hostile in "".join(parsed.text)
    assert not parsed.find("img")


def test_received_page_names_the_appeal() -> None:
    parsed = _parse(render_appeal_received_page(appeal_id="A-1017", language="km"))
    assert "A-1017" in parsed.text
    assert _shipped_texts()["km"]["received_next"] in parsed.text
