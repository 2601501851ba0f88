"""Benchmark: newsmon's translation stage against plain CTranslate2 on the same sentences.

    python benchmarks/bench_translate.py                      # random Transformer-base ru→en, CPU
    python benchmarks/bench_translate.py --device cuda        # the same on a GPU
    python benchmarks/bench_translate.py --model translate-ru_en-1_9.argosmodel --articles 40

Baseline (same run, same model, same sentences, same decoding options): sentencepiece encode,
one ``ctranslate2.Translator.translate_batch`` call with ``max_batch_size``, decode. newsmon:
articles made of those sentences go through ``ArticleTranslator`` (splitting, cache look-ups
and writes on a cold cache, batching, reassembly). Target: ratio >= 0.9. Then the cache's
effect on the mock site: the share of sentences that never reach the model, in a first pass
over the mock outlets' articles and in a second pass (a re-crawl, a retranslation).
Without ``--model`` a random-weight Transformer-base (6+6 layers, d=512, int8) is built, so
the timing is that of a real-size model; only the output is gibberish.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newsmon.mocksite import SITES, articles
from newsmon.mocksite.generate import synthetic_articles
from newsmon.mocksite.tinymodel import BASE, TINY, build_package
from pipelines.translate import argos
from pipelines.translate.articles import ArticleTranslator
from pipelines.translate.engine import (
    LENGTH_PENALTY,
    EngineSettings,
    TranslationEngine,
)
from pipelines.translate.splitter import split_text
from search.article import Article
from search.translation_cache import TranslationCache

SITE_OF = {"ru": "kolokol", "nb": "fjordposten"}


def spec_text(spec) -> str:
    return "\n\n".join(spec.paragraphs)


def source_articles(language: str, count: int) -> list:
    site = SITE_OF[language]
    return [s for s in synthetic_articles(site, count * 3) if s.lang == language][:count]


def install_model(args: argparse.Namespace, root: Path) -> tuple[argos.ArgosDirs, object]:
    dirs = argos.ArgosDirs(root / "models", root / "argos-home")
    if args.model:
        path = Path(args.model)
        if path.is_dir():  # an installed package folder: copy it in
            import shutil

            shutil.copytree(path, dirs.packages / path.name)
        else:
            argos.install_file(dirs, path)
    else:
        corpus = [spec_text(s) for site in SITES for s in articles(site)]
        size = TINY if args.size == "tiny" else BASE
        started = time.perf_counter()
        path = build_package(root / "built", "ru", "en", size=size, corpus=corpus,
                             quantization="int8", eos_bias=args.eos_bias,
                             pad_vocabulary=size is BASE)
        print(f"built a random {args.size} ru→en model in {time.perf_counter() - started:.1f} s")
        argos.install_file(dirs, path)
    [package] = argos.installed_packages(dirs)
    return dirs, package


def baseline(package, sentences: list[str], settings: EngineSettings) -> tuple[float, list[str]]:
    """Plain CTranslate2: encode, one translate_batch, decode. Returns seconds and outputs."""
    import ctranslate2
    import sentencepiece as spm

    translator = ctranslate2.Translator(
        str(package.package_path / "model"), device=settings.device,
        compute_type=settings.compute_type, inter_threads=1, intra_threads=settings.threads)
    processor = spm.SentencePieceProcessor(model_file=str(package.package_path / "sentencepiece.model"))
    translator.translate_batch([processor.encode(sentences[0], out_type=str)])  # warm-up
    started = time.perf_counter()
    tokens = [processor.encode(s, out_type=str) for s in sentences]
    results = translator.translate_batch(
        tokens, beam_size=settings.beam_size, max_batch_size=settings.batch_size,
        replace_unknowns=True, length_penalty=LENGTH_PENALTY,
        max_decoding_length=settings.max_decoding_length)
    outputs = [processor.decode_pieces(r.hypotheses[0]) for r in results]
    elapsed = time.perf_counter() - started
    return elapsed, outputs


def newsmon_stage(
    dirs, docs: list[Article], settings: EngineSettings, root: Path, n: int
) -> tuple[float, dict, list[str]]:
    """ArticleTranslator on a cold cache. Returns seconds, the engine's counters, the lines."""
    cache = TranslationCache(root / f"cache-{n}.sqlite3")
    engine = TranslationEngine.open(dirs, settings, cache)
    route = engine.route("ru", "en") or engine.route(*engine.pairs[0])
    engine._translate_hop(route.hops[0], ["Разминка."])  # warm-up: load the model
    engine.stats = type(engine.stats)()
    translator = ArticleTranslator(engine, [route.target])
    started = time.perf_counter()
    results = translator.translate_to(docs, route.target)
    elapsed = time.perf_counter() - started
    assert all(r.status == "done" for r in results), {r.status for r in results}
    stats = engine.stats.snapshot()
    engine.close()
    return elapsed, stats, [line for r in results for line in r.body.split("\n")]


