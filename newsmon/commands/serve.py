"""``newsmon serve``: the web app (search, read side by side, stories, saved searches)."""

from __future__ import annotations

import argparse

from newsmon.context import Context


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("serve", help="the web app on 127.0.0.1 (see README: security)")
    add_arguments(p)
    p.set_defaults(handler=serve)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", help="address to bind (default from [web] host: 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default from [web] port: 8765; 0 = any free)")


def serve(args: argparse.Namespace, ctx: Context) -> int:
    from newsmon.web.server import run_server

    return run_server(ctx, host=args.host, port=args.port)
