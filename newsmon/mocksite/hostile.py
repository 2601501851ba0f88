"""Hostile input and HTTP faults, served by the mock server's ``hostile`` site.

Each case is one URL under ``/hostile/``: a page (listed in ``/hostile/feed.xml``), a feed or a
sitemap (both listed in the outlet definition), or an HTTP fault (a page listed in
``/hostile/faults.xml`` only). One crawl of the outlet that ``outlet_definition`` describes meets
every input case, a second one (``faults=True``) the HTTP faults: the first crawl's heavy
parsing (a 100,000-item feed) holds the reactor for seconds, and a fault's answer arriving
meanwhile would time out instead of showing what it is for. ``tests/test_hostile_input.py``
states what must come of each. Bodies are built on first request and kept (bombs are small
compressed).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

PREFIX = "/hostile"
ARTICLE = f"{PREFIX}/a/"
MARK_START, MARK_END = "\ue000", "\ue001"  # search.base's snippet marks (mocksite imports no search)

WORDS = ("The harbour authority met on Tuesday to discuss the winter schedule of the ferries, and"
         " the mayor said that the council would publish the new timetable before the end of the"
         " month after talking to the unions, the fishermen and the people who live on the small"
         " islands north of the town, many of whom depend on the boats to reach the hospital.")


@dataclass
class Answer:
    """What the server does for one request: a normal response, or a fault (``action``)."""

    status: int = 200
    body: bytes = b""
    ctype: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    # "" | "hang" (never answer) | "reset" (half the body, then RST) | "slow" (wait `delay`)
    # | "short" (Content-Length larger than the body, then close) | "nolength" (close-delimited)
    action: str = ""
    delay: float = 0.0


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # page | feed | sitemap
    path: str
    build: Callable[[str], list[Answer]]  # base URL -> answers for the 1st, 2nd, ... request


def article_html(title: str, paragraphs: list[str] | None = None, *, charset: str = "utf-8",
                 head: str = "") -> str:
    paragraphs = paragraphs if paragraphs is not None else [WORDS, WORDS.upper().lower(), WORDS]
    meta = f'<meta charset="{charset}">' if charset else ""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!doctype html>\n<html lang=\"en\"><head>{meta}<title>{title}</title>{head}</head>"
            f"<body><article><h1>{title}</h1>\n{body}\n</article></body></html>\n")


def _page(title: str, **kwargs: object) -> bytes:
    return article_html(title, **kwargs).encode()  # type: ignore[arg-type]


def _one(answer: Answer) -> Callable[[str], list[Answer]]:
    return lambda base: [answer]


def _html(body: bytes, ctype: str = "text/html; charset=utf-8", **kw: object) -> Callable[[str], list[Answer]]:
    return _one(Answer(200, body, ctype, **kw))  # type: ignore[arg-type]


@cache
def gzip_bomb(megabytes: int) -> bytes:
    """``megabytes`` MiB of zeros as concatenated gzip members: about 1 KiB per MiB."""
    return gzip.compress(b"\0" * (1 << 20), 9) * megabytes


@cache
def deflate_bomb(megabytes: int) -> bytes:
    packer, chunk = zlib.compressobj(9), b"\0" * (1 << 20)
    return b"".join(packer.compress(chunk) for _ in range(megabytes)) + packer.flush()


def _xml(text: str) -> bytes:
    return text.encode()


LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
          + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
                    for i in range(1, 10))
          + "]>\n")


def _xxe(base: str) -> str:
    return ('<?xml version="1.0"?>\n<!DOCTYPE r [\n <!ENTITY local SYSTEM "file:///etc/passwd">\n'
            f' <!ENTITY remote SYSTEM "{base}{PREFIX}/xxe-probe">\n]>\n')


XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'


def _rss(base: str, links: list[str], head: str = XML_DECLARATION, title: str = "Hostile") -> bytes:
    items = "".join(f"<item><title>{title} {i}</title><link>{link}</link></item>\n"
                    for i, link in enumerate(links))
    return (f'{head}\n<rss version="2.0"><channel>'
            f"<title>{title}</title><link>{base}/</link><description>d</description>\n"
            f"{items}</channel></rss>\n").encode()


def _short_rss(n: int) -> bytes:
    """An RSS feed of n items with relative links (not articles), under DOWNLOAD_MAXSIZE."""
    items = "".join(f"<item><link>/x/{i}</link></item>" for i in range(n))
    return f'<rss version="2.0"><channel><title>many</title>{items}</channel></rss>'.encode()


def _urlset(base: str, paths: list[str], head: str = '<?xml version="1.0"?>') -> bytes:
    rows = "".join(f"<url><loc>{base}{p}</loc></url>\n" for p in paths)
    return (f'{head}\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{rows}'
            "</urlset>\n").encode()


def _index(base: str, paths: list[str]) -> bytes:
    rows = "".join(f"<sitemap><loc>{base}{p}</loc></sitemap>\n" for p in paths)
    return ('<?xml version="1.0"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"\n{rows}</sitemapindex>\n").encode()


def _redirect(location: str, status: int = 301) -> Callable[[str], list[Answer]]:
    return lambda base: [Answer(status, b"", headers={
        "Location": location if ":" in location.split("/")[0] else base + location})]


def _feed(build: Callable[[str], bytes], ctype: str = "application/rss+xml; charset=utf-8",
          **kw: object) -> Callable[[str], list[Answer]]:
    return lambda base: [Answer(200, build(base), ctype, **kw)]  # type: ignore[arg-type]


XML = "application/xml"
_RU = "Президент подписал закон о свободе прессы, и журналисты в регионах ждут перемен."
_CYR = " ".join([_RU] * 8)


def _cases() -> list[Case]:
    a, p = ARTICLE, []

    def page(name: str, build: Callable[[str], list[Answer]]) -> None:
        p.append(Case(name, "page", a + name, build))

    def feed(name: str, build: Callable[[str], list[Answer]]) -> None:
        p.append(Case(f"feed-{name}", "feed", f"{PREFIX}/feed/{name}.xml", build))

    def sitemap(name: str, build: Callable[[str], list[Answer]], path: str = "") -> None:
        p.append(Case(f"sitemap-{name}", "sitemap", path or f"{PREFIX}/sitemap/{name}.xml", build))

    html = article_html
    # -- malformed and odd HTML ------------------------------------------------------------
    page("control", _html(_page("A normal article about ferries")))
    page("truncated-html", _html(html("Cut off in the middle")[:-60].encode()))
    page("unclosed-tags", _html(html("Unclosed tags").replace("</p>", "").replace(
        "</article>", "").replace("</body></html>", "").encode()))
    page("tag-soup", _html(b"<html><p><b><i>" + (WORDS + " </b>").encode() * 6 + b"<td><tr></table>"))
    page("script-only", _html(b"<!doctype html><html><head><script>" + b"var x = 1;" * 500
                              + b"</script></head><body><script>document.write('hi')</script>"
                              b"</body></html>"))
    page("empty-body", _html(b""))
    page("whitespace-body", _html(b" \n\t" * 1000))
    page("deep-nesting", _html(b"<html><body>" + b"<div>" * 20000 + WORDS.encode() * 3
                               + b"</div>" * 20000 + b"</body></html>"))
    page("huge-title", _html(html("T" * 200_000).encode()))
    page("many-paragraphs", _html(html("Many paragraphs", [WORDS] * 3000).encode()))
    page("highlight-marks", _html(html(f"Fake {MARK_START}highlight{MARK_END}",
                                       [f"{MARK_START}{WORDS}{MARK_END}"] * 3).encode()))
    page("terminal-escapes", _html(html("Escapes \x1b[2J\x1b]0;pwned\x07 here",
                                        [WORDS + " \x1b[31mred\x1b[0m"] * 3).encode()))
    page("bidi-override", _html(html("Bidi \u202egnp.exe\u202c", [WORDS] * 3).encode()))
    page("xml-bomb-in-html", _html((LAUGHS + html("Laughs &lol9;", [WORDS] * 3)).encode()))
    page("binary-as-html", _html(bytes(range(256)) * 400))
    # -- encodings ---------------------------------------------------------------------------
    page("header-lies-latin1", _html(html("Лживый заголовок", [_CYR] * 3).encode(),
                                     "text/html; charset=iso-8859-1"))
    page("meta-lies-cp1251", _html(html("Meta says cp1251", [WORDS] * 3,
                                        charset="windows-1251").encode()))
    page("bom-vs-meta", _html(b"\xef\xbb\xbf" + html("BOM против meta", [_CYR] * 3,
                                                     charset="windows-1251").encode(), "text/html"))
    page("utf16-bom", _html(html("UTF-16 with a BOM", charset="").encode("utf-16"), "text/html"))
    page("invalid-utf8-middle", _html(html("Invalid bytes inside").encode().replace(
        b"ferries", b"ferr\xff\xfe\xc3(ies", 1)))
    page("nul-bytes", _html(html("NUL bytes").encode().replace(b" the ", b" \0the\0 ", 4)))
    page("unknown-charset", _html(html("Unknown charset", charset="x-klingon").encode(),
                                  "text/html; charset=x-klingon"))
    # -- size and compression ----------------------------------------------------------------
    page("body-50mb", lambda base: [Answer(200, b"<html><body>" + b"x" * (50 << 20))])
    page("body-50mb-no-length", lambda base: [Answer(200, b"<p>" + b"y" * (50 << 20),
                                                     action="nolength")])
    page("gzip-bomb", _html(gzip_bomb(1024), headers={"Content-Encoding": "gzip"}))
    page("deflate-bomb", _html(deflate_bomb(1024), headers={"Content-Encoding": "deflate"}))
    page("gzip-not-gzip", _html(_page("Says gzip, is not"), headers={"Content-Encoding": "gzip"}))
    # -- content types -----------------------------------------------------------------------
    page("image", _html(b"\x89PNG\r\n\x1a\n" + bytes(4000), "image/png"))
    page("pdf", _html(b"%PDF-1.4\n" + bytes(4000), "application/pdf"))
    page("json", _html(b'{"title": "not a page", "body": "' + WORDS.encode() + b'"}',
                       "application/json"))
    page("html-as-octet-stream", _html(_page("HTML as octet-stream"), "application/octet-stream"))
    page("html-as-plain-text", _html(_page("HTML as text/plain"), "text/plain"))
    page("no-content-type", _html(_page("No content type"), ""))
    # -- redirects ---------------------------------------------------------------------------
    page("redirect-loop", _redirect(a + "redirect-loop-b", 302))
    p.append(Case("redirect-loop-b", "hidden", a + "redirect-loop-b", _redirect(a + "redirect-loop")))
    page("redirect-self", _redirect(a + "redirect-self", 302))
    page("redirect-other-host", lambda base: [Answer(301, headers={
        "Location": base.replace("127.0.0.1", "localhost") + a + "control"})])
    page("redirect-file", _redirect("file:///etc/passwd"))
    page("redirect-data", _redirect("data:text/html,<p>injected</p>", 302))
    page("meta-refresh-loop", _html(_page("Refresh", head=f'<meta http-equiv="refresh" content="0;'
                                          f' url={a}meta-refresh-loop">')))
    # -- feeds -------------------------------------------------------------------------------
    feed("billion-laughs", _feed(lambda base: _rss(base, [base + a + "control"], head=LAUGHS,
                                                   title="&lol9;")))
    feed("external-entity", _feed(lambda base: _rss(base, [base + a + "control"],
                                                    head=_xxe(base), title="&local;&remote;")))
    feed("gzip-bomb", _feed(lambda base: gzip_bomb(1024), headers={"Content-Encoding": "gzip"}))
    feed("deflate-bomb", _feed(lambda base: deflate_bomb(1024),
                               headers={"Content-Encoding": "deflate"}))
    feed("100k-items", _feed(lambda base: _short_rss(100_000)))
    feed("truncated", _feed(lambda base: _rss(base, [base + a + "control"] * 5)[:-200]))
    feed("html-not-xml", _feed(lambda base: _page("A page where a feed should be")))
    feed("empty", _feed(lambda base: b""))
    feed("nul-bytes", _feed(lambda base: _rss(base, [base + a + "control"]).replace(b"<item>",
                                                                                     b"\0<item>\0")))
    feed("hostile-links", _feed(lambda base: _rss(base, [
        "javascript:alert(1)", "file:///etc/passwd", "data:text/html,x", "//evil.example/a",
        "http://[::1", "mailto:a@b", "", " " * 300])))
    # -- sitemaps ----------------------------------------------------------------------------
    sitemap("index-self", lambda base: [Answer(200, _index(base, [f"{PREFIX}/sitemap/index-self.xml"]), XML)])
    sitemap("cycle-a", lambda base: [Answer(200, _index(base, [f"{PREFIX}/sitemap/cycle-b.xml"]), XML)])
    p.append(Case("sitemap-cycle-b", "hidden", f"{PREFIX}/sitemap/cycle-b.xml", lambda base: [
        Answer(200, _index(base, [f"{PREFIX}/sitemap/cycle-a.xml"]), XML)]))
    sitemap("gzip-file-bomb", lambda base: [Answer(200, gzip_bomb(1024), "application/gzip")],
            f"{PREFIX}/sitemap/gzip-file-bomb.xml.gz")
    sitemap("gzip-encoding-bomb", lambda base: [Answer(200, gzip_bomb(1024), XML,
                                                       headers={"Content-Encoding": "gzip"})])
    sitemap("gzip-corrupt", lambda base: [Answer(200, b"\x1f\x8b\x08\x00" + bytes(range(200)),
                                                 "application/gzip")],
            f"{PREFIX}/sitemap/gzip-corrupt.xml.gz")
    sitemap("billion-laughs", lambda base: [Answer(200, _urlset(base, [a + "control", "/&lol9;"],
                                                                head=LAUGHS.rstrip()), XML)])
    sitemap("external-entity", lambda base: [Answer(200, _urlset(
        base, [a + "control", "/x/&local;&remote;"], head=_xxe(base).rstrip()), XML)])
    sitemap("truncated", lambda base: [Answer(200, _urlset(base, [a + "control"] * 3)[:-30], XML)])
    sitemap("not-xml", lambda base: [Answer(200, b"\0\1\2 this is not xml", XML)])
    # -- HTTP faults -------------------------------------------------------------------------
    page("fault-timeout", _one(Answer(200, _page("Too slow"), action="slow", delay=30)))
    page("fault-never-answers", _one(Answer(action="hang")))
    page("fault-reset-mid-body", _one(Answer(200, _page("Reset midway"), action="reset")))
    page("fault-short-body", _one(Answer(200, _page("Shorter than announced"), action="short")))
    page("fault-429-retry-after", lambda base: [
        Answer(429, b"slow down", "text/plain", headers={"Retry-After": "2"}),
        Answer(200, _page("Retried after a 429 with Retry-After"))])
    page("fault-5xx-burst", lambda base: [Answer(503, b"busy", "text/plain"),
                                          Answer(502, b"bad gateway", "text/plain"),
                                          Answer(200, _page("Answered after two 5xx"))])
    page("fault-5xx-always", _one(Answer(500, b"broken", "text/plain")))
    return p


CASES: dict[str, Case] = {c.name: c for c in _cases()}
BY_PATH: dict[str, Case] = {c.path: c for c in CASES.values()}


FAULTS_FEED = f"{PREFIX}/faults.xml"


def is_fault(name: str) -> bool:
    return name.startswith("fault-")


def main_feed(base: str, *, faults: bool = False) -> bytes:
    """The feed that lists every page case but the HTTP faults (or only those)."""
    return _rss(base, [base + c.path for c in CASES.values()
                       if c.kind == "page" and is_fault(c.name) == faults])


@cache
def _answers(name: str, base: str) -> list[Answer]:
    return CASES[name].build(base)


def answer(path: str, base: str, hit: int) -> Answer | None:
    """The answer to the ``hit``-th request (1-based) of path, or None when it is no case."""
    if path in (f"{PREFIX}/feed.xml", FAULTS_FEED):
        return Answer(200, main_feed(base, faults=path == FAULTS_FEED),
                      "application/rss+xml; charset=utf-8")
    case = BY_PATH.get(path)
    if case is None:
        return None
    answers = _answers(case.name, base)
    return answers[min(hit, len(answers)) - 1]


def outlet_definition(base: str, *, faults: bool = False) -> str:
    """TOML of the ``hostile`` outlet: every feed and sitemap case is one of its sources (with
    faults, its one source is the feed of the HTTP faults)."""
    feeds = [f"{base}{PREFIX}/feed.xml"] + [base + c.path for c in CASES.values() if c.kind == "feed"]
    sitemaps = [base + c.path for c in CASES.values() if c.kind == "sitemap"]
    if faults:
        feeds, sitemaps = [base + FAULTS_FEED], []
    quoted = ", ".join

    return "\n".join([
        'id = "hostile"', 'name = "Hostile"', f'home = "{base}/"',
        'allowed_domains = ["127.0.0.1"]',
        f"article_pattern = '^https?://[^/]+{ARTICLE}[a-z0-9-]+$'", "",
        "[[editions]]", 'id = "en"', 'language = "en"',
        f"feeds = [{quoted(repr(u) for u in feeds)}]",
        f"sitemaps = [{quoted(repr(u) for u in sitemaps)}]", "",
        "[politeness]", "download_delay = 0.0", "concurrency = 16", "",
    ])
