"""Extraction from real-looking scam messages in the languages of the region.

Every case lists *all* indicators expected, in order, as ``(kind, canonical, original text)``:
``original text`` is ``text[start:end]`` of the reported span, so a span that points into the
normalised text instead of the caller's (after refanging, zero-width characters, native digits)
fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scamwall.errors import InvalidIndicator
from scamwall.indicators import extract, extract_indicators, parse_indicator
from scamwall.indicators.extract import ParseMemo, _extract
from scamwall.indicators.text import _folds, fold_characters, normalize_for_matching

Found = tuple[str, str, str]


def found(text: str, region: str | None = None) -> list[Found]:
    result = []
    for item in extract_indicators(text, region):
        assert 0 <= item.start < item.end <= len(text)
        assert item.as_dict()["span"] == [item.start, item.end]
        result.append(
            (item.indicator.kind.value, item.indicator.canonical, text[item.start : item.end])
        )
    return result


TRON = "TPcDNYz4AxCaLCY2Xx4i95jGYwCjUrxg5r"
ETH = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


# --------------------------------------------------------------------------------------------
# Chinese
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        (
            "您的账户异常，请点击https://scam-bank.cn/verify处理，客服电话13800138000",
            "CN",
            [
                ("url", "https://scam-bank.cn/verify", "https://scam-bank.cn/verify"),
                ("phone", "+8613800138000", "13800138000"),
            ],
        ),
        (
            "请加微信：kefu_8888 或QQ 12345678 领取补贴",
            None,
            [
                ("handle", "wechat:kefu_8888", "kefu_8888"),
                ("handle", "qq:12345678", "12345678"),
            ],
        ),
        ("加QQ12345678领取", None, [("handle", "qq:12345678", "12345678")]),
        ("QQ号12345678", None, [("handle", "qq:12345678", "12345678")]),
        ("加扣扣：87654321", None, [("handle", "qq:87654321", "87654321")]),
        ("企鹅号：12345678", None, [("handle", "qq:12345678", "12345678")]),
        ("客服QQ：１２３４５６７８", None, [("handle", "qq:12345678", "１２３４５６７８")]),
        ("加微信kefu_8888领取", None, [("handle", "wechat:kefu_8888", "kefu_8888")]),
        ("加v：kefu8888", None, [("handle", "wechat:kefu8888", "kefu8888")]),
        ("vx: kefu_8888", None, [("handle", "wechat:kefu_8888", "kefu_8888")]),
        # the platform named twice: the id is what follows the second name
        ("加微信 WeChat: kefu_2026 详聊", None, [("handle", "wechat:kefu_2026", "kefu_2026")]),
        ("ไลน์ Line ID: @abc123", None, [("handle", "line:abc123", "abc123")]),
        ("Contact Telegram line: scamdesk_01", None, []),  # which platform: unclear, neither
        (
            "微信号:scamkefu01，电话0086 138 0013 8000",
            None,
            [
                ("handle", "wechat:scamkefu01", "scamkefu01"),
                ("phone", "+8613800138000", "0086 138 0013 8000"),
            ],
        ),
        ("电话+86 138 0013 8000转账", None, [("phone", "+8613800138000", "+86 138 0013 8000")]),
        ("电话：138-0013-8000", "CN", [("phone", "+8613800138000", "138-0013-8000")]),
        (
            "电话：１３８００１３８０００",
            "CN",
            [("phone", "+8613800138000", "１３８００１３８０００")],
        ),
        (
            "电话：１３８-００１３-８０００",
            "CN",
            [("phone", "+8613800138000", "１３８-００１３-８０００")],
        ),
        ("电话：13800138000。", "CN", [("phone", "+8613800138000", "13800138000")]),
        (
            "电报：@crypto_profit_vip",
            None,
            [("handle", "telegram:crypto_profit_vip", "crypto_profit_vip")],
        ),
        (
            "飞机@crypto_profit_vip",
            None,
            [("handle", "telegram:crypto_profit_vip", "crypto_profit_vip")],
        ),
        (
            "加入t.me/crypto_profit_vip领取",
            None,
            [("handle", "telegram:crypto_profit_vip", "t.me/crypto_profit_vip")],
        ),
        (
            "加入https://t.me/crypto_profit_vip领取",
            None,
            [("handle", "telegram:crypto_profit_vip", "https://t.me/crypto_profit_vip")],
        ),
        (
            "链接:scam-site.com/abc领取",
            None,
            [("url", "http://scam-site.com/abc", "scam-site.com/abc")],
        ),
        (f"TRC20地址{TRON}转账", None, [("crypto_wallet", TRON, TRON)]),
        ("邮箱scam@evil.example联系", None, [("email", "scam@evil.example", "scam@evil.example")]),
        (
            "访问 evil。example/pay",
            None,
            [("url", "http://evil.example/pay", "evil。example/pay")],
        ),
        (
            "请至 HTTPS://Scam-Bank.COM.TW:443/Login/../Verify 验证",
            None,
            [
                (
                    "url",
                    "https://scam-bank.com.tw/Verify",
                    "HTTPS://Scam-Bank.COM.TW:443/Login/../Verify",
                )
            ],
        ),
        (
            "尊敬的客户，登录 hxxps://icbc-vip[.]com/login 验证身份",
            None,
            [("url", "https://icbc-vip.com/login", "hxxps://icbc-vip[.]com/login")],
        ),
        (
            "登录https://icbc-vip[.]com/login",
            None,
            [("url", "https://icbc-vip.com/login", "https://icbc-vip[.]com/login")],
        ),
    ],
)
def test_chinese_messages(text: str, region: str | None, expected: list[Found]) -> None:
    assert found(text, region) == expected


# --------------------------------------------------------------------------------------------
# Thai
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        (
            "ยินดีด้วย คุณได้รับเงินคืน กดลิงก์ bit.ly/3abcDEF หรือโทร 081-234-5678",
            "TH",
            [
                ("url", "http://bit.ly/3abcDEF", "bit.ly/3abcDEF"),
                ("phone", "+66812345678", "081-234-5678"),
            ],
        ),
        ("ติดต่อ ๐๘๑-๒๓๔-๕๖๗๘ ได้ตลอด", "TH", [("phone", "+66812345678", "๐๘๑-๒๓๔-๕๖๗๘")]),
        (
            "โทร ０８１ ２３４ ５６７８ ด่วน",
            "TH",
            [("phone", "+66812345678", "０８１ ２３４ ５６７８")],
        ),
        ("โทร0812345678ด่วน", "TH", [("phone", "+66812345678", "0812345678")]),
        ("โทร+66812345678ด่วน", None, [("phone", "+66812345678", "+66812345678")]),
        ("โทร 081\u2011234\u20115678", "TH", [("phone", "+66812345678", "081\u2011234\u20115678")]),
        (
            "โทร 081 234 5678, 082 345 6789",
            "TH",
            [
                ("phone", "+66812345678", "081 234 5678"),
                ("phone", "+66823456789", "082 345 6789"),
            ],
        ),
        (
            "โทร 0812345678/0823456789",
            "TH",
            [
                ("phone", "+66812345678", "0812345678"),
                ("phone", "+66823456789", "0823456789"),
            ],
        ),
        (
            "โทร 081 234 5678 / 082 345 6789",
            "TH",
            [
                ("phone", "+66812345678", "081 234 5678"),
                ("phone", "+66823456789", "082 345 6789"),
            ],
        ),
        # the "add @id" LINE invitation, with and without the keyword
        ("ติดต่อแอดมิน แอดไลน์ @scam_shop ด่วน", None, [("handle", "line:scam_shop", "scam_shop")]),
        ("ทักไลน์ @abc123 รับโบนัส", None, [("handle", "line:abc123", "abc123")]),
        ("สอบถามเพิ่มเติม @scam_shop ค่ะ", None, [("handle", "line:scam_shop", "@scam_shop")]),
        ("ไลน์: @scam.shop", None, [("handle", "line:scam.shop", "scam.shop")]),
        ("ติดต่อ LINE ID: scam.shop99", None, [("handle", "line:scam.shop99", "scam.shop99")]),
        ("เข้าเว็บscam-site.comด่วน", None, [("domain", "scam-site.com", "scam-site.com")]),
        (
            "ดูที่ scam-bank.co.th/login, ด่วน!",
            None,
            [("url", "http://scam-bank.co.th/login", "scam-bank.co.th/login")],
        ),
        (
            "โอนเงินที่ https://scam-bank.co.th/login?id=1. ด่วน",
            None,
            [("url", "https://scam-bank.co.th/login?id=1", "https://scam-bank.co.th/login?id=1")],
        ),
        (
            "สมัครที่ https://scam-bank.co.th/login?ref=abc#top ด่วน",
            None,
            [
                (
                    "url",
                    "https://scam-bank.co.th/login?ref=abc",
                    "https://scam-bank.co.th/login?ref=abc#top",
                )
            ],
        ),
        (
            "อีเมล support(at)scam-bank(dot)co(dot)th",
            None,
            [("email", "support@scam-bank.co.th", "support(at)scam-bank(dot)co(dot)th")],
        ),
    ],
)
def test_thai_messages(text: str, region: str | None, expected: list[Found]) -> None:
    assert found(text, region) == expected


def test_bare_at_name_is_line_in_thai_and_telegram_elsewhere() -> None:
    assert found("Contact @crypto_profit_vip for details") == [
        ("handle", "telegram:crypto_profit_vip", "@crypto_profit_vip")
    ]
    assert found("add @scam_shop now", "TH") == [("handle", "line:scam_shop", "@scam_shop")]
    assert found("แอด @scam_shop", "US") == [("handle", "line:scam_shop", "@scam_shop")]


# --------------------------------------------------------------------------------------------
# Burmese, Lao, Khmer, Vietnamese
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        # Burmese
        ("ဖုန်း ၀၉ ၄၅၁ ၂၃၄ ၅၆၇ သို့ ဆက်သွယ်ပါ", "MM", [("phone", "+959451234567", "၀၉ ၄၅၁ ၂၃၄ ၅၆၇")]),
        ("ဖုန်း၀၉၄၅၁၂၃၄၅၆၇သို့", "MM", [("phone", "+959451234567", "၀၉၄၅၁၂၃၄၅၆၇")]),
        (
            "ဒီလင့်ကို နှိပ်ပါ hxxps://kbz-pay[.]com/verify",
            None,
            [("url", "https://kbz-pay.com/verify", "hxxps://kbz-pay[.]com/verify")],
        ),
        # Lao
        ("ໂທ ໐໒໐ ໕໕໕໑ ໒໓໔໕ ດ່ວນ", "LA", [("phone", "+8562055512345", "໐໒໐ ໕໕໕໑ ໒໓໔໕")]),
        ("ໂທ 020 5551 2345 ດ່ວນ", "LA", [("phone", "+8562055512345", "020 5551 2345")]),
        (
            "ກົດລິ້ງ https://bcel-one.com/login ດ່ວນ",
            None,
            [("url", "https://bcel-one.com/login", "https://bcel-one.com/login")],
        ),
        # Khmer
        ("ទូរស័ព្ទ ០១២ ៣៤៥ ៦៧៨ ឥឡូវ", "KH", [("phone", "+85512345678", "០១២ ៣៤៥ ៦៧៨")]),
        # Vietnamese
        (
            "Tài khoản của bạn bị khóa. Truy cập vietcombank-xacminh.com ngay "
            "hoặc gọi 0912 345 678",
            "VN",
            [
                ("domain", "vietcombank-xacminh.com", "vietcombank-xacminh.com"),
                ("phone", "+84912345678", "0912 345 678"),
            ],
        ),
        ("Gọi ngay 0912.345.678 để nhận quà", "VN", [("phone", "+84912345678", "0912.345.678")]),
        (
            "nạp tiền tại https://vietcombank-xacminh.com/otp ngay",
            None,
            [("url", "https://vietcombank-xacminh.com/otp", "https://vietcombank-xacminh.com/otp")],
        ),
        (
            "Mời tham gia nhóm Telegram t.me/dautu_vip88 để nhận lãi",
            None,
            [("handle", "telegram:dautu_vip88", "t.me/dautu_vip88")],
        ),
        (
            f"Ví USDT (TRC20): {TRON} . Liên hệ Zalo 0912345678",
            "VN",
            [("crypto_wallet", TRON, TRON), ("phone", "+84912345678", "0912345678")],
        ),
    ],
)
def test_mekong_messages(text: str, region: str | None, expected: list[Found]) -> None:
    assert found(text, region) == expected


# --------------------------------------------------------------------------------------------
# English, and the disguises
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        (
            f"Join us t.me/crypto_profit_vip now, send USDT to {TRON}",
            "US",
            [
                ("handle", "telegram:crypto_profit_vip", "t.me/crypto_profit_vip"),
                ("crypto_wallet", TRON, TRON),
            ],
        ),
        (
            "Your parcel is held. Pay at hxxps://thaipost-th[.]top/pay within 24h.",
            None,
            [("url", "https://thaipost-th.top/pay", "hxxps://thaipost-th[.]top/pay")],
        ),
        (
            "Visit evil[.]example/pay or mail help@evil.example",
            None,
            [
                ("url", "http://evil.example/pay", "evil[.]example/pay"),
                ("email", "help@evil.example", "help@evil.example"),
            ],
        ),
        (
            "hxxp://evil(.)example/pay and hxxps://bad[dot]example",
            None,
            [
                ("url", "http://evil.example/pay", "hxxp://evil(.)example/pay"),
                ("url", "https://bad.example/", "hxxps://bad[dot]example"),
            ],
        ),
        (
            "scam[at]evil[.]example",
            None,
            [("email", "scam@evil.example", "scam[at]evil[.]example")],
        ),
        (
            "ｈｔｔｐｓ：／／ｅｖｉｌ．ｅｘａｍｐｌｅ／ｐａｙ 马上",
            None,
            [
                (
                    "url",
                    "https://evil.example/pay",
                    "ｈｔｔｐｓ：／／ｅｖｉｌ．ｅｘａｍｐｌｅ／ｐａｙ",
                )
            ],
        ),
        # zero-width characters inside numbers, links and wallets
        (
            "Call 0812\u200b345\u200b678 now",
            "TH",
            [("phone", "+66812345678", "0812\u200b345\u200b678")],
        ),
        (
            "ev\u200bil.example/pay",
            None,
            [("url", "http://evil.example/pay", "ev\u200bil.example/pay")],
        ),
        (
            "USDT: TPcDNYz4Ax\u200bCaLCY2Xx4i95jGYwCjUrxg5r",
            None,
            [("crypto_wallet", TRON, "TPcDNYz4Ax\u200bCaLCY2Xx4i95jGYwCjUrxg5r")],
        ),
        # spaced digits
        ("Call 08 1 2 3 4 5 6 7 8 now", "TH", [("phone", "+66812345678", "08 1 2 3 4 5 6 7 8")]),
        (
            "Call +66 81 234 5678 or +86 138 0013 8000",
            None,
            [
                ("phone", "+66812345678", "+66 81 234 5678"),
                ("phone", "+8613800138000", "+86 138 0013 8000"),
            ],
        ),
        # a WhatsApp number is a handle and a phone at once
        (
            "WhatsApp: +86 138 0013 8000",
            None,
            [
                ("handle", "whatsapp:+8613800138000", "+86 138 0013 8000"),
                ("phone", "+8613800138000", "+86 138 0013 8000"),
            ],
        ),
        (
            "https://wa.me/66812345678",
            None,
            [("handle", "whatsapp:+66812345678", "https://wa.me/66812345678")],
        ),
        (
            "https://line.me/R/ti/p/@abc_shop",
            None,
            [("handle", "line:abc_shop", "https://line.me/R/ti/p/@abc_shop")],
        ),
        (
            "line.me/ti/p/~scam.shop",
            None,
            [("handle", "line:scam.shop", "line.me/ti/p/~scam.shop")],
        ),
        (
            "go to https://t.me/+AbCdEfGhIjKl",
            None,
            [("handle", "telegram:+AbCdEfGhIjKl", "https://t.me/+AbCdEfGhIjKl")],
        ),
        ("WeChat: scam_kefu", None, [("handle", "wechat:scam_kefu", "scam_kefu")]),
        ("WeChat ID scam_kefu", None, [("handle", "wechat:scam_kefu", "scam_kefu")]),
        ("QQ: 12345678", None, [("handle", "qq:12345678", "12345678")]),
        (
            "tg: @crypto_profit_vip",
            None,
            [("handle", "telegram:crypto_profit_vip", "crypto_profit_vip")],
        ),
        # wallets: checksum-normalised, lower-case input found too
        (
            f"ETH {ETH} and again {ETH.lower()}",
            None,
            [("crypto_wallet", ETH, ETH), ("crypto_wallet", ETH, ETH.lower())],
        ),
        (
            "Send 0.5 BTC to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq "
            "or 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2!",
            None,
            [
                (
                    "crypto_wallet",
                    "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
                    "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
                ),
                (
                    "crypto_wallet",
                    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
                    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
                ),
            ],
        ),
        # network indicators and the rest
        (
            "server 203.0.113.7 and 198.51.100.0/24",
            None,
            [
                ("ip", "203.0.113.7", "203.0.113.7"),
                ("cidr", "198.51.100.0/24", "198.51.100.0/24"),
            ],
        ),
        ("C2 at 203[.]0[.]113[.]7", None, [("ip", "203.0.113.7", "203[.]0[.]113[.]7")]),
        (
            "hxxp://203[.]0[.]113[.]7/admin",
            None,
            [("url", "http://203.0.113.7/admin", "hxxp://203[.]0[.]113[.]7/admin")],
        ),
        (
            "IBAN GB82 WEST 1234 5698 7654 32 thanks",
            None,
            [("bank_account", "GB82WEST12345698765432", "GB82 WEST 1234 5698 7654 32")],
        ),
        (
            "hash: E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            None,
            [
                (
                    "file_hash",
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                    "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
                )
            ],
        ),
        (
            "(see https://en.wikipedia.org/wiki/Foo_(bar)) ok",
            None,
            [
                (
                    "url",
                    "https://en.wikipedia.org/wiki/Foo_(bar)",
                    "https://en.wikipedia.org/wiki/Foo_(bar)",
                )
            ],
        ),
        (
            "https://www.facebook.com/profile.php?id=1000123456789",
            None,
            [
                (
                    "url",
                    "https://www.facebook.com/profile.php?id=1000123456789",
                    "https://www.facebook.com/profile.php?id=1000123456789",
                )
            ],
        ),
    ],
)
def test_english_and_disguised(text: str, region: str | None, expected: list[Found]) -> None:
    assert found(text, region) == expected


# --------------------------------------------------------------------------------------------
# what is not an indicator
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("ยอด 5,000 บาท รหัส 123456 วันที่ 12/05/2567", "TH"),  # amount, OTP, date
        ("pay 1,000,000 VND before 12/05/2024 ref 20240512123456", "VN"),
        ("OTP 123456 valid 5 min", "TH"),
        ("line up at 5", None),  # an English keyword needs ':', '@' or 'ID'
        ("wa 5 minutes", None),
        ("wechat scam_kefu", None),
        ("打款至 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD 谢谢", None),  # EIP-55 fails
        ("BTC 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", None),  # Base58Check fails
        ("โทร 0812345678 ด่วน", None),  # a local number without a region
        ("ไม่มีอะไรเลย 没有 ဘာမှမရှိ ບໍ່ມີ គ្មាន không có gì", None),
        ("", None),
    ],
)
def test_nothing_to_find(text: str, region: str | None) -> None:
    assert found(text, region) == []


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("Meeting on 2026.12.08", "TH"),
        ("Date 20261208", "TH"),
        ("Date 20261208", "CN"),
        ("2026-12-31 23:59", "TH"),
        ("ครบกำหนดวันที่ 2022-12-10 ชำระ", "TH"),
        ("20150118浙江卫视", "TH"),
        ("due 1999 12 31", "TH"),
        ("build 10.0.19041.1", "TH"),
        ("firmware 4.19.0.12 ready", "TH"),
        ("version 1.2.3.4", "TH"),
        ("version: 1.2.3.4.", None),
        ("update to v1.2.3.4", None),
        ("Update to V1.2.3.4 now", None),
        ("Revision 1.2.3.4", None),
        ("升级到版本1.2.3.4", "CN"),
        ("release 203.0.113.7", None),
        ("pkg 1.2.3.4.5", None),
        ("Office 16.0.4266.1001", "TH"),
        ("Windows 10.0.19041.1", "US"),
        ("Update Chrome 100.0.8687.76 now", "TH"),
        ("build 10.0.19041", "TH"),
        ("version 4.19.0 is out", "TH"),
        ("Edge 120.0.6099.109", "TH"),
    ],
)
def test_dates_and_versions_are_not_indicators(text: str, region: str | None) -> None:
    assert found(text, region) == []


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("Date 2026-12-08 call 081-234-5678", "TH", [("phone", "+66812345678", "081-234-5678")]),
        ("20260231", "TH", [("phone", "+6620260231", "20260231")]),  # no 31st of February
        ("build 10.0.19041.1 โทร 0812345678", "TH", [("phone", "+66812345678", "0812345678")]),
        ("โทร 081.234.5678", "TH", [("phone", "+66812345678", "081.234.5678")]),
        ("appelez 06.12.34.56.78", "FR", [("phone", "+33612345678", "06.12.34.56.78")]),
        ("IPv4: 203.0.113.7", None, [("ip", "203.0.113.7", "203.0.113.7")]),
        ("server 203.0.113.7 v2", None, [("ip", "203.0.113.7", "203.0.113.7")]),
    ],
)
def test_numbers_and_addresses_beside_dates_and_versions_are_kept(
    text: str, region: str | None, expected: list[Found]
) -> None:
    assert found(text, region) == expected


@pytest.mark.parametrize(
    ("written", "region", "canonical"),
    [
        ("+1.415.555.0123", None, "+14155550123"),
        ("+66.81.234.5678", None, "+66812345678"),
        ("+33.6.12.34.56.78", None, "+33612345678"),
        ("+86.138.0013.8000", None, "+8613800138000"),
        ("1.800.555.0199", "US", "+18005550199"),
        ("66.81.234.5678", "TH", "+66812345678"),
        ("49.30.1234.56.78", "DE", "+493012345678"),
        ("081.234.5678", "TH", "+66812345678"),  # three groups, no version word before them
        ("415.555.0123", "US", "+14155550123"),
    ],
)
def test_a_number_written_with_dots_is_found(
    written: str, region: str | None, canonical: str
) -> None:
    assert found(f"call {written}. now", region) == [("phone", canonical, written)]


@pytest.mark.parametrize(
    "text",
    [
        "FW: 45.67.89.10 login now",
        "fw 45.67.89.10",
        "rev 45.67.89.10",
        "rel 45.67.89.10",
        "Login now v 45.67.89.10",
        "Login now V: 45.67.89.10",
    ],
)
def test_an_address_after_a_word_that_is_not_only_a_version_word_is_found(text: str) -> None:
    assert found(text) == [("ip", "45.67.89.10", "45.67.89.10")]


def test_dates_and_versions_given_as_indicators_are_still_read() -> None:
    # what an agency reports is read as reported; only free text is guessed at
    assert parse_indicator("20261208", "phone", "TH").canonical == "+6620261208"
    assert parse_indicator("1.2.3.4", None).canonical == "1.2.3.4"


def test_region_reads_the_local_number() -> None:
    text = "โทร 0812345678 ด่วน"
    assert found(text) == []
    assert found(text, "TH") == [("phone", "+66812345678", "0812345678")]
    assert found(text, "th") == found(text, "TH")


def test_unknown_region_is_refused() -> None:
    with pytest.raises(InvalidIndicator, match="unknown region 'XX'"):
        extract_indicators("โทร 0812345678", "XX")


def test_found_indicators_match_parse_indicator() -> None:
    text = (
        "尊敬的客户 โทร ๐๘๑-๒๓๔-๕๖๗๘ hxxps://scam-bank[.]co[.]th/login "
        f"t.me/Crypto_Profit_Vip {ETH.lower()} help@evil.example"
    )
    items = extract_indicators(text, "TH")
    assert [item.indicator.kind.value for item in items] == [
        "phone",
        "url",
        "handle",
        "crypto_wallet",
        "email",
    ]
    for item in items:
        original = text[item.start : item.end]
        again = parse_indicator(original, item.indicator.kind, "TH")
        assert again == item.indicator
        assert again.id == item.indicator.id


def test_link_beats_the_domain_inside_it() -> None:
    kinds = [kind for kind, _, _ in found("see https://pay.scam-bank.co.th/x now")]
    assert kinds == ["url"]


# --------------------------------------------------------------------------------------------
# regressions (fixed in e3c8c92) and open bugs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 'hxxp' glued to CJK was not refanged (\b saw 录h as inside a word)
        (
            "登录hxxps://icbc-vip[.]com/login",
            [("url", "https://icbc-vip.com/login", "hxxps://icbc-vip[.]com/login")],
        ),
        (
            "点击hxxp://evil(.)example/pay领取",
            [("url", "http://evil.example/pay", "hxxp://evil(.)example/pay")],
        ),
        # links with an internationalised host were never extracted
        (
            "กดลิงก์ https://ธนาคาร.ไทย/login ด่วน",
            [("url", "https://xn--42c3bd5b5db.xn--o3cw4h/login", "https://ธนาคาร.ไทย/login")],
        ),
        (
            "กด https://ธนาคาร.ไทย:8443/login ด่วน",
            [
                (
                    "url",
                    "https://xn--42c3bd5b5db.xn--o3cw4h:8443/login",
                    "https://ธนาคาร.ไทย:8443/login",
                )
            ],
        ),
        (
            "visit https://bücher.de/x now",
            [("url", "https://xn--bcher-kva.de/x", "https://bücher.de/x")],
        ),
        # an IDN host glued to the text after it: the host backs off to a known suffix
        (
            "กด https://ธนาคาร.ไทยด่วน",
            [("url", "https://xn--42c3bd5b5db.xn--o3cw4h/", "https://ธนาคาร.ไทย")],
        ),
    ],
)
def test_glued_and_internationalised_links(text: str, expected: list[Found]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "加入https://t.me/scam_support?start=abc领取",
            [("handle", "telegram:scam_support", "https://t.me/scam_support?start=abc")],
        ),
        (
            "see t.me/s/scam_support/123. now",
            [("handle", "telegram:scam_support", "t.me/s/scam_support/123")],
        ),
        (
            "chat https://api.whatsapp.com/send?phone=66812345678&text=hi!",
            [
                (
                    "handle",
                    "whatsapp:+66812345678",
                    "https://api.whatsapp.com/send?phone=66812345678&text=hi",
                )
            ],
        ),
    ],
)
def test_chat_links_in_text_name_the_account(text: str, expected: list[Found]) -> None:
    assert found(text) == expected


def test_link_to_an_ipv6_host_is_found_without_its_zone_id() -> None:
    text = "open http://[2001:db8::5%25eth0]/pay now"
    expected = [("url", "http://[2001:db8::5]/pay", "http://[2001:db8::5%25eth0]/pay")]
    assert found(text) == expected


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        # the opening bracket of an area code was cut off the span
        ("tel: (202) 555-0143", "US", [("phone", "+12025550143", "(202) 555-0143")]),
        ("โทร (02) 123 4567 ด่วน", "TH", [("phone", "+6621234567", "(02) 123 4567")]),
        ("call (081)234-5678", "TH", [("phone", "+66812345678", "(081)234-5678")]),
        ("(+66) 81 234 5678", None, [("phone", "+66812345678", "(+66) 81 234 5678")]),
        # a number followed by a short number ("24 ชม.", "24/7") was lost with it
        ("โทร 081-234-5678 24 ชม.", "TH", [("phone", "+66812345678", "081-234-5678")]),
        ("Call +66 81 234 5678 24/7", None, [("phone", "+66812345678", "+66 81 234 5678")]),
        ("13800138000 1 次", "CN", [("phone", "+8613800138000", "13800138000")]),
        ("โทร 0812345678 24 ชั่วโมง", "TH", [("phone", "+66812345678", "0812345678")]),
        # 00 means + in a text too, whatever the region's own exit codes
        ("Call 0066 81 234 5678", "TH", [("phone", "+66812345678", "0066 81 234 5678")]),
        ("Call 0086 138 0013 8000", "TH", [("phone", "+8613800138000", "0086 138 0013 8000")]),
        (
            "0812345678 0812345678",
            "TH",
            [("phone", "+66812345678", "0812345678"), ("phone", "+66812345678", "0812345678")],
        ),
    ],
)
def test_bracketed_and_followed_numbers(
    text: str, region: str | None, expected: list[Found]
) -> None:
    assert found(text, region) == expected


@pytest.mark.parametrize(
    ("text", "second"),
    [
        ("โทร 081-234-5678/082-345-6789", "082-345-6789"),
        ("โทร 081 234 5678  082 345 6789", "082 345 6789"),
        ("ref 2024-05-12 081-234-5678", "081-234-5678"),
    ],
)
def test_bug_number_after_another_digit_run_is_lost(text: str, second: str) -> None:
    canonical = parse_indicator(second, "phone", "TH").canonical
    assert ("phone", canonical, second) in found(text, "TH")


@pytest.mark.parametrize(
    "text",
    ["visit bücher.de now", "visit www.bücher.de/x now", "mail: user@bücher.de now"],
)
def test_bug_accented_domain_is_not_reported_as_its_ascii_tail(text: str) -> None:
    canonicals = [canonical for _, canonical, _ in found(text)]
    assert not any("cher.de" in c and "bcher" not in c for c in canonicals), canonicals


def test_a_link_before_a_full_width_stop_keeps_its_span() -> None:
    [found] = extract_indicators("点击https://evil.com。立即领取")
    assert found.indicator.canonical == "https://evil.com/"
    assert (found.start, found.end) == (2, 18)


@pytest.mark.parametrize("text", ["请加lİne: scammer123", "lıne: scammer123"])
def test_dotted_and_dotless_i_do_not_hide_a_handle(text: str) -> None:
    assert [f.indicator.canonical for f in extract_indicators(text)] == ["line:scammer123"]


@pytest.mark.parametrize(
    ("text", "most"),
    [("http://a.co/ " * 5000, 256), ("0812345678 " * 5000, 64), ("line:" * 13000, 256)],
)
def test_work_per_text_is_bounded(text: str, most: int) -> None:
    assert len(extract_indicators(text, region="TH")) <= most


def test_a_long_run_of_dotted_numbers_costs_no_more_to_check_than_a_short_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # counts the characters the date-and-version check reads: the same for 6 KB as for 64 KB
    reads: list[object] = []

    class CountedDigits(frozenset[str]):
        def __contains__(self, item: object) -> bool:
            reads.append(item)
            return super().__contains__(item)

    monkeypatch.setattr(extract, "_DOTTED_DIGITS", CountedDigits("0123456789."))
    read_per_length = []
    for copies in (590, 5900):
        reads.clear()
        assert len(extract_indicators("0812345678." * copies, "TH")) == 64
        read_per_length.append(len(reads))
    assert 0 < read_per_length[0] == read_per_length[1]


@pytest.mark.parametrize(
    ("text", "last"),
    [("1.5 " * 300 + "evil.com", "evil.com"), ("中abc." * 300 + "中example.com", "example.com")],
)
def test_an_indicator_after_hundreds_of_runs_is_still_found(text: str, last: str) -> None:
    assert extract_indicators(text)[-1].indicator.canonical == last


def test_folding_maps_digits_width_stops_and_dashes_one_for_one() -> None:
    folded = fold_characters("โอน ๑๒๓ ၄၅ ໖ ＡＢＣ１ 𝟗 。－— 😀 𠀀 ไลน์")
    assert folded == "โอน 123 45 6 ABC1 9 .-- 😀 𠀀 ไลน์"
    # every character the rule folds, and one past the table's end, each as the rule says
    beyond = [(0x1F600, "\U0001f600"), (0x20000, "\U00020000")]
    for codepoint, expected in [*_folds().items(), *beyond]:
        assert fold_characters(chr(codepoint)) == expected


# an indicator each pre-check alone lets through, in Latin and in other scripts
_ONE_FOR_EACH_PRE_CHECK = [
    "server fe80::1 down",
    "服务器fe80::1故障",
    "hash " + "ab" * 32,
    "钱包 0x52908400098527886E0F7030069857D2E4169EE7 转账",
    "pay bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq now",
    "IBAN GB82 WEST 1234 5698 7654 32 please",
    "โอนเข้า GB82WEST12345698765432 ด่วน",
    "call 081-234-5678 now",
    "โทร ๐๘๑ ๒๓๔ ๕๖๗๘",
    "mail a@b.co",
    "点击 http://例子.中国/x",
    "加line: abc123 或 tg: @scam_desk",
    "visit 1.2.3.4:8080/x",
    "send bc1pqqqqqcnjqs now",
    "转账bc1pqqqqqcnjqs。谢谢",
]


def _project_messages() -> list[str]:
    root = Path(__file__).resolve().parents[2]
    demo = root / "src" / "scamwall" / "demo" / "messages.tsv"
    unseen = root / "tests" / "data" / "unseen_languages.jsonl"
    texts = [line.split("\t", 1)[1] for line in demo.read_text("utf-8").splitlines()]
    texts += [json.loads(line)["text"] for line in unseen.read_text("utf-8").splitlines()]
    return texts + _ONE_FOR_EACH_PRE_CHECK


@pytest.mark.parametrize("region", ["TH", None])
def test_pre_checks_never_skip_a_find_in_the_project_messages(region: str | None) -> None:
    texts = _project_messages()
    fast = [extract_indicators(text, region) for text in texts]
    assert fast == [_extract(text, region, exhaustive=True) for text in texts]
    assert sum(map(len, fast)) > 100  # the messages do hold indicators


@pytest.mark.parametrize("region", ["TH", "CN", None])
def test_a_memo_shared_by_a_batch_gives_the_same_finds(region: str | None) -> None:
    texts = _project_messages()
    texts += texts[::-1]  # every candidate asked about again, from the other end
    memo = ParseMemo()
    assert [extract_indicators(text, region, memo=memo) for text in texts] == [
        extract_indicators(text, region) for text in texts
    ]


def test_text_folded_by_the_caller_gives_the_same_finds() -> None:
    texts = _project_messages()
    assert [extract_indicators(fold_characters(t), "TH", folded=True) for t in texts] == [
        extract_indicators(t, "TH") for t in texts
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pay.evil[.]example", "pay.evil.example"),
        ("evil(.)example", "evil.example"),
        ("evil{.}example", "evil.example"),
        ("evil [DOT] example", "evil.example"),
        ("evil(Dot)example", "evil.example"),
        ("evil{dot}example", "evil.example"),
        ("evil\\.example", "evil.example"),
        ("hxxps://pay\\.scam-bank\\.example/verify", "https://pay.scam-bank.example/verify"),
        ("http://x.example\\.y.example", "http://x.example\\.y.example"),  # the host ends
        # what the sender writes after a live link's host does not reopen it
        ("https://k.example\\.bank.example/x?r=(at)", "https://k.example\\.bank.example/x?r=@"),
        # an escaped dot is never spaced out: the two runs stay apart
        (
            "pay at https://k.example \\.bank.example/x",
            "pay at https://k.example \\.bank.example/x",
        ),
        ("http[:]//x", "http://x"),
        ("http[://]x", "http://x"),
        ("a [at] b", "a@b"),
        ("a(AT)b", "a@b"),
        ("a{at}b", "a@b"),
        ("a[@]b", "a@b"),
        ("a(@)b", "a@b"),
        ("ev\u200bil\u00ad.exa\u2060mple", "evil.example"),
        ("HXXPS://x", "httpS://x"),
        ("fXp://x", "ftp://x"),
        ("（注意）[a] (b) {c}", "(注意)[a] (b) {c}"),  # brackets alone stay
    ],
)
def test_every_form_of_defanging_is_undone(text: str, expected: str) -> None:
    assert normalize_for_matching(text).text == expected
