"""The HTTP API (FastAPI), versioned under ``/v1``; ``scamwall serve`` runs it."""

from scamwall.api.app import create_app

__all__ = ["create_app"]
