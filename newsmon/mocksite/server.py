"""The mock news-site HTTP server: one outlet per server, so each has its own robots.txt.

    python -m newsmon.mocksite.server --site kolokol [--generated N] [--no-faults] [--latency S]
        [--verbose]

prints exactly one line, ``URL http://127.0.0.1:PORT``, once it listens, then serves until killed.
Pages are rendered on request from the TOML files and templates in ``content/``; the only
mutable state is the request log and the per-path GET counters. ``GET /__log`` returns the
requests so far as JSON ``[[method, path+query], ...]`` (``/__log?times=1``: ``[[method,
path+query, seconds since the epoch], ...]``); ``GET`` or ``POST /__reset`` clears the
log and the counters (so the flaky URL fails once more). Neither endpoint is logged.
The special cases are listed in ``newsmon.mocksite.special_urls``.

Synthetic articles (``generated=N``, see generate.py) are served besides the hand-written ones,
listed only in /sitemap-generated.xml (then -2.xml, -3.xml, ...: 50,000 URLs per file).
``latency`` seconds are added before each answer, so a crawl waits on the network as on the web.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import socket
import struct
import sys
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import cache
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from string import Template
from typing import Self

from newsmon.mocksite import CONTENT, SITES, ArticleSpec, articles, generate, hostile, site_config

UTM = "?utm_source=rss&utm_medium=feed"
SITEMAP_CHUNK = 50_000  # URLs per sitemap file, the protocol's limit


@cache
def _template(name: str) -> Template:
    return Template((CONTENT / "templates" / name).read_text(encoding="utf-8"))


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _human(iso: str, ui: dict) -> str:
    d = datetime.fromisoformat(iso)
    return ui["date_format"].format(day=d.day, month=ui["months"][d.month - 1], year=d.year,
                                    hh=f"{d.hour:02d}", mm=f"{d.minute:02d}")


def _rfc822(iso: str) -> str:
    return format_datetime(datetime.fromisoformat(iso).astimezone(UTC), usegmt=True)


@dataclass
class Response:
    status: int
    body: bytes = b""
    ctype: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    modified: str | None = None  # ISO time: with it come Last-Modified, ETag and 304s
    action: str = ""  # a fault instead of a plain answer: see hostile.Answer
    delay: float = 0.0


class MockSite:
    """One outlet served from a daemon thread; ``start()`` it, or use ``start_site``.

    ``url`` is the base URL (no trailing slash). A context manager: leaving it stops the server.
    """

    def __init__(self, site: str, *, generated: int = 0, faults: bool = True,
                 hostile: bool = False, verbose: bool = False, latency: float = 0.0) -> None:
        self.config = site_config(site)
        self.site, self.generated, self.faults, self.hostile = site, generated, faults, hostile
        self.closing = threading.Event()  # hanging and slow answers end when the server stops
        self.latency = latency
        self.special, self.default = self.config["special"], self.config["default_edition"]
        self.articles = articles(site, faults=faults)
        self.by_path = {a.path: a for a in self.articles}
        self.redirects = {a.redirect_from: a.path for a in self.articles if a.redirect_from}
        self.later = False  # POST /__later: the [later] changes of site.toml apply
        self.latest = max((a.updated or a.published for a in self.listed()),
                          key=datetime.fromisoformat)  # drafts in /private/ may be dated ahead
        self.lock = threading.Lock()
        self.log: list[tuple[str, str]] = []
        self.times: list[float] = []  # time.monotonic() of each logged request
        self.hits: Counter[str] = Counter()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.mock, self.server.verbose = self, verbose
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)  # poll often: stop() waits for one poll

    def start(self) -> Self:
        self.thread.start()
        return self

    def requests(self) -> list[tuple[str, str]]:
        """(method, path+query) of every request so far, oldest first."""
        with self.lock:
            return list(self.log)

    def request_times(self, path: str) -> list[float]:
        """When path (query included) was requested, in time.monotonic() seconds."""
        with self.lock:
            return [t for (_m, p), t in zip(self.log, self.times) if p == path]

    def reset_log(self) -> None:
        """Forget the logged requests and the GET counters (the flaky URL fails once more)."""
        with self.lock:
            self.log.clear()
            self.times.clear()
            self.hits.clear()

    def stop(self) -> None:
        self.closing.set()
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -------------------------------------------------------------------------- rendering

    def listed(self, edition: str | None = None) -> list[ArticleSpec]:
        """What index pages, feeds and the news sitemap list: no private pages, no AMP copies."""
        gone = self.gone_later()
        return [self.current(a) for a in self.articles if a.kind not in ("private", "duplicate")
                and edition in (None, a.edition) and a.path not in gone]

    def gone_later(self) -> set[str]:
        """Paths no longer listed anywhere: removed or sent home (only once ``later`` is set)."""
        changes = self.config.get("later", {})
        return {changes["removed"], changes["sent_home"]} if self.later and changes else set()

    def current(self, spec: ArticleSpec) -> ArticleSpec:
        """The article as it reads now: once ``later`` is set, the edited one has changed."""
        changes = self.config.get("later", {})
        if not (self.later and changes and spec.path == changes["edited"]):
            return spec
        old, new = changes["edited_replace"]
        return replace(spec, title=changes["edited_title"], updated=changes["edited_at"],
                       paragraphs=tuple(p.replace(old, new) for p in spec.paragraphs))

    def page(self, edition: str, title: str, main: str, head: str = "", charset: str = "utf-8",
             html_attrs: str = "") -> str:
        e, ui = self.config["editions"][edition], self.config["ui"][edition]
        return _template("layout.html").substitute(
            lang=e["lang"], html_attrs=html_attrs, head_extra=head,
            charset_meta=f'<meta charset="{charset}">\n' if charset else "",
            page_title=_esc(f"{title} — {e['name']}"), site_name=_esc(e["name"]), feed=e["feed"],
            home=e["home"], main=main,
            nav="\n".join(f'<li><a href="{href}">{_esc(t)}</a></li>' for t, href in ui["nav"]),
            footer="\n".join(f"<p>{_esc(line)}</p>" for line in ui["footer"]))

    def article_page(self, a: ArticleSpec) -> Response:
        ui, x, lead = self.config["ui"][a.edition], _esc, ' class="lead"'
        canonical = x(self.url + a.path + (UTM if a.canonical_utm else ""))
        modified = f'<meta property="article:modified_time" content="{a.updated}">\n'
        head = _template("article-head.html").substitute(
            canonical=canonical, description=x(a.paragraphs[0][:200]), title=x(a.title),
            author=x(", ".join(a.authors)), published=a.published, section=x(a.section),
            modified=modified if a.updated else "",
            tags="\n".join(f'<meta property="article:tag" content="{x(t)}">' for t in a.tags))
        updated = (f' · <span class="updated">{x(ui["updated"])} <time class="modified" datetime='
                   f'"{a.updated}">{_human(a.updated, ui)}</time></span>') if a.updated else ""
        related = [r for r in self.listed(a.edition) if r.path != a.path][:3]
        main = _template("article.html").substitute(
            section=x(a.section), title=x(a.title), byline_label=x(ui["byline"]),
            authors=", ".join(f'<a href="/about/" rel="author">{x(n)}</a>' for n in a.authors),
            published=a.published, published_human=_human(a.published, ui), updated_html=updated,
            body="\n".join(f"<p{'' if i else lead}>{x(p)}</p>"
                           for i, p in enumerate(a.paragraphs)),
            tags_label=x(ui["tags"]),
            tags=", ".join(f'<span class="tag">{x(t)}</span>' for t in a.tags),
            related_label=x(ui["related"]),
            related="\n".join(f'<li><a href="{r.path}">{x(r.title)}</a></li>' for r in related))
        in_meta = a.charset_declared in ("both", "meta")
        in_header = a.charset_declared in ("both", "header")
        text = self.page(a.edition, a.title, main, head, charset=a.encoding if in_meta else "",
                         html_attrs=" amp" if a.kind == "duplicate" else "")
        ctype = "text/html" + (f"; charset={a.encoding}" if in_header else "")
        return Response(200, text.encode(a.encoding, "xmlcharrefreplace"), ctype,
                        modified=a.updated or a.published)

    def index_page(self, edition: str, heading: str, items: list[ArticleSpec]) -> Response:
        ui = self.config["ui"][edition]
        lis = "\n".join(f'<li><a href="{a.path}">{_esc(a.title)}</a> <time datetime='
                        f'"{a.published}">{_human(a.published, ui)}</time></li>' for a in items)
        main = _template("index.html").substitute(heading=_esc(heading), items=lis)
        return Response(200, self.page(edition, heading, main).encode(), modified=self.latest)

    def feed(self, edition: str) -> str:
        """RSS 2.0 for an edition; every other link carries utm parameters."""
        e, s = self.config["editions"][edition], self.special
        rows = [(a.title, a.redirect_from if self.faults and a.redirect_from else a.path,
                 a.published, a.authors, a.paragraphs[0]) for a in self.listed(edition)]
        if self.faults and "not_found" in s and edition == self.default:
            rows.append((s["not_found_title"], s["not_found"], s["not_found_published"], (), ""))
        items = "\n".join(_template("rss-item.xml").substitute(
            title=_esc(title), link=_esc(self.url + path + (UTM if i % 2 == 0 else "")),
            guid=self.url + path, date=_rfc822(date), description=_esc(description or title),
            creators="".join(f"<dc:creator>{_esc(a)}</dc:creator>\n" for a in authors))
            for i, (title, path, date, authors, description) in enumerate(rows))
        return _template("rss.xml").substitute(
            name=_esc(e["name"]), home=self.url + e["home"], lang=e["lang"],
            description=_esc(self.config["ui"][edition]["home_title"]),
            built=_rfc822(self.latest), self=self.url + e["feed"], items=items)

    def broken_feed(self) -> str:
        """The default edition's feed cut off inside its third item, with no closing tags."""
        text = self.feed(self.default)
        return text[:text.find("<item>", text.find("</item>", text.find("</item>") + 1)) + 40]

    def sitemap(self, path: str) -> str | None:
        """Index, news sitemap, urlset and the generated chunks; None for an unknown path."""
        chunks = range(1, (self.generated + SITEMAP_CHUNK - 1) // SITEMAP_CHUNK + 1)
        generated = [f"/sitemap-generated{f'-{k}' if k > 1 else ''}.xml" for k in chunks]
        if path == "/sitemap-news.xml":
            return _template("sitemap-news.xml").substitute(urls="".join(
                _template("sitemap-news-url.xml").substitute(
                    loc=self.url + a.path, name=_esc(self.config["editions"][a.edition]["name"]),
                    lang=a.lang, date=a.published, title=_esc(a.title)) for a in self.listed()))
        if path == "/sitemap.xml":
            root, tag = "sitemapindex", "sitemap"
            maps = ["/sitemap-news.xml", "/sitemap-articles.xml", *generated]
            rows = [(m, self.latest) for m in maps]
        elif path == "/sitemap-articles.xml":
            root, tag = "urlset", "url"
            extra = [self.special["archive"]]
            extra += [self.special["binary"]] if self.faults and "binary" in self.special else []
            gone = self.gone_later()
            rows = [(a.path, a.updated or a.published) for a in map(self.current, self.articles)
                    if a.path not in gone]
            rows += [(p, self.latest) for p in extra]
        elif path in generated:
            root, tag = "urlset", "url"
            first = generated.index(path) * SITEMAP_CHUNK + 1
            rows = [(generate.generated_path(self.site, n), None)
                    for n in range(first, min(first + SITEMAP_CHUNK, self.generated + 1))]
        else:
            return None
        return _template("sitemap.xml").substitute(root=root, rows="\n".join(
            f"<{tag}><loc>{self.url}{p}</loc>{f'<lastmod>{m}</lastmod>' if m else ''}</{tag}>"
            for p, m in rows))

    def route(self, path: str) -> Response:
        """The response to a GET of path (query already stripped)."""
        config, special, xml = self.config, self.special, "application/xml; charset=utf-8"
        rss = "application/rss+xml; charset=utf-8"
        if self.hostile and path.startswith(hostile.PREFIX):
            with self.lock:
                hit = self.hits[path]
            if (a := hostile.answer(path, self.url, hit)) is not None:
                return Response(a.status, a.body, a.ctype, a.headers, action=a.action,
                                delay=a.delay)
        if path == "/robots.txt":
            text = f"User-agent: *\nDisallow: /private/\n\nSitemap: {self.url}/sitemap.xml\n"
            return Response(200, text.encode(), "text/plain; charset=utf-8")
        for ed, e in config["editions"].items():
            if path == e["feed"]:
                return Response(200, self.feed(ed).encode(), rss, modified=self.latest)
            if path in (e["home"], e["section"]):
                ui = config["ui"][ed]
                heading = ui["home_title"] if path == e["home"] else ui["section_title"]
                return self.index_page(ed, heading, self.listed(ed))
        if self.faults and path == special.get("broken_feed"):
            return Response(200, self.broken_feed().encode(), rss)
        if path.startswith("/sitemap") and (sitemap := self.sitemap(path)) is not None:
            return Response(200, sitemap.encode(), xml, modified=self.latest)
        if path == special["archive"]:
            return self.index_page(self.default, special["archive_title"], self.listed())
        ui = config["ui"][self.default]
        if path == "/about/":
            main = f"<h1>{_esc(ui['about_title'])}</h1>\n<p>{_esc(ui['about_text'])}</p>"
            return Response(200, self.page(self.default, ui["about_title"], main).encode())
        if self.faults and path == special.get("binary"):
            return Response(200, _scan_png(), "image/png", modified="2026-11-18T12:00:00+03:00")
        if self.faults and path in self.redirects:
            return Response(301, headers={"Location": self.url + self.redirects[path]})
        if path in self.gone_later():
            changes = self.config["later"]
            if path == changes["removed"]:
                return Response(410, self.page(self.default, ui["not_found"],
                                               f"<h1>{_esc(ui['not_found'])}</h1>").encode())
            return Response(302, headers={"Location": self.url + "/"})
        if spec := self.by_path.get(path):
            spec = self.current(spec)
            if self.faults and spec.flaky and self.hits[path] == 1:
                return Response(500, b"<h1>500 Internal Server Error</h1>\n")
            return self.article_page(spec)
        n = generate.parse_generated_path(self.site, path) if self.generated else None
        if n and n <= self.generated:
            return self.article_page(generate.synthetic_article(self.site, n))
        main = f"<h1>{_esc(ui['not_found'])}</h1>"
        return Response(404, self.page(self.default, ui["not_found"], main).encode())


@cache
def _scan_png(width: int = 160, height: int = 220) -> bytes:
    """A grey "scanned page" with lines of "text"; built here so no binary file is packaged."""
    def ink(x: int, y: int) -> bool:
        return 16 <= x < 144 and 20 <= y < 200 and (y - 20) % 12 < 5 and (x * 31 + y * 17) % 7 < 4

    rows = b"".join(b"\0" + bytes(70 if ink(x, y) else 240 for x in range(width))
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"".join([b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", header),
                     chunk(b"IDAT", zlib.compress(rows)), chunk(b"IEND", b"")])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for idle keep-alive connections
    mock: MockSite
    verbose = False

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        """Stay quiet when a crawler drops a connection; report real errors."""
        if self.verbose or not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as on real sites; every answer has a length
    timeout = 30

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        mock, (path, _, query) = self.server.mock, self.path.partition("?")
        with mock.lock:
            if path in ("/__log", "/__reset", "/__later"):
                if path == "/__later" and self.command == "POST":
                    mock.later = True
                if path == "/__reset":
                    mock.log.clear()
                    mock.times.clear()
                    mock.hits.clear()
                entries = ([[*entry, t] for entry, t in zip(mock.log, mock.times, strict=True)]
                           if query == "times=1" else [list(entry) for entry in mock.log])
                log = json.dumps(entries, ensure_ascii=False)
                return self._send(Response(200, log.encode(), "application/json"))
            mock.log.append((self.command, self.path))
            mock.times.append(time.monotonic())
            mock.hits[path] += 1
        if mock.latency:
            time.sleep(mock.latency)
        self._send(mock.route(path))

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] in ("/__reset", "/__later"):
            return self.do_GET()
        self._send(Response(405, b"Method Not Allowed\n", "text/plain"))

    def _send(self, r: Response) -> None:
        if r.action:
            return self._fault(r)
        headers = {"Content-Type": r.ctype, **r.headers}
        if r.status == 200 and r.modified:
            etag = '"' + hashlib.sha1(r.body).hexdigest()[:16] + '"'
            validators = {"ETag": etag, "Last-Modified": _rfc822(r.modified)}
            headers |= validators
            if _not_modified(self.headers, etag, datetime.fromisoformat(r.modified)):
                r, headers = Response(304), validators
        self.send_response(r.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(r.body)))
        self.end_headers()
        self.wfile.write(r.body)


    def _fault(self, r: Response) -> None:
        """Misbehave as r.action says (see hostile.Answer)."""
        closing = self.server.mock.closing
        if r.action == "hang":
            closing.wait(600)
            self.close_connection = True
            return
        if r.action == "slow" and closing.wait(r.delay):
            return
        self.send_response(r.status)
        if r.ctype:
            self.send_header("Content-Type", r.ctype)
        length = {"reset": len(r.body), "short": len(r.body) + 1000}.get(r.action)
        if length is not None or r.action == "slow":
            self.send_header("Content-Length", str(length or len(r.body)))
        if r.action == "nolength":
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(r.body[:len(r.body) // 2] if r.action == "reset" else r.body)
        self.wfile.flush()
        self.close_connection = True
        if r.action == "reset":  # close with RST, not FIN: the client sees a reset
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))


