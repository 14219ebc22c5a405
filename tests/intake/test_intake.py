"""Bulk intake end to end, on every backend: formats, rejects, re-runs, and a real SIGKILL."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from scamwall.errors import UsageError
from scamwall.exchange.policy import Caller, Role
from scamwall.exchange.reads import lookup
from scamwall.indicators import parse_indicator
from scamwall.intake import IntakeOptions, ingest_file, reject_path_for
from scamwall.intake.readers import MAX_LINE_BYTES
from scamwall.store import Agency, Store
from scamwall.store.access import Access
from scamwall.store.schema import imports
from scamwall.vocabulary import AgencyKind, Tlp

CSV_ROWS = """value,kind,observed_at,confidence,tlp,source_kind,note,extra
081-234-5678,,2026-11-02T09:15:00+07:00,90,green,victim_report,"fake parcel, paid",x
hxxps://kbank-refund[.]example/verify,,2026-11-02T10:00:00Z,95,clear,,smishing,
0812,phone,2026-11-02T10:00:00Z,50,green,,too short,
TN3W4H6rK2ce4vX9YnFQHwKENnHjoxb3m9,,2026-11-03T10:00:00,70,amber+strict,police_case,,
+66 92 555 0101,,not-a-date,50,,,,
+66 92 555 0101,,2026-11-03T10:00:00Z,500,,,,
+66 92 555 0102,,2026-11-03T10:00:00Z,50,purple,,,
+66 92 555 0103,,2026-11-03T10:00:00Z,50,,jokes,,
,,,,,,,
"multi
line",,2026-11-03T10:00:00Z,50,,,,
"""


@pytest.fixture
def agency(store: Store) -> Agency:
    return store.add_agency("TH-CCIB", name="CCIB", country="TH", kind=AgencyKind.POLICE)


def _rejects(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_csv_good_rows_go_in_and_bad_rows_are_explained(
    store: Store, agency: Agency, tmp_path: Path
) -> None:
    source = tmp_path / "reports.csv"
    source.write_text(CSV_ROWS, encoding="utf-8")
    report = ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path / "rej"))
    assert (report.accepted, report.duplicates, report.rejected) == (3, 0, 6)
    assert report.ignored_fields == {"extra"}
    rejects = {r["line"]: (r["field"], r["error"]) for r in _rejects(report.reject_path)}
    assert rejects[4][0] == "value"
    assert "wrong length" in str(rejects[4][1])
    assert rejects[6] == ("observed_at", rejects[6][1])
    assert "ISO 8601" in str(rejects[6][1])
    assert rejects[7][0] == "confidence"
    assert rejects[8][0] == "tlp"
    assert rejects[9][0] == "source_kind"
    assert rejects[11][0] == "value"  # the quoted two-line value starts on line 11
    assert 10 not in rejects  # a blank row is skipped, not rejected
    counts = store.counts()
    assert counts.indicators_by_kind == {"crypto_wallet": 1, "phone": 1, "url": 1}
    assert counts.sightings_by_tlp == {"amber+strict": 1, "clear": 1, "green": 1}


LEGAL_CSV = """value,observed_at,jurisdiction,legal_instrument,retain_until
+66 92 555 0001,2026-11-02T09:15:00+07:00,MM,MLA request 2026/114,2028-11-02T00:00:00+07:00
+66 92 555 0002,2026-11-02T09:15:00Z,th-10,Bangkok criminal court order 55/2569,
+66 92 555 0003,2026-11-02T09:15:00Z,,,
+66 92 555 0004,2026-11-02T09:15:00Z,TH,,
+66 92 555 0005,2026-11-02T09:15:00Z,,Computer Crime Act s.20,
+66 92 555 0006,2026-11-02T09:15:00Z,,,2028-01-01
+66 92 555 0007,2026-11-02T09:15:00Z,Thailand,Computer Crime Act s.20,
+66 92 555 0008,2026-11-02T09:15:00Z,TH,Computer Crime Act s.20,next year
+66 92 555 0009,2026-11-02T09:15:00Z,TH,Computer Crime Act s.20,2026-11-01T00:00:00Z
+66 92 555 0010,2026-11-02T09:15:00Z,ß,Computer Crime Act s.20,
+66 92 555 0011,2026-11-02T09:15:00Z,TH,{long},
+66 92 555 0012,2026-11-02T09:15:00Z,INT,"Interpol
notice",2027-01-01T00:00:00
""".replace("{long}", "x" * 501)


@pytest.mark.parametrize("parse_in_worker_from", [None, 0], ids=["inline", "worker"])
def test_rows_carry_a_legal_basis_whole_or_not_at_all(
    store: Store, agency: Agency, tmp_path: Path, parse_in_worker_from: int | None
) -> None:
    source = tmp_path / "legal.csv"
    source.write_text(LEGAL_CSV, encoding="utf-8")
    options = IntakeOptions(
        reject_dir=tmp_path, tlp=Tlp.GREEN, parse_in_worker_from=parse_in_worker_from
    )
    report = ingest_file(store, source, agency, options)
    assert (report.accepted, report.rejected) == (4, 8)
    assert report.ignored_fields == set()
    rejects = {r["line"]: (r["field"], r["error"]) for r in _rejects(report.reject_path)}
    assert rejects[5] == ("legal_instrument", "is required with jurisdiction")
    assert rejects[6] == ("jurisdiction", "is required with legal_instrument")
    assert rejects[7][0] == "retain_until"
    assert "needs jurisdiction and legal_instrument" in str(rejects[7][1])
    assert rejects[8][0] == "jurisdiction"
    assert "ISO 3166" in str(rejects[8][1])
    assert rejects[9][0] == "retain_until"
    assert "ISO 8601" in str(rejects[9][1])
    assert rejects[10] == ("retain_until", "2026-11-01T00:00:00Z is before observed_at")
    assert rejects[11][0] == "jurisdiction"  # not upper-cased into SS, a country
    assert rejects[12] == ("legal_instrument", "is longer than 500 characters")

    reader = Caller("th", Role.ANALYST, agency_id=agency.id)

    def basis(value: str) -> dict[str, object] | None:
        (seen,) = lookup(store, reader, parse_indicator(value, region="TH")).as_dict()["sightings"]
        return seen["legal_basis"]  # type: ignore[no-any-return]

    assert basis("+66925550001") == {
        "jurisdiction": "MM",
        "instrument": "MLA request 2026/114",
        "retain_until": "2028-11-01T17:00:00+00:00",
    }
    assert basis("+66925550002") == {
        "jurisdiction": "TH-10",
        "instrument": "Bangkok criminal court order 55/2569",
        "retain_until": None,
    }
    assert basis("+66925550003") is None
    assert basis("+66925550012") == {  # a naive time is UTC, as for observed_at
        "jurisdiction": "INT",
        "instrument": "Interpol\nnotice",
        "retain_until": "2027-01-01T00:00:00+00:00",
    }


def test_json_rows_name_the_legal_basis_like_csv_columns(
    store: Store, agency: Agency, tmp_path: Path
) -> None:
    source = tmp_path / "legal.ndjson"
    records = [
        {"value": "+66 92 555 0001", "jurisdiction": "EU", "legal_instrument": "Europol SIENA"},
        {"value": "+66 92 555 0002", "jurisdiction": ["TH"], "legal_instrument": "x"},
        {"value": "+66 92 555 0003", "jurisdiction": "TH", "legal_instrument": 20},
        {"value": "+66 92 555 0004", "jurisdiction": "TH", "legal_instrument": "\u0000"},
    ]
    source.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    report = ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path))
    assert (report.accepted, report.rejected) == (2, 2)
    fields = [r["field"] for r in _rejects(report.reject_path)]
    assert fields == ["jurisdiction", "legal_instrument"]


def test_rerunning_a_file_adds_nothing(store: Store, agency: Agency, tmp_path: Path) -> None:
    source = tmp_path / "reports.ndjson"
    source.write_text(
        "\n".join(
            json.dumps({"value": f"+66 81 000 {i:04d}", "note": "no time given"}) for i in range(50)
        ),
        encoding="utf-8",
    )
    options = IntakeOptions(reject_dir=tmp_path, batch_size=7)
    first = ingest_file(store, source, agency, options)
    time.sleep(0.01)  # "now" moves on; the records without a time must still map to the same facts
    second = ingest_file(store, source, agency, options)
    assert (first.accepted, first.duplicates) == (50, 0)
    assert (second.accepted, second.duplicates) == (0, 50)
    assert store.counts().sightings == 50


def test_json_array_and_ndjson_read_the_same_records(
    store: Store, agency: Agency, tmp_path: Path
) -> None:
    records = [
        {"value": "t.me/job_abroad_hr", "observed_at": "2026-11-06T10:00:00+08:00"},
        {"value": 66812345678, "kind": "phone", "observed_at": "2026-11-06T10:00:00+08:00"},
        {"value": "bet-lucky.example", "tlp": "TLP:AMBER", "confidence": "80"},
        ["not", "an", "object"],
        {"value": "x", "kind": "planet"},
    ]
    array = tmp_path / "a.json"
    array.write_text(json.dumps(records), encoding="utf-8")
    report = ingest_file(store, array, agency, IntakeOptions(reject_dir=tmp_path))
    assert (report.accepted, report.rejected) == (3, 2)
    rejects = _rejects(report.reject_path)
    # one line holds the whole array: a record is found by its position in it, not by a line
    assert [set(r) for r in rejects] == [{"position", "field", "error", "record"}] * 2
    reasons = {r["position"]: r for r in rejects}
    assert "expected a JSON object" in str(reasons[4]["error"])
    assert reasons[5]["field"] == "kind"

    lines = tmp_path / "a.ndjson"
    lines.write_text("\n".join(json.dumps(r) for r in records) + "\n{broken\n", encoding="utf-8")
    again = ingest_file(store, lines, agency, IntakeOptions(reject_dir=tmp_path))
    assert (again.accepted, again.duplicates, again.rejected) == (1, 2, 3)
    broken = [r for r in _rejects(again.reject_path) if r["line"] == 6]
    assert "not JSON" in str(broken[0]["error"])


def test_json_array_may_start_with_a_byte_order_mark(
    store: Store, agency: Agency, tmp_path: Path
) -> None:
    source = tmp_path / "bom.json"
    source.write_text('[{"value": "+66 81 000 0001"}, {"value": "+66 81 000 0002"}]', "utf-8-sig")
    report = ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path))
    assert (report.accepted, report.rejected) == (2, 0)


def test_text_that_is_not_unicode_is_refused_by_its_record_not_the_run(
    store: Store, agency: Agency, tmp_path: Path
) -> None:
    """JSON may escape a lone surrogate, which UTF-8 cannot hold: that record is refused (its
    reject written with the escape) and the rest goes in; a file name that is not UTF-8 is
    kept with U+FFFD in the import's record and the audit trail."""
    source = tmp_path / os.fsdecode(b"rapport_f\xe9vrier.ndjson")
    source.write_text(
        '{"value": "+66 81 000 0001", "note": "bad \\ud800 surrogate"}\n'
        '{"value": "+66 81 000 0002"}\n',
        encoding="utf-8",
    )
    report = ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path))
    assert (report.accepted, report.rejected) == (1, 1)
    assert report.reject_path.stat().st_mode & 0o777 == 0o600  # reports: the owner's only
    reject = _rejects(report.reject_path)[0]
    assert reject["line"] == 1
    assert reject["field"] == "note"
    assert reject["record"]["note"] == "bad \ud800 surrogate"
    with store.reading() as connection:
        assert connection.execute(select(imports.c.file_name)).scalar_one() == (
            "rapport_f\ufffdvrier.ndjson"
        )


