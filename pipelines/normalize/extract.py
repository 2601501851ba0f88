"""Article extraction from decoded HTML: the page's own statements (JSON-LD, Open Graph) for
title, dates and authors, trafilatura for the text (and htmldate where no date is stated), and
outlet hints (CSS selectors) that win where given. See docs/extraction.md."""

from __future__ import annotations

import re
import unicodedata
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import unescape as html_unescape
from urllib.parse import urlsplit

import trafilatura
from lxml import html as lxml_html
from parsel import Selector
from trafilatura.metadata import extract_metadata
from trafilatura.settings import set_date_params

from crawler.urls import canonicalize, same_site
from pipelines.normalize.metadata import PageMeta, read_page_meta

_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{2,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # Unicode's Cc, less \t and \n


class NotAnArticle(Exception):
    """The page is not an article; ``reason`` names why (it becomes a stats counter)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass
class Extracted:
    title: str
    body: str
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    updated: str | None = None
    section: str = ""
    tags: list[str] = field(default_factory=list)
    canonical_url: str = ""
    declared_language: str = ""
    sources: dict[str, str] = field(default_factory=dict)  # field -> what it was taken from


def clean_text(text: str) -> str:
    """NFC, single spaces, paragraphs separated by one blank line, no stray control characters."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n\n".join(line for line in lines if line)).strip()


def to_utc(value: str | None) -> str | None:
    """ISO-8601 in UTC with a Z, from any ISO-like string; None when it cannot be read."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # no zone given: assume UTC, documented
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_PUBLISHED_XPATHS = (
    "//meta[@property='article:published_time']/@content",
    "//meta[@itemprop='datePublished']/@content",
    "//meta[@name='pubdate' or @name='publish-date' or @name='date']/@content",
    "//*[@itemprop='datePublished']/@datetime",
    "//article//time/@datetime",
)
_UPDATED_XPATHS = (
    "//meta[@property='article:modified_time']/@content",
    "//meta[@property='og:updated_time']/@content",
    "//meta[@itemprop='dateModified']/@content",
    "//*[@itemprop='dateModified']/@datetime",
)


def _first_time(selector: Selector, xpaths: tuple[str, ...]) -> str | None:
    for xpath in xpaths:
        for value in selector.xpath(xpath).getall():
            moment = to_utc(value)
            if moment:
                return moment
    return None


def _dates(selector: Selector, meta: PageMeta, doc: TrafilaturaMeta
           ) -> tuple[str | None, str | None, str]:
    """Published and updated times in UTC and where the published one came from: the page's
    own statements first (they carry the time of day and the zone), then htmldate's extensive
    search (trafilatura's metadata), which may only find a day."""
    published, source = to_utc(meta.published), "json-ld"
    if not published:
        published, source = _first_time(selector, _PUBLISHED_XPATHS), "meta"
    if not published:
        published, source = to_utc(doc.get("date")), "htmldate"
    updated = to_utc(meta.modified) or _first_time(selector, _UPDATED_XPATHS)
    return published, (updated if updated and updated != published else None), source if published else ""


def _declared_language(selector: Selector, content_language: str | None, meta: PageMeta) -> str:
    for value in (
        selector.xpath("/html/@lang").get(),
        meta.in_language,
        selector.xpath("//meta[@http-equiv='content-language']/@content").get(),
        selector.xpath("//meta[@property='og:locale']/@content").get(),
        content_language,
    ):
        if value:
            return value.strip().split(",")[0].replace("_", "-").split("-")[0].lower()
    return ""


def _canonical(selector: Selector, page_url: str) -> str:
    """rel=canonical, else og:url, when on the page's own site; else the page URL itself.

    A canonical on another site is ignored: a copy must not claim the original's identity.
    """
    for candidate in (
        selector.xpath("//link[@rel='canonical']/@href").get(),
        selector.xpath("//meta[@property='og:url']/@content").get(),
    ):
        if candidate:
            url = canonicalize(candidate, base=page_url)
            saved_file = page_url.startswith("file:")  # no site to check against: trust it
            if url.startswith(("http://", "https://")) and (saved_file or same_site(url, page_url)):
                return url
    return canonicalize(page_url)


def link_density(tree: lxml_html.HtmlElement) -> float:
    """Share of the main content's text that sits inside links: high on index pages."""
    main = tree.xpath("//main | //*[@role='main'] | //article")
    body = tree.find("body")
    root = main[0] if main else body if body is not None else tree
    total = word_count(" ".join(root.itertext()))
    linked = sum(word_count(" ".join(a.itertext())) for a in root.iter("a"))
    return linked / total if total else 1.0


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def word_count(text: str) -> int:
    """Words of a text; Chinese and Japanese have no spaces, so two characters count as one."""
    cjk = len(_CJK.findall(text))
    return len(_CJK.sub(" ", text).split()) + cjk // 2


def _hint(selector: Selector, css: str | None, *, many: bool = False) -> list[str]:
    if not css:
        return []
    values = selector.css(css).getall()
    texts = []
    for value in values:
        text = clean_text(Selector(text=value).xpath("string()").get() if value.lstrip().startswith("<") else value)
        if text:
            texts.append(text)
    return texts if many else texts[:1]


def _split_authors(value: str | None) -> list[str]:
    if not value:
        return []
    return [a.strip() for a in re.split(r";|,| and | и | og ", value) if a.strip()]


_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—•·:*]\s+|\s*[｜：]\s*")


