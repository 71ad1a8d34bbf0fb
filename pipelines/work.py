"""What flows between the steps of the processing chain: one post and what was learned of it."""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.items import PostItem
from crawler.store.models import Post, Source
from detection.verdict import Verdict


@dataclass(slots=True)
class PostWork:
    post: Post
    source: Source
    item: PostItem | None = None  # what the crawler brought (None when re-scoring)
    change: str = ""  # new | edited | updated | unchanged (store step) | rescored
    verdict: Verdict | None = None  # set by the score step for new and edited posts
    new_entities: list[int] = field(default_factory=list)  # entity ids first seen now

    @property
    def label(self) -> str:
        """How to name this post in a log line."""
        return f"{self.source.platform}:{self.source.handle}/{self.post.external_id}"

    @property
    def scored(self) -> bool:
        return self.verdict is not None

    @property
    def flagged(self) -> bool:
        return self.verdict is not None and self.verdict.category != "none"
