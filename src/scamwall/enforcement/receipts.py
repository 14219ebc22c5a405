"""Enforcement receipts: resolvers, firewalls and switches report how often each entry hit.

A receipt comes back as a sighting of the value by the consumer's agency, source kind
``enforcement_receipt``, GREEN, with a note such as "blocked at resolver dns1.bkk: 412 hits
(2026-11-29T00:00:00+00:00 to 2026-11-30T00:00:00+00:00)". It shows on the indicator's page like
any sighting, and weighs nothing in its score (our own verdict echoed back must not keep a
mistaken entry alive, see :mod:`scamwall.reputation.scoring`). The same receipt sent twice is
one fact (its id covers the consumer and the period).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from scamwall.enforcement.blocklist import Blocklist
from scamwall.errors import InvalidIndicator, InvalidInput, PayloadTooLarge, PermissionDenied
from scamwall.exchange.policy import Caller, Role
from scamwall.indicators import parse_indicator
from scamwall.intake.submit import SubmitResult
from scamwall.store import Sighting, Store
from scamwall.store.audit import AuditLog
from scamwall.validation import clean_text
from scamwall.vocabulary import SourceKind, Tlp

__all__ = ["MAX_HITS", "RECEIPT_SENDERS", "record_receipts"]

#: Roles that may send receipts: the machines loading the feeds, and administrators.
RECEIPT_SENDERS = frozenset({Role.FEED, Role.ADMIN})
#: Hits one receipt may report for one entry: more than any resolver counts in a period (a
#: billion lookups of one name), and the limit of the API's other counters.
MAX_HITS = 2**31 - 1


def _moment(value: Any, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be an ISO 8601 time", field=field)
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except ValueError:
        raise InvalidInput(f"{field} is not an ISO 8601 time: {value!r}", field=field) from None
    except OverflowError:  # a time whose UTC falls outside years 1-9999
        raise InvalidInput(
            f"{field} is out of range: {value!r}; give a time between years 1 and 9999 in UTC",
            field=field,
        ) from None


def record_receipts(
    store: Store,
    caller: Caller,
    *,
    consumer: str,
    hits: Sequence[Any],
    period_start: str | None = None,
    period_end: str | None = None,
    max_batch: int,
    blocklist: Blocklist | None = None,
    origin: str | None = None,
) -> SubmitResult:
    """Store one consumer's hit counts ``[{"value", "kind"?, "hits"}]`` as sightings; bad
    items come back with their index and reason, the others are stored. With ``blocklist``
    (the feeds now), a value no entry blocks is refused: a consumer only blocks what we
    list."""
    if caller.role not in RECEIPT_SENDERS or caller.agency_code is None:
        raise PermissionDenied(
            f"role {caller.role.value} may not send enforcement receipts (feed clients do)"
        )
    if len(hits) > max_batch:
        raise PayloadTooLarge(f"at most {max_batch} hit counts per request; split the batch")
    name = clean_text(consumer, field="consumer", max_length=100)
    if not name:
        raise InvalidInput("name the resolver, firewall or switch that blocked", field="consumer")
    now = datetime.now(UTC)
    start = _moment(period_start, "period_start")
    end = _moment(period_end, "period_end") or now
    if end > now:
        raise InvalidInput("period_end is in the future", field="period_end")
    if start is not None and start > end:
        raise InvalidInput("period_start is after period_end", field="period_start")
    period = (
        f" ({start.isoformat()} to {end.isoformat()})" if start else f" (until {end.isoformat()})"
    )
    agency = store.get_agency(caller.agency_code)
    result = SubmitResult()
    good: list[Sighting] = []
    for index, item in enumerate(hits):
        try:
            sighting = _receipt(
                item, agency=agency, consumer=name, period=period, start=start, end=end
            )
            indicator = sighting.indicator
            if (
                blocklist is not None
                and blocklist.match(indicator.kind, indicator.canonical) is None
            ):
                raise InvalidInput(
                    f"{indicator.canonical} is on no feed at serial {blocklist.serial}",
                    field="value",
                )
        except (InvalidInput, InvalidIndicator) as exc:
            result.rejected.append(
                {"index": index, "field": exc.details.get("field", "value"), "error": exc.message}
            )
            result.ids.append(None)
            continue
        good.append(sighting)
        result.ids.append(sighting.id)
    with store.transaction() as connection:
        written = store.record_sightings(good, connection=connection)
        if good:
            AuditLog(store).record(
                caller,
                "feeds.receipts",
                target=f"consumer:{name}",
                detail={"accepted": written.inserted, "rejected": len(result.rejected)},
                origin=origin,
                connection=connection,
            )
    result.accepted, result.duplicates = written.inserted, written.duplicates
    return result


def _receipt(
    item: Any,
    *,
    agency: Any,
    consumer: str,
    period: str,
    start: datetime | None,
    end: datetime,
) -> Sighting:
    if not isinstance(item, dict):
        raise InvalidInput('expected an object {"value", "kind"?, "hits"}', field=None)
    value, count = item.get("value"), item.get("hits")
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("value is required", field="value")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_HITS:
        raise InvalidInput(f"hits must be a whole number from 1 to {MAX_HITS}", field="hits")
    kind = item.get("kind")
    if kind is not None and not isinstance(kind, str):
        raise InvalidInput("kind must be a string", field="kind")
    indicator = parse_indicator(value, kind, agency.country)
    return Sighting(
        indicator=indicator,
        agency=agency,
        observed_at=end,
        source_kind=SourceKind.ENFORCEMENT_RECEIPT,
        confidence=100,
        tlp=Tlp.GREEN,
        note=f"blocked at {consumer}: {count} hits{period}",
        # one fact per consumer, value, period and count: the same receipt sent again is a
        # duplicate; a corrected count for the period is a fact of its own, not dropped
        evidence_ref=f"receipt:{consumer}:{start.isoformat() if start else ''}:{count}",
    )
