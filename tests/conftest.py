"""Shared fixtures. Each family of fixtures lives in its own plugin module under tests/plugins."""

pytest_plugins = [
    "tests.plugins.environment",
    "tests.plugins.mocksite",
    "tests.plugins.elastic",
    "tests.plugins.argos",
    "tests.plugins.store",
    "tests.plugins.redisserver",
]
