"""Sightings in the order they arrived: what exchange with peers pages through.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_sightings_reported_at_id"), "sightings", ["reported_at", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sightings_reported_at_id"), table_name="sightings")
