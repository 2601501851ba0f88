"""The Scrapy project: settings, items, spiders, middlewares and outlet definitions."""
