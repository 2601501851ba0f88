"""Statements in Elasticsearch: one document per statement, with all its reports.

The SQLite store stays the system of record: a statement is ``pending`` there until it has
been written here (``push``), and statements removed from the store are deleted here at the
next push. The index is ``<index.name>-statements``, created from ``mappings/statements.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from search.elastic import ElasticsearchBackend, _reason
from search.store import SQLiteStore

MAPPING = Path(__file__).parent / "mappings" / "statements.json"


@dataclass
class StatementPush:
    written: int = 0
    deleted: int = 0
    rejected: dict[str, str] = field(default_factory=dict)


class StatementIndex:
    def __init__(self, backend: ElasticsearchBackend) -> None:
        self.backend = backend
        self.name = f"{backend.name}-statements"

    def init(self) -> bool:
        """Create the index unless it exists; True when it was created."""
        client = self.backend.client
        if self.backend._call(client.indices.exists, index=self.name):
            return False
        body = json.loads(MAPPING.read_text(encoding="utf-8"))
        self.backend._call(client.indices.create, index=self.name, settings=body["settings"],
                           mappings=body["mappings"])
        return True

    @staticmethod
    def document(statement: dict[str, Any]) -> dict[str, Any]:
        reports = statement["reports"]
        return {
            **{k: statement[k] for k in ("id", "speaker_key", "speaker_actor", "speaker_name",
                                         "text", "pivot_text", "first_published")},
            "story_ids": sorted({r["story_id"] or r["article_id"] for r in reports}),
            "article_ids": sorted({r["article_id"] for r in reports}),
            "outlets": sorted({r["outlet"] for r in reports}),
            "languages": sorted({r["language"] for r in reports if r["language"]}),
            "reports": reports,
        }

    def push(self, store: SQLiteStore, batch: int = 200) -> StatementPush:
        """Write pending statements and delete removed ones; BackendUnavailable leaves them
        pending for the next push."""
        self.init()
        report = StatementPush()
        removed = store.statements_removed()
        if removed:
            operations = [{"delete": {"_index": self.name, "_id": i}} for i in removed]
            self.backend._call(self.backend.client.bulk, operations=operations)
            store.forget_removed_statements(removed)
            report.deleted += len(removed)
        while True:
            pending = store.statements_pending_index(batch, exclude=list(report.rejected))
            if not pending:
                break
            operations: list[dict[str, Any]] = []
            for statement in pending:
                operations.append({"index": {"_index": self.name, "_id": statement["id"]}})
                operations.append(self.document(statement))
            answer = self.backend._call(self.backend.client.bulk, operations=operations)
            done = []
            for item in answer["items"]:
                result = next(iter(item.values()))
                if 200 <= int(result.get("status", 500)) < 300:
                    done.append(str(result["_id"]))
                else:
                    report.rejected[str(result["_id"])] = _reason(result.get("error"))
            store.mark_statements_indexed(done)
            report.written += len(done)
            if not done:
                break
        self.backend.refresh(self.name)
        return report

    def _find(self, filters: list[dict[str, Any]], size: int = 1000) -> list[dict[str, Any]]:
        body = {"query": {"bool": {"filter": filters}}, "size": size,
                "sort": [{"first_published": "asc"}, {"id": "asc"}]}
        answer = self.backend._call(self.backend.client.search, index=self.name, body=body)
        out = []
        for hit in answer["hits"]["hits"]:
            source = hit["_source"]
            out.append({k: source.get(k) for k in ("id", "speaker_key", "speaker_actor",
                                                   "speaker_name", "text", "pivot_text",
                                                   "first_published", "reports")})
        return out

    def statements_for_actor(self, actor_id: str, since: str | None = None,
                             story_id: str | None = None) -> list[dict[str, Any]]:
        """The same answer as ``SQLiteStore.statements_for_actor``, from Elasticsearch."""
        filters: list[dict[str, Any]] = [{"term": {"speaker_actor": actor_id}}]
        if since:
            filters.append({"range": {"first_published": {"gte": since}}})
        if story_id:
            filters.append({"terms": {"story_ids": [story_id]}})
        return self._find(filters)

    def story_responses(self, story_id: str) -> list[dict[str, Any]]:
        return self._find([{"terms": {"story_ids": [story_id]}}])

    def statement_counts(self) -> dict[str, int]:
        """Statements per watched actor (``SQLiteStore.statement_counts``, from the index)."""
        body = {"size": 0, "query": {"bool": {"must_not": [{"term": {"speaker_actor": ""}}]}},
                "aggs": {"actors": {"terms": {"field": "speaker_actor", "size": 10_000}}}}
        answer = self.backend._call(self.backend.client.search, index=self.name, body=body)
        return {b["key"]: b["doc_count"] for b in answer["aggregations"]["actors"]["buckets"]}
