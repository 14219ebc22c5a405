"""The Spark engine gives what the local engine gives, on the same input (Spark in local mode)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

from scamwall.cli import main
from scamwall.errors import InvalidInput
from scamwall.indicators import IndicatorKind
from scamwall.reputation.allowlist import Allowlist
from scamwall.reputation.snapshot import Reputation, ReputationSnapshot
from scamwall.screening.calls.batch import CallScreening
from scamwall.screening.calls.cdr import read_cdrs
from scamwall.screening.calls.synthetic import generate_traffic, write_traffic
from scamwall.screening.configured import text_screener
from scamwall.screening.messages import read_messages
from scamwall.settings import Settings

pytest.importorskip("pyspark", reason="the Spark engine needs the spark extra")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java 17+ on the PATH", allow_module_level=True)

from scamwall.engines.spark import screen_calls, screen_texts, spark_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MASTER = "local[2]"
CONF = {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "4"}


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = spark_session(Settings(spark_master=MASTER, spark_conf=CONF))
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Synthetic CDRs with every pattern planted, as CSV and as Parquet, and a CSV made messy:
    Windows line ends, a blank line, bad rows in several places."""
    folder = tmp_path_factory.mktemp("traffic")
    generated = generate_traffic(
        subscribers=2_000, days=2, fraud_rate=0.03, seed=11, home_country="TH"
    )
    csv = write_traffic(generated, folder / "csv", form="csv")
    parquet = write_traffic(generated, folder / "parquet", form="parquet")
    lines = csv["records"].read_text(encoding="utf-8").splitlines()
    messy = [lines[0]]
    for number, line in enumerate(lines[1:], 1):
        messy.append(line)
        if number == 3:
            messy.append("")
        if number == 500:
            messy.append("garbage,,,")
        if number == len(lines) - 10:
            messy.append("+66811111111,+66822222222,yesterday,5,true,out,TH,,,")
    messy_path = folder / "messy.csv"
    messy_path.write_bytes("\r\n".join(messy).encode("utf-8") + b"\r\n")
    return {
        "csv": csv["records"],
        "parquet": parquet["records"],
        "messy": messy_path,
        "victims": csv["victims"],
        "truth": csv["truth"],
    }


def _screening(traffic: dict[str, Path]) -> CallScreening:
    victims = traffic["victims"].read_text(encoding="utf-8").split()
    truth = pl.read_csv(traffic["truth"])
    reported = truth["number"][0]
    return CallScreening("TH", victims=tuple(victims), reputation={reported: 0.8})


@pytest.mark.parametrize("form", ["messy", "parquet"])
def test_calls_flagged_and_refused_as_locally(
    spark: SparkSession, traffic: dict[str, Path], form: str
) -> None:
    screening = _screening(traffic)
    local = read_cdrs(traffic[form], region="TH")
    expected = screening.flag(local.records)

    found = screen_calls(spark, str(traffic[form]), screening, region="TH", partitions=3)

    assert found.calls == local.records.height
    assert found.rejected == local.rejected
    assert found.flagged.equals(expected)
    flags = {flag for row in found.flagged["flags"].to_list() for flag in row}
    assert {"simbox", "wangiri", "mass_dialing", "victim_contact", "reported"} <= flags
    if form == "messy":  # the blank line, the garbage and the bad time, at their file lines
        assert [r["line"] for r in found.rejected] == [5, 503, local.rejected[-1]["line"]]
        assert found.rejected[-1]["field"] == "start"


def test_broken_csv_rows_are_refused_alone_as_locally(
    spark: SparkSession, traffic: dict[str, Path], tmp_path: Path
) -> None:
    """A row with a field too many, a stray quote inside a value, a quote closed rows later
    and a quote never closed are refused on their own lines; the rest of the job goes on."""
    lines = traffic["csv"].read_text(encoding="utf-8").splitlines()[:400]
    lines[50] += ",extra"
    lines[120] = lines[120].replace("+66", '+6"6', 1)
    lines[200] = '"' + lines[200]  # a caller id that opens a quote, closed three rows later
    lines[203] = lines[203].replace(",", '",', 1)
    lines[300] = lines[300].replace("+66", '"+66', 1)
    path = tmp_path / "broken.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    screening = _screening(traffic)
    local = read_cdrs(path, region="TH")

    found = screen_calls(spark, str(path), screening, region="TH", partitions=2)

    assert [r["line"] for r in local.rejected] == [51, 121, 201, 204, 301]
    assert found.rejected == local.rejected
    assert found.calls == local.records.height == 394
    assert found.flagged.equals(screening.flag(local.records))


