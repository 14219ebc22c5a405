"""Parse + canonicalise throughput of ``parse_indicator`` on one core, over a mixed-kind corpus.

The corpus mixes every indicator kind (phones with a region, URLs, domains, IPs, CIDR blocks,
e-mail addresses, IBANs, ETH/BTC/TRON wallets, handles, file hashes, SMS sender IDs). Real values
come from ``../shared/data`` when it exists (FTC robocall numbers, CryptoScamDB wallets, domain
lists); generated values fill each kind up to ``--per-kind``. Every raw value is distinct, so no
cache (ours or a library's) can flatter the figure; each value is parsed exactly once in the timed
pass, in shuffled order, with the kind given as an intake file's ``kind`` column gives it
(``--guess-kind`` leaves the kind out and lets ``parse_indicator`` guess it).

Baselines, timed in the same run over the same values: ``phonenumbers.parse`` + ``format_number``
for the phones, a bare ``urllib.parse.urlsplit`` for the URLs and ``ipaddress.ip_address`` for the
IPs. Run: ``python bench/bench_parse.py`` (``--help`` for options).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import ipaddress
import os
import random
import shlex
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import base58
import bech32m
import phonenumbers
from Crypto.Hash import keccak
from stdnum import iban

from scamwall.errors import InvalidIndicator
from scamwall.indicators import parse_indicator

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TARGET_VALUES_PER_SECOND = 50_000

KINDS = (
    "phone",
    "url",
    "domain",
    "ip",
    "cidr",
    "email",
    "bank_account",
    "crypto_wallet",
    "handle",
    "file_hash",
    "sms_sender",
)

Item = tuple[str, str, str | None]  # (raw value, kind, region)


# ---------------------------------------------------------------------------------------------
# real data


def real_phones() -> list[str]:
    """US numbers from the FTC complaints file (messy: some are invalid, as in real intake)."""
    path = DATA / "phones" / "us_ftc_dnc_complaints_2021-07-08.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as stream:
        return [row["Company_Phone_Number"].strip() for row in csv.DictReader(stream)]


def real_wallets() -> list[str]:
    """ETH, BTC and TRON addresses from CryptoScamDB."""
    path = DATA / "wallets" / "cryptoscamdb_addresses.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as stream:
        return [
            row["address"].strip()
            for row in csv.DictReader(stream)
            if row["chain"] in ("ETH", "BTC", "TRX")
        ]


def real_domains() -> list[str]:
    """Names from every list in ``domains/`` (scam, phishing, gambling, benign)."""
    folder = DATA / "domains"
    if not folder.is_dir():
        return []
    names: list[str] = []
    for path in sorted(folder.glob("*.txt")):
        names.extend(
            line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
        )
    return names


# ---------------------------------------------------------------------------------------------
# generated values (deterministic for a seed)

_WORDS = (
    *("secure", "pay", "bank", "wallet", "login", "verify", "account", "thai", "post", "kbank"),
    *("scb", "line", "refund", "parcel", "gift", "prize", "loan", "support", "update", "crypto"),
    *("usdt", "invest", "trade", "token", "claim", "bonus", "service", "help"),
)
_TLDS = ("com", "net", "org", "co.th", "in.th", "cn", "com.cn", "vn", "com.mm", "la", "xyz", "top")


def gen_domain(rng: random.Random, i: int) -> str:
    return f"{rng.choice(_WORDS)}-{rng.choice(_WORDS)}{i}.{rng.choice(_TLDS)}"


def gen_phone(rng: random.Random, i: int) -> tuple[str, str | None]:
    """A possible number for a region of the area, written the way reports write it."""
    n = i % 10_000_000
    style = rng.randrange(6)
    if style == 0:  # Thai mobile, local, with region
        return (
            f"0{rng.choice('689')}{n // 100_000 % 10}-{n // 1000 % 1000:03d}-{n % 10000:04d}",
            "TH",
        )
    if style == 1:  # Thai mobile, E.164
        return f"+66 {rng.choice('689')}{n:08d}", None
    if style == 2:  # Chinese mobile, international with 00
        return f"0086 13{n % 10}{n:08d}", None
    if style == 3:  # Philippine mobile, local
        return f"0917 {n // 10000:03d} {n % 10000:04d}", "PH"
    if style == 4:  # Myanmar mobile, E.164
        return f"+95 9 {n:09d}", None
    return f"+44 7{n:09d}", None  # UK mobile


def gen_url(rng: random.Random, host: str, i: int) -> str:
    style = rng.randrange(6)
    if style == 0:
        return f"https://{host}/login?session={i}&lang=th"
    if style == 1:
        return f"http://{host.upper()}:80/a/../verify/{i}/index.php"
    if style == 2:
        return f"hxxps://{host}[.]/claim/%7Euser{i}?ref=sms"
    if style == 3:
        return f"{host}/p/{i}"
    if style == 4:
        return f"https://pay.{host}:8443/u/{i}#frag"
    return f"https://{host}/%41%42c/{i}/"


def eip55_checksum(address: str) -> str:
    lower = address.lower().removeprefix("0x")
    digest = keccak.new(digest_bits=256, data=lower.encode()).hexdigest()
    return "0x" + "".join(
        c.upper() if c.isalpha() and int(digest[k], 16) >= 8 else c for k, c in enumerate(lower)
    )


def gen_wallet(rng: random.Random) -> str:
    payload = rng.randbytes(20)
    style = rng.randrange(6)
    if style == 0:
        return "0x" + payload.hex()
    if style == 1:
        return eip55_checksum(payload.hex())
    if style == 2:  # BTC P2PKH
        return base58.b58encode_check(b"\x00" + payload).decode()
    if style == 3:  # BTC P2SH
        return base58.b58encode_check(b"\x05" + payload).decode()
    if style == 4:  # BTC segwit v0
        return bech32m.encode("bc", 0, payload)
    return base58.b58encode_check(b"\x41" + payload).decode()  # TRON


def gen_iban(rng: random.Random, i: int) -> str:
    country = rng.choice(("DE", "GB", "FR", "NL"))
    if country == "DE":
        bban = f"{rng.randrange(10**8):08d}{i:010d}"
    elif country == "GB":
        bban = f"{rng.choice(('NWBK', 'BARC', 'HSBC'))}{rng.randrange(10**6):06d}{i:08d}"
    elif country == "FR":
        bban = f"{rng.randrange(10**10):010d}{i:011d}{rng.randrange(100):02d}"
        bban = bban[:21] + f"{97 - (int(bban[:21]) * 100 % 97):02d}"  # RIB key
    else:
        bban = f"{rng.choice(('ABNA', 'INGB', 'RABO'))}{i:010d}"
    number = f"{country}{iban.calc_check_digits(country + '00' + bban)}{bban}"
    if rng.random() < 0.5:  # as printed on statements
        number = " ".join(number[k : k + 4] for k in range(0, len(number), 4))
    return number


def gen_handle(rng: random.Random, i: int) -> str:
    style = rng.randrange(7)
    name = f"{rng.choice(_WORDS)}_{rng.choice(_WORDS)}{i}"
    if style == 0:
        return f"telegram:@{name}"
    if style == 1:
        return f"https://t.me/{name}"
    if style == 2:
        return f"line:@{name[:14]}{i % 1000}"[:25]
    if style == 3:
        return f"wechat:{name[:14]}{i % 100000}"
    if style == 4:
        return f"qq:{10000 + i * 7}"
    if style == 5:
        return f"wa.me/66{rng.choice('689')}{i:08d}"
    return f"tg:{name}"


def gen_ip(rng: random.Random) -> str:
    if rng.random() < 0.8:
        return str(ipaddress.IPv4Address(rng.randrange(1 << 24, 0xDF000000)))
    return str(ipaddress.IPv6Address((0x2001_0DB8 << 96) | rng.randrange(1 << 96)))


def gen_cidr(rng: random.Random) -> str:
    if rng.random() < 0.8:
        prefix = rng.randrange(8, 31)
        return f"{ipaddress.IPv4Address(rng.randrange(1 << 24, 0xDF000000))}/{prefix}"
    prefix = rng.randrange(32, 65)
    return f"{ipaddress.IPv6Address((0x2400 << 112) | rng.randrange(1 << 112))}/{prefix}"


def gen_sms_sender(i: int) -> str:
    if i % 4 == 0:
        return str(10000 + i)  # numeric short code
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    tail = ""
    n = i
    while True:
        n, r = divmod(n, 36)
        tail = digits[r] + tail
        if n == 0:
            break
    return f"{('KBank', 'SCB-', 'TH.Post', 'BAY', 'Lazada')[i % 5]}{tail}"[:11]


# ---------------------------------------------------------------------------------------------
# the corpus


def build_corpus(per_kind: int, seed: int) -> tuple[list[Item], dict[str, int]]:
    """``per_kind`` distinct raw values of each kind (shuffled) and how many are real data."""
    rng = random.Random(seed)
    seen: set[str] = set()
    items: list[Item] = []
    real_count: Counter[str] = Counter()

    def take(kind: str, source: Iterator[tuple[str, str | None]], limit: int, real: bool) -> None:
        count = 0
        for value, region in source:
            if count >= limit:
                break
            if not value or value in seen:
                continue
            seen.add(value)
            items.append((value, kind, region))
            count += 1
            if real:
                real_count[kind] += 1

    def counted(kind: str) -> int:
        return sum(1 for item in items if item[1] == kind)

    def forever(make: Callable[[int], tuple[str, str | None]]) -> Iterator[tuple[str, str | None]]:
        i = 0
        while True:
            yield make(i)
            i += 1

    domains = real_domains()
    rng.shuffle(domains)
    # Real values make up at most half a kind; generated ones fill the rest.
    take("phone", ((p, "US") for p in real_phones()), per_kind // 2, True)
    take("phone", forever(lambda i: gen_phone(rng, i)), per_kind - counted("phone"), False)
    take("domain", ((d, None) for d in domains), per_kind // 2, True)
    take(
        "domain", forever(lambda i: (gen_domain(rng, i), None)), per_kind - counted("domain"), False
    )
    url_hosts = iter(domains[per_kind:])
    take(
        "url",
        forever(lambda i: (gen_url(rng, next(url_hosts, None) or gen_domain(rng, i), i), None)),
        per_kind,
        False,
    )
    mail_hosts = iter(domains[2 * per_kind :])
    take(
        "email",
        forever(
            lambda i: (
                f"{rng.choice(_WORDS)}.{rng.choice(_WORDS)}{i}@"
                f"{next(mail_hosts, None) or gen_domain(rng, i)}",
                None,
            )
        ),
        per_kind,
        False,
    )
    take("crypto_wallet", ((w, None) for w in real_wallets()), per_kind // 2, True)
    take(
        "crypto_wallet",
        forever(lambda i: (gen_wallet(rng), None)),
        per_kind - counted("crypto_wallet"),
        False,
    )
    take("ip", forever(lambda i: (gen_ip(rng), None)), per_kind, False)
    take("cidr", forever(lambda i: (gen_cidr(rng), None)), per_kind, False)
    take("bank_account", forever(lambda i: (gen_iban(rng, i), None)), per_kind, False)
    take("handle", forever(lambda i: (gen_handle(rng, i), "TH")), per_kind, False)
    take(
        "file_hash",
        forever(
            lambda i: (
                ("sha256:" if i % 3 == 0 else "")
                + (str.upper if i % 2 else str)(
                    hashlib.sha256(f"apk-{seed}-{i}".encode()).hexdigest()
                ),
                None,
            )
        ),
        per_kind,
        False,
    )
    take("sms_sender", forever(lambda i: (gen_sms_sender(i), None)), per_kind, False)
    rng.shuffle(items)
    return items, dict(real_count)


def warm_up() -> None:
    """Load lazy tables (public suffix list, fold table, phone metadata) on values not timed."""
    for value, kind, region in (
        ("+6620000000", "phone", None),
        ("02 000 0000", "phone", "TH"),
        ("warm-up.co.th", "domain", None),
        ("https://warm-up.in.th/x", "url", None),
        ("w@warm-up.com.cn", "email", None),
        ("192.0.2.250", "ip", None),
        ("192.0.2.0/28", "cidr", None),
        ("GB82 WEST 1234 5698 7654 32", "bank_account", None),
        ("0x0000000000000000000000000000000000000000", "crypto_wallet", None),
        ("telegram:@warm_up_name", "handle", None),
        ("0" * 64, "file_hash", None),
        ("WARMUP", "sms_sender", None),
        ("+８８６ ２ ２０００ ００００", "phone", None),
        ("(202) 000-0000", "phone", "US"),
        ("0917 000 0000", "phone", "PH"),
        ("+86 130 0000 0000", "phone", None),
        ("+95 9 000 000 000", "phone", None),
        ("+44 7000 000000", "phone", None),
    ):
        with contextlib.suppress(InvalidIndicator):
            parse_indicator(value, kind, region)


# ---------------------------------------------------------------------------------------------
# timing


def time_parse(
    items: list[Item], *, guess_kind: bool
) -> tuple[float, dict[str, int], Counter[str], Counter[str]]:
    """Wall time of one pass, and per kind: summed call time (ns), values, rejects."""
    per_kind_ns: dict[str, int] = defaultdict(int)
    counts: Counter[str] = Counter()
    rejects: Counter[str] = Counter()
    clock = time.perf_counter_ns
    parse = parse_indicator
    start = time.perf_counter()
    for value, kind, region in items:
        t0 = clock()
        try:
            parse(value, None if guess_kind else kind, region)
        except InvalidIndicator:
            rejects[kind] += 1
        per_kind_ns[kind] += clock() - t0
        counts[kind] += 1
    return time.perf_counter() - start, dict(per_kind_ns), counts, rejects


def tight_loop(
    items: list[Item], kind: str, function: Callable[[str, str | None], object]
) -> float:
    """Seconds for ``function(value, region)`` over the values of one kind, errors ignored."""
    values = [(v, r) for v, k, r in items if k == kind]
    start = time.perf_counter()
    for value, region in values:
        with contextlib.suppress(InvalidIndicator, ValueError, phonenumbers.NumberParseException):
            function(value, region)
    return time.perf_counter() - start


def phonenumbers_e164(value: str, region: str | None) -> str:
    """The baseline for phones: libphonenumber's parse and E.164 format, nothing else."""
    return phonenumbers.format_number(
        phonenumbers.parse(value, region), phonenumbers.PhoneNumberFormat.E164
    )


