"""Chain step *cluster*: fold repeats of the same ad together.

Exact repeats share a content hash and join the cluster of the earlier post at once; the rest go
through the near-duplicate index (`pipelines.neardup`, bands kept in the store). A post's
`cluster_id` is the id of its cluster's first post, so "posted in N channels" is a count of the
distinct sources of the posts with that cluster id.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm.attributes import set_committed_value
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
        clusters: dict[int, int] = {}
        pending = []
        for work in todo:
            cluster = exact.get(work.post.content_hash)
            if cluster is None:
                pending.append(work)
            else:
                clusters[work.post.id] = cluster
        # Exact repeats within the batch follow the first of them; the rest go through LSH.
        first_of: dict[str, PostWork] = {}
        for work in pending:
            first_of.setdefault(work.post.content_hash, work)
        found = {a.post_id: a.cluster if a.cluster is not None else a.post_id for a in
                 index.assign_all((w.post.id, w.post.text) for w in first_of.values())}
        for work in pending:
            clusters[work.post.id] = found[first_of[work.post.content_hash].post.id]
        table = Post.__table__
        session.execute(table.update().where(table.c.id == bindparam("post"))
                        .values(cluster_id=bindparam("cluster")),
                        [{"post": post, "cluster": cluster} for post, cluster in clusters.items()])
        for work in todo:  # tell the loaded objects without making them dirty again
            set_committed_value(work.post, "cluster_id", clusters[work.post.id])
