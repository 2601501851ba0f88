"""The web app (``newsmon serve``): search, read side by side, follow a story, saved searches.

``views`` computes what each page shows; ``app`` serves it twice, as HTML (server-rendered
Jinja2, autoescaped) and as the JSON API described by OpenAPI at ``/openapi.json``.
"""
