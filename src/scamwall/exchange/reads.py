"""Every read of sightings goes through here, and here through the sharing policy.

Nothing else in scamwall selects sighting rows for a caller: the API, the CLI and (later) the
exports, TAXII and the graph call these functions, which filter with
:data:`scamwall.exchange.policy.VISIBLE` in SQL and write the audit entries for reads of
AMBER and RED data.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
    tuple_,
)

from scamwall.errors import InvalidInput, PermissionDenied
from scamwall.exchange.legal import (
    RETAINED,
    DefaultLegalBasis,
    retention_parameters,
    stored_legal_basis,
)
from scamwall.exchange.policy import (
    VISIBLE,
    Caller,
    Role,
    caller_parameters,
    counted_when_hidden,
)
from scamwall.indicators import Indicator, IndicatorKind
from scamwall.store.audit import AuditLog
from scamwall.store.records import Agency, LegalBasis, Sighting
from scamwall.store.repository import Store
from scamwall.store.schema import (
    agencies,
    disputed_sightings,
    group_members,
    id_set,
    indicators,
    read_id_set,
    sharing_groups,
    sighting_groups,
    sightings,
)
from scamwall.validation import clean_text
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

__all__ = [
    "SHAREABLE_TLPS",
    "IndicatorPage",
    "IndicatorView",
    "SharedPage",
    "SharedSighting",
    "SightingView",
    "arrival_cursor",
    "list_indicators",
    "lookup",
    "shared_sightings",
]

AUDITED_TLPS = frozenset({Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED})
MAX_PAGE = 1000

_INDICATOR = bindparam("indicator_id", type_=sightings.c.indicator_id.type)
_SIGHTINGS_WITH_VERDICT = (
    select(sightings, agencies.c.code, case((VISIBLE, True), else_=False).label("visible"))
    .join(agencies, agencies.c.id == sightings.c.agency_id)
    .where(sightings.c.indicator_id == _INDICATOR)
    .order_by(sightings.c.observed_at.desc(), sightings.c.id)
)


@dataclass(frozen=True, slots=True)
class SightingView:
    """A sighting as a caller who may see it sees it."""

    id: str
    agency: str
    observed_at: datetime
    reported_at: datetime
    source_kind: str
    confidence: int
    tlp: Tlp
    note: str | None
    evidence_ref: str | None
    groups: tuple[str, ...]
    #: The basis the reporting agency named, if it named one.
    legal_basis: LegalBasis | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "agency": self.agency,
            "observed_at": self.observed_at.isoformat(),
            "reported_at": self.reported_at.isoformat(),
            "source_kind": self.source_kind,
            "confidence": self.confidence,
            "tlp": self.tlp.value,
            "note": self.note,
            "evidence_ref": self.evidence_ref,
            "groups": list(self.groups),
            "legal_basis": None if self.legal_basis is None else self.legal_basis.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class IndicatorView:
    """What a caller learns about one indicator: its visible sightings and a hidden count."""

    indicator: Indicator
    known: bool
    sightings: tuple[SightingView, ...]
    hidden_sightings: int
    hidden_agencies: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        visible_agencies = {s.agency for s in self.sightings}
        return {
            **self.indicator.as_dict(),
            "known": self.known,
            "sightings": [s.as_dict() for s in self.sightings],
            "visible_agencies": len(visible_agencies),
            "hidden_sightings": self.hidden_sightings,
            "hidden_agencies": self.hidden_agencies,
        }


def _group_names(connection: Connection, sighting_ids: list[str]) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    if sighting_ids:
        query = (
            select(sighting_groups.c.sighting_id, sharing_groups.c.name)
            .join(sharing_groups, sharing_groups.c.id == sighting_groups.c.group_id)
            .where(sighting_groups.c.sighting_id.in_(sighting_ids))
        )
        for sighting_id, name in connection.execute(query):
            names.setdefault(str(sighting_id), []).append(name)
    return names


def lookup(
    store: Store, caller: Caller, indicator: Indicator, *, origin: str | None = None
) -> IndicatorView:
    """One indicator as ``caller`` may see it; AMBER and RED reads are audited.

    One query reads the indicator's sightings with the policy's verdict on each; hidden ones
    leave this function only as two numbers (and RED ones not even so).
    """
    if caller.role is Role.FEED:
        raise PermissionDenied("feed clients read enforcement feeds, not sightings")
    with store.reading() as connection:
        rows = connection.execute(
            _SIGHTINGS_WITH_VERDICT, {"indicator_id": indicator.id, **caller_parameters(caller)}
        ).all()
        visible = [r for r in rows if r.visible]
        names = _group_names(connection, [r.id for r in visible if r.tlp == Tlp.AMBER.value])
    hidden = [r for r in rows if not r.visible and counted_when_hidden(Tlp(r.tlp))]
    views = tuple(
        SightingView(
            str(r.id),
            r.code,
            r.observed_at,
            r.reported_at,
            r.source_kind,
            r.confidence,
            Tlp(r.tlp),
            r.note,
            r.evidence_ref,
            tuple(sorted(names.get(str(r.id), []))),
            stored_legal_basis(r),
        )
        for r in visible
    )
    sensitive = [v.id for v in views if v.tlp in AUDITED_TLPS]
    if sensitive:
        AuditLog(store).record(
            caller,
            "read",
            target=f"indicator:{indicator.id}",
            detail={"sightings": sensitive},
            origin=origin,
        )
    return IndicatorView(
        indicator=indicator,
        # an indicator with only RED sightings the caller cannot see stays unknown to it
        known=bool(views) or bool(hidden),
        sightings=views,
        hidden_sightings=len(hidden),
        hidden_agencies=len({r.agency_id for r in hidden}),
    )


def _utc(moment: datetime | None, field: str) -> datetime | None:
    """Times without a zone are UTC, as in intake; times beyond UTC's range are refused."""
    if moment is None:
        return None
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{moment.isoformat()} is out of range", field=field) from None


