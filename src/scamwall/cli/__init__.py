"""The ``scamwall`` command line: one entry point for people and for scripts.

Commands that print data take ``--json`` and then write one JSON object per line on stdout and
nothing else there; messages and progress go to stderr. Errors end the command with the exit code
of their class in :mod:`scamwall.errors`.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer
from rich.logging import RichHandler
from rich.text import Text

from scamwall import __version__
from scamwall.cli import (  # noqa: F401 - they register commands
    access,
    calls,
    data,
    enforce,
    exchange,
    matching,
    screen,
)
from scamwall.cli.common import app, err, out
from scamwall.errors import ScamwallError
from scamwall.settings import Settings, get_settings

__all__ = ["app", "main", "run"]


def _version(value: bool) -> None:
    if value:
        out.print(f"scamwall {__version__}")
        raise typer.Exit


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
) -> None:
    """scamwall: pool, screen and block cross-border fraud signals across agencies.

    Settings come from SCAMWALL_* environment variables, then a .env file, then defaults
    (see `scamwall settings`).
    """


def _configure_logging(settings: Settings) -> None:
    handler = RichHandler(console=err, show_path=False, show_time=False)
    logging.basicConfig(level=settings.log_level, handlers=[handler], format="%(message)s")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; errors become one line on stderr."""
    try:
        _configure_logging(get_settings())
        app(args=argv, prog_name="scamwall")
    except ScamwallError as exc:
        err.print(Text("error:", style="red"), exc.message, soft_wrap=True)
        return exc.exit_code
    except SystemExit as exc:  # how the command-line parser ends, with usage errors too
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
