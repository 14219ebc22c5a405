"""Apache Spark engine: scamwall's batch screening run over a cluster, or ``local[*]``.

Spark does the moving: it splits the input, brings each caller's records to one task and
gathers the results. It defines nothing itself: every task hands its share of the records to
the same Python and Polars functions the local engine runs (through ``mapInArrow``), so both
engines give the same answers (the tests hold them equal in local mode) and a detector changed
once changes for both.

Calls, :func:`screen_calls`:

1. Spark reads the CDR file, a CSV as lines (one record a line) or a Parquet file as it is.
   Each task checks its rows with :func:`~scamwall.screening.calls.cdr.normalise_cdrs`; a
   count of rows per partition, made first, tells it the line of its first row, so refused rows
   carry the line numbers the local engine gives.
2. Handset sharing, the one feature that crosses numbers, is counted by Spark over all the
   records (distinct IMEI-IMSI pairs) and joined to each call as the
   :data:`~scamwall.screening.calls.features.HANDSET_COLUMNS`.
3. The records are shuffled by caller; each partition runs
   :meth:`~scamwall.screening.calls.batch.CallScreening.flag` on the callers it holds.
4. The flags, few, are gathered and put in the order the local engine gives them.

Messages, :func:`screen_texts`: the lines are read as bytes with their numbers; the screener
and the reputation snapshot are broadcast once; each task screens its lines in batches; the
verdicts come back in input order.

Only one file is read per job (line numbers are a file's); on a cluster it must be on storage
every executor reaches (HDFS, S3, a shared mount). docs/spark.md tells how to run it.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import polars as pl

from scamwall.errors import ConfigurationError, InvalidInput
from scamwall.reputation.snapshot import ReputationSnapshot
from scamwall.screening.calls.batch import CallScreening
from scamwall.screening.calls.cdr import CDR_SCHEMA, CdrBatch, normalise_cdrs, read_csv_records
from scamwall.screening.calls.detectors import DETECTION_SCHEMA, in_detection_order
from scamwall.screening.calls.features import HANDSET_COLUMNS
from scamwall.screening.messages import InputForm, message_from_line
from scamwall.screening.text import TextScreener
from scamwall.settings import Settings

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["SparkCallResult", "screen_calls", "screen_texts", "spark_session"]

#: Messages a task screens at once (as the CLI's local batches).
TEXT_BATCH = 2_000
#: Configuration every session gets unless ``spark_conf`` says otherwise.
BASE_CONF = {
    # times cross between Spark and Polars as UTC instants, whatever the machines' zone
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.showConsoleProgress": "false",
    # fewer, larger Arrow batches per task: each batch is one call into Polars
    "spark.sql.execution.arrow.maxRecordsPerBatch": "200000",
}
# Columns a checked CDR carries through Spark besides its own: a refused row's line and reason.
_REJECT_SCHEMA = {"line": pl.Int64(), "field": pl.String(), "error": pl.String()}


def spark_session(settings: Settings, *, app_name: str = "scamwall") -> SparkSession:
    """The Spark session the settings describe (``spark_master``, ``spark_conf``). Executors
    run this Python (``PYSPARK_PYTHON`` is set to it unless given), which has scamwall."""
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415 - Spark is an optional extra
    except ImportError:
        raise ConfigurationError(
            "the Spark engine needs PySpark: pip install 'scamwall[spark]' (and Java 17+)"
        ) from None
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.master(settings.spark_master).appName(app_name)
    for key, value in {**BASE_CONF, **settings.spark_conf}.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # Py4J and Java start-up errors have no common type
        raise ConfigurationError(
            f"Spark did not start with master {settings.spark_master!r}: {exc}; check "
            "SCAMWALL_SPARK_MASTER and that Java 17+ is installed"
        ) from None
    session.sparkContext.setLogLevel("ERROR")
    return session


# ---------------------------------------------------------------------------------------------
# types between Polars, Arrow and Spark


def _arrow_type(dtype: pl.DataType) -> pa.DataType:
    """The Arrow type Spark exchanges for a Polars type (unsigned counts travel as int64)."""
    import pyarrow as pa  # noqa: PLC0415

    if isinstance(dtype, pl.String):
        return pa.string()
    if isinstance(dtype, pl.Datetime):
        return pa.timestamp("us", tz="UTC")
    if isinstance(dtype, pl.Float64):
        return pa.float64()
    if isinstance(dtype, pl.Boolean):
        return pa.bool_()
    if isinstance(dtype, pl.List) and dtype.inner == pl.String:
        return pa.list_(pa.string())
    if dtype.is_integer():
        return pa.int64()
    raise TypeError(f"no Spark type for {dtype}")  # a new column needs a line above


def _arrow_schema(schema: dict[str, pl.DataType]) -> pa.Schema:
    import pyarrow as pa  # noqa: PLC0415

    return pa.schema([(name, _arrow_type(dtype)) for name, dtype in schema.items()])


def _spark_schema(schema: dict[str, pl.DataType]) -> Any:
    """The Spark struct type of a Polars schema (as ``mapInArrow`` wants it declared)."""
    from pyspark.sql.pandas.types import from_arrow_schema  # noqa: PLC0415

    return from_arrow_schema(_arrow_schema(schema))


def _to_batches(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> Iterator[pa.RecordBatch]:
    """A Polars frame as Arrow batches of exactly the declared types."""
    table = frame.select(list(schema)).to_arrow(compat_level=pl.CompatLevel.oldest())
    yield from table.cast(_arrow_schema(schema)).to_batches()


# ---------------------------------------------------------------------------------------------
# reading with line numbers


def _first_indexes(frame: DataFrame) -> dict[int, int]:
    """For each partition of ``frame``, the index in the file of its first row: the rows
    before it, counted by partition (a job of counts, no rows leave the executors)."""
    from pyspark.sql.functions import spark_partition_id  # noqa: PLC0415

    counts: dict[int, int] = dict(
        frame.select(spark_partition_id().alias("part")).groupBy("part").count().collect()
    )
    firsts, seen = {}, 0
    for part in range(frame.rdd.getNumPartitions()):
        firsts[part] = seen
        seen += counts.get(part, 0)
    return firsts


def _partition_index() -> int:
    from pyspark import TaskContext  # noqa: PLC0415

    context = TaskContext.get()
    assert context is not None, "called outside a Spark task"
    return int(context.partitionId())


def _checked_batches(
    frame: pl.DataFrame, first_line: int, region: str | None
) -> Iterator[pa.RecordBatch]:
    """Rows checked as the local engine checks them: good rows with empty reject columns, and
    refused rows with empty CDR columns."""
    return _batches_of(normalise_cdrs(frame, region=region, first_line=first_line))


def _batches_of(checked: CdrBatch) -> Iterator[pa.RecordBatch]:
    """Good rows with empty reject columns, and refused rows with empty CDR columns."""
    refused = pl.DataFrame(checked.rejected, schema=_REJECT_SCHEMA)
    both = pl.concat([checked.records, refused], how="diagonal")
    return _to_batches(both, {**CDR_SCHEMA, **_REJECT_SCHEMA})


def _check_csv_lines(
    batches: Iterable[pa.RecordBatch], *, header: bytes, firsts: dict[int, int], region: str | None
) -> Iterator[pa.RecordBatch]:
    """A task's CSV lines parsed under the file's header and checked like the local engine's."""
    index = firsts[_partition_index()]
    for batch in batches:
        lines = batch.column(0).to_pylist()
        if index == 0:  # the header itself
            lines, index = lines[1:], 1
        if not lines:
            continue
        text = b"".join(line + b"\n" for line in [header, *lines])
        try:
            frame = pl.read_csv(io.BytesIO(text), infer_schema=False, encoding="utf8-lossy")
        except pl.exceptions.PolarsError:
            frame = None
        if frame is None or frame.height != len(lines):
            # a row Polars cannot read (more fields than the header, a stray quote, a quote
            # closed lines later) is refused on its own, as the local engine refuses it
            where = f"lines {index + 1}-{index + len(lines)}"
            checked = read_csv_records(
                io.BytesIO(text), name=where, region=region, first_line=index + 1
            )
            yield from _batches_of(checked)
            index += len(lines)
            continue
        yield from _checked_batches(frame, index + 1, region)
        index += len(lines)


