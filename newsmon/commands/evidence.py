"""``newsmon verify``, ``history``, ``diff`` and ``evidence``: what newsmon saw, and the proof."""

from __future__ import annotations

import argparse
import difflib
import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

from crawler.warcfiles import check
from newsmon.context import Context
from newsmon.render import as_json, one_line, safe_text
from search.errors import NewsmonError, NotFound
from search.store import ArticleVersion


class VerifyFailed(NewsmonError):
    """Some archived record is missing or does not match its stored hash."""

    exit_code = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("verify", help="re-read every archived record articles point to; check hashes")
    p.add_argument("--json", action="store_true", help="one JSON line per problem")
    p.set_defaults(handler=verify)

    p = subparsers.add_parser("history", help="the versions of an article, and its removal")
    p.add_argument("id", help="article id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=history)

    p = subparsers.add_parser("diff", help="word-level differences between two versions of an article")
    p.add_argument("id", help="article id")
    p.add_argument("versions", nargs="*", type=int, metavar="V",
                   help="two version numbers (default: the first and the latest)")
    p.set_defaults(handler=diff)

    p = subparsers.add_parser("evidence", help="export an article's versions and WARC records, with hashes")
    p.add_argument("id", help="article id")
    p.add_argument("-o", "--output", required=True, metavar="DIR_OR_ZIP",
                   help="a new folder, or a file ending in .zip")
    p.set_defaults(handler=evidence)


def verify(args: argparse.Namespace, ctx: Context) -> int:
    checked, problems = 0, []
    for article_id, record_id, ref in ctx.store.evidence_records():
        checked += 1
        problem = check(ref) if ref is not None else "no record of it in the WARC index"
        if problem:
            problems.append({"article": article_id, "record": record_id, "problem": problem})
    for p in problems:
        if args.json:
            print(as_json(p), file=ctx.out)
        else:
            print(f"FAIL {p['article']} {p['record']}: {one_line(p['problem'])}", file=ctx.out)
    if problems:
        raise VerifyFailed(f"{len(problems)} of {checked} archived records failed verification")
    if not args.json:
        print(f"{checked} archived records verified: every payload matches its SHA-256", file=ctx.out)
    return 0


def _versions(ctx: Context, article_id: str) -> list[ArticleVersion]:
    versions = ctx.store.versions(article_id)
    if not versions:
        raise NotFound(f"no article with id {article_id}")
    return versions


def history(args: argparse.Namespace, ctx: Context) -> int:
    versions = _versions(ctx, args.id)
    removal = ctx.store.removal(args.id)
    if args.json:
        for v in versions:
            print(as_json(v), file=ctx.out)
        if removal:
            print(as_json({"removed": removal}), file=ctx.out)
        return 0
    out = ctx.out
    print(f"article {args.id}: {len(versions)} version{'s' if len(versions) > 1 else ''}", file=out)
    for v in versions:
        seen = v.seen_at if v.seen_at == v.last_seen_at else f"{v.seen_at} … {v.last_seen_at}"
        print(f"  v{v.version}  seen {seen}  text {v.text_sha256[:12]}"
              f"  record {v.warc_record_id or '-'}", file=out)
        print(f"      {one_line(v.title)}", file=out)
    if removal:
        print(f"  removed: first seen gone {removal['removed_at']} ({removal['reason']})", file=out)
    return 0


_TOKENS = re.compile(r"\S+|\s+")


def word_diff(old: str, new: str) -> str:
    """``old`` turned into ``new``, word by word: removed words as [-…-], added as {+…+}."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append("".join(a[i1:i2]))
            continue
        removed, added = "".join(a[i1:i2]), "".join(b[j1:j2])
        first = removed or added
        parts.append(first[: len(first) - len(first.lstrip())])  # the space before the change
        if removed.strip():
            parts.append("[-" + removed.strip() + "-]")
        if added.strip():
            parts.append("{+" + added.strip() + "+}")
        trailing = added or removed
        parts.append(trailing[len(trailing.rstrip()):])
    return "".join(parts)


def text_diff(old: str, new: str) -> list[str]:
    """Changed paragraphs as word diffs; runs of unchanged ones as a count."""
    a, b = old.split("\n\n"), new.split("\n\n")
    lines = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            lines.append(f"  … {i2 - i1} unchanged paragraph{'s' if i2 - i1 > 1 else ''} …")
        elif op == "replace" and i2 - i1 == j2 - j1:
            lines.extend(safe_text(word_diff(x, y)) for x, y in zip(a[i1:i2], b[j1:j2], strict=True))
        else:
            lines.extend(safe_text(f"[-{x}-]") for x in a[i1:i2])
            lines.extend(safe_text(f"{{+{y}+}}") for y in b[j1:j2])
    return lines


def diff(args: argparse.Namespace, ctx: Context) -> int:
    versions = {v.version: v for v in _versions(ctx, args.id)}
    if len(args.versions) not in (0, 2):
        raise NewsmonError("give two version numbers, or none (first and latest)")
    first, second = args.versions or [min(versions), max(versions)]
    for number in (first, second):
        if number not in versions:
            raise NotFound(f"article {args.id} has no version {number} (versions 1-{max(versions)})")
    old, new = versions[first], versions[second]
    out = ctx.out
    print(f"article {args.id}: v{first} (seen {old.seen_at}) → v{second} (seen {new.seen_at})", file=out)
    print(f"title: {one_line(word_diff(old.title, new.title))}", file=out)
    print("body:", file=out)
    for line in text_diff(old.body, new.body):
        print(line, file=out)
    old_tr = {t.target: t for t in old.translations if t.status == "done"}
    for t in new.translations:
        if t.status == "done" and t.target in old_tr:
            print(f"translation into {t.target}:", file=out)
            print(f"title: {one_line(word_diff(old_tr[t.target].title, t.title))}", file=out)
            for line in text_diff(old_tr[t.target].body, t.body):
                print(line, file=out)
    return 0


def evidence(args: argparse.Namespace, ctx: Context) -> int:
    """Versions, translations, metadata, the WARC records and SHA256SUMS, checkable without newsmon."""
    versions = _versions(ctx, args.id)
    article = ctx.store.get(args.id)
    assert article is not None
    files: dict[str, bytes] = {}
    records = io.BytesIO()
    index = []
    for capture in ctx.store.captures(args.id) + ([ctx.store.removal(args.id)] if ctx.store.removal(args.id) else []):
        ref = ctx.store.warc_record(capture.get("warc_record_id", ""))
        if ref is None or any(r["record_id"] == ref.record_id for r in index):
            continue
        try:
            with open(ref.path, "rb") as stream:
                stream.seek(ref.offset)
                member = stream.read(ref.length)
        except OSError as exc:
            raise NewsmonError(f"cannot read archived record {ref.record_id}: {exc}") from None
        index.append({"record_id": ref.record_id, "offset": records.tell(), "length": len(member),
                      "url": ref.url, "date": ref.date, "status": ref.status,
                      "payload_sha256": ref.payload_sha256, "version": capture.get("version")})
        records.write(member)
    files["article.json"] = as_json(article).encode()
    for v in versions:
        files[f"versions/v{v.version}.json"] = as_json(v).encode()
    files["records.warc.gz"] = records.getvalue()
    files["records.json"] = json.dumps(index, ensure_ascii=False, indent=1).encode()
    files["captures.json"] = json.dumps({"captures": ctx.store.captures(args.id),
                                         "removal": ctx.store.removal(args.id)}, indent=1).encode()
    sums = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items()))
    files["SHA256SUMS"] = sums.encode()
    files["README.txt"] = (
        f"Evidence for article {args.id} ({article.canonical_url}), exported by newsmon.\n"
        "Check the files: sha256sum -c SHA256SUMS\n"
        "records.warc.gz holds the archived HTTP responses (WARC 1.1); records.json gives each\n"
        "record's offset and the SHA-256 of its payload, also in its WARC-Payload-Digest header\n"
        "(base32). Any WARC tool reads it, e.g. `warcio index records.warc.gz`.\n"
    ).encode()
    target = Path(args.output)
    if target.exists():
        raise NewsmonError(f"{target} exists; give a new folder or .zip file")
    if target.suffix == ".zip":
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bundle:
            for name, data in files.items():
                bundle.writestr(f"{args.id}/{name}", data)
    else:
        for name, data in files.items():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(data)
    print(f"wrote {len(files)} files ({len(index)} WARC records, {len(versions)} versions) to {target}",
          file=ctx.out)
    return 0
