"""Exchange commands: a MISP event exported for one agency and imported by another instance."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from scamwall.store import Store
from scamwall.store.audit import AuditLog

Cli = Callable[..., tuple[int, str, str]]


def test_misp_export_for_a_peer_then_import_on_another_instance(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("init")[0] == 0
    for code, country in (("TH-CCIB", "TH"), ("CN-MPS", "CN"), ("LA-POLICE", "LA")):
        assert cli("agency", "add", code, "--country", country, "--kind", "police")[0] == 0
    assert cli("group", "add", "mekong", "--member", "TH-CCIB", "--member", "CN-MPS")[0] == 0
    source = tmp_path / "th.csv"
    source.write_text(
        "value,tlp,groups\n"
        "+66 81 234 5678,green,\n"
        "scam-bank.example,amber,mekong\n"
        "wallet-hidden.example,amber,\n"
        "+66 81 999 0000,red,\n"
        "+66 81 777 0000,amber+strict,\n",
        encoding="utf-8",
    )
    code, out, err = cli("ingest", str(source), "--agency", "TH-CCIB")
    assert code == 0, err
    for agency, value in (("CN-MPS", "cn-own.example"), ("LA-POLICE", "lao-casino.example")):
        other = tmp_path / f"{agency}.csv"
        other.write_text(f"value,tlp\n{value},clear\n", encoding="utf-8")
        assert cli("ingest", str(other), "--agency", agency)[0] == 0

    cn_event, la_event = tmp_path / "cn.json", tmp_path / "la.json"
    for peer, path in (("CN-MPS", cn_event), ("LA-POLICE", la_event)):
        code, _, err = cli("misp", "export", "--for", peer, "--from", "TH-CCIB", "--out", str(path))
        assert code == 0, err
        assert "not " + peer + "'s own" in " ".join(err.split())
    values = {a["value"] for a in _attributes(cn_event)}
    # neither its own nor a third country's sighting goes out as TH-CCIB's
    assert not {"cn-own.example", "lao-casino.example"} & values
    assert "+66812345678" in values
    assert "scam-bank.example" in values  # AMBER shared with CN-MPS's group goes to it
    assert "wallet-hidden.example" not in values  # AMBER not shared with it stays home
    assert not {"+66819990000", "+66817770000"} & values  # RED and AMBER+STRICT never leave
    assert "scam-bank.example" not in {a["value"] for a in _attributes(la_event)}

    # the Chinese instance, with its own database, imports the event from TH-CCIB
    monkeypatch.setenv("SCAMWALL_DATABASE_URL", f"sqlite:///{tmp_path / 'cn.db'}")
    assert cli("init")[0] == 0
    assert cli("agency", "add", "TH-CCIB", "--country", "TH", "--kind", "police")[0] == 0
    code, _, err = cli("misp", "import", str(cn_event), "--peer", "TH-CCIB")
    assert code == 0, err
    assert "2 sightings stored" in " ".join(err.split())
    code, _, err = cli("misp", "import", str(cn_event), "--peer", "TH-CCIB")
    assert "0 sightings stored (2 already known)" in " ".join(err.split())
    chinese = Store.open(f"sqlite:///{tmp_path / 'cn.db'}")
    imports = [e for e in AuditLog(chinese).entries() if e.action == "misp_import"]
    chinese.close()
    assert [e.detail["accepted"] for e in imports] == [2]  # the write, not the no-op
    code, out, _ = cli("lookup", "+66812345678", "--json")  # as the public: GREEN is hidden
    found = json.loads(out)
    assert (found["known"], found["hidden_sightings"], found["hidden_agencies"]) == (True, 1, 1)

    broken = tmp_path / "broken.json"
    broken.write_text(
        json.dumps(
            {
                "Event": {
                    "uuid": "5a3c1c3e-4b7f-4a53-9d3e-0a1b2c3d4e5f",
                    "info": "x",
                    "date": "2026-11-01",
                    "Attribute": [
                        {
                            "uuid": "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6",
                            "type": "domain",
                            "value": "good-one.example",
                        },
                        {
                            "uuid": "1d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6",
                            "type": "domain",
                            "value": "not a domain",
                        },
                    ],
                }
            }
        ),
        encoding="utf-8",
    )
    code, _, err = cli("misp", "import", str(broken), "--peer", "TH-CCIB")
    assert code == 0, err
    flat = " ".join(err.split())
    assert "1 sightings stored" in flat
    assert "1 refused" in flat
    assert cli("misp", "import", str(tmp_path / "absent.json"), "--peer", "TH-CCIB")[0] != 0


def _attributes(path: Path) -> list[dict[str, str]]:
    document = json.loads(path.read_text(encoding="utf-8"))
    event = document.get("Event", document)
    assert isinstance(event, dict)
    found = list(event.get("Attribute", []))
    for obj in event.get("Object", []):
        found.extend(obj.get("Attribute", []))
    return found


def test_stix_export_for_a_peer_then_import_on_another_instance(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stix2

    assert cli("init")[0] == 0
    for code, country in (("TH-CCIB", "TH"), ("CN-MPS", "CN")):
        assert cli("agency", "add", code, "--country", country, "--kind", "police")[0] == 0
    source = tmp_path / "th.csv"
    source.write_text(
        "value,tlp,jurisdiction,legal_instrument\n"
        "+66 81 234 5678,green,TH,Computer Crime Act s.14\n"
        "scam-bank.example,clear,,\n"
        "+66 81 999 0000,red,,\n",
        encoding="utf-8",
    )
    assert cli("ingest", str(source), "--agency", "TH-CCIB")[0] == 0
    bundle = tmp_path / "bundle.json"
    code, _, err = cli("stix", "export", "--for", "CN-MPS", "--out", str(bundle))
    assert code == 0, err
    assert "2 sightings exported" in " ".join(err.split())
    document = json.loads(bundle.read_text(encoding="utf-8"))
    for obj in document["objects"]:
        stix2.parse(obj, allow_custom=True)
    sightings = [o for o in document["objects"] if o["type"] == "sighting"]
    bases = {o["x_scamwall_legal_basis"]["instrument"] for o in sightings}
    assert "Computer Crime Act s.14" in bases  # its own basis; the other gets the default
    assert len(bases) == 2

    monkeypatch.setenv("SCAMWALL_DATABASE_URL", f"sqlite:///{tmp_path / 'cn.db'}")
    assert cli("init")[0] == 0
    assert cli("agency", "add", "TH-CCIB", "--country", "TH", "--kind", "police")[0] == 0
    document["objects"].append({"type": "indicator", "id": "indicator--broken"})
    bundle.write_text(json.dumps(document), encoding="utf-8")
    code, _, err = cli("stix", "import", str(bundle), "--peer", "TH-CCIB")
    assert code == 0, err
    flat = " ".join(err.split())
    assert "2 sightings stored (0 already known), 1 objects refused" in flat
    assert "indicator--broken" in flat
    code, _, err = cli("stix", "import", str(bundle), "--peer", "TH-CCIB")
    assert "0 sightings stored (2 already known)" in " ".join(err.split())


def test_stix_and_misp_export_write_to_stdout_for_out_dash(cli: Cli, tmp_path: Path) -> None:
    """`--out -` is standard output, as for `scamwall export`: no file named `-` appears."""
    assert cli("init")[0] == 0
    for code, country in (("TH-CCIB", "TH"), ("CN-MPS", "CN")):
        assert cli("agency", "add", code, "--country", country, "--kind", "police")[0] == 0
    source = tmp_path / "th.csv"
    source.write_text("value,tlp\nscam-bank.example,clear\n", encoding="utf-8")
    assert cli("ingest", str(source), "--agency", "TH-CCIB")[0] == 0

    code, out, err = cli("stix", "export", "--for", "CN-MPS", "--out", "-")
    assert code == 0, err
    bundle = json.loads(out)
    assert [o["type"] for o in bundle["objects"]].count("sighting") == 1
    assert "1 sightings exported for CN-MPS to standard output" in " ".join(err.split())

    code, out, err = cli("misp", "export", "--for", "CN-MPS", "--from", "TH-CCIB", "--out", "-")
    assert code == 0, err
    event = json.loads(out)
    assert "scam-bank.example" in {a["value"] for a in event["Event"]["Attribute"]}
    assert "to standard output" in " ".join(err.split())
    assert not (tmp_path / "-").exists()


def test_stix_and_misp_exports_are_audited_as_the_operator_with_counts_by_tlp(
    cli: Cli, tmp_path: Path, database_url: str
) -> None:
    assert cli("init")[0] == 0
    for code, country in (("TH-CCIB", "TH"), ("CN-MPS", "CN")):
        assert cli("agency", "add", code, "--country", country, "--kind", "police")[0] == 0
    assert cli("group", "add", "mekong", "--member", "TH-CCIB", "--member", "CN-MPS")[0] == 0
    source = tmp_path / "th.csv"
    source.write_text(
        "value,tlp,groups\n"
        "+66 81 234 5678,green,\n"
        "scam-bank.example,clear,\n"
        "pay-scam.example,clear,\n"
        "wallet-scam.example,amber,mekong\n"
        "+66 81 999 0000,red,\n",
        encoding="utf-8",
    )
    assert cli("ingest", str(source), "--agency", "TH-CCIB")[0] == 0
    bundle = tmp_path / "bundle.json"
    assert cli("stix", "export", "--for", "cn-mps", "--out", str(bundle))[0] == 0
    code, _, err = cli("misp", "export", "--for", "CN-MPS", "--from", "TH-CCIB", "--out", "-")
    assert code == 0, err

    store = Store.open(database_url)
    try:
        exports = [e for e in AuditLog(store).entries() if e.action.endswith("_export")]
    finally:
        store.close()
    assert [(e.action, e.target, e.origin) for e in exports] == [
        ("stix_export", "agency:CN-MPS", "cli"),
        ("misp_export", "agency:CN-MPS", "cli"),
    ]
    assert all(e.actor.startswith("cli:") for e in exports)
    stix, misp = (e.detail or {} for e in exports)
    counts = {"sightings": 4, "by_tlp": {"clear": 2, "green": 1, "amber": 1}}
    assert stix == {"file": str(bundle), **counts}
    assert misp == {"file": "stdout", "creator": "TH-CCIB", "refused": 0, "receipts": 0, **counts}
