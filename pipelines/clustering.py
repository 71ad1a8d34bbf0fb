"""Chain step *cluster*: fold repeats of the same ad together.

Exact repeats share a content hash and join the cluster of the earlier post at once; the rest go
through the near-duplicate index (`pipelines.neardup`, bands kept in the store). A post's
`cluster_id` is the id of its cluster's first post, so "posted in N channels" is a count of the
distinct sources of the posts with that cluster id.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.store.models import Post
from pipelines.cluster_store import SqlBandStore
from pipelines.neardup import NearDuplicateIndex, Signer
from pipelines.work import PostWork


class ClusterStep:
    name = "cluster"

    def __init__(self, threshold: float = 0.6) -> None:
        self.threshold = threshold
        self.signer = Signer()

    def run(self, session: Session, works: list[PostWork]) -> None:
        todo = [w for w in works if w.change in ("new", "edited") and w.post.text.strip()]
        if not todo:
            return
        session.flush()
        hashes = {w.post.content_hash for w in todo}
        exact = dict(session.execute(
            select(Post.content_hash, Post.cluster_id).where(
                Post.content_hash.in_(hashes), Post.cluster_id.is_not(None))
        ).all())
        index = NearDuplicateIndex(SqlBandStore(session), self.threshold, self.signer)
        for work in todo:
            post = work.post
            cluster = exact.get(post.content_hash)
            if cluster is None:
                cluster = index.assign(post.id, post.text).cluster
            if cluster is None:  # too short to compare: its own cluster
                cluster = post.id
            post.cluster_id = cluster
            exact.setdefault(post.content_hash, cluster)