def _check_parquet_rows(
    batches: Iterable[pa.RecordBatch], *, firsts: dict[int, int], region: str | None
) -> Iterator[pa.RecordBatch]:
    """A task's Parquet rows checked like the local engine's (row ``n`` is "line" ``n + 1``,
    as if under a header)."""
    index = firsts[_partition_index()]
    for batch in batches:
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        yield from _checked_batches(frame, index + 2, region)
        index += batch.num_rows


def _binary_lines(spark: SparkSession, source: str) -> DataFrame:
    """The lines of a file as bytes, split at "\\n" only, as the local engine reads a file:
    undecoded, so a wrong encoding is judged by the same code as there."""
    from pyspark.sql.functions import col  # noqa: PLC0415

    lines = spark.read.option("lineSep", "\n").text(source)
    return lines.select(col("value").cast("binary").alias("line"))


def _read_cdrs(spark: SparkSession, source: str, region: str | None) -> DataFrame:
    """The checked rows of a CDR file: the CDR columns, then ``line``, ``field``, ``error``
    (set on refused rows only)."""
    schema = _spark_schema({**CDR_SCHEMA, **_REJECT_SCHEMA})
    if source.lower().endswith((".parquet", ".pq")):
        rows = spark.read.parquet(source)
        check = partial(_check_parquet_rows, firsts=_first_indexes(rows), region=region)
        return rows.mapInArrow(check, schema)
    lines = _binary_lines(spark, source)
    first = lines.first()
    if first is None:
        raise InvalidInput(f"{source}: empty; a CDR file starts with a header line")
    header = first[0]
    check = partial(_check_csv_lines, header=header, firsts=_first_indexes(lines), region=region)
    return lines.mapInArrow(check, schema)


