"""The JSON API's response shapes, for its OpenAPI description: the record types themselves
(``SearchHit``, ``Article``, ``SavedSearch``) extended with what the API adds, so no field
list is written twice."""

from __future__ import annotations

from dataclasses import dataclass, field

from newsmon.watch import SavedSearch
from search.article import Article
from search.base import SearchHit


@dataclass
class Hit(SearchHit):
    highlighted: str = ""  # the snippet with matched terms as **term**
    link: str | None = None  # the source URL when it is http(s)


@dataclass
class SearchQuery:
    q: str
    outlet: list[str]
    language: list[str]
    date_from: str | None
    date_to: str | None
    sort: str
    page: int
    per_page: int
    all: bool
    cross: bool


@dataclass
class SearchPage:
    query: SearchQuery
    total: int  # stories (or articles with all=true) that match, counted up to a cap
    total_exact: bool  # false: at least `total` match (counting stops at 1,000)
    unit: str  # "stories" or "articles"
    page: int
    pages: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]  # outlet, language, day -> value -> articles


@dataclass
class Stats:
    articles: int
    by_outlet: dict[str, int]
    by_language: dict[str, int]
    by_day: dict[str, int]


@dataclass
class Member:
    id: str
    title: str
    outlet: str
    language: str
    published: str | None
    url: str
    translated_title: str = ""
    first_seen: str = ""
    earliest: bool = False


@dataclass
class Paragraph:
    original: str
    translation: str


@dataclass
class ArticlePage(Article):
    link: str | None = None
    paragraphs: list[Paragraph] = field(default_factory=list)  # original beside translation
    story: list[Member] = field(default_factory=list)  # the other articles of its story


@dataclass
class Report:
    """One article that carries a statement."""

    article_id: str
    kind: str  # direct | reported
    speaker_name: str  # the words that named the speaker in this article
    text: str  # as written in the article
    translation: str  # into the pivot language, when the article has one
    outlet: str
    language: str
    published: str | None
    url: str
    title: str
    first_report: bool
    link: str | None = None  # the source URL when it is http(s)


@dataclass
class Statement:
    id: str
    speaker: str  # actor id, or the name as written
    speaker_actor: str
    speaker_name: str
    kind: str  # of its first report
    text: str
    translation: str
    first_published: str | None
    outlets: list[str]
    languages: list[str]
    reports: list[Report]


@dataclass
class Response:
    """One speaker's statements about a story."""

    speaker: str
    name: str
    kind: str  # an actor's kind, or "unwatched"
    parent: str
    first_published: str | None
    actor: bool  # a watched actor (has an actor page)
    statements: list[Statement]


@dataclass
class Story:
    story_id: str
    earliest: str | None
    outlets: list[str]
    languages: list[str]
    articles: list[Member]
    responses: list[Response] = field(default_factory=list)  # officials first
    responses_note: str = ""  # why there are none to show, when it is not that nobody spoke


@dataclass
class ActorSummary:
    id: str
    kind: str
    name: str
    parent: str
    statements: int


@dataclass
class ActorPage:
    id: str
    kind: str
    name: str
    parent: str
    parent_name: str
    names: dict[str, list[str]]  # language -> names and aliases
    roles: dict[str, list[str]]  # language -> role phrases
    members: list[str]  # actors whose parent this is
    since: str | None
    outlets: list[str]
    languages: list[str]
    statements: list[Statement]  # oldest first


@dataclass
class Saved(SavedSearch):
    reported: int = 0
    last_run: str = ""
    undelivered: int = 0  # webhook alerts waiting for the next run
    created: str = ""