def bare_urlsplit(value: str, region: str | None) -> object:
    """The baseline for URLs: the standard library's split, nothing else."""
    return urlsplit(value)


def ipaddress_str(value: str, region: str | None) -> str:
    """The baseline for IPs: the standard library's parse and compressed form."""
    return str(ipaddress.ip_address(value))


BASELINES = (
    ("phone", "phonenumbers.parse + format_number(E164)", phonenumbers_e164),
    ("url", "urllib.parse.urlsplit", bare_urlsplit),
    ("ip", "ipaddress.ip_address + str", ipaddress_str),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--per-kind", type=int, default=10_000, help="distinct values per kind")
    parser.add_argument("--seed", type=int, default=20261130, help="seed of generated values")
    parser.add_argument(
        "--guess-kind", action="store_true", help="leave the kind out: parse_indicator guesses it"
    )
    parser.add_argument(
        "--grouped",
        action="store_true",
        help="parse the values grouped by kind instead of interleaved (a kinder order for caches)",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin the process to core 0")
    args = parser.parse_args()

    command = shlex.join([sys.executable, *sys.argv])
    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"

    items, real = build_corpus(args.per_kind, args.seed)
    assert len({v for v, _, _ in items}) == len(items), "corpus values must be distinct"
    if args.grouped:
        items.sort(key=lambda item: KINDS.index(item[1]))
    warm_up()
    elapsed, per_kind_ns, counts, rejects = time_parse(items, guess_kind=args.guess_kind)
    # Baselines and scamwall on the same values, each kind alone in a tight loop. Nothing caches
    # a parse (urlsplit's own 128-entry cache is emptied), so this second pass is not flattered.
    baselines = []
    for kind, label, function in BASELINES:
        urlsplit.cache_clear()  # type: ignore[attr-defined]
        base_s = tight_loop(items, kind, function)
        ours_s = tight_loop(items, kind, lambda v, r, kind=kind: parse_indicator(v, kind, r))
        baselines.append((kind, label, base_s, ours_s))

    overall = len(items) / elapsed
    print(f"command: {command}")
    print(
        f"data: {DATA if DATA.is_dir() else 'absent (generated values only)'}; "
        f"cores: {cores}; python {sys.version.split()[0]}"
    )
    from_real = ", ".join(f"{k} {n:,}" for k, n in real.items())
    print(
        f"corpus: {len(items):,} distinct values, {args.per_kind:,} per kind, "
        f"{sum(real.values()):,} from real data ({from_real or 'none'})"
    )
    order = "grouped by kind" if args.grouped else "shuffled (kinds interleaved)"
    print(f"mode: kind {'guessed' if args.guess_kind else 'given'}, one pass, {order}")
    print()
    print(f"{'kind':<14} {'values':>8} {'rejected':>8} {'values/s':>10} {'µs/value':>9}")
    for kind in KINDS:
        seconds = per_kind_ns.get(kind, 0) / 1e9
        n = counts[kind]
        rate = n / seconds if seconds else float("nan")
        print(f"{kind:<14} {n:>8,} {rejects[kind]:>8,} {rate:>10,.0f} {1e6 / rate:>9.1f}")
    print()
    print(
        f"overall: {overall:,.0f} values/s ({len(items):,} values in {elapsed:.2f} s); "
        f"target >= {TARGET_VALUES_PER_SECOND:,}: "
        f"{'MET' if overall >= TARGET_VALUES_PER_SECOND else 'MISSED'}"
    )
    print()
    print("baselines (same values, same run; each kind alone in a tight loop):")
    for kind, label, base_s, ours_s in baselines:
        n = counts[kind]
        mixed = n / (per_kind_ns[kind] / 1e9)
        print(
            f"  {kind:<5} {label:<41} {n / base_s:>9,.0f} values/s | scamwall {n / ours_s:>7,.0f} "
            f"values/s alone, {mixed:>7,.0f} in the pass above | scamwall = "
            f"{base_s / ours_s:.2f}x baseline alone, {base_s / (n / mixed):.2f}x in the pass"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
