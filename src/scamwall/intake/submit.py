"""Sightings submitted by an authenticated caller (the API's ``POST /v1/sightings``).

The same record rules and reject reasons as bulk intake (:mod:`scamwall.intake.records`), plus two
fields that only make sense for a caller who is somebody: ``groups`` (names of the sharing groups
an AMBER sighting goes to) and ``recipients`` (names of the users a RED sighting goes to; the
submitter is always one). Good records are stored, bad ones come back with their index and reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scamwall.errors import InvalidRecord, PayloadTooLarge, PermissionDenied
from scamwall.exchange.policy import WRITERS, Caller
from scamwall.intake.records import RecordDefaults, sighting_from_record, with_markings
from scamwall.store import Sighting, Store
from scamwall.store.access import Access
from scamwall.store.audit import AuditLog
from scamwall.vocabulary import SourceKind, Tlp

__all__ = ["SubmitResult", "submit_sightings"]

AUDIT_IDS_LIMIT = 1000


@dataclass(slots=True)
class SubmitResult:
    """What happened to each record of a submission."""

    accepted: int = 0
    duplicates: int = 0
    ids: list[str | None] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "ids": self.ids,
            "rejected": self.rejected,
        }


def submit_sightings(
    store: Store,
    caller: Caller,
    records: Sequence[Any],
    *,
    max_batch: int,
    origin: str | None = None,
) -> SubmitResult:
    """Validate and store ``records`` reported by the caller's agency; audited."""
    if caller.role not in WRITERS or caller.agency_code is None:
        raise PermissionDenied(f"role {caller.role.value} may not submit sightings")
    if len(records) > max_batch:
        raise PayloadTooLarge(f"at most {max_batch} sightings per request; split the batch")
    agency = store.get_agency(caller.agency_code)
    access = Access(store)
    now = datetime.now(UTC)
    defaults = RecordDefaults(
        observed_at=now,
        tlp=Tlp.AMBER,
        source_kind=SourceKind.ANALYST,
        confidence=50,
        region=None,
    )
    result = SubmitResult()
    good: list[Sighting] = []
    for index, fields in enumerate(records):
        if not isinstance(fields, dict):
            result.rejected.append({"index": index, "field": None, "error": "expected an object"})
            result.ids.append(None)
            continue
        try:
            fact = sighting_from_record(fields, agency=agency, defaults=defaults, now=now)
            fact = with_markings(fact, fields, access, submitted_by=caller.user_id)
        except InvalidRecord as exc:
            result.rejected.append({"index": index, "field": exc.field, "error": exc.reason})
            result.ids.append(None)
            continue
        good.append(fact)
        result.ids.append(fact.id)
    with store.transaction() as connection:
        written = store.record_sightings(good, connection=connection)
        if good:
            AuditLog(store).record(
                caller,
                "submit_sightings",
                target=f"agency:{agency.code}",
                detail={
                    "accepted": written.inserted,
                    "duplicates": written.duplicates,
                    "rejected": len(result.rejected),
                    "sightings": [f.id for f in good[:AUDIT_IDS_LIMIT]],
                },
                origin=origin,
                connection=connection,
            )
    result.accepted, result.duplicates = written.inserted, written.duplicates
    return result
