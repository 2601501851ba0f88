"""MinHash signatures (datasketch) and the LSH band keys that make candidate lookup constant-time.

A signature is a datasketch ``LeanMinHash`` serialized little-endian, so stored signatures stay
comparable across machines. The band layout (``bands`` x ``rows``) comes from datasketch's
``MinHashLSH`` parameter optimisation; the buckets themselves live in SQLite (see ``index.py``)
so that the index persists with the store instead of being rebuilt in memory on every run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

_SEED = 1
_SCHEME = "affine32"
_BYTEORDER = "<"


class Sketcher:
    """Builds and compares MinHash signatures with one fixed set of permutations."""

    def __init__(self, num_perm: int, lsh_threshold: float) -> None:
        self.num_perm = num_perm
        template = MinHash(num_perm=num_perm, seed=_SEED, scheme=_SCHEME)
        self._permutations = template.permutations  # computed once, shared by every signature
        lsh = MinHashLSH(threshold=lsh_threshold, num_perm=num_perm)
        self.bands, self.rows = lsh.b, lsh.r

    def signature(self, items: Iterable[str]) -> LeanMinHash:
        minhash = MinHash(
            num_perm=self.num_perm, seed=_SEED, permutations=self._permutations, scheme=_SCHEME
        )
        minhash.update_batch([item.encode("utf-8") for item in items])
        return LeanMinHash(minhash)

    @staticmethod
    def dumps(signature: LeanMinHash) -> bytes:
        buf = bytearray(signature.bytesize(_BYTEORDER))
        signature.serialize(buf, _BYTEORDER)
        return bytes(buf)

    @staticmethod
    def loads(data: bytes) -> LeanMinHash:
        return LeanMinHash.deserialize(data, _BYTEORDER)

    def band_keys(self, signature: LeanMinHash) -> list[tuple[int, int]]:
        """(band, bucket) pairs: two signatures share a bucket when a whole band of rows agrees."""
        values = np.asarray(signature.hashvalues, dtype="<u4")
        keys = []
        for band in range(self.bands):
            chunk = values[band * self.rows : (band + 1) * self.rows].tobytes()
            digest = hashlib.blake2b(chunk, digest_size=8).digest()
            keys.append((band, int.from_bytes(digest, "little", signed=True)))
        return keys

    @staticmethod
    def jaccard(a: LeanMinHash, b: LeanMinHash) -> float:
        return float(a.jaccard(b))


def containment(jaccard: float, size_a: int, size_b: int) -> float:
    """Share of the smaller set found in the larger one, from their Jaccard and exact sizes.

    |A ∩ B| = J (|A| + |B|) / (1 + J); a trimmed copy of a text is contained in it even when
    their Jaccard is low because the original is much longer.
    """
    if not size_a or not size_b:
        return 0.0
    overlap = jaccard * (size_a + size_b) / (1.0 + jaccard)
    return min(1.0, overlap / min(size_a, size_b))