@dataclass(frozen=True, slots=True)
class IndicatorPage:
    """One page of a listing, and the cursor for the next (None at the end)."""

    items: tuple[dict[str, Any], ...]
    next_cursor: str | None


def list_indicators(
    store: Store,
    caller: Caller,
    *,
    kind: IndicatorKind | None = None,
    registered_domain: str | None = None,
    agency_code: str | None = None,
    tlp: Tlp | None = None,
    observed_after: datetime | None = None,
    observed_before: datetime | None = None,
    cursor: str | None = None,
    limit: int = 100,
    origin: str | None = None,
) -> IndicatorPage:
    """Indicators with at least one sighting the caller may see and that matches the filters,
    ordered by id; ``cursor`` is the ``next_cursor`` of the page before."""
    if not caller.is_member:
        raise PermissionDenied("listing is for member agencies; the public may look up a value")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1-{MAX_PAGE}", field="limit")
    observed_after = _utc(observed_after, "observed_after")
    observed_before = _utc(observed_before, "observed_before")
    if agency_code is not None:
        agency_code = clean_text(agency_code, field="agency", max_length=32).upper()
    if registered_domain is not None:
        registered_domain = clean_text(registered_domain, field="registered_domain", max_length=253)
    conditions: list[Any] = [sightings.c.indicator_id == indicators.c.id, VISIBLE]
    if agency_code is not None:
        conditions.append(
            sightings.c.agency_id
            == select(agencies.c.id).where(agencies.c.code == agency_code).scalar_subquery()
        )
    if tlp is not None:
        conditions.append(sightings.c.tlp == tlp.value)
    if observed_after is not None:
        conditions.append(sightings.c.observed_at >= observed_after)
    if observed_before is not None:
        conditions.append(sightings.c.observed_at < observed_before)
    visible_count = (
        select(func.count()).where(and_(*conditions)).correlate(indicators).scalar_subquery()
    )
    # which indicators hold AMBER/RED data is itself sensitive: such rows are audited
    sensitive = (
        exists()
        .where(and_(*conditions, sightings.c.tlp.in_([t.value for t in AUDITED_TLPS])))
        .correlate(indicators)
    )
    query = select(
        indicators, visible_count.label("visible_sightings"), sensitive.label("sensitive")
    ).where(exists().where(and_(*conditions)))
    if kind is not None:
        query = query.where(indicators.c.kind == kind.value)
    if registered_domain is not None:
        query = query.where(indicators.c.registered_domain == registered_domain.lower())
    if cursor is not None:
        try:
            cursor = str(uuid.UUID(cursor))
        except ValueError:
            raise InvalidInput("cursor is not one this API gave out", field="cursor") from None
        query = query.where(indicators.c.id > cursor)
    query = query.order_by(indicators.c.id).limit(limit + 1)
    with store.reading() as connection:
        rows: Sequence[Any] = connection.execute(query, caller_parameters(caller)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = tuple(
        {
            "id": str(r.id),
            "kind": r.kind,
            "canonical": r.canonical,
            "registered_domain": r.registered_domain,
            "visible_sightings": int(r.visible_sightings),
        }
        for r in rows
    )
    audited = [str(r.id) for r in rows if r.sensitive]
    if audited:
        AuditLog(store).record(
            caller,
            "list",
            target=f"tlp:{tlp.value}" if tlp else None,
            detail={"indicators": audited},
            origin=origin,
        )
    return IndicatorPage(items, str(rows[-1].id) if more and rows else None)


#: Markings that may leave this instance for a peer: RED and AMBER+STRICT never do.
SHAREABLE_TLPS = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER)

