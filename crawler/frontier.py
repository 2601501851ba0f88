"""Many crawl processes, one frontier, through Redis.

scrapy-redis shares the request queue and the duplicate filter; this module adds what it
lacks for processes that may die or finish at different times:

* **Leases.** A request popped from the shared queue is moved, in the same Redis script,
  into the popping worker's in-flight hash. It leaves that hash when newsmon is done with it
  (the item left the pipelines, the callback's requests are queued, or the errback ran). A
  worker whose heartbeat stops for ``worker_timeout`` seconds is reaped by any live one: its
  in-flight requests go back to the queue, so a process killed mid-crawl loses nothing (what
  it was fetching is fetched once more by another process).
* **A shared end.** A worker whose engine is idle stays open while the queue has requests or
  another worker holds leases (it may still discover URLs); the last one to leave an empty
  frontier clears the duplicate filter, so the next crawl starts afresh. A crawl stopped with
  requests still queued resumes from them.
* **Shared politeness.** ``SharedPoliteness`` (the HTTP download handler on a shared frontier)
  spaces requests to one host by the outlet's ``download_delay`` across all processes (one
  Redis clock per host); each process's own download slot then has no delay of its own.

Keys: ``newsmon:<outlet>:requests`` (queue), ``:dupefilter``, ``:workers`` (heartbeats),
``:inflight:<worker>``; ``newsmon:gate:<host>`` (politeness). Scripts build some key names
inside Lua, so one Redis server (not a cluster) is assumed.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import redis
from scrapy import Request, Spider, signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy_redis.queue import PriorityQueue
from twisted.internet import task

from crawler.signals import request_finished

PREFIX = "newsmon"
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
LEASES = "newsmon_leases"  # request.meta: [(inflight key, lease id), ...]

# pop the best request and lease it to this worker, in one step
_POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0)
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
redis.call('HSET', KEYS[2], redis.sha1hex(r[1]), r[1])
return r[1]
"""
# heartbeat, then give the leases of every worker silent for ARGV[2] seconds back to the queue
_HEARTBEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
redis.call('ZADD', KEYS[1], now, ARGV[1])
local returned = 0
for _, w in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))) do
  local k = ARGV[3] .. w
  for _, v in ipairs(redis.call('HVALS', k)) do
    redis.call('ZADD', KEYS[2], 0, v)
    returned = returned + 1
  end
  redis.call('DEL', k)
  redis.call('ZREM', KEYS[1], w)
end
return returned
"""
# is anything left to do besides this worker's (stale) leases?
_BUSY = """
if redis.call('ZCARD', KEYS[2]) > 0 then return 1 end
for _, w in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if w ~= ARGV[1] and redis.call('HLEN', ARGV[2] .. w) > 0 then return 1 end
end
return 0
"""
# leave; the last worker out of an empty frontier clears the duplicate filter
_LEAVE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[3])
if redis.call('ZCARD', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[4])
  return 1
end
return 0
"""
# may a request to this host leave now? then the next one may leave ARGV[1] s from now;
# else: how long to wait before asking again
_GATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local delay = tonumber(ARGV[1])
local free_at = tonumber(redis.call('GET', KEYS[1]) or '0')
if now >= free_at then
  redis.call('SET', KEYS[1], tostring(now + delay), 'PX', math.ceil(delay * 1000) + 60000)
  return '0'
