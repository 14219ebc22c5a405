"""``python -m scamwall`` runs the command line."""

from scamwall.cli import run

run()
