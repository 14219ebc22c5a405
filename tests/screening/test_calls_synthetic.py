"""Synthetic CDR traffic: deterministic, in the CDR schema, with every planted pattern showing
its signature, ordinary subscribers looking ordinary, and files that read back whole."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest

from scamwall.errors import UsageError
from scamwall.screening.calls.cdr import CDR_SCHEMA, read_cdrs
from scamwall.screening.calls.synthetic import (
    FRAUD_PATTERNS,
    HOME_COUNTRIES,
    SyntheticTraffic,
    generate_traffic,
    recent_start,
    write_traffic,
)

DAYS = 2


@pytest.fixture(scope="module")
def traffic() -> SyntheticTraffic:
    return generate_traffic(subscribers=3000, days=DAYS, fraud_rate=0.02, seed=11)


def _planted(traffic: SyntheticTraffic, pattern: str) -> pl.DataFrame:
    """The records placed by the numbers planted with ``pattern``."""
    numbers = traffic.truth.filter(pl.col("pattern") == pattern)["number"]
    return traffic.records.filter(pl.col("caller").is_in(numbers.implode()))


def _ordinary(traffic: SyntheticTraffic) -> pl.DataFrame:
    """Calls placed by subscribers' SIMs that are not planted fraud."""
    return traffic.records.filter(
        ~pl.col("caller").is_in(traffic.truth["number"].implode()),
        pl.col("direction") == "out",
        pl.col("imsi").is_not_null(),
    )


def test_the_same_seed_gives_the_same_traffic() -> None:
    first = generate_traffic(subscribers=300, seed=5)
    again = generate_traffic(subscribers=300, seed=5)
    other = generate_traffic(subscribers=300, seed=6)
    assert first.records.equals(again.records)
    assert first.truth.equals(again.truth)
    assert first.victims == again.victims
    assert not first.records.equals(other.records)


def test_records_follow_the_cdr_schema_in_time_order(traffic: SyntheticTraffic) -> None:
    assert traffic.records.schema == pl.Schema(CDR_SCHEMA)
    assert traffic.records["start"].is_sorted()
    assert traffic.records.height > 3000 * DAYS * 2
    assert set(traffic.records["direction"].unique()) == {"in", "out"}
    first, last = traffic.records["start"].min(), traffic.records["start"].max()
    assert isinstance(first, datetime)
    assert isinstance(last, datetime)
    assert (last - first).days < DAYS


def test_default_window_starts_at_local_midnight() -> None:
    traffic = generate_traffic(subscribers=200, days=1)
    first = traffic.records["start"].min()
    assert isinstance(first, datetime)
    assert first >= datetime(2026, 3, 1, 17, tzinfo=UTC)  # 2 March 00:00 in Bangkok
    assert first < datetime(2026, 3, 1, 18, tzinfo=UTC)


def test_a_start_day_is_local_midnight_and_moves_the_same_traffic() -> None:
    default = generate_traffic(subscribers=200, days=1, seed=7)
    later = generate_traffic(subscribers=200, days=1, seed=7, start=date(2026, 11, 30))
    shift = datetime(2026, 11, 30) - datetime(2026, 3, 2)
    assert later.records.equals(default.records.with_columns(pl.col("start") + shift))
    instant = datetime(2026, 3, 2, 9, tzinfo=timezone(timedelta(hours=7)))
    first = generate_traffic(subscribers=200, days=1, start=instant).records["start"].min()
    assert instant <= first < instant + timedelta(hours=1)


def test_recent_start_ends_the_traffic_at_the_last_local_midnight() -> None:
    # 8 December 2026 at 01:30 in Bangkok, still the 7th in UTC
    now = datetime(2026, 12, 7, 18, 30, tzinfo=UTC)
    assert recent_start(2, "TH", now=now) == date(2026, 12, 6)
    assert recent_start(1, "VN", now=now) == date(2026, 12, 7)
    traffic = generate_traffic(subscribers=200, days=2, start=recent_start(2, "TH", now=now))
    last = traffic.records["start"].max()
    assert isinstance(last, datetime)
    assert datetime(2026, 12, 7, 12, tzinfo=UTC) < last < datetime(2026, 12, 7, 17, tzinfo=UTC)


def test_every_home_country_generates_traffic() -> None:
    assert HOME_COUNTRIES == ("TH", "MY", "PH", "VN")
    for country in HOME_COUNTRIES:
        traffic = generate_traffic(subscribers=50, days=1, home_country=country)
        assert set(traffic.records.filter(pl.col("direction") == "out")["origin_country"]) == {
            country
        }


