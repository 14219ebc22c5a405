"""Who a peer's sighting is recorded as: the one rule every way in from a peer (a TAXII write,
a sync pull, a STIX file) applies to the identities it names.

A peer instance speaks for its own country's agencies. A sighting whose identity names no
scamwall agency (a CERT's or OpenCTI's identity) is recorded as the peer agency's own; one
naming an agency of the peer's country that this instance knows is recorded as that agency's.
One naming an agency of another country, or an agency this instance does not know, is *relayed*:
it is not taken from this peer (our own sightings coming back, or a third country's, which that
country's instance shares itself), so no peer can report in another country's name.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace

from scamwall.exchange.stix_import import ImportedFact, PeerIdentity
from scamwall.store import Agency, Sighting
from scamwall.vocabulary import Tlp

__all__ = ["RELAYED", "PeerClaims", "peer_claims", "peer_sightings"]

#: What :func:`peer_claims` answers for a relayed sighting; such facts are left out.
RELAYED = "\x00relayed"


@dataclass(frozen=True, slots=True)
class PeerClaims:
    """The agency code a peer's identity stands for here (None: the peer agency's own), or
    :data:`RELAYED`. Plain data, so a reading process can take it with a page."""

    #: the peer agency's country
    country: str
    #: this instance's agencies' countries, by code
    countries: Mapping[str, str]

    def __call__(self, identity: PeerIdentity) -> str | None:
        claimed = identity.agency_code
        if claimed is None:
            return None
        if self.countries.get(claimed) != self.country:
            return RELAYED  # another country's, or an agency this instance does not know
        return claimed


def peer_claims(peer_agency: Agency, local: Mapping[str, Agency]) -> PeerClaims:
    """What a peer's identities stand for here; ``local`` holds this instance's agencies by
    code."""
    return PeerClaims(peer_agency.country, {code: a.country for code, a in local.items()})


def peer_sightings(
    facts: Iterable[ImportedFact],
    local: Mapping[str, Agency],
    *,
    share_amber_with: Collection[int] = (),
) -> tuple[list[Sighting], int]:
    """The sightings to record from a peer's facts (mapped by :func:`peer_claims`), AMBER ones
    shared with the groups ``share_amber_with``; and how many were relayed and left out."""
    groups = frozenset(share_amber_with)
    sightings, relayed = [], 0
    for fact in facts:
        if fact.agency_code == RELAYED:
            relayed += 1
            continue
        sighting = fact.to_sighting(local.__getitem__)
        if groups and sighting.tlp is Tlp.AMBER:
            sighting = replace(sighting, groups=sighting.groups | groups)
        sightings.append(sighting)
    return sightings, relayed
