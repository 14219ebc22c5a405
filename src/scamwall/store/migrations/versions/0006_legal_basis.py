"""The legal basis of a sighting: jurisdiction, instrument and retention limit.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

Nullable columns only, so the append-only guards (triggers) stay as they are and existing
sightings keep no basis of their own: the operator's default applies when they are shared. No
index on ``retain_until``: the shared read pages through ``(reported_at, id)`` and tests the
retention of each row it walks; nothing selects sightings by their expiry.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sightings", sa.Column("jurisdiction", sa.String(length=16), nullable=True))
    op.add_column("sightings", sa.Column("legal_instrument", sa.String(length=500), nullable=True))
    op.add_column("sightings", sa.Column("retain_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy would lose the triggers
    for column in ("retain_until", "legal_instrument", "jurisdiction"):
        op.drop_column("sightings", column)
