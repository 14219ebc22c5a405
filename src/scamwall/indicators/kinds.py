"""Indicator kinds, the canonical indicator record and its deterministic id."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["INDICATOR_NAMESPACE", "Indicator", "IndicatorKind", "indicator_id", "uuid5_text"]

#: UUIDv5 namespace of indicator ids. Never change it: ids are shared with other instances.
INDICATOR_NAMESPACE = uuid.UUID("5c0b3a4e-6a4f-5d2e-9b7e-2f1d0c9a8e71")


class IndicatorKind(StrEnum):
    """The kinds of indicator scamwall pools, each with one canonical form."""

    PHONE = "phone"
    SMS_SENDER = "sms_sender"
    URL = "url"
    DOMAIN = "domain"
    IP = "ip"
    CIDR = "cidr"
    EMAIL = "email"
    BANK_ACCOUNT = "bank_account"
    CRYPTO_WALLET = "crypto_wallet"
    HANDLE = "handle"
    FILE_HASH = "file_hash"


def uuid5_text(namespace: uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))``, computed without building a UUID object.

    Ids are computed for every value parsed and every row ingested: this form costs a third of
    the standard library's, and a test holds it equal to it.
    """
    digest = bytearray(hashlib.sha1(namespace.bytes + name.encode("utf-8")).digest()[:16])  # noqa: S324 - UUIDv5 is defined over SHA-1
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    hexed = digest.hex()
    return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"


def indicator_id(kind: IndicatorKind | str, canonical: str) -> str:
    """The indicator's id: UUIDv5 over ``kind:canonical``, identical on every instance."""
    return uuid5_text(INDICATOR_NAMESPACE, f"{kind}:{canonical}")


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator in canonical form.

    ``registered_domain`` is the domain a registrant controls (``scam-bank.co.th`` for
    ``pay.scam-bank.co.th``), set for domains, URLs and e-mail addresses.
    """

    kind: IndicatorKind
    canonical: str
    registered_domain: str | None = field(default=None, compare=False)
    #: Deterministic id, see :func:`indicator_id`.
    id: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", indicator_id(self.kind, self.canonical))

    @classmethod
    def stored(
        cls, kind: IndicatorKind, canonical: str, registered_domain: str | None, stored_id: str
    ) -> Indicator:
        """An indicator read back from the store with the id stored beside it (the one
        :func:`indicator_id` gave when it was written), not computed again."""
        indicator = object.__new__(cls)
        object.__setattr__(indicator, "kind", kind)
        object.__setattr__(indicator, "canonical", canonical)
        object.__setattr__(indicator, "registered_domain", registered_domain)
        object.__setattr__(indicator, "id", stored_id)
        return indicator

    def as_dict(self) -> dict[str, str]:
        """``{"kind", "canonical", "id"}`` as the CLI and API print it."""
        return {"kind": self.kind.value, "canonical": self.canonical, "id": self.id}
