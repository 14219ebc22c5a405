"""Call commands: synthetic traffic, screening CDRs, detections stored as sightings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from scamwall.errors import InvalidInput
from scamwall.screening.calls.detectors import call_thresholds

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
