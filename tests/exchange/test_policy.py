"""The sharing policy, checked on random worlds: every read path returns exactly what it allows.

Each example builds its own agencies, groups, users, tokens and sightings of every TLP in a real
store (SQLite and PostgreSQL), then asks as every caller, the anonymous public included, and
compares what comes back with the rules in ``scamwall.exchange.policy``.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from scamwall.errors import InvalidInput, PermissionDenied
from scamwall.exchange.legal import DefaultLegalBasis
from scamwall.exchange.policy import Caller, Marking, Role, can_see
from scamwall.exchange.reads import SHAREABLE_TLPS, list_indicators, lookup, shared_sightings
from scamwall.indicators import parse_indicator
from scamwall.settings import DEFAULT_LEGAL_INSTRUMENT
from scamwall.store import LegalBasis, Sighting, Store
from scamwall.store.access import Access
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

T0 = datetime(2026, 11, 1, tzinfo=UTC)
#: "Now" for the shared view: every sighting of the random worlds is within the default retention.
NOW = T0 + timedelta(days=30)
LEGAL = DefaultLegalBasis()


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
            shared_sightings(store, caller, legal=LEGAL, now=NOW)
        return
    by_id = {f.id: f for f in facts}
    shared, order, cursor = set(), [], None
    while True:
        page = shared_sightings(store, caller, legal=LEGAL, cursor=cursor, limit=2, now=NOW)
        for item in page.items:
            if item.sighting.id in by_id:  # recipients only mean something on RED
                assert item.sighting == replace(by_id[item.sighting.id], recipients=frozenset())
            # no basis of their own: the default, in the reporting agency's country
            assert item.legal_basis == LEGAL.effective(
                None, country="TH", observed_at=item.sighting.observed_at
            )
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
    everything = shared_sightings(store, reader, legal=LEGAL, now=NOW).items
    assert sorted(i.sighting.indicator.canonical for i in everything) == [
        "scam0.test",
        "scam1.test",
        "scam2.test",
    ]
    first = everything[0].added
    later = shared_sightings(store, reader, legal=LEGAL, added_after=first, now=NOW).items
    assert [i.sighting.id for i in later] == [i.sighting.id for i in everything if i.added > first]
    with pytest.raises(InvalidInput, match="cursor"):
        shared_sightings(store, reader, legal=LEGAL, cursor="2026-11-30T00:00:00+00:00~not-an-id")
    with pytest.raises(InvalidInput, match="limit"):
        shared_sightings(store, reader, legal=LEGAL, limit=0)


def _reported(store: Store, agency_code: str, name: str, **changes: Any) -> Sighting:
    fields: dict[str, Any] = {
        "indicator": parse_indicator(name),
        "agency": store.get_agency(agency_code),
        "observed_at": T0,
        "source_kind": SourceKind.POLICE_CASE,
        "confidence": 80,
        "tlp": Tlp.GREEN,
    }
    fields.update(changes)
    return Sighting(**fields)


def test_shared_sightings_carry_the_groups_they_are_shared_with(store: Store) -> None:
    agency = store.add_agency("TH-CCIB", name="CCIB", country="TH", kind=AgencyKind.POLICE)
    access = Access(store)
    mekong = access.add_group("Mekong", members=["TH-CCIB"])
    border = access.add_group("Border", members=["TH-CCIB"])
    store.record_sightings(
        [
            _reported(store, "TH-CCIB", "two.test", tlp=Tlp.AMBER, groups={mekong.id, border.id}),
            _reported(store, "TH-CCIB", "one.test", tlp=Tlp.AMBER, groups={border.id}),
            _reported(store, "TH-CCIB", "none.test"),
        ]
    )
    reader = Caller("peer", Role.ANALYST, agency_id=agency.id)
    items = shared_sightings(store, reader, legal=LEGAL, now=NOW).items
    groups = {i.sighting.indicator.canonical: i.sighting.groups for i in items}
    assert groups == {
        "two.test": {mekong.id, border.id},
        "one.test": {border.id},
        "none.test": frozenset(),
    }


def test_shared_sightings_carry_their_legal_basis_and_stop_at_its_limit(store: Store) -> None:
    agency = store.add_agency("TH-CCIB", name="CCIB", country="TH", kind=AgencyKind.POLICE)
    mla = LegalBasis("MM", "MLA request 2026/114", T0 + timedelta(days=90))
    order = LegalBasis("TH-10", "Bangkok criminal court order 55/2026")  # sets no limit
    store.record_sightings(
        [
            _reported(store, "TH-CCIB", "own-limit.test", legal_basis=mla),
            _reported(
                store,
                "TH-CCIB",
                "own-no-limit.test",
                legal_basis=order,
                observed_at=T0 - timedelta(days=700),
            ),
            _reported(store, "TH-CCIB", "default.test"),
            _reported(store, "TH-CCIB", "default-old.test", observed_at=T0 - timedelta(days=729)),
        ]
    )
    reader = Caller("peer", Role.ANALYST, agency_id=agency.id)

    def shared(at: datetime, legal: DefaultLegalBasis = LEGAL) -> dict[str, Any]:
        page = shared_sightings(store, reader, legal=legal, now=at)
        return {item.sighting.indicator.canonical: item for item in page.items}

    today = shared(T0)
    assert set(today) == {"own-limit.test", "own-no-limit.test", "default.test", "default-old.test"}
    assert today["own-limit.test"].legal_basis == mla
    assert today["own-limit.test"].sighting.legal_basis == mla
    # an own basis without a limit keeps its law and gets the default limit
    assert today["own-no-limit.test"].legal_basis == replace(
        order, retain_until=T0 + timedelta(days=30)
    )
    assert today["own-no-limit.test"].sighting.legal_basis == order  # the fact as stored
    default = today["default.test"]
    assert default.sighting.legal_basis is None
    assert default.legal_basis == LegalBasis(
        "TH", DEFAULT_LEGAL_INSTRUMENT, T0 + timedelta(days=730)
    )
    assert default.outgoing.legal_basis == default.legal_basis
    assert default.outgoing.id == default.sighting.id
    # a limit reached is a limit past: the sighting stops leaving at that instant
    assert set(shared(T0 + timedelta(days=1))) == {
        "own-limit.test",
        "own-no-limit.test",
        "default.test",
    }
    assert set(shared(T0 + timedelta(days=30))) == {"own-limit.test", "default.test"}
    assert set(shared(T0 + timedelta(days=90))) == {"default.test"}
    assert shared(T0 + timedelta(days=730)) == {}
    # the operator's own default: its instrument, and its retention for those without a limit
    mou = DefaultLegalBasis("Mekong MoU 2025 art. 4", retention_days=365)
    with_mou = shared(T0, mou)
    assert set(with_mou) == {"own-limit.test", "default.test"}
    assert with_mou["default.test"].legal_basis == LegalBasis(
        "TH", "Mekong MoU 2025 art. 4", T0 + timedelta(days=365)
    )
    with pytest.raises(InvalidInput, match="time zone"):
        shared_sightings(store, reader, legal=LEGAL, now=T0.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("instrument", "days", "field"),
    [(" ", 730, "instrument"), ("ok", 0, "retention_days"), ("a\x00b", 730, "instrument")],
)
def test_a_default_legal_basis_is_checked_like_any_other(
    instrument: str, days: int, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        DefaultLegalBasis(instrument, days)
    assert caught.value.details["field"] == field


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    facts=st.lists(
        st.tuples(
            st.integers(0, 3 * 24 * 60),  # observed, minutes after T0
            st.booleans(),  # an own basis?
            st.none() | st.integers(-60, 3 * 24 * 60),  # its limit, minutes after observed
        ),
        min_size=1,
        max_size=8,
    ),
    now_minute=st.integers(0, 6 * 24 * 60),
    retention_days=st.integers(1, 3),
)
def test_what_leaves_is_exactly_what_its_legal_basis_still_allows(
    store: Store,
    facts: list[tuple[int, bool, int | None]],
    now_minute: int,
    retention_days: int,
) -> None:
    """The SQL condition (``RETAINED``) and the basis each item carries agree, to the minute."""
    tag = uuid.uuid4().hex[:8]
    agency = store.add_agency(f"A{tag}", name=tag, country="LA", kind=AgencyKind.POLICE)
    legal = DefaultLegalBasis("police-to-police", retention_days)
    now = T0 + timedelta(minutes=now_minute)
    recorded = []
    for n, (observed_minute, has_basis, limit_minute) in enumerate(facts):
        observed = T0 + timedelta(minutes=observed_minute)
        basis = None
        if has_basis:
            limit = None if limit_minute is None else observed + timedelta(minutes=limit_minute)
            basis = LegalBasis("LA", f"instrument {n}", limit)
        recorded.append(
            _reported(
                store, agency.code, f"{tag}-{n}.test", observed_at=observed, legal_basis=basis
            )
        )
    store.record_sightings(recorded)
    expected = {}
    for fact in recorded:
        effective = legal.effective(fact.legal_basis, country="LA", observed_at=fact.observed_at)
        assert effective.retain_until is not None
        if effective.retain_until > now:
            expected[fact.id] = effective
    reader = Caller("peer", Role.ANALYST, agency_id=agency.id)
    page = shared_sightings(store, reader, legal=legal, now=now)
    got = {i.sighting.id: i.legal_basis for i in page.items if i.sighting.agency.id == agency.id}
    assert got == expected


@pytest.mark.parametrize(
    ("where", "searched"),
    [
        ({"added_after": T0}, "(reported_at>?)"),
        # the next page of a paging: a range from the cursor on, wherever it is in the index
        ({"cursor": f"{T0.isoformat()}~{uuid.UUID(int=7)}"}, "((reported_at,id)>(?,?))"),
    ],
)
def test_a_shared_page_is_a_range_read_on_the_arrival_index(
    store: Store, where: dict[str, Any], searched: str
) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("the plan checked is SQLite's; PostgreSQL's depends on its statistics")
    agency = store.add_agency("TH-CCIB", name="CCIB", country="TH", kind=AgencyKind.POLICE)
    store.record_sightings([_reported(store, "TH-CCIB", "scam.test")])
    statements: list[tuple[str, Any]] = []

    def keep(*args: Any) -> None:
        statements.append((args[2], args[3]))

    event.listen(store.engine, "before_cursor_execute", keep)
    try:
        shared_sightings(
            store,
            Caller("peer", Role.ANALYST, agency_id=agency.id),
            legal=LEGAL,
            now=NOW,
            **where,
        )
    finally:
        event.remove(store.engine, "before_cursor_execute", keep)
    statement, parameters = next((s, p) for s, p in statements if "ORDER BY" in s)
    with store.engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        plan = " / ".join(
            row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
        )
    assert f"SEARCH sightings USING INDEX ix_sightings_reported_at_id {searched}" in plan, plan
    assert "TEMP B-TREE" not in plan
