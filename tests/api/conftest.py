"""An API over a real store, with an admin and analysts of two agencies in a sharing group."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from scamwall.api import create_app
from scamwall.exchange.policy import Role
from scamwall.settings import Settings
from scamwall.store import Store
from scamwall.store.access import Access
from scamwall.vocabulary import AgencyKind


@dataclass
class World:
    client: TestClient
    store: Store
    admin: str
    thai: str
    chinese: str
    feed: str

    @staticmethod
    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(store: Store, database_url: str) -> Iterator[World]:
    store.add_agency("TH-CCIB", name="CCIB", country="TH", kind=AgencyKind.POLICE)
    store.add_agency("CN-MPS", name="MPS", country="CN", kind=AgencyKind.POLICE)
    store.add_agency("LA-MPS", name="MPS", country="LA", kind=AgencyKind.POLICE)
    access = Access(store)
    access.add_group("Mekong joint operation", members=["TH-CCIB", "CN-MPS"])
    tokens = {
        name: access.issue_token_for(agency_code=agency, role=role, user_name=name).secret
        for name, agency, role in [
            ("root", "TH-CCIB", Role.ADMIN),
            ("somchai", "TH-CCIB", Role.ANALYST),
            ("li", "CN-MPS", Role.ANALYST),
            ("resolver-1", "TH-CCIB", Role.FEED),
        ]
    }
    settings = Settings(database_url=database_url, api_anonymous_per_minute=10_000)
    with TestClient(create_app(settings, store=store)) as client:
        yield World(
            client, store, tokens["root"], tokens["somchai"], tokens["li"], tokens["resolver-1"]
        )
