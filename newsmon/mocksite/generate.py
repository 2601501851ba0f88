"""Synthetic articles for benchmarks: article number n -> one deterministic article, on demand.

Nothing is stored: the path, date, title and text of article n are all derived from n (the
random generator is seeded with "<site>:<n>"), so a server can serve 100,000 of them without
holding any in memory, and every run serves the same articles.

The text is 300-800 words drawn from the vocabulary of the site's own hand-written articles,
weighted by how often each word occurs there: it reads like word salad, but in the right
language (ru/en for kolokol, nb for fjordposten) with realistic function-word frequencies, so
language detection, tokenisation and indexing behave as on real pages while no two synthetic
articles are near-duplicates of each other (long shared word runs are rare).

Layout: kolokol article n is English (/en/news/...) when n % 3 == 0, else Russian (/news/...);
fjordposten articles are all nb (/nyheter/...). Article 1 is dated 2026-11-16 23:00 local time,
each next one 37 minutes earlier. Slugs end in "-<n>": story-<n> (kolokol), sak-<n> (fjordposten).

    python -m newsmon.mocksite.generate --site kolokol --count 3   # JSON lines, for a look
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from itertools import accumulate

from newsmon.mocksite import ArticleSpec, articles, site_config

_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_FIRST = datetime(2026, 11, 16, 23, 0)
_STEP = timedelta(minutes=37)
# site -> edition -> (path prefix, slug stem, UTC offset in hours)
LAYOUT: dict[str, dict[str, tuple[str, str, int]]] = {
    "kolokol": {"ru": ("/news/", "story", 3), "en": ("/en/news/", "story", 3)},
    "fjordposten": {"nb": ("/nyheter/", "sak", 1)},
}


@dataclass(frozen=True)
class _Vocabulary:
    words: tuple[str, ...]
    cum_weights: tuple[float, ...]
    authors: tuple[str, ...]
    sections: tuple[str, ...]
    tags: tuple[str, ...]


def edition_of(site: str, n: int) -> str:
    if site == "kolokol":
        return "en" if n % 3 == 0 else "ru"
    return "nb"


def generated_path(site: str, n: int) -> str:
    """The URL path of synthetic article n (n >= 1)."""
    prefix, stem, _ = LAYOUT[site][edition_of(site, n)]
    return f"{prefix}{(_FIRST - n * _STEP):%Y/%m/%d}/{stem}-{n}"


def parse_generated_path(site: str, path: str) -> int | None:
    """Article number for a synthetic article path, or None when the path is not one."""
    match = re.search(r"-(\d{1,9})$", path)
    if not match or site not in LAYOUT:
        return None
    n = int(match.group(1))
    return n if n >= 1 and generated_path(site, n) == path else None


@cache
def _vocabulary(site: str, edition: str) -> _Vocabulary:
    """Word frequencies, authors, sections and tags of the site's hand-written articles."""
    own = [a for a in articles(site) if a.edition == edition
           and a.kind in ("clean", "legacy-encoding")]  # no AMP copies, no drafts
    counts = Counter(w.lower() for a in own for w in _WORD.findall(a.title + " " + a.text))
    words = tuple(sorted(counts))
    weights = tuple(accumulate(counts[w] ** 0.75 for w in words))  # flatten the head a little
    return _Vocabulary(words, weights, authors=tuple(sorted({n for a in own for n in a.authors})),
                       sections=tuple(sorted({a.section for a in own})),
                       tags=tuple(sorted({t for a in own for t in a.tags})))


def _sentence(rng: random.Random, vocab: _Vocabulary, length: int) -> str:
    words = rng.choices(vocab.words, cum_weights=vocab.cum_weights, k=length)
    if length > 8:  # one comma somewhere in the middle, as in real prose
        words[rng.randint(3, length - 4)] += ","
    return words[0][:1].upper() + " ".join(words)[1:] + "."


def synthetic_article(site: str, n: int) -> ArticleSpec:
    """Synthetic article number n of the site (kind "generated"): 300-800 words, deterministic."""
    edition = edition_of(site, n)
    vocab = _vocabulary(site, edition)
    rng = random.Random(f"{site}:{n}")
    target, paragraphs, total = rng.randint(300, 800), [], 0
    while total < target:
        sentences = []
        for _ in range(rng.randint(3, 6)):
            length = min(rng.randint(7, 19), target - total)
            if length <= 0:
                break
            sentences.append(_sentence(rng, vocab, length))
            total += length
        paragraphs.append(" ".join(sentences))
    title = _sentence(rng, vocab, rng.randint(5, 9))[:-1].replace(",", "")
    offset = timezone(timedelta(hours=LAYOUT[site][edition][2]))
    published = (_FIRST - n * _STEP).replace(tzinfo=offset).isoformat()
    return ArticleSpec(
        site=site, kind="generated", path=generated_path(site, n), edition=edition,
        lang=site_config(site)["editions"][edition]["lang"], title=title,
        authors=(rng.choice(vocab.authors),), published=published,
        section=rng.choice(vocab.sections), tags=tuple(rng.sample(vocab.tags, 2)),
        paragraphs=tuple(paragraphs),
    )


def synthetic_articles(site: str, count: int, start: int = 1) -> Iterator[ArticleSpec]:
    """Articles start .. start+count-1, lazily (for benchmarks that skip the HTTP layer)."""
    return (synthetic_article(site, n) for n in range(start, start + count))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print synthetic articles as JSON lines.")
    parser.add_argument("--site", choices=sorted(LAYOUT), default="kolokol")
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--start", type=int, default=1)
    args = parser.parse_args(argv)
    for article in synthetic_articles(args.site, args.count, args.start):
        fields = ("path", "lang", "title", "authors", "published", "section", "tags", "text")
        print(json.dumps({k: getattr(article, k) for k in fields}, ensure_ascii=False))


if __name__ == "__main__":
    main()
