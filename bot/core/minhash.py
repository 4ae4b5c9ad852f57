"""MinHash signatures and LSH band keys of articles, and comparing them (see bot.core.cluster).

MinHash. Each feature (bot.core.headline_features) is hashed with zlib.crc32 (stable across
processes, unlike the salted hash()), then by `NUM_PERM` = 192 multiply-add-shift hashes whose
coefficients come from blake2b of `SCHEME`. The signature is the 192 minima as little-endian
uint32, 768 bytes. `similarity` is the fraction of equal positions: an unbiased Jaccard
estimate, standard error about 0.03 near the threshold.

LSH. The minima form `BANDS` = 64 bands of `ROWS` = 3. Each band key is a multilinear hash of
the band's three minima, top 56 bits, with the band index in the top byte: band i never
collides with band j, and every key is a non-negative signed 64-bit integer (a PostgreSQL
BIGINT). The in-memory index keys a band by the top 32 bits of the same hash (`band_hashes`).
Changing anything that alters signatures or band keys (features, stemming, parameters) must
change `SCHEME`: stored signatures would stop matching new ones.

Compact signatures. The index of the window keeps the low 16 bits of each minimum
(`compact`, 384 bytes): two different minima agree on them with probability 2**-16, so a
comparison counts on average 0.003 extra equal positions out of 192 (a decision at the
threshold changes for about 1 pair in 300 that sit exactly one position below it).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bot.core.headline_features import features as _features

SCHEME = "nkru-cluster-v1"
NUM_PERM = 192
BANDS = 64
ROWS = 3
THRESHOLD = 0.25
# Below this, one shared word is already J >= 0.2 and two J >= 0.5: too little to tell
# stories apart, so such an article always starts a story of its own.
MIN_FEATURES = 4
SIGNATURE_BYTES = 4 * NUM_PERM
COMPACT_BYTES = 2 * NUM_PERM
EMPTY_SIGNATURE = b"\xff" * SIGNATURE_BYTES

U16 = npt.NDArray[np.uint16]
U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What layer (b) needs of one article: the stored signature and LSH band keys."""

    signature: bytes  # NUM_PERM MinHash values, little-endian uint32
    band_keys: tuple[int, ...]  # BANDS non-negative int64 keys; empty = never cluster
    features: frozenset[str] = field(default=frozenset(), compare=False)  # for debugging


def _stable_u64(label: str, count: int) -> U64:
    # blake2b, not numpy.random: Generator streams may change between numpy releases, and
    # stored signatures must stay valid across upgrades.
    words = [
        int.from_bytes(hashlib.blake2b(f"{label}/{i}".encode(), digest_size=8).digest(), "little")
        for i in range(count)
    ]
    return np.array(words, dtype=np.uint64)


_PERM_MUL = _stable_u64(f"{SCHEME}/mul", NUM_PERM) | np.uint64(1)
_PERM_ADD = _stable_u64(f"{SCHEME}/add", NUM_PERM)
_BAND_MUL = _stable_u64(f"{SCHEME}/band-mul", BANDS * ROWS) | np.uint64(1)
_BAND_ADD = _stable_u64(f"{SCHEME}/band-add", BANDS)
_BAND_INDEX = np.arange(BANDS, dtype=np.uint64) << np.uint64(56)


def _minhash(features: Iterable[str]) -> U32:
    keys = np.array([zlib.crc32(f.encode()) for f in features], dtype=np.uint64)[:, None]
    # Multiply-add-shift: a strongly universal 32-bit hash per permutation. uint64 arithmetic
    # wraps modulo 2**64 by design, and the shift is monotonic, so it can follow the min.
    # Features run down axis 0: an element-wise minimum over rows is the fastest reduction.
    values = keys * _PERM_MUL
    values += _PERM_ADD
    mins: U64 = values.min(axis=0)
    return (mins >> np.uint64(32)).astype(np.uint32)


def _mixed(sigs: U32) -> U64:
    """The 64-bit multilinear hash of every band of each signature (rows: signatures)."""
    products = sigs.astype(np.uint64) * _BAND_MUL
    mixed = np.broadcast_to(_BAND_ADD, (*sigs.shape[:-1], BANDS)).copy()
    for row in range(ROWS):
        mixed += products[..., row::ROWS]
    return mixed


def _band_keys(sig: U32) -> tuple[int, ...]:
    # Top 56 bits: distinct bands collide with probability about 2**-32, and the band index
    # in the top byte keeps bands apart.
    keys: list[int] = ((_mixed(sig) >> np.uint64(8)) | _BAND_INDEX).tolist()
    return tuple(keys)


def fingerprint(title: str, summary: str) -> Fingerprint:
    """Fingerprint an article from its title and summary; identical in every process."""
    features = _features(title, summary)
    if len(features) < MIN_FEATURES:
        # Too little text to tell stories apart: no band keys, so never a candidate or match.
        return Fingerprint(EMPTY_SIGNATURE, (), features)
    sig = _minhash(features)
    return Fingerprint(sig.astype("<u4").tobytes(), _band_keys(sig), features)


