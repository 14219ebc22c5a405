"""Sharing groups: a unique index on the group's name as compared (Unicode case folding).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08

A group name is one name whatever its case, spacing or Unicode form ("Straße Ops" is
"STRASSE OPS"). Compared in Python alone, two creations at once of names differing only in
case could both find nothing and both insert; ``name_folded`` holds the name as compared, and
its unique index lets only one in.

Existing groups whose names fold alike (made by such a race) are kept apart, never merged:
merging would show each one's AMBER sightings to the other's members. The later one is renamed
``"<name> (<id>)"``, with a warning naming both, for the operator to sort out.

SQLite cannot make an added column NOT NULL without a default or drop a default without
copying the table, so there the column keeps an empty default; scamwall always writes it.
"""

from __future__ import annotations

import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

_groups = sa.table(
    "sharing_groups",
    sa.column("id", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("name_folded", sa.String()),
)


def _folded(name: str) -> str:
    # scamwall.store.access.group_key as of this migration (a migration keeps its own copy),
    # cut to the column: only a name of letters that unfold into many ("ﷺ") is longer, and
    # add_group refuses such names from now on
    return unicodedata.normalize("NFKC", " ".join(name.split())).casefold()[:300]


def upgrade() -> None:
    op.add_column(
        "sharing_groups",
        sa.Column("name_folded", sa.String(length=300), nullable=False, server_default=""),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(_groups.c.id, _groups.c.name).order_by(_groups.c.id)).all()
    names = {row.name for row in rows}
    first: dict[str, str] = {}  # a folded name: the stored name of the group that has it
    for group_id, name in rows:
        stored, folded = name, _folded(name)
        attempt = 0
        while folded in first or (stored != name and stored in names):
            attempt += 1
            suffix = f" ({group_id})" if attempt == 1 else f" ({group_id}.{attempt})"
            stored = name[: 100 - len(suffix)] + suffix
            folded = _folded(stored)
        if stored != name:
            log.warning(
                "sharing groups %r and %r have one name whatever the case; the second is "
                "renamed %r (not merged: each keeps its members and its sightings)",
                first[_folded(name)],
                name,
                stored,
            )
            names.add(stored)
        first[folded] = stored
        connection.execute(
            sa.update(_groups)
            .where(_groups.c.id == group_id)
            .values(name=stored, name_folded=folded)
        )
    if connection.dialect.name == "postgresql":
        op.alter_column("sharing_groups", "name_folded", server_default=None)
    op.create_index("uq_sharing_groups_name_folded", "sharing_groups", ["name_folded"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_sharing_groups_name_folded", table_name="sharing_groups")
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), as 0006 does
    op.drop_column("sharing_groups", "name_folded")
