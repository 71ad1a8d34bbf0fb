"""The near-duplicate band index kept in the store, so every crawler process and host shares it.

Implements `pipelines.neardup.BandStore` over the `cluster_head` and `cluster_band` tables inside
the caller's session (and so its transaction).
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from crawler.store.models import ClusterBand, ClusterHead


class SqlBandStore:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._signatures: dict[int, np.ndarray] = {}

    def heads_for(self, keys: list[tuple[int, int]]) -> list[int]:
        rows = self.session.scalars(
            select(ClusterBand.head_post_id).where(
                tuple_(ClusterBand.band, ClusterBand.hash).in_(keys))
        ).all()
        return list(dict.fromkeys(rows))

    def signature_of(self, head: int) -> np.ndarray | None:
        if head not in self._signatures:
            blob = self.session.scalar(
                select(ClusterHead.signature).where(ClusterHead.post_id == head))
            if blob is None:
                return None
            self._signatures[head] = np.frombuffer(blob, dtype=np.uint32)
        return self._signatures[head]

    def add_head(self, head: int, keys: list[tuple[int, int]], signature: np.ndarray) -> None:
        self.session.add(ClusterHead(post_id=head, signature=signature.astype(np.uint32).tobytes()))
        self.session.flush()
        self.session.add_all(ClusterBand(band=band, hash=digest, head_post_id=head)
                             for band, digest in keys)
        self._signatures[head] = signature
