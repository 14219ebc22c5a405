"""Where each sync with a peer stopped, per collection and direction, so the next goes on."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from scamwall.store.repository import Store
from scamwall.store.schema import sync_positions

__all__ = ["load_position", "save_position"]


def load_position(store: Store, peer: str, collection: str, direction: str) -> str | None:
    """The position saved last for this peer, collection and direction (pull or push)."""
    with store.reading() as connection:
        return connection.execute(
            select(sync_positions.c.position).where(
                sync_positions.c.peer == peer,
                sync_positions.c.collection == collection,
                sync_positions.c.direction == direction,
            )
        ).scalar_one_or_none()


def save_position(
    store: Store,
    peer: str,
    collection: str,
    direction: str,
    position: str | None,
    *,
    connection: Connection | None = None,
) -> None:
    """Remember where this sync got to (replacing what was saved); in ``connection``'s
    transaction when given, so the position is stored with what it counts."""
    if connection is None:
        with store.transaction() as own:
            save_position(store, peer, collection, direction, position, connection=own)
        return
    dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(sync_positions).values(
        peer=peer,
        collection=collection,
        direction=direction,
        position=position,
        updated_at=datetime.now(UTC),
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["peer", "collection", "direction"],
            set_={"position": position, "updated_at": statement.excluded.updated_at},
        )
    )
