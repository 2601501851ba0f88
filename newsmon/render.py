"""Show untrusted crawled text safely: in a terminal, as JSON, as CSV.

Crawled text may carry terminal escape sequences or spreadsheet formulas; everything shown
passes through here. Snippet marks (``search.base.MARK_START``/``MARK_END``) become the
output's own emphasis only after the text around them is made safe.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import unicodedata
from collections.abc import Iterable
from typing import Any, TextIO

from search.base import MARK_END, MARK_START, SearchHit

_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe_text(text: str | None) -> str:
    """Drop control characters (terminal escapes) and bidi overrides; keep newlines and tabs."""
    return _UNSAFE.sub("", unicodedata.normalize("NFC", text or ""))


def one_line(text: str | None) -> str:
    return " ".join(safe_text(text).split())


def marked(snippet: str, *, color: bool) -> str:
    """Terminal form of a snippet: bold (colour terminals) or **term** (pipes, files)."""
    start, end = ("\x1b[1m", "\x1b[0m") if color else ("**", "**")
    return one_line(snippet).replace(MARK_START, start).replace(MARK_END, end)


def plain(snippet: str) -> str:
    """Snippet without marks (for CSV/JSON consumers that want text)."""
    return one_line(snippet).replace(MARK_START, "").replace(MARK_END, "")


def hit_lines(number: int, hit: SearchHit, *, color: bool) -> list[str]:
    date = (hit.published or "")[:10] or "no date"
    lines = [
        f"{number:>3}. {one_line(hit.title)}",
        f"     {hit.outlet} · {hit.language or '?'} · {date} · id {hit.id}",
        f"     {one_line(hit.url)}",
    ]
    if hit.versions > 1:
        lines[0] += f"  [edited: {hit.versions} versions]"
    if hit.removed_at:
        lines[0] += f"  [removed {hit.removed_at}]"
    if hit.snippet:
        lines.append(f"     {marked(hit.snippet, color=color)}")
    if hit.translated_title or hit.translated_snippet:
        text = hit.translated_snippet or hit.translated_title
        lines.append(f"     [{hit.translation_language or 'translation'}] {marked(text, color=color)}")
    if hit.story_size > 1:
        lines.append(
            f"     story {hit.story_id}: {hit.story_size} articles from "
            f"{', '.join(hit.story_outlets)} in {', '.join(hit.story_languages)}"
        )
    if hit.matched_form:
        lines.append(f"     matched query form: {one_line(hit.matched_form)}")
    return lines


def as_json(value: Any) -> str:
    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def hit_record(hit: SearchHit) -> dict[str, Any]:
    record = dataclasses.asdict(hit)
    record["snippet"] = plain(hit.snippet)
    record["translated_snippet"] = plain(hit.translated_snippet)
    record["highlighted"] = marked(hit.snippet, color=False)
    return record


# a cell starting with one of these is read as a formula by spreadsheets (OWASP CSV injection)
_FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """One line of safe text; a formula-leading cell is prefixed with a quote."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        text = ", ".join(one_line(str(v)) for v in value)
    else:
        text = one_line(str(value))
    return "'" + text if text.startswith(_FORMULA_LEAD) else text


def csv_cells(record: dict[str, Any], columns: list[str]) -> list[str]:
    return [csv_cell(record.get(c, "")) for c in columns]


def write_csv(out: TextIO, records: Iterable[dict[str, Any]], columns: list[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(columns)
    for record in records:
        writer.writerow(csv_cells(record, columns))
