"""``scamwall ingest`` as an agency runs it: settings and options around a file of reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def mps(cli: Cli) -> Cli:
    """A database with CN-MPS, a Chinese agency, registered."""
    assert cli("init")[0] == 0
    assert cli("agency", "add", "CN-MPS", "--country", "CN", "--kind", "police")[0] == 0
    return cli


def _report(out: str) -> dict[str, object]:
    return json.loads(out.splitlines()[0])  # type: ignore[no-any-return]


def test_default_region_setting_yields_to_the_agency_country(
    mps: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCAMWALL_DEFAULT_REGION", "TH")
    source = tmp_path / "cn.csv"
    source.write_text(
        "value,observed_at\n021-5555-1234,2026-11-02\n13900139000,2026-11-02\n", encoding="utf-8"
    )
    code, out, _ = mps("ingest", str(source), "--agency", "CN-MPS", "--json")
    assert code == 0
    assert _report(out)["accepted"] == 2  # a Shanghai landline and a mobile, read as Chinese
    international = tmp_path / "e164.csv"
    international.write_text(
        "value,observed_at\n+86 21 5555 1234,2026-11-02\n+86 139 0013 9000,2026-11-02\n",
        encoding="utf-8",
    )
    _, out, _ = mps("ingest", str(international), "--agency", "CN-MPS", "--json")
    assert (_report(out)["accepted"], _report(out)["duplicates"]) == (0, 2)


def test_an_unknown_region_is_a_usage_error_naming_the_option(mps: Cli, tmp_path: Path) -> None:
    source = tmp_path / "cn.csv"
    source.write_text("value\n13900139000\n", encoding="utf-8")
    code, _, err = mps("ingest", str(source), "--agency", "CN-MPS", "--region", "XX")
    assert code == 2  # a usage error from the option's parser, before anything is read
    assert "--region" in err
    assert "'XX'" in err
    assert not list(tmp_path.glob("*.rejects.jsonl"))


def test_a_rejects_folder_that_cannot_be_created_is_a_usage_error_naming_the_option(
    mps: Cli, tmp_path: Path
) -> None:
    source = tmp_path / "cn.csv"
    source.write_text("value\n13900139000\n12\n", encoding="utf-8")
    (tmp_path / "plain-file").write_text("", encoding="utf-8")
    for folder in ("/proc/nope", str(tmp_path / "plain-file" / "rejects")):
        code, out, err = mps("ingest", str(source), "--agency", "CN-MPS", "--rejects", folder)
        assert code == 64
        assert err.startswith("error: --rejects: ")
        assert folder in err
        assert "Traceback" not in err
        assert out == ""
    _, out, _ = mps("stats", "--json")
    assert json.loads(out)["sightings"] == 0  # stopped before the file was read
