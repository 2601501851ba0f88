"""What each page shows, computed once: the HTML pages and the JSON API both call these.

Nothing here renders markup: values stay untrusted text until the templates escape them
(``newsmon.web.safety.highlight`` for snippets), or the JSON encoder serialises them.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any, Literal
from urllib.parse import urlencode

from newsmon import render, watch
from newsmon.commands import statements as statement_commands
from newsmon.context import Context
from newsmon.web import charts
from newsmon.web.safety import safe_link
from search.base import SearchHit, SearchRequest
from search.errors import NotFound, QueryError

Sort = Literal["relevance", "newest", "oldest"]


@dataclass
class SearchParams:
    """The search page's query string: the CLI's options, by their web names."""

    q: str = ""
    outlet: list[str] = field(default_factory=list)
    language: list[str] = field(default_factory=list)
    date_from: str | None = None
    date_to: str | None = None
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 20
    all: bool = False  # every article instead of one per story
    cross: bool = False  # cross-language: also search the query's translations

    def request(self, *, facets: bool = True) -> SearchRequest:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise QueryError("'from' is after 'to'")
        return SearchRequest(
            query=self.q, outlets=list(self.outlet), languages=list(self.language),
            date_from=self.date_from, date_to=self.date_to, sort=self.sort,
            limit=self.per_page, offset=(self.page - 1) * self.per_page,
            collapse=not self.all, facets=facets,
        )

    def saved(self, name: str, webhook: str = "") -> watch.SavedSearch:
        return watch.SavedSearch(
            name=name, query=self.q, outlets=list(self.outlet), languages=list(self.language),
            date_from=self.date_from, date_to=self.date_to, cross_lingual=self.cross,
            webhook=webhook,
        )

    def query_string(self, **changes: Any) -> str:
        """This search with some parameters changed, as a URL query (defaults left out)."""
        values = {**dataclasses.asdict(self), **changes}
        pairs: list[tuple[str, Any]] = []
        for name, value in values.items():
            key = {"date_from": "from", "date_to": "to"}.get(name, name)
            if isinstance(value, list):
                pairs.extend((key, v) for v in value)
            elif value not in (None, "", False) and value != getattr(SearchParams, name, None):
                pairs.append((key, "1" if value is True else value))
        return urlencode(pairs)

    def toggled(self, facet: str, value: str) -> str:
        """The query string with ``value`` added to (or removed from) a facet filter."""
        current = list(getattr(self, facet))
        chosen = [v for v in current if v != value] if value in current else [*current, value]
        return self.query_string(**{facet: chosen, "page": 1})


def hit_record(hit: SearchHit) -> dict[str, Any]:
    """A hit for the JSON API: the text fields as text, the marked snippet spelled **term**."""
    data = render.hit_record(hit)
    data["link"] = safe_link(hit.url)
    return data


def search_view(ctx: Context, params: SearchParams) -> dict[str, Any]:
    """Hits grouped by story, facets, the per-day histogram and paging for one search."""
    if not params.q.strip():
        return {"params": params, "empty": True, "stats": stats_view(ctx)}
    result = watch.search(ctx, params.request(), params.cross)
    facets = {k: v for k, v in result.facets.items() if k != "day"}
    for name in ("outlet", "language"):
        if getattr(params, name):
            # a chosen value must not hide the others: count this facet without its own filter
            others = dataclasses.replace(params, **{name: []}).request()
            others.limit, others.offset = 1, 0
            facets[name] = watch.search(ctx, others, params.cross).facets.get(name, {})
    pages = max(1, math.ceil(result.total / params.per_page))
    return {
        "params": params,
        "empty": False,
        "total": result.total,
        "total_exact": result.total_exact,
        "unit": "articles" if params.all else "stories",
        "hits": result.hits,
        "facets": facets,
        "days": result.facets.get("day", {}),
        "histogram": charts.histogram(result.facets.get("day", {})),
        "page": params.page,
        "pages": pages,
        "prev": params.query_string(page=params.page - 1) if params.page > 1 else None,
        "next": params.query_string(page=params.page + 1) if params.page < pages else None,
    }


def search_json(view: dict[str, Any]) -> dict[str, Any]:
    if view["empty"]:
        raise QueryError("the query is empty: give at least one word")
    return {
        "query": dataclasses.asdict(view["params"]),
        "total": view["total"], "total_exact": view["total_exact"], "unit": view["unit"],
        "page": view["page"], "pages": view["pages"],
        "hits": [hit_record(h) for h in view["hits"]],
        "facets": {**view["facets"], "day": view["days"]},
    }


def stats_view(ctx: Context) -> dict[str, Any]:
    figures = ctx.backend.stats()
    return {k: figures.get(k) for k in ("articles", "by_outlet", "by_language", "by_day")}


def article_view(ctx: Context, article_id: str) -> dict[str, Any]:
    """The article, its translation paired with it paragraph by paragraph, and its story."""
    article = ctx.store.get(article_id)
    if article is None:
        raise NotFound(f"no article with id {article_id}")
    targets = list(ctx.config.section("translate")["targets"])
    done = [t for t in article.translations if t.status == "done"]
    translation = next((t for t in done if t.target in targets), done[0] if done else None)
    original = _paragraphs(article.body)
    translated = _paragraphs(translation.body) if translation else []
    story_id = article.story_id or article.id
    return {
        "article": article,
        "link": safe_link(article.canonical_url),
        "translation": translation,
        "statuses": {t.target: t.status for t in article.translations},
        "rows": list(zip_longest(original, translated, fillvalue="")),
        "story_id": story_id,
        "story": [m for m in ctx.store.story_members(story_id) if m["id"] != article.id],
    }


def article_json(view: dict[str, Any]) -> dict[str, Any]:
    article = view["article"]
    return {
        **article.to_dict(), "link": view["link"],
        "paragraphs": [{"original": o, "translation": t} for o, t in view["rows"]],
        "story": [_member_json(m) for m in view["story"]],
    }


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def story_view(ctx: Context, story_id: str, speakers: Speakers | None = None) -> dict[str, Any]:
    """How a story travelled: its articles in time order, the earliest marked, on a timeline;
    with ``speakers``, who responded to it too."""
    store = ctx.store
    store.dedup_index()  # a store that never ran dedup has no story tables yet
    live = store.resolve_story(story_id)
    members = store.story_members(live) if live else []
    if not members:
        raise NotFound(f"no story with id {story_id}")
    story_id = live
    dated = [m for m in members if m["published"]]
    earliest = dated[0]["id"] if dated else None
    for member in members:
        member["link"] = safe_link(member["url"])
        member["earliest"] = member["id"] == earliest
    return {
        "story_id": story_id,
        "members": members,
        "earliest": earliest,
        "outlets": sorted({m["outlet"] for m in members}),
        "languages": sorted({m["language"] for m in members}),
        "timeline": charts.timeline(members),
        **_story_responses(speakers, story_id),
    }


def _story_responses(speakers: Speakers | None, story_id: str) -> dict[str, Any]:
    if speakers is None:
        return {"responses": [], "responses_note": ""}
    try:
        return {"responses": responses_view(speakers, story_id), "responses_note": ""}
    except NotFound:  # Elasticsearch without its statements index yet: the story still shows
        return {"responses": [], "responses_note": "statements are not in the search index yet:"
                                                    " run `newsmon index sync`"}


def story_json(view: dict[str, Any]) -> dict[str, Any]:
    return {
        "story_id": view["story_id"], "earliest": view["earliest"],
        "outlets": view["outlets"], "languages": view["languages"],
        "articles": [_member_json(m) for m in view["members"]],
        "responses": view["responses"], "responses_note": view["responses_note"],
    }


def _member_json(member: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "title", "translated_title", "outlet", "language", "published", "first_seen",
            "url", "earliest")
    return {k: member.get(k) for k in keys if k in member}


def saved_json(row: dict[str, Any]) -> dict[str, Any]:
    saved = watch.SavedSearch.from_row(row)
    return {**dataclasses.asdict(saved), "reported": row["seen"], "last_run": row["last_run"],
            "undelivered": row["undelivered"], "created": row["created"]}


def feed_entries(ctx: Context, saved: watch.SavedSearch, limit: int = 50) -> list[dict[str, Any]]:
    """The newest matches of a saved search for its Atom feed, stamped when newsmon stored them."""
    hits = list(watch.iter_hits(ctx, saved, limit=limit, page=limit))
    stored = ctx.store.first_seen([h.id for h in hits])
    entries = []
    for hit in hits:
        title = hit.title + (f" — {hit.translated_title}" if hit.translated_title else "")
        entries.append({
            "id": f"urn:newsmon:article:{hit.id}", "title": title, "path": f"/article/{hit.id}",
            "related": safe_link(hit.url),
            "updated": stored.get(hit.id) or hit.published or "1970-01-01T00:00:00Z",
            "published": hit.published, "author": hit.outlet, "category": hit.language,
            "summary": render.plain(hit.snippet),
        })
    entries.sort(key=lambda e: e["updated"], reverse=True)
    return entries


# -- who said what: actor pages and the story's responses panel (issue #9 in the web app) ----------

class Speakers:
    """The statement engine (the actors; built once per app, on first use) and the place
    statements are read from: the store, or Elasticsearch when ``index.url`` is set."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._engine: Any = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Any:
        with self._lock:
            if self._engine is None:
                self._engine = statement_commands.engine_for(self.ctx)
            return self._engine

    @property
    def source(self) -> Any:
        return statement_commands.statement_source(self.ctx)

    def load(self) -> None:
        """Read the actor files now (``newsmon serve`` does, so a broken one stops it)."""
        _ = self.engine


