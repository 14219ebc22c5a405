"""The enforcement feeds as the settings describe them: publishing and rendering one feed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from scamwall.enforcement.feeds import Publication, feed_state, publish
from scamwall.enforcement.formats import FeedOptions, feed_format, render_change, render_full
from scamwall.errors import InvalidInput
from scamwall.exchange.policy import Caller
from scamwall.reputation import snapshot_for
from scamwall.reputation.snapshot import ReputationSnapshot
from scamwall.settings import Settings
from scamwall.store import Store
from scamwall.store.audit import AuditLog

__all__ = ["RenderedFeed", "feed_options", "publish_feeds", "render_feed"]


def feed_options(settings: Settings) -> FeedOptions:
    """How the DNS feeds answer, from the settings."""
    return FeedOptions(
        rpz_origin=settings.enforcement_rpz_origin,
        walled_garden=settings.enforcement_walled_garden,
    )


def publish_feeds(
    store: Store,
    settings: Settings,
    snapshot: ReputationSnapshot | None = None,
    *,
    caller: Caller | None = None,
    origin: str | None = None,
) -> Publication:
    """Publish a new serial if the reputation (a fresh snapshot unless given) calls for one.
    Asked for by ``caller`` (a person, not the server's own schedule): audited."""
    snapshot = snapshot if snapshot is not None else snapshot_for(store, settings)
    publication = publish(
        store,
        snapshot,
        min_score=settings.enforcement_min_score,
        entry_days=settings.enforcement_entry_days,
    )
    if caller is not None:
        AuditLog(store).record(
            caller,
            "feeds_publish",
            target=f"serial:{publication.serial}",
            detail={
                "changed": publication.changed,
                "added": publication.added,
                "removed": publication.removed,
                "active": publication.active,
                "conflicts": publication.conflicts,
            },
            origin=origin,
        )
    return publication


@dataclass(frozen=True, slots=True)
class RenderedFeed:
    """One feed, ready to write or serve, with its bytes and their validator made once."""

    format: str
    serial: int
    since: int | None
    media_type: str
    body: bytes
    #: a strong validator: the same serial, form and options give the same bytes
    etag: str

    @classmethod
    def of(
        cls, form: str, serial: int, since: int | None, media_type: str, text: str
    ) -> RenderedFeed:
        """The feed ``text`` encoded, with its ETag."""
        body = text.encode("utf-8")
        digest = hashlib.blake2b(body, digest_size=8).hexdigest()
        marker = f"-since{since}" if since is not None else ""
        return cls(form, serial, since, media_type, body, f'"{form}-{serial}{marker}-{digest}"')

    @property
    def text(self) -> str:
        """The feed as text."""
        return self.body.decode("utf-8")


def render_feed(
    store: Store,
    name: str,
    settings: Settings,
    *,
    since: int | None = None,
    serial: int | None = None,
) -> RenderedFeed:
    """The feed ``name`` at ``serial`` (the newest by default), whole or as the changes since
    serial ``since``."""
    form = feed_format(name)
    options = feed_options(settings)
    after = feed_state(store, form.kinds, serial=serial)
    if since is None:
        text = render_full(
            form,
            after.entries,
            serial=after.serial,
            published_at=after.published_at,
            options=options,
        )
    else:
        if since > after.serial:
            raise InvalidInput(
                f"since {since} is after serial {after.serial}: ask for the changes since an "
                "earlier serial",
                field="since",
            )
        before = feed_state(store, form.kinds, serial=since)
        text = render_change(
            form,
            before.entries,
            after.entries,
            since=since,
            serial=after.serial,
            published_at=after.published_at,
            options=options,
        )
    return RenderedFeed.of(form.name, after.serial, since, form.media_type, text)
