"""The access commands as an operator uses them: tokens, groups, look-ups as a caller, audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from scamwall.store import Store
from scamwall.store.access import Access
from scamwall.store.audit import AuditLog


@pytest.fixture
def cli(cli):  # type: ignore[no-untyped-def]
    """The suite's ``cli`` on an initialised store with three agencies."""
    run = cli
    run("init")
    for code, country in (("TH-CCIB", "TH"), ("CN-MPS", "CN"), ("LA-MPS", "LA")):
        run("agency", "add", code, "--country", country, "--kind", "police")
    return run


def _json(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_tokens_groups_and_lookups_as_each_caller(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli(
        "group",
        "add",
        "Mekong joint operation",
        "--member",
        "TH-CCIB",
        "--member",
        "CN-MPS",
        "--json",
    )
    assert code == 0
    assert _json(out)[0]["members"] == ["CN-MPS", "TH-CCIB"]

    tokens = {}
    for agency, user in (("TH-CCIB", "somchai"), ("CN-MPS", "li"), ("LA-MPS", "khamla")):
        code, out, _ = cli(
            "token", "create", "--agency", agency, "--role", "analyst", "--user", user, "--json"
        )
        assert code == 0
        tokens[user] = str(_json(out)[0]["token"])
        assert tokens[user].startswith("sw_")

    source = tmp_path / "amber.csv"
    source.write_text("value,tlp\n+66 92 555 0101,amber\n+66 92 555 0102,clear\n", encoding="utf-8")
    assert cli("ingest", str(source), "--agency", "TH-CCIB", "--rejects", str(tmp_path))[0] == 0

    _, out, _ = cli("lookup", "+66925550101", "--as", tokens["somchai"], "--json")
    assert [s["tlp"] for s in _json(out)[0]["sightings"]] == ["amber"]  # type: ignore[union-attr]
    _, out, _ = cli("lookup", "+66925550101", "--as", tokens["khamla"], "--json")
    seen = _json(out)[0]
    assert (seen["sightings"], seen["hidden_sightings"]) == ([], 1)
    _, out, _ = cli("lookup", "+66925550102", "--json")
    assert [s["tlp"] for s in _json(out)[0]["sightings"]] == ["clear"]  # type: ignore[union-attr]

    code, _, err = cli("lookup", "+66925550101", "--as", "sw_wrong")
    assert code == 77
    assert "unknown token" in err

    _, out, _ = cli("token", "list", "--json")
    listed = _json(out)
    assert len(listed) == 3
    assert all(tokens["li"] not in json.dumps(t) for t in listed)
    li = next(t for t in listed if t["user"] == "li")
    assert cli("token", "revoke", str(li["id"]))[0] == 0
    code, _, err = cli("lookup", "+66925550101", "--as", tokens["li"])
    assert (code, "revoked" in err) == (77, True)


def test_audit_verify_and_head(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("audit", "verify")
    assert code == 0
    assert "intact" in out
    code, out, _ = cli("audit", "head")
    seq, digest = out.strip().split(":")
    assert int(seq) >= 3  # the three agencies added are on record
    assert len(digest) == 64
    assert cli("audit", "verify", "--anchor", out.strip())[0] == 0
    assert cli("audit", "verify", "--anchor", "nonsense")[0] == 64


def test_audit_verify_json_says_intact_or_lists_each_break(cli, database_url: str) -> None:  # type: ignore[no-untyped-def]
    """One JSON line either way: an intact trail is an answer too, not an empty output."""
    seq, digest = cli("audit", "head")[1].strip().split(":")
    code, out, _ = cli("audit", "verify", "--json")
    assert code == 0
    assert _json(out) == [{"ok": True, "entries": int(seq), "head": digest, "anchor": None}]
    code, out, _ = cli("audit", "verify", "--json", "--anchor", f"{seq}:{digest}")
    assert (code, _json(out)[0]["anchor"]) == (0, f"{seq}:{digest}")

    store = Store.open(database_url)
    with store.engine.begin() as connection:  # a tamperer with database rights
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_log_append_only_update"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        connection.execute(text("UPDATE audit_log SET target = 'agency:X' WHERE seq = 2"))
    store.close()
    code, out, _ = cli("audit", "verify", "--json")
    assert code == 65
    assert [(line["seq"], "edited" in str(line["problem"])) for line in _json(out)] == [(2, True)]


def test_group_add_says_when_the_group_was_there_under_another_case(cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("group", "add", "Mekong joint operation", "--member", "TH-CCIB")
    assert (code, "created group 'Mekong joint operation': TH-CCIB" in err) == (0, True)
    code, _, err = cli("group", "add", "MEKONG Joint Operation", "--member", "CN-MPS")
    assert code == 0
    flat = " ".join(err.split())
    assert "added to the existing group 'Mekong joint operation': CN-MPS, TH-CCIB" in flat
    code, out, _ = cli("group", "add", "mekong joint operation", "-m", "LA-MPS", "--json")
    assert _json(out) == [
        {
            "name": "Mekong joint operation",
            "members": ["CN-MPS", "LA-MPS", "TH-CCIB"],
            "created": False,
        }
    ]
    assert len(_json(cli("group", "list", "--json")[1])) == 1


def test_disabling_a_user_refuses_their_tokens(cli) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = cli(
        "token", "create", "--agency", "TH-CCIB", "--role", "analyst", "--user", "somchai", "--json"
    )
    token = str(_json(out)[0]["token"])
    assert cli("lookup", "+66925550101", "--as", token)[0] == 0
    assert cli("user", "disable", "somchai")[0] == 0
    code, _, err = cli("lookup", "+66925550101", "--as", token)
    assert (code, "disabled" in err) == (77, True)
    assert cli("user", "disable", "nobody")[0] == 66


def test_user_names_are_ascii_so_none_passes_for_another(cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli(
        "token", "create", "--agency", "TH-CCIB", "--role", "analyst", "--user", "cn_\u0430"
    )
    assert code == 65
    assert "ASCII" in err
    assert cli("token", "create", "--agency", "TH-CCIB", "--role", "peer", "--user", "cn_a")[0] == 0


def test_token_ids_past_the_column_are_refused_with_the_range(cli) -> None:  # type: ignore[no-untyped-def]
    for too_large in ("3000000000", "99999999999999999999"):
        code, _, err = cli("token", "revoke", too_large)
        assert code == 2, err
        assert "Invalid value for 'token_id'" in err
        assert "2147483647" in err
    code, _, err = cli("token", "revoke", "2147483647")
    assert (code, "no token with id 2147483647" in err) == (66, True)


def test_a_token_lifetime_too_long_is_refused_before_anything_is_written(
    cli,  # type: ignore[no-untyped-def]
    database_url: str,
) -> None:
    code, _, err = cli(
        "token", "create", "--agency", "TH-CCIB", "--role", "analyst", "--user", "x3",
        "--expires-days", "3000000",
    )  # fmt: skip
    assert code == 2, err
    assert "Invalid value for '--expires-days'" in err
    assert "3650" in err
    store = Store.open(database_url)
    try:
        assert not Access(store).user_exists("x3")
        assert not [e for e in AuditLog(store).entries() if e.action == "token_issue"]
    finally:
        store.close()


def test_a_new_user_its_token_and_their_audit_entry_are_written_together(
    cli,  # type: ignore[no-untyped-def]
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def audit_fails(*_: object, **__: object) -> str:
        raise RuntimeError("the audit trail is unavailable")

    with monkeypatch.context() as patched:
        patched.setattr(AuditLog, "record", audit_fails)
        with pytest.raises(RuntimeError, match="audit trail"):
            cli("token", "create", "--agency", "TH-CCIB", "--role", "analyst", "--user", "x4")
    store = Store.open(database_url)
    try:
        assert not Access(store).user_exists("x4")
        assert Access(store).list_tokens() == []
    finally:
        store.close()


def test_a_disabled_user_gets_no_token_from_the_command_line(cli) -> None:  # type: ignore[no-untyped-def]
    create = ("token", "create", "--agency", "LA-MPS", "--role", "analyst", "--user", "kham")
    assert cli(*create)[0] == 0
    assert cli("user", "disable", "kham")[0] == 0
    code, out, err = cli(*create)
    assert (code, out) == (65, "")
    assert "kham is disabled" in err
    _, listed, _ = cli("token", "list", "--json")
    assert len(listed.splitlines()) == 1


def test_a_token_given_with_a_line_end_is_the_token(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A token read from a file may keep its line end (a Windows file's CR) or spaces."""
    _, out, _ = cli(
        "token", "create", "--agency", "TH-CCIB", "--role", "analyst", "--user", "a1", "--json"
    )
    secret = str(_json(out)[0]["token"])
    code, _, err = cli("lookup", "+66925550101", "--as", f"{secret}\n")
    assert code == 0, err
    monkeypatch.setenv("SCAMWALL_TOKEN", f" {secret}\r\n")
    code, _, err = cli("lookup", "+66925550101")
    assert code == 0, err


def test_a_group_added_to_in_another_case_is_the_group_an_ingest_names(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("group", "add", "Straße Ops", "--member", "TH-CCIB")[0] == 0
    code, out, _ = cli("group", "add", "STRASSE OPS", "--member", "CN-MPS", "--json")
    assert code == 0
    group = {"name": "Straße Ops", "members": ["CN-MPS", "TH-CCIB"], "created": False}
    assert _json(out) == [group]
    source = tmp_path / "ops.csv"
    source.write_text("value,tlp,groups\n+66 92 555 0199,amber,STRASSE OPS\n", encoding="utf-8")
    code, out, err = cli(
        "ingest", str(source), "--agency", "TH-CCIB", "--rejects", str(tmp_path), "--json"
    )
    assert code == 0, err
    assert _json(out)[0]["accepted"] == 1
