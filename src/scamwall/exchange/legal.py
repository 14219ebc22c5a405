"""The legal basis a sighting leaves under, and when it stops leaving.

A sighting may carry the basis its reporting agency named (:class:`~scamwall.store.LegalBasis`:
jurisdiction, instrument, retention limit). One that names none is shared under the operator's
default (:class:`DefaultLegalBasis`): the reporting agency's country, the instrument of
``SCAMWALL_EXCHANGE_LEGAL_INSTRUMENT``, and a limit ``SCAMWALL_EXCHANGE_RETENTION_DAYS`` after it
was observed. An own basis without a limit gets that limit too, so every shared sighting tells
the peer when to delete it. Past its limit a sighting is no longer shared: :data:`RETAINED` says
so in SQL, bound per read by :func:`retention_parameters`, and :meth:`DefaultLegalBasis.effective`
gives the same limit in Python.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam

from scamwall.errors import InvalidInput
from scamwall.settings import DEFAULT_LEGAL_INSTRUMENT, DEFAULT_RETENTION_DAYS, Settings
from scamwall.store.records import LegalBasis
from scamwall.store.schema import UTCDateTime, sightings

__all__ = [
    "RETAINED",
    "DefaultLegalBasis",
    "retention_parameters",
    "stored_legal_basis",
]

#: Most days a retention may last (a century), as the setting allows.
MAX_RETENTION_DAYS = 36_500


@dataclass(frozen=True, slots=True)
class DefaultLegalBasis:
    """What a sighting is shared under when its reporting agency named no basis or no limit."""

    instrument: str = DEFAULT_LEGAL_INSTRUMENT
    retention_days: int = DEFAULT_RETENTION_DAYS

    def __post_init__(self) -> None:
        # the instrument follows the rules of every other (clean text, 1-500 characters)
        object.__setattr__(self, "instrument", LegalBasis("INT", self.instrument).instrument)
        days = self.retention_days
        if isinstance(days, bool) or not isinstance(days, int):
            raise InvalidInput("retention_days must be a whole number", field="retention_days")
        if not 1 <= days <= MAX_RETENTION_DAYS:
            raise InvalidInput(
                f"retention_days must be 1-{MAX_RETENTION_DAYS}, got {days}",
                field="retention_days",
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> DefaultLegalBasis:
        """The default the operator configured (``SCAMWALL_EXCHANGE_*``)."""
        return cls(settings.exchange_legal_instrument, settings.exchange_retention_days)

    @property
    def retention(self) -> timedelta:
        """How long after it was observed a sighting without a limit of its own is shared."""
        return timedelta(days=self.retention_days)

    def effective(
        self, own: LegalBasis | None, *, country: str, observed_at: datetime
    ) -> LegalBasis:
        """The basis a sighting leaves under: ``own`` (given a limit when it has none), else
        this default in the reporting agency's ``country``."""
        if own is None:
            return LegalBasis(country, self.instrument, observed_at + self.retention)
        if own.retain_until is None:
            return dataclasses.replace(own, retain_until=observed_at + self.retention)
        return own


#: The sighting is still within its retention: its own limit is ahead, or it has none and was
#: observed within the default retention. Columns against bound times only, so each backend
#: tests it on the rows an index read walks, and no backend's date arithmetic is needed.
RETAINED = (sightings.c.retain_until > bindparam("retained_at", type_=UTCDateTime())) | (
    sightings.c.retain_until.is_(None)
    & (sightings.c.observed_at > bindparam("retained_observed_after", type_=UTCDateTime()))
)


def retention_parameters(default: DefaultLegalBasis, now: datetime | None = None) -> dict[str, Any]:
    """The values :data:`RETAINED` is bound to at ``now`` (default: the current time)."""
    moment = datetime.now(UTC) if now is None else now
    if moment.tzinfo is None:
        raise InvalidInput("now needs a time zone", field="now")
    return {"retained_at": moment, "retained_observed_after": moment - default.retention}


def stored_legal_basis(row: Any) -> LegalBasis | None:
    """The basis a ``sightings`` row carries (its ``jurisdiction``, ``legal_instrument`` and
    ``retain_until`` columns), or None when the reporting agency named none."""
    if row.jurisdiction is None:
        return None
    return LegalBasis(row.jurisdiction, row.legal_instrument, row.retain_until)
