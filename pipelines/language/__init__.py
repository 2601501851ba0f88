"""Language stage: deterministic langdetect with the page's declared language as fallback.

``detect``: the engine (usable without Scrapy); ``pipeline``: the Scrapy pipeline.
"""
