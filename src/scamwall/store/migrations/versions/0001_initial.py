"""Agencies, indicators, imports and append-only sightings.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY_MESSAGE = "sightings are append-only facts: record a new sighting instead"


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
        sa.UniqueConstraint("code", name=op.f("uq_agencies_code")),
    )
    op.create_table(
        "indicators",
        sa.Column("id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("canonical", sa.String(length=2048), nullable=False),
        sa.Column("registered_domain", sa.String(length=253), nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicators")),
    )
    op.create_index(op.f("ix_indicators_kind_canonical"), "indicators", ["kind", "canonical"])
    op.create_index(op.f("ix_indicators_registered_domain"), "indicators", ["registered_domain"])
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        _timestamp("started_at"),
        _timestamp("finished_at", nullable=True),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_imports_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
        sa.UniqueConstraint(
            "file_sha256", "agency_id", name=op.f("uq_imports_file_sha256_agency_id")
        ),
    )
    op.create_table(
        "sightings",
        sa.Column("id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("indicator_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        _timestamp("observed_at"),
        _timestamp("reported_at"),
        sa.Column("source_kind", sa.String(length=32), nullable=False),
        sa.Column("confidence", sa.SmallInteger(), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("evidence_ref", sa.String(length=500), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "tlp IN ('clear', 'green', 'amber', 'amber+strict', 'red')",
            name=op.f("ck_sightings_tlp_value"),
        ),
        sa.CheckConstraint(
            "confidence BETWEEN 0 AND 100", name=op.f("ck_sightings_confidence_range")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_sightings_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name=op.f("fk_sightings_import_id_imports")
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"], ["indicators.id"], name=op.f("fk_sightings_indicator_id_indicators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sightings")),
    )
    op.create_index(
        op.f("ix_sightings_agency_id_observed_at"), "sightings", ["agency_id", "observed_at"]
    )
    op.create_index(op.f("ix_sightings_indicator_id"), "sightings", ["indicator_id"])

    # The database itself refuses to rewrite or erase a sighting.
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER sightings_append_only_{event.lower()} BEFORE {event} "
                f"ON sightings BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION sightings_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER sightings_append_only BEFORE UPDATE OR DELETE ON sightings "
            "FOR EACH ROW EXECUTE FUNCTION sightings_append_only()"
        )
        op.execute(  # TRUNCATE skips row triggers: it needs its own
            "CREATE TRIGGER sightings_no_truncate BEFORE TRUNCATE ON sightings "
            "FOR EACH STATEMENT EXECUTE FUNCTION sightings_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER sightings_no_truncate ON sightings")
        op.execute("DROP TRIGGER sightings_append_only ON sightings")
        op.execute("DROP FUNCTION sightings_append_only()")
    op.drop_table("sightings")
    op.drop_table("imports")
    op.drop_table("indicators")
    op.drop_table("agencies")
