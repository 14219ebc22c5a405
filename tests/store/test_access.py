"""Users and tokens in the store, on every backend: what is refused is refused before anything
is written."""

from __future__ import annotations

from datetime import timedelta

import pytest

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
