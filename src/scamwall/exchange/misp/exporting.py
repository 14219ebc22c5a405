"""MISP export: sightings the caller may share become one :class:`pymisp.MISPEvent`.

The caller reads the sightings it may share through :mod:`scamwall.exchange.reads`. Phone
numbers, bank accounts, wallets, chat handles and SMS senders become objects of the templates
pymisp ships, the rest plain attributes (:mod:`~scamwall.exchange.misp.attributes` has the
mapping); the TLP, confidence and classification tags are those of
:mod:`~scamwall.exchange.misp.tags`. Every uuid is a UUIDv5 of the sighting id, so the same facts
export to the same event and a peer deduplicates. RED never leaves; AMBER+STRICT only when the
caller allows it. Enforcement receipts (a resolver's "blocked here, N hits") stay home too:
MISP has no field that keeps a block apart from a report, and a peer would read one as fresh,
confident evidence of fraud. Every attribute has ``to_ids`` on (each is something to block);
notes go out as comments, evidence references stay home (they name internal cases). The event
has one creator, the exporting agency: sightings of other agencies in it are attributed to that
agency by whoever reads it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pymisp import MISPEvent, MISPObject, MISPOrganisation

from scamwall.errors import UsageError
from scamwall.exchange.misp.attributes import ATTRIBUTE_TYPES, object_shape
from scamwall.exchange.misp.tags import (
    GSMA_TAGS,
    SCAM_TAG,
    TLP_DISTRIBUTION,
    confidence_tag,
    most_restricted,
)
from scamwall.indicators.kinds import uuid5_text
from scamwall.store import Agency, Sighting
from scamwall.vocabulary import SourceKind, Tlp

__all__ = ["EXPORTABLE_TLPS", "MISP_NAMESPACE", "MispExport", "export_misp_event", "misp_org_uuid"]

log = logging.getLogger(__name__)

#: UUIDv5 namespace of every uuid scamwall writes into MISP. Never change it: peers dedup on them.
MISP_NAMESPACE = uuid.UUID("0f6c4b8e-2d7a-5e31-9c40-6a5b3e8d1f27")
#: Markings that may leave by default. RED is refused always, AMBER+STRICT unless allowed.
EXPORTABLE_TLPS = frozenset({Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER})


def misp_org_uuid(agency_code: str) -> str:
    """The ``Orgc`` uuid scamwall writes for an agency: the same on every instance."""
    return uuid5_text(MISP_NAMESPACE, f"org|{agency_code}")


@dataclass(frozen=True, slots=True)
class MispExport:
    """One MISP event built from sightings, and the ids of those it holds and held back."""

    event: MISPEvent
    exported: tuple[str, ...]
    #: held back by their TLP
    refused: tuple[str, ...]
    #: held back as enforcement receipts (module docstring)
    receipts: tuple[str, ...] = ()

    def to_json(self, indent: int | None = None) -> str:
        """``{"Event": {...}}`` as MISP imports it and a feed holds it, keys sorted."""
        return '{"Event": ' + self.event.to_json(sort_keys=True, indent=indent) + "}"


def export_misp_event(
    sightings: Iterable[Sighting],
    *,
    info: str,
    agency: Agency,
    event_date: date | None = None,
    event_uuid: str | None = None,
    allow: frozenset[Tlp] = EXPORTABLE_TLPS,
    tags: Iterable[str] = (),
    now: datetime | None = None,
) -> MispExport:
    """A MISP event from ``agency`` holding the sightings whose TLP is in ``allow``.

    The event is tagged with its most restricted TLP, the scam classification and ``tags``; each
    attribute with its own TLP, confidence and, where one fits, a ``gsma-fraud`` tag. Without
    ``event_uuid`` the uuid derives from the agency, ``info`` and the facts; without
    ``event_date``, the latest observation's day, else the UTC day of ``now`` (default: the
    current time).
    """
    if Tlp.RED in allow:
        raise UsageError("TLP:RED never leaves scamwall: remove it from allow")
    shared: list[Sighting] = []
    refused: list[Sighting] = []
    receipts: list[str] = []
    for sighting in sightings:
        if sighting.source_kind is SourceKind.ENFORCEMENT_RECEIPT:
            receipts.append(sighting.id)
            continue
        (shared if sighting.tlp in allow else refused).append(sighting)
    if refused:
        log.info("MISP export held back %d sightings by their TLP", len(refused))
    if receipts:
        log.info("MISP export held back %d enforcement receipts", len(receipts))
    shared.sort(key=lambda s: (s.observed_at, s.id))
    ids = tuple(s.id for s in shared)
    event = MISPEvent()
    event.uuid = event_uuid or uuid5_text(
        MISP_NAMESPACE, "|".join(("event", agency.code, info, *sorted(ids)))
    )
    event.info = info
    # UTC, as every time scamwall writes: the host's local day can be a day off either way.
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    event.set_date(event_date or (shared[-1].observed_at.date() if shared else today))
    event.threat_level_id = 4  # undefined: the tags say what it is
    event.analysis = 2
    org = MISPOrganisation()
    org.name = agency.code
    org.uuid = misp_org_uuid(agency.code)
    event.Orgc = org
    if shared:
        strictest = most_restricted(s.tlp for s in shared)
        event.distribution = TLP_DISTRIBUTION[strictest]
        event.add_tag(f"tlp:{strictest.value}")
    for tag in (SCAM_TAG, *tags):
        event.add_tag(tag)
    for sighting in shared:
        _add_sighting(event, sighting)
    return MispExport(event, ids, tuple(s.id for s in refused), tuple(receipts))


def _attribute_fields(sighting: Sighting) -> dict[str, Any]:
    tags = [f"tlp:{sighting.tlp.value}", confidence_tag(sighting.confidence)]
    if sighting.indicator.kind in GSMA_TAGS:
        tags.append(GSMA_TAGS[sighting.indicator.kind])
    return {
        "uuid": uuid5_text(MISP_NAMESPACE, sighting.id),
        "comment": sighting.note or "",
        "first_seen": sighting.observed_at,
        "to_ids": True,
        "Tag": [{"name": tag} for tag in tags],
    }


def _add_sighting(event: MISPEvent, sighting: Sighting) -> None:
    indicator = sighting.indicator
    fields = _attribute_fields(sighting)
    if indicator.kind in ATTRIBUTE_TYPES:
        event.add_attribute(ATTRIBUTE_TYPES[indicator.kind], indicator.canonical, **fields)
        return
    name, relation, value, extra = object_shape(indicator)
    obj = MISPObject(name, strict=True, standalone=False)
    obj.uuid = uuid5_text(MISP_NAMESPACE, f"object|{sighting.id}")
    obj.first_seen = sighting.observed_at
    obj.add_attribute(relation, value=value, **fields)
    for extra_relation, extra_value in extra:
        extra_uuid = uuid5_text(MISP_NAMESPACE, f"{sighting.id}|{extra_relation}")
        obj.add_attribute(
            extra_relation, value=extra_value, uuid=extra_uuid, disable_correlation=True
        )
    event.add_object(obj)
