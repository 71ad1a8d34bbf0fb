"""Near-duplicate clustering of posts with MinHash LSH (datasketch's MinHash, banded index).

The same ad is reposted across channels with another price, handle or emoji. A post's text is
reduced to a *shape* (lower case, handles, links and numbers replaced by placeholders, spacing
folded), cut into character 4-grams, and summarised by a 32-permutation MinHash. The signature is
split into 8 bands of 4 rows: two posts whose shapes have Jaccard similarity around 0.6 or more
very probably share a band (the LSH threshold, (1/8)^(1/4)), and a match is confirmed when the
estimated similarity reaches `threshold` (0.6 by default; 32 permutations estimate it within
about ±0.09, plenty to tell a reposted ad from another text, at half the cost of 64).

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

NUM_PERM = 32
BANDS = 8
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
    """MinHash signatures with datasketch's permutations (affine32 scheme, fixed seed), so they
    are the same in every process. `signatures` computes a whole batch in a few numpy
    operations; it gives exactly what `datasketch.MinHash.update_batch` gives one text at a
    time (a test checks), several times faster for short posts."""

    def __init__(self) -> None:
        template = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=operator.index)
        if template.scheme != "affine32":
            raise RuntimeError(f"datasketch's MinHash uses {template.scheme}; expected affine32")
        self._permutations = template.permutations
        self._scheme = template.scheme
        self._a, self._b = (np.asarray(p, dtype=np.uint32) for p in template.permutations)

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
        return np.unique(hashes).astype(np.uint32)

    def minhash(self, text: str) -> MinHash | None:
        """The datasketch MinHash of a text's shape (one text at a time: the reference)."""
        shape = text_shape(text)
        if len(shape) < 3 * SHINGLE:
            return None
        minhash = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=operator.index,
                          permutations=self._permutations, scheme=self._scheme)
        minhash.update_batch(self.shingle_hashes(shape).tolist())
        return minhash

    def signature(self, text: str) -> np.ndarray | None:
        return self.signatures([text])[0]

    def signatures(self, texts: list[str]) -> list[np.ndarray | None]:
        """Signatures of many texts at once; None for a text too short to compare."""
        shingles, owners = [], []
        for index, text in enumerate(texts):
            shape = text_shape(text)
            if len(shape) >= 3 * SHINGLE:
                shingles.append(self.shingle_hashes(shape))
                owners.append(index)
        result: list[np.ndarray | None] = [None] * len(texts)
        if not shingles:
            return result
        starts = np.cumsum([0] + [len(s) for s in shingles[:-1]])
        mixed = _fmix32(np.concatenate(shingles)).reshape(-1, 1)
        with np.errstate(over="ignore"):
            permuted = mixed * self._a + self._b  # wraps modulo 2^32, as datasketch's does
        minima = np.minimum.reduceat(permuted, starts, axis=0)
        for row, index in enumerate(owners):
            result[index] = minima[row]
        return result


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, the pre-mix datasketch applies before its permutations."""
    values = values.astype(np.uint32)
    with np.errstate(over="ignore"):
        values ^= values >> np.uint32(16)
        values *= np.uint32(0x85EBCA6B)
        values ^= values >> np.uint32(13)
        values *= np.uint32(0xC2B2AE35)
        values ^= values >> np.uint32(16)
    return values


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
    def heads_for(self, keys: list[tuple[int, int]]) -> dict[tuple[int, int], list[int]]: ...
    def signatures_of(self, heads: list[int]) -> dict[int, np.ndarray]: ...
    def add_heads(self, heads: list[tuple[int, list[tuple[int, int]], np.ndarray]]) -> None: ...


class MemoryBandStore:
    """The band index in a dict: for one process, tests and benchmarks."""

    def __init__(self) -> None:
        self._bands: dict[int, list[int]] = {}  # by hash alone: it already mixes in the band
        self._signatures: dict[int, np.ndarray] = {}

    def heads_for(self, keys: list[tuple[int, int]]) -> dict[tuple[int, int], list[int]]:
        return {key: self._bands[key[1]] for key in keys if key[1] in self._bands}

    def signatures_of(self, heads: list[int]) -> dict[int, np.ndarray]:
        return {head: self._signatures[head] for head in heads if head in self._signatures}

    def add_heads(self, heads: list[tuple[int, list[tuple[int, int]], np.ndarray]]) -> None:
        for head, keys, signature in heads:
            self._signatures[head] = signature
            for _, digest in keys:
                self._bands.setdefault(digest, []).append(head)

    def __len__(self) -> int:
        return len(self._signatures)


@dataclass(slots=True)
class Assignment:
    post_id: int
    cluster: int | None  # the head's post id; None when the text is too short to cluster
    similarity: float  # to the head (1.0 for a new head)


class NearDuplicateIndex:
    """Assigns posts to clusters of near-duplicates, incrementally, a batch at a time: one
    lookup of all the batch's bands, one of the heads' signatures, one write of the new heads.
    Each post is compared with at most `max_compared` heads, those sharing most bands with it,
    and no band indexes more than `bucket_cap` heads, so the work per post is bounded and the
    total grows linearly with the number of posts."""

    def __init__(self, store: BandStore, threshold: float = 0.6, signer: Signer | None = None,
                 max_compared: int = 8, bucket_cap: int = 16):
        self.store = store
        self.threshold = threshold
        self.signer = signer or Signer()
        self.max_compared = max_compared
        self.bucket_cap = bucket_cap

    def assign(self, post_id: int, text: str) -> Assignment:
        return self.assign_all([(post_id, text)])[0]

    def assign_all(self, posts: Iterable[tuple[int, str]]) -> list[Assignment]:
        posts = list(posts)
        signatures_of_posts = self.signer.signatures([text for _, text in posts])
        prepared = [(post_id, signature, band_keys(signature) if signature is not None else [])
                    for (post_id, _), signature in zip(posts, signatures_of_posts, strict=True)]
        known = self.store.heads_for(sorted({k for _, _, keys in prepared for k in keys}))
        signatures = self.store.signatures_of(sorted({h for hs in known.values() for h in hs}))
        new_heads: list[tuple[int, list[tuple[int, int]], np.ndarray]] = []
        results = []
        for post_id, signature, keys in prepared:
            if signature is None:
                results.append(Assignment(post_id, None, 0.0))
                continue
            shared: dict[int, int] = {}
            for key in keys:
                for head in known.get(key, ()):
                    shared[head] = shared.get(head, 0) + 1
            best, best_similarity = None, 0.0
            for head in sorted(shared, key=lambda h: (-shared[h], h))[:self.max_compared]:
                score = similarity(signature, signatures[head])
                if score > best_similarity:
                    best, best_similarity = head, score
            if best is not None and best_similarity >= self.threshold:
                results.append(Assignment(post_id, best, best_similarity))
                continue
            # A band shared by `bucket_cap` heads already is a commonplace (a greeting, a
            # signature line): the new head is indexed by its other bands only, which keeps
            # every lookup small however many posts there are.
            indexed = [key for key in keys if len(known.get(key, ())) < self.bucket_cap]
            new_heads.append((post_id, indexed, signature))
            signatures[post_id] = signature
            for key in indexed:
                known.setdefault(key, []).append(post_id)
            results.append(Assignment(post_id, post_id, 1.0))
        self.store.add_heads(new_heads)
        return results
