"""Story assignment: link articles that report one event, and keep stories = linked groups.

Evidence for a link between two articles, strongest first:

1. the same text (fingerprint) as an indexed article: the store keeps them as one article;
2. a near copy in any language: MinHash of word shingles, candidates from the LSH buckets;
3. one event told in other words, in another language or the same one: rare names (keyed across
   scripts, schemes and inflection by ``pipelines.names``), numbers, dates and links shared
   within a short time, the same speaker quoted with them (``quotes``), and, where both have a
   text in the pivot language (their own or a finished translation), an overlap of content
   words.

A story is a connected group of links (``dedup_links``), so it does not depend on the order the
articles came in, once every link has been judged against the same index: ``assign`` links a new
article at once (what it knows then), ``settle`` re-judges every article not settled yet against
the whole index and re-groups the stories they touch (bounded: only those stories), which a crawl
does when it closes, ``dedup update`` after translations, and ``dedup rebuild`` for everything.
The oldest story of a group keeps its id; the others become aliases.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pipelines.dedup.actors import OrganisationFinder, organisation_finder
from pipelines.dedup.features import Features, article_features
from pipelines.dedup.options import DedupOptions
from pipelines.dedup.quotes import MIN_QUOTED_ALIKE, QuoteFinder, quote_finder, quoted
from pipelines.dedup.sketch import Sketcher, containment
from pipelines.dedup.text import run_shares
from pipelines.names import NameNormalizer
from search.article import Article
from search.dedup_index import Doc

logger = logging.getLogger(__name__)

_HOUR = 3600
_DAY = 86400
NEAR_KINDS = ("near", "contained")
EVIDENCE_KINDS = ("translation", "signals")


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


@dataclass
class SettleReport:
    docs: int = 0  # articles re-judged
    links: int = 0  # links they have now
    merged: int = 0  # stories folded into another
    split: int = 0  # stories that fell apart into several
    moved: int = 0  # stored articles whose story id changed
    absorbed: list[str] = field(default_factory=list)  # story ids that became aliases


@dataclass(frozen=True)
class Judgement:
    """What ``Deduplicator.judge`` saw of one pair (for the evaluation's margins)."""

    a: str
    b: str
    gap: int  # seconds between their publication
    overlap: float | None  # Jaccard of pivot-language content words, if both have them
    agreement: float  # weighted agreement of signals
    rare: float  # rare signals shared (a word of an n-word name counts 1/n)
    shared: tuple[float, ...] = ()  # weights of the shared signals
    quotes: float = 0.0  # what their shared statements added to the agreement (quotes.py)


@dataclass
class _Carriers:
    """Which near-copy groups carry each signal token in one article's time window."""

    groups: dict[str, frozenset[int] | None] = field(default_factory=dict)  # None: too common
    rows: dict[str, list] = field(default_factory=dict)


class Deduplicator:
    """Assigns story ids to articles, incrementally, against the index in the store's file."""

    bucket_limit = 200  # LSH neighbours verified per article, newest first
    postings_limit = 100  # a signal carried by more articles in the window is not rare
    cross_candidates = 25  # evidence candidates verified per article
    min_contained_shingles = 20  # containment is only trusted on texts at least this long
    min_size_ratio = 0.35  # ... whose shorter text is at least this share of the longer
    min_shared_signals = 2  # rare signals (>= rare_weight) any two linked articles share
    extra_weight = 0.25  # how much the longer article's unshared signals count
    rare_weight = 0.7  # a signal at least this rare (about 5 other groups carry it at most)

    def __init__(self, store, options: DedupOptions, names: NameNormalizer | None = None,
                 organisations: OrganisationFinder | None = None,
                 quotes: QuoteFinder | None = None, *, rebuilding: bool = False) -> None:
        self.store = store
        self.options = options
        self.names = names or NameNormalizer()
        self.organisations = organisations or organisation_finder(options.actor_dirs)
        self.quotes = quotes or quote_finder(options.actor_dirs)
        self.index = store.dedup_index()  # creates the tables (a script commits on its own)
        if not rebuilding:  # a rebuild is what replaces signatures made with other settings
            with store.transaction():
                self.index.check_params(options.signature_params())
        # LSH tuned 0.2 below the verification threshold: pairs at the threshold are found
        # with probability > 0.99 and the verification step decides.
        self.sketcher = Sketcher(options.num_perm, max(0.1, options.near_threshold - 0.2))
        self._prefix = "s"  # of new story ids: "s" + the founding article's id
        self.trace: list[Judgement] | None = None  # set to a list to record every judgement
        # work done, for the benchmark: LSH neighbours read, postings rows read, evidence
        # candidates judged, docs walked when re-grouping
        self.work: Counter = Counter()

    # -- public -----------------------------------------------------------------------------
    def features(self, article: Article) -> Features:
        return article_features(article, self.options, self.names, self.organisations,
                                self.quotes)

    def assign(self, article: Article, features: Features | None = None) -> Assignment:
        """Give ``article`` its story id (also sets ``article.story_id``) and index it.
        ``features``: computed elsewhere (a crawl computes them in its worker processes)."""
        if features is None:
            features = self.features(article)
        with self.store.transaction():
            assignment = self._assign(article, features, touch_articles=True)
        article.story_id = assignment.story_id
        return assignment

    def assign_many(self, articles: Iterable[Article]) -> list[Assignment]:
        """Assign a batch in one transaction: bulk loading (a crawl assigns one at a time)."""
        assignments = []
        with self.store.transaction():
            for article in articles:
                assignment = self._assign(article, self.features(article), touch_articles=True)
                article.story_id = assignment.story_id
                assignments.append(assignment)
        return assignments

    def resolve(self, any_id: str) -> str | None:
        return self.store.resolve_story(any_id)

    def settle(self, docs: Iterable[int] | None = None, *, touch_articles: bool = True
               ) -> SettleReport:
        """Re-judge the links of unsettled articles (or ``docs``) against the whole index, and
        re-group the stories they touch: what makes stories independent of arrival order."""
        with self.store.transaction():
            batch = list(docs) if docs is not None else self.index.unsettled_docs()
            return self._settle(batch, touch_articles=touch_articles)

    def update(self, progress: Callable[[int], None] | None = None) -> Counter:
        """Index stored articles the index lacks, and those whose pivot translation arrived;
        then settle them (so what a translation reveals merges stories)."""
        outcomes: Counter = Counter()
        for n, article in enumerate(self.store.articles_to_cluster(self.options.pivot), 1):
            assignment = self.assign(article)
            outcomes[assignment.outcome] += 1
            self._sync_article(article.id, assignment.story_id)
            if progress:
                progress(n)
        report = self.settle()
        if report.docs:
            outcomes["settled"] += report.docs
        return outcomes

    def rebuild(self, progress: Callable[[int], None] | None = None) -> RebuildReport:
        """Recompute every story from scratch, keeping the ids users have already seen.

        Every article is indexed first and then linked against the complete index, so the
        result does not depend on any order. Each rebuilt story then takes the earlier id most
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
            docs = []
            try:
                for n, article_id in enumerate(ids, 1):
                    article = self.store.get(article_id)
                    if article is None:
                        continue
                    twin = self.index.doc_with_text(article.text_sha256, article.id)
                    if twin is not None:
                        copies[article_id] = twin.article_id
                    else:
                        docs.append(self._index_doc(article, self.features(article)))
                    report.articles += 1
                    if progress:
                        progress(n)
                self._settle(docs, touch_articles=False)
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

    # -- assignment -------------------------------------------------------------------------
    def _assign(self, article: Article, features: Features, *, touch_articles: bool) -> Assignment:
        doc = self.index.doc_for_article(article.id)
        if doc is not None and doc.features_key == features.key:
            return Assignment(doc.story_id, "unchanged")
        if doc is None:
            exact = self._exact(article)
            if exact is not None:
                return exact
        doc_id = self._index_doc(article, features, doc)
        report = self._settle([doc_id], touch_articles=touch_articles, settled=False)
        new = self.index.docs([doc_id])[0]
        provisional = self._prefix + article.id
        if doc is None and provisional in report.absorbed:  # a story nobody has seen
            self.index.drop_alias(provisional)
        matches = [
            Match(other.article_id, other.story_id, kind, score)
            for other, (kind, score) in self._linked_docs(doc_id)
        ]
        outcome = "reindexed" if doc is not None else "new"
        merged = sorted(set(report.absorbed) - {provisional})
        if doc is None and matches:
            outcome = "merged" if merged else "joined"
        return Assignment(new.story_id, outcome, matches, merged)

    def _linked_docs(self, doc_id: int) -> list[tuple[Doc, tuple[str, float]]]:
        links = {other: (kind, score) for other, kind, score in self.index.links_of(doc_id)}
        return [(d, links[d.doc]) for d in self.index.docs(sorted(links))]

    def _index_doc(self, article: Article, features: Features, doc: Doc | None = None) -> int:
        """Write an article's signature, buckets and postings; a new one is its own story."""
        signature = self.sketcher.signature(features.shingles)
        pivot_signature = (
            self.sketcher.signature(features.pivot_terms) if features.pivot_terms else None
        )
        old_bands = self.sketcher.band_keys(Sketcher.loads(doc.signature)) if doc else []
        story = doc.story_id if doc is not None else self._prefix + article.id
        if doc is None:
            self.index.create_story(story, article.id)
        return self.index.save_doc(
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
            self.sketcher.band_keys(signature),
            old_bands,
            sorted(features.signals),
            sorted(_evidence(features.signals)),
        )

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

    # -- settling ---------------------------------------------------------------------------
    def _settle(self, batch: list[int], *, touch_articles: bool, settled: bool = True
                ) -> SettleReport:
        report = SettleReport(docs=len(batch))
        if not batch:
            return report
        before: dict[int, set[int]] = {}
        docs = {d.doc: d for d in self.index.docs(batch)}
        order = sorted(docs.values(), key=lambda d: (d.ts, d.article_id))
        for doc in order:  # near copies first: they decide what counts as one source
            before[doc.doc] = {other for other, _, _ in self.index.links_of(doc.doc)}
            self.index.replace_links(doc.doc, NEAR_KINDS, self._near(doc))
            self._join_copy_groups(doc.doc)
        carriers: set[int] = set()
        judged = self._judge_evidence(self.index.docs(batch), carriers)
        extra = self._stale_mates(batch, before, carriers) if settled else []
        judged.update(self._judge_evidence(self.index.docs(extra)))
        self._write_evidence(self.index.docs([*batch, *extra]), judged)
        lost = False
        touched: set[int] = set()
        for doc_id in batch:
            now = {other for other, _, _ in self.index.links_of(doc_id)}
            report.links += len(now)
            lost = lost or bool(before[doc_id] - now)
            touched |= now | {doc_id}
        for doc_id in extra:
            now = {other for other, _, _ in self.index.links_of(doc_id)}
            lost = lost or bool(before[doc_id] - now)
            touched |= now | {doc_id}
        self._regroup(touched, report, touch_articles=touch_articles,
                      full=lost or len(batch) > 1)
        if settled:
            self.index.mark_settled(batch)
        return report

    def _stale_mates(self, batch: list[int], before: dict[int, set[int]], carriers: set[int]
                     ) -> list[int]:
        """Settled articles whose evidence links the batch may have made stale: those that
        carry one of the batch's signals (each new carrier makes a signal less rare) and the
        members of the stories the batch links into. A settle re-judges them with the batch,
        so the links do not depend on which articles were indexed when they were judged.
        Bounded by the batch's time window, not by the size of the index."""
        linked = {other for doc_id in batch for other in before[doc_id]} - set(batch)
        stories = {d.story_id for d in self.index.docs(sorted(linked))}
        candidates = carriers | {row[0] for row in self.index.members(stories)}
        mates = []
        for doc_id in sorted(candidates - set(batch)):
            links = self.index.links_of(doc_id)
            if any(kind in EVIDENCE_KINDS for _, kind, _ in links):
                before[doc_id] = {other for other, _, _ in links}
                mates.append(doc_id)
        self.work["rejudged"] += len(mates)
        return mates

    def _judge_evidence(self, docs: list[Doc], carriers: set[int] | None = None
                        ) -> dict[int, list[tuple[int, str, float]]]:
        """The evidence links of each of ``docs``, judged from its side (``carriers`` collects
        the docs that share a signal with them)."""
        return {doc.doc: self._evidence(doc, carriers) for doc in docs}

    def _write_evidence(self, docs: list[Doc], judged: dict[int, list[tuple[int, str, float]]]
                        ) -> None:
        """Record the judged evidence links of ``docs``. A pair judged from both sides is
        linked when either side links it, with the higher score: the judgement depends on whose
        window counts rarity, and taking the two sides alike keeps the result independent of
        which of them arrived first."""
        order = sorted(docs, key=lambda d: (d.ts, d.article_id))
        position = {d.doc: n for n, d in enumerate(order)}
        pairs: dict[tuple[int, int], tuple[float, str]] = {}
        for doc in order:
            for other, kind, score in judged[doc.doc]:
                key = (min(doc.doc, other), max(doc.doc, other))
                pairs[key] = max(pairs.get(key, (score, kind)), (score, kind))
        owned: dict[int, list[tuple[int, str, float]]] = defaultdict(list)
        for (a, b), (score, kind) in pairs.items():
            # recorded with the member written last: replace_links forgets a doc's old links
            owner = max((a, b), key=lambda d: position.get(d, -1))
            owned[owner].append((b if owner == a else a, kind, score))
        for doc in order:
            self.index.replace_links(doc.doc, EVIDENCE_KINDS, owned[doc.doc])

    def _near(self, doc: Doc) -> list[tuple[int, str, float]]:
        """Near copies and contained copies of ``doc`` (any language): a pair-only judgement."""
        signature = Sketcher.loads(doc.signature)
        bands = self.sketcher.band_keys(signature)
        neighbours = [d for d in self.index.bucket_neighbours(bands, self.bucket_limit)
                      if d != doc.doc]
        self.work["neighbours"] += len(neighbours)
        links = []
        for other in self.index.docs(neighbours):
            jaccard = Sketcher.jaccard(signature, Sketcher.loads(other.signature))
            if jaccard >= self.options.near_threshold:
                links.append((other.doc, "near", jaccard))
                continue
            small, large = sorted((doc.shingles, other.shingles))
            if small < self.min_contained_shingles or small < self.min_size_ratio * large:
                continue
            contained = containment(jaccard, doc.shingles, other.shingles)
            if contained >= self.options.containment_threshold:
                links.append((other.doc, "contained", contained))
        return links

    def _join_copy_groups(self, doc_id: int) -> None:
        """Near copies form one group (named by its smallest doc): a signal carried by many
        copies of one text is as rare as if one article carried it."""
        linked = [other for other, _, _ in self.index.links_of(doc_id, NEAR_KINDS)]
        if not linked:
            return
        groups = {d.group for d in self.index.docs([doc_id, *linked])}
        target = min(groups)
        moves = {doc_id: target}
        for group in groups - {target}:
            for member in self.index.group_members(group):
                moves[member] = target
        self.index.set_copy_groups(moves)

    def _evidence(self, doc: Doc, carried: set[int] | None = None
                  ) -> list[tuple[int, str, float]]:
        """Articles within the window that share rare signals with ``doc``, judged pair by pair.

        With pivot-language texts on both sides, their content words must overlap
        (``cross_threshold``) *and* their rare signals agree (``cross_signals_min``); else, or
        when that fails, the signals alone must agree more (``signal_threshold``) within
        ``signal_window_hours``. Near copies of ``doc`` are linked already.
        """
        carriers = _Carriers()
        shared: dict[int, set[str]] = defaultdict(set)
        rows_ts: dict[int, int] = {}
        mine = _evidence_tokens(doc)
        share = run_shares(doc.signals)
        for token in mine:
            for row in self._postings(token, doc.ts, carriers):
                if carried is not None and carriers.groups.get(token) is not None:
                    carried.add(row["doc"])
                if row["grp"] != doc.group:
                    shared[row["doc"]].add(token)
                    rows_ts[row["doc"]] = row["ts"]

        def rank(other: int) -> tuple[float, int, int]:
            weight = math.fsum(_rarity(carriers, t, doc.group) for t in shared[other])
            return (-weight, abs(rows_ts[other] - doc.ts), other)

        def rare(other: int) -> float:  # at most what judge counts (doc's shares only)
            pair = (doc.group, groups[other])
            return math.fsum(share.get(t, 1.0) for t in shared[other]
                             if _rarity(carriers, t, *pair) >= self.rare_weight)

        groups = {row["doc"]: row["grp"] for rows in carriers.rows.values() for row in rows}
        eligible = [other for other in shared if rare(other) >= self.min_shared_signals - 1e-9]
        ranked = sorted(eligible, key=rank)[: self.cross_candidates]
        self.work["judged"] += len(ranked)
        links = []
        for other in self.index.docs(ranked):
            judged = self.judge(doc, other, carriers)
            if judged is not None:
                links.append((other.doc, *judged))
        return links

    def judge(self, doc: Doc, other: Doc, carriers: _Carriers | None = None
              ) -> tuple[str, float] | None:
        """Are two indexed articles one story by their evidence? (kind, score) or None."""
        options = self.options
        carriers = carriers if carriers is not None else _Carriers()
        gap = abs(other.ts - doc.ts)
        if gap > options.window_days * _DAY:
            return None
        agreement, rare, quotes = self.agreement(doc, other, carriers)
        overlap = None
        shared = tuple(sorted((_rarity(carriers, t, doc.group, other.group)
                               for t in _evidence_tokens(doc) & _evidence_tokens(other)),
                              reverse=True))
        if doc.pivot_signature is not None and other.pivot_signature is not None:
            overlap = Sketcher.jaccard(Sketcher.loads(doc.pivot_signature),
                                       Sketcher.loads(other.pivot_signature))
        if self.trace is not None:
            self.trace.append(Judgement(doc.article_id, other.article_id, gap, overlap,
                                        agreement, rare, shared, quotes))
        if rare < self.min_shared_signals - 1e-9:
            return None
        if (overlap is not None and overlap >= options.cross_threshold
                and agreement >= options.cross_signals_min):
            return ("translation", round(agreement, 4))
        if gap <= options.signal_window_hours * _HOUR and agreement >= options.signal_threshold:
            return ("signals", round(agreement, 4))
        return None

    def agreement(self, doc: Doc, other: Doc, carriers: _Carriers
                  ) -> tuple[float, float, float]:
        """Weighted overlap of two articles' signals, how many rare ones they share, and what
        their shared statements added to the overlap.

        A token's weight falls with the log of the near-copy groups other than these two's that
        carry it in ``doc``'s window (``_rarity``): a name only these two articles have weighs
        1, the region every article of the week names next to nothing. The shared weight is divided by the smaller
        article's total plus a quarter (``extra_weight``) of what the other adds: a retelling's own
        reporting counts against a match, but little.

        Statements (``q:`` tokens, ``quotes.py``): the shared signals that both articles quote
        one speaker with, when at least two of them are rare, count twice in the shared weight
        (the same person said the same numbers and names). They are not counted in the totals (they restate signals counted already: a
        statement the other article leaves out costs nothing) nor among the rare signals (a
        number and the statement it is in are not two independent pieces of evidence).
        """
        mine, theirs = _evidence_tokens(doc), _evidence_tokens(other)
        for token in mine | theirs:
            if token not in carriers.groups:
                self._postings(token, doc.ts, carriers)
        pair = (doc.group, other.group)
        weight = {t: _rarity(carriers, t, *pair) for t in mine | theirs}
        my_share, their_share = run_shares(doc.signals), run_shares(other.signals)
        both = mine & theirs
        share = {t: min(my_share.get(t, 1.0), their_share.get(t, 1.0)) for t in both}
        totals = sorted((math.fsum(weight[t] * my_share.get(t, 1.0) for t in mine),
                         math.fsum(weight[t] * their_share.get(t, 1.0) for t in theirs)))
        scale = totals[0] + self.extra_weight * (totals[1] - totals[0])
        if scale <= 0.0:
            return 0.0, 0.0, 0.0
        rare = math.fsum(share[t] for t in both if weight[t] >= self.rare_weight)
        alike = _quoted_alike(doc, other, share, weight, self.rare_weight)
        quotes = math.fsum(weight[t] * share[t] for t in alike)
        return min(1.0, math.fsum(weight[t] * share[t] for t in both) / scale + quotes / scale), \
            rare, quotes / scale

    def _postings(self, token: str, ts: int, carriers: _Carriers) -> list:
        """Postings of a token in the window; records which groups carry it there (None when
        more than ``postings_limit`` articles do: too common to say anything)."""
        if token in carriers.rows:
            return carriers.rows[token]
        rows = self.index.postings(token, ts, self.options.window_days, self.postings_limit)
        self.work["postings"] += len(rows)
        if len(rows) > self.postings_limit:
            carriers.groups[token] = None
            rows = []
        else:
            carriers.groups[token] = frozenset(row["grp"] for row in rows)
        carriers.rows[token] = rows
        return rows

    def _regroup(self, touched: set[int], report: SettleReport, *, touch_articles: bool,
                 full: bool) -> None:
        """Make the stories of ``touched`` docs the connected groups of their links.

        One new article (links only added): the stories it links merge, the oldest keeping
        its id. Otherwise the stories involved, and those linked to them, are re-grouped from
        their links: each group keeps the oldest of its members' story ids no older group took.
        """
        docs = {d.doc: d for d in self.index.docs(touched)}
        stories = {d.story_id for d in docs.values()}
        if not full:
            self._merge_stories(stories, report, touch_articles)
            return
        # closure: every doc of every story reachable by links from the touched ones
        members: dict[int, str] = {}
        frontier = set(stories)
        seen_stories: set[str] = set()
        while frontier:
            seen_stories |= frontier
            new_docs = [row for row in self.index.members(frontier) if row[0] not in members]
            frontier = set()
            for doc_id, _article, story, _ts in new_docs:
                members[doc_id] = story
            for doc_id, *_ in new_docs:
                for other, _, _ in self.index.links_of(doc_id):
                    if other not in members:
                        frontier |= {d.story_id for d in self.index.docs([other])}
            frontier -= seen_stories
        rows = {row[0]: row for row in self.index.members(seen_stories)}
        self.work["regrouped"] += len(rows)
        parent = {doc_id: doc_id for doc_id in rows}

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for doc_id in rows:
            for other, _, _ in self.index.links_of(doc_id):
                if other in parent:
                    a, b = find(doc_id), find(other)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
        groups: dict[int, list[int]] = defaultdict(list)
        for doc_id in rows:
            groups[find(doc_id)].append(doc_id)
        age = self.index.story_age(seen_stories)
        # groups in order of the oldest story among their members' current ones
        ordered = sorted(groups.values(), key=lambda g: (
            min(age.get(rows[d][2], 1 << 62) for d in g), min((rows[d][3], rows[d][1]) for d in g)))
        taken: set[str] = set()
        moves: dict[int, str] = {}
        for group in ordered:
            votes = Counter(rows[d][2] for d in group)
            own = sorted((s for s in votes if s not in taken),
                         key=lambda s: (age.get(s, 1 << 62), -votes[s], s))
            if own:
                story = own[0]
            else:
                founder = min(group, key=lambda d: (rows[d][3], rows[d][1]))
                story, suffix = self._prefix + rows[founder][1], 2
                # the founder may have founded the story an older group kept: another id
                while story in taken or self.index.story_age([story]):
                    story, suffix = f"{self._prefix}{rows[founder][1]}-{suffix}", suffix + 1
                self.index.create_story(story, rows[founder][1])
                report.split += 1
            taken.add(story)
            for d in group:
                if rows[d][2] != story:
                    moves[d] = story
        report.moved += self.index.move_docs(moves, touch_articles=touch_articles)
        for story in sorted(seen_stories - taken):  # emptied: alias to where most went
            went = Counter(moves[d] for d in rows if rows[d][2] == story and d in moves)
            if not went:  # no members (cannot happen through assign): nothing to point at
                continue
            target = min(went.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            self.index.alias(story, target)
            self.index.drop_story(story)
            report.merged += 1
            report.absorbed.append(story)

    def _merge_stories(self, stories: set[str], report: SettleReport, touch_articles: bool
                       ) -> None:
        live = self.index.story_order(stories)
        if len(live) > 1:
            report.moved += self.index.merge(live[0], live[1:], touch_articles=touch_articles)
            report.merged += len(live) - 1
            report.absorbed += live[1:]

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




def _quoted_alike(doc: Doc, other: Doc, share: dict[str, float], weight: dict[str, float],
                  rare_weight: float) -> set[str]:
    """The signals both articles quote one speaker with (``quotes.py``), for each speaker
    with at least ``MIN_QUOTED_ALIKE`` rare ones among them (``share``: what each shared
    signal counts as, 1/n for a word of an n-word name). One rare number in common, or the
    jail's number and the region, is what the same spokesman says about two events often
    enough."""
    mine, theirs = quoted(doc.signals), quoted(other.signals)
    alike: set[str] = set()
    for speaker in mine.keys() & theirs.keys():
        both = mine[speaker] & theirs[speaker] & share.keys()
        rare = math.fsum(share[t] for t in both if weight[t] >= rare_weight)
        if rare >= MIN_QUOTED_ALIKE - 1e-9:
            alike |= both
    return alike


def _evidence_tokens(doc: Doc) -> set[str]:
    return _evidence(doc.signals)


def _evidence(signals: Iterable[str]) -> set[str]:
    """The signals that are evidence on their own, and the only ones posted in the index
    (``r:`` tokens only say which names are one; ``q:`` tokens who said which of them)."""
    return {t for t in signals if not t.startswith(("r:", "q:"))}


def _rarity(carriers: _Carriers, token: str, *own_groups: int, limit: int = 100) -> float:
    """1 for a token no other group carries in the window, falling with the log of how many
    do, to 0 at ``limit`` (or when too common to have been counted)."""
    groups = carriers.groups.get(token)
    if groups is None:
        return 0.0
    others = len(groups - set(own_groups))
    return max(0.0, 1.0 - math.log1p(others) / math.log1p(limit))
