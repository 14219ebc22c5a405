"""Call behaviour features and the fraud patterns found in them, on hand-built CDRs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from scamwall.errors import InvalidInput
from scamwall.screening.calls.cdr import CDR_COLUMNS, CDR_SCHEMA
from scamwall.screening.calls.detectors import (
    CALL_PATTERNS,
    DETECTION_SCHEMA,
    CallThresholds,
    detect,
)
from scamwall.screening.calls.features import FEATURE_SCHEMA, number_features

# Local midnight of 2 March 2026 in Thailand (UTC+7): where the default windows start.
MIDNIGHT = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)
DAY = timedelta(days=1)

SUBSCRIBER = "+66811110001"
TAXI = "+6621230000"
MASS_DIALER = "+66822220001"
WANGIRI = "+37120001234"
SIMBOX = ("+66833330001", "+66833330002")
SPOOFED = "+66844440001"
VICTIM_CALLER = "+66855550001"
VICTIMS = [f"+6687000000{i}" for i in range(1, 6)]


def _local(hour: float, day: int = 0) -> datetime:
    """A time on the local (UTC+7) clock, ``day`` days after 2 March 2026."""
    return MIDNIGHT + day * DAY + timedelta(hours=hour)


def _call(
    caller: str,
    callee: str,
    start: datetime,
    duration_s: float = 60.0,
    *,
    answered: bool | None = None,
    direction: str = "out",
    origin_country: str = "TH",
    cell_id: str | None = None,
    imsi: str | None = None,
    imei: str | None = None,
) -> dict[str, Any]:
    return {
        "caller": caller,
        "callee": callee,
        "start": start,
        "duration_s": duration_s,
        "answered": duration_s > 0 if answered is None else answered,
        "direction": direction,
        "origin_country": origin_country,
        "cell_id": cell_id,
        "imsi": imsi,
        "imei": imei,
    }


def _frame(calls: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(calls, schema=pl.Schema(CDR_SCHEMA))


def _strangers(prefix: str, count: int) -> list[str]:
    """``count`` distinct domestic numbers no other helper uses."""
    return [f"+66{prefix}{i:06d}" for i in range(count)]


# -- one day of each kind of line ------------------------------------------------------------


def _ordinary_subscriber() -> list[dict[str, Any]]:
    """12 calls to 8 contacts (one abroad) in the day and evening, 9 answered, 60-90 s."""
    contacts = [*_strangers("91", 7), "+85512345678"]
    return [
        _call(
            SUBSCRIBER,
            contacts[i % 8],
            _local(8 + i),
            0.0 if i % 4 == 3 else 60.0 + 3 * i,
            cell_id=f"C{i % 2}",
            imsi="520030000000001",
            imei="350000000000001",
        )
        for i in range(12)
    ]


def _taxi_company() -> list[dict[str, Any]]:
    """120 calls to 110 customers from its desk in office hours, 90% answered, 1-3 min."""
    customers = _strangers("92", 110)
    return [
        _call(
            TAXI,
            customers[i % 110],
            _local(8 + i * 10 / 120),
            0.0 if i % 10 == 0 else 60.0 + i,
            cell_id="DESK",
            imsi="520030000000002",
            imei="350000000000002",
        )
        for i in range(120)
    ]


def _mass_dialer() -> list[dict[str, Any]]:
    """150 calls to 150 numbers, one in five answered, the answered ones 8 s."""
    return [
        _call(
            MASS_DIALER,
            callee,
            _local(8 + i * 12 / 150),
            8.0 if i % 5 == 0 else 0.0,
            cell_id="C9",
            imsi="520030000000003",
            imei="350000000000003",
        )
        for i, callee in enumerate(_strangers("93", 150))
    ]


def _wangiri() -> list[dict[str, Any]]:
    """A Latvian number ringing 120 subscribers once each over a foreign trunk."""
    return [
        _call(
            WANGIRI,
            callee,
            _local(i * 23 / 120),
            0.0,
            direction="in",
            origin_country="LV",
        )
        for i, callee in enumerate(_strangers("94", 120))
    ]


def _simbox() -> list[dict[str, Any]]:
    """Two SIMs in one box, one cell, one radio module: 40 calls each to distinct numbers,
    60% answered, 45 s."""
    callees = _strangers("95", 80)
    return [
        _call(
            SIMBOX[i % 2],
            callee,
            _local(7 + i * 14 / 80),
            45.0 if i % 5 < 3 else 0.0,
            cell_id="BOX-CELL",
            imsi=f"52003000000010{i % 2}",
            imei="350000000000100",
        )
        for i, callee in enumerate(callees)
    ]


def _spoofed() -> list[dict[str, Any]]:
    """A Thai number presented on 40 calls from a Cambodian trunk, 45% answered."""
    return [
        _call(
            SPOOFED,
            callee,
            _local(9 + i * 8 / 40),
            50.0 if i % 20 < 9 else 0.0,
            direction="in",
            origin_country="KH",
        )
        for i, callee in enumerate(_strangers("96", 40))
    ]


def _victim_caller() -> list[dict[str, Any]]:
    """A prepaid SIM calling four known victims and five strangers."""
    callees = [*VICTIMS[:4], *_strangers("97", 5)]
    return [
        _call(
            VICTIM_CALLER,
            callee,
            _local(10 + i),
            120.0,
            cell_id="C7",
            imsi="520030000000004",
            imei="350000000000004",
        )
        for i, callee in enumerate(callees)
    ]


LINES = {
    "ordinary": _ordinary_subscriber,
    "taxi": _taxi_company,
    "mass_dialing": _mass_dialer,
    "wangiri": _wangiri,
    "simbox": _simbox,
    "spoofed_caller_id": _spoofed,
    "victim_contact": _victim_caller,
}
FLAGGED = {
    "mass_dialing": [MASS_DIALER],
    "wangiri": [WANGIRI],
    "simbox": list(SIMBOX),
    "spoofed_caller_id": [SPOOFED],
    "victim_contact": [VICTIM_CALLER],
}


@pytest.fixture(scope="module")
def day_of_traffic() -> pl.DataFrame:
    """One day of every line above, in one frame."""
    return _frame([call for make in LINES.values() for call in make()])


@pytest.fixture(scope="module")
def flagged(day_of_traffic: pl.DataFrame) -> pl.DataFrame:
    return detect(number_features(day_of_traffic, victims=VICTIMS))


def _flags(result: pl.DataFrame) -> dict[str, list[str]]:
    return {row["number"]: row["flags"] for row in result.iter_rows(named=True)}


# -- features ----------------------------------------------------------------------------------


def test_features_of_a_tiny_example_are_counted_right() -> None:
    a, b = "+66810000001", "+66810000002"
    calls = [
        # 03:00 local, at night; answered, long
        _call(a, b, _local(3), 90.0, cell_id="C1", imsi="S1", imei="E1"),
        # answered but short
        _call(a, b, _local(10), 4.0, cell_id="C2", imsi="S1", imei="E1"),
        # abroad, unanswered; 21:00 local
        _call(a, "+85512345678", _local(21), 0.0, imsi="S1", imei="E1"),
        # another number's SIM in the same handset: E1 has carried two SIMs
        _call(b, a, _local(12), 30.0, cell_id="C1", imsi="S2", imei="E1"),
    ]
    features = number_features(_frame(calls), victims=[b]).sort("number")
    assert features.schema == pl.Schema(FEATURE_SCHEMA)
    first = features.row(0, named=True)
    assert first["number"] == a
    assert first["window_start"] == MIDNIGHT
    assert first["window_end"] == MIDNIGHT + DAY
    assert first["calls"] == 3
    assert first["distinct_callees"] == 2
    assert first["calls_per_hour"] == pytest.approx(3 / 18)  # from 03:00 to 21:00
    assert first["short_share"] == pytest.approx(2 / 3)
    assert first["answer_rate"] == pytest.approx(2 / 3)
    assert first["zero_duration_share"] == pytest.approx(1 / 3)
    assert first["night_share"] == pytest.approx(1 / 3)
    assert first["international_share"] == pytest.approx(1 / 3)
    assert first["foreign_origin_share"] == 0
    assert first["inbound_share"] == 0
    assert first["victim_contacts"] == 1
    assert first["victim_contacts_overall"] == 1
    assert first["cells"] == 2
    assert first["imsis_per_imei"] == 2
    assert first["imeis_per_imsi"] == 1
    assert first["domestic_caller"] is True
    second = features.row(1, named=True)
    assert (second["number"], second["calls"], second["calls_per_hour"]) == (b, 1, 1.0)
    assert second["imsis_per_imei"] == 2
    assert second["victim_contacts"] == 0


def test_night_is_on_the_local_clock_and_may_wrap_past_midnight() -> None:
    number = "+66810000001"
    # 23:00, 02:00, 05:30 and 12:00 local; in UTC they are 16:00, 19:00, 22:30 and 05:00
    calls = [_call(number, "+66810000002", _local(h)) for h in (23 - 24, 2, 5.5, 12)]
    records = _frame(calls)
    default = number_features(records).sort("window_start")
    assert default["night_share"].to_list() == [0.0, pytest.approx(2 / 3)]
    late = number_features(records, night_hours=(22, 5)).sort("window_start")
    assert late["night_share"].to_list() == [1.0, pytest.approx(1 / 3)]
    utc = number_features(records, utc_offset_hours=0).sort("window_start")
    assert utc["calls"].to_list() == [3, 1]  # one UTC day holds 16:00, 19:00 and 22:30
    assert utc["night_share"].to_list() == [0.0, 1.0]


def test_windows_split_at_local_midnight_and_at_any_length() -> None:
    number = "+66810000001"
    starts = [_local(-0.5), _local(0.25), _local(0.5), _local(23.9), _local(24.1)]
    records = _frame([_call(number, f"+6681000010{i}", s) for i, s in enumerate(starts)])
    daily = number_features(records).sort("window_start")
    assert daily["window_start"].to_list() == [MIDNIGHT - DAY, MIDNIGHT, MIDNIGHT + DAY]
    assert daily["window_end"].to_list() == [MIDNIGHT, MIDNIGHT + DAY, MIDNIGHT + 2 * DAY]
    assert daily["calls"].to_list() == [1, 3, 1]
    hourly = number_features(records, window=timedelta(hours=1)).sort("window_start")
    assert hourly["calls"].to_list() == [1, 2, 1, 1]
    assert hourly["window_start"][1] == MIDNIGHT


def test_international_and_foreign_origin_shares_read_direction_and_origin() -> None:
    number = "+66810000001"
    calls = [
        _call(number, "+66810000002", _local(9)),  # domestic
        _call(number, "+8613800138000", _local(10)),  # to China
        _call(number, "+66810000003", _local(11), direction="in", origin_country="MY"),
        _call(number, "+66810000004", _local(12), direction="in", origin_country="TH"),
    ]
    row = number_features(_frame(calls)).row(0, named=True)
    assert row["international_share"] == pytest.approx(2 / 4)
    assert row["foreign_origin_share"] == pytest.approx(1 / 4)
    assert row["inbound_share"] == pytest.approx(2 / 4)
    other_home = number_features(_frame(calls), home_country="MY").row(0, named=True)
    assert other_home["domestic_caller"] is False
    assert other_home["foreign_origin_share"] == pytest.approx(3 / 4)


def test_victims_are_counted_in_the_window_and_in_all_the_records() -> None:
    number = "+66810000001"
    calls = [
        _call(number, VICTIMS[0], _local(9)),
        _call(number, VICTIMS[0], _local(10)),
        _call(number, VICTIMS[1], _local(11)),
        _call(number, VICTIMS[2], _local(11, day=1)),
        _call(number, "+66810000009", _local(12, day=1)),
    ]
    features = number_features(_frame(calls), victims=VICTIMS).sort("window_start")
    assert features["victim_contacts"].to_list() == [2, 1]
    assert features["victim_contacts_overall"].to_list() == [3, 3]
    without = number_features(_frame(calls))
    assert without["victim_contacts"].to_list() == [0, 0]
    assert without["victim_contacts_overall"].to_list() == [0, 0]


def test_a_lazy_frame_without_optional_columns_is_read() -> None:
    calls = _frame(_ordinary_subscriber())
    eager = number_features(calls)
    lazy = number_features(calls.lazy().select(CDR_COLUMNS))
    assert lazy.drop("cells", "imsis_per_imei", "imeis_per_imsi").equals(
        eager.drop("cells", "imsis_per_imei", "imeis_per_imsi")
    )
    assert lazy.select("cells", "imsis_per_imei", "imeis_per_imsi").row(0) == (0, 0, 0)
    assert eager.select("cells", "imsis_per_imei", "imeis_per_imsi").row(0) == (2, 1, 1)


def test_missing_columns_and_bad_options_are_refused() -> None:
    calls = _frame(_ordinary_subscriber())
    with pytest.raises(InvalidInput, match="origin_country"):
        number_features(calls.drop("origin_country"))
    with pytest.raises(InvalidInput, match="home country"):
        number_features(calls, home_country="XX")
    with pytest.raises(InvalidInput, match="window"):
        number_features(calls, window=timedelta(0))
    with pytest.raises(InvalidInput, match="feature columns missing"):
        detect(calls)


def test_empty_input_gives_empty_results_with_the_right_columns() -> None:
    features = number_features(_frame([]), victims=VICTIMS)
    assert features.height == 0
    assert features.schema == pl.Schema(FEATURE_SCHEMA)
    result = detect(features, reputation={SUBSCRIBER: 0.9})
    assert result.height == 0
    assert result.schema == pl.Schema(DETECTION_SCHEMA)


# -- detectors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", list(FLAGGED))
def test_each_detector_fires_on_its_pattern_alone(flagged: pl.DataFrame, pattern: str) -> None:
    flags = _flags(flagged)
    for number in FLAGGED[pattern]:
        assert flags.get(number) == [pattern], number


@pytest.mark.parametrize("pattern", list(FLAGGED))
def test_each_pattern_is_found_on_its_own_traffic(pattern: str) -> None:
    alone = detect(number_features(_frame(LINES[pattern]()), victims=VICTIMS))
    assert sorted(alone["number"]) == sorted(FLAGGED[pattern])
    assert all(flags == [pattern] for flags in alone["flags"].to_list())


def test_ordinary_subscriber_and_busy_taxi_company_are_not_flagged(
    flagged: pl.DataFrame,
) -> None:
    assert SUBSCRIBER not in flagged["number"]
    assert TAXI not in flagged["number"]
    assert set(flagged["number"]) == {n for numbers in FLAGGED.values() for n in numbers}


def test_ordinary_subscriber_calling_two_victims_is_not_flagged() -> None:
    calls = _ordinary_subscriber()
    calls[0]["callee"], calls[1]["callee"] = VICTIMS[0], VICTIMS[1]
    assert detect(number_features(_frame(calls), victims=VICTIMS)).height == 0


def test_a_call_centre_reaching_victims_by_chance_is_not_flagged() -> None:
    calls = _taxi_company()
    for call, victim in zip(calls, VICTIMS[:3], strict=False):
        call["callee"] = victim
    features = number_features(_frame(calls), victims=VICTIMS)
    assert features["victim_contacts"].item() == 3
    assert detect(features).height == 0


def test_volume_patterns_take_the_place_of_mass_dialing() -> None:
    # 120 one-ring calls to 120 numbers would be mass dialing, but wangiri says more
    features = number_features(_frame(_wangiri()))
    general = CallThresholds(mass_dialing_min_calls=100, mass_dialing_min_callees=100)
    assert detect(features, general)["flags"].to_list() == [["wangiri"]]
    no_wangiri = CallThresholds(wangiri_min_callees=1000)
    assert detect(features, no_wangiri)["flags"].to_list() == [["mass_dialing"]]


def test_reasons_give_the_figures_behind_each_flag(flagged: pl.DataFrame) -> None:
    reasons = {row["number"]: row["reasons"] for row in flagged.iter_rows(named=True)}
    assert reasons[MASS_DIALER] == [
        "mass dialing: 150 calls in 24 h to 150 distinct numbers, 100% under 10 s, 20% answered"
    ]
    assert reasons[WANGIRI] == [
        "wangiri: 120 calls in 24 h from abroad (100% of foreign origin) to 120 distinct "
        "numbers, 100% lasting 0 s, 0% answered"
    ]
    assert reasons[SIMBOX[0]] == [
        "SIM box: 40 distinct numbers called in 24 h from 1 cell, its handset seen with 2 SIMs, "
        "its SIM in 1 handset, 40% of calls under 10 s"
    ]
    assert reasons[SPOOFED] == [
        f"spoofed caller id: home-country number {SPOOFED} on 40 calls in 24 h, 100% arriving "
        "from abroad, to 40 distinct numbers"
    ]
    assert reasons[VICTIM_CALLER] == [
        "victim contact: called 4 known victims in 24 h (44% of the 9 distinct numbers called), "
        "4 in all the records"
    ]


def test_reputation_adds_a_reported_flag_and_scores_combine_by_noisy_or(
    day_of_traffic: pl.DataFrame,
) -> None:
    features = number_features(day_of_traffic, victims=VICTIMS)
    alone = detect(features).filter(pl.col("number") == MASS_DIALER)["score"].item()
    result = detect(features, reputation={MASS_DIALER: 0.9, SUBSCRIBER: 0.8, TAXI: 0.5})
    rows = {row["number"]: row for row in result.iter_rows(named=True)}
    assert rows[MASS_DIALER]["flags"] == ["mass_dialing", "reported"]
    assert rows[MASS_DIALER]["score"] == pytest.approx(1 - (1 - alone) * (1 - 0.9))
    assert rows[MASS_DIALER]["reputation"] == 0.9
    assert rows[SUBSCRIBER]["flags"] == ["reported"]
    assert rows[SUBSCRIBER]["score"] == pytest.approx(0.8)
    assert rows[SUBSCRIBER]["reasons"] == ["reported: reputation 0.8 (flagged from 0.7)"]
    assert TAXI not in rows  # reputation below the threshold
    assert result["score"].is_sorted(descending=True)


def test_scores_grow_with_how_far_beyond_the_threshold(flagged: pl.DataFrame) -> None:
    scores = dict(zip(flagged["number"], flagged["score"], strict=True))
    assert all(0.6 <= score < 1 for score in scores.values())
    # 120 distinct numbers rung against a threshold of 30: 1 - 0.4 / 4
    assert scores[WANGIRI] == pytest.approx(0.9)
    assert set(flagged.select(pl.col("flags").explode().unique()).to_series()) <= set(CALL_PATTERNS)


def test_thresholds_decide_and_are_checked() -> None:
    features = number_features(_frame(_mass_dialer()))
    assert detect(features).height == 1
    assert detect(features, CallThresholds(mass_dialing_min_calls=151)).height == 0
    # short or rarely answered: either is enough
    assert detect(features, CallThresholds(mass_dialing_max_answer_rate=0.1)).height == 1
    # under 5 s, the answered calls (8 s) are not short: 80% short, 20% answered
    five = number_features(_frame(_mass_dialer()), short_call_s=5.0)
    assert detect(five, CallThresholds(mass_dialing_min_short_share=0.9)).height == 1
    strict = CallThresholds(mass_dialing_min_short_share=0.9, mass_dialing_max_answer_rate=0.1)
    assert detect(five, strict).height == 0
    with pytest.raises(InvalidInput, match="wangiri_max_answer_rate"):
        CallThresholds(wangiri_max_answer_rate=1.5)
    with pytest.raises(InvalidInput, match="simbox_max_cells"):
        CallThresholds(simbox_max_cells=-1)


def test_planted_fraud_of_the_synthetic_traffic_is_found() -> None:
    synthetic = pytest.importorskip("scamwall.screening.calls.synthetic")
    traffic = synthetic.generate_traffic(subscribers=2_000, days=2, fraud_rate=0.01, seed=3)
    result = detect(number_features(traffic.records, victims=traffic.victims))
    found = {(row["number"], flag) for row in result.iter_rows(named=True) for flag in row["flags"]}
    planted = set(traffic.truth.select("number", "pattern").iter_rows())
    assert found == planted
