"""Enforcement commands: export, feeds publish/status/receipts, appeals, screen url."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from scamwall.enforcement.appeals import decide_appeal
from scamwall.errors import NotFound
from scamwall.exchange.policy import Caller, Role
from scamwall.store import Store
from scamwall.store.audit import AuditLog
from tests.screening.test_domain_model import _write_lists

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def reported(cli: Cli, tmp_path: Path) -> Cli:
    """A database where the Thai police reported a scam site, a block and a number."""
    assert cli("init")[0] == 0
    assert cli("agency", "add", "TH-POLICE", "--country", "TH", "--kind", "police")[0] == 0
    assert cli("agency", "add", "TH-ISP", "--country", "TH", "--kind", "operator")[0] == 0
    reports = tmp_path / "reports.csv"
    reports.write_text(
        "value,confidence,tlp,source_kind\n"
        "scam-shop.example,95,green,police_case\n"
        "203.0.113.0/24,95,green,police_case\n"
        "081-234-5678,95,green,police_case\n"
        "google.com,95,green,police_case\n",
        encoding="utf-8",
    )
    code, _, err = cli("ingest", str(reports), "--agency", "TH-POLICE")
    assert code == 0, err
    return cli


def test_export_publishes_and_writes_each_format(
    reported: Cli, tmp_path: Path, database_url: str
) -> None:
    rpz = tmp_path / "feed.rpz"
    code, _, err = reported("export", "rpz", "--out", str(rpz))
    assert code == 0, err
    assert "new serial 1: 3 added" in err
    assert "1 allowlist conflicts" in err
    text = rpz.read_text(encoding="utf-8")
    assert "scam-shop.example CNAME ." in text
    assert "google.com" not in text
    numbers = tmp_path / "numbers.json"
    assert reported("export", "numbers", "--out", str(numbers))[0] == 0
    assert json.loads(numbers.read_text())["entries"][0]["value"] == "+66812345678"
    code, out, _ = reported("export", "nft", "--out", "-", "--no-publish")
    assert code == 0
    assert "203.0.113.0/24" in out
    code, _, err = reported("export", "bind", "--out", str(tmp_path / "x"))
    assert code != 0
    assert "unknown feed format" in err
    # the publications the exports asked for are audited, as those of feeds publish are:
    # the first made serial 1, the second found nothing to change (--no-publish asks none)
    store = Store.open(database_url)
    try:
        published = [e for e in AuditLog(store).entries() if e.action == "feeds_publish"]
    finally:
        store.close()
    assert [(e.target, (e.detail or {})["changed"]) for e in published] == [
        ("serial:1", True),
        ("serial:1", False),
    ]


def test_publish_status_and_changes_since(reported: Cli, tmp_path: Path) -> None:
    code, out, _ = reported("feeds", "publish", "--json")
    assert code == 0
    first = json.loads(out)
    assert first["serial"] == 1
    assert first["conflicts"] == 1
    more = tmp_path / "more.csv"
    more.write_text("value,confidence,tlp,source_kind\nsecond.example,95,green,police_case\n")
    assert reported("ingest", str(more), "--agency", "TH-POLICE")[0] == 0
    code, out, _ = reported("feeds", "publish")
    assert "new serial 2: 1 added" in out
    code, out, _ = reported("export", "unbound", "--out", "-", "--since", "1", "--no-publish")
    assert "second.example. always_nxdomain" in out
    assert "scam-shop" not in out
    code, out, _ = reported("feeds", "status", "--json")
    serials = [json.loads(line)["serial"] for line in out.splitlines()]
    assert serials == [2, 1]
    code, _, err = reported("export", "rpz", "--out", "-", "--since", "5", "--no-publish")
    assert code != 0
    assert "serial" in err
    # a serial not published is not found (66), as an unknown appeal is
    code, out, err = reported("export", "rpz", "--out", "-", "--serial", "99")
    assert (code, out) == (66, "")
    assert "no serial 99: the feeds are at serial 2" in err
    code, _, err = reported("export", "rpz", "--out", "-", "--serial", "99", "--since", "1")
    assert code == 66
    assert "no serial 99" in err
    code, _, err = reported("export", "rpz", "--out", str(tmp_path / "none" / "x.rpz"))
    assert code == 66
    assert "no folder" in err
    code, _, err = reported("export", "rpz", "--out", str(tmp_path))
    assert code == 64
    assert "is a folder" in err
    assert not list(tmp_path.glob(".*.partial"))
    code, _, _ = reported("export", "numbers", "--out", str(tmp_path / "n.JSON"), "--no-publish")
    assert code == 0
    assert json.loads((tmp_path / "n.JSON").read_text(encoding="utf-8")) is not None


def test_receipts_and_an_appeal_through_the_command_line(reported: Cli, tmp_path: Path) -> None:
    assert reported("feeds", "publish")[0] == 0
    hits = tmp_path / "hits.csv"
    hits.write_text("value,hits\nscam-shop.example,40\nnot a domain,2\n", encoding="utf-8")
    code, out, _ = reported(
        "feeds", "receipts", str(hits), "--consumer", "dns1.bkk", "--agency", "TH-ISP"
    )
    assert code == 0
    assert "1 receipts recorded" in out
    assert "line 3: value" in out  # the file's line, header counted

    # as a spreadsheet saves it: a byte-order mark and CRLF line ends
    def receipts(name: str, content: bytes) -> tuple[int, str, str]:
        path = tmp_path / name
        path.write_bytes(content)
        return reported("feeds", "receipts", str(path), "--consumer", name, "--agency", "TH-ISP")

    excel = receipts("excel.csv", b"\xef\xbb\xbfValue,Hits\r\nscam-shop.example,41\r\n")
    assert "1 receipts recorded" in excel[1]
    # one line that is not JSON does not cost the others; an array is read too
    lines = receipts("hits.jsonl", b'{"value": "scam-shop.example", "hits": 5}\n{"value": \n')
    assert "1 receipts recorded" in lines[1]
    assert "line 2: not JSON" in lines[1]
    array = receipts("hits.json", b'[{"value": "scam-shop.example", "hits": 6}]')
    assert "1 receipts recorded" in array[1]
    code, _, err = receipts("headless.csv", b"scam-shop.example,7\n")
    assert code == 65
    assert "header" in err
    code, out, err = reported(
        "appeal", "submit", "www.scam-shop.example", "--evidence", "my registered shop", "--json"
    )
    assert code == 0, err
    appeal = json.loads(out)
    assert appeal["value"] == "www.scam-shop.example"
    assert appeal["entries"] == ["scam-shop.example"]
    assert appeal["status"] == "pending"
    code, out, _ = reported("appeal", "list", "--status", "pending", "--json")
    assert json.loads(out)["evidence"] == "my registered shop"
    for flags in (("--accept", "--reject"), ()):  # a decision cannot be undone: never guess
        code, _, err = reported("appeal", "decide", str(appeal["id"]), *flags, "--note", "ok")
        assert code == 64
        assert "exactly one of --accept and --reject" in err
    code, out, _ = reported("appeal", "decide", str(appeal["id"]), "--accept", "--note", "ok")
    assert code == 0
    assert "accepted; off the feeds at serial 2" in out
    code, out, _ = reported("export", "rpz", "--out", "-")
    assert "scam-shop" not in out
    code, _, err = reported("appeal", "decide", str(appeal["id"]), "--reject", "--note", "x")
    assert code != 0
    assert "already accepted" in err


def test_appeal_list_takes_a_limit_and_says_what_it_leaves_out(reported: Cli) -> None:
    assert reported("feeds", "publish")[0] == 0
    for value in ("www.scam-shop.example", "shop.scam-shop.example", "203.0.113.7"):
        code, _, err = reported("appeal", "submit", value, "--evidence", "my registered shop")
        assert code == 0, err
    code, out, err = reported("appeal", "list", "--limit", "2", "--json")
    assert code == 0, err
    shown = [json.loads(line)["value"] for line in out.splitlines()]
    assert shown == ["www.scam-shop.example", "shop.scam-shop.example"]  # the oldest
    assert "2 of 3 appeals shown" in " ".join(err.split())  # on stderr: stdout stays JSON
    code, out, err = reported("appeal", "list", "--status", "pending", "--limit", "1")
    assert (code, out.count("pending")) == (0, 1)  # the table holds one appeal
    assert "1 of 3 pending appeals shown" in " ".join(err.split())
    code, out, err = reported("appeal", "list", "--json")
    assert (len(out.splitlines()), err) == (3, "")
    assert reported("appeal", "list", "--limit", "0")[0] == 2


def test_an_appeal_id_past_the_column_is_no_appeal(reported: Cli) -> None:
    """PostgreSQL's integer column cannot hold it: a usage error naming the range from the
    command line, "no appeal" from the library, never a traceback."""
    code, _, err = reported("appeal", "decide", "3000000000", "--accept", "--note", "ok")
    assert code == 2
    assert "2147483647" in err
    for command in (("appeal", "list"), ("feeds", "status")):  # limits, as bounded
        for limit in ("-1", "99999999999999999999"):
            assert reported(*command, "--limit", limit)[0] == 2, (command, limit)
    store = Store.open(os.environ["SCAMWALL_DATABASE_URL"])
    operator = Caller(name="cli:ops", role=Role.ADMIN)
    try:
        with pytest.raises(NotFound, match="no appeal 3000000000"):
            decide_appeal(store, 3_000_000_000, accept=True, note="ok", caller=operator)
    finally:
        store.close()


def test_export_to_a_pipe_writes_into_it_and_leaves_it_a_pipe(
    reported: Cli, tmp_path: Path
) -> None:
    """A device or a FIFO (/dev/null, a pipe a resolver reads) is written in place: renaming
    the written file over it, as a file is replaced, had replaced /dev/null with a file."""
    pipe = tmp_path / "feed.pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    code, _, err = reported("export", "rpz", "--out", str(pipe))
    reader.join(timeout=30)
    assert code == 0, err
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert b"SOA" in received[0]


def test_screen_url_answers_every_line(reported: Cli, tmp_path: Path) -> None:
    assert reported("feeds", "publish")[0] == 0
    source = tmp_path / "urls.txt"
    source.write_text(
        "https://pay.scam-shop.example/x\n203.0.113.9\ngoogle.com\nnot a url at all\n\n",
        encoding="utf-8",
    )
    code, out, err = reported("screen", "url", str(source))
    assert code == 0, err
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == 5
    assert results[0]["verdict"] == "block"
    assert results[0]["category"] == "fraud"
    assert results[1]["verdict"] == "block"
    assert results[2]["verdict"] == "allow"
    assert "error" in results[3]
    assert "error" in results[4]


def test_domain_model_train_and_eval_commands(cli: Cli, tmp_path: Path) -> None:
    lists = _write_lists(tmp_path / "lists")
    model = tmp_path / "domain.npz"
    code, out, err = cli(
        "model", "train-domains", "--data", str(lists), "--out", str(model), "--json"
    )
    assert code == 0, err
    trained = json.loads(out)
    assert trained["version"].startswith("domain-")
    assert set(trained["test"]) >= {"scam", "phishing", "gambling"}
    assert model.with_suffix(".md").read_text(encoding="utf-8").startswith("# Domain model")
    code, out, _ = cli("model", "eval-domains", "--data", str(lists), "--model", str(model))
    assert code == 0
    assert "phishing" in out
    assert "recall@fpr1%" in out
    code, _, err = cli("model", "eval-domains", "--data", str(tmp_path / "missing"))
    assert code != 0
    assert "no folder" in err


def test_domain_model_train_refuses_out_dash_before_training(cli: Cli, tmp_path: Path) -> None:
    """A model and its card are files: `--out -` is refused at once, not written as `-.md`."""
    lists = _write_lists(tmp_path / "lists")
    code, _, err = cli("model", "train-domains", "--data", str(lists), "--out", "-")
    assert code == 64
    assert "not '-'" in err
    assert "training" not in err
    assert not list(tmp_path.glob("-*"))
