"""Message preparation, keyword rules and n-gram features."""

from __future__ import annotations

import itertools
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from scamwall.errors import InvalidInput
from scamwall.indicators.text import fold_characters
from scamwall.screening.features import (
    SCRIPTS,
    coverage,
    distinct_ngram_shares,
    hash_ngrams,
    model_text,
    script_counts,
    scripts,
    word_coverage,
)
from scamwall.screening.messages import InputForm, read_messages
from scamwall.screening.model import default_model, load_model
from scamwall.screening.prepare import (
    MAX_MESSAGE_BYTES,
    fold_many,
    prepare_message,
    prepare_messages,
    zawgyi_converter,
)
from scamwall.screening.rules import load_rules

BURMESE = "သင့်ဘဏ်အကောင့်ကို ပိတ်ထားပါသည်။ ကျေးဇူးပြု၍ လင့်ခ်ကိုနှိပ်ပါ"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("", "empty"),
        ("  \n\t ", "empty"),
        ("\u200b\u2060 \ufeff", "empty"),
        (b"\xff\xfe\x00\x01", "binary"),
        (b"\x00\x01\x02", "binary"),
        (b"\xff\xfe\xfd", "encoding"),
        ("\ufffd" * 20, "encoding"),
        ("\ud800\ud800", "encoding"),
    ],
)
def test_what_holds_no_text_is_refused_with_a_reason(raw: str | bytes, error: str) -> None:
    prepared = prepare_message(raw)
    assert prepared.error == error
    assert prepared.detail


SCAM = "您好，我是公安局的，您的账户涉嫌洗钱，请立即转账到安全账户"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (SCAM.encode() + b" \xff", "encoding"),
        (b"\xfe" * 200 + SCAM.encode(), "encoding"),
        (SCAM + "\ud800", "encoding"),
        (SCAM + "\ufffd" * 200, "encoding"),
        (SCAM + "\x00" * len(SCAM), "binary"),
        ("\x01\x02\x03\x04" * 10 + SCAM, "binary"),
        (SCAM + " " * 70_000, "too_large"),
        (" " * 70_000 + SCAM, "too_large"),
        ("x" * 70_000 + SCAM, "too_large"),
        (SCAM.encode() + b"y" * (MAX_MESSAGE_BYTES + 1), "too_large"),
    ],
)
def test_a_damaged_message_is_screened_for_what_it_says_and_the_damage_named(
    raw: str | bytes, error: str
) -> None:
    # whoever writes a scam chooses its bytes: a stray byte, padding or control characters
    # must not have it refused, and waved through unread
    prepared = prepare_message(raw)
    assert prepared.error is None
    assert [found for found, _ in prepared.mended] == [error]
    assert SCAM in prepared.text
    assert len(prepared.text.encode()) <= MAX_MESSAGE_BYTES


def test_invisible_characters_do_not_split_what_rules_read() -> None:
    for invisible in ("\u200b", "\u2060", "\u00ad", "\u200c", "\ufeff", "\u180e"):
        prepared = prepare_message(invisible.join(SCAM))
        assert prepared.error is None
        assert prepared.matching == prepare_message(SCAM).matching
        inside = sum(a.isalnum() and b.isalnum() for a, b in itertools.pairwise(SCAM))
        assert prepared.notes == (f"{inside} invisible characters inside words left out",)
    # a batch finds them in its folding pass: the same as each message alone
    batch: list[str | bytes] = ["\u200b".join(SCAM), "中文 \u2060", "\u200b\u200b", "plain"] * 4
    assert prepare_messages(batch) == [prepare_message(raw) for raw in batch]
    assert [p.error for p in prepare_messages(batch)][:4] == [None, None, "empty", None]
    # an emoji's joiners and variation selectors are left out without a note
    family = prepare_message("family \U0001f468\u200d\U0001f469\u200d\U0001f467 \u2764\ufe0f")
    assert family.notes == ()
    assert family.matching == "family \U0001f468\U0001f469\U0001f467 \u2764"


