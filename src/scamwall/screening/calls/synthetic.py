"""Synthetic call-detail records with planted fraud and the ground truth of what was planted.

Every record made here is invented: the numbers, SIMs, handsets and cells are drawn at random
and describe no real person. The traffic exists to test and measure call detectors on a
population whose answer is known, at any size, the same for the same seed.

The records are one home operator's view of its network over ``days`` days, one record per
call: ``out`` when a line of the operator places it (a subscriber's SIM or a business's fixed
line), ``in`` when it arrives from another network (a domestic operator or an international
trunk) for a subscriber. A call between two of the operator's subscribers is the caller's
``out`` record only, so the calls a subscriber gets from on-net contacts are those contacts'
records. ``cell_id``, ``imsi`` and ``imei`` are the calling SIM's, known only on ``out``
records placed by a SIM.

Assumptions behind the population (a model, not measurements of any network):

* **Subscribers** have mobile numbers of the home country (Thailand: ``+66`` then nine digits
  starting with 6, 8 or 9), one stable IMSI (the home MCC, 520 for Thailand) and IMEI each,
  and a home and a work cell. Each makes 2 to 15 calls a day (log-normal, median 5, so a few
  heavy callers) over the local day (UTC+7 for Thailand): few calls from midnight to 6, peaks
  late in the morning and in the evening. Each keeps a circle of 5 to 40 contacts (about two
  thirds on the same network, the rest on other domestic networks, 3% abroad) that gets 90%
  of their calls, the first few contacts most; the other calls go to strangers and
  businesses. Contacts on other networks and abroad call back as ``in`` records (from abroad
  with the foreign country as origin). 70-85% of calls are answered; an answered call lasts a
  log-normal time with a median of 75 s.
* **Reported victims** are 0.5% of the subscribers (at least three).
* **Businesses** that call many strangers legitimately are hard negatives, left out of the
  truth: taxi and delivery phones (40-120 calls a day, 90% answered, median 60 s, 7 to 22 h,
  moving between cells) and call centres on fixed lines (150-400 calls a day, 80% answered, median
  150 s, office hours). One business per thousand subscribers, at least two.
* **Planted fraud numbers** are ``fraud_rate`` of the numbers that place calls (subscribers
  and planted numbers; at least one of each pattern, and two SIMs for the SIM box), split 20%
  mass dialing, 15% wangiri, 25% SIM box, 15% spoofed caller id, 25% victim contact:

  - ``mass_dialing``: the operator's SIMs in a scam call centre, each in one cell, placing
    150-400 calls a day to random domestic numbers, 20% answered, median 12 s, busiest from
    8 to 20 h but dialling through the night too;
  - ``wangiri``: premium-looking foreign numbers (Latvia, Somalia, Papua New Guinea, and the
    international networks +881/+882 through a transit carrier's trunk) ringing 60-200
    subscribers a day once: ``in``, foreign origin, never answered, 0 s, any hour;
  - ``simbox``: boxes of 2-8 of the operator's SIMs in one cell that terminate international
    calls as local ones: ``out``, home origin, 30-120 calls a day each to random domestic
    numbers, 60% answered, median 45 s. A box has a radio module for every four SIMs or part
    of four, and a call leaves through any module of the box, so an IMEI carries several
    IMSIs and, in boxes of more than four, a SIM moves between IMEIs;
  - ``spoofed_caller_id``: domestic-looking caller numbers presented on calls from a foreign
    trunk (scam compounds in neighbouring countries): ``in``, foreign origin, 50-150 calls a
    day to subscribers in office hours, 45% answered;
  - ``victim_contact``: prepaid SIMs calling three to eight reported victims one to three
    times each (60% answered, median 120 s) and 3-12 strangers a day.

With the defaults planted fraud places about 15% of the calls (a planted number calls over
ten times as often as a subscriber); ``fraud_rate=0.001`` brings that to about 2%. Whole
populations are drawn at once with NumPy and each text value is made once and gathered with
Polars, so ten million records take seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from scamwall.errors import UsageError
from scamwall.screening.calls.cdr import CDR_SCHEMA

__all__ = [
    "FRAUD_PATTERNS",
    "HOME_COUNTRIES",
    "SyntheticTraffic",
    "generate_traffic",
    "recent_start",
    "write_traffic",
]

log = logging.getLogger(__name__)

Array = np.ndarray
Generator = np.random.Generator

#: The planted patterns, as the ``pattern`` column of the truth names them.
FRAUD_PATTERNS = ("mass_dialing", "wangiri", "simbox", "spoofed_caller_id", "victim_contact")
_PATTERN_SHARE = (0.20, 0.15, 0.25, 0.15, 0.25)


@dataclass(frozen=True)
class _NumberRange:
    """National numbers ``low <= n < high`` after a country calling code, whose calls reach
    the home network from ``origin`` (the country of the trunk)."""

    origin: str
    code: str
    low: int
    high: int


@dataclass(frozen=True)
class _HomeCountry:
    """A home operator's country: calling code, local time, MCC+MNC, mobile and fixed-line
    ranges (national numbers, end excluded)."""

    iso2: str
    code: str
    utc_offset_h: int
    mcc_mnc: str
    mobile_spans: tuple[tuple[int, int], ...]
    fixed_span: tuple[int, int]

    @property
    def mobile(self) -> tuple[_NumberRange, ...]:
        return tuple(_NumberRange(self.iso2, self.code, *span) for span in self.mobile_spans)

    @property
    def fixed(self) -> _NumberRange:
        return _NumberRange(self.iso2, self.code, *self.fixed_span)


# Countries whose numbering the generator knows; call centres sit on the capital's fixed lines.
_HOME_COUNTRIES = {
    home.iso2: home
    for home in (
        _HomeCountry("TH", "66", 7, "52003", ((6 * 10**8, 7 * 10**8), (8 * 10**8, 10**9)),
                     (2 * 10**7, 3 * 10**7)),
        _HomeCountry("MY", "60", 8, "50212", ((12 * 10**7, 2 * 10**8),), (3 * 10**8, 4 * 10**8)),
        _HomeCountry("PH", "63", 8, "51502", ((9 * 10**9, 10**10),), (28 * 10**7, 29 * 10**7)),
        _HomeCountry("VN", "84", 7, "45204", ((3 * 10**8, 4 * 10**8), (7 * 10**8, 10**9)),
                     (24 * 10**8, 25 * 10**8)),
    )
}  # fmt: skip
#: The home countries whose numbering plans the generator knows (``home_country``).
HOME_COUNTRIES = tuple(_HOME_COUNTRIES)

# Where subscribers' relatives and friends abroad live: neighbours, migrant workers' home
# countries and common destinations.
_ABROAD = (
    _NumberRange("MM", "95", 900_000_000, 1_000_000_000),
    _NumberRange("KH", "855", 12_000_000, 100_000_000),
    _NumberRange("LA", "856", 2_020_000_000, 2_100_000_000),
    _NumberRange("CN", "86", 13_000_000_000, 20_000_000_000),
    _NumberRange("SG", "65", 80_000_000, 100_000_000),
    _NumberRange("JP", "81", 9_000_000_000, 9_100_000_000),
    _NumberRange("US", "1", 2_012_000_000, 9_899_000_000),
    _NumberRange("GB", "44", 7_400_000_000, 8_000_000_000),
    _NumberRange("TH", "66", 800_000_000, 1_000_000_000),
    _NumberRange("MY", "60", 120_000_000, 200_000_000),
)
# Premium-looking ranges of one-ring callers.
_WANGIRI = (
    _NumberRange("LV", "371", 20_000_000, 30_000_000),
    _NumberRange("SO", "252", 610_000_000, 620_000_000),
    _NumberRange("PG", "675", 70_000_000, 80_000_000),
    _NumberRange("GB", "881", 600_000_000, 700_000_000),
    _NumberRange("NL", "882", 1_600_000_000, 1_700_000_000),
)
# Trunks that carry calls presenting a spoofed domestic number.
_SPOOF_TRUNKS = ("KH", "MM", "LA", "PH", "MY")

# Relative call volume in each local hour, from 0 h.
_HOURS = np.arange(24)
_PEOPLE_HOURS = np.array(
    [0.4, 0.25, 0.15, 0.1, 0.15, 0.4, 1.2, 2.5, 4.0, 5.5, 6.5, 7.0,
     6.0, 5.0, 5.0, 5.2, 5.8, 6.5, 7.2, 7.5, 6.8, 5.0, 3.0, 1.3]
)  # fmt: skip
_OFFICE_HOURS = np.where((_HOURS >= 8) & (_HOURS < 18), 1.0, 0.02)
_DRIVING_HOURS = np.where((_HOURS >= 7) & (_HOURS < 22), 1.0, 0.05)
_CALL_CENTRE_HOURS = np.where((_HOURS >= 8) & (_HOURS < 20), 1.0, 0.3)
_ROUND_THE_CLOCK = np.where((_HOURS >= 2) & (_HOURS < 6), 0.6, 1.0)


@dataclass
class SyntheticTraffic:
    """Invented CDRs and the truth about them.

    ``records`` follow :data:`~scamwall.screening.calls.cdr.CDR_SCHEMA`, sorted by ``start``.
    ``truth`` has one row per planted fraud number (``number``, ``pattern``); ordinary
    subscribers and businesses are absent. ``victims`` are the reported victims' numbers,
    which the ``victim_contact`` numbers call.
    """

    records: pl.DataFrame
    truth: pl.DataFrame
    victims: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Clock:
    """The window of the traffic: its first instant, that instant's local hour, its length."""

    start_us: int
    first_local_hour: int
    hours: int

    def times(self, rng: Generator, count: int, profile: Array) -> Array:
        """``count`` call starts (µs since the epoch, whole seconds) along a local profile."""
        weights = profile[(self.first_local_hour + np.arange(self.hours)) % 24]
        cdf = np.cumsum(weights)
        hour = np.searchsorted(cdf / cdf[-1], rng.random(count), side="right")
        seconds = hour * 3600 + rng.integers(0, 3600, count)
        return self.start_us + seconds * 1_000_000


