"""Saved searches and their alerts: what is new since the last run, delivered to a webhook.

A saved search remembers which articles it has reported (``saved_search_seen``). A run marks
the new matches reported and queues the webhook alert in the same transaction, then tries to
deliver the queue; an alert that could not be delivered stays queued and is tried again on the
next run, so a match is never lost between "seen" and "delivered".

A saved search with an ``actor`` (an actor watch) has no query: its matches are the actor's new
statements, read on from a cursor into the store's statements (``statements_added_after``),
with the same seen-marks, outbox and webhook.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from newsmon.context import Context
from newsmon.render import plain
from search.base import SearchHit, SearchRequest, SearchResult
from search.errors import NotFound, QueryError
from search.query import parse_query

NAME = re.compile(r"^[\w][\w .-]{0,79}$", re.UNICODE)
MAX_NEW_PER_RUN = 10_000  # a first run of a broad search reports at most this many


@dataclass
class SavedSearch:
    """A query and its filters, as saved by name (the same filters as the search page)."""

    name: str
    query: str
    outlets: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    date_from: str | None = None
    date_to: str | None = None
    cross_lingual: bool = False
    webhook: str = ""
    actor: str = ""  # an actor watch: this actor's new statements instead of query matches

    def options(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("name", "query", "webhook"):
            data.pop(key)
        return data

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SavedSearch:
        known = {"outlets", "languages", "date_from", "date_to", "cross_lingual", "actor"}
        options = {k: v for k, v in row["options"].items() if k in known}
        return cls(name=row["name"], query=row["query"], webhook=row["webhook"], **options)

    def request(self, *, limit: int, offset: int = 0, sort: str = "newest",
                collapse: bool = False) -> SearchRequest:
        return SearchRequest(
            query=self.query, outlets=list(self.outlets), languages=list(self.languages),
            date_from=self.date_from, date_to=self.date_to, sort=sort, limit=limit,
            offset=offset, collapse=collapse,
        )


def check_webhook(url: str) -> str:
    """Webhooks are plain http(s) URLs; anything else is refused when saving."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise QueryError(f"a webhook must be an http(s) URL: {url!r}")
    return url


def validate(saved: SavedSearch) -> SavedSearch:
    if not NAME.match(saved.name):
        raise QueryError("a saved search name is 1-80 letters, digits, spaces, '.', '-' or '_'")
    if saved.actor:
        if saved.query.strip():
            raise QueryError("an actor watch takes no query: give a query or an actor, not both")
        if saved.outlets or saved.languages or saved.date_from or saved.date_to \
                or saved.cross_lingual:
            raise QueryError("an actor watch takes no search filters")
    elif not saved.query.strip():
        raise QueryError("a saved search needs a query (or an actor to watch)")
    else:
        parse_query(saved.query)  # a clear error now rather than at every run
    if saved.date_from and saved.date_to and saved.date_from > saved.date_to:
        raise QueryError("the 'from' date is after the 'to' date")
    if saved.webhook:
        check_webhook(saved.webhook)
    return saved


def save(ctx: Context, saved: SavedSearch, engine: Any = None) -> SavedSearch:
    """Validate and store; an actor is resolved to its id (any name or role names it).
    ``engine``: the statement engine when the caller has one (building one takes a second)."""
    validate(saved)
    if saved.actor:
        from newsmon.commands.statements import engine_for, resolve_actor

        saved.actor = resolve_actor(engine or engine_for(ctx), saved.actor)
    ctx.store.save_search(saved.name, saved.query, saved.options(), saved.webhook)
    return saved


def load(ctx: Context, name: str) -> SavedSearch:
    row = ctx.store.saved_search(name)
    if row is None:
        raise NotFound(f"no saved search named {name!r}")
    return SavedSearch.from_row(row)


def search(ctx: Context, request: SearchRequest, cross_lingual: bool = False) -> SearchResult:
    """The one search entry point of the web app and the watcher (CLI syntax, both backends)."""
    if cross_lingual:
        return ctx.cross_lingual_search(request)
    return ctx.backend.search(request)


def iter_hits(ctx: Context, saved: SavedSearch, *, collapse: bool = False, page: int = 200,
              sort: str = "newest", limit: int | None = None) -> Iterator[SearchHit]:
    """Every hit of a saved search, page by page with the backend's cursor (bounded memory)."""
    request = saved.request(limit=page, sort=sort, collapse=collapse)
    request.point_in_time = True  # every page from one state of the index, under writes
    produced = 0
    while True:
        result = search(ctx, request, saved.cross_lingual)
        for hit in result.hits:
            yield hit
            produced += 1
            if limit is not None and produced >= limit:
                return
        if not result.next_cursor or not result.hits:
            return
        request.search_after = result.next_cursor


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hit_summary(hit: SearchHit) -> dict[str, Any]:
    return {
        "id": hit.id, "title": hit.title, "translated_title": hit.translated_title,
        "url": hit.url, "outlet": hit.outlet, "language": hit.language,
        "published": hit.published, "story_id": hit.story_id, "snippet": plain(hit.snippet),
    }


# what a statement's report shows, in the API, the webhook body and `watch run --json`
REPORT_KEYS = ("article_id", "kind", "speaker_name", "text", "translation", "outlet", "language",
               "published", "url", "title", "first_report")


