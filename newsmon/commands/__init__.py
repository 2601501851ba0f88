"""CLI sub-commands, one module per family; each module has ``register(subparsers)``.

A handler takes ``(args, ctx)`` where ``ctx`` is a ``newsmon.context.Context`` and returns the
exit code. User errors are raised as ``search.errors.NewsmonError`` and printed as one line.
"""

COMMAND_MODULES = [
    "newsmon.commands.crawl",
    "newsmon.commands.search",
    "newsmon.commands.sources",
    "newsmon.commands.extract",
    "newsmon.commands.demo",
    "newsmon.commands.translate",
    "newsmon.commands.models",
    "newsmon.commands.index",
    "newsmon.commands.dedup",
    "newsmon.commands.statements",
    "newsmon.commands.watch",
    "newsmon.commands.serve",
    "newsmon.commands.evidence",
    "newsmon.commands.warc",
]
