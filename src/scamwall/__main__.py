"""``python -m scamwall`` runs the command line."""

from scamwall.cli import run

if __name__ == "__main__":
    run()
