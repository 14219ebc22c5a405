"""The database schema, one definition for SQLite and PostgreSQL (SQLAlchemy Core).

Migrations in ``migrations/versions`` must produce exactly these tables; a test compares them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    cast,
    func,
    select,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement, Label
from sqlalchemy.types import TypeDecorator

__all__ = [
    "UTCDateTime",
    "agencies",
    "allowlist_entries",
    "appeals",
    "audit_log",
    "disputed_sightings",
    "false_positive_reports",
    "feed_entries",
    "feed_serials",
    "group_members",
    "id_set",
    "imports",
    "indicators",
    "metadata",
    "read_id_set",
    "sharing_groups",
    "sighting_groups",
    "sighting_recipients",
    "sightings",
    "tokens",
    "users",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

TLP_VALUES = ("clear", "green", "amber", "amber+strict", "red")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; attach a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


def id_set(column: Column[int], where: ColumnElement[bool], name: str) -> Label[str]:
    """The integer ``column`` of the rows ``where`` picks as one text, ``"1,3"`` (None: no row),
    labelled ``name``: a set of ids read with each row of an outer query, in one statement on
    every backend. :func:`read_id_set` reads it back."""
    joined = func.aggregate_strings(cast(column, String), ",")
    return select(joined).where(where).scalar_subquery().label(name)


def read_id_set(value: str | None) -> frozenset[int]:
    """The ids of an :func:`id_set` column."""
    return frozenset(int(part) for part in value.split(",")) if value else frozenset()


agencies = Table(
    "agencies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("country", String(2), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

indicators = Table(
    "indicators",
    metadata,
    Column("id", Uuid(as_uuid=False), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("canonical", String(2048), nullable=False),
    Column("registered_domain", String(253), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Index(None, "kind", "canonical"),
    Index(None, "registered_domain"),
)

imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agency_id", Integer, ForeignKey("agencies.id"), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("format", String(8), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("accepted", Integer, nullable=False, default=0),
    Column("duplicates", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    UniqueConstraint("file_sha256", "agency_id"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agency_id", Integer, ForeignKey("agencies.id"), nullable=False),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("disabled_at", UTCDateTime(), nullable=True),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("secret_sha256", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
    Column("note", String(200), nullable=True),
)

sharing_groups = Table(
    "sharing_groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("description", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    # the name as compared (access.group_key; case folding can triple a name's length): one
    # group per name whatever its case, even for two creations at once
    Column("name_folded", String(300), nullable=False),
    Index("uq_sharing_groups_name_folded", "name_folded", unique=True),
)

group_members = Table(
    "group_members",
    metadata,
    Column("group_id", Integer, ForeignKey("sharing_groups.id"), primary_key=True),
    Column("agency_id", Integer, ForeignKey("agencies.id"), primary_key=True),
)

sightings = Table(
    "sightings",
    metadata,
    Column("id", Uuid(as_uuid=False), primary_key=True),
    Column("indicator_id", Uuid(as_uuid=False), ForeignKey("indicators.id"), nullable=False),
    Column("agency_id", Integer, ForeignKey("agencies.id"), nullable=False),
    Column("observed_at", UTCDateTime(), nullable=False),
    Column("reported_at", UTCDateTime(), nullable=False),
    Column("source_kind", String(32), nullable=False),
    Column("confidence", SmallInteger, nullable=False),
    Column("tlp", String(16), nullable=False),
    Column("note", Text, nullable=True),
    Column("evidence_ref", String(500), nullable=True),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=True),
    Column("submitted_by", Integer, ForeignKey("users.id"), nullable=True),
    # the legal basis the reporting agency named (all NULL: the operator's default applies)
    Column("jurisdiction", String(16), nullable=True),
    Column("legal_instrument", String(500), nullable=True),
    Column("retain_until", UTCDateTime(), nullable=True),
    CheckConstraint("confidence BETWEEN 0 AND 100", name="confidence_range"),
    CheckConstraint("tlp IN (" + ", ".join(f"'{t}'" for t in TLP_VALUES) + ")", name="tlp_value"),
    Index(None, "indicator_id"),
    Index(None, "agency_id", "observed_at"),
    # exchange pages through sightings in the order they arrived (TAXII's added_after)
    Index(None, "reported_at", "id"),
)

sighting_groups = Table(
    "sighting_groups",
    metadata,
    Column("sighting_id", Uuid(as_uuid=False), ForeignKey("sightings.id"), primary_key=True),
    Column("group_id", Integer, ForeignKey("sharing_groups.id"), primary_key=True),
)

sighting_recipients = Table(
    "sighting_recipients",
    metadata,
    Column("sighting_id", Uuid(as_uuid=False), ForeignKey("sightings.id"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("agency", String(32), nullable=True),
    Column("action", String(64), nullable=False),
    Column("target", Text, nullable=True),
    Column("detail", Text, nullable=True),
    Column("origin", String(100), nullable=True),
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("hash", String(64), nullable=False),
)

#: Values the operator says must never be blocked; a removal is recorded, not deleted.
allowlist_entries = Table(
    "allowlist_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("canonical", String(2048), nullable=False),
    Column("reason", Text, nullable=False),
    Column("added_by", String(64), nullable=False),
    Column("added_at", UTCDateTime(), nullable=False),
    Column("removed_by", String(64), nullable=True),
    Column("removed_at", UTCDateTime(), nullable=True),
    Index(None, "kind", "canonical"),
)

#: An agency's statement that an indicator is not malicious (append-only, like sightings).
false_positive_reports = Table(
    "false_positive_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("indicator_id", Uuid(as_uuid=False), ForeignKey("indicators.id"), nullable=False),
    Column("agency_id", Integer, ForeignKey("agencies.id"), nullable=False),
    Column("reported_at", UTCDateTime(), nullable=False),
    Column("reported_by", String(64), nullable=False),
    Column("note", Text, nullable=True),
    Index(None, "indicator_id"),
)


#: One publication of the enforcement feeds: what changed since the previous serial.
feed_serials = Table(
    "feed_serials",
    metadata,
    Column("serial", Integer, primary_key=True, autoincrement=False),
    Column("published_at", UTCDateTime(), nullable=False),
    Column("snapshot_version", String(64), nullable=False),
    Column("added", Integer, nullable=False),
    Column("removed", Integer, nullable=False),
    Column("active", Integer, nullable=False),
)

#: A value on the enforcement feeds from the serial that added it to the one that removed it;
#: a value listed again later is a new row, so any serial's content can be rebuilt.
feed_entries = Table(
    "feed_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("value", String(2048), nullable=False),
    Column("score", Float, nullable=False),
    Column("added_serial", Integer, ForeignKey("feed_serials.serial"), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("removed_serial", Integer, ForeignKey("feed_serials.serial"), nullable=True),
    Column("removed_reason", String(16), nullable=True),
    Index(None, "kind", "value"),
    Index(None, "added_serial"),
    Index(None, "removed_serial"),
    # a value is on the feeds once at most: two publications racing cannot both add it
    Index(
        "uq_feed_entries_active",
        "kind",
        "value",
        unique=True,
        sqlite_where=text("removed_serial IS NULL"),
        postgresql_where=text("removed_serial IS NULL"),
    ),
)

#: Anyone's request to take a value off the feeds, and the analyst's decision.
appeals = Table(
    "appeals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("value", String(2048), nullable=False),
    Column("evidence", Text, nullable=False),
    #: how to tell the appellant the result; erased once decided (personal data kept no longer)
    Column("contact", String(200), nullable=True),
    Column("submitted_at", UTCDateTime(), nullable=False),
    Column("submitted_by", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("decided_at", UTCDateTime(), nullable=True),
    Column("decided_by", String(64), nullable=True),
    Column("decision_note", Text, nullable=True),
    CheckConstraint("status IN ('pending', 'accepted', 'rejected')", name="status_value"),
    Index(None, "status"),
    Index(None, "kind", "value"),
)

#: Sightings an accepted appeal disputes: they no longer count towards any score.
disputed_sightings = Table(
    "disputed_sightings",
    metadata,
    Column("sighting_id", Uuid(as_uuid=False), ForeignKey("sightings.id"), primary_key=True),
    Column("appeal_id", Integer, ForeignKey("appeals.id"), nullable=False),
    Column("disputed_at", UTCDateTime(), nullable=False),
)

#: What became of each TAXII write (the status resource), for the agency that wrote.
taxii_statuses = Table(
    "taxii_statuses",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", Integer, ForeignKey("agencies.id"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("body", Text, nullable=False),
)

#: Where each sync with a peer stopped, per collection and direction (pull or push).
sync_positions = Table(
    "sync_positions",
    metadata,
    Column("peer", String(2048), primary_key=True),
    Column("collection", String(64), primary_key=True),
    Column("direction", String(8), primary_key=True),
    Column("position", Text, nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
)