@dataclass(frozen=True)
class _Behaviour:
    """How a kind of number calls: daily volume, hours, whom it reaches and how calls go."""

    per_day: tuple[float, float]
    hours: Array
    answer_rate: float
    median_s: float  # of an answered call
    sigma: float = 0.8
    incoming: bool = False  # arrives over another network's trunk, so only reaches subscribers
    cell: Literal["usual", "moving", "box", "none"] = "usual"


_BEHAVIOURS = {
    "taxi": _Behaviour((40, 120), _DRIVING_HOURS, 0.9, 60.0, 0.6, cell="moving"),
    "call_centre": _Behaviour((150, 400), _OFFICE_HOURS, 0.8, 150.0, cell="none"),
    "mass_dialing": _Behaviour((150, 400), _CALL_CENTRE_HOURS, 0.2, 12.0, 0.9),
    # never answered: the duration drawn is not used
    "wangiri": _Behaviour((60, 200), _ROUND_THE_CLOCK, 0.0, 1.0, incoming=True, cell="none"),
    "simbox": _Behaviour((30, 120), _PEOPLE_HOURS, 0.6, 45.0, cell="box"),
    "spoofed_caller_id": _Behaviour(
        (50, 150), _OFFICE_HOURS, 0.45, 50.0, 1.2, incoming=True, cell="none"
    ),
    "victim_contact": _Behaviour((3, 12), _PEOPLE_HOURS, 0.45, 40.0, 1.0),
}