def statement_record(statement: dict[str, Any]) -> dict[str, Any]:
    """A statement as the pages and the API show it (``watch.statement_summary``), each report
    with its source link when that is http(s)."""
    record = watch.statement_summary(statement)
    for report in record["reports"]:
        report["link"] = safe_link(report["url"] or "")
    return record


def responses_view(speakers: Speakers, story_id: str) -> list[dict[str, Any]]:
    """Who responded to a story, officials first (``StatementEngine.responses``)."""
    entries = speakers.engine.responses(speakers.source, story_id)
    return [{**{k: e[k] for k in ("speaker", "name", "kind", "parent", "first_published")},
             "actor": e["kind"] != "unwatched",
             "statements": [statement_record(s) for s in e["statements"]]} for e in entries]


def actors_view(speakers: Speakers) -> list[dict[str, Any]]:
    """The watched actors, officials first, with how many statements each has."""
    from pipelines.statements.engine import RESPONSE_ORDER

    counts = speakers.source.statement_counts()
    actors = sorted(speakers.engine.actors.values(),
                    key=lambda a: (RESPONSE_ORDER.get(a.kind, 3), a.name.casefold()))
    return [{"id": a.id, "kind": a.kind, "name": a.name, "parent": a.parent,
             "statements": counts.get(a.id, 0)} for a in actors]


