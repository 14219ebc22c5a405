"""Private matching from the command line, between two instances: `scamwall match psi` against a
peer's API served over real HTTP on a loopback port, and keyed tokens carried by a file."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse

from scamwall.api import create_app
from scamwall.exchange.policy import Role
from scamwall.indicators import parse_indicator
from scamwall.settings import Settings
from scamwall.store import Sighting, Store
from scamwall.store.access import Access
from scamwall.store.audit import AuditLog
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp
from tests.serving import serving

Cli = Callable[..., tuple[int, str, str]]

#: What the Myanmar instance's own agency reports; TH-CCIB may be told of the GREEN and CLEAR.
PEER_REPORTS = [
    ("+66 81 000 0001", Tlp.GREEN),
    ("+66 81 000 0002", Tlp.CLEAR),
    ("+66 81 000 0003", Tlp.AMBER),  # shared with no group: TH-CCIB may not see it
    ("+66 81 000 0004", Tlp.RED),
    ("+95 9 421 234 567", Tlp.GREEN),
    ("TH:KBANK:123-4-56789-0", Tlp.GREEN),
]
#: What TH-CCIB reports on its own instance (CSV read with its country, TH).
OWN_REPORTS = (
    "value,kind,tlp\n"
    "+66 81 000 0001,phone,green\n"
    "081 000 0002,phone,green\n"
    "+66 81 000 0003,phone,amber\n"
    "+66 81 000 0004,phone,green\n"
    "+66 81 000 0009,phone,green\n"
    "+66 81 000 0010,phone,red\n"
    "TH:KBANK:1234567890,bank_account,green\n"
)
PEER_LIMIT = 5


@dataclass
class Peer:
    url: str
    token: str
    store: Store


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def peer(tmp_path: Path) -> Iterator[Peer]:
    """A second instance (Myanmar's, on SQLite) serving its API on a loopback port."""
    url = f"sqlite:///{tmp_path / 'peer.db'}"
    store = Store.open(url, require_schema=False)
    store.initialise()
    own = store.add_agency("MM-MPF", name="MPF", country="MM", kind=AgencyKind.POLICE)
    store.add_agency("TH-CCIB", name="CCIB", country="TH", kind=AgencyKind.POLICE)
    token = Access(store).issue_token_for(
        agency_code="TH-CCIB", role=Role.ANALYST, user_name="th-matcher"
    )
    store.record_sightings(
        [
            Sighting(
                indicator=parse_indicator(value, region="TH"),
                agency=own,
                observed_at=datetime(2026, 5, 1, tzinfo=UTC),
                source_kind=SourceKind.VICTIM_REPORT,
                confidence=80,
                tlp=tlp,
            )
            for value, tlp in PEER_REPORTS
        ]
    )
    settings = Settings(database_url=url, match_max_elements=PEER_LIMIT)
    app = create_app(settings, store=store)
    try:
        with serving(app) as base:
            yield Peer(base, token.secret, store)
    finally:
        store.close()


@pytest.fixture
def thai(cli: Cli, tmp_path: Path) -> Cli:
    """This instance, Thailand's, with TH-CCIB's own reports."""
    assert cli("init")[0] == 0
    assert cli("agency", "add", "TH-CCIB", "--country", "TH", "--kind", "police")[0] == 0
    source = tmp_path / "th.csv"
    source.write_text(OWN_REPORTS, encoding="utf-8")
    code, _, err = cli("ingest", str(source), "--agency", "TH-CCIB")
    assert code == 0, err
    return cli


def _psi(cli: Cli, peer: Peer, *extra: str, kind: str = "phone") -> tuple[int, str, str]:
    return cli(
        "match", "psi", "--peer", peer.url, "--token", peer.token, "--kind", kind,
        "--as", "th-ccib", *extra,
    )  # fmt: skip


def test_psi_with_a_peer_instance_prints_the_common_values(
    thai: Cli, peer: Peer, database_url: str
) -> None:
    code, out, err = _psi(thai, peer, "--json")
    assert code == 0, err
    # 0003 is AMBER at the peer and not shared with TH-CCIB; 0004 is RED there; 0010 is RED here
    assert [json.loads(line)["canonical"] for line in out.splitlines()] == [
        "+66810000001",
        "+66810000002",
    ]
    assert "2 phone values in common: 5 here (TH-CCIB), 3 at the peer" in " ".join(err.split())

    code, out, err = _psi(thai, peer, kind="bank_account")
    assert (code, out) == (0, "TH:KBANK:1234567890\n"), err

    # both instances audit the session under the same id, with sizes and never a value
    local = Store.open(database_url)
    try:
        ours = [e for e in AuditLog(local).entries() if e.action == "match_psi"]
    finally:
        local.close()
    theirs = [e for e in AuditLog(peer.store).entries() if e.action == "match_psi"]
    assert len(ours) == len(theirs) == 2
    assert ours[0].target == f"peer:{peer.url}/v1/match/psi"
    assert ours[0].detail is not None
    assert theirs[0].detail is not None
    assert ours[0].detail["session"] == theirs[0].detail["session"]
    assert {k: ours[0].detail[k] for k in ("own_size", "their_size", "matches")} == {
        "own_size": 5,
        "their_size": 3,
        "matches": 2,
    }
    assert (theirs[0].actor, theirs[0].agency) == ("th-matcher", "TH-CCIB")
    assert (theirs[0].detail["initiator_size"], theirs[0].detail["responder_size"]) == (5, 3)
    assert "+66" not in json.dumps([e.detail for e in ours + theirs])


def test_psi_refusals_end_with_the_error_s_exit_code(thai: Cli, peer: Peer, tmp_path: Path) -> None:
    code, _, err = thai(
        "match", "psi", "--peer", peer.url, "--token", "sw_wrong", "--kind", "phone",
        "--as", "TH-CCIB",
    )  # fmt: skip
    assert code == 77
    assert "answered 401" in err

    extra = tmp_path / "more.csv"
    extra.write_text("value,tlp\n+66 81 000 0011,green\n", encoding="utf-8")
    assert thai("ingest", str(extra), "--agency", "TH-CCIB")[0] == 0
    code, _, err = _psi(thai, peer)  # six numbers now, over the peer's limit of five
    assert code == 64
    assert f"at most {PEER_LIMIT}" in err

    closed = f"http://127.0.0.1:{_free_port()}"
    code, _, err = thai(
        "match", "psi", "--peer", closed, "--token", peer.token, "--kind", "phone",
        "--as", "TH-CCIB", "--timeout", "5",
    )  # fmt: skip
    assert code == 69
    assert "cannot reach the peer" in err

    code, _, err = thai(
        "match", "psi", "--peer", "ftp://127.0.0.1/", "--token", peer.token, "--kind", "phone",
        "--as", "TH-CCIB",
    )  # fmt: skip
    assert code == 64
    assert "not an http(s) URL" in " ".join(err.split())

    assert _psi(thai, peer, kind="domain")[0] == 2  # the option parser refuses other kinds


def test_redirects_are_not_followed_with_the_token(thai: Cli) -> None:
    seen: list[str | None] = []
    decoy = FastAPI()

    @decoy.post("/v1/match/psi")
    def redirect() -> RedirectResponse:
        return RedirectResponse("/elsewhere", status_code=302)

    @decoy.get("/elsewhere")
    def elsewhere(request: Request) -> dict[str, str]:
        seen.append(request.headers.get("authorization"))
        return {}

    with serving(decoy) as base:
        code, _, err = thai(
            "match", "psi", "--peer", base, "--token", "sw_secret", "--kind", "phone",
            "--as", "TH-CCIB",
        )  # fmt: skip
    assert code == 69
    assert "answered 302" in err
    assert seen == []


def test_the_token_may_come_from_the_environment(
    thai: Cli, peer: Peer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCAMWALL_PEER_TOKEN", peer.token)
    code, out, err = thai(
        "match", "psi", "--peer", peer.url + "/", "--kind", "phone", "--as", "TH-CCIB"
    )
    assert (code, out) == (0, "+66810000001\n+66810000002\n"), err


def test_keyed_tokens_carried_by_a_file(
    thai: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "group.key"
    key_file.write_text("9f" * 32 + "\n", encoding="utf-8")
    code, out, err = thai("match", "tokens", "--kind", "phone", "--as", "TH-CCIB", "--key-file",
                          str(key_file))  # fmt: skip
    assert code == 0, err
    tokens = out.splitlines()
    assert len(tokens) == 5  # the RED number stays out
    assert tokens == sorted(tokens)
    assert all(len(t) == 64 and set(t) <= set("0123456789abcdef") for t in tokens)
    published = tmp_path / "th.tokens"
    published.write_text(out + "not a token\n\n", encoding="utf-8")

    # Laos's instance, another database, compares its own numbers with the file
    monkeypatch.setenv("SCAMWALL_DATABASE_URL", f"sqlite:///{tmp_path / 'la.db'}")
    assert thai("init")[0] == 0
    assert thai("agency", "add", "LA-MPS", "--country", "LA", "--kind", "police")[0] == 0
    source = tmp_path / "la.csv"
    source.write_text(
        "value,tlp\n+66 81 000 0002,green\n+66 81 000 0009,amber\n+66 81 000 0077,green\n"
        "+66 81 000 0001,red\n",
        encoding="utf-8",
    )
    assert thai("ingest", str(source), "--agency", "LA-MPS")[0] == 0
    code, out, err = thai("match", "compare", str(published), "--kind", "phone", "--as", "LA-MPS",
                          "--key-file", str(key_file), "--json")  # fmt: skip
    assert code == 0, err
    assert [json.loads(line)["canonical"] for line in out.splitlines()] == [
        "+66810000002",
        "+66810000009",
    ]
    assert f"{published}:6: not a token" in err
    assert "(1 lines refused)" in " ".join(err.split())

    other_key = tmp_path / "other.key"
    other_key.write_text("a1" * 32, encoding="utf-8")
    code, out, _ = thai("match", "compare", str(published), "--kind", "phone", "--as", "LA-MPS",
                        "--key-file", str(other_key))  # fmt: skip
    assert (code, out) == (0, "")  # tokens under another key never match

    for bad in ("not hex at all", "abcd"):
        key_file.write_text(bad, encoding="utf-8")
        code, _, err = thai("match", "tokens", "--kind", "phone", "--as", "LA-MPS",
                            "--key-file", str(key_file))  # fmt: skip
        assert code == 65, err
    code, _, _ = thai("match", "tokens", "--kind", "phone", "--as", "LA-MPS", "--key-file",
                      str(tmp_path / "missing.key"))  # fmt: skip
    assert code == 66