@dataclass
class _Calls:
    """Calls as indexes of numbers, countries, cells and handsets (-1 for none)."""

    caller: Array
    callee: Array
    start_us: Array
    answered: Array
    duration_s: Array
    outgoing: Array
    origin: Array
    cell: Array
    imei: Array


@dataclass
class _World:
    """The population, by number id, and the text of every number, SIM, handset and cell.

    Ids run: subscribers, other domestic networks' subscribers (as many), contacts abroad,
    then the other populations of ``ids``.
    """

    clock: _Clock
    days: int
    subscribers: int
    ids: dict[str, Array]
    numbers: pl.Series
    countries: list[str]
    country: Array
    imsi_of: Array
    imei_of: Array
    cell_of: Array
    victims: Array
    box_of: Array
    box_cell: Array
    module_base: Array
    modules: Array
    imsis: pl.Series
    imeis: pl.Series
    cells: pl.Series

    @property
    def domestic(self) -> int:
        """Ids below this are domestic mobile subscribers, of this network or another."""
        return 2 * self.subscribers

    @property
    def calls_back(self) -> int:
        """Ids from ``subscribers`` up to this are people on other networks who call in."""
        return self.domestic + len(self.ids["abroad"])


def _fraud_counts(subscribers: int, fraud_rate: float) -> dict[str, int]:
    """Planted numbers per pattern: ``fraud_rate`` of all callers, at least one each."""
    if fraud_rate == 0:
        return dict.fromkeys(FRAUD_PATTERNS, 0)
    total = round(subscribers * fraud_rate / (1 - fraud_rate))
    exact = np.array(_PATTERN_SHARE) * total
    counts = np.floor(exact).astype(np.int64)
    # largest remainders first, so that the split adds up to the total
    for i in np.argsort(counts - exact, kind="stable")[: total - int(counts.sum())]:
        counts[i] += 1
    result = {p: max(1, int(c)) for p, c in zip(FRAUD_PATTERNS, counts, strict=True)}
    result["simbox"] = max(2, result["simbox"])  # a SIM box holds several SIMs
    return result