end
return tostring(free_at - now)
"""


def keys(outlet: str) -> dict[str, str]:
    base = f"{PREFIX}:{outlet}"
    return {"requests": f"{base}:requests", "dupefilter": f"{base}:dupefilter",
            "workers": f"{base}:workers", "inflight": f"{base}:inflight:"}


def client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)


def scrapy_settings(url: str) -> dict[str, Any]:
    """The Scrapy settings that put a crawl on the shared frontier at ``url``."""
    return {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "crawler.frontier.LeasedQueue",
        "SCHEDULER_QUEUE_KEY": f"{PREFIX}:%(spider)s:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{PREFIX}:%(spider)s:dupefilter",
        "SCHEDULER_PERSIST": True,  # SharedFrontier decides when the frontier is cleared
        "REDIS_URL": url,
        "DOWNLOAD_HANDLERS": {"http": "crawler.frontier.SharedPoliteness",
                              "https": "crawler.frontier.SharedPoliteness"},
    }


class LeasedQueue(PriorityQueue):
    """scrapy-redis's priority queue whose ``pop`` leases the request to this worker."""

    def __init__(self, server: redis.Redis, spider: Spider, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        self.inflight = keys(spider.name)["inflight"] + WORKER_ID
        self._pop = server.register_script(_POP)

    def pop(self, timeout: int = 0) -> Request | None:
        data = self._pop(keys=[self.key, self.inflight])
        if data is None:
            return None
        request = self._decode_request(data)
        lease = hashlib.sha1(data).hexdigest()
        request.meta[LEASES] = [*request.meta.get(LEASES, []), (self.inflight, lease)]
        return request


class SharedFrontier:
    """Heartbeats, reaping of dead workers, lease release and the shared end of a crawl."""

    def __init__(self, crawler: Crawler, server: redis.Redis, heartbeat: float, worker_timeout: float) -> None:
        self.crawler = crawler
        self.server = server
        self.heartbeat = heartbeat
        self.worker_timeout = worker_timeout
        self.scripts = {name: server.register_script(src)
                        for name, src in (("heartbeat", _HEARTBEAT), ("busy", _BUSY), ("leave", _LEAVE))}
        self.loop: task.LoopingCall | None = None
        self.keys: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedFrontier:
        url = crawler.settings.get("NEWSMON_REDIS_URL")
        if not url:
            raise NotConfigured  # off: no message, so Scrapy logs nothing
        ext = cls(crawler, client(url), crawler.settings.getfloat("NEWSMON_REDIS_HEARTBEAT"),
                  crawler.settings.getfloat("NEWSMON_REDIS_WORKER_TIMEOUT"))
        for handler, signal in ((ext.spider_opened, signals.spider_opened),
                                (ext.spider_idle, signals.spider_idle),
                                (ext.spider_closed, signals.spider_closed),
                                (ext.finished, signals.request_dropped),
                                (ext.finished, request_finished),
                                (ext.item_done, signals.item_scraped),
                                (ext.item_done, signals.item_dropped),
                                (ext.item_done, signals.item_error)):
            crawler.signals.connect(handler, signal=signal)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self.keys = keys(spider.name)
        self.beat()
        self.loop = task.LoopingCall(self.beat)
        self.loop.start(self.heartbeat, now=False)

    def beat(self) -> None:
        returned = self.scripts["heartbeat"](
            keys=[self.keys["workers"], self.keys["requests"]],
            args=[WORKER_ID, self.worker_timeout, self.keys["inflight"]])
        if returned:
            self.crawler.stats.inc_value("newsmon/frontier/requeued_from_dead", int(returned))
        self._wake_engine()

    def _wake_engine(self) -> None:
        """An idle engine polls its scheduler every 5 s; poll at the heartbeat instead."""
        slot = getattr(self.crawler.engine, "_slot", None)  # no public API for this
        if slot is not None and slot.closing is None:
            slot.nextcall.schedule()

    def spider_idle(self, spider: Spider) -> None:
        # this engine is idle, so none of this worker's leases is live any more
        self.server.delete(self.keys["inflight"] + WORKER_ID)
        if self.scripts["busy"](keys=[self.keys["workers"], self.keys["requests"]],
                                args=[WORKER_ID, self.keys["inflight"]]):
            raise DontCloseSpider("other crawl processes are still working on the frontier")

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        cleared = self.scripts["leave"](
            keys=[self.keys["workers"], self.keys["requests"],
                  self.keys["inflight"] + WORKER_ID, self.keys["dupefilter"]],
            args=[WORKER_ID])
        if cleared:
            self.crawler.stats.set_value("newsmon/frontier/cleared", 1)

    def finished(self, request: Request, **_: Any) -> None:
        leases = request.meta.get(LEASES)
        if leases:
            pipe = self.server.pipeline(transaction=False)
            for key, lease in leases:
                pipe.hdel(key, lease)
            pipe.execute()

    def item_done(self, item: Any, response: Response | None = None, **_: Any) -> None:
        if response is not None and response.request is not None:
            self.finished(response.request)


class FrontierLeaseMiddleware:
    """Spider middleware: a page's requests are queued once its callback has run to the end,
    so its lease can go; an article page's lease goes when its item leaves the pipelines."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierLeaseMiddleware:
        if not crawler.settings.get("NEWSMON_REDIS_URL"):
            raise NotConfigured  # off: no message, so Scrapy logs nothing
        return cls(crawler)

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]
                                          ) -> AsyncIterator[Any]:
        async for output in result:
            yield output
        if response.request is not None and response.meta.get("newsmon_kind") != "article":
            self.crawler.signals.send_catch_log(request_finished, request=response.request)

    def process_spider_output(self, response: Response, result: Any) -> Any:
        yield from result
        if response.request is not None and response.meta.get("newsmon_kind") != "article":
            self.crawler.signals.send_catch_log(request_finished, request=response.request)


class SharedPoliteness(HTTP11DownloadHandler):
    """HTTP(S) download handler: one host, one pace, however many processes crawl it.

    Scrapy calls the handler when the download slot actually sends the request, so waiting for
    the host's gate here holds the slot like Scrapy's own ``DOWNLOAD_DELAY`` does, and the gate
    is taken the moment the request leaves (not booked ahead): a stalled process cannot bunch
    its requests together with another's.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        url = crawler.settings.get("NEWSMON_REDIS_URL")
        self.delay = crawler.settings.getfloat("NEWSMON_SHARED_DELAY")  # the outlet's (spiderloader)
        self.gate = client(url).register_script(_GATE) if url and self.delay > 0 else None

    async def download_request(self, request: Request) -> Response:
        if self.gate is not None:
            from twisted.internet import reactor  # the one Scrapy installed

            key = f"{PREFIX}:gate:{urlsplit(request.url).netloc}"
            while (wait := float(self.gate(keys=[key], args=[self.delay]))) > 0:
                await maybe_deferred_to_future(task.deferLater(reactor, wait, lambda: None))
        return await super().download_request(request)
