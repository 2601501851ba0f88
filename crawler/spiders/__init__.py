"""Spiders are built from outlet definitions by ``crawler.spiderloader.OutletSpiderLoader``."""