def _durations(rng: Generator, answered: Array, median_s: float, sigma: float) -> Array:
    """Whole seconds, log-normal about ``median_s`` when answered, 0 otherwise."""
    talk = np.rint(rng.lognormal(np.log(median_s), sigma, len(answered))).clip(1, 4 * 3600)
    return np.where(answered, talk, 0.0)


def _imeis(rng: Generator, count: int) -> pl.Series:
    """``count`` distinct IMEIs: an eight-digit type code, a serial and a Luhn check digit."""
    models = 35_000_000 + rng.choice(1_000_000, size=64, replace=False)
    drawn = rng.choice(64 * 1_000_000, size=count, replace=False)
    body = models[drawn // 1_000_000] * 1_000_000 + drawn % 1_000_000
    total = np.zeros(count, dtype=np.int64)
    for position in range(14):  # counted from the right; the check digit's neighbour is doubled
        digit = body // 10**position % 10
        total += digit * 2 // 10 + digit * 2 % 10 if position % 2 == 0 else digit
    return pl.Series(body * 10 + (10 - total % 10) % 10).cast(pl.String)


def _random_numbers(
    rng: Generator, ranges: Sequence[_NumberRange], count: int
) -> tuple[Array, Array]:
    """``count`` numbers in ranges picked at random: the range of each, its national number."""
    pick = rng.integers(0, len(ranges), count)
    low = np.array([r.low for r in ranges])[pick]
    span = np.array([r.high - r.low for r in ranges])[pick]
    return pick, low + (rng.random(count) * span).astype(np.int64)


def _distinct_numbers(
    rng: Generator, ranges: Sequence[_NumberRange], count: int
) -> tuple[Array, Array]:
    """``count`` different numbers spread over ``ranges``: the range of each, its number."""
    spans = np.array([r.high - r.low for r in ranges])
    ends = np.cumsum(spans)
    drawn = rng.choice(int(ends[-1]), size=count, replace=False)
    pick = np.searchsorted(ends, drawn, side="right")
    return pick, np.array([r.low for r in ranges])[pick] + drawn - (ends - spans)[pick]


def _populate(
    rng: Generator,
    home: _HomeCountry,
    clock: _Clock,
    *,
    subscribers: int,
    days: int,
    fraud: dict[str, int],
) -> _World:
    """Draw every number of the traffic and what it carries: SIM, handset, usual cell."""
    abroad = tuple(r for r in _ABROAD if r.origin != home.iso2)
    wangiri = tuple(r for r in _WANGIRI if r.origin != home.iso2)
    trunks = [c for c in _SPOOF_TRUNKS if c != home.iso2]
    foreign = {r.origin for r in (*abroad, *wangiri)}.union(trunks) - {home.iso2}
    countries = [home.iso2, *sorted(foreign)]
    businesses = max(2, subscribers // 1000)
    # One draw for every home mobile number, so that no two populations share a number.
    mobile_counts = {
        "subscriber": subscribers,
        "off_net": subscribers,
        "taxi": businesses - businesses // 2,
        **{p: fraud[p] for p in FRAUD_PATTERNS if p != "wangiri"},
    }
    pick, national = _distinct_numbers(rng, home.mobile, sum(mobile_counts.values()))
    firsts = np.cumsum([0, *mobile_counts.values()])[:-1].tolist()
    cut = dict(zip(mobile_counts, firsts, strict=True))
    populations = {
        name: (home.mobile, pick[cut[name] : cut[name] + n], national[cut[name] : cut[name] + n])
        for name, n in mobile_counts.items()
    }
    populations["abroad"] = (abroad, *_random_numbers(rng, abroad, max(20, subscribers // 25)))
    fixed = (home.fixed,)
    populations["call_centre"] = (fixed, *_random_numbers(rng, fixed, businesses // 2))
    populations["wangiri"] = (wangiri, *_random_numbers(rng, wangiri, fraud["wangiri"]))
    order = ("subscriber", "off_net", "abroad", "taxi", "call_centre", *FRAUD_PATTERNS)
    ids: dict[str, Array] = {}
    texts: list[pl.Series] = []
    country_parts: list[Array] = []
    count = 0
    for name in order:
        ranges, picked, numbers = populations[name]
        codes = pl.Series([f"+{r.code}" for r in ranges]).gather(picked)
        texts.append(codes + pl.Series(numbers, dtype=pl.Int64).cast(pl.String))
        country_parts.append(np.array([countries.index(r.origin) for r in ranges])[picked])
        ids[name] = np.arange(count, count + len(picked))
        count += len(picked)
    country = np.concatenate(country_parts).astype(np.int16)
    spoofed = ids["spoofed_caller_id"]
    trunk_index = np.array([countries.index(c) for c in trunks])
    country[spoofed] = trunk_index[rng.integers(0, len(trunks), len(spoofed))]

    # SIMs of the home operator: an IMSI each, and a handset each except in SIM boxes, whose
    # radio modules (one per four SIMs) have IMEIs of their own.
    handsets = np.concatenate(
        [ids[n] for n in ("subscriber", "taxi", "mass_dialing", "victim_contact")]
    )
    sims = np.concatenate((handsets, ids["simbox"]))
    imsi_of = np.full(count, -1, dtype=np.int64)
    imsi_of[sims] = np.arange(len(sims))
    msin = rng.choice(10**10, size=len(sims), replace=False)
    imei_of = np.full(count, -1, dtype=np.int64)
    imei_of[handsets] = np.arange(len(handsets))
    boxes = -(-fraud["simbox"] // 8)
    box_of = np.full(count, -1, dtype=np.int64)
    box_of[ids["simbox"]] = np.arange(fraud["simbox"]) % boxes
    modules = -(-np.bincount(box_of[ids["simbox"]], minlength=boxes) // 4)
    cell_count = max(20, subscribers // 150)
    lac = pl.Series(1000 + np.arange(cell_count) // 50).cast(pl.String)
    ci = pl.Series(10_000 + rng.choice(90_000, cell_count, replace=False)).cast(pl.String)
    victims = rng.choice(subscribers, size=max(3, round(subscribers * 0.005)), replace=False)
    return _World(
        clock=clock,
        days=days,
        subscribers=subscribers,
        ids=ids,
        numbers=pl.concat(texts),
        countries=countries,
        country=country,
        imsi_of=imsi_of,
        imei_of=imei_of,
        cell_of=rng.integers(0, cell_count, count),
        victims=np.sort(victims),
        box_of=box_of,
        box_cell=rng.integers(0, cell_count, boxes),
        module_base=len(handsets) + np.cumsum(modules) - modules,
        modules=modules,
        imsis=pl.Series(int(home.mcc_mnc) * 10**10 + msin).cast(pl.String),
        imeis=_imeis(rng, len(handsets) + int(modules.sum())),
        cells=f"{home.mcc_mnc[:3]}-{home.mcc_mnc[3:]}-" + lac + "-" + ci,
    )


def _check(subscribers: int, days: int, fraud_rate: float, home_country: str) -> _HomeCountry:
    """The home country, once the arguments are known to make sense."""
    if subscribers < 50:
        raise UsageError(f"subscribers is {subscribers}; give at least 50", field="subscribers")
    if days < 1:
        raise UsageError(f"days is {days}; give at least 1", field="days")
    if not 0 <= fraud_rate < 1:
        raise UsageError(
            f"fraud_rate is {fraud_rate}; give a share from 0 up to (not including) 1",
            field="fraud_rate",
        )
    return _home_country(home_country)


def _home_country(code: str) -> _HomeCountry:
    """The home country of that ISO code, or an error naming the ones known."""
    home = _HOME_COUNTRIES.get(code.upper())
    if home is None:
        known = ", ".join(HOME_COUNTRIES)
        raise UsageError(
            f"the generator has no numbering plan for {code!r}; use one of {known}",
            field="home_country",
        )
    return home


def recent_start(days: int, home_country: str = "TH", *, now: datetime | None = None) -> date:
    """The day ``days`` days before today (``now``, aware; by the home country's clock):
    traffic of ``days`` days from it ends at the last local midnight, so what is flagged in it
    is current for reputation and the feeds."""
    if days < 1:
        raise UsageError(f"days is {days}; give at least 1", field="days")
    home = _home_country(home_country)
    moment = datetime.now(UTC) if now is None else now.astimezone(UTC)
    today = (moment + timedelta(hours=home.utc_offset_h)).date()
    return today - timedelta(days=days)


def generate_traffic(
    *,
    subscribers: int = 10_000,
    days: int = 2,
    fraud_rate: float = 0.01,
    seed: int = 0,
    home_country: str = "TH",
    start: datetime | date | None = None,
) -> SyntheticTraffic:
    """Invent ``days`` days of one operator's CDRs for ``subscribers`` subscribers, with
    planted fraud numbers and their truth; the same arguments give the same traffic.

    ``home_country`` is one of :data:`HOME_COUNTRIES` (TH, MY, PH, VN). ``start`` is an
    instant (UTC when naive) or a day (its local midnight in the home country); it defaults to
    2 March 2026, fixed so that tests and benchmarks see the same traffic on any day. Reports
    made from traffic that old have decayed: :func:`recent_start` gives the start that ends
    the traffic at the last local midnight.
    """
    home = _check(subscribers, days, fraud_rate, home_country)
    local = timedelta(hours=home.utc_offset_h)
    if start is None:
        start = date(2026, 3, 2)
    if not isinstance(start, datetime):  # a day: from its midnight in the home country
        start = datetime(start.year, start.month, start.day, tzinfo=UTC) - local
    elif start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    start_us = (start - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    clock = _Clock(start_us, (start.astimezone(UTC) + local).hour, days * 24)
    rng = np.random.default_rng(seed)
    fraud = _fraud_counts(subscribers, fraud_rate)
    world = _populate(rng, home, clock, subscribers=subscribers, days=days, fraud=fraud)
    blocks = [
        _subscriber_calls(rng, world),
        *(_dial(rng, world, name) for name in ("taxi", "call_centre", *FRAUD_PATTERNS)),
        _victim_calls(rng, world),
    ]
    records = _records(blocks, world)
    planted = np.concatenate([world.ids[p] for p in FRAUD_PATTERNS])
    truth = pl.DataFrame(
        {
            "number": world.numbers.gather(planted),
            "pattern": np.repeat(FRAUD_PATTERNS, [fraud[p] for p in FRAUD_PATTERNS]),
        },
        schema={"number": pl.String, "pattern": pl.String},
    ).unique(subset="number", keep="first", maintain_order=True)
    log.debug("invented %d CDRs with %d planted numbers", records.height, truth.height)
    return SyntheticTraffic(records, truth, world.numbers.gather(world.victims).to_list())


def _subscriber_calls(rng: Generator, world: _World) -> _Calls:
    """Subscribers calling their circles and a few strangers; people elsewhere calling back."""
    people = world.subscribers
    rate = np.clip(rng.lognormal(np.log(5.0), 0.6, people), 2, 15)
    subscriber = np.repeat(np.arange(people), rng.poisson(rate * world.days))
    count = len(subscriber)
    circle = np.clip(np.rint(rng.lognormal(np.log(15.0), 0.5, people)), 5, 40).astype(np.int64)
    owner = np.repeat(np.arange(people), circle)
    kind = rng.random(len(owner))
    abroad = world.ids["abroad"]
    members = np.select(
        [kind < 0.65, kind < 0.97],
        [rng.integers(0, people, len(owner)), rng.integers(people, world.domestic, len(owner))],
        abroad[rng.integers(0, len(abroad), len(owner))],
    )
    members = np.where(members == owner, (members + 1) % people, members)
    del owner, kind
    # u**2.5 leans towards the first ranks: a few close contacts get most of the calls
    rank = (circle[subscriber] * rng.random(count) ** 2.5).astype(np.int64)
    peer = members[(np.cumsum(circle) - circle)[subscriber] + rank]
    del members, rank
    stranger = np.flatnonzero(rng.random(count) < 0.1)
    business = np.concatenate((world.ids["taxi"], world.ids["call_centre"]))
    peer[stranger] = np.where(
        rng.random(len(stranger)) < 0.15,
        business[rng.integers(0, len(business), len(stranger))],
        rng.integers(0, world.domestic, len(stranger)),
    )
    peer = np.where(peer == subscriber, (peer + 1) % people, peer)
    calls_back = (peer >= people) & (peer < world.calls_back) & (rng.random(count) < 0.5)
    where = rng.random(count)  # mostly at home, else at work, sometimes anywhere
    cell = np.select(
        [where < 0.7, where < 0.9],
        [world.cell_of[subscriber], rng.integers(0, len(world.cells), people)[subscriber]],
        rng.integers(0, len(world.cells), count),
    )
    answered = rng.random(count) < rng.uniform(0.70, 0.85, people)[subscriber]
    return _Calls(
        caller=np.where(calls_back, peer, subscriber),
        callee=np.where(calls_back, subscriber, peer),
        start_us=world.clock.times(rng, count, _PEOPLE_HOURS),
        answered=answered,
        duration_s=_durations(rng, answered, 75.0, 1.0),
        outgoing=~calls_back,
        origin=np.where(calls_back, world.country[peer], 0),
        cell=np.where(calls_back, -1, cell),
        imei=np.where(calls_back, -1, world.imei_of[subscriber]),
    )


def _dial(rng: Generator, world: _World, name: str) -> _Calls:
    """Calls of the ``name`` population to random strangers, as its behaviour says."""
    behaviour = _BEHAVIOURS[name]
    ids = world.ids[name]
    volume = rng.uniform(*behaviour.per_day, len(ids)) * world.days
    caller = np.repeat(ids, rng.poisson(volume))
    count = len(caller)
    answered = rng.random(count) < behaviour.answer_rate
    imei = world.imei_of[caller]
    if behaviour.cell == "usual":
        cell = world.cell_of[caller]
    elif behaviour.cell == "moving":
        cell = rng.integers(0, len(world.cells), count)
    elif behaviour.cell == "box":  # from the box's cell, through any of its radio modules
        box = world.box_of[caller]
        cell = world.box_cell[box]
        imei = world.module_base[box] + (rng.random(count) * world.modules[box]).astype(np.int64)
    else:
        cell = np.full(count, -1)
    return _Calls(
        caller=caller,
        callee=rng.integers(0, world.subscribers if behaviour.incoming else world.domestic, count),
        start_us=world.clock.times(rng, count, behaviour.hours),
        answered=answered,
        duration_s=_durations(rng, answered, behaviour.median_s, behaviour.sigma),
        outgoing=np.full(count, not behaviour.incoming),
        origin=world.country[caller],
        cell=cell,
        imei=imei,
    )


def _victim_calls(rng: Generator, world: _World) -> _Calls:
    """``victim_contact`` SIMs calling people already defrauded, as recovery scams do."""
    ids = world.ids["victim_contact"]
    reached = np.minimum(len(world.victims), rng.integers(3, 9, len(ids)))
    # a draw per planted number, not per call: each reaches distinct victims
    victims = [rng.choice(world.victims, size=n, replace=False) for n in reached]
    callee = np.concatenate([np.empty(0, dtype=np.int64), *victims])
    repeats = rng.integers(1, 4, len(callee))
    caller = np.repeat(np.repeat(ids, reached), repeats)
    callee = np.repeat(callee, repeats)
    answered = rng.random(len(caller)) < 0.6
    return _Calls(
        caller=caller,
        callee=callee,
        start_us=world.clock.times(rng, len(caller), _PEOPLE_HOURS),
        answered=answered,
        duration_s=_durations(rng, answered, 120.0, 1.0),
        outgoing=np.full(len(caller), True),
        origin=world.country[caller],
        cell=world.cell_of[caller],
        imei=world.imei_of[caller],
    )


def _records(blocks: Sequence[_Calls], world: _World) -> pl.DataFrame:
    """The calls as CDRs in :data:`CDR_SCHEMA`, sorted by start: indexes turned into text."""

    def joined(column: str, dtype: type = np.int32) -> Array:
        return np.concatenate([getattr(block, column) for block in blocks], dtype=dtype)

    caller = joined("caller")
    outgoing = joined("outgoing", np.bool_)
    calls = pl.DataFrame(
        {
            "caller": caller,
            "callee": joined("callee"),
            "start_us": joined("start_us", np.int64),
            "duration_s": joined("duration_s", np.float64),
            "answered": joined("answered", np.bool_),
            "outgoing": outgoing,
            "origin": joined("origin", np.int16),
            "cell": joined("cell"),
            "imsi": np.where(outgoing, world.imsi_of[caller], -1),
            "imei": joined("imei"),
        }
    )
    # stable, so that calls starting in the same second keep the order they were made in
    calls = calls.sort("start_us", maintain_order=True).with_columns(
        pl.when(pl.col(c) >= 0).then(pl.col(c)).alias(c) for c in ("cell", "imsi", "imei")
    )
    start = pl.from_epoch(calls["start_us"], time_unit="us").dt.replace_time_zone("UTC")
    records = pl.DataFrame(
        {
            "caller": world.numbers.gather(calls["caller"]),
            "callee": world.numbers.gather(calls["callee"]),
            "start": start,
            "duration_s": calls["duration_s"],
            "answered": calls["answered"],
            "direction": pl.Series(["in", "out"]).gather(calls["outgoing"].cast(pl.UInt8)),
            "origin_country": pl.Series(world.countries).gather(calls["origin"]),
            "cell_id": world.cells.gather(calls["cell"]),
            "imsi": world.imsis.gather(calls["imsi"]),
            "imei": world.imeis.gather(calls["imei"]),
        }
    )
    return records.cast(pl.Schema(CDR_SCHEMA))


def write_traffic(
    traffic: SyntheticTraffic, directory: Path, *, form: str = "csv"
) -> dict[str, Path]:
    """Write the CDRs (``cdrs.csv`` or ``cdrs.parquet``), ``truth.csv`` and ``victims.txt``
    into ``directory``; returns their paths by name (``records``, ``truth``, ``victims``).

    The CSV has a header with the CDR columns, times in ISO 8601 UTC with ``Z`` and
    ``answered`` as ``true``/``false``: :func:`~scamwall.screening.calls.cdr.read_cdrs` reads
    the file back without a rejected row.
    """
    if form not in ("csv", "parquet"):
        raise UsageError(f"form is {form!r}; write 'csv' or 'parquet'", field="form")
    directory.mkdir(parents=True, exist_ok=True)
    records = directory / f"cdrs.{form}"
    if form == "csv":
        iso = pl.col("start").dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ")
        traffic.records.with_columns(iso).write_csv(records)
    else:
        traffic.records.write_parquet(records)
    truth = directory / "truth.csv"
    traffic.truth.write_csv(truth)
    victims = directory / "victims.txt"
    victims.write_text("".join(f"{number}\n" for number in traffic.victims), encoding="utf-8")
    return {"records": records, "truth": truth, "victims": victims}
