"""The sharing policy: who may see which sighting. Every read path asks this module.

Rules (TLP 2.0 and sharing groups):

============== ====================================================================
marking        visible to
============== ====================================================================
CLEAR          anyone, the anonymous public included
GREEN          every user of every member agency (not the public)
AMBER          the reporting agency's users, and users of agencies in the sharing
               groups named on the sighting
AMBER+STRICT   the reporting agency's users only
RED            only the users named on the sighting (through the API, the submitter always is)
============== ====================================================================

Roles narrow this further: ``feed`` clients (enforcement machines) read feeds, never sightings;
``public`` callers see CLEAR only; a ``peer`` (another country's instance syncing over TAXII)
reads like an analyst of its agency, and writes only through TAXII, where it alone may report
for the other agencies of its agency's country. ``admin`` manages agencies, groups and tokens
but sees sightings like any analyst of its agency: administration is not a way around TLP.

What a caller learns about sightings it may not see: for an indicator it can look up, the number
of hidden sightings and of distinct agencies behind them, *except RED ones*, which are not counted
at all (a count would already tell that someone holds RED data on it). So a public check of a
phone number can answer "reported by 3 agencies, details restricted".

The rules exist twice, on purpose, and a property test holds them equal: :func:`can_see` for one
sighting in Python, and :data:`VISIBLE` as SQL (bound with :func:`caller_parameters`) for queries
over millions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Integer, and_, bindparam, exists, or_, select

from scamwall.store.schema import group_members, sighting_groups, sighting_recipients, sightings
from scamwall.vocabulary import Tlp

__all__ = [
    "CURATORS",
    "OUTSIDERS",
    "READERS",
    "SCREENERS",
    "VISIBLE",
    "WRITERS",
    "Caller",
    "Marking",
    "Role",
    "caller_parameters",
    "can_see",
    "counted_when_hidden",
]


class Role(StrEnum):
    """What a user or machine client may do."""

    ADMIN = "admin"
    ANALYST = "analyst"
    INVESTIGATOR = "investigator"
    FEED = "feed"
    PUBLIC = "public"
    #: another instance's sync client: reads like an analyst of its agency; writes through TAXII
    #: only, for the agencies of its agency's country (a national instance speaks for them)
    PEER = "peer"


#: Roles that may submit sightings.
WRITERS = frozenset({Role.ADMIN, Role.ANALYST, Role.INVESTIGATOR})
#: Roles that may read sightings (the public only CLEAR ones).
READERS = frozenset({Role.ADMIN, Role.ANALYST, Role.INVESTIGATOR, Role.PUBLIC, Role.PEER})
#: Roles that may ask for a verdict (messages, addresses, calls, a value's reputation): the
#: readers, and feed clients (an operator's SMS gateway or switch).
SCREENERS = READERS | {Role.FEED}
#: Roles that curate what is enforced: allowlist, publication, appeals.
CURATORS = frozenset({Role.ADMIN, Role.ANALYST})
#: Roles of callers outside the member agencies' staff: they read no restricted sightings.
OUTSIDERS = frozenset({Role.PUBLIC, Role.FEED})


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: a user of an agency, a machine client, or the anonymous public."""

    name: str
    role: Role
    user_id: int | None = None
    agency_id: int | None = None
    agency_code: str | None = None
    group_ids: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def anonymous(cls) -> Caller:
        """The public, without a token."""
        return cls(name="anonymous", role=Role.PUBLIC)

    @property
    def is_member(self) -> bool:
        """A user of a member agency (not the public, not a feed machine)."""
        return self.agency_id is not None and self.role not in OUTSIDERS


@dataclass(frozen=True, slots=True)
class Marking:
    """What the policy needs to know about one sighting."""

    tlp: Tlp
    agency_id: int
    group_ids: frozenset[int] = frozenset()
    recipient_ids: frozenset[int] = frozenset()


def can_see(caller: Caller, marking: Marking) -> bool:
    """True when ``caller`` may see a sighting with this ``marking``."""
    if caller.role not in READERS:
        return False
    if marking.tlp is Tlp.CLEAR:
        return True
    if not caller.is_member:
        return False
    if marking.tlp is Tlp.GREEN:
        return True
    if marking.tlp is Tlp.AMBER:
        return caller.agency_id == marking.agency_id or bool(caller.group_ids & marking.group_ids)
    if marking.tlp is Tlp.AMBER_STRICT:
        return caller.agency_id == marking.agency_id
    return caller.user_id is not None and caller.user_id in marking.recipient_ids


def counted_when_hidden(tlp: Tlp) -> bool:
    """Whether a hidden sighting still counts in "N hidden sightings" (never for RED)."""
    return tlp is not Tlp.RED


#: Bind parameters of :data:`VISIBLE`; :func:`caller_parameters` gives their values.
_READS = bindparam("caller_reads", type_=Boolean)
_MEMBER = bindparam("caller_is_member", type_=Boolean)
_AGENCY = bindparam("caller_agency_id", type_=Integer)
_USER = bindparam("caller_user_id", type_=Integer)
# the caller's agency's groups, read from the membership table in the same statement
_GROUPS = select(group_members.c.group_id).where(group_members.c.agency_id == _AGENCY)

#: SQL condition on ``sightings`` rows equal to :func:`can_see`, for the caller whose
#: :func:`caller_parameters` are bound. Built once: statements using it compile once.
VISIBLE: ColumnElement[bool] = or_(
    and_(_READS, sightings.c.tlp == Tlp.CLEAR.value),
    and_(
        _MEMBER,
        or_(
            sightings.c.tlp == Tlp.GREEN.value,
            and_(
                sightings.c.tlp == Tlp.AMBER.value,
                or_(
                    sightings.c.agency_id == _AGENCY,
                    exists(
                        select(sighting_groups.c.sighting_id).where(
                            sighting_groups.c.sighting_id == sightings.c.id,
                            sighting_groups.c.group_id.in_(_GROUPS),
                        )
                    ),
                ),
            ),
            and_(sightings.c.tlp == Tlp.AMBER_STRICT.value, sightings.c.agency_id == _AGENCY),
            and_(
                sightings.c.tlp == Tlp.RED.value,
                exists(
                    select(sighting_recipients.c.sighting_id).where(
                        sighting_recipients.c.sighting_id == sightings.c.id,
                        sighting_recipients.c.user_id == _USER,
                    )
                ),
            ),
        ),
    ),
)


def caller_parameters(caller: Caller) -> dict[str, Any]:
    """The values of :data:`VISIBLE`'s parameters for ``caller``."""
    return {
        "caller_reads": caller.role in READERS,
        "caller_is_member": caller.is_member and caller.role in READERS,
        "caller_agency_id": caller.agency_id if caller.agency_id is not None else -1,
        "caller_user_id": caller.user_id if caller.user_id is not None else -1,
    }