def actor_view(speakers: Speakers, actor_ref: str, since: str | None = None) -> dict[str, Any]:
    """An actor (by id, or any name or role in any language), its statements oldest first with
    every report, and a timeline of the reports (one lane per outlet)."""
    engine = speakers.engine
    actor = engine.actors[statement_commands.resolve_actor(engine, actor_ref)]
    found = speakers.source.statements_for_actor(actor.id, since=since)
    statements = [statement_record(s) for s in found]
    points = [{"id": r["article_id"], "title": s["text"], "outlet": r["outlet"],
               "language": r["language"] or "?", "published": r["published"],
               "earliest": r["first_report"]}
              for s in statements for r in s["reports"]]
    parent = engine.actors.get(actor.parent)
    return {
        "actor": {"id": actor.id, "kind": actor.kind, "name": actor.name,
                  "parent": actor.parent, "parent_name": parent.name if parent else "",
                  "names": {k: list(v) for k, v in actor.names.items()},
                  "roles": {k: list(v) for k, v in actor.roles.items()},
                  "members": sorted(a.id for a in engine.actors.values() if a.parent == actor.id)},
        "since": since,
        "statements": statements,
        "outlets": sorted({o for s in statements for o in s["outlets"]}),
        "languages": sorted({lang for s in statements for lang in s["languages"]}),
        "timeline": charts.timeline(points),
    }


def statement_feed_entries(speakers: Speakers, saved: watch.SavedSearch,
                           limit: int = 50) -> list[dict[str, Any]]:
    """An actor watch's feed: the actor's newest statements, each linked to its first report."""
    view = actor_view(speakers, saved.actor)
    entries = []
    for s in reversed(view["statements"][-limit:]):
        first = next((r for r in s["reports"] if r["first_report"]), s["reports"][0])
        reach = f"{len(s['reports'])} report(s): {', '.join(s['outlets'])}" \
                f" ({', '.join(s['languages'])})"
        entries.append({
            "id": f"urn:newsmon:statement:{s['id']}",
            "title": f"{view['actor']['name']}: {s['text']}", "path": f"/article/{first['article_id']}",
            "related": first["link"], "updated": s["first_published"] or "1970-01-01T00:00:00Z",
            "published": s["first_published"], "author": first["outlet"],
            "category": first["language"] or "",
            "summary": " · ".join(p for p in (s["translation"], reach) if p),
        })
    return entries


def actor_json(view: dict[str, Any]) -> dict[str, Any]:
    return {**view["actor"], "since": view["since"], "outlets": view["outlets"],
            "languages": view["languages"], "statements": view["statements"]}
