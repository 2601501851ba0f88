"""The ``newsmon`` command line: crawl, search, show, stats, sources, extract, demo, ...

User errors (``NewsmonError``) print one line and exit non-zero; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from crawler.config import load_config
from newsmon import __version__
from newsmon.commands import COMMAND_MODULES
from newsmon.context import Context
from search.errors import NewsmonError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit code 2), like every other user error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="newsmon",
        description="Crawl news outlets, extract and translate articles locally, search them.",
    )
    parser.add_argument("--version", action="version", version=f"newsmon {__version__}")
    parser.add_argument("--config", metavar="PATH", help="newsmon.toml to use (default: see README)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command family not installed in this build
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx: Context | None = None
    try:
        ctx = Context(load_config(args.config))
        return int(args.handler(args, ctx) or 0)
    except NewsmonError as exc:
        print(f"newsmon: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("newsmon: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    finally:
        if ctx is not None:
            ctx.close()


if __name__ == "__main__":
    sys.exit(main())