def _squash(text: str) -> str:
    """Letters and digits only, case and accents folded: 'Seznam Zprávy' ~ 'seznamzpravy.cz'."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return re.sub(r"\W", "", "".join(c for c in folded if not unicodedata.combining(c)))


def _names_site(part: str, site: str, host: str) -> bool:
    """Whether a part of a title names the site: its og:site_name, or (part of) its host name
    without the top-level domain, both squashed."""
    part = _squash(part)
    return len(part) >= 3 and (part == site or part in host or bool(site) and site in part)


def _strip_site_name(title: str, site_name: str, url: str) -> str:
    """'Headline | Site' -> 'Headline' when the cut part names the site (og:site_name or host);
    also 'Headline | Site | by Someone', where every part after the site's is short."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    site, squashed_host = _squash(site_name), _squash(host.rsplit(".", 1)[0]) if "." in host else ""
    cuts = list(_TITLE_SEPARATORS.finditer(title))
    for index, cut in enumerate(cuts):
        end = cuts[index + 1].start() if index + 1 < len(cuts) else len(title)
        rest = [title[c.end():cuts[i + 1].start() if i + 1 < len(cuts) else len(title)]
                for i, c in enumerate(cuts) if i > index]
        if _names_site(title[cut.end():end], site, squashed_host) and all(
                len(part.split()) <= 4 for part in rest):
            headline = title[:cut.start()].rstrip(" |-–—•·:*｜：")
            return headline if headline else title
    return title


def _one_line(text: str) -> str:
    return " ".join(clean_text(html_unescape(text)).split())


# An HTML entity in a JSON string: JSON needs none, so the text went through an HTML filter
# (WordPress turns ' into &#8217;, quotes into &quot;) on its way into the JSON-LD.
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+\d*);", re.IGNORECASE)
# where a kicker ends: "Kicker: Headline", "Kicker - Headline", "Kicker / Headline"
_KICKER_CUT = re.compile(r"\s+[|\-–—•·/]\s+|:\s+|\s*[｜：]\s*")


def _after_cut(title: str, tail: str) -> bool:
    """Whether ``tail`` is what follows one of the title's kicker cuts."""
    return any(title[cut.end():].casefold() == tail.casefold() for cut in _KICKER_CUT.finditer(title))


def _shared_headline(title: str, heading: str) -> str:
    """The headline that a statement and the page's <h1> share after two different kickers
    ("Angriff auf Israel: «…»" and "Eskalation in Nahost - «…»" give "«…»"): their longest
    common end, when it starts right after a kicker's cut in both; else ''."""
    mine, theirs = title.casefold(), heading.casefold()
    size = 0
    while size < min(len(mine), len(theirs)) and mine[-1 - size] == theirs[-1 - size]:
        size += 1
    shared = title[len(title) - size:].strip()
    if word_count(shared) >= 4 and _after_cut(title, shared) and _after_cut(heading, shared):
        return shared
    return ""


