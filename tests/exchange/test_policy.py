"""The sharing policy, checked on random worlds: every read path returns exactly what it allows.

Each example builds its own agencies, groups, users, tokens and sightings of every TLP in a real
store (SQLite and PostgreSQL), then asks as every caller, the anonymous public included, and
compares what comes back with the rules in ``scamwall.exchange.policy``.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scamwall.errors import InvalidInput, PermissionDenied
from scamwall.exchange.policy import Caller, Marking, Role, can_see
from scamwall.exchange.reads import SHAREABLE_TLPS, list_indicators, lookup, shared_sightings
from scamwall.indicators import parse_indicator
from scamwall.store import Sighting, Store
from scamwall.store.access import Access
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, object]:
    n_agencies = draw(st.integers(1, 4))
    n_groups = draw(st.integers(0, 3))
    groups = [
        draw(st.sets(st.integers(0, n_agencies - 1), max_size=n_agencies)) for _ in range(n_groups)
    ]
    users = [
        (draw(st.integers(0, n_agencies - 1)), draw(st.sampled_from(list(Role))))
        for _ in range(draw(st.integers(1, 6)))
    ]
    n_indicators = draw(st.integers(1, 3))
    sightings = [
        {
            "indicator": draw(st.integers(0, n_indicators - 1)),
            "agency": draw(st.integers(0, n_agencies - 1)),
            "tlp": draw(st.sampled_from(list(Tlp))),
            "groups": draw(st.sets(st.integers(0, max(n_groups - 1, 0)), max_size=n_groups)),
            "recipients": draw(st.sets(st.integers(0, len(users) - 1), max_size=len(users))),
            "submitter": draw(st.none() | st.integers(0, len(users) - 1)),
            "minute": draw(st.integers(0, 10_000)),
        }
        for _ in range(draw(st.integers(1, 10)))
    ]
    return {
        "agencies": n_agencies,
        "groups": groups,
        "users": users,
        "indicators": n_indicators,
        "sightings": sightings,
    }


def _build(store: Store, world: dict[str, object]) -> tuple[list[Caller], list, list]:  # type: ignore[type-arg]
    tag = uuid.uuid4().hex[:8]
    access = Access(store)
    codes = [f"A{tag}-{i}" for i in range(world["agencies"])]  # type: ignore[arg-type]
    agencies = [store.add_agency(c, name=c, country="TH", kind=AgencyKind.POLICE) for c in codes]
    group_ids = [
        access.add_group(f"g{tag}-{i}", members=[codes[m] for m in members]).id
        for i, members in enumerate(world["groups"])  # type: ignore[arg-type]
    ]
    users = [
        access.add_user(f"u{tag}-{i}", agency_code=codes[a], role=role)
        for i, (a, role) in enumerate(world["users"])  # type: ignore[arg-type]
    ]
    callers = [access.authenticate(access.issue_token(u).secret) for u in users]
    callers.append(Caller.anonymous())
    indicators = [
        parse_indicator(f"i{tag}-{i}.example")
        for i in range(world["indicators"])  # type: ignore[arg-type]
    ]
    facts = []
    for spec in world["sightings"]:  # type: ignore[attr-defined]
        submitter = users[spec["submitter"]] if spec["submitter"] is not None else None
        fact = Sighting(
            indicator=indicators[spec["indicator"]],
            agency=agencies[spec["agency"]],
            observed_at=T0 + timedelta(minutes=spec["minute"]),
            source_kind=SourceKind.ANALYST,
            confidence=50,
            tlp=spec["tlp"],
            groups=frozenset(group_ids[g] for g in spec["groups"] if g < len(group_ids)),
            recipients=frozenset(users[r].id for r in spec["recipients"]),
            submitted_by=submitter.id if submitter else None,
        )
        facts.append(fact)
    stored: dict[str, Sighting] = {}
    for fact in facts:  # first report of a fact wins, markings included
        stored.setdefault(fact.id, fact)
    store.record_sightings(facts)
    return callers, indicators, list(stored.values())


def _marking(fact: Sighting) -> Marking:
    recipients = set(fact.recipients) if fact.tlp is Tlp.RED else set()
    if fact.tlp is Tlp.RED and fact.submitted_by is not None:
        recipients.add(fact.submitted_by)
    return Marking(fact.tlp, fact.agency.id, fact.groups, frozenset(recipients))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_every_read_path_returns_exactly_what_the_policy_allows(
    store: Store, world: dict[str, object]
) -> None:
    callers, indicators, facts = _build(store, world)
    for caller in callers:
        for indicator in indicators:
            mine = [f for f in facts if f.indicator.id == indicator.id]
            allowed = {f.id for f in mine if can_see(caller, _marking(f))}
            hidden = [f for f in mine if f.id not in allowed and f.tlp is not Tlp.RED]
            if caller.role is Role.FEED:
                with pytest.raises(PermissionDenied):
                    lookup(store, caller, indicator)
                continue
            view = lookup(store, caller, indicator)
            assert {s.id for s in view.sightings} == allowed, (caller, indicator)
            assert view.hidden_sightings == len(hidden)
            assert view.hidden_agencies == len({f.agency.id for f in hidden})
            assert view.known == bool(allowed or hidden)
        if caller.is_member:
            listed = set()
            cursor = None
            while True:
                page = list_indicators(store, caller, cursor=cursor, limit=2)
                listed |= {item["id"] for item in page.items}
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            expected = {f.indicator.id for f in facts if can_see(caller, _marking(f))}
            assert listed & {i.id for i in indicators} == expected
        else:
            with pytest.raises(PermissionDenied):
                list_indicators(store, caller)
        _check_shared(store, caller, facts)


def _check_shared(store: Store, caller: Caller, facts: list[Sighting]) -> None:
    """What may leave for ``caller``, paged in arrival order: what it may see, never RED or
    AMBER+STRICT; each sighting rebuilt whole, with its id."""
    if caller.role is Role.FEED:
        with pytest.raises(PermissionDenied):
            shared_sightings(store, caller)
        return
    by_id = {f.id: f for f in facts}
    shared, order, cursor = set(), [], None
    while True:
        page = shared_sightings(store, caller, cursor=cursor, limit=2)
        for item in page.items:
            if item.sighting.id in by_id:  # recipients only mean something on RED
                assert item.sighting == replace(by_id[item.sighting.id], recipients=frozenset())
            shared.add(item.sighting.id)
            order.append((item.added, item.sighting.id))
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert order == sorted(order)
    expected = {f.id for f in facts if can_see(caller, _marking(f)) and f.tlp in SHAREABLE_TLPS}
    assert shared & set(by_id) == expected


def test_rules_table() -> None:
    own, other = 1, 2
    analyst = Caller("a", Role.ANALYST, user_id=10, agency_id=own, group_ids=frozenset({7}))
    outsider = Caller("o", Role.ANALYST, user_id=11, agency_id=other)
    public = Caller.anonymous()
    feed = Caller("f", Role.FEED, user_id=12, agency_id=own)
    cases = [
        (Marking(Tlp.CLEAR, other), [analyst, outsider, public], [feed]),
        (Marking(Tlp.GREEN, other), [analyst, outsider], [public, feed]),
        (Marking(Tlp.AMBER, other, frozenset({7})), [analyst, outsider], [public, feed]),
        (Marking(Tlp.AMBER, own), [analyst], [outsider, public, feed]),
        (Marking(Tlp.AMBER_STRICT, own, frozenset({7})), [analyst], [outsider, public, feed]),
        (Marking(Tlp.RED, own, recipient_ids=frozenset({11})), [outsider], [analyst, public, feed]),
    ]
    for marking, allowed, refused in cases:
        for caller in allowed:
            assert can_see(caller, marking), (caller.name, marking)
        for caller in refused:
            assert not can_see(caller, marking), (caller.name, marking)


def test_shared_sightings_resume_after_a_time_and_refuse_a_forged_cursor(store: Store) -> None:
    agency = store.add_agency("TH-POLICE", name="Thai police", country="TH", kind=AgencyKind.POLICE)
    for number in range(3):
        store.record_sightings(
            [
                Sighting(
                    indicator=parse_indicator(f"scam{number}.test"),
                    agency=agency,
                    observed_at=T0,
                    source_kind=SourceKind.POLICE_CASE,
                    confidence=80,
                    tlp=Tlp.GREEN,
                )
            ]
        )
    reader = Caller("peer", Role.ANALYST, agency_id=agency.id)
    everything = shared_sightings(store, reader).items
    assert sorted(i.sighting.indicator.canonical for i in everything) == [
        "scam0.test",
        "scam1.test",
        "scam2.test",
    ]
    first = everything[0].added
    later = shared_sightings(store, reader, added_after=first).items
    assert [i.sighting.id for i in later] == [i.sighting.id for i in everything if i.added > first]
    with pytest.raises(InvalidInput, match="cursor"):
        shared_sightings(store, reader, cursor="2026-11-30T00:00:00+00:00~not-an-id")
    with pytest.raises(InvalidInput, match="limit"):
        shared_sightings(store, reader, limit=0)