#: The sharing groups of each sighting (``"1,3"``; None: none), read with the sighting: asked
#: for afterwards by the page's ids, they took one bound parameter a sighting, a statement too
#: long for the drivers' caches.
_GROUP_IDS = id_set(
    sighting_groups.c.group_id, sighting_groups.c.sighting_id == sightings.c.id, "group_ids"
)

_SHARED = (
    select(
        sightings,
        _GROUP_IDS,
        indicators.c.kind.label("indicator_kind"),
        indicators.c.canonical,
        indicators.c.registered_domain,
        agencies.c.code.label("agency_code"),
        agencies.c.name.label("agency_name"),
        agencies.c.country.label("agency_country"),
        agencies.c.kind.label("agency_kind"),
    )
    .join(indicators, indicators.c.id == sightings.c.indicator_id)
    .join(agencies, agencies.c.id == sightings.c.agency_id)
    .where(
        VISIBLE,
        sightings.c.tlp.in_([tlp.value for tlp in SHAREABLE_TLPS]),
        ~exists().where(disputed_sightings.c.sighting_id == sightings.c.id),
        RETAINED,
    )
)


# A collection of a group: its agencies' sightings, and the AMBER ones shared with it (an
# AMBER sighting of a member agency shared with another group is not the group's).
_WANTED_GROUP = bindparam("wanted_group", type_=Integer)
_IN_GROUP = or_(
    and_(
        sightings.c.tlp != Tlp.AMBER.value,
        sightings.c.agency_id.in_(
            select(group_members.c.agency_id).where(group_members.c.group_id == _WANTED_GROUP)
        ),
    ),
    exists().where(
        sighting_groups.c.sighting_id == sightings.c.id,
        sighting_groups.c.group_id == _WANTED_GROUP,
    ),
)


@dataclass(frozen=True, slots=True)
class SharedSighting:
    """A sighting that may go to a peer, when it arrived here (``reported_at``) and the legal
    basis it leaves under (its own, or the default: see :mod:`scamwall.exchange.legal`)."""

    #: The fact as stored: its ``legal_basis`` is the reporting agency's own, or None.
    sighting: Sighting
    added: datetime
    legal_basis: LegalBasis

    @property
    def outgoing(self) -> Sighting:
        """The sighting as it leaves: carrying :attr:`legal_basis`, the effective one."""
        return replace(self.sighting, legal_basis=self.legal_basis)


@dataclass(frozen=True, slots=True)
class SharedPage:
    """Sightings in arrival order, and the cursor for the next page (None at the end)."""

    items: tuple[SharedSighting, ...]
    next_cursor: str | None


def _arrival_cursor(cursor: str) -> tuple[datetime, str]:
    """``(reported_at, id)`` of the last sighting of the page before."""
    moment, _, ident = cursor.partition("~")
    try:
        return datetime.fromisoformat(moment).astimezone(UTC), str(uuid.UUID(ident))
    except (ValueError, OverflowError):
        raise InvalidInput("cursor is not one this instance gave out", field="cursor") from None