def _title(selector: Selector, hints: dict[str, str], meta: PageMeta, doc: TrafilaturaMeta, url: str
           ) -> tuple[str, str]:
    """The headline and its source: an outlet hint, else the page's own statements in the order
    that matched the real pages best (JSON-LD headline, og:title, <title>), the site's name cut
    off; trafilatura's guess (which may be an <h1>) last. og:title goes first where the JSON-LD
    headline says the same words through an HTML filter (entities in JSON: quotes, dashes and
    apostrophes changed on the way)."""
    hinted = (_hint(selector, hints.get("title")) or [""])[0]
    if hinted:
        return _one_line(hinted), "hint"
    headings = [_one_line(h) for h in selector.xpath("//h1").xpath("string()").getall()]
    statements = [(meta.headline, "json-ld"), (meta.og_title, "og")]
    if _ENTITY.search(meta.headline) and meta.og_title and _squash(html_unescape(meta.headline)) == _squash(
            _strip_site_name(_one_line(meta.og_title), meta.site_name, url)):
        statements.reverse()
    for value, source in (
        *statements,
        (selector.xpath("//title/text()").get() or "", "html-title"),
        (None, "trafilatura"),
    ):
        if value is None:  # asked for last: trafilatura's metadata costs a pass over the page
            value = doc.get("title") or ""
        title = _strip_site_name(_one_line(value), meta.site_name, url)
        for heading in headings:  # 'Headline - Anything' where the page's <h1> is 'Headline'
            rest = title[len(heading):] if heading and title.startswith(heading) else ""
            if _TITLE_SEPARATORS.match(rest) and len(_TITLE_SEPARATORS.split(rest)) == 2:
                return heading, f"{source}+h1"
        for heading in headings[:1]:
            shared = _shared_headline(title, heading)
            if shared:
                return shared, f"{source}+h1-shared"
        if title:
            return title, source
    return "", ""


def _authors(selector: Selector, hints: dict[str, str], meta: PageMeta, doc: TrafilaturaMeta
             ) -> tuple[list[str], str]:
    """Author names and their source: an outlet hint, JSON-LD, <meta>, then the byline that
    trafilatura finds; e-mail addresses are not names."""
    for value, source in (
        (_hint(selector, hints.get("author"), many=True), "hint"),
        (meta.authors, "json-ld"),
        (meta.meta_authors, "meta"),
        (None, "trafilatura"),
    ):
        if value is None:
            value = _split_authors(doc.get("author"))
        names = [clean_text(html_unescape(n)) for n in value if clean_text(n) and "@" not in n]
        if names:
            return list(dict.fromkeys(names)), source
    return [], ""


# Embedded posts from social networks are quotes of other sources, not the article's text.
_NOT_THE_ARTICLE = [
    ("//blockquote[contains(@class,'twitter-tweet') or contains(@class,'instagram-media')"
     " or contains(@class,'tiktok-embed')]"),
]


# htmldate's extensive search, keeping the time and zone where the page gives them
_DATE_FORMAT = {"outputformat": "%Y-%m-%dT%H:%M:%S%z"}


def _linked_share(element: lxml_html.HtmlElement) -> tuple[int, float]:
    """(words, share of the text inside links) of an element; the share is counted in letters."""
    text = element.text_content()
    letters = len("".join(text.split()))  # indentation between list items is not text
    if not letters:
        return 0, 0.0
    linked = sum(len("".join(a.text_content().split())) for a in element.iter("a"))
    return word_count(text), min(1.0, linked / letters)


def _bold_label(paragraph: lxml_html.HtmlElement) -> bool:
    """Whether all of a paragraph's text outside its links is set in bold: a label before a
    link ("<b>ALSO READ |</b> <a>other story</a>")."""
    outside = "".join(paragraph.xpath(".//text()[not(ancestor::a or ancestor::b or ancestor::strong)]"))
    return bool(paragraph.xpath(".//a")) and not re.sub(r"[\W_]+", "", outside)


