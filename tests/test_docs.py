"""Documentation that cannot fall behind: settings, commands and the README's two commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.models import CommandInfo

from scamwall.cli import app
from scamwall.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _command_name(info: CommandInfo) -> str:
    assert info.callback is not None
    return info.name or info.callback.__name__.replace("_", "-")


def _commands() -> list[str]:
    names = [_command_name(info) for info in app.registered_commands]
    for group in app.registered_groups:
        assert group.typer_instance is not None
        names += [
            f"{group.name} {_command_name(i)}" for i in group.typer_instance.registered_commands
        ]
    return names


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert f"SCAMWALL_{name.upper()}" in text, (
        f"document SCAMWALL_{name.upper()} in docs/settings.md"
    )


def test_settings_doc_is_the_generated_one() -> None:
    from scamwall.settings import render_settings_markdown

    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert text == render_settings_markdown(), (
        "regenerate: scamwall settings --markdown > docs/settings.md"
    )


@pytest.mark.parametrize("command", _commands())
def test_every_command_is_documented(command: str) -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert f"scamwall {command}" in text, f"document `scamwall {command}` in docs/cli.md"


def test_readme_names_install_run_and_test_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "scamwall demo" in readme
    assert "scripts/test" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/test" in ci