@pytest.mark.parametrize(
    "raw",
    [
        "Pay the fee at http://parcel-fee.example now" + "\x07" * 6,
        "Pay\x00the fee at http://parcel-fee.example now",
        b"Pay the fee at\x0bhttp://parcel-fee.example now\x00\x00",
    ],
)
def test_a_few_control_characters_are_spaces_not_a_reason_to_refuse(raw: str | bytes) -> None:
    prepared = prepare_message(raw)
    assert prepared.error is None
    # spaces, not nothing: deleted, one would join the link to the word before it
    assert " ".join(prepared.text.split()) == "Pay the fee at http://parcel-fee.example now"
    assert prepared.notes[0].endswith("control characters read as spaces")
    assert prepare_message("  \x07 ").error == "empty"
    half = prepare_message("\x07\x07\x07 ab")
    assert half.error is None
    assert half.mended == (("binary", "3 control characters in 6: read as spaces"),)


def test_matching_form_folds_case_width_and_native_digits() -> None:
    prepared = prepare_message("ＵＲＧＥＮＴ pay ๑๒๓ Baht")
    assert prepared.error is None
    assert prepared.matching == "urgent pay 123 baht"
    assert model_text("win 1,250 baht  now") == "win 0,000 baht now"


@pytest.mark.parametrize(
    "text",
    [
        "ＵＲＧＥＮＴ ｡ ① ² ﬁnd 𝟗𝐀 ‑ – — Straße ǅ ＜\u0338 Ｅ\u0301 ๑\u0301 ㎏ ℡ ｶﾀｶﾅ",
        "您的账户（尾号１２３４）已冻结，请立即处理。",
        "คุณได้รับ ๕๐๐ บาท\u00a0โปรดยืนยัน\u3000ด่วน",
        "K\u212a ſ İ ı ΣΑΣ ﬀ ⅷ ⑳ ⒜ 🄰",
        # NFKC makes characters the folding maps: a dash, a minus, a stop
        "usdt trc\ufe5820 erc\u207b20 x\u208by \ufe31\ufe32 t\ufe12me/abc",
    ],
)
def test_matching_form_is_nfkc_case_folded_then_folded(text: str) -> None:
    # folding comes first and NFKC only where the quick check asks for it: the same form
    expected = fold_characters(unicodedata.normalize("NFKC", text).casefold())
    assert prepare_message(text).matching == expected


def test_zawgyi_is_converted_before_matching() -> None:
    convert = zawgyi_converter()
    if convert is None:
        pytest.skip("PyICU (the myanmar extra) is not installed")
    import icu

    zawgyi = icu.Transliterator.createInstance("my-Zawgyi").transliterate(BURMESE)
    assert zawgyi != BURMESE
    prepared = prepare_message(zawgyi)
    assert prepared.zawgyi
    assert prepared.text == BURMESE
    unicode_text = prepare_message(BURMESE)
    assert not unicode_text.zawgyi
    assert unicode_text.text == BURMESE
    # zero-width spaces between its syllables neither hide the encoding nor spoil the conversion
    hidden = "\u200b".join(zawgyi)
    for prepared in (prepare_message(hidden), *prepare_messages([hidden] * 8)):
        assert prepared.zawgyi
        assert prepared.text == BURMESE


def test_shipped_rules_cover_the_region_and_fire_on_scams() -> None:
    rules = load_rules()
    languages = {rule.language for rule in rules.rules}
    assert {"en", "zh", "th", "my", "lo", "km", "vi", "any"} <= languages
    hits = rules.match(prepare_message("您的账户涉嫌洗钱，请立即转账到安全账户").matching)
    assert "zh.police_impersonation" in [h.rule.id for h in hits]
    assert rules.match(prepare_message("see you at dinner tonight").matching) == []


