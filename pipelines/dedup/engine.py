"""Story assignment: match a new article against the story index and join, found or merge stories.

Three kinds of evidence, strongest first:

1. the same text (fingerprint) as an indexed article: the store keeps them as one article;
2. a near copy in any language: MinHash of word shingles, candidates from the LSH buckets;
3. another language: the two pivot-language texts (own text or finished translation) share
   enough content words, or, when a translation is missing, enough rare names, numbers,
   dates and links published within a short time of each other.

Near copies and translation matches may merge stories (the oldest story keeps its id; the
others become aliases). A signals-only match is weaker: it only lets an article join the
single best story, never merge two.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from datasketch import LeanMinHash

from pipelines.dedup.features import Features, article_features
from pipelines.dedup.options import DedupOptions
from pipelines.dedup.sketch import Sketcher, containment
from search.article import Article
from search.dedup_index import Doc

logger = logging.getLogger(__name__)

_HOUR = 3600
_DAY = 86400


@dataclass
class Match:
    article_id: str
    story_id: str
    kind: str  # exact | near | contained | translation | signals
    score: float


@dataclass
class Assignment:
    """The story an article belongs to, and why."""

    story_id: str
    outcome: str  # new | joined | merged | exact | unchanged | reindexed
    matches: list[Match] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)  # story ids folded into story_id


@dataclass
class RebuildReport:
    articles: int = 0
    stories: int = 0
    kept_ids: int = 0  # stories that kept an id users had seen before
    aliased_ids: int = 0  # earlier ids that now resolve to another story
    changed_articles: int = 0  # articles whose story id changed (marked for re-indexing)


class Deduplicator:
    """Assigns story ids to articles, incrementally, against the index in the store's file."""

    bucket_limit = 200  # LSH neighbours verified per article, newest first
    postings_limit = 40  # a signal carried by more articles in the window is not rare
    cross_candidates = 25  # cross-language candidates verified per article
    min_contained_shingles = 20  # containment is only trusted on texts at least this long
    min_size_ratio = 0.35  # ... whose shorter text is at least this share of the longer
    min_shared_signals = 3  # rare signals two languages must share without a translation

    def __init__(self, store, options: DedupOptions) -> None:
        self.store = store
        self.options = options
        self.index = store.dedup_index()  # creates the tables (a script commits on its own)
        with store.transaction():
            self.index.check_params(options.signature_params())
        # LSH tuned 0.2 below the verification threshold: pairs at the threshold are found
        # with probability > 0.99 and the verification step decides.
        self.sketcher = Sketcher(options.num_perm, max(0.1, options.near_threshold - 0.2))
        self._prefix = "s"  # of new story ids: "s" + the founding article's id

    # -- public -----------------------------------------------------------------------------
    def assign(self, article: Article) -> Assignment:
        """Give ``article`` its story id (also sets ``article.story_id``) and index it."""
        features = article_features(article, self.options)
        with self.store.transaction():
            assignment = self._assign(article, features, touch_articles=True)
        article.story_id = assignment.story_id
        return assignment

    def assign_many(self, articles: Iterable[Article]) -> list[Assignment]:
        """Assign a batch in one transaction: bulk loading (a crawl assigns one at a time)."""
        assignments = []
        with self.store.transaction():
            for article in articles:
                features = article_features(article, self.options)
                assignment = self._assign(article, features, touch_articles=True)
                article.story_id = assignment.story_id
                assignments.append(assignment)
        return assignments

    def resolve(self, any_id: str) -> str | None:
        return self.store.resolve_story(any_id)

    def update(self, progress: Callable[[int], None] | None = None) -> Counter:
        """Index stored articles the index lacks, and those whose pivot translation arrived."""
        outcomes: Counter = Counter()
        for n, article in enumerate(self.store.articles_to_cluster(self.options.pivot), 1):
            assignment = self.assign(article)
            outcomes[assignment.outcome] += 1
            self._sync_article(article.id, assignment.story_id)
            if progress:
                progress(n)
        return outcomes

    def rebuild(self, progress: Callable[[int], None] | None = None) -> RebuildReport:
        """Recompute every story from scratch, keeping the ids users have already seen.

        Articles are replayed oldest first. Each rebuilt story then takes the earlier id most
        of its members had (if no other story took it first); earlier ids that are not taken
        become aliases of the story most of their members went to.
        """
        report = RebuildReport()
        previous = self.store.story_ids()
        copies: dict[str, str] = {}  # article -> indexed article with the same text
        with self.store.transaction():
            self.index.clear()
            self.index.clear_stories()
            self.index.set_params(self.options.signature_params())
            ids = self.store.article_ids_oldest_first()
            self._prefix = "~"  # temporary names: they cannot collide with the ids users saw
            try:
                for n, article_id in enumerate(ids, 1):
                    article = self.store.get(article_id)
                    if article is None:
                        continue
                    features = article_features(article, self.options)
                    assignment = self._assign(article, features, touch_articles=False)
                    if assignment.outcome == "exact" and assignment.matches:
                        copies[article_id] = assignment.matches[0].article_id
                    report.articles += 1
                    if progress:
                        progress(n)
            finally:
                self._prefix = "s"
            self._name_stories(previous, report)
            story_of = self.index.story_of_docs()
            for article_id, twin in copies.items():
                story_of[article_id] = story_of.get(twin, "")
            for article_id, story in story_of.items():
                if story and previous.get(article_id) != story:
                    report.changed_articles += 1
                    self.store.set_story(article_id, story)
            report.stories = self.index.story_count()
        return report

    # -- matching ---------------------------------------------------------------------------
    def _assign(self, article: Article, features: Features, *, touch_articles: bool) -> Assignment:
        doc = self.index.doc_for_article(article.id)
        if doc is not None and doc.features_key == features.key:
            return Assignment(doc.story_id, "unchanged")
        if doc is None:
            exact = self._exact(article)
            if exact is not None:
                return exact
        signature = self.sketcher.signature(features.shingles)
        bands = self.sketcher.band_keys(signature)
        pivot_signature = (
            self.sketcher.signature(features.pivot_terms) if features.pivot_terms else None
        )
        own = doc.doc if doc is not None else None
        matches = self._near(article, features, signature, bands, own)
        matches += self._cross(article, features, pivot_signature, own)
        strong = {m.story_id for m in matches if m.kind != "signals"}
        weak = [m for m in matches if m.kind == "signals"]
        chosen = strong or ({max(weak, key=lambda m: m.score).story_id} if weak else set())
        if doc is not None:
            chosen.add(doc.story_id)
        live = self.index.story_order(chosen)
        merged: list[str] = []
        if not live:
            story = self._prefix + article.id
            self.index.create_story(story, article.id)
            outcome = "new"
        else:
            story, merged = live[0], live[1:]
            if merged:
                self.index.merge(story, merged, touch_articles=touch_articles)
                outcome = "merged"
            else:
                outcome = "reindexed" if doc is not None else "joined"
        old_bands = self.sketcher.band_keys(Sketcher.loads(doc.signature)) if doc else []
        self.index.save_doc(
            doc,
            {
                "article_id": article.id,
                "story_id": story,
                "language": article.language,
                "ts": features.ts,
                "text_sha256": article.text_sha256,
                "features_key": features.key,
                "shingles": len(features.shingles),
                "signature": Sketcher.dumps(signature),
                "pivot_terms": len(features.pivot_terms),
                "pivot_signature": Sketcher.dumps(pivot_signature) if pivot_signature else None,
            },
            bands,
            old_bands,
            sorted(features.signals),
        )
        return Assignment(story, outcome, matches, merged)

    def _exact(self, article: Article) -> Assignment | None:
        """Same text as an indexed or stored article: the store keeps both URLs on that one."""
        twin = self.index.doc_with_text(article.text_sha256, article.id)
        if twin is not None:
            return Assignment(
                twin.story_id, "exact", [Match(twin.article_id, twin.story_id, "exact", 1.0)]
            )
        stored = self.store.article_with_text(article.text_sha256, article.id)
        if stored is not None:
            twin_id, twin_story = stored
            story = self.store.resolve_story(twin_story) if twin_story else ""
            return Assignment(story or "", "exact", [Match(twin_id, story or "", "exact", 1.0)])
        return None

    def _near(
        self,
        article: Article,
        features: Features,
        signature: LeanMinHash,
        bands: list[tuple[int, int]],
        own: int | None,
    ) -> list[Match]:
        neighbours = [d for d in self.index.bucket_neighbours(bands, self.bucket_limit) if d != own]
        matches = []
        size = len(features.shingles)
        for doc in self.index.docs(neighbours):
            jaccard = Sketcher.jaccard(signature, Sketcher.loads(doc.signature))
            if jaccard >= self.options.near_threshold:
                matches.append(Match(doc.article_id, doc.story_id, "near", jaccard))
                continue
            small, large = sorted((size, doc.shingles))
            if small < self.min_contained_shingles or small < self.min_size_ratio * large:
                continue
            contained = containment(jaccard, size, doc.shingles)
            if contained >= self.options.containment_threshold:
                matches.append(Match(doc.article_id, doc.story_id, "contained", contained))
        return matches

    def _cross(
        self,
        article: Article,
        features: Features,
        pivot_signature: LeanMinHash | None,
        own: int | None,
    ) -> list[Match]:
        """Articles in other languages within the window that share rare signals, verified.

        With pivot-language texts on both sides, their content words must overlap
        (``cross_threshold``) *and* their rare signals must agree (``cross_signals_min``):
        two stories written from one template share most words but not names and numbers.
        Without, only the signals speak, and they must agree more (``signal_threshold``).
        """
        options = self.options
        carriers: dict[str, int | None] = {}  # token -> stories carrying it (None: too common)
        shared: dict[int, set[str]] = defaultdict(set)
        for token in features.signals:
            for row in self._postings(token, features.ts, carriers):
                if row["doc"] != own and row["language"] != article.language:
                    shared[row["doc"]].add(token)
        mine = features.signals
        ranked = sorted(shared, key=lambda d: (-_total(carriers, shared[d], mine), -d))
        matches = []
        for doc in self.index.docs(ranked[: self.cross_candidates]):
            gap = abs(doc.ts - features.ts)
            if pivot_signature is not None and doc.pivot_signature is not None:
                if gap > options.window_days * _DAY:
                    continue
                jaccard = Sketcher.jaccard(pivot_signature, Sketcher.loads(doc.pivot_signature))
                if jaccard < options.cross_threshold:
                    continue
                agreement = self._agreement(features, doc, carriers)
                if agreement >= options.cross_signals_min:
                    matches.append(Match(doc.article_id, doc.story_id, "translation", jaccard))
            elif gap <= options.signal_window_hours * _HOUR:
                rare = [t for t in shared[doc.doc] if carriers[t] is not None]
                if len(rare) < self.min_shared_signals:
                    continue
                agreement = self._agreement(features, doc, carriers)
                if agreement >= options.signal_threshold:
                    matches.append(Match(doc.article_id, doc.story_id, "signals", agreement))
        return matches

    def _postings(self, token: str, ts: int, carriers: dict[str, int | None]) -> list:
        """Postings of a token in the window; records how many stories carry it there
        (None when more than ``postings_limit`` articles do: too common to say anything)."""
        rows = self.index.postings(token, ts, self.options.window_days, self.postings_limit)
        if len(rows) > self.postings_limit:
            carriers[token] = None
            return []
        carriers[token] = len({row["story_id"] for row in rows})
        return rows

    def _agreement(self, features: Features, doc: Doc, carriers: dict[str, int | None]) -> float:
        """Weighted Dice of two articles' signals: rare names and numbers count, common ones
        little, and a rare one that only one side has counts against the match."""
        for token in doc.signals:
            if token not in carriers:
                self._postings(token, features.ts, carriers)
        mine, theirs = features.signals, set(doc.signals)
        smaller = min(_total(carriers, mine, mine), _total(carriers, theirs, mine))
        if smaller <= 0.0:
            return 0.0
        return _total(carriers, mine & theirs, mine) / smaller

    # -- rebuild helpers --------------------------------------------------------------------
    def _name_stories(self, previous: dict[str, str], report: RebuildReport) -> None:
        """Give the rebuilt (temporarily named) stories their final ids, and alias the rest."""
        members: dict[str, list[str]] = defaultdict(list)
        for article_id, story in self.index.story_of_docs().items():
            members[story].append(article_id)
        stories = self.index.story_ids()
        final: dict[str, str] = {}
        taken: set[str] = set()
        for story in stories:  # first the ids users have seen, by majority of members
            votes = Counter(previous[a] for a in members[story] if previous.get(a))
            for old, _ in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0])):
                if old not in taken:
                    final[story] = old
                    taken.add(old)
                    report.kept_ids += 1
                    break
        for story in stories:  # then new stories: "s" + founder, unless that id is taken
            if story not in final:
                name, suffix = "s" + story.lstrip("~"), 2
                while name in taken:
                    name, suffix = f"s{story.lstrip('~')}-{suffix}", suffix + 1
                final[story] = name
                taken.add(name)
        for story in stories:
            self.index.rename(story, final[story])
        self.index.drop_temporary_aliases()
        # an earlier id that is not a story any more resolves to where most members went
        votes_by_old: dict[str, Counter] = defaultdict(Counter)
        for story in stories:
            for article_id in members[story]:
                old = previous.get(article_id)
                if old and old not in taken:
                    votes_by_old[old][final[story]] += 1
        for old, votes in sorted(votes_by_old.items()):
            target = min(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            self.index.alias(old, target)
            report.aliased_ids += 1
        self.index.drop_dangling_aliases()

    def _sync_article(self, article_id: str, story: str) -> None:
        """Write a story id to a stored article (used when indexing from the store)."""
        if not story:
            return
        with self.store.transaction():
            self.store.set_story(article_id, story)


def _weight(carriers: dict[str, int | None], token: str, mine: set[str]) -> float:
    """Inverse story frequency in the window, the new article counted as a story of its own."""
    count = carriers.get(token)
    if count is None:
        return 0.0
    return 1.0 / max(1, count + (token in mine))


def _total(carriers: dict[str, int | None], tokens: set[str], mine: set[str]) -> float:
    """Sum of weights, exactly rounded: the same whatever order a set iterates in."""
    return math.fsum(_weight(carriers, t, mine) for t in tokens)
