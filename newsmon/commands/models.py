"""``newsmon models``: list, install (from the Argos index or a file) and remove translation models.

Models live in newsmon's own folder (``translate.models_dir``), never in the user's global
argostranslate folders unless ``models_dir`` points there.
"""

from __future__ import annotations

import argparse

from newsmon.context import Context


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("models", help="list, install and remove translation models")
    sub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    q = sub.add_parser("list", help="installed models (and, with --available, the index's)")
    q.add_argument("--available", action="store_true",
                   help="also list the models the Argos package index offers (needs network)")
    q.set_defaults(handler=list_models)

    q = sub.add_parser("install", help="download and install FROM→TO from the Argos index (network)")
    q.add_argument("from_code", metavar="FROM", help="source language code, e.g. ru")
    q.add_argument("to_code", metavar="TO", help="target language code, e.g. en")
    q.set_defaults(handler=install)

    q = sub.add_parser("install-file", help="install a downloaded .argosmodel file (offline)")
    q.add_argument("path", metavar="PATH.argosmodel")
    q.set_defaults(handler=install_file)

    q = sub.add_parser("remove", help="uninstall the FROM→TO model")
    q.add_argument("from_code", metavar="FROM")
    q.add_argument("to_code", metavar="TO")
    q.set_defaults(handler=remove)


def _dirs(ctx: Context):
    from pipelines.translate.argos import ArgosDirs

    return ArgosDirs.from_config(ctx.config)


def list_models(args: argparse.Namespace, ctx: Context) -> int:
    from pipelines.translate import argos
    from pipelines.translate.engine import TranslationEngine

    dirs = _dirs(ctx)
    packages = argos.installed_packages(dirs)
    models = argos.installed(dirs)
    print(f"installed in {dirs.packages}:", file=ctx.out)
    if not models:
        print("  none (install one: newsmon models install ru en, or models install-file PATH)",
              file=ctx.out)
    for m in models:
        print(f"  {m.pair:<8} {m.name:<20} {m.version:<8} {m.path}", file=ctx.out)
    engine = TranslationEngine(packages)
    codes = sorted({c for pair in engine.pairs for c in pair})
    pivoted = [
        route for s in codes for t in codes
        if s != t and (route := engine.route(s, t)) is not None and route.pivoted
    ]
    if pivoted:
        print("through a pivot language:", file=ctx.out)
        for route in pivoted:
            print(f"  {route.source}→{route.target:<5} via {route.model}", file=ctx.out)
    if args.available:
        installed_versions = {(m.from_code, m.to_code): m.version for m in models}
        offered = argos.available(dirs)
        print(f"available from the Argos package index ({len(offered)}):", file=ctx.out)
        for m in offered:
            have = installed_versions.get((m.from_code, m.to_code))
            note = "" if have is None else (" (installed)" if have == m.version else f" (installed: {have})")
            print(f"  {m.pair:<8} {m.name:<20} {m.version}{note}", file=ctx.out)
    return 0


def install(args: argparse.Namespace, ctx: Context) -> int:
    from pipelines.translate import argos

    info = argos.install_from_index(_dirs(ctx), args.from_code, args.to_code)
    print(f"installed {info.name} {info.version} ({info.pair}) in {info.path}", file=ctx.out)
    print("translate what waited for it: newsmon translate --pending", file=ctx.out)
    return 0


def install_file(args: argparse.Namespace, ctx: Context) -> int:
    from pipelines.translate import argos

    info = argos.install_file(_dirs(ctx), args.path)
    print(f"installed {info.name} {info.version} ({info.pair}) in {info.path}", file=ctx.out)
    print("translate what waited for it: newsmon translate --pending", file=ctx.out)
    return 0


def remove(args: argparse.Namespace, ctx: Context) -> int:
    from pipelines.translate import argos

    for info in argos.remove(_dirs(ctx), args.from_code, args.to_code):
        print(f"removed {info.name} {info.version} ({info.pair})", file=ctx.out)
    return 0