def test_min_hits_needs_distinct_keywords(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(
        "language: en\nrules:\n  - id: en.loan_credit\n    category: loan_credit\n"
        "    weight: 0.3\n    min_hits: 2\n    description: loans\n"
        "    keywords: [Loan, APPROVED]\n",
        encoding="utf-8",
    )
    rules = load_rules(tmp_path)
    assert rules.match("loan loan loan") == []
    [hit] = rules.match("your loan is approved")
    assert hit.keywords == ("loan", "approved")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("rules: [", "not valid YAML"),
        ("language: en\n", "rules"),
        (
            "rules:\n  - id: a\n    category: nonsense\n    weight: 0.2\n    keywords: [x]\n",
            "unknown category",
        ),
        ("rules:\n  - id: a\n    category: urgency\n    weight: 2\n    keywords: [x]\n", "weight"),
        (
            "rules:\n  - id: a\n    category: urgency\n    weight: 0.2\n    keywords: []\n",
            "keywords",
        ),
        (
            'rules:\n  - id: a\n    category: urgency\n    weight: 0.2\n    keywords: ["a\\0b"]\n',
            "NUL",
        ),
    ],
)
def test_bad_rule_files_name_the_file_and_the_problem(
    tmp_path: Path, body: str, message: str
) -> None:
    (tmp_path / "bad.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"bad\.yaml") as caught:
        load_rules(tmp_path)
    assert message in str(caught.value)


def test_hashing_a_text_does_not_depend_on_its_batch() -> None:
    texts = ["hello there", "สวัสดีครับ", "", "您好", "a"]
    together = hash_ngrams(texts, bits=12)
    for i, text in enumerate(texts):
        alone = hash_ngrams([text], bits=12)
        assert abs(together[i] - alone).sum() == 0
    assert together[2].nnz == 0
    assert together[4].nnz == 1  # one unigram; no n-gram crosses into the next text


def _reference_columns(text: str, bits: int, low: int, high: int) -> list[int]:
    """The columns of ``text``'s n-grams, one n-gram at a time in plain Python."""

    def mix(h: int) -> int:
        h ^= h >> 16
        h = h * 0x85EBCA6B & 0xFFFFFFFF
        h ^= h >> 13
        h = h * 0xC2B2AE35 & 0xFFFFFFFF
        return h ^ (h >> 16)

    columns = []
    for n in range(low, high + 1):
        for start in range(len(text) - n + 1):
            h = 0
            for ch in text[start : start + n]:
                h = (h * 0x01000193 + ord(ch)) & 0xFFFFFFFF
            columns.append(mix(h ^ (n * 0x9E3779B1 & 0xFFFFFFFF)) & ((1 << bits) - 1))
    return columns


@pytest.mark.parametrize("ngrams", [(1, 4), (2, 3), (3, 3), (5, 6)])
def test_hashing_counts_every_n_gram_of_each_text_once(ngrams: tuple[int, int]) -> None:
    texts = ["hello there", "", "สวัสดี 您好 ok", "a", "abcdef" * 3, "x y"]
    matrix = hash_ngrams(texts, bits=10, ngrams=ngrams)
    for i, text in enumerate(texts):
        row = matrix[i]
        expected = sorted(_reference_columns(text, 10, *ngrams))
        assert sorted(row.indices.tolist()) == expected
        if expected:
            assert np.allclose(row.data, 1 / np.sqrt(len(expected)))


def test_hashing_refuses_what_it_cannot_count() -> None:
    with pytest.raises(ValueError, match="NUL"):
        hash_ngrams(["a\x00b"])
    with pytest.raises(ValueError, match="bits"):
        hash_ngrams(["abc"], bits=32)


def test_a_run_of_one_symbol_counts_as_three_and_runs_of_letters_and_digits_stay() -> None:
    def same(a: list[str], b: list[str]) -> bool:
        return abs(hash_ngrams(a) - hash_ngrams(b)).sum() == 0

    assert same(["happy birthday!!!!!!!!!!!!!!", "ok"], ["happy birthday!!!", "ok"])
    assert same(["..........", "wait……………"], ["...", "wait………"])
    assert same(["\U0001f602" * 9 + " lol"], ["\U0001f602" * 3 + " lol"])
    assert not same(["call 0000000000"], ["call 000"])  # a number's length is a feature
    assert not same(["xxxxxxxx"], ["xxx"])
    assert not same(["!!!"], ["!!"])


def test_distinct_ngram_shares_tell_repetition_from_prose() -> None:
    shares = distinct_ngram_shares(
        [
            "lol " * 26,
            "please verify your account at the link below before midnight or it will close",
            "您好，我是公安局的，您的账户涉嫌洗钱" + "。" * 3000,  # a run counts as three
            "ok",  # no 4-gram at all
            "ฮ่าๆ" * 38,
        ]
    )
    assert shares[0] < 0.1
    assert shares[1] > 0.9
    assert shares[2] == 1.0
    assert shares[3] == 1.0
    assert shares[4] < 0.1
    assert distinct_ngram_shares([]).shape == (0,)
    # different 4-grams of mixed scripts are told apart ("zzaก" and "zzii")
    assert distinct_ngram_shares(["zzaก", "zzaกzzii"]).tolist() == [1.0, 1.0]


def test_coverage_tells_an_unseen_script() -> None:
    seen = np.zeros(0x110000, dtype=bool)
    for ch in "abcdefghijklmnopqrstuvwxyz":
        seen[ord(ch)] = True
    shares = coverage(["hello world", BURMESE, "12345 !!!", "hello ကျပ်"], seen)
    assert shares[0] == 1.0
    assert shares[1] == 0.0
    assert shares[2] == 0.0  # no letters: nothing the model learnt to read
    assert 0.3 < shares[3] < 0.8


def test_scripts_name_the_script_most_letters_are_in() -> None:
    texts = ["hello world", "สวัสดีครับ OTP 1234", "您好，请联系", BURMESE, "", "12345 !!!"]
    texts += ["Xin chào bạn", "OTP 您好您好"]
    named = [SCRIPTS[i] for i in scripts(texts)]
    assert named == ["latin", "thai", "han", "other", "other", "other", "latin", "han"]


def test_word_coverage_skips_only_texts_too_short_in_latin_letters() -> None:
    vocabulary = frozenset({"hello", "there", "bank"})
    texts = ["hello there my bank", "สวัสดีครับ ok ok", "您好 ab cd", "xin chào bạn ơi", "ab cd ef"]
    latin = script_counts(texts)[:, SCRIPTS.index("latin")]
    fast = word_coverage(texts, vocabulary, latin_letters=latin)
    assert np.array_equal(fast, word_coverage(texts, vocabulary))
    assert fast[0] == 0.75
    assert fast[4] == 0.0


def test_script_offsets_survive_saving_and_move_only_their_script(tmp_path: Path) -> None:
    model = default_model()
    shifted = type(model)(**{**model.__dict__, "offsets": (0.0, 0.0, -2.0, 0.0)})
    shifted.save(tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz")
    assert again.offsets == (0.0, 0.0, -2.0, 0.0)
    texts = [model_text("ยินดีด้วย คุณได้รับรางวัล กดรับสิทธิ์ที่ลิงก์"), "you won a prize claim now"]
    plain = type(model)(**{**model.__dict__, "offsets": ()}).predict(texts).bad
    moved = again.predict(texts).bad
    assert moved[0] < plain[0]
    assert moved[1] == pytest.approx(plain[1])


def test_reading_messages_keeps_going_past_bad_lines() -> None:
    lines = [
        b"plain text\n",
        b'{"id": "m2", "text": "json", "sender": "KBank"}\n',
        b'{"id": "m3"}\n',
        b"{broken\n",
        b"\xff\xfe\n",
        b'{"id": 7, "text": "number id"}\n',
        b'["not", "an", "object"]\n',
        b'{"id": "m8", "text": "caf\xe9"}\n',
    ]
    messages = list(read_messages(lines))
    assert [m.id for m in messages] == ["1", "m2", "m3", "4", "5", "7", "7", "m8"]
    assert messages[1].sender == "KBank"
    assert messages[2].problem is not None
    assert "text" in messages[2].problem
    # whoever writes a message chooses its first character: a brace must not skip screening
    assert messages[3].problem is None
    assert messages[3].text == "{broken"
    assert messages[3].note is not None
    assert "line 4" in messages[3].note
    assert messages[4].text == b"\xff\xfe"
    assert messages[4].problem is None
    assert messages[6].problem is None
    assert messages[6].text == b'["not", "an", "object"]'
    # not UTF-8: the screener refuses the bytes as such, under the record's own id
    assert messages[7].text == b'{"id": "m8", "text": "caf\xe9"}'
    assert messages[7].problem is None


def test_a_gateway_says_how_its_lines_are_read() -> None:
    body = b'{"text": "hello", "x": "pay at https://pay-parcel-fee.example/x"}'
    [guessed] = read_messages([body])
    [as_text] = read_messages([body], InputForm.TEXT)
    [as_record] = read_messages([b"plain text"], InputForm.JSONL)
    assert guessed.text == "hello"  # auto: a record, its other fields unread
    assert as_text.text == body  # text: an SMS whose body is JSON is screened as written
    assert as_record.problem is not None
    assert "line 1" in as_record.problem


def test_a_byte_order_mark_at_the_start_is_left_out() -> None:
    [first, second] = read_messages([b'\xef\xbb\xbf{"id": "a", "text": "hi"}\n', b"\xef\xbb\xbfx"])
    assert (first.id, first.text) == ("a", "hi")
    assert second.text == b"\xef\xbb\xbfx"  # only the input's first line can start with one


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("the manufacturer has refunded $25.00 to your card", False),
        ("jumlah pembayaran anda rm88.00 telah diterima", False),
        ("the jilin office is closed", False),
        ("play ufa168 tonight, bonus 100%", True),
        ("vào new88vn.com nhận thưởng", True),
        ("สมัคร w88thai วันนี้", True),
        ("สมัคร ufa รับโบนัส", True),
        ("deposit at m88 now", True),
    ],
)
def test_short_brand_keywords_count_only_as_words(text: str, fires: bool) -> None:
    hits = {hit.rule.id for hit in load_rules().match(text)}
    assert ("any.gambling" in hits) is fires