def shared_sightings(
    store: Store,
    caller: Caller,
    *,
    legal: DefaultLegalBasis,
    added_after: datetime | None = None,
    cursor: str | None = None,
    limit: int = MAX_PAGE,
    origin: str | None = None,
    now: datetime | None = None,
    group_id: int | None = None,
    tlps: Collection[Tlp] | None = None,
    sighting_ids: Collection[str] | None = None,
    countries: Collection[str] | None = None,
    not_countries: Collection[str] = (),
    not_agencies: Collection[int] = (),
) -> SharedPage:
    """The sightings ``caller`` may see that may also leave this instance, in the order they
    arrived (``reported_at``, then id): what exports and exchange with peers send.

    Left out besides what the policy hides: RED and AMBER+STRICT sightings (they never leave),
    sightings an accepted appeal disputed (a withdrawn mistake is withdrawn for peers too), and
    sightings past their retention limit at ``now`` (default: the current time). Each item
    carries the legal basis it leaves under: its own, or ``legal``, the operator's default
    (``DefaultLegalBasis.from_settings``). ``added_after`` keeps the sightings that arrived after
    that time; ``cursor`` is the ``next_cursor`` of the page before. AMBER sightings that leave
    are audited.

    Narrower views (a TAXII collection): ``group_id`` keeps the sightings of the group's
    agencies and the AMBER ones shared with the group (an AMBER sighting of a member shared with
    another group is not the group's); ``tlps`` keeps those markings; ``sighting_ids`` keeps
    those sightings; ``countries`` keeps the sightings of those countries' agencies,
    ``not_countries`` and ``not_agencies`` (ids) leave theirs out. Narrowed in the query, so
    what is audited as shared is what the caller goes on to send.
    """
    if caller.role is Role.FEED:
        raise PermissionDenied("feed clients read enforcement feeds, not sightings")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1-{MAX_PAGE}", field="limit")
    query = _SHARED
    after = _utc(added_after, "added_after")
    if after is not None:
        query = query.where(sightings.c.reported_at > after)
    if cursor is not None:
        moment, ident = _arrival_cursor(cursor)
        # a row-value comparison, a range of the (reported_at, id) index on both backends; the
        # same condition written with OR had them scan the index from its start, so every page
        # of a paging cost more than the page before
        after_cursor = tuple_(
            moment, ident, types=[sightings.c.reported_at.type, sightings.c.id.type]
        )
        query = query.where(tuple_(sightings.c.reported_at, sightings.c.id) > after_cursor)
    narrowing: dict[str, Any] = {}
    if group_id is not None:
        query = query.where(_IN_GROUP)
        narrowing["wanted_group"] = group_id
    if tlps is not None:
        query = query.where(sightings.c.tlp.in_([tlp.value for tlp in tlps]))
    if sighting_ids is not None:
        query = query.where(sightings.c.id.in_(list(sighting_ids)))
    if countries is not None:
        query = query.where(agencies.c.country.in_(list(countries)))
    if not_countries:
        query = query.where(agencies.c.country.not_in(list(not_countries)))
    if not_agencies:
        query = query.where(sightings.c.agency_id.not_in(list(not_agencies)))
    query = query.order_by(sightings.c.reported_at, sightings.c.id).limit(limit + 1)
    parameters = {**caller_parameters(caller), **retention_parameters(legal, now), **narrowing}
    with store.reading() as connection:
        rows: Sequence[Any] = connection.execute(query, parameters).all()
        more = len(rows) > limit
        rows = rows[:limit]
        amber = [str(r.id) for r in rows if r.tlp == Tlp.AMBER.value]
    known: dict[int, Agency] = {}
    items = tuple(_shared_item(r, read_id_set(r.group_ids), legal, known) for r in rows)
    if amber:
        AuditLog(store).record(
            caller, "share", target="sightings", detail={"sightings": amber}, origin=origin
        )
    last = rows[-1] if more and rows else None
    next_cursor = _cursor_text(last.reported_at, str(last.id)) if last else None
    return SharedPage(items, next_cursor)


def _cursor_text(added: datetime, sighting: str) -> str:
    return f"{added.astimezone(UTC).isoformat()}~{sighting}"


def arrival_cursor(item: SharedSighting) -> str:
    """The cursor that goes on after ``item`` (for a caller that stops inside a page)."""
    return _cursor_text(item.added, item.sighting.id)


_INDICATOR_KINDS = {kind.value: kind for kind in IndicatorKind}
_SOURCE_KINDS = {kind.value: kind for kind in SourceKind}
_TLPS = {tlp.value: tlp for tlp in Tlp}


def _shared_item(
    row: Any, groups: frozenset[int], legal: DefaultLegalBasis, agencies: dict[int, Agency]
) -> SharedSighting:
    """One row of :data:`_SHARED` as the sighting it stores and the basis it leaves under;
    ``agencies`` holds the page's agencies, built once each."""
    own = stored_legal_basis(row)
    agency = agencies.get(row.agency_id)
    if agency is None:
        agency = agencies[row.agency_id] = Agency(
            row.agency_id,
            row.agency_code,
            row.agency_name,
            row.agency_country,
            AgencyKind(row.agency_kind),
        )
    fact = Sighting.stored(
        str(row.id),
        indicator=Indicator.stored(
            _INDICATOR_KINDS[row.indicator_kind],
            row.canonical,
            row.registered_domain,
            str(row.indicator_id),
        ),
        agency=agency,
        observed_at=row.observed_at,
        source_kind=_SOURCE_KINDS[row.source_kind],
        confidence=row.confidence,
        tlp=_TLPS[row.tlp],
        note=row.note,
        evidence_ref=row.evidence_ref,
        groups=groups,
        submitted_by=row.submitted_by,
        legal_basis=own,
    )
    basis = legal.effective(own, country=row.agency_country, observed_at=row.observed_at)
    return SharedSighting(fact, row.reported_at, basis)