def cache_effect(dirs, settings: EngineSettings, root: Path, language: str) -> list[dict]:
    """Two passes over the mock outlet's own articles (all editions, copies included)."""
    docs = [Article(canonical_url=f"https://mock/{s.site}{s.path}", outlet=s.site, title=s.title,
                    body=spec_text(s), language=s.lang)
            for site in SITES for s in articles(site)]
    cache = TranslationCache(root / "mock-cache.sqlite3")
    engine = TranslationEngine.open(dirs, settings, cache)
    passes = []
    for _ in range(2):
        before = engine.stats.snapshot()
        ArticleTranslator(engine, ["en"]).translate_to(docs, "en")
        after = engine.stats.snapshot()
        passes.append({k: after[k] - before[k] for k in after})
    engine.close()
    return passes


def _norm(text: str) -> str:
    return " ".join(text.replace("▁", " ").replace("_", " ").split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help=".argosmodel file or installed package folder (ru→en or nb→en)")
    parser.add_argument("--size", choices=("base", "tiny"), default="base",
                        help="random model to build when no --model is given")
    parser.add_argument("--eos-bias", type=float, default=-20.0, help=argparse.SUPPRESS)
    parser.add_argument("--output-tokens", type=int, default=40,
                        help="output length of the random model (default 40 tokens)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--beam-size", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--articles", type=int, default=20, help="synthetic articles to translate")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    # a random model never stops on its own: without --model, every output is exactly
    # --output-tokens long on both sides, so both do the same work whatever the numerics
    fixed = args.model is None
    settings = replace(EngineSettings.defaults(), device=args.device, compute_type=args.compute_type,
                       threads=args.threads, beam_size=args.beam_size, batch_size=args.batch_size,
                       max_decoding_length=args.output_tokens if fixed else 256)
    with tempfile.TemporaryDirectory(prefix="bench-translate-") as scratch:
        root = Path(scratch)
        dirs, package = install_model(args, root)
        language = package.from_code
        if language not in SITE_OF:
            raise SystemExit(f"the model translates from {language}; use a ru→ or nb→ model")
        specs = source_articles(language, args.articles)
        sentences = list(dict.fromkeys(
            s for spec in specs for s in split_text(spec_text(spec), language).sentences))
        # articles of ~20 unique sentences each, one sentence per paragraph: same sentences
        docs = [Article(canonical_url=f"https://bench/{i}", outlet="bench", title="",
                        body="\n".join(sentences[i:i + 20]), language=language)
                for i in range(0, len(sentences), 20)]
        print(f"model {argos.package_name(package)} {package.package_version}, device {args.device},"
              f" {args.compute_type}, beam {args.beam_size}, batch {args.batch_size};"
              f" {len(sentences)} unique sentences from {len(specs)} synthetic {language} articles")
        plain, ours = [], []
        for n in range(args.rounds):
            seconds, expected = baseline(package, sentences, settings)
            plain.append(seconds)
            seconds, stats, lines = newsmon_stage(dirs, docs, settings, root, n)
            assert stats["translated"] == len(sentences), stats
            ours.append(seconds)
            same = sum(_norm(a) == _norm(b) for a, b in zip(expected, lines))
        print(f"identical outputs: {same} of {len(sentences)} sentences")
        plain_rate = len(sentences) / statistics.median(plain)
        our_rate = len(sentences) / statistics.median(ours)
        print(f"plain ctranslate2: {plain_rate:8.1f} sentences/s  (median of {args.rounds})")
        print(f"newsmon stage:     {our_rate:8.1f} sentences/s  "
              f"({statistics.median(ours) / len(docs) * 1000:.0f} ms per 20-sentence article)")
        print(f"ratio newsmon/plain: {our_rate / plain_rate:.2f}  (target >= 0.9)")
        passes = []
        if language == "ru":
            passes = cache_effect(dirs, settings, root, language)
            for n, p in enumerate(passes, 1):
                spared = p["cached"] + p["repeated"]
                print(f"mock site pass {n}: {p['sentences']} sentences, {p['cached']} from the cache,"
                      f" {p['repeated']} repeats in the batch, {p['translated']} translated:"
                      f" {spared / max(p['sentences'], 1):.0%} never reached the model")
        if args.json:
            print(json.dumps({"sentences": len(sentences), "plain_rate": plain_rate,
                              "newsmon_rate": our_rate, "ratio": our_rate / plain_rate,
                              "device": args.device, "mock_passes": passes}))


if __name__ == "__main__":
    main()
