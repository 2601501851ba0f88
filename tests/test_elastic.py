"""Elasticsearch-specific behaviour over HTTP: index layout, migration, retries, quarantine,
outages, credentials and TLS. Search behaviour shared with SQLite is in
test_search_contract.py.

Faults are injected by a small HTTP proxy in front of the test server (``FaultProxy``), or by
stopping the server itself (``noida_server``).
"""

from __future__ import annotations

import copy
import datetime
import http.client
import json
import logging
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from newsmon.cli import main
from search.article import Article, Translation
from search.base import SearchRequest
from search.elastic import ElasticsearchBackend
from search.elastic_schema import ArticleSchema, load_template
from search.elastic_sync import migrate, pending_count, push, sync_pending
from search.errors import BackendUnavailable, ConfigError, NotFound
from search.store import SQLiteStore
from tests.plugins.elastic import NoidaServer

WORDS = {
    "ru": ["колония", "видео", "пытки", "заключенные", "правозащитники", "проверка", "ведомство", "суд", "адвокат"],
    "en": ["prison", "video", "torture", "inmates", "advocates", "inquiry", "ministry", "court", "lawyer", "guards"],
    "nb": ["fengsel", "video", "tortur", "fanger", "advokater", "granskning", "departement", "domstol", "vakter"],
}


def make_articles(count: int, start: int = 0) -> list[Article]:
    """Small articles in three languages; every one contains the word 'marker'."""
    articles = []
    for n in range(start, start + count):
        language = ("ru", "en", "nb")[n % 3]
        words = WORDS[language]
        body = " ".join(words[(n + k) % len(words)] for k in range(40)) + f" marker item{n}."
        articles.append(Article(
            canonical_url=f"https://site.example/{language}/{n}",
            outlet=("kolokol", "fjordposten")[n % 2], language=language,
            title=f"{words[n % len(words)]} {n}", body=body,
            published=f"2026-11-{1 + n % 28:02d}T10:00:00Z",
        ))
    return articles


@pytest.fixture
def es(elasticsearch_url: str, index_name: str) -> Iterator[ElasticsearchBackend]:
    backend = ElasticsearchBackend(elasticsearch_url, name=index_name, retry_backoff=0.01)
    yield backend
    backend.drop()
    backend.close()


def ids_in_index(backend: ElasticsearchBackend) -> list[str]:
    backend.refresh()
    answer = backend.client.search(index=backend.name, query={"match_all": {}}, size=10000,
                                   source=False)
    return [hit["_id"] for hit in answer["hits"]["hits"]]


