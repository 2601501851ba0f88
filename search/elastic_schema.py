"""The Elasticsearch document layout, derived from the index template in ``search/mappings/``.

The mapping JSON is the single description of the index: which text fields exist, which
language each analyzes, and how much a hit in each counts. Code reads field lists from it
instead of repeating them, so adding a language is an edit of the JSON (and a migrate).
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from typing import Any

from search.article import Article, Translation

TEMPLATE_FILE = "articles.json"
_ARTICLE_FIELDS = tuple(f.name for f in fields(Article))
_DATE_FIELDS = ("published", "updated", "fetched_at")


def load_template(name: str = TEMPLATE_FILE) -> dict[str, Any]:
    """The index template as stored in the repository (without its comment)."""
    text = resources.files("search").joinpath("mappings", name).read_text(encoding="utf-8")
    return {k: v for k, v in json.loads(text).items() if not k.startswith("_comment")}


@dataclass
class FieldFamily:
    """One searchable text (e.g. ``body``): a standard-analyzed field plus per-language ones."""

    name: str
    boost: float
    by_language: dict[str, str] = field(default_factory=dict)  # "ru" -> "body_ru"

    def field_for(self, language: str) -> str:
        return self.by_language.get(language, self.name)

    @property
    def all_fields(self) -> list[str]:
        return [self.name, *sorted(self.by_language.values())]


@dataclass
class ArticleSchema:
    """Field families, snippet fields and the mapping version, read from the template."""

    template: dict[str, Any]
    families: dict[str, FieldFamily]
    version: int
    snippet_family: str
    translated_snippet_family: str
    story_key: str

    @classmethod
    def load(cls, template: dict[str, Any] | None = None) -> ArticleSchema:
        template = copy.deepcopy(template) if template is not None else load_template()
        mappings = template["template"]["mappings"]
        meta = mappings["_meta"]
        properties = mappings["properties"]
        families: dict[str, FieldFamily] = {}
        for family, boost in meta["search_fields"].items():
            if properties.get(family, {}).get("type") != "text":
                raise ValueError(f"search field {family!r} is not a text field in the mapping")
            prefix = family + "_"
            by_language = {
                name[len(prefix):]: name
                for name, spec in properties.items()
                if name.startswith(prefix) and spec.get("type") == "text"
            }
            families[family] = FieldFamily(family, float(boost), by_language)
        return cls(
            template=template,
            families=families,
            version=int(meta["newsmon_mapping_version"]),
            snippet_family=meta["snippet_field"],
            translated_snippet_family=meta["translated_snippet_field"],
            story_key=meta["story_key"],
        )

    @property
    def mappings(self) -> dict[str, Any]:
        return self.template["template"]["mappings"]

    def search_fields(self) -> list[tuple[str, float]]:
        """Every text field a query runs against, with its boost."""
        return [(name, fam.boost) for fam in self.families.values() for name in fam.all_fields]

    def text_fields(self, family: str) -> list[str]:
        return self.families[family].all_fields

    # -- Article <-> document ----------------------------------------------------------------
    def to_document(self, article: Article) -> dict[str, Any]:
        """The indexed document: original text in the field of its language, translations in
        fields analyzed for their target language, and a hash that tells an unchanged copy."""
        # a shallow copy: dataclasses.asdict deep-copies and dominated the cost of a sync
        doc = {name: getattr(article, name) for name in _ARTICLE_FIELDS if name != "translations"}
        for name, value in doc.items():
            if isinstance(value, list):
                doc[name] = list(value)
        language = article.language
        for family, value in (("title", doc.pop("title")), ("body", doc.pop("body"))):
            doc[self.families[family].field_for(language)] = value
        for name in _DATE_FIELDS:
            if not doc.get(name):
                doc.pop(name, None)
        meta = []
        for t in sorted(article.translations, key=lambda t: t.target):
            record = asdict(t)
            if t.status == "done":
                # the text lives in the searchable fields; the record keeps the rest
                for family, attr in (("tr_title", "title"), ("tr_body", "body")):
                    name = self.families[family].field_for(t.target)
                    doc.setdefault(name, []).append(record.pop(attr))
            meta.append(record)
        doc["translations"] = meta
        doc[self.story_key] = article.story_id or article.id
        doc["doc_hash"] = document_hash(doc)
        return doc

    def from_document(self, source: dict[str, Any]) -> Article:
        src = dict(source)
        language = src.get("language", "")
        texts: dict[str, str] = {}
        for family in ("title", "body"):
            fam = self.families[family]
            candidates = [fam.field_for(language), *fam.all_fields]
            texts[family] = next((src[n] for n in candidates if isinstance(src.get(n), str)), "")
        queues = {
            name: list(value) if isinstance(value, list) else [value]
            for family in ("tr_title", "tr_body")
            for name in self.families[family].all_fields
            if (value := src.get(name)) is not None
        }
        translations = []
        for record in src.get("translations") or []:
            record = dict(record)
            if record.get("status") == "done":
                for family, attr in (("tr_title", "title"), ("tr_body", "body")):
                    queue = queues.get(self.families[family].field_for(record.get("target", "")))
                    record[attr] = queue.pop(0) if queue else ""
            known = {f.name for f in fields(Translation)}
            translations.append(Translation(**{k: v for k, v in record.items() if k in known}))
        data = {k: v for k, v in src.items() if k in _ARTICLE_FIELDS}
        data.update(texts, translations=translations)
        for name in _DATE_FIELDS:
            data.setdefault(name, None if name != "fetched_at" else "")
        return Article.from_dict(data)




def document_hash(doc: dict[str, Any]) -> str:
    """Hash of a document's content (without the hash itself), to skip rewriting a copy."""
    content = {k: v for k, v in doc.items() if k != "doc_hash"}
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()