# ---------------------------------------------------------------------------------------------
# calls


@dataclass
class SparkCallResult:
    """What a Spark screening of CDRs found: the calls screened, the refused rows (line, field,
    error, in line order) and the flagged numbers (as the local engine's ``detect`` gives)."""

    calls: int
    rejected: list[dict[str, Any]]
    flagged: pl.DataFrame


def _flag_partition(
    batches: Iterable[pa.RecordBatch], *, screening: CallScreening
) -> Iterator[pa.RecordBatch]:
    """The flags of the callers a task holds (all of each caller's records are here)."""
    import pyarrow as pa  # noqa: PLC0415

    frames = list(batches)
    if not frames:
        return
    records = pl.from_arrow(pa.Table.from_batches(frames))
    assert isinstance(records, pl.DataFrame)
    yield from _to_batches(screening.flag(records), dict(DETECTION_SCHEMA))


def screen_calls(
    spark: SparkSession,
    source: str,
    screening: CallScreening,
    *,
    region: str | None = None,
    partitions: int | None = None,
) -> SparkCallResult:
    """Screen the CDR file at ``source`` (a path or URI every executor reads; ``.parquet`` or
    ``.pq`` for Parquet, else CSV with a header) as the local engine would.

    ``partitions`` is how many pieces the callers are split into (default: twice the cores
    Spark has); each piece's records must fit in one executor's memory.
    """
    from pyspark import StorageLevel  # noqa: PLC0415
    from pyspark.sql import functions as sql  # noqa: PLC0415

    checked = _read_cdrs(spark, source, region).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        rejected = [
            row.asDict()
            for row in checked.where(sql.col("error").isNotNull())
            .select("line", "field", "error")
            .orderBy("line")
            .collect()
        ]
        records = checked.where(sql.col("error").isNull()).select(*CDR_SCHEMA)
        calls = records.count()
        pairs = records.select("imei", "imsi").dropna().distinct()
        imsis = pairs.groupBy("imei").agg(sql.count("*").alias(HANDSET_COLUMNS[0]))
        imeis = pairs.groupBy("imsi").agg(sql.count("*").alias(HANDSET_COLUMNS[1]))
        with_handsets = records.join(imsis, "imei", "left").join(imeis, "imsi", "left")
        pieces = partitions or 2 * spark.sparkContext.defaultParallelism
        flags = with_handsets.repartition(pieces, "caller").mapInArrow(
            partial(_flag_partition, screening=screening), _spark_schema(dict(DETECTION_SCHEMA))
        )
        gathered = pl.from_arrow(flags.toArrow())
        assert isinstance(gathered, pl.DataFrame)
        flagged = in_detection_order(
            gathered.select(pl.col(name).cast(dtype) for name, dtype in DETECTION_SCHEMA.items())
        )
    finally:
        checked.unpersist()
    return SparkCallResult(calls, rejected, flagged)


# ---------------------------------------------------------------------------------------------
# messages


def _screen_lines(
    batches: Iterable[pa.RecordBatch],
    *,
    firsts: dict[int, int],
    shared: Any,
    form: InputForm = InputForm.AUTO,
) -> Iterator[pa.RecordBatch]:
    """A task's lines screened in batches: one JSON verdict a line, in order."""
    import pyarrow as pa  # noqa: PLC0415

    screener, snapshot = shared.value
    schema = pa.schema([("verdict", pa.string())])
    number = firsts[_partition_index()] + 1
    for batch in batches:
        lines = batch.column(0).to_pylist()
        verdicts: list[str] = []
        for start in range(0, len(lines), TEXT_BATCH):
            messages = [
                message_from_line(raw, number + start + offset, form)
                for offset, raw in enumerate(lines[start : start + TEXT_BATCH])
            ]
            verdicts.extend(
                json.dumps(verdict.as_dict(), ensure_ascii=False)
                for verdict in screener.screen(messages, snapshot)
            )
        number += len(lines)
        yield pa.RecordBatch.from_pydict({"verdict": verdicts}, schema=schema)


def screen_texts(
    spark: SparkSession,
    source: str,
    screener: TextScreener,
    snapshot: ReputationSnapshot,
    form: InputForm = InputForm.AUTO,
) -> Iterator[str]:
    """The verdicts on the messages at ``source`` (a path or URI every executor reads; one
    message a line, as the CLI reads them), in input order: one JSON object a verdict, as
    ``Verdict.as_dict`` gives it."""
    from pyspark.sql.types import StringType, StructField, StructType  # noqa: PLC0415

    lines = _binary_lines(spark, source)
    shared = spark.sparkContext.broadcast((screener, snapshot))
    try:
        screen = partial(_screen_lines, firsts=_first_indexes(lines), shared=shared, form=form)
        verdicts = lines.mapInArrow(screen, StructType([StructField("verdict", StringType())]))
        for row in verdicts.toLocalIterator():
            yield row[0]
    finally:
        shared.unpersist()
