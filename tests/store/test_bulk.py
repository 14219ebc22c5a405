"""Bulk rows converted for the driver exactly as SQLAlchemy's own column types convert them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite

from scamwall.store.bulk import prepare_rows
from scamwall.store.schema import UTCDateTime, sightings

DIALECT = sqlite.dialect()  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 30, 8, 15, tzinfo=UTC),
        datetime(2026, 11, 30, 8, 15, 0, 123456, tzinfo=UTC),
        datetime(2026, 12, 1, 1, 30, 5, 7, tzinfo=timezone(timedelta(hours=7))),  # Bangkok
        datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),
        None,
    ],
)
def test_sqlite_times_are_what_the_column_type_writes(moment: datetime | None) -> None:
    columns = ("observed_at", "reported_at")
    expected = UTCDateTime().dialect_impl(DIALECT).bind_processor(DIALECT)
    assert expected is not None
    row = prepare_rows(DIALECT, sightings, columns, [(moment, moment)])[0]
    assert row == (expected(moment), expected(moment))


def test_a_naive_time_is_refused_before_the_driver_sees_it() -> None:
    with pytest.raises(ValueError, match="time zone"):
        prepare_rows(DIALECT, sightings, ("observed_at",), [(datetime(2026, 11, 30),)])
