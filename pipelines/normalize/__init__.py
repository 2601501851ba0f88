"""Normalize stage: decode legacy encodings, extract text and metadata with trafilatura, canonical URLs.

``extract``: the engine (usable without Scrapy); ``encoding``: byte decoding; ``pipeline``: the Scrapy pipeline.
"""
