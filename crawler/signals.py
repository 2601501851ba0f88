"""newsmon's own Scrapy signals."""

from __future__ import annotations

# sent with ``request=`` when newsmon is done with a request whose callback yields no item
# (its errback ran, or its discovered requests are all queued); the shared frontier listens
request_finished = object()