def test_cut_json_array_keeps_what_came_before(
    store: Store, agency: Agency, tmp_path: Path
) -> None:
    source = tmp_path / "cut.json"
    source.write_text(
        '[{"value": "+66 81 000 0001"}, {"value": "+66 81 000 0002"}, {"value": "+66',
        encoding="utf-8",
    )
    report = ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path))
    assert (report.accepted, report.rejected) == (2, 1)
    (broken,) = _rejects(report.reject_path)
    assert broken["position"] == 3
    assert "breaks after record 2" in str(broken["error"])


def test_json_object_instead_of_array_is_explained(
    store: Store, agency: Agency, tmp_path: Path
) -> None:
    source = tmp_path / "one.json"
    for indent in ("", "\n" * 100, " " * (2 << 20)):  # past the reader's 1 MiB buffer too
        source.write_text(indent + '{"value": "+66 81 000 0001"}', encoding="utf-8")
        report = ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path))
        assert report.rejected == 1
        assert "ndjson" in str(_rejects(report.reject_path)[0]["error"])
    source.write_text("\n" * 100 + '[{"value": "+66 81 000 0002"}]', encoding="utf-8")
    report = ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path))
    assert (report.accepted, report.rejected) == (1, 0)


def test_csv_without_value_column_and_non_utf8_rows(
    store: Store, agency: Agency, tmp_path: Path
) -> None:
    headless = tmp_path / "nohead.csv"
    headless.write_text("number,note\n081-234-5678,x\n", encoding="utf-8")
    report = ingest_file(store, headless, agency, IntakeOptions(reject_dir=tmp_path))
    assert report.rejected == 1
    assert "'value' column" in str(_rejects(report.reject_path)[0]["error"])

    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"value,note\n081-234-5678,caf\xe9\n081-234-5679,ok\n")
    report = ingest_file(store, latin, agency, IntakeOptions(reject_dir=tmp_path))
    assert (report.accepted, report.rejected) == (1, 1)
    assert "UTF-8" in str(_rejects(report.reject_path)[0]["error"])


