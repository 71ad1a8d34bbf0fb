"""The near-duplicate band index kept in the store, so every crawler process and host shares it.

Implements `pipelines.neardup.BandStore` over the `cluster_head` and `cluster_band` tables inside
the caller's session (and so its transaction).
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.store.models import ClusterBand, ClusterHead


class SqlBandStore:
    CHUNK = 900  # values per IN list: well under every backend's parameter limit

    def __init__(self, session: Session) -> None:
        self.session = session

    def heads_for(self, keys: list[tuple[int, int]]) -> dict[tuple[int, int], list[int]]:
        wanted = set(keys)
        hashes = sorted({digest for _, digest in keys})
        found: dict[tuple[int, int], list[int]] = {}
        for start in range(0, len(hashes), self.CHUNK):
            rows = self.session.execute(
                select(ClusterBand.band, ClusterBand.hash, ClusterBand.head_post_id).where(
                    ClusterBand.hash.in_(hashes[start:start + self.CHUNK]))).all()
            for band, digest, head in rows:
                if (band, digest) in wanted:
                    found.setdefault((band, digest), []).append(head)
        return found

    def signatures_of(self, heads: list[int]) -> dict[int, np.ndarray]:
        found = {}
        for start in range(0, len(heads), self.CHUNK):
            for head, blob in self.session.execute(
                    select(ClusterHead.post_id, ClusterHead.signature).where(
                        ClusterHead.post_id.in_(heads[start:start + self.CHUNK]))):
                found[head] = np.frombuffer(blob, dtype=np.uint32)
        return found

    def add_heads(self, heads: list[tuple[int, list[tuple[int, int]], np.ndarray]]) -> None:
        if not heads:
            return
        self.session.execute(ClusterHead.__table__.insert(), [
            {"post_id": head, "signature": signature.astype(np.uint32).tobytes()}
            for head, _, signature in heads])
        self.session.execute(ClusterBand.__table__.insert(), [
            {"band": band, "hash": digest, "head_post_id": head}
            for head, keys, _ in heads for band, digest in keys])