# -- a proxy that injects faults --------------------------------------------------------------
@dataclass
class FaultProxy:
    """Forwards to an Elasticsearch; answers some requests with errors first."""

    upstream: str
    ssl_context: ssl.SSLContext | None = None
    failures: list[tuple[str, int]] = field(default_factory=list)  # (path part, status)
    item_failures: list[tuple[int, str]] = field(default_factory=list)  # bulk item errors
    # (method, path part, status): forwarded, then answered with status (done, answer lost)
    lost_answers: list[tuple[str, str, int]] = field(default_factory=list)
    requests: list[tuple[str, str, int, dict[str, str], bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = proxy._answer(self.command, self.path, self.headers, body)
                headers_seen = {k.lower(): v for k, v in self.headers.items()}
                proxy.requests.append((self.command, self.path, status, headers_seen, body))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.ssl_context is not None:
            self.server.socket = self.ssl_context.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if self.ssl_context else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _answer(self, method: str, path: str, headers, body: bytes):
        for n, (part, status) in enumerate(self.failures):
            if part in path:
                del self.failures[n]
                error = {"error": {"type": "es_rejected_execution_exception" if status == 429
                                   else "test_fault", "reason": f"injected {status}"},
                         "status": status}
                return status, {"Content-Type": "application/json",
                                "X-Elastic-Product": "Elasticsearch"}, json.dumps(error).encode()
        target = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        forward = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
        connection.request(method, path, body=body or None, headers=forward)
        response = connection.getresponse()
        payload = response.read()
        out_headers = {k: v for k, v in response.getheaders()
                       if k.lower() not in ("content-length", "transfer-encoding", "connection")}
        connection.close()
        for n, (verb, part, status) in enumerate(self.lost_answers):
            if verb == method and part in path:
                del self.lost_answers[n]
                return status, {"Content-Type": "application/json",
                                "X-Elastic-Product": "Elasticsearch"}, json.dumps(
                    {"error": {"type": "timeout", "reason": "injected: answer lost"},
                     "status": status}).encode()
        if "_bulk" in path and self.item_failures and response.status == 200:
            answer = json.loads(payload)
            status, kind = self.item_failures.pop(0)
            item = answer["items"][0]["index"]
            answer["items"][0]["index"] = {
                "_index": item["_index"], "_id": item["_id"], "status": status,
                "error": {"type": kind, "reason": f"injected {status} for this document"},
            }
            answer["errors"] = True
            payload = json.dumps(answer).encode()
        return response.status, out_headers, payload

    def bulk_requests(self) -> list[bytes]:
        return [body for method, path, _s, _h, body in self.requests if "_bulk" in path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(elasticsearch_url: str) -> Iterator[FaultProxy]:
    p = FaultProxy(elasticsearch_url)
    yield p
    p.close()


def through(proxy: FaultProxy, name: str, sleeps: list[float] | None = None, **options) -> ElasticsearchBackend:
    sleep = sleeps.append if sleeps is not None else (lambda seconds: None)
    return ElasticsearchBackend(proxy.url, name=name, sleep=sleep, **options)


# -- index layout -----------------------------------------------------------------------------
def test_init_creates_template_versioned_index_and_alias(es: ElasticsearchBackend):
    assert es.init_index() == {"action": "created", "index": f"{es.name}-v1", "alias": es.name}
    template = es.client.indices.get_index_template(name=es.name)["index_templates"][0]
    assert template["index_template"]["index_patterns"] == [f"{es.name}-v*"]
    assert es.alias_target() == f"{es.name}-v1"
    live = es.client.indices.get_mapping(index=f"{es.name}-v1")[f"{es.name}-v1"]["mappings"]
    assert str(live["dynamic"]).lower() == "false"
    expected = load_template()["template"]["mappings"]["properties"]
    for name, spec in expected.items():
        assert live["properties"][name]["type"] == spec["type"], name
        if "analyzer" in spec:
            assert live["properties"][name].get("analyzer", "standard") == spec["analyzer"], name
    # one field per language, analyzed for that language, as the JSON says
    assert expected["body_ru"]["analyzer"] == "russian"
    assert expected["tr_body_nb"]["analyzer"] == "norwegian"
    assert expected["title_en"]["analyzer"] == "english"
    assert es.init_index()["action"] == "unchanged"
    assert sorted(es.versions()) == [1]


def test_init_adds_new_fields_in_place(es: ElasticsearchBackend):
    es.init_index()
    template = load_template()
    template["template"]["mappings"]["properties"]["outlet_group"] = {"type": "keyword"}
    wider = ElasticsearchBackend(es.url, name=es.name, schema=ArticleSchema.load(template))
    assert wider.init_index() == {"action": "updated", "index": f"{es.name}-v1", "alias": es.name}
    live = es.client.indices.get_mapping(index=es.name)[f"{es.name}-v1"]["mappings"]
    assert live["properties"]["outlet_group"] == {"type": "keyword"}
    assert wider.init_index()["action"] == "unchanged"


def test_init_refuses_a_change_that_needs_a_migration(es: ElasticsearchBackend):
    es.init_index()
    template = load_template()
    template["template"]["mappings"]["properties"]["outlet"] = {"type": "text"}
    changed = ElasticsearchBackend(es.url, name=es.name, schema=ArticleSchema.load(template))
    with pytest.raises(ConfigError, match="newsmon index migrate"):
        changed.init_index()


def test_a_plain_index_under_the_alias_name_is_refused(es: ElasticsearchBackend):
    es.client.indices.create(index=es.name)
    try:
        with pytest.raises(ConfigError, match="not an alias"):
            es.init_index()
    finally:
        es.client.indices.delete(index=es.name)


def test_search_before_init_says_what_to_do(es: ElasticsearchBackend):
    with pytest.raises(NotFound, match="newsmon index init"):
        es.search(SearchRequest("marker"))


def test_writes_never_create_an_index_with_a_guessed_mapping(es: ElasticsearchBackend):
    with pytest.raises(NotFound, match="newsmon index init"):
        es.index_articles(make_articles(1))
    assert not es.client.indices.exists(index=es.name)


# -- migration --------------------------------------------------------------------------------
def test_migrate_swaps_the_alias_with_no_moment_of_empty_search(es, store):
    es.init_index()
    store.upsert(make_articles(300))
    assert sync_pending(store, es, 100).indexed == 300
    es.refresh()
    searches: list[tuple[float, float, int | Exception]] = []  # start, end, total or error
    stop = threading.Event()

    def search_all_the_time() -> None:
        reader = ElasticsearchBackend(es.url, name=es.name)
        while not stop.is_set():
            start = time.monotonic()
            try:
                total: int | Exception = reader.search(
                    SearchRequest("marker", collapse=False, limit=1)
                ).total
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                total = exc
            searches.append((start, time.monotonic(), total))

    thread = threading.Thread(target=search_all_the_time)
    thread.start()
    def searched_since(moment: float, count: int) -> None:
        deadline = time.monotonic() + 30
        while sum(start >= moment for start, _end, _total in list(searches)) < count:
            assert time.monotonic() < deadline and thread.is_alive(), "the searches stopped"
            time.sleep(0.01)

    try:
        searched_since(0.0, 3)  # searching before the migration starts
        began = time.monotonic()
        result = migrate(store, es)
        ended = time.monotonic()
        searched_since(ended, 3)  # and after it ended
    finally:
        stop.set()
        thread.join()
    assert result["old"] == f"{es.name}-v1" and result["index"] == f"{es.name}-v2"
    assert result["copied"] == 300 and result["pushed"] == 0
    assert {total for _start, _end, total in searches} == {300}  # never empty, never an error
    assert any(began <= start and end <= ended for start, end, _total in searches)
    assert es.alias_target() == f"{es.name}-v2"
    assert sorted(es.versions()) == [2]  # the old version is deleted
    assert sorted(ids_in_index(es)) == sorted(a.id for a in make_articles(300))


def test_migrate_rebuilds_documents_whose_layout_changed(es, store):
    es.init_index()
    german = Article(canonical_url="https://site.example/de/1", outlet="zeitung", language="de",
                     title="Gefängnis in Saratow", body="Neue Videos aus dem Gefängnis.",
                     published="2026-11-20T10:00:00Z")
    store.upsert([german, *make_articles(6)])
    sync_pending(store, es)
    assert es.client.get(index=es.name, id=german.id)["_source"]["body"]  # standard field
    template = load_template()
    properties = template["template"]["mappings"]["properties"]
    properties["title_de"] = {"type": "text", "analyzer": "german"}
    properties["body_de"] = {"type": "text", "analyzer": "german"}
    template["template"]["mappings"]["_meta"]["newsmon_mapping_version"] = 2
    v2 = ElasticsearchBackend(es.url, name=es.name, schema=ArticleSchema.load(template))
    result = migrate(store, v2, keep_old=True)
    assert result["index"] == f"{es.name}-v2" and result["pushed"] == 1  # only the German one
    source = es.client.get(index=es.name, id=german.id)["_source"]
    assert source["body_de"] == german.body and "body" not in source
    v2.refresh()
    assert [h.id for h in v2.search(SearchRequest("Gefängnis")).hits] == [german.id]
    assert v2.get(german.id).to_dict() == store.get(german.id).to_dict()
    assert sorted(v2.versions()) == [1, 2]  # --keep-old
    assert v2.init_index()["action"] == "unchanged"


# -- retries ----------------------------------------------------------------------------------
def test_bulk_is_retried_with_backoff_on_429_and_5xx(proxy, index_name, store):
    sleeps: list[float] = []
    backend = through(proxy, index_name, sleeps, retry_backoff=0.5, max_retries=5)
    try:
        backend.init_index()
        store.upsert(make_articles(10))
        proxy.failures += [("_bulk", 429), ("_bulk", 503), ("_bulk", 502)]
        report = sync_pending(store, backend)
        assert report.indexed == 10
        assert sleeps == [0.5, 1.0, 2.0]  # exponential backoff
        assert len(proxy.bulk_requests()) == 4
        assert pending_count(store) == 0
        assert len(ids_in_index(backend)) == 10
    finally:
        backend.drop()


def test_when_retries_run_out_everything_stays_pending(proxy, index_name, store):
    backend = through(proxy, index_name, max_retries=2)
    try:
        backend.init_index()
        store.upsert(make_articles(5))
        proxy.failures += [("_bulk", 503)] * 3
        with pytest.raises(BackendUnavailable, match="HTTP 503"):
            sync_pending(store, backend)
        assert pending_count(store) == 5
        assert sync_pending(store, backend).indexed == 5  # the server recovered
        assert pending_count(store) == 0
    finally:
        backend.drop()


def test_a_document_refused_for_now_is_retried_alone(proxy, index_name, store):
    sleeps: list[float] = []
    backend = through(proxy, index_name, sleeps, retry_backoff=0.25)
    try:
        backend.init_index()
        store.upsert(make_articles(4))
        proxy.item_failures.append((429, "es_rejected_execution_exception"))
        report = sync_pending(store, backend)
        assert report.indexed == 4 and not report.quarantined and not report.temporary
        first, second = proxy.bulk_requests()
        assert first.count(b'"_id"') == 4 and second.count(b'"_id"') == 1
        assert sleeps == [0.25]
    finally:
        backend.drop()


def test_a_document_still_refused_after_retries_stays_pending(proxy, index_name, store):
    backend = through(proxy, index_name, max_retries=1)
    try:
        backend.init_index()
        store.upsert(make_articles(3))
        proxy.item_failures += [(503, "unavailable_shards_exception")] * 2
        report = sync_pending(store, backend)
        assert report.indexed == 2 and len(report.temporary) == 1
        assert pending_count(store) == 1 and not report.quarantined
        # the proxy only pretended: the server kept the document, so the next sync finds it
        assert sync_pending(store, backend).seen == 1
        assert pending_count(store) == 0
    finally:
        backend.drop()


@pytest.mark.parametrize("status, kind", [(403, "security_exception"),
                                          (401, "security_exception"),
                                          (429, "cluster_block_exception")])
def test_a_document_not_allowed_now_stays_pending_not_quarantined(proxy, index_name, store,
                                                                   status, kind):
    sleeps: list[float] = []
    backend = through(proxy, index_name, sleeps, max_retries=3)
    try:
        backend.init_index()
        store.upsert(make_articles(3))
        proxy.item_failures.append((status, kind))
        report = sync_pending(store, backend)
        assert report.indexed == 2 and not report.quarantined
        assert len(report.temporary) == 1 and f"HTTP {status}" in next(iter(report.temporary.values()))
        assert pending_count(store) == 1
        assert len(proxy.bulk_requests()) == 1 and sleeps == []  # not retried blindly
    finally:
        backend.drop()


def test_an_index_created_though_its_answer_was_lost_is_not_created_twice(proxy, index_name):
    sleeps: list[float] = []
    backend = through(proxy, index_name, sleeps, max_retries=3)
    try:
        proxy.lost_answers.append(("PUT", f"/{index_name}-v1", 504))
        assert backend.init_index()["action"] == "created"
        creates = [r for r in proxy.requests if r[0] == "PUT" and r[1].startswith(f"/{index_name}-v1")]
        assert len(creates) == 1  # asked whether it exists, not created again
        assert backend.alias_target() == f"{index_name}-v1"
    finally:
        backend.drop()


def test_a_migration_whose_alias_swap_answer_was_lost_reindexes_once(proxy, index_name, store):
    backend = through(proxy, index_name, max_retries=3)
    try:
        backend.init_index()
        store.upsert(make_articles(20))
        assert sync_pending(store, backend, 100).indexed == 20
        proxy.lost_answers.append(("POST", "/_aliases", 504))
        result = migrate(store, backend)
        assert result["index"] == f"{index_name}-v2" and backend.alias_target() == f"{index_name}-v2"
        assert len([r for r in proxy.requests if "_reindex" in r[1]]) == 1
        assert len([r for r in proxy.requests if r[1].startswith("/_aliases")]) == 1
        assert sorted(ids_in_index(backend)) == sorted(a.id for a in make_articles(20))
    finally:
        backend.drop()


def test_ping_needs_no_cluster_privilege(proxy, index_name):
    backend = through(proxy, index_name)
    backend.ping()
    assert [(method, path.split("?")[0]) for method, path, *_ in proxy.requests] == [
        ("HEAD", f"/{index_name}")]


# -- quarantine -------------------------------------------------------------------------------
def test_a_malformed_document_is_quarantined_with_its_error(es, store, monkeypatch, capsys):
    es.init_index()
    bad = Article(canonical_url="https://site.example/bad", outlet="kolokol", language="en",
                  title="Bad date", body="marker text with a broken date",
                  published="yesterday evening")
    store.upsert([*make_articles(4), bad])
    report = sync_pending(store, es)
    assert report.indexed == 4 and list(report.quarantined) == [bad.id]
    row = store.db.execute(
        "SELECT index_state, index_error FROM articles WHERE id = ?", (bad.id,)
    ).fetchone()
    assert row["index_state"] == "quarantined"
    assert "published" in row["index_error"] and "parse" in row["index_error"]
    assert sync_pending(store, es).seen == 0  # not retried forever
    assert sorted(ids_in_index(es)) == sorted(a.id for a in make_articles(4))

    monkeypatch.setenv("NEWSMON_DB", str(store.path))
    monkeypatch.setenv("NEWSMON_INDEX_URL", es.url)
    monkeypatch.setenv("NEWSMON_INDEX_NAME", es.name)
    assert main(["index", "sync", "--retry-quarantined"]) == 0
    out = capsys.readouterr().out
    assert "quarantined 1" in out and bad.id in out and "0 still pending" in out
    assert main(["index", "status"]) == 0
    out = capsys.readouterr().out
    assert "4 synced, 0 pending, 1 quarantined" in out and bad.id in out


def test_an_edit_during_the_push_keeps_the_article_pending(es, store, monkeypatch):
    es.init_index()
    (article,) = make_articles(1)
    store.upsert([article])
    original = es.index_articles

    def index_then_translate(articles, index=None):
        outcome = original(articles, index=index)
        store.save_translation(article.id, Translation(target="en", status="done",
                                                       title="translated", body="translated"))
        return outcome

    monkeypatch.setattr(es, "index_articles", index_then_translate)
    report = push(store, es, [article.id])
    assert report.changed_meanwhile == 1 and pending_count(store) == 1
    monkeypatch.setattr(es, "index_articles", original)
    assert sync_pending(store, es).indexed == 1
    assert es.get(article.id).translations[0].title == "translated"


# -- outages ----------------------------------------------------------------------------------
def test_server_stopped_between_batches_then_sync_completes_without_duplicates(
    noida_server: NoidaServer, index_name: str, store: SQLiteStore, monkeypatch, capsys
):
    backend = ElasticsearchBackend(noida_server.url, name=index_name, max_retries=1,
                                   retry_backoff=0.01)
    backend.init_index()
    articles = make_articles(60)
    for batch in (articles[0:20], articles[20:30]):  # the pipeline's first batches
        store.upsert(batch)
        push(store, backend, [a.id for a in batch])
    noida_server.stop()
    for batch in (articles[30:45], articles[45:60]):  # the crawl goes on
        store.upsert(batch)
        with pytest.raises(BackendUnavailable, match="unreachable"):
            push(store, backend, [a.id for a in batch])
    assert pending_count(store) == 30
    noida_server.start()
    # a batch already indexed comes back pending (e.g. the crawler died before marking it)
    store.db.execute("UPDATE articles SET index_state = 'pending' WHERE id = ?", (articles[0].id,))
    monkeypatch.setenv("NEWSMON_DB", str(store.path))
    monkeypatch.setenv("NEWSMON_INDEX_URL", noida_server.url)
    monkeypatch.setenv("NEWSMON_INDEX_NAME", index_name)
    assert main(["index", "sync"]) == 0
    assert "indexed 30, unchanged 1, quarantined 0" in capsys.readouterr().out
    in_index = ids_in_index(backend)
    assert len(in_index) == len(set(in_index)) == 60
    assert set(in_index) == {a.id for a in articles}
    assert store.stats()["index_state"] == {"synced": 60}


def test_sync_reports_an_unreachable_server_in_one_line(store, monkeypatch, capsys, refused_url):
    store.upsert(make_articles(2))
    monkeypatch.setenv("NEWSMON_DB", str(store.path))
    monkeypatch.setenv("NEWSMON_INDEX_URL", refused_url)
    assert main(["index", "status"]) == 3
    error = capsys.readouterr().err.strip()
    assert error.startswith("newsmon: error: Elasticsearch at http://127.0.0.1:")
    assert "unreachable" in error and "\n" not in error
    assert pending_count(store) == 2


# -- credentials and TLS ----------------------------------------------------------------------
SECRET_PASSWORD = "pw-7f3a9c-do-not-log"
SECRET_KEY = "key-91bd2e-do-not-log"


def test_credentials_are_sent_but_never_logged(proxy, index_name, caplog, store, refused_url):
    caplog.set_level(logging.DEBUG)
    backend = ElasticsearchBackend(proxy.url, name=index_name, username="newsmon",
                                   password=SECRET_PASSWORD, max_retries=1, retry_backoff=0.01,
                                   sleep=lambda s: None)
    try:
        backend.init_index()
        auth = proxy.requests[-1][3].get("authorization", "")
        assert auth.startswith("Basic ")  # sent to the server...
        proxy.failures += [("_bulk", 503)] * 2
        store.upsert(make_articles(2))
        with pytest.raises(BackendUnavailable) as failure:
            sync_pending(store, backend)
        messages = [str(failure.value), repr(backend)]
    finally:
        backend.drop()
    keyed = ElasticsearchBackend(proxy.url, name=index_name, api_key=SECRET_KEY, max_retries=0)
    keyed.ping()
    assert proxy.requests[-1][3].get("authorization") == f"ApiKey {SECRET_KEY}"
    in_url = ElasticsearchBackend(
        refused_url.replace("http://", f"http://newsmon:{SECRET_PASSWORD}@"), name=index_name,
        max_retries=0
    )
    with pytest.raises(BackendUnavailable) as down:
        in_url.ping()
    messages += [str(down.value), repr(in_url), repr(keyed)]
    logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    for secret in (SECRET_PASSWORD, SECRET_KEY):
        assert secret not in logged
        assert all(secret not in m for m in messages)
    assert "http://127.0.0.1:" in str(down.value)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "newsmon test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "ca.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_tls_certificates_are_verified_by_default(elasticsearch_url, index_name, tls_files):
    cert, key = tls_files
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    tls = FaultProxy(elasticsearch_url, ssl_context=context)
    try:
        unverified = ElasticsearchBackend(tls.url, name=index_name, max_retries=0)
        with pytest.raises(BackendUnavailable, match="ca_certs"):
            unverified.ping()
        ElasticsearchBackend(tls.url, name=index_name, ca_certs=str(cert), max_retries=0).ping()
        ElasticsearchBackend(tls.url, name=index_name, verify_certs=False, max_retries=0).ping()
    finally:
        tls.close()


def test_a_client_server_version_mismatch_is_explained(proxy, index_name):
    backend = through(proxy, index_name, max_retries=0)
    mismatch = {"error": {"type": "media_type_header_exception",
                          "reason": "Accept version must be either version 8 or 7, but found 9"},
                "status": 400}
    original = proxy._answer
    proxy._answer = lambda *a: (400, {"Content-Type": "application/json",
                                      "X-Elastic-Product": "Elasticsearch"},
                                json.dumps(mismatch).encode())
    try:
        with pytest.raises(BackendUnavailable, match="major version"):
            backend.init_index()
    finally:
        proxy._answer = original


def test_settings_from_config(monkeypatch, tmp_path):
    from crawler.config import load_config

    (tmp_path / "newsmon.toml").write_text(
        '[index]\nurl = "https://es.example:9200"\nname = "news"\nverify_certs = false\n'
        'bulk_size = 50\n', encoding="utf-8")
    monkeypatch.setenv("NEWSMON_ES_PASSWORD", SECRET_PASSWORD)
    monkeypatch.setenv("NEWSMON_ES_USERNAME", "reader")
    config = load_config(tmp_path / "newsmon.toml")
    backend = ElasticsearchBackend.from_settings(config.section("index"))
    assert (backend.url, backend.name) == ("https://es.example:9200", "news")
    node = backend.client.transport.node_pool.all()[0].config
    assert node.verify_certs is False
    assert SECRET_PASSWORD not in repr(backend)
    with pytest.raises(ConfigError, match="index.name"):
        ElasticsearchBackend("http://localhost:9200", name="Bad Name")


# -- the pipeline, through real crawls ----------------------------------------------------------
def test_pipeline_is_off_without_an_index_url():
    from scrapy.exceptions import NotConfigured

    from pipelines.index import ElasticsearchPipeline
    from tests.plugins.environment import newsmon_crawler

    crawler = newsmon_crawler(NEWSMON_INDEX_URL="", NEWSMON_STORE_PATH="x")
    with pytest.raises(NotConfigured, match="NEWSMON_INDEX_URL is not set"):
        ElasticsearchPipeline.from_crawler(crawler)


@pytest.fixture
def crawl_world(tmp_path: Path) -> Iterator[dict]:
    """The kolokol mock site with 100 generated articles, and an environment for the CLI."""
    from tests.plugins.mocksite import open_world

    config = tmp_path / "newsmon.toml"
    config.write_text(
        "[index]\nbulk_size = 5\nflush_interval = 0.2\nmax_retries = 1\nretry_backoff = 0.05\n"
        "[translate]\nenabled = false\n", encoding="utf-8")
    with open_world(tmp_path, ("kolokol",), "--generated", "100", NEWSMON_CONFIG=str(config)) as world:
        yield {"env": world.env, "db": world.db}


def stored_in(db: Path) -> tuple[set[str], dict[str, int]]:
    store = SQLiteStore(db)
    try:
        ids = {row["id"] for row in store.db.execute("SELECT id FROM articles")}
        return ids, store.stats()["index_state"]
    finally:
        store.close()


def newsmon(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsmon.cli", *args], env=env, check=False,
                          capture_output=True, text=True, timeout=180)


class LineWatch:
    """Read a child's stream on a thread, so a test can wait for a line instead of sleeping."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def wait_for(self, text: str, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: any(text in line for line in self.lines), timeout)

    def text(self, *, finished: bool = True) -> str:
        if finished:  # the child has exited: read to the end of its stream
            self.thread.join(timeout=30)
        with self.changed:
            return "".join(self.lines)


def wait_for_documents(url: str, name: str, at_least: int, process: subprocess.Popen) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(urllib.request.Request(f"{url}/{name}/_refresh", method="POST"),
                                   timeout=2).close()
            with urllib.request.urlopen(f"{url}/{name}/_count", timeout=2) as answer:
                count = json.load(answer)["count"]
            if count >= at_least:
                return count
        except OSError:
            pass
        time.sleep(0.05)
    return 0


def test_crawl_with_the_server_stopped_midway_then_sync(crawl_world, noida_server, index_name):
    env = {**crawl_world["env"], "NEWSMON_INDEX_URL": noida_server.url,
           "NEWSMON_INDEX_NAME": index_name}
    crawl = subprocess.Popen([sys.executable, "-m", "newsmon.cli", "crawl", "kolokol", "--json",
                              "--progress", "0"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    indexed_before_stop = wait_for_documents(noida_server.url, index_name, 10, crawl)
    noida_server.stop()
    out, err = crawl.communicate(timeout=180)
    assert crawl.returncode == 0, err[-3000:]
    assert indexed_before_stop >= 10, "the crawl ended before the server could be stopped"
    stats = json.loads(out)["kolokol"]
    stored = stats["newsmon/articles/inserted"]
    assert stored > indexed_before_stop
    assert stats["newsmon/index/errors/unavailable"] >= 1
    assert stats["newsmon/index/pending"] > 0
    assert "articles stay pending" in err

    noida_server.start()
    result = newsmon(env, "index", "sync")
    assert result.returncode == 0, result.stderr
    assert "0 still pending" in result.stdout
    stored_ids, states = stored_in(crawl_world["db"])
    assert states == {"synced": len(stored_ids)}
    backend = ElasticsearchBackend(noida_server.url, name=index_name)
    in_index = ids_in_index(backend)
    assert len(in_index) == len(set(in_index)) == len(stored_ids) == stored
    assert set(in_index) == stored_ids


def test_the_crawl_pushes_its_backlog_when_the_server_is_back(crawl_world, noida_server,
                                                               index_name):
    env = {**crawl_world["env"], "NEWSMON_INDEX_URL": noida_server.url,
           "NEWSMON_INDEX_NAME": index_name}
    crawl = subprocess.Popen([sys.executable, "-m", "newsmon.cli", "crawl", "kolokol", "--json",
                              "--progress", "0", "-s", "DOWNLOAD_DELAY=0.05"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr = LineWatch(crawl.stderr)
    assert wait_for_documents(noida_server.url, index_name, 10, crawl) >= 10
    noida_server.stop()
    # a flush has failed: the crawl said so (it logs the first failure only)
    assert stderr.wait_for("articles stay pending", timeout=60), stderr.text(finished=False)[-3000:]
    assert crawl.poll() is None, "the crawl ended before the server came back"
    noida_server.start()
    crawl.wait(timeout=180)
    out, err = crawl.stdout.read(), stderr.text()
    assert crawl.returncode == 0, err[-3000:]
    stats = json.loads(out)["kolokol"]
    assert stats["newsmon/index/errors/unavailable"] >= 1
    assert stats["newsmon/index/pending"] == 0
    assert "Elasticsearch is back" in err
    stored_ids, states = stored_in(crawl_world["db"])
    assert states == {"synced": len(stored_ids)}
    in_index = ids_in_index(ElasticsearchBackend(noida_server.url, name=index_name))
    assert len(in_index) == len(set(in_index)) and set(in_index) == stored_ids


def test_killing_the_crawler_loses_no_stored_article(crawl_world, noida_server, index_name):
    env = {**crawl_world["env"], "NEWSMON_INDEX_URL": noida_server.url,
           "NEWSMON_INDEX_NAME": index_name}
    crawl = subprocess.Popen([sys.executable, "-m", "newsmon.cli", "crawl", "kolokol",
                              "--progress", "0"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    assert wait_for_documents(noida_server.url, index_name, 10, crawl) >= 10
    crawl.send_signal(signal.SIGKILL)
    crawl.wait(timeout=30)
    result = newsmon(env, "index", "sync")
    assert result.returncode == 0, result.stderr
    stored_ids, _states = stored_in(crawl_world["db"])
    in_index = ids_in_index(ElasticsearchBackend(noida_server.url, name=index_name))
    assert stored_ids and len(in_index) == len(set(in_index)) and set(in_index) == stored_ids


def test_search_through_the_cli_finds_on_elasticsearch_what_sqlite_finds(
    crawl_world, noida_server, index_name, monkeypatch, capsys
):
    env = {**crawl_world["env"], "NEWSMON_INDEX_URL": noida_server.url,
           "NEWSMON_INDEX_NAME": index_name}
    crawl = newsmon(env, "crawl", "kolokol", "--progress", "0")
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    ElasticsearchBackend(noida_server.url, name=index_name).refresh()
    for name in ("NEWSMON_DB", "NEWSMON_CONFIG", "NEWSMON_INDEX_NAME"):
        monkeypatch.setenv(name, env[name])

    def ids(url: str, query: str) -> set[str]:
        monkeypatch.setenv("NEWSMON_INDEX_URL", url)
        assert main(["search", query, "--all", "--json", "--limit", "200"]) == 0
        return {json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()}

    for query in ("whistleblower", "bodycams", "видеорегистраторы", "monitors independent"):
        on_sqlite, on_es = ids("", query), ids(noida_server.url, query)
        assert on_sqlite, query
        assert on_sqlite <= on_es, query  # Elasticsearch also finds other word forms
    assert ids("", "Ладыгин") == ids(noida_server.url, "Ладыгин")


def test_template_file_is_the_single_source_of_field_names():
    schema = ArticleSchema.load()
    template = copy.deepcopy(load_template())
    properties = template["template"]["mappings"]["properties"]
    assert {name for name, _ in schema.search_fields()} == {
        name for name, spec in properties.items()
        if spec["type"] == "text" and name.split("_")[0] in ("title", "body", "tr")
    }
    assert schema.families["body"].by_language == {
        "en": "body_en", "nb": "body_nb", "nn": "body_nn", "ru": "body_ru"
    }


def test_dates_are_sent_in_extended_iso_form_with_a_strict_format():
    from search.elastic_query import compile_filters

    [date_range] = compile_filters(SearchRequest("x", date_from="20261101", date_to="20261102"))
    bounds = date_range["range"]["published"]
    assert bounds == {"gte": "2026-11-01", "lt": "2026-11-03", "format": "strict_date_optional_time"}


def test_highlighting_is_capped_below_the_index_limit(es):
    from search.elastic_query import MAX_ANALYZED_OFFSET, build_body
    from search.query import parse_query

    body, _ = build_body(SearchRequest("marker"), es.schema, parse_query("marker"))
    assert body["highlight"]["max_analyzed_offset"] == MAX_ANALYZED_OFFSET < 1_000_000


# -- paging through a point in time -----------------------------------------------------------
def _walk(backend: ElasticsearchBackend, between=None, **options) -> tuple[list[str], list[list]]:
    """Every hit of 'marker', seven at a time by cursor; ``between(n)`` runs after page n."""
    ids: list[str] = []
    cursors: list[list] = []
    cursor = None
    while True:
        page = backend.search(SearchRequest("marker", collapse=False, limit=7, sort="newest",
                                            search_after=cursor, **options))
        ids.extend(hit.id for hit in page.hits)
        cursor = page.next_cursor
        if cursor is None:
            return ids, cursors
        cursors.append(cursor)
        if between is not None:
            between(len(cursors))


def _writer(backend: ElasticsearchBackend, articles: list[Article]):
    """Writes while a walk goes on: after each page a new article, one already listed moved to
    the end (it would come again) and one not listed yet moved to the front (it would be
    skipped)."""
    from dataclasses import replace

    def write(page: int) -> None:
        listed, waiting = articles[(page - 1) * 7], articles[-page]
        backend.upsert([
            *make_articles(1, start=1000 + page),
            replace(listed, published="2000-01-01T00:00:00Z", id="", text_sha256=""),
            replace(waiting, published="2099-01-01T00:00:00Z", id="", text_sha256=""),
        ])
        backend.refresh()

    return write


def _newest_first(backend: ElasticsearchBackend) -> list[str]:
    return [hit.id for hit in backend.search(SearchRequest(
        "marker", collapse=False, limit=100, sort="newest")).hits]


def test_a_walk_in_a_point_in_time_sees_the_index_as_it_was_under_writes(es):
    es.init_index()
    articles = make_articles(40)
    es.upsert(articles)
    es.refresh()
    by_id = {a.id: a for a in articles}
    before = _newest_first(es)
    ordered = [by_id[i] for i in before]
    ids, cursors = _walk(es, _writer(es, ordered), point_in_time=True)
    assert ids == before  # every hit once, in order, none of the writes seen
    assert len(cursors) == 5 and all(c[0] == "pit" and c[1] for c in cursors)
    # the same walk on the live index, under the same kind of writes, repeats and skips
    es.upsert(articles)  # back to the first state (and the articles written above removed)
    for page in range(1, 6):
        es.client.delete(index=es.name, id=make_articles(1, start=1000 + page)[0].id)
    es.refresh()
    assert _newest_first(es) == before
    live, live_cursors = _walk(es, _writer(es, ordered))
    assert all(c[0] == "after" for c in live_cursors)
    assert live != before and (len(set(live)) < len(live) or set(before) - set(live))


def test_a_point_in_time_is_opened_searched_without_an_index_and_closed(proxy, index_name):
    backend = through(proxy, index_name)
    try:
        backend.init_index()
        backend.upsert(make_articles(20))
        backend.refresh()
        before = _newest_first(backend)
        proxy.requests.clear()
        page = backend.search(SearchRequest("marker", collapse=False, limit=7, sort="newest",
                                            point_in_time=True))
        _kind, pit, *_after = page.next_cursor
        # the point in time expires before the next page (closed here, as if by keep_alive)
        backend.client.close_point_in_time(id=pit)
        rest = [hit.id for hit in page.hits]
        cursor = page.next_cursor
        while cursor is not None:
            page = backend.search(SearchRequest("marker", collapse=False, limit=7, sort="newest",
                                                point_in_time=True, search_after=cursor))
            rest.extend(hit.id for hit in page.hits)
            cursor = page.next_cursor
        assert rest == before  # the expired point in time was opened again, the walk went on
        calls = [(method, path.split("?")[0], status) for method, path, status, _h, _b
                 in proxy.requests]
        opened = [c for c in calls if c[:2] == ("POST", f"/{index_name}/_pit")]
        closed = [c for c in calls if c[:2] == ("DELETE", "/_pit")]
        in_pit = [body for method, path, _s, _h, body in proxy.requests
                  if path.split("?")[0] == "/_search"]
        assert len(opened) == 2 and all(status == 200 for *_, status in opened)
        assert len(closed) == 2  # ours above, and one after the last page
        assert in_pit and all(json.loads(body)["pit"]["keep_alive"] == "1m" for body in in_pit)
        assert all("id" in json.loads(body)["sort"][-1] for body in in_pit)  # our tiebreaker
        assert [s for m, p, s in calls if p == "/_search"].count(404) == 1  # the expired one
    finally:
        backend.drop()
        backend.close()


def test_a_server_without_points_in_time_pages_on_the_live_index(proxy, index_name, caplog):
    backend = through(proxy, index_name)
    try:
        backend.init_index()
        backend.upsert(make_articles(20))
        backend.refresh()
        before = _newest_first(backend)
        proxy.failures.append(("/_pit", 400))  # an unknown endpoint, as older servers answer
        with caplog.at_level(logging.WARNING, logger="search.elastic"):
            ids, cursors = _walk(backend, point_in_time=True)
        assert ids == before and all(c[0] == "after" for c in cursors)
        assert "no point-in-time API" in caplog.text
        assert len([p for _m, p, *_ in proxy.requests if "_pit" in p]) == 1  # asked once only
    finally:
        backend.drop()
        backend.close()
