"""The one error tree of scamwall.

Every error the package raises on purpose derives from :class:`ScamwallError`. Each class carries a
machine-readable ``code``, the HTTP status the API answers with, and the exit code the CLI ends with
(``sysexits.h`` values), so the same failure reads the same way everywhere::

    ScamwallError                      500  exit 70  internal
    ├── InvalidInput                   400  exit 65  invalid_input
    │   ├── InvalidIndicator           422  exit 65  invalid_indicator
    │   └── InvalidRecord              422  exit 65  invalid_record
    ├── UsageError                     400  exit 64  usage
    │   └── PayloadTooLarge            413  exit 64  payload_too_large
    ├── NotAuthenticated               401  exit 77  not_authenticated
    ├── PermissionDenied               403  exit 77  permission_denied
    ├── NotFound                       404  exit 66  not_found
    ├── AlreadyExists                  409  exit 73  already_exists
    ├── TooManyRequests                429  exit 75  too_many_requests
    ├── ConfigurationError             500  exit 78  configuration
    ├── PeerUnavailable                502  exit 69  peer_unavailable
    └── StoreUnavailable               503  exit 69  store_unavailable

A message says what was wrong and what to do about it; ``details`` holds the structured part
(the field, the line, the value's kind) for callers that act on it.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AlreadyExists",
    "ConfigurationError",
    "InvalidIndicator",
    "InvalidInput",
    "InvalidRecord",
    "NotAuthenticated",
    "NotFound",
    "PayloadTooLarge",
    "PeerUnavailable",
    "PermissionDenied",
    "ScamwallError",
    "StoreUnavailable",
    "TooManyRequests",
    "UsageError",
]


class ScamwallError(Exception):
    """Base of every error scamwall raises on purpose."""

    code: ClassVar[str] = "internal"
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 70  # EX_SOFTWARE

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def to_dict(self) -> dict[str, Any]:
        """The error as the one JSON shape the API and ``--json`` output use."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(ScamwallError):
    """Something the caller gave cannot be used as it is."""

    code = "invalid_input"
    http_status = 400
    exit_code = 65  # EX_DATAERR


class InvalidIndicator(InvalidInput):
    """A value is not a valid indicator of the kind it was parsed as."""

    code = "invalid_indicator"
    http_status = 422

    def __init__(self, kind: str | None, reason: str, value: str | None = None) -> None:
        label = f"not a valid {kind}" if kind else "not a recognisable indicator"
        super().__init__(f"{label}: {reason}", kind=kind, reason=reason)
        self.kind = kind
        self.reason = reason
        self.value = value


class InvalidRecord(InvalidInput):
    """One record of a batch (a CSV row, a JSON object) is unusable; the batch goes on."""

    code = "invalid_record"
    http_status = 422

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        message = f"{field}: {reason}" if field else reason
        super().__init__(message, field=field, reason=reason)
        self.field = field
        self.reason = reason


class UsageError(ScamwallError):
    """The command or request was called the wrong way (a missing or clashing option)."""

    code = "usage"
    http_status = 400
    exit_code = 64  # EX_USAGE


class PayloadTooLarge(UsageError):
    """A request body or batch is over its limit; the message gives the limit."""

    code = "payload_too_large"
    http_status = 413


class NotAuthenticated(ScamwallError):
    """No valid credentials: the token is missing, unknown, expired or revoked."""

    code = "not_authenticated"
    http_status = 401
    exit_code = 77  # EX_NOPERM


class PermissionDenied(ScamwallError):
    """Authenticated, but the role or agency may not do this."""

    code = "permission_denied"
    http_status = 403
    exit_code = 77  # EX_NOPERM


class TooManyRequests(ScamwallError):
    """A rate limit was hit; ``details.retry_after`` says in how many seconds to try again."""

    code = "too_many_requests"
    http_status = 429
    exit_code = 75  # EX_TEMPFAIL


class NotFound(ScamwallError):
    """A named thing (agency, file, indicator) does not exist."""

    code = "not_found"
    http_status = 404
    exit_code = 66  # EX_NOINPUT


class AlreadyExists(ScamwallError):
    """Creating something that exists already (an agency code, a group name)."""

    code = "already_exists"
    http_status = 409
    exit_code = 73  # EX_CANTCREAT


class ConfigurationError(ScamwallError):
    """A setting is missing or wrong; the message names it and its environment variable."""

    code = "configuration"
    http_status = 500
    exit_code = 78  # EX_CONFIG


class PeerUnavailable(ScamwallError):
    """Another instance did not answer in time, or answered something unreadable."""

    code = "peer_unavailable"
    http_status = 502
    exit_code = 69  # EX_UNAVAILABLE


class StoreUnavailable(ScamwallError):
    """The database cannot be reached or is not initialised."""

    code = "store_unavailable"
    http_status = 503
    exit_code = 69  # EX_UNAVAILABLE