def _not_modified(request: HTTPMessage, etag: str, modified: datetime) -> bool:
    """RFC 9110: If-None-Match wins; else If-Modified-Since, at one-second precision."""
    if (tags := request.get("If-None-Match")) is not None:
        listed = {tag.strip().removeprefix("W/") for tag in tags.split(",")}
        return "*" in listed or etag in listed
    try:
        return modified <= parsedate_to_datetime(request.get("If-Modified-Since"))
    except (TypeError, ValueError):  # absent or unparseable
        return False


def start_site(site: str, *, generated: int = 0, faults: bool = True,
               hostile: bool = False) -> MockSite:
    """Serve the named mock site on 127.0.0.1 (a free port) from a daemon thread."""
    return MockSite(site, generated=generated, faults=faults, hostile=hostile).start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a newsmon mock news site.")
    parser.add_argument("--site", choices=SITES, required=True)
    parser.add_argument("--generated", type=int, default=0, metavar="N",
                        help="also serve N synthetic articles (listed in sitemap-generated.xml)")
    parser.add_argument("--no-faults", action="store_true", help="serve only the clean pages")
    parser.add_argument("--hostile", action="store_true",
                        help="also serve the hostile-input and HTTP-fault cases under /hostile/")
    parser.add_argument("--latency", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long before each answer (default 0)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    mock = MockSite(args.site, generated=args.generated, faults=not args.no_faults,
                    hostile=args.hostile, verbose=args.verbose, latency=args.latency)
    print(f"URL {mock.url}", flush=True)
    try:
        mock.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        mock.server.server_close()


if __name__ == "__main__":
    main()
