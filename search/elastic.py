"""Elasticsearch as newsmon's search backend: same interface and results as the SQLite one.

Layout: an index template (``search/mappings/articles.json``) and versioned indices
``<name>-v<N>`` behind the alias ``<name>``; every read and write goes through the alias, so a
migration is a reindex and one atomic alias swap. Temporary failures (429, 5xx, connection
errors) are retried with exponential backoff; a document Elasticsearch rejects is reported per
document so the caller can quarantine it. Credentials are passed to the client and never
appear in messages or logs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TlsError
from elasticsearch import ApiError, Elasticsearch, UnsupportedProductError
from elasticsearch.exceptions import GeneralAvailabilityWarning

from search.article import Article
from search.base import SearchRequest, SearchResult, UpsertReport, capped_total
from search.elastic_query import (
    AFTER,
    MAX_TERMS_BUCKETS,
    PIT,
    build_body,
    facet_aggs,
    read_facets,
    read_hit,
    sort_length,
)
from search.elastic_schema import ArticleSchema
from search.errors import BackendUnavailable, ConfigError, NotFound, QueryError
from search.query import parse_query

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0
LONG_TIMEOUT = 3600.0  # reindexing a large index in one request
PIT_KEEP_ALIVE = "1m"  # how long a point in time waits for the next page
_ERRNO = re.compile(r"\[Errno -?\d+\] [^)\]'\"]+")


def redact_url(url: str) -> str:
    """The URL without user:password, for messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _is_temporary(status: int) -> bool:
    return status == 429 or status >= 500


def _is_denied(status: int, item: dict[str, Any]) -> bool:
    """A bulk item refused for who is asking or the index's state, not for the document."""
    kind = (item.get("error") or {}).get("type", "")
    return status in (401, 403) or kind == "cluster_block_exception"


def _error_text(exc: ApiError) -> str:
    """An Elasticsearch error body as text, to look for an error type among its causes."""
    return json.dumps(exc.body) if isinstance(exc.body, dict) else str(exc.body)


def _reason(error: Any) -> str:
    """A short, single-line reason from an Elasticsearch error object."""
    if isinstance(error, dict):
        text = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        cause = error.get("caused_by")
        if isinstance(cause, dict) and cause.get("reason"):
            text += f" ({cause.get('type')}: {cause['reason']})"
    else:
        text = str(error)
    return " ".join(text.split())[:500]


class PayloadTooLarge(BackendUnavailable):
    """HTTP 413: the bulk request is split in halves and sent again."""


