"""Finding keywords: both engines give the same answer, in the same order."""

from __future__ import annotations

import copy
import json
import pickle
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scamwall.screening import keywords as keywords_module
from scamwall.screening.keywords import ENGINES, KeywordFinder, default_engine
from scamwall.screening.prepare import prepare_message
from scamwall.screening.rules import Rule, RuleSet, load_rules

HAS_HYPERSCAN = keywords_module.hyperscan is not None
#: The engines this platform has.
INSTALLED = [engine for engine in ENGINES if HAS_HYPERSCAN or engine != "hyperscan"]
needs_hyperscan = pytest.mark.skipif(
    not HAS_HYPERSCAN, reason="hyperscan is not installed on this platform"
)
#: Keywords starting with 300 more characters make the automaton read bytes.
MANY_FIRSTS = [chr(0x3400 + n) * 2 for n in range(300)]


def _one_rule_each(keywords: list[str], engine: str) -> RuleSet:
    return RuleSet(
        [Rule(f"any.k{n}", "any", "urgency", 0.1, 1, "", (k,)) for n, k in enumerate(keywords)],
        engine=engine,
    )


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("转账到银行账户", ("银行",)),
        ("银 行", ()),
        ("โอนเงินเข้าธนาคารด่วน", ("ธนาคาร",)),
        ("ธนา คาร", ()),
        ("café 😀 ok", ("café", "😀")),
        ("cafe\u0301", ()),  # the same letters, the accent as its own character
        ("😁 caf", ()),  # shares leading bytes with the emoji and the é, not the characters
        ("银行 ธนาคาร café 😀", ("银行", "ธนาคาร", "café", "😀")),
    ],
)
@pytest.mark.parametrize("as_bytes", [False, True])
@pytest.mark.parametrize("engine", INSTALLED)
def test_keywords_match_whole_characters_in_every_script(
    text: str, found: tuple[str, ...], as_bytes: bool, engine: str
) -> None:
    rules = _one_rule_each(
        ["银行", "ธนาคาร", "café", "😀"] + (MANY_FIRSTS if as_bytes else []), engine
    )
    assert rules.engine == engine
    assert tuple(keyword for hit in rules.match(text) for keyword in hit.keywords) == found


@pytest.mark.parametrize("engine", INSTALLED)
def test_a_lone_surrogate_does_not_stop_keyword_matching(engine: str) -> None:
    rules = _one_rule_each(MANY_FIRSTS, engine)
    assert [h.keywords for h in rules.match("ab\ud800\u3400\u3400")] == [("\u3400\u3400",)]


@pytest.mark.parametrize("engine", INSTALLED)
def test_keywords_come_once_in_the_order_they_first_end(engine: str) -> None:
    finder = KeywordFinder(["abc", "bc", "c", "xy", "zzz"], engine=engine)
    # "abc", "bc" and "c" end together: the longer first; "xy" ends before; "c" again later
    assert finder.find("xy abc c xy") == [3, 0, 1, 2]
    assert finder.find("nothing here") == []


def test_the_fastest_installed_engine_is_the_default() -> None:
    assert default_engine() == INSTALLED[0]
    assert load_rules().engine == INSTALLED[0]


def test_bad_engines_and_keywords_are_refused() -> None:
    with pytest.raises(ValueError, match="engine"):
        KeywordFinder(["a"], engine="re")
    if not HAS_HYPERSCAN:
        with pytest.raises(ValueError, match="hyperscan package"):
            KeywordFinder(["a"], engine="hyperscan")
    for engine in INSTALLED:
        with pytest.raises(ValueError, match="empty"):
            KeywordFinder(["a", ""], engine=engine)
        with pytest.raises(ValueError, match="NUL"):
            KeywordFinder(["bank\x00card"], engine=engine)
        with pytest.raises(ValueError, match="distinct"):
            KeywordFinder(["ab", "ab"], engine=engine)
    assert KeywordFinder([]).find("anything") == []


def _finders(keywords: list[str]) -> list[KeywordFinder]:
    return [KeywordFinder(keywords, engine=engine) for engine in ENGINES]


@needs_hyperscan
def test_the_engines_agree_on_the_shipped_keywords_and_the_projects_messages(
    shared_data: Path,
) -> None:
    rules = load_rules()
    keywords = [keyword for rule in rules.rules for keyword in rule.keywords]
    finders = _finders(list(dict.fromkeys(keywords)))
    texts = [
        json.loads(line)["text"]
        for file in sorted((shared_data / "messages").glob("*.jsonl"))
        for line in file.read_text(encoding="utf-8").splitlines()
    ]
    hits = 0
    for text in texts:
        matching = prepare_message(text).matching
        fast, automaton = (finder.find(matching) for finder in finders)
        assert fast == automaton, text
        hits += bool(fast)
    assert hits > len(texts) // 10


@needs_hyperscan
@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet="abé银行ธ😀 ", min_size=1, max_size=4), min_size=1, max_size=12),
    st.text(alphabet="abé银行ธ😀 \ud800x", max_size=60),
)
def test_the_engines_agree_on_any_text(keywords: list[str], text: str) -> None:
    unique = list(dict.fromkeys(keywords))
    fast, automaton = (finder.find(text) for finder in _finders(unique))
    assert fast == automaton


@needs_hyperscan
def test_one_finder_serves_many_threads() -> None:
    finder = KeywordFinder(["银行", "bank", "ธนาคาร"], engine="hyperscan")
    texts = [f"{n} 银行 bank ธนาคาร" if n % 2 else f"{n} nothing" for n in range(2_000)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(finder.find, texts))
    assert answers == [[0, 1, 2] if n % 2 else [] for n in range(2_000)]


@pytest.mark.parametrize("engine", INSTALLED)
def test_rules_cross_processes_as_they_are_pickled(engine: str) -> None:
    rules = RuleSet(load_rules().rules, engine=engine)
    again = pickle.loads(pickle.dumps(rules))
    copied = copy.deepcopy(rules)
    text = prepare_message(
        "您的账户涉嫌洗钱，请立即转账到安全账户 urgent verify your account"
    ).matching
    assert again.engine == copied.engine == engine
    assert again.match(text) == copied.match(text) == rules.match(text) != []