@pytest.mark.parametrize("after", [2, 3000], ids=["to-the-end", "past-the-bound"])
def test_csv_quote_left_open_refuses_its_row_and_keeps_the_rows_after(
    store: Store, agency: Agency, tmp_path: Path, after: int
) -> None:
    source = tmp_path / "stray.csv"
    rows = [f"+668{i:08d},ok" for i in range(after)]
    source.write_text(
        "\n".join(["value,note", "+66811111141,ok", '+66811111142,"unterminated', *rows]) + "\n",
        encoding="utf-8",
    )
    report = ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path))
    assert (report.accepted, report.rejected) == (1 + after, 1)
    (refused,) = _rejects(report.reject_path)
    assert refused["line"] == 3
    assert "quote" in str(refused["error"])
    assert store.counts().sightings == 1 + after


@pytest.mark.parametrize("quote", ["", '"'], ids=["bare", "quoted"])
def test_csv_field_over_the_size_limit_is_refused_with_its_line(
    store: Store, agency: Agency, tmp_path: Path, quote: str
) -> None:
    source = tmp_path / "huge.csv"
    huge = quote + "x" * (MAX_LINE_BYTES + 10) + quote
    source.write_text(
        f"value,note\n+66811111141,ok\n+66811111142,{huge}\n+66811111143,ok\n", encoding="utf-8"
    )
    report = ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path))
    assert (report.accepted, report.rejected) == (2, 1)
    (refused,) = _rejects(report.reject_path)
    assert refused["line"] == 3
    assert str(MAX_LINE_BYTES) in str(refused["error"])


