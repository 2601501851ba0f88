"""Statements stage: who said what, in every language (docs/statements.md).

``actors``: watched actors as TOML data; ``keys`` and ``mentions``: finding them in text;
``extract``: quotes, reported speech and speakers; ``engine``: the stage without Scrapy (also
``newsmon statements rebuild``); ``evaluation``: the quality gate's scoring; ``pipeline``: the
Scrapy pipeline.
"""
