"""Enforcement feeds (serials and entries), appeals and the sightings appeals dispute.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "feed_serials",
        sa.Column("serial", sa.Integer(), autoincrement=False, nullable=False),
        _timestamp("published_at"),
        sa.Column("snapshot_version", sa.String(length=64), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_feed_serials")),
    )
    op.create_table(
        "feed_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("added_serial", sa.Integer(), nullable=False),
        _timestamp("expires_at"),
        sa.Column("removed_serial", sa.Integer(), nullable=True),
        sa.Column("removed_reason", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["added_serial"],
            ["feed_serials.serial"],
            name=op.f("fk_feed_entries_added_serial_feed_serials"),
        ),
        sa.ForeignKeyConstraint(
            ["removed_serial"],
            ["feed_serials.serial"],
            name=op.f("fk_feed_entries_removed_serial_feed_serials"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_entries")),
    )
    op.create_index(op.f("ix_feed_entries_kind_value"), "feed_entries", ["kind", "value"])
    op.create_index(op.f("ix_feed_entries_added_serial"), "feed_entries", ["added_serial"])
    op.create_index(op.f("ix_feed_entries_removed_serial"), "feed_entries", ["removed_serial"])
    op.create_index(
        "uq_feed_entries_active",
        "feed_entries",
        ["kind", "value"],
        unique=True,
        sqlite_where=sa.text("removed_serial IS NULL"),
        postgresql_where=sa.text("removed_serial IS NULL"),
    )
    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=True),
        _timestamp("submitted_at"),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _timestamp("decided_at", nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'rejected')", name=op.f("ck_appeals_status_value")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
    )
    op.create_index(op.f("ix_appeals_status"), "appeals", ["status"])
    op.create_index(op.f("ix_appeals_kind_value"), "appeals", ["kind", "value"])
    op.create_table(
        "disputed_sightings",
        sa.Column("sighting_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=False),
        _timestamp("disputed_at"),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_disputed_sightings_appeal_id_appeals")
        ),
        sa.ForeignKeyConstraint(
            ["sighting_id"],
            ["sightings.id"],
            name=op.f("fk_disputed_sightings_sighting_id_sightings"),
        ),
        sa.PrimaryKeyConstraint("sighting_id", name=op.f("pk_disputed_sightings")),
    )


def downgrade() -> None:
    op.drop_table("disputed_sightings")
    op.drop_table("appeals")
    op.drop_table("feed_entries")
    op.drop_table("feed_serials")
