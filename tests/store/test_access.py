"""Users and tokens in the store, on every backend: what is refused is refused before anything
is written."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from scamwall.errors import InvalidInput, NotFound
from scamwall.exchange.policy import Role
from scamwall.store import Store
from scamwall.store.access import Access
from scamwall.vocabulary import AgencyKind


@pytest.fixture
def access(store: Store) -> Access:
    store.add_agency("TH-CCIB", name="CCIB", country="TH", kind=AgencyKind.POLICE)
    return Access(store)


def test_a_lifetime_past_ten_years_is_refused_and_no_user_is_created(access: Access) -> None:
    with pytest.raises(InvalidInput, match="3650 days at most"):
        access.issue_token_for(
            agency_code="TH-CCIB",
            role=Role.ANALYST,
            user_name="x3",
            expires_in=timedelta(days=3_000_000),
        )
    assert not access.user_exists("x3")
    assert access.list_tokens() == []
    issued = access.issue_token_for(
        agency_code="TH-CCIB", role=Role.ANALYST, user_name="x3", expires_in=timedelta(days=3650)
    )
    assert issued.expires_at is not None


def test_a_token_id_past_the_column_is_not_found(access: Access) -> None:
    for too_large in (2**31, 3_000_000_000, 10**20):  # tokens.id is 32-bit on PostgreSQL
        with pytest.raises(NotFound, match="no token with id"):
            access.revoke_token(too_large)


def test_a_disabled_user_gets_no_token(access: Access) -> None:
    issued = access.issue_token_for(agency_code="TH-CCIB", role=Role.ANALYST, user_name="kham")
    access.disable_user("kham")
    with pytest.raises(InvalidInput, match="kham is disabled"):
        access.issue_token_for(agency_code="TH-CCIB", role=Role.ANALYST, user_name="kham")
    with pytest.raises(InvalidInput, match="kham is disabled"):
        access.issue_token(issued.user)
    assert [t.id for t in access.list_tokens()] == [issued.id]


def test_a_token_is_read_without_the_spaces_and_line_end_around_it(access: Access) -> None:
    secret = access.issue_token_for(
        agency_code="TH-CCIB", role=Role.ANALYST, user_name="somchai"
    ).secret
    for written in (f"{secret}\n", f"  {secret}\r\n", f"\t{secret} "):
        assert access.authenticate(written).name == "somchai"


def test_a_group_is_one_name_however_it_is_written(access: Access) -> None:
    """Created, added to and named by a sighting with one folding (casefold): "Straße" is
    "STRASSE", which lower() had kept apart."""
    access.store.add_agency("CN-MPS", name="MPS", country="CN", kind=AgencyKind.POLICE)
    created = access.add_group("Straße Ops", members=["TH-CCIB"])
    joined = access.add_group("STRASSE  OPS", members=["CN-MPS"])
    assert (joined.id, joined.name) == (created.id, "Straße Ops")
    assert joined.members == ("CN-MPS", "TH-CCIB")
    for written in ("STRASSE OPS", "strasse ops", "Straße Ops", "ＳＴＲＡＳＳＥ ＯＰＳ"):
        assert access.group_ids_by_name([written]) == {created.id}
        assert access.get_group(written).id == created.id
    with pytest.raises(InvalidInput, match="unknown sharing group"):
        access.group_ids_by_name(["Strasse Ops 2"])
    assert len(access.list_groups()) == 1


def _at_once(work: Callable[[str], object], *arguments: str) -> list[BaseException]:
    """``work`` of each argument in threads started together; what they raised."""
    start = threading.Barrier(len(arguments))
    failures: list[BaseException] = []

    def run(argument: str) -> None:
        start.wait()
        try:
            work(argument)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_two_creations_at_once_of_one_name_in_two_cases_make_one_group(access: Access) -> None:
    for trial in range(10):
        name = f"ops{trial}x"
        failures = _at_once(
            lambda written: access.add_group(written, members=["TH-CCIB"]), name, name.upper()
        )
        assert failures == []
        assert [g.name.casefold() for g in access.list_groups()].count(name) == 1


def test_the_upgrade_keeps_groups_whose_names_differ_only_in_case_apart(database_url: str) -> None:
    """Made by a race before names were unique whatever their case: renamed, never merged
    (a merge would show each group's AMBER sightings to the other's members), and each of
    them, so that an import still naming an old name fails rather than finding the other."""
    from alembic import command

    from scamwall.store.database import _alembic_config

    store = Store.open(database_url, require_schema=False)
    try:
        command.upgrade(_alembic_config(store.engine), "0007")
        store.add_agency("TH-CCIB", name="CCIB", country="TH", kind=AgencyKind.POLICE)
        store.add_agency("CN-MPS", name="MPS", country="CN", kind=AgencyKind.POLICE)
        with store.transaction() as connection:
            for group_id, name, agency in ((1, "Ops", "TH-CCIB"), (2, "OPS", "CN-MPS")):
                connection.execute(
                    text(
                        "INSERT INTO sharing_groups (id, name, created_at) "
                        "VALUES (:id, :name, CURRENT_TIMESTAMP)"
                    ),
                    {"id": group_id, "name": name},
                )
                connection.execute(
                    text(
                        "INSERT INTO group_members (group_id, agency_id) "
                        "SELECT :id, id FROM agencies WHERE code = :code"
                    ),
                    {"id": group_id, "code": agency},
                )
        store.initialise()
        access = Access(store)
        groups = {g.id: (g.name, g.members) for g in access.list_groups()}
        assert groups == {1: ("Ops (1)", ("TH-CCIB",)), 2: ("OPS (2)", ("CN-MPS",))}
        for old_name in ("Ops", "OPS"):
            with pytest.raises(InvalidInput, match="unknown sharing group"):
                access.group_ids_by_name([old_name])
        assert access.group_ids_by_name(["ops (1)"]) == {1}
        assert access.group_ids_by_name(["ops (2)"]) == {2}
        with pytest.raises(IntegrityError), store.transaction() as connection:
            connection.execute(
                text(
                    "INSERT INTO sharing_groups (name, name_folded, created_at) "
                    "VALUES ('oPs (1)', 'ops (1)', CURRENT_TIMESTAMP)"
                )
            )
    finally:
        store.close()
