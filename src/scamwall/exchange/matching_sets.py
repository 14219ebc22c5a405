"""The set an agency brings to private matching: which of its phone numbers or bank accounts
it may put in, read through the sharing policy.

Private matching (``docs/private-matching.md``) tells the other side whether it holds an
element too. So the set of an agency, as responder or as initiator, is exactly what this
instance would let go to that agency anyway: the indicators of the sightings
:func:`scamwall.exchange.reads.shared_sightings` gives it (visible to it under
:data:`~scamwall.exchange.policy.VISIBLE`, marked CLEAR, GREEN or AMBER, not disputed by an
accepted appeal, not past its retention limit). RED and AMBER+STRICT sightings never leave an
instance, and neither does the one bit "we hold this number too" about them: an indicator seen
only under those markings is never in a matching set, even for a caller who may read the
sighting here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, exists, select

from scamwall.errors import PermissionDenied
from scamwall.exchange.legal import RETAINED, DefaultLegalBasis, retention_parameters
from scamwall.exchange.policy import VISIBLE, Caller, caller_parameters
from scamwall.exchange.reads import SHAREABLE_TLPS
from scamwall.indicators import Indicator, IndicatorKind
from scamwall.store.repository import Store
from scamwall.store.schema import disputed_sightings, indicators, sightings

__all__ = ["MatchKind", "matching_set"]


class MatchKind(StrEnum):
    """The kinds private matching compares: values with little entropy that agencies hold in
    lists, where a plain exchange would give the whole list away."""

    PHONE = "phone"
    BANK_ACCOUNT = "bank_account"

    @property
    def indicator_kind(self) -> IndicatorKind:
        """The indicator kind of the same name."""
        return IndicatorKind(self.value)


_KIND = bindparam("kind", type_=indicators.c.kind.type)
# Built once, so the statement compiles once; the caller's parameters are bound per call.
_MATCHING_SET = (
    select(indicators.c.canonical)
    .where(
        indicators.c.kind == _KIND,
        exists()
        .where(
            sightings.c.indicator_id == indicators.c.id,
            VISIBLE,
            sightings.c.tlp.in_([tlp.value for tlp in SHAREABLE_TLPS]),
            ~exists().where(disputed_sightings.c.sighting_id == sightings.c.id),
            RETAINED,
        )
        .correlate(indicators),
    )
    .order_by(indicators.c.canonical)
)


def matching_set(
    store: Store,
    caller: Caller,
    kind: MatchKind,
    *,
    legal: DefaultLegalBasis,
    now: datetime | None = None,
) -> list[Indicator]:
    """The indicators of ``kind`` with at least one sighting that may go to ``caller``
    (visible to it, CLEAR, GREEN or AMBER, not disputed, not past its retention limit under
    ``legal``, the operator's default basis), ordered by canonical form.

    Only member agencies' users take part: the public and feed clients get
    :class:`PermissionDenied`. Nothing is audited here; the caller records the session with its
    sizes (a matching set never leaves in the clear).
    """
    if not caller.is_member:
        raise PermissionDenied("private matching is for member agencies' users")
    with store.reading() as connection:
        rows: Sequence[Any] = connection.execute(
            _MATCHING_SET,
            {
                "kind": kind.value,
                **caller_parameters(caller),
                **retention_parameters(legal, now),
            },
        ).all()
    indicator_kind = kind.indicator_kind
    return [Indicator(indicator_kind, row.canonical) for row in rows]
