"""Normalize stage: decode legacy encodings, extract text and metadata with trafilatura, canonical URLs.

``extract``: the engine (usable without Scrapy); ``metadata``: the page's JSON-LD and Open Graph
statements; ``encoding``: byte decoding; ``evaluation``: scoring against the real-page devset;
``pipeline``: the Scrapy pipeline.
"""