def test_every_pattern_is_planted_once_per_number(traffic: SyntheticTraffic) -> None:
    truth = traffic.truth
    assert truth.schema == pl.Schema({"number": pl.String, "pattern": pl.String})
    assert set(truth["pattern"]) == set(FRAUD_PATTERNS)
    assert truth["number"].is_unique().all()
    # fraud_rate of everyone who places calls
    assert truth.height == pytest.approx(3000 * 0.02 / 0.98, abs=1)
    callers = set(traffic.records["caller"])
    assert set(truth["number"]) <= callers


def test_wangiri_rings_once_from_abroad(traffic: SyntheticTraffic) -> None:
    rows = _planted(traffic, "wangiri")
    assert rows.height > 0
    assert not rows["answered"].any()
    assert (rows["duration_s"] == 0).all()
    assert set(rows["direction"]) == {"in"}
    assert "TH" not in set(rows["origin_country"])
    assert not rows["caller"].str.starts_with("+66").any()
    per_number = rows.group_by("caller").agg(calls=pl.len(), callees=pl.col("callee").n_unique())
    assert (per_number["callees"] >= 0.9 * per_number["calls"]).all()


def test_simbox_sims_share_handsets_in_one_cell(traffic: SyntheticTraffic) -> None:
    rows = _planted(traffic, "simbox")
    assert set(rows["direction"]) == {"out"}
    assert set(rows["origin_country"]) == {"TH"}
    assert rows["caller"].str.starts_with("+66").all()
    per_sim = rows.group_by("caller").agg(pl.col("cell_id").n_unique(), pl.col("callee").n_unique())
    assert (per_sim["cell_id"] == 1).all()
    assert (per_sim["callee"] >= 40).all()
    per_imei = rows.group_by("imei").agg(pl.col("imsi").n_unique())
    assert (per_imei["imsi"] >= 2).all()
    per_imsi = rows.group_by("imsi").agg(pl.col("imei").n_unique())
    assert per_imsi["imei"].max() == 2  # SIMs of a large box move between its two modules
    # no ordinary handset carries more than one SIM
    ordinary = _ordinary(traffic).group_by("imei").agg(pl.col("imsi").n_unique())
    assert (ordinary["imsi"] == 1).all()


def test_spoofed_calls_present_domestic_numbers_over_foreign_trunks(
    traffic: SyntheticTraffic,
) -> None:
    rows = _planted(traffic, "spoofed_caller_id")
    assert set(rows["direction"]) == {"in"}
    assert rows["caller"].str.starts_with("+66").all()
    assert "TH" not in set(rows["origin_country"])
    per_number = rows.group_by("caller").agg(pl.col("callee").n_unique())
    assert (per_number["callee"] >= 60).all()
    # calls in from other domestic networks present +66 numbers too, but over a home trunk
    domestic_in = traffic.records.filter(
        pl.col("direction") == "in",
        pl.col("caller").str.starts_with("+66"),
        ~pl.col("caller").is_in(rows["caller"].implode()),
    )
    assert set(domestic_in["origin_country"]) == {"TH"}


def test_mass_dialers_reach_many_strangers_briefly(traffic: SyntheticTraffic) -> None:
    rows = _planted(traffic, "mass_dialing")
    per_number = rows.group_by("caller").agg(
        calls=pl.len(),
        callees=pl.col("callee").n_unique(),
        answer_rate=pl.col("answered").mean(),
        talk=pl.col("duration_s").filter(pl.col("answered")).median(),
    )
    assert (per_number["calls"] >= 100 * DAYS).all()
    assert (per_number["callees"] >= 0.9 * per_number["calls"]).all()
    assert (per_number["answer_rate"] < 0.4).all()
    assert (per_number["talk"] < 30).all()


def test_victim_contacts_call_several_victims(traffic: SyntheticTraffic) -> None:
    assert len(traffic.victims) == 15  # 0.5% of the subscribers
    assert not set(traffic.victims) & set(traffic.truth["number"])
    rows = _planted(traffic, "victim_contact")
    reached = (
        rows.filter(pl.col("callee").is_in(traffic.victims))
        .group_by("caller")
        .agg(pl.col("callee").n_unique())
    )
    assert reached.height == traffic.truth.filter(pl.col("pattern") == "victim_contact").height
    assert (reached["callee"] >= 2).all()


def test_ordinary_subscribers_call_by_day_more_than_by_night(traffic: SyntheticTraffic) -> None:
    local_hour = _ordinary(traffic)["start"].dt.convert_time_zone("Asia/Bangkok").dt.hour()
    night = (local_hour < 6).sum() / 6
    day = ((local_hour >= 9) & (local_hour < 21)).sum() / 12
    assert night < day / 4


