"""Write the demo sample shipped in ``src/scamwall/demo/``.

Everything here is synthetic, written for scamwall: phone numbers are drawn from each country's
numbering plan, wallets are derived from hashes of fixed strings (nobody holds their keys), and
every domain sits under ``.example`` or ``.test``, names reserved for documentation (RFC 2606).
Run it again to get the same files: ``python scripts/make_demo_data.py``.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import base58
import bech32m

from scamwall.indicators.finance import eip55

OUT = Path(__file__).resolve().parent.parent / "src" / "scamwall" / "demo"


def _digest(seed: str) -> bytes:
    return hashlib.sha256(seed.encode()).digest()[:20]


def tron(seed: str) -> str:
    return base58.b58encode_check(b"\x41" + _digest(seed)).decode()


def eth(seed: str) -> str:
    return eip55("0x" + _digest(seed).hex())


def btc(seed: str) -> str:
    return str(bech32m.encode("bc", 0, list(_digest(seed))))


def main() -> None:
    th_rows = [
        (
            "081-234-5678",
            "",
            "2026-11-02T09:15:00+07:00",
            90,
            "green",
            "victim_report",
            "fake parcel customs fee, victim paid 12,000 THB",
            "CCIB-2026-0412",
        ),
        (
            "02 123 4567",
            "",
            "2026-11-03T14:00:00+07:00",
            70,
            "green",
            "victim_report",
            "caller posed as police, 'money laundering case'",
            "CCIB-2026-0415",
        ),
        (
            "+66 92 555 0101",
            "",
            "2026-11-04T10:30:00+07:00",
            85,
            "amber",
            "police_case",
            "mule account recruiter",
            "CCIB-2026-0420",
        ),
        (
            "hxxps://kbank-refund[.]example/verify",
            "",
            "2026-11-04T11:00:00+07:00",
            95,
            "clear",
            "victim_report",
            "smishing page imitating a bank",
            "CCIB-2026-0421",
        ),
        (
            "line:@fastloan88",
            "",
            "2026-11-05T08:00:00+07:00",
            80,
            "green",
            "victim_report",
            "fake loan, upfront fee",
            "CCIB-2026-0433",
        ),
        (
            "TH:KBANK:123-4-56789-0",
            "",
            "2026-11-05T16:20:00+07:00",
            90,
            "amber+strict",
            "bank_report",
            "mule account, frozen",
            "CCIB-2026-0434",
        ),
        (
            tron("demo-th-1"),
            "",
            "2026-11-06T12:00:00+07:00",
            75,
            "amber",
            "police_case",
            "USDT (TRC-20) ransom wallet",
            "CCIB-2026-0440",
        ),
        (
            "bet-lucky-th.example",
            "",
            "2026-11-07T22:10:00+07:00",
            60,
            "green",
            "agency_upload",
            "illegal online casino",
            "",
        ),
        (
            "boc-verify.test",
            "domain",
            "2026-11-08T02:00:00+07:00",
            90,
            "green",
            "police_case",
            "same bank look-alike as reported by CN-MPS, seen in Thai smishing",
            "CCIB-2026-0447",
        ),
        (
            "203.0.113.45",
            "",
            "2026-11-08T03:00:00+07:00",
            65,
            "green",
            "telecom_detection",
            "hosts phishing kits",
            "",
        ),
        (
            "KBANK-TH",
            "sms_sender",
            "2026-11-08T09:00:00+07:00",
            70,
            "green",
            "telecom_detection",
            "spoofed bank sender ID",
            "",
        ),
        (
            "๐๘๙-๙๙๙-๑๒๓๔",
            "",
            "2026-11-09T13:45:00+07:00",
            80,
            "green",
            "victim_report",
            "number written in Thai digits",
            "CCIB-2026-0451",
        ),
        (
            "081-234-5678",
            "",
            "2026-11-02T09:15:00+07:00",
            90,
            "green",
            "victim_report",
            "same report sent twice",
            "CCIB-2026-0412",
        ),
        (
            "+66 81 234",
            "",
            "2026-11-10T10:00:00+07:00",
            50,
            "green",
            "victim_report",
            "too short: goes to the reject file",
            "",
        ),
        (
            "GB82 WEST 1234 5698 7654 33",
            "",
            "2026-11-10T11:00:00+07:00",
            50,
            "green",
            "bank_report",
            "IBAN checksum fails: reject file",
            "",
        ),
    ]
    with (OUT / "th-ccib.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "value",
                "kind",
                "observed_at",
                "confidence",
                "tlp",
                "source_kind",
                "note",
                "evidence_ref",
            ]
        )
        writer.writerows(th_rows)

    cn_rows = [
        {
            "value": "138 0013 8000",
            "observed_at": "2026-11-01T10:00:00+08:00",
            "confidence": 90,
            "tlp": "green",
            "source_kind": "victim_report",
            "note": "冒充公检法 (police impersonation)",
        },
        {
            "value": "+86 171 2345 6789",
            "observed_at": "2026-11-02T09:30:00+08:00",
            "confidence": 85,
            "tlp": "green",
            "source_kind": "telecom_detection",
            "note": "mass dialing from a virtual operator range",
        },
        {
            "value": "hxxp://boc-verify[.]test/login",
            "observed_at": "2026-11-02T12:00:00+08:00",
            "confidence": 95,
            "tlp": "clear",
            "source_kind": "victim_report",
            "note": "仿冒银行网站 (bank look-alike)",
        },
        {
            "value": "boc-verify.test",
            "kind": "domain",
            "observed_at": "2026-11-02T12:30:00+08:00",
            "confidence": 90,
            "tlp": "green",
            "source_kind": "police_case",
            "note": "the look-alike's whole domain, for the resolvers' block list",
        },
        {
            "value": "wechat:kefu_2026",
            "observed_at": "2026-11-03T15:00:00+08:00",
            "confidence": 70,
            "tlp": "amber",
            "source_kind": "police_case",
            "note": "fake customer service",
        },
        {
            "value": "qq:12345678",
            "observed_at": "2026-11-03T15:05:00+08:00",
            "confidence": 60,
            "tlp": "amber",
            "source_kind": "police_case",
        },
        {
            "value": eth("demo-cn-1"),
            "observed_at": "2026-11-04T08:00:00+08:00",
            "confidence": 80,
            "tlp": "amber",
            "source_kind": "police_case",
            "note": "investment scam deposit address",
        },
        {
            "value": tron("demo-th-1"),
            "observed_at": "2026-11-05T20:00:00+08:00",
            "confidence": 85,
            "tlp": "green",
            "source_kind": "partner_feed",
            "note": "same wallet as a Thai case",
        },
        {
            "value": "+66 92 555 0101",
            "observed_at": "2026-11-06T09:00:00+08:00",
            "confidence": 75,
            "tlp": "green",
            "source_kind": "partner_feed",
            "note": "Thai recruiter number seen in a CN case",
        },
        {
            "value": "t.me/job_abroad_hr",
            "observed_at": "2026-11-06T10:00:00+08:00",
            "confidence": 90,
            "tlp": "green",
            "source_kind": "victim_report",
            "note": "'high-paid job abroad' lure to a scam compound",
        },
        {
            "value": "2001:db8:42::7",
            "observed_at": "2026-11-07T01:00:00+08:00",
            "confidence": 55,
            "tlp": "green",
            "source_kind": "telecom_detection",
        },
        {
            "value": "not a thing at all",
            "observed_at": "2026-11-08T01:00:00+08:00",
            "confidence": 55,
            "tlp": "green",
        },
        {
            "value": "+86 138 0013 8000",
            "observed_at": "2026-11-09T01:00:00+08:00",
            "confidence": 155,
            "tlp": "green",
        },
    ]
    with (OUT / "cn-mps.ndjson").open("w", encoding="utf-8") as f:
        for row in cn_rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")

    mm_rows = [
        {
            "value": "09 7812 34567",
            "observed_at": "2026-11-03T11:00:00+06:30",
            "confidence": 70,
            "tlp": "amber",
            "source_kind": "victim_report",
            "note": "ransom call to a victim's family",
        },
        {
            "value": "+856 20 5555 1234",
            "observed_at": "2026-11-04T11:00:00+07:00",
            "confidence": 65,
            "tlp": "green",
            "source_kind": "partner_feed",
            "note": "Lao number used by the same group",
        },
        {
            "value": btc("demo-mm-1"),
            "observed_at": "2026-11-05T11:00:00+06:30",
            "confidence": 70,
            "tlp": "amber",
            "source_kind": "police_case",
        },
        {
            "value": "t.me/job_abroad_hr",
            "observed_at": "2026-11-06T18:00:00+06:30",
            "confidence": 90,
            "tlp": "green",
            "source_kind": "victim_report",
            "note": "rescued worker named this recruiter",
        },
        {
            "value": "casino-golden-triangle.example",
            "observed_at": "2026-11-07T18:00:00+06:30",
            "confidence": 80,
            "tlp": "green",
            "source_kind": "agency_upload",
        },
    ]
    (OUT / "mm-police.json").write_text(
        json.dumps(mm_rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )

    messages = [  # region of the recipient, then the text
        (
            "CN",
            "【中国银行】您的账户存在异常，请立即登录 hxxp://boc-verify[.]test/login 处理，或致电客服 138 0013 8000",
        ),
        (
            "TH",
            "คุณได้รับเงินคืนภาษี 3,500 บาท กดรับที่ https://kbank-refund.example/verify แอดไลน์ @fastloan88 โทร ๐๘๑-๒๓๔-๕๖๗๘",
        ),
        (
            "CN",
            "高薪招聘海外客服，月薪三万，包吃住，联系电报 t.me/job_abroad_hr 或 微信：kefu_2026",
        ),
        (
            "TH",
            f"Your son is with us. Send 5,000 USDT (TRC20) to {tron('demo-th-1')} within 24 hours or call +95 9 7812 34567.",
        ),
        ("MM", "ကျွန်ုပ်တို့ထံ ဖုန်း ၀၉ ၇၈၁၂ ၃၄၅၆၇ သို့ ချက်ချင်းဆက်သွယ်ပါ၊ သင့်ဘဏ်အကောင့် ပိတ်ခံရမည်"),
        ("LA", "ເງິນກູ້ດ່ວນ ບໍ່ຕ້ອງຄ້ຳປະກັນ ໂທ +856 20 5555 1234 ຫຼື WhatsApp: +856 20 5555 1234"),
        (
            "VN",
            "Tài khoản của bạn bị khóa. Truy cập bet-lucky-th[.]example ngay hoặc gửi tiền vào ví "
            + eth("demo-cn-1"),
        ),
        (
            "TH",
            "Hi mum, it's me, new number, can you pay this bill for me? Text back on 0\u200b8\u200b1\u200b2\u200b3\u200b4\u200b5\u200b6\u200b7\u200b8",
        ),
    ]
    (OUT / "messages.tsv").write_text(
        "".join(f"{region}\t{text}\n" for region, text in messages), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
