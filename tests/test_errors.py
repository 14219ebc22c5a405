"""One error tree: every error carries a code, an HTTP status and an exit code, all documented."""

from __future__ import annotations

import inspect

import pytest

from scamwall import errors
from scamwall.errors import InvalidIndicator, ScamwallError


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
