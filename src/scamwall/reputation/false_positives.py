"""False-positive reports: an agency's word that an indicator is not malicious.

A report never removes a sighting (facts are appended, opinions derived); it lowers the score by
the trust in the agency that made it, fading with age like a sighting (see
:mod:`scamwall.reputation.scoring`). To make sure a value is never blocked, allowlist it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from scamwall.errors import PermissionDenied
from scamwall.exchange.policy import WRITERS, Caller
from scamwall.indicators import Indicator, IndicatorKind, parse_indicator
from scamwall.store.audit import AuditLog
from scamwall.store.bulk import insert_ignoring_known
from scamwall.store.repository import INDICATOR_COLUMNS, Store
from scamwall.store.schema import false_positive_reports, indicators
from scamwall.validation import clean_text

__all__ = ["FalsePositiveReport", "report_false_positive"]


@dataclass(frozen=True, slots=True)
class FalsePositiveReport:
    """A stored report."""

    id: int
    indicator: Indicator
    agency: str
    reported_at: datetime
    note: str | None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "indicator": self.indicator.as_dict(),
            "agency": self.agency,
            "reported_at": self.reported_at.isoformat(),
            "note": self.note,
        }


def report_false_positive(
    store: Store,
    value: str,
    *,
    agency_code: str,
    caller: Caller,
    note: str | None = None,
    kind: str | IndicatorKind | None = None,
    region: str | None = None,
    origin: str | None = None,
) -> FalsePositiveReport:
    """Record (and audit) that ``agency_code`` holds ``value`` to be no fraud."""
    if caller.role not in WRITERS:
        raise PermissionDenied(f"role {caller.role} may not report false positives")
    indicator = parse_indicator(value, kind, region)
    agency = store.get_agency(agency_code)
    text = clean_text(note, field="note", max_length=2000) if note else None
    now = datetime.now(UTC)
    with store.transaction() as connection:
        insert_ignoring_known(
            connection,
            indicators,
            INDICATOR_COLUMNS,
            [
                (
                    indicator.id,
                    indicator.kind.value,
                    indicator.canonical,
                    indicator.registered_domain,
                    now,
                )
            ],
        )
        new_id = connection.execute(
            false_positive_reports.insert().values(
                indicator_id=indicator.id,
                agency_id=agency.id,
                reported_at=now,
                reported_by=caller.name,
                note=text,
            )
        ).inserted_primary_key
        AuditLog(store).record(
            caller,
            "false_positive.report",
            target=f"{indicator.kind.value}:{indicator.canonical}",
            detail={"agency": agency.code},
            origin=origin,
            connection=connection,
        )
    assert new_id is not None
    return FalsePositiveReport(new_id[0], indicator, agency.code, now, text)
