"""Chain step *cluster*: fold repeats of the same ad together.

Exact repeats share a content hash and join the cluster of the earlier post at once; the rest go
through the near-duplicate index (`pipelines.neardup`, bands kept in the store). A post's
`cluster_id` is the id of its cluster's first post, so "posted in N channels" is a count of the
distinct sources of the posts with that cluster id.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm import Session

from crawler.store.models import Candidate, ClusterBand, ClusterHead, Post
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
        # Earlier posts with the same text (not these posts themselves: an edited post has its
        # new hash already, and must not find its own old cluster), oldest cluster first.
        exact: dict[str, int] = {}
        for digest, cluster in session.execute(
                select(Post.content_hash, Post.cluster_id).where(
                    Post.content_hash.in_(hashes), Post.cluster_id.is_not(None),
                    Post.id.not_in([w.post.id for w in todo]))
                .order_by(Post.cluster_id)):
            exact.setdefault(digest, cluster)
        for work in todo:
            if work.change == "edited":
                release_head(session, work.post.id)
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


def release_head(session: Session, post_id: int) -> None:
    """An edited post no longer says what its cluster says. If it headed a cluster, the next
    oldest member takes over (signature, bands, members and a candidate on the cluster);
    a cluster with no other member is dropped. Then the post can be clustered afresh."""
    head = session.get(ClusterHead, post_id)
    if head is None:
        return
    successor = session.scalar(select(func.min(Post.id)).where(
        Post.cluster_id == post_id, Post.id != post_id))
    if successor is not None:
        session.add(ClusterHead(post_id=successor, signature=head.signature))
        session.flush()
        session.execute(sql_update(ClusterBand).where(ClusterBand.head_post_id == post_id)
                        .values(head_post_id=successor))
        session.execute(sql_update(Post).where(Post.cluster_id == post_id, Post.id != post_id)
                        .values(cluster_id=successor))
        session.execute(sql_update(Candidate).where(
            Candidate.subject_type == "post", Candidate.subject_id == post_id)
            .values(subject_id=successor))
    session.execute(sql_delete(ClusterBand).where(ClusterBand.head_post_id == post_id))
    session.delete(head)
    session.flush()
