"""Local translation of articles with argostranslate's packages and CTranslate2.

``argos``: newsmon's own argostranslate folders and model management; ``engine``: batched,
cached sentence translation along a (possibly pivoted) route; ``articles``: per-article
statuses; ``splitter``: sentences and paragraph structure; ``cache``: the persistent sentence
cache; ``tinymodel``: random-weight packages for tests and benchmarks. Importing this package
is cheap: argostranslate and CTranslate2 are imported when first needed.
"""