_LABELS = {"h2", "h3", "h4", "h5", "h6", "p", "div", "span", "strong", "b"}


def prune_link_blocks(tree: lxml_html.HtmlElement) -> int:
    """Remove "read also" blocks: lists, sections and figures made of links (teasers of other
    stories), and short paragraphs that are one link with at most a label ("READ MORE: <a>other
    story</a>"). Returns how many were removed."""
    removed = 0
    for element in tree.xpath("//ul | //ol | //p | //body//section | //body//figure"):
        if element.getparent() is None:
            continue
        words, share = _linked_share(element)
        short_link = element.tag == "p" and words <= 25 and (
            share >= 0.7 or share >= 0.3 and _bold_label(element))
        link_list = element.tag != "p" and words >= 3 and share >= 0.6
        if short_link or link_list:
            label = element.getprevious()  # the block's title: "Related", "■関連記事", "Tags:"
            if (link_list and label is not None and label.tag in _LABELS
                    and not (label.tail or "").strip() and word_count(label.text_content()) <= 8):
                label.drop_tree()
            element.drop_tree()
            removed += 1
    return removed


def _wholly_italic(paragraph: lxml_html.HtmlElement) -> bool:
    """Whether all of a paragraph's text is set in italics (<em>/<i>, maybe inside a link or
    <b>): "<em>Our newsletter …</em><a><em>Sign up here</em></a>"."""
    if paragraph.find(".//em") is None and paragraph.find(".//i") is None:
        return False
    return not "".join(paragraph.xpath(".//text()[not(ancestor::em or ancestor::i)]")).strip()


def prune_trailing_notes(tree: lxml_html.HtmlElement) -> int:
    """Remove the italic notes that close an article: "with files from", "this article first
    appeared in", newsletter plugs. A short paragraph set wholly in italics counts as such a note
    only when no paragraph of ordinary text follows it. Returns how many were removed."""
    notes = {p for p in tree.xpath("//body//p") if _wholly_italic(p) and word_count(p.text_content()) < 60}
    removed = 0
    for note in notes:
        if all(p in notes or word_count(p.text_content()) < 15 for p in note.itersiblings("p")):
            note.drop_tree()
            removed += 1
    return removed


# Class and id words that mark a box beside the story inside the article: fact boxes, links to
# related stories, newsletter, sign-up and donation prompts, disclaimers, picture captions and
# credits, copyright lines, author bios, dates and kickers over the headline,
# modal dialogs ("this feature is for subscribers"). Matched on word starts,
# so "infobox" and "c-infobox__text" match but "contentinfo" does not. Not "paywall", "teaser" or
# "subscriber": on real pages those words also wrap the story's own text.
_ASIDE_WORDS = ("info-?box", "fact-?box", "fakten", "related", "newsletter", "promo", "recommend",
                "signup", "donat", "disclaimer", "caption", "credit", "img-desc", "image-desc",
                "copyright", "bio", "date", "kicker", "modal")
_ASIDE_MARK = re.compile(rf"(?:^|[\s_-])(?:{'|'.join(_ASIDE_WORDS)})", re.IGNORECASE)


def _visible_length(element: lxml_html.HtmlElement) -> int:
    """Length of an element's text, less that of its scripts and styles."""
    hidden = sum(len(s.text_content()) for s in element.iter("script", "style"))
    return len(element.text_content()) - hidden


