"""One error tree: every error carries a code, an HTTP status and an exit code, all documented."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from scamwall import errors
from scamwall.cli import main
from scamwall.errors import InvalidIndicator, InvalidInput, ScamwallError


def _error_classes() -> list[type[ScamwallError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, ScamwallError)
    ]


def test_every_error_is_in_the_tree_drawn_in_the_docstring() -> None:
    doc = errors.__doc__ or ""
    for cls in _error_classes():
        line = next((ln for ln in doc.splitlines() if f" {cls.__name__} " in f" {ln} "), "")
        assert line, f"{cls.__name__} missing from the tree in scamwall/errors.py"
        assert str(cls.http_status) in line
        assert f"exit {cls.exit_code}" in line
        assert cls.code in line


def test_codes_are_unique_and_exported() -> None:
    classes = _error_classes()
    assert len({cls.code for cls in classes}) == len(classes)
    assert {cls.__name__ for cls in classes} == set(errors.__all__)


@pytest.mark.parametrize("cls", _error_classes())
def test_error_statuses_are_sane(cls: type[ScamwallError]) -> None:
    assert 400 <= cls.http_status <= 599
    assert 1 <= cls.exit_code <= 125


def test_error_shape() -> None:
    exc = InvalidIndicator("bank_account", "IBAN checksum fails")
    assert exc.to_dict() == {
        "error": {
            "code": "invalid_indicator",
            "message": "not a valid bank_account: IBAN checksum fails",
            "details": {"kind": "bank_account", "reason": "IBAN checksum fails"},
        }
    }


@pytest.mark.parametrize("code", ["[/x]AB", "[bold]AB"])
def test_an_error_prints_what_was_given_as_it_was_given(
    code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """User data in a message is text, not console markup: "[/x]" had crashed the command
    and "[bold]" had been dropped from what it said."""
    monkeypatch.setenv("SCAMWALL_DATABASE_URL", f"sqlite:///{tmp_path}/m.db")
    assert main(["init"]) == 0
    capsys.readouterr()
    status = main(["agency", "add", code, "--name", "x", "--country", "TH", "--kind", "police"])
    assert status == InvalidInput.exit_code
    assert f"agency code {code!r} must be" in " ".join(capsys.readouterr().err.split())
