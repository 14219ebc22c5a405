"""Enforcement: what resolvers, firewalls and switches load, and the warning page.

- :mod:`~scamwall.enforcement.feeds`: publication into serials, the feeds at any serial;
- :mod:`~scamwall.enforcement.formats`: RPZ, Unbound, hosts, dnsmasq, nft, ipset, numbers;
- :mod:`~scamwall.enforcement.blocklist`: one serial's entries in memory;
- :mod:`~scamwall.enforcement.appeals`, :mod:`~scamwall.enforcement.receipts`;
- :mod:`~scamwall.enforcement.warning`: the page the walled garden shows.
"""

from __future__ import annotations

from scamwall.enforcement.blocklist import Blocklist
from scamwall.enforcement.feeds import FeedEntry, FeedState, Publication, feed_state, publish
from scamwall.enforcement.formats import FORMATS, FeedOptions, render_change, render_full

__all__ = [
    "FORMATS",
    "Blocklist",
    "FeedEntry",
    "FeedOptions",
    "FeedState",
    "Publication",
    "feed_state",
    "publish",
    "render_change",
    "render_full",
]