def prune_asides(tree: lxml_html.HtmlElement) -> int:
    """Remove boxes that the page marks as beside the story (``<aside>``, or a class/id word
    such as infobox, related, newsletter, caption), unless the box holds a fifth of the page's
    visible text or the headline: then the word names a wrapper of the article itself. Returns
    how many were removed."""
    root = tree.getroottree().getroot()
    body = tree.find("body")
    total = _visible_length(body if body is not None else tree)
    removed = 0
    # attribute values first: making an element object for each element of the page costs more
    values = tree.xpath("//body//@class | //body//@id")
    marks = {value for value in set(values) if _ASIDE_MARK.search(value)}  # pages repeat classes
    marked = [value.getparent() for value in values if value in marks]
    for element in dict.fromkeys([*marked, *tree.xpath("//body//aside")]):
        if element.tag in ("body", "article", "main", "h1"):
            continue
        if element.getroottree().getroot() is not root:  # inside a box removed already
            continue
        if element.find(".//h1") is not None or _visible_length(element) > 0.2 * total:
            continue
        element.drop_tree()
        removed += 1
    return removed


def _small_image(image: lxml_html.HtmlElement) -> bool:
    """An icon, an emoji or a tracking pixel: sized under 100 pixels, or named so by its class."""
    sizes = [image.get("width", ""), image.get("height", "")]
    if any(size.isdigit() and int(size) < 100 for size in sizes):
        return True
    return bool(re.search(r"emoji|icon|logo|avatar", image.get("class", ""), re.IGNORECASE))


def prune_picture_captions(tree: lxml_html.HtmlElement, max_words: int = 40) -> int:
    """Remove the caption and credit that sit in one box with a picture ("<p><img><br><em>The
    minister on Monday</em></p>", a picture widget with a caption and an "Image: …" line) where
    the page does not say so with <figure> or a class word: the nearest block around a picture
    that holds text at all, when that text is short. Returns how many were removed."""
    root = tree.getroottree().getroot()
    removed = 0
    for image in tree.xpath("//body//img"):
        if image.getroottree().getroot() is not root or _small_image(image):
            continue
        box = image.getparent()
        for _ in range(4):  # up through the wrappers that hold only the picture
            if box is None or box.tag in ("body", "article", "main") or box.text_content().strip():
                break
            box = box.getparent()
        if (box is None or box.getparent() is None
                or box.tag in ("body", "article", "main", "h1", "a", "figure", "figcaption")
                or not box.text_content().strip() or box.find(".//h1") is not None):
            continue
        if word_count(box.text_content()) <= max_words:
            box.drop_tree()
            removed += 1
    return removed


class TrafilaturaMeta:
    """trafilatura's metadata (bylines, htmldate's extensive date search, tags), computed only
    when the page's own statements leave a field empty: it costs a pass over the page."""

    def __init__(self, tree: lxml_html.HtmlElement, url: str) -> None:
        self._tree, self._url, self._values = tree, url, None

    def get(self, key: str) -> str | None:
        if self._values is None:
            dates = {**set_date_params(extensive=True), **_DATE_FORMAT}
            document = extract_metadata(self._tree, self._url, date_config=dates)
            self._values = document.as_dict()
        return self._values.get(key)


def _body_text(tree: lxml_html.HtmlElement, url: str) -> str:
    """Main text: trafilatura's default mode, tables kept, link blocks and embeds removed."""
    tree = deepcopy(tree)
    prune_asides(tree)
    prune_picture_captions(tree)
    prune_trailing_notes(tree)
    prune_link_blocks(tree)
    result = trafilatura.bare_extraction(
        tree, url=url, include_comments=False, include_tables=True,
        deduplicate=False, prune_xpath=_NOT_THE_ARTICLE,
    )
    return clean_text(result.text or "") if result is not None else ""


def _recall_text(tree: lxml_html.HtmlElement, url: str) -> str:
    result = trafilatura.bare_extraction(
        deepcopy(tree), url=url, include_comments=False, include_tables=True, favor_recall=True,
        deduplicate=False, prune_xpath=_NOT_THE_ARTICLE,
    )
    return clean_text(result.text or "") if result is not None else ""


_BLOCKS = {"p", "div", "h2", "span", "header"}
_NOT_SHOWN = ("ancestor-or-self::*[self::figure or self::figcaption or self::aside or self::nav"
              " or self::footer or self::a or contains(@class, 'caption')]"
              " or .//figure or .//figcaption or .//img or .//picture")


