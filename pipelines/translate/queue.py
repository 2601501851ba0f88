"""Translation as its own worker pool, fed through a Redis stream with a consumer group.

Crawl processes (``--redis URL`` with ``translate.during_crawl = false``) store each article
as pending and add its id to the stream ``newsmon:translate`` (TranslationQueuePipeline, after
StorePipeline). ``newsmon translate --worker --redis URL`` processes read the stream in the
consumer group ``translators``; an entry is acknowledged only once its translations are saved.
A worker that dies leaves its entries pending in the group; any other worker claims those
idle longer than ``min_idle`` seconds (XAUTOCLAIM) and translates them, so nothing is lost.
Workers read and write the store the crawl wrote (one host, or a shared volume).
"""

from __future__ import annotations

from collections.abc import Callable

import redis

STREAM = "newsmon:translate"
GROUP = "translators"

Entries = list[tuple[str, str]]  # (stream entry id, article id)


class TranslationQueue:
    def __init__(self, server: redis.Redis) -> None:
        self.server = server

    @classmethod
    def from_url(cls, url: str) -> TranslationQueue:
        return cls(redis.Redis.from_url(url, socket_timeout=60, socket_connect_timeout=10))

    def ensure_group(self) -> None:
        try:
            self.server.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def add(self, article_id: str) -> None:
        self.server.xadd(STREAM, {"article": article_id})

    def claim(self, consumer: str, min_idle: float, count: int) -> Entries:
        """Entries other workers took and left unacknowledged for ``min_idle`` seconds."""
        _next, claimed, *_deleted = self.server.xautoclaim(
            STREAM, GROUP, consumer, int(min_idle * 1000), start_id="0-0", count=count)
        return _entries(claimed)

    def read(self, consumer: str, count: int, block: float) -> Entries:
        answer = self.server.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=count,
                                        block=int(block * 1000))
        return _entries(answer[0][1]) if answer else []

    def ack(self, entry_ids: list[str]) -> None:
        if entry_ids:
            self.server.xack(STREAM, GROUP, *entry_ids)
            self.server.xdel(STREAM, *entry_ids)

    def pending(self) -> int:
        """Entries read by some worker and not acknowledged yet."""
        return int(self.server.xpending(STREAM, GROUP)["pending"])

    def waiting(self) -> int:
        """Entries no worker has read yet."""
        for group in self.server.xinfo_groups(STREAM):
            if group["name"] in (GROUP, GROUP.encode()):
                return int(group.get("lag") or 0)
        return 0


def _entries(raw: list) -> Entries:
    out = []
    for entry_id, fields in raw:
        if fields is None:  # trimmed meanwhile
            continue
        article = fields.get(b"article") or fields.get("article")
        out.append((_text(entry_id), _text(article)))
    return out


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def serve(queue: TranslationQueue, consumer: str, translate: Callable[[list[str]], list[str]], *,
          batch: int = 32, min_idle: float = 60.0, block: float = 1.0, drain: bool = False,
          on_batch: Callable[[str, int], None] | None = None) -> int:
    """Translate what the stream holds; ``translate(ids)`` returns the ids it finished.

    Runs until killed, or with ``drain`` until no entry is waiting or pending. Returns how many
    articles this worker finished.
    """
    queue.ensure_group()
    finished = 0
    while True:
        entries = queue.claim(consumer, min_idle, batch)
        source = "claimed"
        if not entries:
            entries, source = queue.read(consumer, batch, block), "read"
        if not entries:
            if drain and queue.pending() == 0 and queue.waiting() == 0:
                return finished
            continue
        done = set(translate([article for _, article in entries]))
        queue.ack([entry for entry, article in entries if article in done])
        finished += len(done)
        if on_batch is not None:
            on_batch(source, len(done))
