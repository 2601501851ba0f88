"""``newsmon watch``: saved searches report what is new since the last run, to stdout/JSON and
to a webhook (a local receiver on port 0) that may fail, redirect, or come back later."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsmon.cli import main
from search.article import Article
from search.store import SQLiteStore
from tests.test_search_contract import article_set


class Receiver:
    """A webhook endpoint: answers each POST with the next planned reply, records the bodies."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        self.plan: list[tuple[int, dict[str, str]]] = []  # (status, headers); empty = 200
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                receiver.paths.append(self.path)
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                status, headers = receiver.plan.pop(0) if receiver.plan else (200, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def store_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "watch.sqlite3"
    store = SQLiteStore(db)
    store.upsert(list(article_set().values()))
    store.close()
    config = tmp_path / "newsmon.toml"
    config.write_text("[web]\nwebhook_retries = 2\nwebhook_backoff = 0.01\nwebhook_timeout = 5.0\n",
                      encoding="utf-8")
    monkeypatch.setenv("NEWSMON_DB", str(db))
    monkeypatch.setenv("NEWSMON_CONFIG", str(config))
    return db


def run_json(capsys) -> tuple[int, list[dict]]:
    code = main(["watch", "run", "--json"])
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines()]


def test_watch_reports_new_matches_once_and_never_loses_an_alert(store_env: Path, receiver: Receiver,
                                                                 capsys):
    assert main(["watch", "add", "leak", "torture", "--language", "en",
                 "--webhook", receiver.url]) == 0
    assert main(["watch", "add", "quiet", "Saratov", "--outlet", "fjordposten"]) == 0
    capsys.readouterr()

    # the receiver is down for this run: every attempt fails, the alert stays queued
    receiver.plan = [(503, {})] * 3
    code, reports = run_json(capsys)
    by_name = {r["name"]: r for r in reports}
    assert code == 4
    first_new = {m["id"] for m in by_name["leak"]["new"]}
    assert first_new and {m["language"] for m in by_name["leak"]["new"]} == {"en"}
    assert by_name["leak"]["undelivered"] == ["HTTP 503"] and by_name["leak"]["delivered"] == 0
    assert len(receiver.bodies) == 3  # one try and two retries
    assert {m["id"] for m in by_name["quiet"]["new"]}  # no webhook: stdout only

    # next run: nothing new, and the queued alert is delivered now
    code, reports = run_json(capsys)
    by_name = {r["name"]: r for r in reports}
    assert code == 0 and by_name["leak"]["new"] == [] and by_name["leak"]["delivered"] == 1
    delivered = receiver.bodies[-1]
    assert delivered["saved_search"] == "leak" and {m["id"] for m in delivered["new"]} == first_new

    # a new matching article: reported and delivered once
    store = SQLiteStore(store_env)
    store.upsert([Article(canonical_url="https://kolokol.example/en/new", outlet="kolokol",
                          language="en", published="2026-11-23T09:00:00Z",
                          title="More torture reports", body="New evidence of torture emerged.")])
    store.close()
    before = len(receiver.bodies)
    code, reports = run_json(capsys)
    leak = next(r for r in reports if r["name"] == "leak")
    assert [m["title"] for m in leak["new"]] == ["More torture reports"] and leak["delivered"] == 1
    assert len(receiver.bodies) == before + 1
    code, reports = run_json(capsys)
    assert all(r["new"] == [] for r in reports) and len(receiver.bodies) == before + 1

    assert main(["watch", "list"]) == 0
    listing = capsys.readouterr().out
    assert "leak: torture" in listing and "0 undelivered" in listing
    assert main(["watch", "remove", "leak"]) == 0
    assert main(["watch", "remove", "leak"]) == 1