@dataclass
class BulkOutcome:
    """What one bulk write did, document by document."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # bad data: quarantine, don't retry
    temporary: dict[str, str] = field(default_factory=dict)  # still failing after retries
    hashes: dict[str, str] = field(default_factory=dict)  # id -> doc_hash that was sent

    @property
    def written(self) -> list[str]:
        return [*self.created, *self.updated, *self.unchanged]


class ElasticsearchBackend:
    """SearchBackend over an Elasticsearch alias; see the module docstring."""

    def __init__(
        self,
        url: str,
        *,
        name: str = "newsmon",
        api_key: str = "",
        username: str = "",
        password: str = "",
        ca_certs: str = "",
        verify_certs: bool = True,
        timeout: float = 10.0,
        max_retries: int = 5,
        retry_backoff: float = 0.5,
        schema: ArticleSchema | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not url:
            raise ConfigError("index.url is empty: set it (or NEWSMON_INDEX_URL) to use Elasticsearch")
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name):
            raise ConfigError(f"index.name {name!r}: use lowercase letters, digits, '-', '_', '.'")
        self.url = url
        self.display_url = redact_url(url)
        self.name = name
        self.schema = schema or ArticleSchema.load()
        self.pit_keep_alive = PIT_KEEP_ALIVE
        self.has_pit = True  # until the server shows it has no point-in-time API
        self.max_retries = max(0, int(max_retries))
        self.retry_backoff = float(retry_backoff)
        self._sleep = sleep
        options: dict[str, Any] = {
            "request_timeout": float(timeout),
            "max_retries": 0,  # retried here, with backoff
            "retry_on_timeout": False,
        }
        if api_key:
            options["api_key"] = api_key
        elif username:
            options["basic_auth"] = (username, password)
        if url.lower().startswith("https"):
            options["verify_certs"] = bool(verify_certs)
            if ca_certs:
                options["ca_certs"] = ca_certs
            if not verify_certs:
                log.warning("TLS certificate verification is off for %s", self.display_url)
        try:
            self.client = Elasticsearch(url, **options)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"index.url {self.display_url!r}: {exc}") from None

    @classmethod
    def from_settings(cls, index: dict[str, Any]) -> ElasticsearchBackend:
        """From the ``[index]`` section of the configuration (see ``crawler.config``)."""
        return cls(
            index["url"],
            name=index["name"],
            api_key=index.get("api_key", ""),
            username=index.get("username", ""),
            password=index.get("password", ""),
            ca_certs=index.get("ca_certs", ""),
            verify_certs=_as_bool(index.get("verify_certs", True)),
            timeout=float(index.get("timeout", 10.0)),
            max_retries=int(index.get("max_retries", 5)),
            retry_backoff=float(index.get("retry_backoff", 0.5)),
        )

    def __repr__(self) -> str:
        return f"ElasticsearchBackend({self.display_url!r}, name={self.name!r})"

    def close(self) -> None:
        self.client.close()

    # -- calling Elasticsearch ---------------------------------------------------------------
    def _call(self, fn: Callable[..., Any], *args: Any, retries: int | None = None, **kwargs: Any) -> Any:
        """Call the client; retry 429, 5xx and connection failures with exponential backoff."""
        attempts = (self.max_retries if retries is None else retries) + 1
        delay = self.retry_backoff
        for attempt in range(attempts):
            try:
                return fn(*args, **kwargs)
            except TlsError as exc:
                raise BackendUnavailable(
                    f"TLS to Elasticsearch at {self.display_url} failed ({self._short(exc)}):"
                    " set index.ca_certs (NEWSMON_ES_CA_CERTS) to the cluster's CA certificate"
                ) from None
            except (TransportConnectionError, ConnectionTimeout) as exc:
                error: Exception = exc
            except UnsupportedProductError:
                raise BackendUnavailable(f"{self.display_url} is not an Elasticsearch server") from None
            except ApiError as exc:
                if not _is_temporary(exc.meta.status):
                    raise self._translate(exc) from None
                error = exc
            if attempt + 1 < attempts:
                log.info("Elasticsearch busy or unreachable (%s), retrying in %.1fs",
                         self._short(error), delay)
                self._sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
        if isinstance(error, ApiError):
            raise BackendUnavailable(
                f"Elasticsearch at {self.display_url} keeps failing: HTTP {error.meta.status}"
                f" {self._short(error)}"
            ) from None
        raise BackendUnavailable(
            f"Elasticsearch at {self.display_url} is unreachable ({self._short(error)})"
        ) from None

    @staticmethod
    def _short(exc: Exception) -> str:
        if isinstance(exc, ApiError):
            error = exc.body.get("error") if isinstance(exc.body, dict) else None
            return _reason(error) if error else str(exc.message)
        if isinstance(exc, ConnectionTimeout):
            return "timed out"
        match = _ERRNO.search(str(getattr(exc, "message", "")) or str(exc))
        return match.group(0).strip() if match else type(exc).__name__

    def _translate(self, exc: ApiError) -> Exception:
        status = exc.meta.status
        error = exc.body.get("error") if isinstance(exc.body, dict) else None
        kind = error.get("type", "") if isinstance(error, dict) else ""
        if status == 401:
            return BackendUnavailable(
                f"Elasticsearch at {self.display_url} refused the credentials (HTTP 401):"
                " check NEWSMON_ES_API_KEY or NEWSMON_ES_USERNAME / NEWSMON_ES_PASSWORD"
            )
        if status == 403:
            return BackendUnavailable(
                f"Elasticsearch at {self.display_url} forbids this (HTTP 403): the user needs"
                f" privileges on {self.name} and {self.name}-v*"
            )
        if kind == "media_type_header_exception":
            return BackendUnavailable(
                "the Elasticsearch server and the Python client differ in major version:"
                " for an 8.x server install 'elasticsearch>=8.13,<9', for 9.x 'elasticsearch>=9,<10'"
            )
        if kind == "index_not_found_exception":
            return NotFound(
                f"the Elasticsearch index {self.name!r} does not exist: run `newsmon index init`"
            )
        if status == 404:
            return NotFound(f"Elasticsearch: {self._short(exc)}")
        if status == 413:
            return PayloadTooLarge(
                f"Elasticsearch at {self.display_url} refused a request as too large (HTTP 413)"
            )
        if status == 400:
            return QueryError(f"Elasticsearch rejected the request: {self._short(exc)}")
        return BackendUnavailable(
            f"Elasticsearch at {self.display_url} failed: HTTP {status} {self._short(exc)}"
        )

    def ping(self) -> None:
        """Raise BackendUnavailable unless the server answers (one try, no backoff).

        An index-level request (HEAD on the alias), not ``GET /``: credentials scoped to
        newsmon's indices have no cluster privilege to read the root endpoint."""
        self._call(self.client.indices.exists, index=self.name, retries=0)

    # -- index layout: template, alias, versions ---------------------------------------------
    @property
    def template_name(self) -> str:
        return self.name

    def _template_body(self) -> dict[str, Any]:
        body = json.loads(json.dumps(self.schema.template))
        body["index_patterns"] = [f"{self.name}-v*"]
        body["template"]["mappings"]["_meta"]["mapping_hash"] = self.mapping_hash()
        return body

    def mapping_hash(self) -> str:
        """Hash of the repository's mapping, recorded in the index to tell whether it is current."""
        mappings = dict(self.schema.mappings)
        meta = {k: v for k, v in mappings.get("_meta", {}).items() if k != "mapping_hash"}
        mappings["_meta"] = meta
        encoded = json.dumps(mappings, sort_keys=True).encode("utf-8")
        return hashlib.sha256(encoded).hexdigest()[:16]

    def put_template(self) -> None:
        body = self._template_body()
        self._call(
            self.client.indices.put_index_template,
            name=self.template_name,
            index_patterns=body["index_patterns"],
            template=body["template"],
            priority=body.get("priority"),
        )

    def alias_target(self) -> str | None:
        """The concrete index behind the alias, or None when there is no alias yet."""
        try:
            answer = self._call(self.client.indices.get_alias, name=self.name)
        except NotFound:
            return None
        indices = sorted(answer.body if hasattr(answer, "body") else answer)
        if len(indices) != 1:
            raise ConfigError(
                f"the alias {self.name!r} points at {len(indices)} indices ({', '.join(indices)});"
                " it must point at exactly one"
            )
        return indices[0]

    def versions(self) -> dict[int, str]:
        """Existing ``<name>-v<N>`` indices by version number."""
        answer = self._call(
            self.client.indices.get, index=f"{self.name}-v*", allow_no_indices=True,
            ignore_unavailable=True,
        )
        found: dict[int, str] = {}
        for index in answer.body if hasattr(answer, "body") else answer:
            match = re.fullmatch(re.escape(self.name) + r"-v(\d+)", index)
            if match:
                found[int(match.group(1))] = index
        return found

    def live_meta(self, index: str) -> dict[str, Any]:
        answer = self._call(self.client.indices.get_mapping, index=index)
        mappings = answer[index]["mappings"]
        return mappings.get("_meta") or {}

    def _alias_missing_or_index(self) -> None:
        exists = self._call(self.client.indices.exists, index=self.name)
        if exists:
            raise ConfigError(
                f"{self.name!r} is a plain index, not an alias: rename it or choose another"
                " index.name"
            )

    def create_version(self, version: int, *, with_alias: bool) -> str:
        index = f"{self.name}-v{version}"
        mappings = self._template_body()["template"]["mappings"]
        kwargs: dict[str, Any] = {"index": index, "mappings": mappings}
        if with_alias:
            kwargs["aliases"] = {self.name: {}}
        try:  # not idempotent: a blind retry after a timeout fails as "already exists"
            self._call(self.client.indices.create, retries=0, **kwargs)
        except BackendUnavailable:
            if not self._settled(lambda: self._call(self.client.indices.exists, index=index)):
                raise
        return index

    def _settled(self, done: Callable[[], Any]) -> bool:
        """After a failed non-idempotent call: did Elasticsearch carry it out anyway? Asks
        (idempotent reads, retried) instead of repeating the call."""
        try:
            return bool(done())
        except BackendUnavailable:
            return False

    def init_index(self) -> dict[str, Any]:
        """Create the template, the first index and its alias; or bring the live mapping up to
        date where Elasticsearch allows (new fields). Safe to run any number of times.

        When the live index already has this mapping nothing is written, not even the
        template, so a running setup needs no cluster privilege (``manage_index_templates``)."""
        live = self.alias_target()
        if live is not None and self.live_meta(live).get("mapping_hash") == self.mapping_hash():
            return {"action": "unchanged", "index": live, "alias": self.name}
        self.put_template()
        if live is None:
            self._alias_missing_or_index()
            version = max(self.versions(), default=0) + 1
            index = self.create_version(version, with_alias=True)
            return {"action": "created", "index": index, "alias": self.name}
        meta = self.live_meta(live)
        if meta.get("mapping_hash") == self.mapping_hash():
            return {"action": "unchanged", "index": live, "alias": self.name}
        if int(meta.get("newsmon_mapping_version", 0)) > self.schema.version:
            raise ConfigError(
                f"{live} was made by a newer newsmon (mapping version"
                f" {meta.get('newsmon_mapping_version')}, this one knows {self.schema.version})"
            )
        mappings = self._template_body()["template"]["mappings"]
        try:
            self._call(
                self.client.indices.put_mapping, index=live,
                properties=mappings["properties"], meta=mappings["_meta"],
                dynamic=mappings.get("dynamic"),
            )
        except QueryError as exc:
            raise ConfigError(
                f"the mapping of {live} cannot be changed in place ({exc}): run `newsmon index migrate`"
            ) from None
        return {"action": "updated", "index": live, "alias": self.name}

    def reindex(self, source: str, dest: str) -> dict[str, Any]:
        """Copy every document; external versions make a second pass copy only newer ones.

        Started as a task and polled: a client timeout never starts a second copy (a retried
        ``_reindex`` would run twice), and polling a task is safe to repeat."""
        started = self._call(
            self.client.reindex, retries=0,
            source={"index": source},
            dest={"index": dest, "version_type": "external"},
            conflicts="proceed",
            refresh=True,
            wait_for_completion=False,
        )
        started = started.body if hasattr(started, "body") else started
        if "task" not in started:  # a server that ran it at once
            body = started
        else:
            try:
                body = self._wait_for_task(str(started["task"]))
            except NotFound:
                # no record of the task (a node restarted; test servers keep none): the copy
                # is checked against the store next, so count what arrived instead
                log.warning("reindex task %s is not known to Elasticsearch; counting the copy",
                            started["task"])
                self.refresh(dest)
                body = {"created": self.count(dest)}
        if body.get("failures"):
            first = body["failures"][0]
            raise BackendUnavailable(f"reindex {source} -> {dest} failed: {_reason(first.get('cause', first))}")
        return body

    def _wait_for_task(self, task_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + LONG_TIMEOUT
        while True:
            with warnings.catch_warnings():  # the client marks the tasks API "preview"
                warnings.simplefilter("ignore", GeneralAvailabilityWarning)
                answer = self._call(self.client.tasks.get, task_id=task_id,
                                    wait_for_completion=True, timeout="30s")
            answer = answer.body if hasattr(answer, "body") else answer
            if answer.get("completed"):
                if answer.get("error"):
                    raise BackendUnavailable(f"task {task_id} failed: {_reason(answer['error'])}")
                return answer.get("response") or {}
            if time.monotonic() > deadline:
                raise BackendUnavailable(f"task {task_id} did not finish in {LONG_TIMEOUT:.0f}s")

    def swap_alias(self, old: str, new: str) -> None:
        """Point the alias at ``new`` in one atomic request: searches never see no index.
        Not retried blindly: after a failure the alias is read to see whether it moved."""
        try:
            self._call(
                self.client.indices.update_aliases, retries=0,
                actions=[
                    {"remove": {"index": old, "alias": self.name}},
                    {"add": {"index": new, "alias": self.name}},
                ],
            )
        except BackendUnavailable:
            if not self._settled(lambda: self.alias_target() == new):
                raise

    def delete_index(self, index: str) -> None:
        if index == self.alias_target():
            raise ConfigError(f"{index} is the live index; it is not deleted")
        self._call(self.client.indices.delete, index=index)

    def drop(self) -> None:
        """Delete the template and every version (tests and ``index drop``-like clean-ups)."""
        for index in self.versions().values():
            self._call(self.client.indices.delete, index=index)
        try:
            self._call(self.client.indices.delete_index_template, name=self.template_name)
        except NotFound:
            pass

    def refresh(self, index: str | None = None) -> None:
        """Make what was written visible to search now (instead of within a second)."""
        self._call(self.client.indices.refresh, index=index or self.name)

    def count(self, index: str | None = None) -> int:
        return int(self._call(self.client.count, index=index or self.name)["count"])

    def status(self) -> dict[str, Any]:
        """Alias, live index, documents and whether the mapping matches the repository's."""
        info = self._call(self.client.info, retries=0)
        live = self.alias_target()
        report: dict[str, Any] = {
            "url": self.display_url,
            "server": info["version"]["number"],
            "alias": self.name,
            "index": live,
            "mapping_version": self.schema.version,
        }
        if live is None:
            report["state"] = "missing: run `newsmon index init`"
            return report
        meta = self.live_meta(live)
        report["documents"] = self.count(live)
        report["live_mapping_version"] = meta.get("newsmon_mapping_version")
        current = meta.get("mapping_hash") == self.mapping_hash()
        report["state"] = "up to date" if current else "outdated: run `newsmon index init` or `migrate`"
        return report

    # -- writing -----------------------------------------------------------------------------
    def existing_hashes(self, ids: Sequence[str], index: str | None = None) -> dict[str, str]:
        if not ids:
            return {}
        answer = self._call(
            self.client.mget, index=index or self.name, ids=list(ids), source_includes=["doc_hash"]
        )
        return {
            doc["_id"]: (doc.get("_source") or {}).get("doc_hash", "")
            for doc in answer["docs"]
            if doc.get("found")
        }

    def index_articles(self, articles: Sequence[Article], index: str | None = None) -> BulkOutcome:
        """Write articles by id (idempotent), skipping exact copies already indexed.

        Raises BackendUnavailable when Elasticsearch cannot be reached after the retries;
        otherwise every article ends in exactly one bucket of the outcome.
        """
        target = index or self.name
        outcome = BulkOutcome()
        docs: dict[str, dict[str, Any]] = {}
        for article in articles:
            try:
                doc = self.schema.to_document(article)
            except (TypeError, ValueError) as exc:
                outcome.rejected[article.id] = f"cannot build the document: {exc}"[:500]
                continue
            docs[article.id] = doc
            outcome.hashes[article.id] = doc["doc_hash"]
        existing = self.existing_hashes(list(docs), target)
        pending = {}
        for article_id, doc in docs.items():
            if existing.get(article_id) == doc["doc_hash"]:
                outcome.unchanged.append(article_id)
            else:
                pending[article_id] = doc
        delay = self.retry_backoff
        denied: dict[str, str] = {}
        for attempt in range(self.max_retries + 1):
            if not pending:
                break
            retry: dict[str, str] = {}
            for item in self._bulk(target, pending):
                result = next(iter(item.values()))
                article_id, status = str(result.get("_id")), int(result.get("status", 500))
                if 200 <= status < 300:
                    bucket = outcome.created if result.get("result") == "created" else outcome.updated
                    bucket.append(article_id)
                elif (result.get("error") or {}).get("type") == "index_not_found_exception":
                    raise NotFound(
                        f"the Elasticsearch index {target!r} does not exist:"
                        " run `newsmon index init`"
                    )
                elif _is_temporary(status) and not _is_denied(status, result):
                    retry[article_id] = f"HTTP {status} {_reason(result.get('error'))}"
                elif _is_denied(status, result):
                    # not allowed now (credentials, a read-only or blocked index): the document
                    # is fine, so it stays pending; retrying within seconds would not help
                    denied[article_id] = f"HTTP {status} {_reason(result.get('error'))}"
                else:
                    outcome.rejected[article_id] = _reason(result.get("error"))
            pending = {i: pending[i] for i in retry if i in pending}
            outcome.temporary = retry
            if pending and attempt < self.max_retries:
                log.info("%d documents refused for now (%s); retrying in %.1fs",
                         len(pending), next(iter(retry.values())), delay)
                self._sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
        outcome.temporary = {**{i: outcome.temporary[i] for i in pending}, **denied}
        if denied:
            log.warning("Elasticsearch refused %d documents (%s): they stay pending",
                        len(denied), next(iter(denied.values())))
        return outcome

    def _bulk(self, target: str, docs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        operations: list[dict[str, Any]] = []
        for article_id, doc in docs.items():
            operations.append({"index": {"_index": target, "_id": article_id}})
            operations.append(doc)
        try:
            # never let a write auto-create an index with a guessed mapping
            answer = self._call(
                self.client.bulk, operations=operations, require_alias=target == self.name
            )
        except PayloadTooLarge:
            if len(docs) == 1:
                raise
            items = list(docs.items())
            half = len(items) // 2
            return self._bulk(target, dict(items[:half])) + self._bulk(target, dict(items[half:]))
        return list(answer["items"])

    def upsert(self, articles: Sequence[Article]) -> UpsertReport:
        outcome = self.index_articles(articles)
        return UpsertReport(
            inserted=outcome.created,
            updated=outcome.updated,
            unchanged=outcome.unchanged,
            failed={**outcome.rejected, **outcome.temporary},
        )

    # -- reading -----------------------------------------------------------------------------
    def get(self, article_id: str) -> Article | None:
        try:
            answer = self._call(self.client.get, index=self.name, id=article_id, retries=1)
        except NotFound:
            if self.alias_target() is None:
                raise
            return None
        return self.schema.from_document(answer["_source"])

    def search(self, request: SearchRequest) -> SearchResult:
        if request.status:
            raise QueryError("the status filter (edited/removed/online) needs the SQLite index")
        parsed = parse_query(request.query)
        body, start = build_body(request, self.schema, parsed)
        pit = start.pit
        if pit is None and request.point_in_time and not request.collapse and start.after is None:
            pit = self._open_pit()  # the first page of a walk: every page from this state
        answer, pit = self._search(body, pit, sort_length(request))
        raw_hits = answer["hits"]["hits"]
        more = len(raw_hits) > request.limit
        raw_hits = raw_hits[: request.limit]
        hits = [read_hit(raw, self.schema) for raw in raw_hits]
        aggregations = answer.get("aggregations") or {}
        if request.collapse:
            total = int(aggregations["stories"]["value"])
        else:
            total = int(answer["hits"]["total"]["value"])
        total, exact = capped_total(total)  # as the embedded store counts: exact up to a cap
        self._fill_stories(hits)
        next_cursor = None
        if more and hits:
            # collapsed results page by offset: Elasticsearch allows search_after with collapse
            # only when sorting on the collapse field itself
            last = raw_hits[-1]["sort"]
            if request.collapse:
                next_cursor = [start.offset + len(hits)]
            else:
                next_cursor = [PIT, pit, *last] if pit else [AFTER, *last]
        elif pit:
            self._close_pit(pit)  # the last page: free the server's search contexts now
        return SearchResult(
            total=total,
            total_exact=exact,
            hits=hits,
            facets=read_facets(aggregations) if request.facets else {},
            next_cursor=next_cursor,
        )

    # -- points in time ------------------------------------------------------------------------
    def _open_pit(self) -> str | None:
        """A point in time on the alias (``POST /<alias>/_pit``); None where the server has no
        point-in-time API, which is then paged with search_after on the live index."""
        if not self.has_pit:
            return None

        def open_pit() -> str | None:
            try:
                answer = self.client.open_point_in_time(index=self.name,
                                                        keep_alive=self.pit_keep_alive)
            except ApiError as exc:
                # an unknown endpoint: 400 "no handler found", 404 or 405 (not a missing index)
                if (exc.meta.status in (400, 404, 405)
                        and "index_not_found_exception" not in _error_text(exc)):
                    log.warning("%s has no point-in-time API (HTTP %s %s): paging on the live"
                                " index", self.display_url, exc.meta.status, self._short(exc))
                    return None
                raise
            return answer["id"]

        pit = self._call(open_pit, retries=1)
        self.has_pit = pit is not None
        return pit

    def _close_pit(self, pit: str) -> None:
        """``DELETE /_pit``; a point in time that already expired is no error."""
        try:
            self.client.close_point_in_time(id=pit)
        except ApiError as exc:
            if exc.meta.status != 404:
                log.info("closing a point in time failed: %s", self._short(exc))
        except (TransportConnectionError, ConnectionTimeout) as exc:
            log.info("closing a point in time failed: %s", self._short(exc))

    def _search(self, body: dict[str, Any], pit: str | None, sort_values: int,
                reopen: bool = True) -> tuple[dict[str, Any], str | None]:
        """Search the alias, or inside the point in time (no index in the path; the answer's
        ``pit_id`` is the one to use next). A point in time that expired between two pages is
        opened again and the walk goes on after the same sort values."""
        if pit is None:
            return self._call(self.client.search, index=self.name, body=body, retries=1), None

        def in_pit() -> dict[str, Any] | None:
            try:
                return self.client.search(
                    body={**body, "pit": {"id": pit, "keep_alive": self.pit_keep_alive}})
            except ApiError as exc:
                if exc.meta.status == 404 and "search_context_missing_exception" in _error_text(exc):
                    return None
                raise

        answer = self._call(in_pit, retries=1)
        if answer is not None:
            return answer, answer.get("pit_id") or pit
        log.info("the point in time expired between two pages: opening a new one")
        if "search_after" in body:  # the old one's implicit tiebreaker (_shard_doc) goes
            body = {**body, "search_after": body["search_after"][:sort_values]}
        return self._search(body, self._open_pit() if reopen else None, sort_values, reopen=False)

    def _fill_stories(self, hits: list[Any]) -> None:
        """Size, outlets and languages of each hit's story, counted over the whole index."""
        keys = sorted({hit.story_id for hit in hits})
        if not keys:
            return
        key_field = self.schema.story_key
        answer = self._call(
            self.client.search, index=self.name, retries=1,
            body={
                "size": 0,
                "query": {"terms": {key_field: keys}},
                "aggs": {"stories": {
                    "terms": {"field": key_field, "size": len(keys)},
                    "aggs": {
                        "outlets": {"terms": {"field": "outlet", "size": MAX_TERMS_BUCKETS}},
                        "languages": {"terms": {"field": "language", "size": MAX_TERMS_BUCKETS}},
                    },
                }},
            },
        )
        stories = {
            bucket["key"]: bucket for bucket in answer["aggregations"]["stories"]["buckets"]
        }
        for hit in hits:
            bucket = stories.get(hit.story_id)
            if bucket is None:
                continue
            hit.story_size = int(bucket["doc_count"]) or 1
            hit.story_outlets = sorted(b["key"] for b in bucket["outlets"]["buckets"] if b["key"])
            hit.story_languages = sorted(
                b["key"] for b in bucket["languages"]["buckets"] if b["key"]
            )

    def stats(self) -> dict[str, Any]:
        aggs = facet_aggs()
        answer = self._call(
            self.client.search, index=self.name, retries=1,
            body={"size": 0, "track_total_hits": True, "query": {"match_all": {}}, "aggs": aggs},
        )
        facets = read_facets(answer["aggregations"])
        return {
            "articles": int(answer["hits"]["total"]["value"]),
            "by_outlet": facets["outlet"],
            "by_language": facets["language"],
            "by_day": facets["day"],
        }


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    return bool(value)
