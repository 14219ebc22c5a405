"""The store: schema, migrations and the one repository everything reads and writes through."""

from scamwall.store.database import connect, migrate
from scamwall.store.records import Agency, LegalBasis, Sighting, sighting_id
from scamwall.store.repository import ImportRecord, Store, StoreCounts, WriteResult

__all__ = [
    "Agency",
    "ImportRecord",
    "LegalBasis",
    "Sighting",
    "Store",
    "StoreCounts",
    "WriteResult",
    "connect",
    "migrate",
    "sighting_id",
]
