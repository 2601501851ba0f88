"""Errors a user can cause and fix: the CLI prints them as one line and exits non-zero."""

from __future__ import annotations


class NewsmonError(Exception):
    """Base of the errors that are the user's to fix (bad config, bad query, server down)."""

    exit_code = 2


class ConfigError(NewsmonError):
    """newsmon.toml or an environment variable is wrong."""


class OutletError(NewsmonError):
    """An outlet definition file is wrong; the message names the file and the field."""


class QueryError(NewsmonError):
    """A search query cannot be understood."""


class NotFound(NewsmonError):
    """An id or name the user gave does not exist."""

    exit_code = 1


class BackendUnavailable(NewsmonError):
    """The search index (e.g. Elasticsearch) cannot be reached."""

    exit_code = 3


class ActorError(NewsmonError):
    """A watched-actor definition file is wrong; the message names the file and the field."""


class StoreUnwritable(NewsmonError):
    """The store cannot be written (disk full, read-only file system): free space and rerun."""

    exit_code = 4
