"""The command line as scripts use it: exit codes, JSON lines on stdout, messages on stderr."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from contextlib import closing
from pathlib import Path

import pytest

from scamwall.demo import DEMO_AGENCIES, DEMO_FILES
from scamwall.indicators import indicator_id
from scamwall.store import Store
from scamwall.store.audit import AuditLog


def _lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_parse_prints_one_json_line_per_value_and_exits_0(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli(
        "parse", "081-234-5678", "hxxp://Scam[.]example/", "garbage!!", "--json", "--region", "TH"
    )
    assert code == 0
    first, second, third = _lines(out)
    assert first == {
        "input": "081-234-5678",
        "kind": "phone",
        "canonical": "+66812345678",
        "id": indicator_id("phone", "+66812345678"),
    }
    assert second["canonical"] == "http://scam.example/"
    assert set(third) == {"input", "error"}


def test_parse_with_kind(cli) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = cli("parse", "GB82 WEST 1234 5698 7654 33", "--kind", "bank_account", "--json")
    assert _lines(out) == [
        {
            "input": "GB82 WEST 1234 5698 7654 33",
            "error": "not a valid bank_account: IBAN checksum fails",
        }
    ]


def test_extract_reads_lines_and_reports_spans(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    messages = tmp_path / "sms.txt"
    messages.write_text("加微信 kefu_2026 或致电 138 0013 8000\nnothing here\n", encoding="utf-8")
    code, out, _ = cli("extract", str(messages), "--region", "CN", "--json")
    assert code == 0
    first, second = _lines(out)
    assert first["line"] == 1
    found = {(i["kind"], i["canonical"]): i["span"] for i in first["indicators"]}  # type: ignore[union-attr]
    assert found[("handle", "wechat:kefu_2026")] == [4, 13]
    assert found[("phone", "+8613800138000")] == [18, 31]
    assert second == {"line": 2, "indicators": []}


def test_init_agency_ingest_stats(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("init")[0] == 0
    code, _, err = cli("agency", "add", "th-ccib", "--country", "TH", "--kind", "police")
    assert code == 0
    assert "TH-CCIB" in err
    code, _, err = cli("agency", "add", "th-ccib", "--country", "TH", "--kind", "police")
    assert code == 73
    assert "exists already" in err

    source = tmp_path / "in.csv"
    source.write_text("value,tlp\n081-234-5678,green\n12,green\n", encoding="utf-8")
    code, out, _ = cli(
        "ingest", str(source), "--agency", "TH-CCIB", "--json", "--rejects", str(tmp_path)
    )
    assert code == 0
    report = _lines(out)[0]
    assert (report["accepted"], report["duplicates"], report["rejected"]) == (1, 0, 1)
    assert Path(str(report["reject_file"])).is_file()

    code, out, _ = cli("ingest", str(source), "--agency", "TH-CCIB")
    assert "accepted 0, duplicates 1, rejected 1" in out

    code, out, _ = cli("stats", "--json")
    assert _lines(out)[0]["indicators"] == {"phone": 1}


def test_errors_exit_with_their_code_and_say_what_to_do(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("agency", "list")
    assert code == 69
    assert "scamwall init" in err
    cli("init")
    code, _, err = cli("ingest", str(tmp_path / "x.csv"), "--agency", "NOPE")
    assert code == 66
    assert "scamwall agency add NOPE" in err
    code, _, err = cli("ingest", "--agency")
    assert code == 2  # a usage error from the parser


def test_bad_setting_names_the_variable(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SCAMWALL_DEFAULT_TLP", "purple")
    code, _, err = cli("stats")
    assert code == 78
    assert "SCAMWALL_DEFAULT_TLP" in err


def test_settings_lists_every_setting(cli) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = cli("settings", "--json")
    names = {row["variable"] for row in _lines(out)}
    assert "SCAMWALL_DATABASE_URL" in names


def test_demo_runs_twice_and_the_second_run_adds_nothing(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("demo")
    assert code == 0
    assert "Demo sample" in out
    code, _, _ = cli("stats", "--json")
    first = _lines(cli("stats", "--json")[1])[0]
    cli("demo")
    second = _lines(cli("stats", "--json")[1])[0]
    assert first == second
    assert first["agencies"] == 5
    assert int(first["sightings"]) > 20  # type: ignore[call-overload]


def test_demo_refuses_a_database_holding_other_agencies_and_changes_nothing(  # type: ignore[no-untyped-def]
    cli, database_url: str
) -> None:
    cli("init")
    cli("agency", "add", "VN-A05", "--country", "VN", "--kind", "police")
    cli("agency", "add", "KH-NPA", "--country", "KH", "--kind", "police")
    # a group of the same name as the demo's: its members must not grow
    cli("group", "add", "Mekong joint operation", "-m", "VN-A05", "-m", "KH-NPA")
    before = _lines(cli("stats", "--json")[1])[0]
    with closing(Store.open(database_url)) as store:
        entries = len(AuditLog(store).entries())

    code, out, err = cli("demo")

    assert code == 64
    assert "Demo sample" not in out
    assert "agency VN-A05" in err
    assert "SCAMWALL_DATABASE_URL" in err
    assert "new file" in err
    assert _lines(cli("stats", "--json")[1])[0] == before
    _, out, _ = cli("group", "list", "--json")
    assert [g["members"] for g in _lines(out)] == [["KH-NPA", "VN-A05"]]
    with closing(Store.open(database_url)) as store:
        assert len(AuditLog(store).entries()) == entries


def test_demo_refuses_a_database_holding_an_agency_with_a_demo_code_of_its_own(  # type: ignore[no-untyped-def]
    cli,
) -> None:
    cli("init")
    cli("agency", "add", "TH-CCIB", "--country", "TH", "--kind", "police")
    code, _, err = cli("demo")
    assert code == 64
    assert "agency TH-CCIB" in err
    assert _lines(cli("stats", "--json")[1])[0]["agencies"] == 1


def test_demo_refuses_an_earlier_versions_database_without_upgrading_it(  # type: ignore[no-untyped-def]
    cli, database_url: str
) -> None:
    from alembic import command

    from scamwall.store.database import _alembic_config, current_revision

    with closing(Store.open(database_url, require_schema=False)) as store:
        command.upgrade(_alembic_config(store.engine), "0001")
    code, out, err = cli("demo")
    assert code == 64
    assert "earlier version" in err
    assert "SCAMWALL_DATABASE_URL" in err
    assert "Demo sample" not in out
    with closing(Store.open(database_url, require_schema=False)) as store:
        assert current_revision(store.engine) == "0001"


def test_demo_puts_what_it_does_on_the_audit_trail_once(cli, database_url: str) -> None:  # type: ignore[no-untyped-def]
    assert cli("demo")[0] == 0
    with closing(Store.open(database_url)) as store:
        first = [(e.action, e.target, e.origin) for e in AuditLog(store).entries()]
    added = [target for action, target, _ in first if action == "agency_add"]
    assert sorted(added) == sorted(f"agency:{code}" for code, *_ in DEMO_AGENCIES)
    assert ("group_add", "group:Mekong joint operation", "demo") in first
    assert sum(action == "ingest" for action, _, _ in first) == len(DEMO_FILES)
    assert sum(action == "feeds_publish" for action, _, _ in first) == 1

    assert cli("demo")[0] == 0  # its own database: accepted, and nothing added again
    with closing(Store.open(database_url)) as store:
        second = [(e.action, e.target, e.origin) for e in AuditLog(store).entries()]
        assert not AuditLog(store).verify()
    assert second[: len(first)] == first
    assert [action for action, _, _ in second[len(first) :]] == ["feeds_publish"]


def test_demo_shows_what_was_rejected_and_why_and_keeps_one_set_of_reject_files(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path
) -> None:
    left_in_temp = set(Path(tempfile.gettempdir()).glob("scamwall-demo-rejects*"))
    for _ in range(2):
        code, out, _ = cli("demo")
        assert code == 0
        assert "Rejected rows (4)" in out
        assert re.search(r"line 16\s*│\s*value\s*│\s*not a valid bank_account: IBAN", out)
        assert re.search(r"line 13\s*│\s*confidence\s*│\s*must be a whole number", out)
    # where `scamwall ingest` writes them (SCAMWALL_REJECT_DIR: the current folder), named after
    # each file and its import, replaced
    written = sorted(tmp_path.glob("*.rejects.jsonl"))
    assert [re.sub(r"\.\d+\.", ".N.", p.name) for p in written] == [
        "cn-mps.ndjson.N.rejects.jsonl",
        "th-ccib.csv.N.rejects.jsonl",
    ]
    assert len(written[1].read_text("utf-8").splitlines()) == 2
    assert str(written[1]) in out
    assert set(Path(tempfile.gettempdir()).glob("scamwall-demo-rejects*")) == left_in_temp


def test_console_script_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scamwall", "parse", "t.me/Scam_Support", "--json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert json.loads(result.stdout)["canonical"] == "telegram:scam_support"
