"""Errors of the translation layer that a user can fix (install a model, fix a file, go online)."""

from __future__ import annotations

from search.errors import NewsmonError


class ModelError(NewsmonError):
    """A model file or model folder is wrong, or the requested model does not exist."""


class NoNetwork(ModelError):
    """The Argos package index or a download cannot be reached."""

    exit_code = 3