def test_ordinary_subscribers_look_ordinary(traffic: SyntheticTraffic) -> None:
    rows = _ordinary(traffic).filter(pl.col("caller").str.contains(r"^\+66[689]"))
    per_number = rows.group_by("caller").agg(
        per_day=pl.len() / DAYS,
        answer_rate=pl.col("answered").mean(),
        callees=pl.col("callee").n_unique(),
    )
    assert 2 <= per_number["per_day"].median() <= 15  # type: ignore[operator]
    assert 0.65 <= rows["answered"].mean() <= 0.9  # type: ignore[operator]
    talk = rows.filter(pl.col("answered"))["duration_s"].median()
    assert 60 <= talk <= 90  # type: ignore[operator]
    assert (rows["origin_country"] == "TH").all()
    assert 0.9 < rows["callee"].str.starts_with("+66").mean() < 1  # type: ignore[operator]


def test_busy_businesses_are_hard_negatives(traffic: SyntheticTraffic) -> None:
    planted = traffic.truth["number"].implode()
    busy = (
        traffic.records.filter(pl.col("direction") == "out", ~pl.col("caller").is_in(planted))
        .group_by("caller")
        .agg(callees=pl.col("callee").n_unique(), answer_rate=pl.col("answered").mean())
        .filter(pl.col("callees") >= 60)
    )
    assert busy.height >= 2
    assert (busy["answer_rate"] >= 0.7).all()


def test_sims_and_handsets_have_well_formed_identities(traffic: SyntheticTraffic) -> None:
    imsis = traffic.records["imsi"].drop_nulls().unique()
    assert imsis.str.contains(r"^52003\d{10}$").all()
    imeis = traffic.records["imei"].drop_nulls().unique()
    assert imeis.str.contains(r"^\d{15}$").all()
    for imei in imeis.head(50):
        digits = [int(d) for d in imei]
        doubled = [sum(divmod(2 * d, 10)) for d in digits[1::2]]
        assert (sum(digits[0::2]) + sum(doubled)) % 10 == 0


def test_another_home_country_uses_its_own_numbering() -> None:
    traffic = generate_traffic(subscribers=200, home_country="MY", seed=3)
    out = traffic.records.filter(pl.col("direction") == "out")
    assert out["caller"].str.starts_with("+60").all()
    assert set(out["origin_country"]) == {"MY"}
    assert out["imsi"].drop_nulls().str.starts_with("502").all()


@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_written_traffic_reads_back_without_rejects(tmp_path: Path, form: str) -> None:
    traffic = generate_traffic(subscribers=300, seed=2)
    paths = write_traffic(traffic, tmp_path / "out", form=form)
    assert paths["records"].name == f"cdrs.{form}"
    batch = read_cdrs(paths["records"])
    assert batch.rejected == []
    assert batch.records.equals(traffic.records)
    assert pl.read_csv(paths["truth"]).equals(traffic.truth)
    assert paths["victims"].read_text(encoding="utf-8").split() == traffic.victims


def test_csv_times_are_iso_8601_utc(tmp_path: Path) -> None:
    traffic = generate_traffic(subscribers=100, days=1, seed=4)
    paths = write_traffic(traffic, tmp_path)
    raw = pl.read_csv(paths["records"], infer_schema=False)
    assert raw.columns == list(CDR_SCHEMA)
    assert raw["start"].str.contains(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").all()
    assert set(raw["answered"]) == {"true", "false"}


def test_no_fraud_rate_plants_nothing() -> None:
    traffic = generate_traffic(subscribers=300, fraud_rate=0)
    assert traffic.truth.is_empty()
    assert traffic.truth.columns == ["number", "pattern"]
    assert traffic.records.height > 0
    assert len(traffic.victims) == 3


@pytest.mark.parametrize(
    "arguments",
    [{"subscribers": 10}, {"days": 0}, {"fraud_rate": 1.0}, {"home_country": "XX"}],
)
def test_unusable_arguments_are_refused(arguments: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        generate_traffic(**arguments)  # type: ignore[arg-type]


def test_an_unknown_home_country_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(UsageError, match="no numbering plan for 'CN'; use one of TH, MY, PH, VN"):
        generate_traffic(home_country="CN")
    with pytest.raises(UsageError, match="'CN'"):
        recent_start(2, "CN")


def test_unknown_file_form_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="csv"):
        write_traffic(generate_traffic(subscribers=100), tmp_path, form="xml")
