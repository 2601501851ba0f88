"""``newsmon translate``: translate stored articles later (pending ones, or an older model's)."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable, Iterator

from newsmon.commands.arguments import positive_int
from newsmon.context import Context
from search.article import Article
from search.errors import ConfigError

ARTICLES_PER_BATCH = 32


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "translate",
        help="translate stored articles: pending ones, or those of an older model version",
        description="Translate stored articles with the installed models (see `newsmon models`).",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--pending", action="store_true",
                       help="articles not translated yet (missing model, failed, pending, new target)")
    which.add_argument("--retranslate", action="store_true",
                       help="articles translated by a model other than the one installed now")
    which.add_argument("--worker", action="store_true",
                       help="serve the translation queue in Redis (crawls with --redis and "
                            "translate.during_crawl = false feed it); see docs/scaling.md")
    p.add_argument("--redis", metavar="URL", help="with --worker: the Redis (default: [redis] url)")
    p.add_argument("--drain", action="store_true",
                   help="with --worker: stop when the queue is empty instead of waiting for more")
    p.add_argument("--min-idle", type=float, default=60.0, metavar="SECONDS",
                   help="with --worker: take over entries another worker left this long (default 60)")
    p.add_argument("--target", action="append", metavar="LANG",
                   help="target language (repeatable; default: translate.targets)")
    p.add_argument("--limit", type=positive_int, metavar="N", help="at most N articles per target")
    p.set_defaults(handler=translate)


def translate(args: argparse.Namespace, ctx: Context) -> int:
    from pipelines.language.detect import LanguageDetector
    from pipelines.translate.articles import ArticleTranslator
    from pipelines.translate.engine import open_engine

    section = ctx.config.section("translate")
    targets = args.target or list(section["targets"])
    redis_url = args.redis or ctx.config.section("redis")["url"]
    if args.worker and not redis_url:
        raise ConfigError("--worker needs a Redis: --redis URL or [redis] url")
    store = ctx.store
    engine = open_engine(ctx.config, store.path)
    detector = None
    if section.get("keep_target_paragraphs", True):
        detector = LanguageDetector(seed=int(ctx.config.section("language")["seed"]))
    translator = ArticleTranslator(
        engine, targets, detector=detector,
        warn=lambda message: print(f"newsmon: warning: {message}", file=ctx.err),
    )
    pivot = section["pivot"]
    statements = None
    if ctx.config.section("statements")["enabled"]:
        from newsmon.commands.statements import engine_for

        statements = engine_for(ctx)

    def save(article: Article, result, target: str) -> None:
        store.save_translation(article.id, result)
        if statements is not None and result.status == "done" and target == pivot:
            # statements are matched across languages on this translation
            article.translations = [t for t in article.translations
                                    if t.target != target] + [result]
            statements.store_article(store, article)

    failed = 0
    try:
        if args.worker:
            return _work(args, ctx, translator, targets, redis_url, save)
        for target in targets:
            selected = (_pending(store, target) if args.pending
                        else _outdated(store, engine, target))
            counts: Counter = Counter()
            for chunk in _chunks(selected, ARTICLES_PER_BATCH, args.limit):
                for article, result in zip(chunk, translator.translate_to(chunk, target)):
                    save(article, result, target)
                    counts[result.status.split(":", 1)[0]] += 1
                print(f"{target}: {sum(counts.values())} articles…", file=ctx.err)
            failed += counts["failed"]
            summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
            what = "pending" if args.pending else "translated by another model version"
            print(f"{target}: {summary or f'nothing {what}'}", file=ctx.out)
        stats = engine.stats
        if stats.sentences:
            print(
                f"sentences: {stats.sentences} ({stats.cached} from cache, {stats.repeated} repeats,"
                f" {stats.translated} translated in {stats.calls} batches)",
                file=ctx.out,
            )
    finally:
        engine.close()
    return 1 if failed else 0


def _work(args: argparse.Namespace, ctx: Context, translator, targets: list[str], url: str,
          save: Callable[[Article, object, str], None]) -> int:
    """Translate the articles the queue names, into every target; acknowledge saved ones.

    Delivery is at least once: a worker killed after saving a batch and before acknowledging
    it has the batch redelivered, so an article already translated (or skipped) is left as is.
    """
    import os
    import socket

    from pipelines.translate.queue import TranslationQueue, serve

    store = ctx.store

    def translate(ids: list[str]) -> list[str]:
        articles = [a for a in (store.get(i) for i in ids) if a is not None]
        for target in targets:
            todo = [a for a in articles if _still_pending(a, target)]
            for article, result in zip(todo, translator.translate_to(todo, target)):
                save(article, result, target)
        return ids  # an id no longer in the store has nothing left to translate

    def report(source: str, count: int) -> None:
        print(f"{source} {count} articles", file=ctx.err, flush=True)

    consumer = f"{socket.gethostname()}:{os.getpid()}"
    done = serve(TranslationQueue.from_url(url), consumer, translate, batch=ARTICLES_PER_BATCH,
                 min_idle=args.min_idle, drain=args.drain, on_batch=report)
    print(f"translated {done} articles from the queue", file=ctx.out)
    return 0


def _still_pending(article: Article, target: str) -> bool:
    """The store's notion of pending (articles_pending_translation), for one article in hand."""
    if article.language in ("", target):
        return False
    done = article.translation(target)
    return done is None or not (done.status == "done" or done.status.startswith("skipped:"))


def _pending(store, target: str) -> Iterator[Article]:
    """Articles in another language without a done (or skipped) translation into target."""
    return store.articles_pending_translation(target)


def _outdated(store, engine, target: str) -> Iterator[Article]:
    """Articles whose done translation came from another model (version) than the route now."""
    from pipelines.translate.articles import source_language

    for article in store.articles_translated_into(target):
        current = article.translation(target)
        route = engine.route(source_language(article), target)
        if current is None or route is None:
            continue
        if (current.model, current.model_version) != (route.model, route.version):
            yield article


def _chunks(articles: Iterator[Article], size: int, limit: int | None) -> Iterator[list[Article]]:
    chunk: list[Article] = []
    for taken, article in enumerate(articles):
        if limit is not None and taken >= limit:
            break
        chunk.append(article)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
