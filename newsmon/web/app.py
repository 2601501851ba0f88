"""The FastAPI application: each page's view is served as HTML and, under /api/, as JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, BeforeValidator, Field
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import StreamingResponse

from newsmon import __version__, watch
from newsmon.context import Context
from newsmon.render import csv_cells, one_line, plain
from newsmon.web import schema, views
from newsmon.web.safety import highlight, unmarked
from newsmon.web.security import (
    SESSION_COOKIE,
    SecurityMiddleware,
    csrf_ok,
    same_secret,
    session_value,
)
from search.errors import NewsmonError, NotFound

HERE = Path(__file__).parent
EXPORT_COLUMNS = ["id", "title", "translated_title", "url", "outlet", "language", "published",
                  "score", "snippet", "story_id", "story_size", "matched_form"]


class SavedSearchIn(BaseModel):
    """A saved search as the API accepts it."""

    name: str = Field(min_length=1, max_length=80)
    q: str = Field(default="", max_length=1000, description="a query, unless actor is given")
    actor: str = Field(default="", max_length=200,
                       description="watch this actor's new statements instead of a query")
    outlet: list[str] = []
    language: list[str] = []
    date_from: date | None = None
    date_to: date | None = None
    cross: bool = False
    webhook: str = ""


# an empty date box in the search form means no date filter
OptionalDate = Annotated[date | None, BeforeValidator(lambda value: value or None)]
SinceDate = Annotated[OptionalDate, Query(description="first reported on or after YYYY-MM-DD")]
ActorRef = Annotated[str, PathParam(max_length=200,
                                    description="actor id, or any name or role of it")]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def search_params(
    request: Request,
    q: Annotated[str, Query(max_length=1000, description="CLI query syntax")] = "",
    outlet: Annotated[list[str], Query(description="only these outlets")] = [],  # noqa: B006
    language: Annotated[list[str], Query(description="only these languages")] = [],  # noqa: B006
    date_from: Annotated[OptionalDate, Query(alias="from", description="YYYY-MM-DD")] = None,
    date_to: Annotated[OptionalDate, Query(alias="to", description="YYYY-MM-DD, inclusive")] = None,
    sort: views.Sort = "relevance",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    per_page: Annotated[int | None, Query(ge=1, le=100)] = None,
    all: bool = False,
    cross: bool = False,
) -> views.SearchParams:
    """The search parameters every search page and endpoint takes (FastAPI validates them)."""
    return views.SearchParams(
        q=q, outlet=outlet, language=language,
        date_from=date_from.isoformat() if date_from else None,
        date_to=date_to.isoformat() if date_to else None,
        sort=sort, page=page, per_page=per_page or request.app.state.page_size, all=all, cross=cross)


Params = Annotated[views.SearchParams, Depends(search_params)]


def create_app(ctx: Context, *, token: str = "", hosts: list[str] | None = None) -> FastAPI:
    """The app over ``ctx``'s store and backend. ``token``: required of every request if set.
    ``hosts``: the Host names it answers (a loopback server without a token lists its own, so
    a page that rebinds its DNS name to 127.0.0.1 cannot read it); None = any."""
    app = FastAPI(title="newsmon", version=__version__, docs_url=None, redoc_url=None,
                  description="Search crawled news across languages; read original and "
                              "translation; follow stories; saved searches with Atom feeds.")
    app.add_middleware(SecurityMiddleware, token=token)
    if hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["highlight"] = highlight
    env.filters["clean"] = lambda text: one_line(unmarked(text))
    env.filters["plain"] = lambda text: one_line(plain(text))
    env.filters["day"] = lambda value: (value or "")[:10] or "no date"
    templates = Jinja2Templates(env=env)
    app.state.page_size = int(ctx.config.section("web")["page_size"])
    speakers = app.state.speakers = views.Speakers(ctx)

    def page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        return templates.TemplateResponse(
            request, name, {"csrf": request.state.csrf, "json_url": None, **values}, status_code=status)

    @app.exception_handler(NewsmonError)
    async def user_error(request: Request, exc: NewsmonError) -> Response:
        status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, FormRefused) else 400
        if request.url.path.startswith("/api/") or request.url.path.endswith(".atom"):
            return JSONResponse({"detail": str(exc)}, status_code=status)
        return page(request, "error.html", status=status, message=str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": jsonable(exc.errors())}, status_code=422)
        fields = ", ".join(str(e.get("loc", ["?"])[-1]) for e in exc.errors())
        return page(request, "error.html", status=422, message=f"invalid value for: {fields}")

    # -- HTML -------------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    @app.get("/search", include_in_schema=False)
    def search_page(request: Request, params: Params) -> HTMLResponse:
        view = views.search_view(ctx, params)
        return page(request, "search.html", **view, json_url=f"/api/search?{params.query_string()}")

    @app.get("/article/{article_id}", include_in_schema=False)
    def article_page(request: Request, article_id: str) -> HTMLResponse:
        return page(request, "article.html", **views.article_view(ctx, article_id),
                    json_url=f"/api/article/{article_id}")

    @app.get("/story/{story_id}", include_in_schema=False)
    def story_page(request: Request, story_id: str) -> HTMLResponse:
        return page(request, "story.html", **views.story_view(ctx, story_id, speakers),
                    json_url=f"/api/story/{story_id}")

    @app.get("/actors", include_in_schema=False)
    def actors_page(request: Request) -> HTMLResponse:
        return page(request, "actors.html", actors=views.actors_view(speakers),
                    json_url="/api/actors")

    @app.get("/actors/{actor}", include_in_schema=False)
    def actor_page(request: Request, actor: ActorRef, since: SinceDate = None) -> HTMLResponse:
        view = views.actor_view(speakers, actor, _iso(since))
        query = f"?since={since.isoformat()}" if since else ""
        return page(request, "actor.html", **view,
                    json_url=f"/api/actors/{view['actor']['id']}{query}")

    @app.post("/actors/{actor}/watch", include_in_schema=False)
    def watch_actor_form(request: Request, actor: ActorRef, name: Annotated[str, Form()],
                         csrf: Annotated[str, Form()] = "",
                         webhook: Annotated[str, Form()] = "") -> Response:
        _check_csrf(request, csrf)
        watch.save(ctx, watch.SavedSearch(name=name.strip(), query="", actor=actor,
                                          webhook=webhook.strip()), speakers.engine)
        return RedirectResponse("/saved", status_code=303)

    @app.get("/saved", include_in_schema=False)
    def saved_page(request: Request) -> HTMLResponse:
        return page(request, "saved.html", saved=ctx.store.saved_searches(), json_url="/api/saved")

    @app.post("/saved", include_in_schema=False)
    def save_form(request: Request, params: Params, name: Annotated[str, Form()],
                  csrf: Annotated[str, Form()] = "", webhook: Annotated[str, Form()] = "") -> Response:
        _check_csrf(request, csrf)
        watch.save(ctx, params.saved(name.strip(), webhook.strip()))
        return RedirectResponse("/saved", status_code=303)

    @app.post("/saved/{name}/delete", include_in_schema=False)
    def delete_form(request: Request, name: str, csrf: Annotated[str, Form()] = "") -> Response:
        _check_csrf(request, csrf)
        if not ctx.store.delete_saved_search(name):
            raise NotFound(f"no saved search named {name!r}")
        return RedirectResponse("/saved", status_code=303)

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request) -> HTMLResponse:
        return page(request, "login.html", json_url=None, failed=False)

    @app.post("/login", include_in_schema=False)
    def login(request: Request, token_field: Annotated[str, Form(alias="token")] = "",
              csrf: Annotated[str, Form()] = "") -> Response:
        _check_csrf(request, csrf)
        if not token or not same_secret(token_field, token):
            return page(request, "login.html", status=401, json_url=None, failed=bool(token))
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, session_value(token), httponly=True,
                            samesite="strict", secure=request.url.scheme == "https")
        return response

    # -- JSON API ---------------------------------------------------------------------------
    @app.get("/api/search", tags=["search"], summary="Search (one hit per story unless all=true)")
    def api_search(params: Params) -> schema.SearchPage:
        return views.search_json(views.search_view(ctx, params))

    @app.get("/api/facets", tags=["search"], summary="Counts per outlet, language and day")
    def api_facets(params: Params) -> dict[str, dict[str, int]]:
        return views.search_json(views.search_view(ctx, params))["facets"]

    @app.get("/api/stats", tags=["search"], summary="Articles per outlet, language and day")
    def api_stats() -> schema.Stats:
        return views.stats_view(ctx)

    @app.get("/api/article/{article_id}", tags=["read"],
             summary="An article, its translation paired by paragraph, its story")
    def api_article(article_id: str) -> schema.ArticlePage:
        return views.article_json(views.article_view(ctx, article_id))

    @app.get("/api/story/{story_id}", tags=["read"], summary="A story's articles, earliest first")
    def api_story(story_id: str) -> schema.Story:
        return views.story_json(views.story_view(ctx, story_id, speakers))

    @app.get("/api/actors", tags=["statements"], summary="The watched actors, officials first")
    def api_actors() -> list[schema.ActorSummary]:
        return views.actors_view(speakers)

    @app.get("/api/actors/{actor}", tags=["statements"],
             summary="An actor (id or any name) and its statements, oldest first, with reports")
    def api_actor(actor: ActorRef, since: SinceDate = None) -> schema.ActorPage:
        return views.actor_json(views.actor_view(speakers, actor, _iso(since)))

    @app.get("/api/saved", tags=["saved searches"])
    def api_saved() -> list[schema.Saved]:
        return [views.saved_json(row) for row in ctx.store.saved_searches()]

    @app.post("/api/saved", tags=["saved searches"], status_code=201)
    def api_save(body: SavedSearchIn) -> schema.Saved:
        params = views.SearchParams(
            q=body.q, outlet=body.outlet, language=body.language,
            date_from=body.date_from.isoformat() if body.date_from else None,
            date_to=body.date_to.isoformat() if body.date_to else None, cross=body.cross)
        if body.actor:
            saved = watch.save(ctx, watch.SavedSearch(name=body.name, query=body.q,
                                                      actor=body.actor, webhook=body.webhook),
                               speakers.engine)
        else:
            saved = watch.save(ctx, params.saved(body.name, body.webhook))
        return views.saved_json(ctx.store.saved_search(saved.name) or {})

    @app.get("/api/saved/{name}", tags=["saved searches"])
    def api_saved_one(name: str) -> schema.Saved:
        watch.load(ctx, name)
        return views.saved_json(ctx.store.saved_search(name) or {})

    @app.delete("/api/saved/{name}", tags=["saved searches"], status_code=204)
    def api_delete(name: str) -> Response:
        if not ctx.store.delete_saved_search(name):
            raise NotFound(f"no saved search named {name!r}")
        return Response(status_code=204)

    @app.get("/saved/{name}/feed.atom", tags=["saved searches"], summary="Atom feed of matches",
             response_class=Response, responses={200: {"content": {"application/atom+xml": {}}}})
    def atom_feed(request: Request, name: str) -> Response:
        saved = watch.load(ctx, name)
        entries = (views.statement_feed_entries(speakers, saved) if saved.actor
                   else views.feed_entries(ctx, saved))
        body = env.get_template("feed.atom").render(
            saved=saved, entries=entries, base=str(request.base_url).rstrip("/"),
            updated=entries[0]["updated"] if entries else "1970-01-01T00:00:00Z")
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    @app.get("/api/export.csv", tags=["export"], summary="Every hit as CSV, streamed",
             response_class=StreamingResponse, responses={200: {"content": {"text/csv": {}}}})
    def export_csv(params: Params) -> StreamingResponse:
        return StreamingResponse(_csv_rows(_export_hits(ctx, params)), media_type="text/csv",
                                 headers=_attachment("newsmon.csv"))

    @app.get("/api/export.json", tags=["export"], summary="Every hit as a JSON array, streamed",
             response_class=StreamingResponse,
             responses={200: {"content": {"application/json": {}}}})
    def export_json(params: Params) -> StreamingResponse:
        return StreamingResponse(_json_rows(_export_hits(ctx, params)),
                                 media_type="application/json", headers=_attachment("newsmon.json"))

    return app


class FormRefused(NewsmonError):
    """A form came without this browser's page token (a cross-site post, or an old page)."""


def _check_csrf(request: Request, submitted: str) -> None:
    if not csrf_ok(request, submitted):
        raise FormRefused("the form expired or came from another site: reload the page and retry")


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _export_hits(ctx: Context, params: views.SearchParams) -> Iterator[dict[str, Any]]:
    """Every hit of the search, page by page through the backend's cursor: bounded memory."""
    saved = params.saved("export")
    watch.validate(saved)
    first = params.request(facets=False)  # checks the dates before streaming starts

    def hits() -> Iterator[dict[str, Any]]:
        for hit in watch.iter_hits(ctx, saved, collapse=first.collapse, sort=first.sort, page=500):
            yield views.hit_record(hit)
    return hits()


def _csv_rows(records: Iterator[dict[str, Any]]) -> Iterator[str]:
    """CSV in chunks of 500 rows, cells made safe for spreadsheets (``render.csv_cells``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for number, record in enumerate(records, start=1):
        writer.writerow(csv_cells(record, EXPORT_COLUMNS))
        if number % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json_rows(records: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for number, record in enumerate(records):
        yield ("," if number else "") + "\n" + json.dumps(record, ensure_ascii=False)
    yield "\n]\n"