def test_handset_sharing_is_counted_across_partitions(spark: SparkSession, tmp_path: Path) -> None:
    """A SIM box's handset carries several numbers' SIMs: each number, wherever its records
    land, is told how many SIMs the handset held in all the records."""
    start = datetime(2026, 3, 2, 3, tzinfo=UTC)
    rows = [
        {
            "caller": f"+6681000000{slot}",
            "callee": f"+668200{slot}{n:04d}",
            "start": start.isoformat().replace("+00:00", "Z"),
            "duration_s": "30",
            "answered": "true",
            "direction": "out",
            "origin_country": "TH",
            "cell_id": "cell-1",
            "imsi": f"52001000000000{slot}",
            "imei": "35000000000001",
        }
        for slot in range(4)
        for n in range(3)
    ]
    path = tmp_path / "box.csv"
    pl.DataFrame(rows).write_csv(path)
    screening = CallScreening("TH")
    # one number a partition: sharing seen only within a partition would be 1
    found = screen_calls(spark, str(path), screening, region="TH", partitions=4)
    local = screening.flag(read_cdrs(path, region="TH").records)
    assert found.flagged.equals(local)
    assert found.calls == 12


def test_an_empty_cdr_file_is_refused(spark: SparkSession, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(InvalidInput, match="header"):
        screen_calls(spark, str(path), CallScreening("TH"), region="TH")


def _messages(tmp_path: Path, shared_data: Path) -> Path:
    """Real messages as plain lines, JSON lines and broken lines (bad UTF-8, bad JSON, a record
    without text, blank, CR LF, a lone CR inside a line, no newline at the end)."""
    lines: list[bytes] = []
    for name in ("en_uci_sms_spam", "th_sms_ssivakorn", "zh_telecom_fraud_5"):
        with (shared_data / "messages" / f"{name}.jsonl").open(encoding="utf-8") as source:
            for number, line in enumerate(islice(source, 300)):
                text = json.loads(line)["text"].replace("\n", " ").replace("\r", " ")
                if number % 2:
                    lines.append(text.encode("utf-8") + b"\r")
                else:
                    record = {"id": f"{name}-{number}", "text": text}
                    lines.append(json.dumps(record, ensure_ascii=False).encode("utf-8"))
    lines[5:5] = [
        b"",
        b"bad \xff\xfe bytes",
        b"{not json",
        b'{"id": "no-text"}',
        b"lone\rcarriage",
        b"\x00\x01binary",
    ]
    lines.append(b"call +66 81 234 5678 now to claim your prize")
    path = tmp_path / "messages.txt"
    path.write_bytes(b"\n".join(lines))  # the last line has no newline
    return path


def test_messages_screened_as_locally(
    spark: SparkSession, tmp_path: Path, shared_data: Path
) -> None:
    path = _messages(tmp_path, shared_data)
    screener = text_screener(Settings())
    reported = Reputation(IndicatorKind.PHONE, "+66812345678", 0.9, 2, 2)
    snapshot = ReputationSnapshot.of("test", [reported], Allowlist(()))
    with path.open("rb") as lines:
        expected = [
            json.dumps(verdict.as_dict(), ensure_ascii=False)
            for verdict in screener.screen(list(read_messages(lines)), snapshot)
        ]

    found = list(screen_texts(spark, str(path), screener, snapshot))

    assert found == expected
    verdicts = [json.loads(line) for line in found]
    errors = {r["error"] for v in verdicts for r in v["reasons"] if r["type"] == "error"}
    assert {"encoding", "empty", "input"} <= errors
    assert verdicts[-1]["verdict"] == "block"  # the reported number


def test_cli_engines_print_the_same(
    spark: SparkSession,
    traffic: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SCAMWALL_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    monkeypatch.setenv("SCAMWALL_SPARK_MASTER", MASTER)
    monkeypatch.setenv("SCAMWALL_SPARK_CONF", json.dumps(CONF))
    outputs = {}
    for engine in ("local", "spark"):
        args = ["screen", "calls", str(traffic["messy"]), "--victims", str(traffic["victims"])]
        assert main([*args, "--engine", engine]) == 0
        captured = capsys.readouterr()
        assert f"({engine} engine)" in " ".join(captured.err.split())
        outputs[engine] = captured.out
    assert outputs["spark"] == outputs["local"]
    assert outputs["local"].count("\n") > 10

    assert main(["screen", "text", str(tmp_path / "absent.txt"), "--engine", "spark"]) != 0
    assert "no file" in capsys.readouterr().err
