"""Sharing groups: a unique index on the group's name as compared (Unicode case folding).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08

A group name is one name whatever its case, spacing or Unicode form ("Straße Ops" is
"STRASSE OPS"). Compared in Python alone, two creations at once of names differing only in
case could both find nothing and both insert; ``name_folded`` holds the name as compared, and
its unique index lets only one in.

Existing groups whose names fold alike (made by such a race, or full-width forms) are kept
apart, never merged: merging would show each one's AMBER sightings to the other's members. All
of them are renamed ``"<name> (<id>)"``, the first too, with a warning naming them: an import
that still names one of the old names then fails as naming an unknown group, where, had one of
them kept its name, it would have found that group whichever it meant and shared new AMBER
sightings with its members.

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
    folds: dict[str, list[tuple[int, str]]] = {}
    for group_id, name in rows:
        folds.setdefault(_folded(name), []).append((group_id, name))
    taken = {name for _, name in rows}
    used: set[str] = set()
    renamed: list[tuple[str, str]] = []
    for groups in folds.values():
        for group_id, name in groups:
            stored = name
            if len(groups) > 1:  # each of them: no old name is left to find the wrong one
                attempt = 0
                while stored == name or stored in taken or _folded(stored) in used | set(folds):
                    attempt += 1
                    suffix = f" ({group_id})" if attempt == 1 else f" ({group_id}.{attempt})"
                    stored = name[: 100 - len(suffix)] + suffix
                taken.add(stored)
                renamed.append((name, stored))
            used.add(_folded(stored))
            connection.execute(
                sa.update(_groups)
                .where(_groups.c.id == group_id)
                .values(name=stored, name_folded=_folded(stored))
            )
    for name, stored in renamed:
        log.warning(
            "sharing group %r is renamed %r: another group has the same name whatever its "
            "case or form, and neither is merged into the other (each keeps its members and "
            "its sightings); imports naming %r fail until they name one of the new names",
            name,
            stored,
            name,
        )
    if connection.dialect.name == "postgresql":
        op.alter_column("sharing_groups", "name_folded", server_default=None)
    op.create_index("uq_sharing_groups_name_folded", "sharing_groups", ["name_folded"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_sharing_groups_name_folded", table_name="sharing_groups")
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), as 0006 does
    op.drop_column("sharing_groups", "name_folded")