def test_csv_header_must_name_each_column_once(
    store: Store, agency: Agency, tmp_path: Path
) -> None:
    source = tmp_path / "header.csv"
    source.write_text("value,kind,Value \n081-234-5678,phone,+66 81 234 5679\n", encoding="utf-8")
    report = ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path))
    assert (report.accepted, report.rejected) == (0, 1)
    (refused,) = _rejects(report.reject_path)
    assert refused["line"] == 1
    assert "'value' twice" in str(refused["error"])
    assert store.counts().sightings == 0


def test_a_column_without_a_name_may_stay_empty_but_not_hold_values(
    store: Store, agency: Agency, tmp_path: Path
) -> None:
    # spreadsheets export empty columns with empty names: their rows go in, unless a row puts
    # something in such a column, which no field can name
    source = tmp_path / "sheet.csv"
    source.write_text(
        "value,kind,,\n081-234-5678,phone,,\n081-234-5679,phone,,\n081-234-5670,phone,x,\n",
        encoding="utf-8",
    )
    report = ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path))
    assert (report.accepted, report.rejected) == (2, 1)
    (refused,) = _rejects(report.reject_path)
    assert refused["line"] == 4
    assert "column 3 has a value but no name" in str(refused["error"])


def test_defaults_come_from_the_options_and_the_agency_country(
    store: Store, agency: Agency, tmp_path: Path
) -> None:
    source = tmp_path / "local.csv"
    source.write_text("value\n081-234-5678\n", encoding="utf-8")
    report = ingest_file(
        store,
        source,
        agency,
        IntakeOptions(reject_dir=tmp_path, tlp=Tlp.AMBER_STRICT, confidence=33),
    )
    assert report.accepted == 1  # a local Thai number, read with the agency's country
    assert store.counts().sightings_by_tlp == {Tlp.AMBER_STRICT.value: 1}


