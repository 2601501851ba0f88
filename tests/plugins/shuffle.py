"""A Scrapy memory queue that hands out requests in a seeded random order, for tests that must
show a result does not depend on the order pages arrive in.

    newsmon crawl -s SCHEDULER_MEMORY_QUEUE=tests.plugins.shuffle.ShuffledQueue \
                  -s SCHEDULER_START_MEMORY_QUEUE=tests.plugins.shuffle.ShuffledQueue \
                  -s NEWSMON_TEST_SHUFFLE_SEED=3
"""

from __future__ import annotations

import random
from typing import Any


class ShuffledQueue:
    """Pops a random element; each queue of a crawl draws from its own seeded generator."""

    _made = 0  # queues created in this process, so two priorities do not pop in step

    def __init__(self, seed: int) -> None:
        ShuffledQueue._made += 1
        self.rng = random.Random(f"{seed}:{ShuffledQueue._made}")
        self.items: list[Any] = []

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> ShuffledQueue:
        return cls(crawler.settings.getint("NEWSMON_TEST_SHUFFLE_SEED"))

    def push(self, obj: Any) -> None:
        self.items.append(obj)

    def pop(self) -> Any | None:
        if not self.items:
            return None
        i = self.rng.randrange(len(self.items))
        self.items[i], self.items[-1] = self.items[-1], self.items[i]
        return self.items.pop()

    def close(self) -> None:
        self.items.clear()

    def __len__(self) -> int:
        return len(self.items)
