"""Reading call-detail records: columns, conversions, and rows refused with line and reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from scamwall.errors import InvalidInput, NotFound
from scamwall.screening.calls.cdr import CDR_SCHEMA, read_cdrs

HEADER = "caller,callee,start,duration_s,answered,direction,origin_country,cell_id,extra\n"


def _write(tmp_path: Path, rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "cdr.csv"
    path.write_text(header + rows, encoding="utf-8")
    return path


def test_good_rows_are_converted_and_bad_ones_refused_with_their_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "081-234-5678,+8613800138000,2026-11-30T10:00:00+07:00,12,true,out,th,C1,x\n"
        "+66812345679,0021234567,2026-11-30 03:00Z,0,no,IN,TH,,y\n"
        "not a number,+66812345678,2026-11-30T10:00:00,5,true,out,TH,C1,z\n"
        "+66812345679,+66812345678,yesterday,5,true,out,TH,C1,z\n"
        "+66812345679,+66812345678,2026-11-30T10:00:00,-3,true,out,TH,C1,z\n"
        "+66812345679,+66812345678,2026-11-30T10:00:00,3,maybe,out,TH,C1,z\n"
        "+66812345679,+66812345678,2026-11-30T10:00:00,3,true,sideways,TH,C1,z\n"
        "+66812345679,+66812345678,2026-11-30T10:00:00,3,true,out,Thailand,C1,z\n",
    )
    batch = read_cdrs(path, region="TH")
    assert batch.records.schema == pl.Schema(CDR_SCHEMA)
    first, second = batch.records.iter_rows(named=True)
    assert first["caller"] == "+66812345678"
    assert first["start"] == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    assert first["answered"] is True
    assert first["cell_id"] == "C1"
    assert second["callee"] == "+21234567"
    assert second["direction"] == "in"
    assert second["duration_s"] == 0.0
    assert [(r["line"], r["field"]) for r in batch.rejected] == [
        (4, "caller"),
        (5, "start"),
        (6, "duration_s"),
        (7, "answered"),
        (8, "direction"),
        (9, "origin_country"),
    ]


def test_parquet_reads_like_csv(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "caller": ["+66812345678"],
            "callee": ["+66812345679"],
            "start": ["2026-11-30T10:00:00Z"],
            "duration_s": [30],
            "answered": [True],
            "direction": ["out"],
            "origin_country": ["TH"],
        }
    )
    path = tmp_path / "cdr.parquet"
    frame.write_parquet(path)
    batch = read_cdrs(path)
    assert batch.rejected == []
    assert batch.records["duration_s"].to_list() == [30.0]
    assert batch.records["imsi"].to_list() == [None]


def test_missing_columns_and_files_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "+66812345678,+66812345679\n", header="caller,callee\n")
    with pytest.raises(InvalidInput, match="start, duration_s, answered"):
        read_cdrs(path)
    with pytest.raises(NotFound):
        read_cdrs(tmp_path / "missing.csv")
