"""Screening commands: screen text, model train/eval, allowlist, false positives, reputation."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

HAM = [
    "see you at {n} for dinner",
    "the meeting moved to room {n}",
    "can you pick up milk on the way home",
    "happy birthday, have a great day",
    "running {n} minutes late, sorry",
    "明天{n}点开会，别迟到",
    "晚上一起吃饭吗",
]
SPAM = [
    "big sale! {n}% off all shoes this weekend only, reply STOP to opt out",
    "new data package {n}GB for only 99, dial *{n}# to subscribe",
    "全场{n}折优惠，欢迎光临本店",
]
FRAUD = [
    "your bank account is locked, verify now at http://secure-{n}.top/login",
    "congratulations you won {n} dollars, pay the tax fee first to claim",
    "您的账户涉嫌洗钱，请立即转账到安全账户{n}",
    "我是你领导，马上转{n}元到这个账户",
]


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    """A small labelled set in the shared-data format (made up here, templated)."""
    rng = random.Random(7)
    rows = []
    for label, templates, count in (("ham", HAM, 240), ("spam", SPAM, 90), ("fraud", FRAUD, 90)):
        for i in range(count):
            text = rng.choice(templates).format(n=rng.randint(1, 999)) + f" #{i}"
            rows.append({"text": text, "label": label, "source": "made_up", "lang": "en"})
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def test_screen_text_reads_plain_and_json_lines(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "messages.txt"
    scam = "您好，我是公安局的，您的账户涉嫌洗钱，请立即转账到安全账户"
    record = json.dumps({"id": "x", "text": scam}, ensure_ascii=False)
    source.write_bytes(b"are we still on for lunch?\n" + f"{record}\n".encode() + b"\xff\xfe bad\n")
    assert cli("init")[0] == 0
    code, out, err = cli("screen", "text", str(source), "--region", "TH")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["id"] for line in lines] == ["1", "x", "3"]
    assert [line["verdict"] for line in lines] == ["allow", "block", "allow"]
    assert [r["error"] for r in lines[2]["reasons"] if r["type"] == "error"] == ["encoding"]
    assert "3 messages screened" in err


def test_screen_text_works_without_a_database(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SCAMWALL_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    source = tmp_path / "m.txt"
    source.write_text("hello\n", encoding="utf-8")
    code, out, err = cli("screen", "text", str(source))
    assert code == 0
    assert json.loads(out)["verdict"] == "allow"
    assert "without reputation" in err
    assert not (tmp_path / "none.db").exists()
    assert cli("screen", "text", str(tmp_path / "missing.txt"))[0] == 66


def test_model_train_then_eval_and_screen_with_it(cli, labelled: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model = tmp_path / "model.npz"
    code, out, err = cli("model", "train", "--data", str(labelled), "--out", str(model), "--json")
    assert code == 0, err
    trained = json.loads(out)
    assert trained["test"]["all"]["f1"] >= 0.9
    card = model.with_suffix(".md").read_text(encoding="utf-8")
    assert "## Test-split metrics" in card
    assert "made_up" in card
    code, out, _ = cli("model", "eval", "--data", str(labelled), "--model", str(model), "--json")
    groups = {row["group"]: row for row in map(json.loads, out.splitlines())}
    assert code == 0
    assert groups["all"]["recall"] >= 0.9
    assert groups["all"]["fpr"] <= 0.05
    source = tmp_path / "one.txt"
    source.write_text("your bank account is locked, verify now\n", encoding="utf-8")
    code, out, _ = cli("screen", "text", str(source), "--model", str(model))
    assert json.loads(out)["trace"]["model"] == trained["version"]


def test_model_train_refuses_out_dash_before_training(cli, labelled: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A model and its card are files: `--out -` is refused at once, not written as `-.md`."""
    code, out, err = cli("model", "train", "--data", str(labelled), "--out", "-")
    assert code == 64
    assert "--out" in err
    assert "not '-'" in err
    assert "training" not in err
    assert out == ""
    assert not list(tmp_path.glob("-*"))


def test_model_eval_names_bad_lines_and_uses_the_rest(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hello", "label": "maybe"}\n', encoding="utf-8")
    code, _, err = cli("model", "eval", "--data", str(bad))
    assert code == 66  # nothing left to evaluate
    assert "bad.jsonl line 1" in err
    assert "label" in err
    bad.write_text(
        '{"text": "hello", "label": "maybe"}\n{"text": "see you at 5", "label": "ham"}\n',
        encoding="utf-8",
    )
    code, out, err = cli("model", "eval", "--data", str(bad), "--json")
    assert code == 0
    assert "1 bad lines left out" in err
    assert {row["group"]: row for row in map(json.loads, out.splitlines())}["all"]["n"] == 1


def test_a_database_server_that_does_not_answer_is_an_error(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # configured to be used: screening on text alone would pass reported numbers unnoticed
    monkeypatch.setenv("SCAMWALL_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    source = tmp_path / "m.txt"
    source.write_text("call 0812345678\n", encoding="utf-8")
    code, out, err = cli("screen", "text", str(source))
    assert code == 69
    assert out == ""
    assert "cannot open the database" in err


def test_allowlist_false_positive_and_reputation_commands(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init")[0] == 0
    assert cli("agency", "add", "TH-POLICE", "--country", "TH", "--kind", "police")[0] == 0
    code, _, err = cli("allow", "add", "coop-bank.example", "--reason", "our members' bank")
    assert code == 0
    assert "allowlisted domain coop-bank.example" in err
    _, out, _ = cli("allow", "list", "--json")
    assert [json.loads(line)["value"] for line in out.splitlines()] == ["coop-bank.example"]
    code, out, _ = cli(
        "false-positive", "081 234 5678", "--agency", "th-police", "--region", "TH", "--json"
    )
    assert code == 0
    assert json.loads(out)["indicator"]["canonical"] == "+66812345678"
    code, out, _ = cli("reputation", "show", "www.coop-bank.example", "--json")
    shown = json.loads(out)
    assert code == 0
    assert shown["score"] == 0
    assert shown["allowlisted"]["source"] == "operator"
    code, out, _ = cli("reputation", "build", "--json")
    assert code == 0
    assert json.loads(out)["allowlisted"] > 1000
    assert cli("allow", "remove", "coop-bank.example")[0] == 0
    assert cli("allow", "remove", "coop-bank.example")[0] == 66
    assert cli("false-positive", "0812345678", "--agency", "XX-NONE", "--region", "TH")[0] == 66


def test_screen_text_refuses_a_wide_encoding_and_an_unknown_region(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "messages.txt"
    source.write_text("one\ntwo\nthree\n", encoding="utf-16")  # with its byte-order mark
    code, out, err = cli("screen", "text", str(source))
    assert code == 65
    assert out == ""
    assert "UTF-16" in err
    assert "iconv" in err
    source.write_text("one\n", encoding="utf-8")
    code, _, err = cli("screen", "text", str(source), "--region", "XX")
    assert code == 2
    assert "unknown region 'XX'" in err


def test_a_json_line_without_text_is_named_by_its_line(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "messages.jsonl"
    source.write_text('{"id": "a", "text": "hi"}\n[1, 2]\n{"id": "b"}\n{"id": 2.5, "text": "x"}\n')
    code, out, err = cli("screen", "text", str(source), "--input", "jsonl")
    assert code == 0, err
    problems = [json.loads(line)["reasons"] for line in out.splitlines()][1:]
    assert [p[0]["text"] for p in problems] == [
        "line 2: expected a JSON object with id and text",
        "line 3: field text: missing or not a string",
        "line 4: field id: must be a string or an integer",
    ]
