"""MISP in and out: events from peers become sightings, sightings become MISP events.

**Import** reads MISP events (JSON text or files, a REST search answer, :class:`pymisp.MISPEvent`
objects, a feed directory) into :class:`~scamwall.store.Sighting` facts of the event creator's
agency. A bad attribute is rejected with its place and reason and the rest imports; nothing is
written: the caller records :attr:`MispImport.facts`.

**Export** builds one :class:`pymisp.MISPEvent` from sightings the caller may share, with
deterministic uuids so a peer deduplicates. RED never leaves.

The parts, each explained in its docstring:

============== ==================================================================================
module         holds
============== ==================================================================================
importing      the import: options, rejects, result, the importer, file and feed reading
exporting      the export, and the namespace of the uuids scamwall writes
attributes     which MISP attribute types and object templates carry which indicator kind
tags           the TLP, distribution, confidence and classification tags, read and written
fields         checked reading of one field of a peer's JSON
============== ==================================================================================

The API is what this module exports (``__all__``); the parts' other names serve each other.
"""

from scamwall.exchange.misp.exporting import (
    EXPORTABLE_TLPS,
    MISP_NAMESPACE,
    MispExport,
    export_misp_event,
    misp_org_uuid,
)
from scamwall.exchange.misp.importing import (
    AgencyResolver,
    MispImport,
    MispImportOptions,
    MispOrg,
    MispReject,
    agencies_by_org,
    import_misp_events,
    import_misp_feed,
    import_misp_file,
    import_misp_json,
)

__all__ = [
    "EXPORTABLE_TLPS",
    "MISP_NAMESPACE",
    "AgencyResolver",
    "MispExport",
    "MispImport",
    "MispImportOptions",
    "MispOrg",
    "MispReject",
    "agencies_by_org",
    "export_misp_event",
    "import_misp_events",
    "import_misp_feed",
    "import_misp_file",
    "import_misp_json",
    "misp_org_uuid",
]