def test_unknown_format_asks_for_one(store: Store, agency: Agency, tmp_path: Path) -> None:
    source = tmp_path / "reports.xlsx"
    source.write_bytes(b"PK")
    with pytest.raises(UsageError, match="--format"):
        ingest_file(store, source, agency, IntakeOptions())


def _imports(store: Store) -> list[tuple[int, int, int]]:
    """(accepted, duplicates, rejected) of each import, in the imports table."""
    query = select(imports.c.accepted, imports.c.duplicates, imports.c.rejected)
    with store.reading() as connection:
        return [tuple(row) for row in connection.execute(query.order_by(imports.c.id))]


def _import_ids(store: Store) -> list[int]:
    with store.reading() as connection:
        return list(connection.execute(select(imports.c.id).order_by(imports.c.id)).scalars())


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (IntakeOptions(file_format="xml"), "format"),
        (IntakeOptions(region="XX"), "--region"),
    ],
    ids=["format", "region"],
)
def test_bad_options_stop_the_run_before_it_starts(
    store: Store, agency: Agency, tmp_path: Path, options: IntakeOptions, named: str
) -> None:
    source = tmp_path / "local.csv"
    source.write_text("value\n081-234-5678\n12\n", encoding="utf-8")
    earlier = ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path))
    kept = earlier.reject_path.read_text(encoding="utf-8")
    with pytest.raises(UsageError, match=named):
        ingest_file(store, source, agency, dataclasses.replace(options, reject_dir=tmp_path))
    assert earlier.reject_path.read_text(encoding="utf-8") == kept  # the last run's rejects stay
    assert _imports(store) == [(1, 0, 1)]
    assert store.counts().sightings == 1