def test_webhook_redirects_keep_their_scheme(store_env: Path, receiver: Receiver, capsys):
    assert main(["watch", "add", "leak", "torture", "--webhook", receiver.url]) == 0
    capsys.readouterr()
    receiver.plan = [(307, {"Location": "ftp://127.0.0.1/steal"})]
    code, [report] = run_json(capsys)
    assert code == 4 and report["undelivered"][0].startswith("refused a redirect from http to ftp")
    assert len(receiver.bodies) == 1  # a refused redirect is not retried in the same run
    receiver.plan = [(308, {"Location": "/moved"})]
    code, [report] = run_json(capsys)
    assert code == 0 and report["delivered"] == 1 and receiver.paths[-2:] == ["/hook", "/moved"]
    receiver.plan = [(302, {"Location": "/elsewhere"})]  # would turn the POST into a GET
    store = SQLiteStore(store_env)
    store.upsert([Article(canonical_url="https://x.example/1", outlet="x", language="en",
                          title="torture again", body="Another torture report.")])
    store.close()
    code, [report] = run_json(capsys)
    assert code == 4 and report["undelivered"][0].startswith("refused a 302 redirect")
    assert receiver.paths[-1] == "/hook" and len(receiver.bodies) == 4  # not retried


def test_watch_rejects_bad_input_in_one_line(store_env: Path, capsys):
    assert main(["watch", "add", "x", "torture", "--webhook", "file:///etc/passwd"]) == 2
    assert main(["watch", "add", "x", "--", "-only"]) == 2
    assert main(["watch", "add", "a/b", "torture"]) == 2
    assert main(["watch", "add", "x", "torture", "--from", "2026-11-20", "--to", "2026-11-01"]) == 2
    assert main(["watch", "run", "missing"]) == 1
    err = capsys.readouterr().err
    assert err.count("newsmon: error:") == 5 and "Traceback" not in err
    with pytest.raises(SystemExit) as usage:
        main(["watch", "add", "x", "torture", "--from", "soon"])
    assert usage.value.code == 2 and "not a date" in capsys.readouterr().err


def test_an_actor_watch_alerts_new_statements_once(store_env: Path, receiver: Receiver, capsys):
    from pipelines.statements.actors import load_actors
    from pipelines.statements.engine import StatementEngine
    from tests.test_web_statements import statement_articles

    engine = StatementEngine(load_actors().values())
    store = SQLiteStore(store_env)
    store.upsert(statement_articles())
    engine.rebuild(store)
    store.close()
    assert main(["watch", "add", "kremlin", "--actor", "Пескова", "--webhook", receiver.url]) == 0
    assert "new statements of peskov" in capsys.readouterr().out
    receiver.plan = [(503, {})] * 3  # the receiver is down: the alert waits in the outbox
    code, [report] = run_json(capsys)
    assert code == 4 and report["actor"] == "peskov" and report["undelivered"] == ["HTTP 503"]
    [said] = report["new"]
    assert said["speaker"] == "peskov" and said["languages"] == ["en", "ru"]
    code, [report] = run_json(capsys)
    assert code == 0 and report["new"] == [] and report["delivered"] == 1
    body = receiver.bodies[-1]
    assert body["actor"] == "peskov" and [s["id"] for s in body["new"]] == [said["id"]]

    # a new statement of the actor: reported and delivered once; a rebuild reports nothing again
    store = SQLiteStore(store_env)
    later = Article(canonical_url="https://kolokol.example/en/news/2026/11/22/peskov",
                    outlet="kolokol", language="en", published="2026-11-22T10:00:00Z",
                    title="Kremlin again", body='Kremlin spokesman Dmitry Peskov said: "The'
                    ' inspection will be carried out by the prison service itself."')
    store.upsert([later])
    engine.store_article(store, store.get(later.id))
    store.close()
    code, [report] = run_json(capsys)
    assert [s["text"] for s in report["new"]] == [
        "The inspection will be carried out by the prison service itself."]
    assert receiver.bodies[-1]["new"][0]["reports"][0]["outlet"] == "kolokol"
    store = SQLiteStore(store_env)
    assert store.statement_cursor("kremlin") > 0
    engine.rebuild(store)  # refiles every statement from rowid 1
    store.close()
    before = len(receiver.bodies)
    code, [report] = run_json(capsys)
    assert code == 0 and report["new"] == [] and len(receiver.bodies) == before
    assert main(["watch", "run"]) == 0
    assert "kremlin: 0 new" in capsys.readouterr().out
    assert main(["watch", "list"]) == 0
    assert "kremlin: statements of peskov" in capsys.readouterr().out
    store = SQLiteStore(store_env)
    store.clear_statements()  # the statement the cursor stopped at is gone: read from the start
    assert store.statement_cursor("kremlin") == 0
    store.close()
    assert main(["watch", "add", "both", "torture", "--actor", "peskov"]) == 2
    assert "takes no query" in capsys.readouterr().err