def test_an_amount_may_run_into_a_coin_name() -> None:
    for text in ("nạp 100usdt nhận thưởng", "send 0.5btc now"):
        assert "any.investment.crypto" in {hit.rule.id for hit in load_rules().match(text)}


def test_a_warning_about_a_request_is_not_the_request() -> None:
    rules = load_rules()
    warning = (
        "vietcombank: mã otp của quý khách là 482913. "
        "tuyệt đối không cung cấp mã otp cho bất kỳ ai."
    )
    request = "vui lòng cung cấp mã otp vừa gửi để nhân viên xác thực hoàn tiền."
    assert "vi.account_security.otp_request" not in {h.rule.id for h in rules.match(warning)}
    assert "vi.account_security.otp_request" in {h.rule.id for h in rules.match(request)}
    # scams copy the banks' wording: "share it with no one else" does not clear the request
    copied = "vui lòng đọc mã otp cho tổng đài viên, không chia sẻ cho bất kỳ ai khác"
    assert "vi.account_security.otp_request" in {h.rule.id for h in rules.match(copied)}


def test_unless_must_be_a_list_of_phrases(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(
        "language: en\nrules:\n  - {id: x.a, category: loan_credit, weight: 0.3, "
        "keywords: [loan], unless: no loan}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput, match="unless must be a list"):
        load_rules(tmp_path)


def test_n_gram_sizes_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="n-gram sizes"):
        hash_ngrams(["abc"], ngrams=(3, 2))


def test_a_batch_is_folded_as_each_text_alone() -> None:
    texts = [
        "",
        "ascii only",
        "ＷｈａｔｓＡｐｐ：０８１２３４５６７８",
        "โทร ๐๘๑-๒๓๔-๕๖๗๘ ด่วน",
        "您好。请访问ｗｗｗ．example．com",
        "𝐁𝐚𝐧𝐤 𝟏𝟐𝟑 😀 𠀀 \U0010fffd",  # mathematical letters, emoji, the ideograph planes
        "ⓐⓑⓒ ① — ‐",
    ]
    assert fold_many(texts * 3) == [fold_characters(text) for text in texts * 3]  # in NumPy
    assert fold_many(texts[:3]) == [fold_characters(text) for text in texts[:3]]  # one by one
    assert fold_many([]) == []
    with pytest.raises(ValueError, match="NUL"):
        fold_many(["a\x00b"] * 8)


def test_a_batch_keeps_its_order_and_its_refusals() -> None:
    raws: list[str | bytes] = ["hello", b"\xff\xfe", "สวัสดี ๑๒๓", "", "您好，１２３", "\x00\x00y"]
    batch = prepare_messages(raws)
    assert [p.error for p in batch] == [None, "encoding", None, "empty", None, None]
    assert batch[5].mended[0][0] == "binary"
    assert batch == [prepare_message(raw) for raw in raws]
    assert batch[2].folded == "สวัสดี 123"
    assert batch[4].matching == "您好,123"