def test_files_of_one_name_keep_their_own_reject_files_and_a_rerun_replaces_its_own(
    store: Store, agency: Agency, tmp_path: Path
) -> None:
    other = store.add_agency("CN-MPS", name="MPS", country="CN", kind=AgencyKind.POLICE)
    options = IntakeOptions(reject_dir=tmp_path / "rejects")
    for folder, rows in (("a", "value\n081-234-5678\n12\n"), ("b", "value\n081-234-5679\n")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "reports.csv").write_text(rows, encoding="utf-8")
    first = ingest_file(store, tmp_path / "a" / "reports.csv", agency, options)
    kept = first.reject_path.read_text(encoding="utf-8")
    assert first.reject_path.name == f"reports.csv.{_import_ids(store)[0]}.rejects.jsonl"

    clean = ingest_file(store, tmp_path / "b" / "reports.csv", agency, options)
    assert clean.rejected == 0
    assert first.reject_path.read_text(encoding="utf-8") == kept  # not removed by another file
    (tmp_path / "b" / "reports.csv").write_text("value\n13\n14\n", encoding="utf-8")
    for by in (agency, other):  # other content, then the same file from another agency
        with_rejects = ingest_file(store, tmp_path / "b" / "reports.csv", by, options)
        assert with_rejects.rejected == 2
        assert with_rejects.reject_path != first.reject_path
        assert first.reject_path.read_text(encoding="utf-8") == kept  # nor overwritten
    assert len(set((tmp_path / "rejects").glob("reports.csv.*.rejects.jsonl"))) == 3

    first.reject_path.write_text("stale\n", encoding="utf-8")
    again = ingest_file(store, tmp_path / "a" / "reports.csv", agency, options)
    assert again.reject_path == first.reject_path  # the same file by the same agency: replaced
    assert again.reject_path.read_text(encoding="utf-8") == kept


def test_a_reject_folder_that_cannot_be_created_stops_the_run_before_it_starts(
    store: Store, agency: Agency, tmp_path: Path
) -> None:
    source = tmp_path / "local.csv"
    source.write_text("value\n081-234-5678\n12\n", encoding="utf-8")
    (tmp_path / "plain-file").write_text("", encoding="utf-8")
    options = IntakeOptions(reject_dir=tmp_path / "plain-file" / "rejects")
    with pytest.raises(UsageError, match="--rejects") as raised:
        ingest_file(store, source, agency, options)
    assert str(tmp_path / "plain-file" / "rejects") in raised.value.message
    assert _imports(store) == []
    assert store.counts().sightings == 0


def test_a_reject_file_that_cannot_be_written_stops_the_run_and_keeps_what_went_in(
    store: Store, agency: Agency, tmp_path: Path
) -> None:
    source = tmp_path / "local.csv"
    source.write_text("value\n081-234-5678\n12\n081-234-5679\n", encoding="utf-8")
    started = store.start_import(
        agency,
        file_name=source.name,
        file_sha256=hashlib.sha256(source.read_bytes()).hexdigest(),
        file_format="csv",
    )
    in_the_way = reject_path_for(source, tmp_path, started.id)
    in_the_way.mkdir()  # in the reject file's place: it cannot be opened
    with pytest.raises(UsageError, match="--rejects") as raised:
        ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path, batch_size=1))
    assert str(in_the_way) in raised.value.message
    assert store.counts().sightings == 1  # the batch before the reject; the next run goes on
    in_the_way.rmdir()
    report = ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path))
    assert (report.accepted, report.duplicates, report.rejected) == (1, 1, 1)


def test_rerunning_a_file_counts_its_rejects_once(
    store: Store, agency: Agency, tmp_path: Path
) -> None:
    source = tmp_path / "local.csv"
    source.write_text("value\n081-234-5678\n12\n", encoding="utf-8")
    for _ in range(3):
        report = ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path))
        assert report.rejected == 1  # each run says what it refused
    assert _imports(store)[0][::2] == (1, 1)


def test_a_run_stopped_half_way_counts_its_rejects_once_when_resumed(
    store: Store, agency: Agency, tmp_path: Path
) -> None:
    source = tmp_path / "local.csv"
    source.write_text("value\n081-234-5678\n12\n", encoding="utf-8")
    # what a run killed after its first batch leaves: the import open, its reject counted
    started = store.start_import(
        agency,
        file_name=source.name,
        file_sha256=hashlib.sha256(source.read_bytes()).hexdigest(),
        file_format="csv",
    )
    with store.transaction() as connection:
        store.count_import_progress(connection, started.id, accepted=0, duplicates=0, rejected=1)
    report = ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path))
    assert report.rejected == 1
    assert _imports(store)[0][::2] == (1, 1)


