"""Scrapy settings of the newsmon project.

Values that users tune come from newsmon.toml through the ``crawler.addon.NewsmonAddon``
addon. Their defaults are written once, in ``crawler/config.py``; this module derives the
``NEWSMON_*`` settings from them (so components read settings without fallbacks) and wires
the components.
"""

from crawler.config import Config

globals().update(Config().scrapy_settings())

BOT_NAME = "newsmon"
NEWSMON_SHARED_DELAY = 0.0  # set per outlet on a shared frontier (crawler.spiderloader)
SPIDER_LOADER_CLASS = "crawler.spiderloader.OutletSpiderLoader"
NEWSPIDER_MODULE = "crawler.spiders"

ADDONS = {"crawler.addon.NewsmonAddon": 0}

ROBOTSTXT_OBEY = True

AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
RETRY_ENABLED = True
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_ENABLED = True
HTTPERROR_ALLOW_ALL = False
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
CONCURRENT_ITEMS = 50
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
# dropped pages are expected (index pages, images...): counted in stats, logged at INFO
DEFAULT_DROPITEM_LOG_LEVEL = "INFO"
HTTPCACHE_POLICY = "scrapy.extensions.httpcache.RFC2616Policy"

DOWNLOADER_MIDDLEWARES = {
    # retries that honour Retry-After, in place of Scrapy's plain RetryMiddleware
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.RetryAfterMiddleware": 550,
    # skip article URLs already stored; conditional requests when re-checking them
    "crawler.middlewares.IncrementalMiddleware": 560,
    # a redirect chain that comes back to a URL ends there, dont_filter or not
    "crawler.middlewares.RedirectLoopMiddleware": 570,
    # a re-checked article answering 404/410 or sent to the front page: mark it removed
    # (below RedirectMiddleware 600, so it sees where redirects ended)
    "crawler.removals.RemovalMiddleware": 580,
    # WARC records of bodies as received: above HttpCompressionMiddleware (590) and
    # HttpCacheMiddleware (900), next to the downloader
    "crawler.archive.ArchiveMiddleware": 950,
}

SPIDER_MIDDLEWARES = {
    # with [redis] url: release a page's lease on the shared frontier once its callback is done
    "crawler.frontier.FrontierLeaseMiddleware": 10,
    # after the start requests: stored articles due for a scheduled re-check
    "crawler.rechecks.RecheckMiddleware": 950,
}

EXTENSIONS = {
    "crawler.extensions.CrawlProgress": 500,
    "crawler.extensions.StoreGuard": 510,
    "crawler.frontier.SharedFrontier": 520,  # with [redis] url
}

ITEM_PIPELINES = {
    "pipelines.normalize.pipeline.NormalizePipeline": 100,
    "pipelines.language.pipeline.LanguagePipeline": 200,
    "pipelines.translate.pipeline.TranslatePipeline": 300,
    "pipelines.dedup.pipeline.DedupPipeline": 400,
    "pipelines.store.StorePipeline": 500,
    "pipelines.statements.pipeline.StatementsPipeline": 550,
    # with [redis] url and translate.during_crawl = false: feed the translation workers
    "pipelines.translate.enqueue.TranslationQueuePipeline": 560,
    "pipelines.index.ElasticsearchPipeline": 600,
}
