"""Near-duplicate clustering of posts with MinHash LSH (datasketch's MinHash, banded index).

The same ad is reposted across channels with another price, handle or emoji. A post's text is
reduced to a *shape* (lower case, handles, links and numbers replaced by placeholders, spacing
folded), cut into character 4-grams, and summarised by a 64-permutation MinHash. The signature is
split into 16 bands of 4 rows: two posts whose shapes have Jaccard similarity around 0.5 or more
very probably share a band (the LSH threshold), and a match is confirmed when the estimated
similarity reaches `threshold` (0.6 by default).

Clusters are incremental: a new post looks up its bands among the cluster *heads* (the first post
of each cluster); if one is similar enough it joins that cluster, otherwise it becomes a head and
its bands are added. Each post costs a constant number of index lookups, so the cost grows
linearly with the number of posts. The band index lives behind `BandStore`: in memory for one
process, or in the database (`pipelines.cluster_store.SqlBandStore`) so every crawler process and
host shares it.
"""

from __future__ import annotations

import operator
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from datasketch import MinHash

NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS
SHINGLE = 4
SEED = 1

_PLACEHOLDERS = (
    (re.compile(r"(?:https?://|www\.)\S+|\b[a-z2-7]{56}\.onion\b", re.I), " ‹url› "),
    (re.compile(r"@[\w.]+|\bt\.me/\S+", re.I), " ‹handle› "),
    (re.compile(r"\d[\d\s.,]*"), "‹n›"),
    (re.compile(r"[^\w‹›]+"), " "),
)


def text_shape(text: str) -> str:
    """What stays the same when a shop reposts an ad: words, without prices, handles, links."""
    shape = text.lower()
    for pattern, replacement in _PLACEHOLDERS:
        shape = pattern.sub(replacement, shape)
    return " ".join(shape.split())


class Signer:
    """Computes MinHash signatures with fixed permutations (stable across processes)."""

    def __init__(self) -> None:
        template = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=operator.index)
        self._permutations = template.permutations
        self._scheme = template.scheme

    @staticmethod
    def shingle_hashes(shape: str) -> np.ndarray:
        """A 32-bit hash of every character 4-gram, computed at once over the code points
        (the same on every machine and run, unlike Python's salted hash())."""
        codes = np.frombuffer(shape.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        hashes = np.zeros(len(codes) - SHINGLE + 1, dtype=np.uint64)
        for offset in range(SHINGLE):
            hashes = hashes * np.uint64(0x9E3779B1) + codes[offset:len(codes) - SHINGLE + 1
                                                           + offset]
            hashes &= np.uint64(0xFFFFFFFF)
        return np.unique(hashes)

    def signature(self, text: str) -> np.ndarray | None:
        """The MinHash of a text's shape, or None when it is too short to compare."""
        shape = text_shape(text)
        if len(shape) < 3 * SHINGLE:
            return None
        minhash = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=operator.index,
                          permutations=self._permutations, scheme=self._scheme)
        minhash.update_batch(self.shingle_hashes(shape).tolist())
        return minhash.hashvalues.astype(np.uint32)


def band_keys(signature: np.ndarray) -> list[tuple[int, int]]:
    """(band number, 63-bit hash of the band's rows) for each band."""
    keys = []
    for band in range(BANDS):
        rows = signature[band * ROWS:(band + 1) * ROWS].tobytes()
        digest = zlib.crc32(rows, band) << 31 ^ zlib.adler32(rows)
        keys.append((band, digest & 0x7FFFFFFFFFFFFFFF))
    return keys


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a == b)) / len(a)


class BandStore(Protocol):
    def heads_for(self, keys: list[tuple[int, int]]) -> list[int]: ...
    def signature_of(self, head: int) -> np.ndarray | None: ...
    def add_head(self, head: int, keys: list[tuple[int, int]], signature: np.ndarray) -> None: ...


class MemoryBandStore:
    """The band index in a dict: for one process, tests and benchmarks."""

    def __init__(self) -> None:
        self._bands: dict[tuple[int, int], list[int]] = {}
        self._signatures: dict[int, np.ndarray] = {}

    def heads_for(self, keys: list[tuple[int, int]]) -> list[int]:
        found: list[int] = []
        for key in keys:
            found.extend(self._bands.get(key, ()))
        return list(dict.fromkeys(found))

    def signature_of(self, head: int) -> np.ndarray | None:
        return self._signatures.get(head)

    def add_head(self, head: int, keys: list[tuple[int, int]], signature: np.ndarray) -> None:
        self._signatures[head] = signature
        for key in keys:
            self._bands.setdefault(key, []).append(head)

    def __len__(self) -> int:
        return len(self._signatures)


@dataclass(slots=True)
class Assignment:
    post_id: int
    cluster: int | None  # the head's post id; None when the text is too short to cluster
    similarity: float  # to the head (1.0 for a new head)


class NearDuplicateIndex:
    """Assigns posts to clusters of near-duplicates, incrementally."""

    def __init__(self, store: BandStore, threshold: float = 0.6, signer: Signer | None = None):
        self.store = store
        self.threshold = threshold
        self.signer = signer or Signer()

    def assign(self, post_id: int, text: str) -> Assignment:
        signature = self.signer.signature(text)
        if signature is None:
            return Assignment(post_id, None, 0.0)
        keys = band_keys(signature)
        best, best_similarity = None, 0.0
        for head in self.store.heads_for(keys):
            head_signature = self.store.signature_of(head)
            if head_signature is None:
                continue
            score = similarity(signature, head_signature)
            if score > best_similarity:
                best, best_similarity = head, score
        if best is not None and best_similarity >= self.threshold:
            return Assignment(post_id, best, best_similarity)
        self.store.add_head(post_id, keys, signature)
        return Assignment(post_id, post_id, 1.0)

    def assign_all(self, posts: Iterable[tuple[int, str]]) -> list[Assignment]:
        return [self.assign(post_id, text) for post_id, text in posts]
