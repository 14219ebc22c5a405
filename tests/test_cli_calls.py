"""Call commands: synthetic traffic, screening CDRs, detections stored as sightings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import get_type_hints

import polars as pl
import pytest

from scamwall.cli.calls import calls_generate
from scamwall.errors import InvalidInput
from scamwall.screening.calls.detectors import call_thresholds
from scamwall.screening.calls.synthetic import HOME_COUNTRIES

Cli = Callable[..., tuple[int, str, str]]


def test_generate_screen_and_ingest(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "traffic"
    code, _, err = cli(
        "calls", "generate", "--out", str(folder), "--subscribers", "2000", "--seed", "3"
    )
    assert code == 0, err
    assert "planted fraud numbers" in err
    truth = pl.read_csv(folder / "truth.csv")
    cdrs = folder / "cdrs.csv"
    with cdrs.open("a", encoding="utf-8") as extra:  # a bad row: refused, the rest screened
        extra.write("not a number,+66811111111,2026-03-02T10:00:00Z,5,true,out,TH,,,\n")
    code, out, err = cli("screen", "calls", str(cdrs), "--victims", str(folder / "victims.txt"))
    assert code == 0, err
    assert "caller: not a phone number" in err
    flagged = [json.loads(line) for line in out.splitlines()]
    numbers = {f["number"] for f in flagged}
    assert set(truth["number"].to_list()) <= numbers
    first = flagged[0]
    assert set(first) == {"number", "score", "flags", "reasons", "window"}
    assert first["reasons"]

    assert cli("init")[0] == 0
    assert cli("agency", "add", "TH-NBTC", "--country", "TH", "--kind", "telecom_regulator")[0] == 0
    code, _, err = cli("screen", "calls", str(cdrs), "--ingest", "--agency", "TH-NBTC")
    assert code == 0, err
    assert "detections stored as sightings of TH-NBTC" in err
    code, _, err = cli("screen", "calls", str(cdrs), "--ingest", "--agency", "TH-NBTC")
    assert "0 detections stored" in err  # the same file twice stores nothing new
    number = truth["number"][0]
    code, out, _ = cli("reputation", "show", number, "--json")
    assert json.loads(out)["score"] > 0


def test_generated_traffic_is_recent_so_its_flags_reach_reputation_and_the_feed(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "traffic"
    code, _, err = cli("calls", "generate", "--out", str(folder), "--subscribers", "500")
    assert code == 0, err
    truth = pl.read_csv(folder / "truth.csv")
    dialer = truth.filter(pl.col("pattern") == "mass_dialing")["number"][0]
    assert cli("init")[0] == 0
    assert cli("agency", "add", "TH-NBTC", "--country", "TH", "--kind", "telecom_regulator")[0] == 0
    code, _, err = cli(
        "screen", "calls", str(folder / "cdrs.csv"), "--ingest", "--agency", "TH-NBTC"
    )
    assert code == 0, err
    code, out, err = cli("reputation", "show", dialer, "--json")
    assert code == 0, err
    assert json.loads(out)["score"] >= 0.5  # a fresh detection, not one decayed for months
    # one detection alone weighs at most trust x 0.8: over the feed's 0.7 with more trust
    monkeypatch.setenv("SCAMWALL_REPUTATION_AGENCY_TRUST", '{"TH-NBTC": 0.95}')
    code, out, err = cli("feeds", "publish", "--json")
    assert code == 0, err
    assert json.loads(out)["added"] >= 1
    _, out, _ = cli("export", "numbers", "--out", "-", "--no-publish")
    assert dialer in out


def test_generate_starts_where_asked_in_a_known_country(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli(
        "calls", "generate", "--out", str(tmp_path / "a"), "--subscribers", "100",
        "--days", "1", "--start", "2026-03-02", "--region", "MY",
    )  # fmt: skip
    assert code == 0, err
    starts = pl.read_csv(tmp_path / "a" / "cdrs.csv")["start"]
    assert starts.min() >= "2026-03-01T16:00:00Z"  # 2 March 00:00 in Kuala Lumpur (UTC+8)
    assert starts.max() < "2026-03-02T16:00:00Z"
    code, _, err = cli("calls", "generate", "--out", str(tmp_path / "b"), "--start", "yesterday")
    assert code != 0
    assert "--start" in err
    code, _, err = cli("calls", "generate", "--out", str(tmp_path / "c"), "--region", "CN")
    assert code != 0
    assert "'CN'; use one of TH, MY, PH, VN" in " ".join(err.split())
    region = get_type_hints(calls_generate, include_extras=True)["region"].__metadata__[0]
    assert f"{', '.join(HOME_COUNTRIES[:-1])} or {HOME_COUNTRIES[-1]}" in region.help


def test_screen_calls_needs_an_agency_to_ingest(cli: Cli, tmp_path: Path) -> None:
    cdrs = tmp_path / "c.csv"
    cdrs.write_text(
        "caller,callee,start,duration_s,answered,direction,origin_country\n", encoding="utf-8"
    )
    code, _, err = cli("screen", "calls", str(cdrs), "--ingest")
    assert code != 0
    assert "--agency" in err


def test_thresholds_are_settings(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert call_thresholds({"mass_dialing_min_calls": 150}).mass_dialing_min_calls == 150
    with pytest.raises(InvalidInput, match="unknown call thresholds: nonsense"):
        call_thresholds({"nonsense": 1})
    folder = tmp_path / "traffic"
    assert cli("calls", "generate", "--out", str(folder), "--subscribers", "1000")[0] == 0
    _, default_out, _ = cli("screen", "calls", str(folder / "cdrs.csv"))
    monkeypatch.setenv("SCAMWALL_CALLS_THRESHOLDS", '{"mass_dialing_min_calls": 100000}')
    _, strict_out, _ = cli("screen", "calls", str(folder / "cdrs.csv"))
    flags = [f for line in strict_out.splitlines() for f in json.loads(line)["flags"]]
    assert "mass_dialing" in default_out
    assert "mass_dialing" not in flags