def statement_summary(statement: dict[str, Any]) -> dict[str, Any]:
    """A stored statement with its reports; its kind and translation are its first report's."""
    reports = [{k: r.get(k) for k in REPORT_KEYS} for r in statement["reports"]]
    first = next((r for r in reports if r["first_report"]), reports[0] if reports else {})
    translation = next((r["translation"] for r in [first, *reports]
                        if r.get("translation") and r["translation"] != r["text"]), "")
    return {
        "id": statement["id"], "speaker": statement["speaker_actor"] or statement["speaker_name"],
        "speaker_actor": statement["speaker_actor"], "speaker_name": statement["speaker_name"],
        "kind": first.get("kind") or "", "text": statement["text"], "translation": translation,
        "first_published": statement["first_published"],
        "outlets": sorted({r["outlet"] for r in reports}),
        "languages": sorted({r["language"] for r in reports if r["language"]}),
        "reports": reports,
    }


def new_statements(ctx: Context, saved: SavedSearch) -> tuple[list[dict[str, Any]], int]:
    """An actor watch's statements not reported yet, and the cursor to read on from."""
    cursor = ctx.store.statement_cursor(saved.name)
    found: list[dict[str, Any]] = []
    while len(found) < MAX_NEW_PER_RUN:
        batch, cursor = ctx.store.statements_added_after(cursor, [saved.actor])
        if not batch:
            break
        found.extend(batch)
    found.sort(key=lambda s: (s["first_published"] or "", s["id"]))
    new_ids = set(ctx.store.unseen(saved.name, [s["id"] for s in found]))
    return [statement_summary(s) for s in found if s["id"] in new_ids], cursor


@dataclass
class RunReport:
    name: str
    new: list[dict[str, Any]]  # hits, or an actor watch's statements
    actor: str = ""
    delivered: int = 0  # webhook alerts delivered in this run (old and new)
    undelivered: list[str] = field(default_factory=list)  # errors of alerts left queued


def run(ctx: Context, names: list[str] | None = None, *, deliver: bool = True,
        post: Any = None) -> list[RunReport]:
    """Report what matched since the last run for each saved search (all when names is empty)."""
    rows = ctx.store.saved_searches()
    if names:
        unknown = sorted(set(names) - {r["name"] for r in rows})
        if unknown:
            raise NotFound(f"no saved search named {', '.join(map(repr, unknown))}")
        rows = [r for r in rows if r["name"] in names]
    web = ctx.config.section("web")
    post = post or Webhook(float(web["webhook_timeout"]), int(web["webhook_retries"]),
                           float(web["webhook_backoff"]))
    reports = []
    for row in rows:
        saved = SavedSearch.from_row(row)
        cursor = None
        if saved.actor:
            new, cursor = new_statements(ctx, saved)
        else:
            hits = list(iter_hits(ctx, saved, limit=MAX_NEW_PER_RUN))
            new_ids = set(ctx.store.unseen(saved.name, [h.id for h in hits]))
            new = [hit_summary(h) for h in hits if h.id in new_ids]
        stamp = now_iso()
        alert = None
        if new and saved.webhook:
            what = {"actor": saved.actor} if saved.actor else {"query": saved.query}
            body = {"saved_search": saved.name, **what, "at": stamp, "new": new}
            alert = (saved.webhook, json.dumps(body, ensure_ascii=False))
        ctx.store.record_matches(saved.name, [m["id"] for m in new], stamp, alert, cursor)
        report = RunReport(saved.name, new, saved.actor)
        if deliver:
            for queued in ctx.store.undelivered_alerts(saved.name):
                error = post(queued["url"], queued["payload"])
                if error:
                    ctx.store.mark_alert(queued["id"], error=error)
                    report.undelivered.append(error)
                else:
                    ctx.store.mark_alert(queued["id"], delivered_at=now_iso())
                    report.delivered += 1
        reports.append(report)
    return reports


class Webhook:
    """POST a JSON body with retries. Redirects are followed only when they keep the method and
    the scheme (307/308 to the same scheme), at most 3 times; anything else is a failure."""

    def __init__(self, timeout: float, retries: int, backoff: float) -> None:
        self.timeout, self.retries, self.backoff = timeout, retries, backoff

    def __call__(self, url: str, payload: str) -> str:
        """'' when delivered, else the last error."""
        import httpx

        error = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(self.backoff * 2 ** (attempt - 1), 30))
            try:
                error = self._post_once(httpx, url, payload)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            if not error or error.startswith("refused"):
                return error
        return error

    def _post_once(self, httpx: Any, url: str, payload: str) -> str:
        scheme = urlsplit(url).scheme
        with httpx.Client(timeout=self.timeout, follow_redirects=False, trust_env=False) as client:
            for _hop in range(4):
                response = client.post(url, content=payload.encode("utf-8"),
                                       headers={"Content-Type": "application/json",
                                                "User-Agent": "newsmon-watch"})
                if response.status_code in (307, 308) and "location" in response.headers:
                    target = urljoin(url, response.headers["location"])
                    if urlsplit(target).scheme != scheme:
                        return f"refused a redirect from {scheme} to {urlsplit(target).scheme or '?'}"
                    url = target
                    continue
                if response.is_success:
                    return ""
                if response.is_redirect:
                    return f"refused a {response.status_code} redirect (it would drop the POST body)"
                return f"HTTP {response.status_code}"
        return "too many redirects"