def test_two_runs_starting_one_file_at_once_share_its_import(store: Store, agency: Agency) -> None:
    """The other run's row lands between this run's look for it and its insert: this run
    takes that import, where it had failed on the unique constraint."""
    digest = "ab" * 32
    raced = False

    def other_run_first(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        nonlocal raced
        if not raced and statement.lstrip().upper().startswith("INSERT INTO IMPORTS"):
            raced = True
            with store.engine.begin() as other:
                other.execute(
                    imports.insert().values(
                        agency_id=agency.id,
                        file_name="reports.csv",
                        file_sha256=digest,
                        format="csv",
                        started_at=datetime.now(UTC),
                        accepted=0,
                        duplicates=0,
                        rejected=0,
                    )
                )

    event.listen(store.engine, "before_cursor_execute", other_run_first)
    try:
        started = store.start_import(
            agency, file_name="reports.csv", file_sha256=digest, file_format="csv"
        )
    finally:
        event.remove(store.engine, "before_cursor_execute", other_run_first)
    assert raced
    assert [row[0] for row in _imports(store)] == [0]
    with store.reading() as connection:
        assert connection.execute(select(imports.c.id)).scalar_one() == started.id


def _count_sightings(database_url: str) -> int:
    store = Store.open(database_url)
    try:
        return store.counts().sightings
    finally:
        store.close()


@pytest.mark.slow
def test_killed_run_resumes_with_every_row_in_and_none_twice(
    store: Store, agency: Agency, database_url: str, tmp_path: Path
) -> None:
    rows = 60_000
    source = tmp_path / "big.ndjson"
    with source.open("w", encoding="utf-8") as out:
        for i in range(rows):
            out.write(json.dumps({"value": f"+66 81 {i // 10000:03d} {i % 10000:04d}"}) + "\n")
    environment = {
        **os.environ,
        "SCAMWALL_DATABASE_URL": database_url,
        "SCAMWALL_INTAKE_BATCH_SIZE": "1000",
        "SCAMWALL_REJECT_DIR": str(tmp_path),
    }
    command = [sys.executable, "-m", "scamwall", "ingest", str(source), "--agency", "TH-CCIB"]
    child = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline and stored < 3000:
        time.sleep(0.05)
        stored = _count_sightings(database_url)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    killed_at = _count_sightings(database_url)
    assert 0 < killed_at < rows

    rerun = subprocess.run(
        [*command, "--json"], env=environment, capture_output=True, check=True, text=True
    )
    report = json.loads(rerun.stdout)
    assert report["accepted"] + report["duplicates"] == rows
    assert report["accepted"] == rows - killed_at
    assert _count_sightings(database_url) == rows


@pytest.fixture
def mekong(store: Store, agency: Agency) -> Access:
    """CN-MPS and ``agency`` (TH-CCIB) in the sharing group "Mekong joint operation"."""
    store.add_agency("CN-MPS", name="MPS", country="CN", kind=AgencyKind.POLICE)
    access = Access(store)
    access.add_group("Mekong joint operation", members=["TH-CCIB", "CN-MPS"])
    return access


def test_csv_can_share_amber_rows_with_groups(
    store: Store, agency: Agency, mekong: Access, tmp_path: Path
) -> None:
    access = mekong
    source = tmp_path / "shared.csv"
    source.write_text(
        'value,tlp,groups\n+66 92 555 0101,amber,"Mekong joint operation"\n'
        "+66 92 555 0102,green,Mekong joint operation\n"
        "+66 92 555 0103,amber,Nowhere\n",
        encoding="utf-8",
    )
    report = ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path))
    assert (report.accepted, report.rejected) == (1, 2)
    li = access.authenticate(
        access.issue_token_for(agency_code="CN-MPS", role=Role.ANALYST, user_name="li").secret
    )
    view = lookup(store, li, parse_indicator("+66925550101"))
    assert [s.groups for s in view.sightings] == [("Mekong joint operation",)]


