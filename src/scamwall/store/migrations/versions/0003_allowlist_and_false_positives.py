"""The operator's allowlist and agencies' false-positive reports, read by reputation.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FALSE_POSITIVE_MESSAGE = "false-positive reports are append-only"


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "allowlist_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("canonical", sa.String(length=2048), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        _timestamp("added_at"),
        sa.Column("removed_by", sa.String(length=64), nullable=True),
        _timestamp("removed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allowlist_entries")),
    )
    op.create_index(
        op.f("ix_allowlist_entries_kind_canonical"), "allowlist_entries", ["kind", "canonical"]
    )
    op.create_table(
        "false_positive_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("indicator_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        _timestamp("reported_at"),
        sa.Column("reported_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_false_positive_reports_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_false_positive_reports_indicator_id_indicators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_false_positive_reports")),
    )
    op.create_index(
        op.f("ix_false_positive_reports_indicator_id"),
        "false_positive_reports",
        ["indicator_id"],
    )
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER IF NOT EXISTS false_positive_reports_append_only_{event.lower()} "
                f"BEFORE {event} ON false_positive_reports "
                f"BEGIN SELECT RAISE(ABORT, '{FALSE_POSITIVE_MESSAGE}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION false_positive_reports_append_only() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{FALSE_POSITIVE_MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER false_positive_reports_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
            "ON false_positive_reports FOR EACH STATEMENT "
            "EXECUTE FUNCTION false_positive_reports_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER false_positive_reports_append_only ON false_positive_reports")
        op.execute("DROP FUNCTION false_positive_reports_append_only()")
    op.drop_table("false_positive_reports")
    op.drop_table("allowlist_entries")