def _shown_elements(tree: lxml_html.HtmlElement, probe: str) -> list[lxml_html.HtmlElement]:
    """The blocks around each text on the page that contains ``probe``, where the block is not
    (and holds no) picture, caption, link, navigation or aside."""
    blocks = []
    word = max(probe.split(), key=len)  # a cheap test first: XPath stops at the first false
    for text in tree.xpath("//body//text()[contains(., $word)][not(parent::script or parent::style)]"
                           "[contains(normalize-space(translate(., '\u00a0', ' ')), $probe)]",
                           word=word, probe=probe):
        element = text.getparent()
        if text.is_tail:
            element = element.getparent()
        while element is not None and element.tag not in _BLOCKS:
            element = element.getparent()
        if element is not None and not element.xpath(_NOT_SHOWN):
            blocks.append(element)
    return blocks


# class words of a standfirst: "article-lead", "intro__text", "excerpt", "article__preamble"
_LEAD_MARK = re.compile(r"(?:^|[\s_-])(?:lead|intro|standfirst|excerpt|preamble|synopsis|summary"
                        r"|dek|subhead|abstract)(?=$|[\s_-])", re.IGNORECASE)


def _marked_lead(tree: lxml_html.HtmlElement, body: str) -> str:
    """The block that the page marks as its standfirst by a class word, between the headline
    (<h1>) and the start of the body's text, when it is not in the body yet and reads as a
    paragraph (8 to 120 words, no picture, not a link)."""
    words = body.split("\n\n", 1)[0].split()
    start = _shown_elements(tree, " ".join(words[:6])) if len(words) >= 6 else []
    if not start:
        return ""
    end = start[0].xpath("count(preceding::*)")
    folded = " ".join(body.split()).casefold()
    values = tree.xpath("//body//@class")
    marks = {value for value in set(values) if _LEAD_MARK.search(value)}
    for value in values:
        if value not in marks:
            continue
        element = value.getparent()
        text = " ".join(element.text_content().split())
        if not 8 <= word_count(text) <= 120:  # the cheap test first: the others walk the page
            continue
        if element.xpath("count(preceding::*)") >= end or not element.xpath("boolean(preceding::h1)"):
            continue
        if not element.xpath(_NOT_SHOWN):
            return "" if text.casefold() in folded else clean_text(text)
    return ""


def _lead(tree: lxml_html.HtmlElement, meta: PageMeta, body: str) -> str:
    """The standfirst, when the extractor left it out: the block of text that the page shows
    near its summary (JSON-LD or meta description), not as a picture's caption or a link.
    Summaries are often the standfirst cut short, or with a label before it, or the standfirst
    and the next lines run together, so the shown block is found by a run of the summary's
    words and kept when one of the two holds the other."""
    folded = " ".join(body.split()).casefold()
    for description in meta.descriptions:
        words = html_unescape(description).split()
        if len(words) < 8:
            continue
        summary = " ".join(words).rstrip(" .…").casefold()
        blocks = [" ".join(e.text_content().split()) for e in _shown_elements(tree, " ".join(words[2:6]))]
        if not blocks:
            continue
        block = min(blocks, key=len)
        if (word_count(block) >= 8 and block.casefold() not in folded
                and (block.casefold() in summary or summary in block.casefold())
                and word_count(block) <= 2 * len(words) + 10):
            return clean_text(block)
    return ""


_NOTICE = re.compile(r"(?:©|\(c\)|copyright\b)", re.IGNORECASE)  # "© dpa-infocom", "Copyright © AFP"
# a time of day or a date in digits: "17:41", "15.59", "2024-10-13", "13.10.2024", "1月14日"
_WHEN = re.compile(r"\d{1,2}[:.]\d{2}|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}"
                   r"|\d{1,4}\s*[年月日時分]")


def _is_furniture(paragraph: str) -> bool:
    """A copyright line, or a dateline: a date or time with at most three words around it
    ("Uppdaterad 15.59 | Publicerad 14.14", "17:41 JST, October 13, 2024")."""
    if _NOTICE.match(paragraph):
        return word_count(paragraph) < 40
    rest = _WHEN.sub(" ", paragraph)
    return rest != paragraph and word_count(re.sub(r"[\d\W_]+", " ", rest)) <= 3