def test_a_red_row_of_a_file_must_name_who_may_read_it(
    store: Store, agency: Agency, mekong: Access, tmp_path: Path
) -> None:
    """RED is for the users it names: a file row naming nobody could never be read by anyone
    (a file import has no submitter), so it is refused with what to do; one naming a user is
    that user's to read."""
    access = mekong
    li_token = access.issue_token_for(agency_code="CN-MPS", role=Role.ANALYST, user_name="li")
    access.issue_token_for(agency_code="CN-MPS", role=Role.FEED, user_name="resolver")
    source = tmp_path / "red.csv"
    source.write_text(
        "value,tlp,recipients\n+66 92 555 0105,red,\n+66 92 555 0106,red,li\n"
        "+66 92 555 0107,red,resolver\n",
        encoding="utf-8",
    )
    report = ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path))
    assert (report.accepted, report.rejected) == (1, 2)
    rejects = [json.loads(line) for line in report.reject_path.read_text("utf-8").splitlines()]
    assert [(r["line"], r["field"]) for r in rejects] == [(2, "recipients"), (4, "recipients")]
    assert all("names nobody" in r["error"] for r in rejects)
    assert "AMBER+STRICT" in rejects[0]["error"]
    li = access.authenticate(li_token.secret)
    assert [s.tlp for s in lookup(store, li, parse_indicator("+66925550106")).sightings] == [
        Tlp.RED
    ]


def test_a_fact_reported_twice_in_a_file_keeps_its_first_report(
    store: Store, agency: Agency, mekong: Access, tmp_path: Path
) -> None:
    """A plain copy after a marked report never widens who sees the fact; a marked report that
    is refused is no report, so the plain one after it stands."""
    store.add_agency("MM-POL", name="Myanmar police", country="MM", kind=AgencyKind.POLICE)
    access = mekong
    source = tmp_path / "twice.csv"
    source.write_text(
        "value,tlp,groups\n"
        "+66 92 555 0101,amber,Mekong joint operation\n"
        "+66 92 555 0101,green,\n"
        "+66 92 555 0104,amber,Nowhere\n"
        "+66 92 555 0104,green,\n",
        encoding="utf-8",
    )
    report = ingest_file(store, source, agency, IntakeOptions(reject_dir=tmp_path))
    assert (report.accepted, report.duplicates, report.rejected) == (2, 1, 1)
    member, outsider = access.agency_reader("CN-MPS"), access.agency_reader("MM-POL")
    shared = lookup(store, member, parse_indicator("+66925550101"))
    assert [(s.tlp, s.groups) for s in shared.sightings] == [
        (Tlp.AMBER, ("Mekong joint operation",))
    ]
    assert lookup(store, outsider, parse_indicator("+66925550101")).sightings == ()
    assert [s.tlp for s in lookup(store, outsider, parse_indicator("+66925550104")).sightings] == [
        Tlp.GREEN
    ]


def test_parsing_in_a_worker_process_gives_the_same_result(
    store: Store, agency: Agency, tmp_path: Path
) -> None:
    source = tmp_path / "mixed.csv"
    lines = ["value,tlp,observed_at"]
    for i in range(3000):
        value = f"+66 81 {i // 1000:03d} {i % 1000:04d}" if i % 7 else f"bad-{i}!"
        lines.append(f"{value},green,2026-11-0{1 + i % 9}T00:00:00Z")
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    inline = ingest_file(
        store,
        source,
        agency,
        IntakeOptions(reject_dir=tmp_path / "a", batch_size=500, parse_in_worker_from=None),
    )
    rejects_inline = _rejects(inline.reject_path)
    store.counts()
    copy = tmp_path / "copy.csv"
    copy.write_text(source.read_text(encoding="utf-8") + "+66 81 999 9999,green,\n", "utf-8")
    worker = ingest_file(
        store,
        copy,
        agency,
        IntakeOptions(reject_dir=tmp_path / "b", batch_size=500, parse_in_worker_from=0),
    )
    assert (inline.accepted, inline.rejected) == (2571, 429)
    assert (worker.accepted, worker.duplicates, worker.rejected) == (1, 2571, 429)
    assert _rejects(worker.reject_path) == rejects_inline