def indexable(signature: bytes) -> bool:
    """Whether a stored signature can cluster (this scheme's, from enough text)."""
    return len(signature) == SIGNATURE_BYTES and signature != EMPTY_SIGNATURE


def band_keys_of(signature: bytes) -> tuple[int, ...]:
    """The LSH band keys of a stored signature (what `fingerprint` returned with it)."""
    return _band_keys(as_u32(signature)) if indexable(signature) else ()


def band_keys_of_many(signatures: list[bytes]) -> list[tuple[int, ...]]:
    """`band_keys_of` for each signature, computed together (one set of array operations)."""
    keyed = [i for i, sig in enumerate(signatures) if indexable(sig)]
    found: list[tuple[int, ...]] = [()] * len(signatures)
    if keyed:
        rows: list[list[int]] = (
            (_mixed(signature_matrix([signatures[i] for i in keyed])) >> np.uint64(8)) | _BAND_INDEX
        ).tolist()
        for i, keys in zip(keyed, rows, strict=True):
            found[i] = tuple(keys)
    return found


def signature_matrix(signatures: Sequence[bytes]) -> U32:
    """Signatures (each `SIGNATURE_BYTES` long) as the rows of one uint32 matrix."""
    flat = np.frombuffer(b"".join(signatures), dtype="<u4")
    return flat.reshape(len(signatures), NUM_PERM).astype(np.uint32, copy=False)


def band_hashes(sigs: U32) -> U32:
    """The 32-bit key of every band of each signature: what the in-memory index looks up."""
    return (_mixed(sigs) >> np.uint64(32)).astype(np.uint32)


def compact(sigs: U32) -> U16:
    """The low 16 bits of every minimum: what the in-memory index keeps and compares."""
    return sigs.astype(np.uint16)


def as_u32(signature: bytes) -> U32:
    """A stored signature as an array of its minima."""
    return np.frombuffer(signature, dtype="<u4")


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures; 0.0 if either is empty or foreign."""
    if len(a) != len(b) or not a or a == EMPTY_SIGNATURE or b == EMPTY_SIGNATURE:
        return 0.0
    return float(np.count_nonzero(as_u32(a) == as_u32(b))) / (len(a) // 4)


def _scores(mine: U32, signatures: list[bytes]) -> npt.NDArray[np.int64]:
    """Equal positions of each signature with `mine`: full ones on all 32 bits, compact ones
    on the low 16; -1 for a signature of another length (another scheme's)."""
    if all(len(signature) == SIGNATURE_BYTES for signature in signatures):  # the usual case
        flat = np.frombuffer(b"".join(signatures), dtype=np.uint32)
        equal: npt.NDArray[np.int64] = np.add.reduce(
            flat.reshape(len(signatures), -1) == mine, axis=1, dtype=np.int64
        )
        return equal
    scores = np.full(len(signatures), -1, dtype=np.int64)
    for size, reference in ((SIGNATURE_BYTES, mine), (COMPACT_BYTES, mine.astype(np.uint16))):
        picked = [i for i, sig in enumerate(signatures) if len(sig) == size]
        if picked:
            flat = np.frombuffer(b"".join(signatures[i] for i in picked), dtype=reference.dtype)
            # add.reduce, not count_nonzero(axis=1): the same counts without numpy's wrappers.
            scores[picked] = np.add.reduce(flat.reshape(len(picked), -1) == reference, axis=1)
    return scores


def best_candidate(fp: Fingerprint, candidates: Iterable[tuple[int, bytes]]) -> tuple[int, int]:
    """(story id, equal positions) of the candidate most similar to `fp`; ties go to the
    earliest. (0, -1) when there is none that can be compared."""
    pairs = candidates if isinstance(candidates, list) else list(candidates)
    if not fp.band_keys or not pairs or len(fp.signature) != SIGNATURE_BYTES:
        return 0, -1
    mine = as_u32(fp.signature)
    if len(pairs) == 1 and len(pairs[0][1]) == SIGNATURE_BYTES:  # the usual case: no matrix
        story_id, signature = pairs[0]
        return story_id, int(np.count_nonzero(as_u32(signature) == mine))
    scores = _scores(mine, [signature for _, signature in pairs])
    best = int(scores.argmax())
    return pairs[best][0], int(scores[best])


def best_match(
    fp: Fingerprint, candidates: Iterable[tuple[int, bytes]], threshold: float = THRESHOLD
) -> int | None:
    """Story id of the most similar candidate at or above `threshold`, else None.

    Candidates carry full signatures or compact ones (what `StoryIndex.candidates` returns).
    """
    story_id, equal = best_candidate(fp, candidates)
    return story_id if equal >= 0 and equal >= threshold * NUM_PERM else None