def _without_furniture(body: str, headlines: list[str]) -> str:
    """The body less its lines that are not the story's text: the page's headlines (its title,
    og:title, JSON-LD headline, <h1>s) repeated in it (the title atop the text, a teaser of
    the same story), copyright lines and datelines."""
    folded = {" ".join(h.split()).casefold() for h in headlines if word_count(h) >= 3}
    kept = [p for p in body.split("\n\n")
            if " ".join(p.split()).casefold() not in folded and not _is_furniture(p.lstrip("- "))]
    return "\n\n".join(kept) if kept else body


def extract_article(
    html: str,
    url: str,
    *,
    hints: dict[str, str] | None = None,
    content_language: str | None = None,
    min_words: int = 60,
    max_link_density: float = 0.5,
) -> Extracted:
    """Extract one article or raise NotAnArticle(reason)."""
    hints = hints or {}
    try:
        tree = lxml_html.fromstring(html)
    except (ValueError, lxml_html.etree.ParserError) as exc:
        raise NotAnArticle("unparsable-html", str(exc)) from None
    selector = Selector(root=tree, type="html")
    meta = read_page_meta(tree)
    sources: dict[str, str] = {}
    doc = TrafilaturaMeta(tree, url)
    body_parts = _hint(selector, hints.get("body"), many=True)
    if body_parts:
        body, sources["body"] = clean_text("\n\n".join(body_parts)), "hint"
    else:
        body, sources["body"] = _body_text(tree, url), "trafilatura"
        if word_count(body) < min_words:  # little found: the recall mode and JSON-LD may do better
            body, sources["body"] = max(
                (body, "trafilatura"), (_recall_text(tree, url), "trafilatura-recall"),
                (clean_text(meta.article_body), "json-ld"), key=lambda found: word_count(found[0]))
    title, sources["title"] = _title(selector, hints, meta, doc, url)
    lead = _lead(tree, meta, body) if body and sources["body"] != "hint" else ""
    if not lead and body and sources["body"] != "hint":
        lead = _marked_lead(tree, body)
    if lead:
        body, sources["body"] = f"{lead}\n\n{body}", sources["body"] + "+lead"
    headlines = [title, meta.headline, meta.og_title,
                 *(h.text_content() for h in tree.iter("h1"))]
    body = _without_furniture(body, [html_unescape(h) for h in headlines])
    if not body:
        raise NotAnArticle("no-text")
    words = word_count(body)
    if words < min_words:
        density = link_density(tree)
        links = sum(1 for _ in tree.iter("a"))
        # little text but a list of links: a section front or an archive, not a stub
        reason = "index-page" if density > max_link_density or links >= 12 else "too-short"
        raise NotAnArticle(reason, f"{words} words, {links} links, link density {density:.2f}")
    if words < 250 and not meta.says_article:  # short enough to be the blurbs of a headline list
        density = link_density(tree)
        if density > max_link_density:
            raise NotAnArticle("index-page", f"link density {density:.2f}")
    published, updated, sources["published"] = _dates(selector, meta, doc)
    if hints.get("published"):
        published = to_utc((_hint(selector, hints["published"]) or [None])[0]) or published
        sources["published"] = "hint"
    if hints.get("updated"):
        updated = to_utc((_hint(selector, hints["updated"]) or [None])[0]) or updated
    authors, sources["authors"] = _authors(selector, hints, meta, doc)
    section = selector.xpath("//meta[@property='article:section']/@content").get() or meta.section
    tags = selector.xpath("//meta[@property='article:tag']/@content").getall() or meta.keywords
    return Extracted(
        title=title,
        body=body,
        authors=list(dict.fromkeys(authors)),
        published=published,
        updated=updated,
        section=clean_text(section),
        tags=list(dict.fromkeys(clean_text(t) for t in tags if t.strip())),
        canonical_url=_canonical(selector, url),
        declared_language=_declared_language(selector, content_language, meta),
        sources=sources,
    )
