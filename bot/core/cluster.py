"""Layer-(b) dedup: recognise one story reported by several outlets (MinHash + LSH).

Pure code, no I/O. The storage layer keeps, per story, the `Fingerprint.signature` blob and
one `story_bands(band_key BIGINT, story_id)` row per `Fingerprint.band_keys` entry. For each
new article the pipeline calls `fingerprint`, fetches the stories (seen within the window)
that share at least one band key, and lets `best_match` pick one or none. The cost per
article is one indexed lookup of `BANDS` keys plus a vectorised comparison with the few
candidates found, not a scan of every story in the window.

Features. Title and summary are NFKC-normalised and casefolded; wire markers ("UPDATE 1-",
"(LEAD)", "Reuters:", " - Outlet") are dropped, multi-word names joined ("N. Korea", "DPRK"
-> nkorea; "Kim Jong Un" -> kim), stopwords removed (English, a few Russian and Korean,
weekdays, reporting verbs, outlet names), Latin words lightly stemmed and cut to 6 letters
("bridges"/"bridge", "opened"/"opens", "renewal"/"renew" meet), Cyrillic words cut to 5
letters, Hangul words split into syllable bigrams (particles glue onto nouns), numbers kept
("3,000" -> 3000). The feature set is every title token plus the first `SUMMARY_TOKENS`
summary tokens. The title weighs more because a title is short: each title token is a
larger share of the set than any summary token. (Measured on the labelled set in
tests/core/test_cluster.py: doubling title tokens or adding title bigrams separated
same-story from different-story pairs worse, because outlets reword and reorder titles.)

MinHash. Each feature is hashed with zlib.crc32 (stable across processes, unlike the
salted hash()), then by `NUM_PERM` = 192 multiply-add-shift hashes whose coefficients come
from blake2b of `SCHEME`. The signature is the 192 minima as little-endian uint32:
768 bytes. `similarity` is the fraction of equal positions, an unbiased Jaccard estimate
with standard error about 0.03 near the threshold.

LSH. The 192 minima form `BANDS` = 64 bands of `ROWS` = 3 rows. A story becomes a
candidate when at least one band is equal, with probability P(J) = 1 - (1 - J**3)**64:

    Jaccard J   0.05   0.10   0.15   0.20   0.25   0.30   0.35   0.40   0.50
    P(J)        0.008  0.062  0.19   0.40   0.63   0.82   0.94   0.98   >0.999

The S-curve's midpoint (1/64)**(1/3) = 0.25 equals the verification `THRESHOLD`.

Why these values: same-story pairs written by different outlets measure J = 0.2-0.6
(median about 0.39) on the labelled set, and different stories on the same topic
J = 0-0.4 (median 0.07, 99th percentile 0.22). Three rows is the most that still
catches J around 0.3 at a practical band count; four rows (32 x 4 or 64 x 4) lose half the
same-story pairs, and two rows make about a third of every same-topic story in the window
a candidate. 64 x 3 makes about 5% of same-topic stories and 0.3% of unrelated stories
candidates; `best_match` then rejects them by the full-signature estimate.

Each band key is a multilinear hash of the band's three minima, top 56 bits, with the band
index in the top byte: band i never collides with band j, and every key is a non-negative
signed 64-bit integer (a PostgreSQL BIGINT). Changing anything that alters signatures or
band keys must change `SCHEME`, since stored keys would no longer match new ones.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

SCHEME = "nkru-cluster-v1"
NUM_PERM = 192
BANDS = 64
ROWS = 3
THRESHOLD = 0.25
SUMMARY_TOKENS = 30
STEM_LENGTH = 6
MIN_FEATURES = 3  # fewer features than this cannot tell stories apart

_U32 = npt.NDArray[np.uint32]
_U64 = npt.NDArray[np.uint64]

# Wire-service markers carry no content and differ between copies of one story.
_PREFIX_RE = re.compile(
    r"^\s*(?:(?:update|corrected|refile|exclusive|breaking|urgent|analysis|factbox|explainer"
    r"|insight|live|watch|video)\s*\d*\s*[-:–—|]\s*)+",
    re.IGNORECASE,
)
_MARKER_RE = re.compile(r"\((?:lead|urgent|\d+(?:st|nd|rd|th)\s*ld|update\s*\d*)\)", re.IGNORECASE)
# Aggregators append " - Outlet"; only a short tail after a long head is taken for one.
_SUFFIX_RE = re.compile(r"^(\S+(?:\s+\S+){3,})\s+[-–—|]\s+\S+(?:\s+\S+){0,3}\s*$")
_US_RE = re.compile(r"\bU\.?S\.?(?=\W|$)")
_POSSESSIVE_RE = re.compile(r"['’]s\b")
_THOUSANDS_RE = re.compile(r"(?<=\d)[,.'’](?=\d{3}\b)")
_TOKEN_RE = re.compile(r"\w+")
_LATIN_RE = re.compile(r"[a-z]+")
_CYRILLIC_RE = re.compile(r"[а-яё]+")
_HANGUL_RE = re.compile(r"[\uac00-\ud7a3]+")

# Outlets shorten these names differently ("Kim", "Kim Jong Un", "N. Korea", "DPRK").
_PHRASES = {
    r"kim\s+jong[\s-]+un": "kim",
    r"vladimir\s+(?:v\.\s+)?putin": "putin",
    r"sergei\s+(lavrov|shoigu)": r"\1",
    r"(?:north|n\.)\s*korean?s?|dprk": "nkorea",
    r"(?:south|s\.)\s*korean?s?|rok": "skorea",
}
_PHRASE_RES = [(re.compile(rf"\b(?:{p})\b", re.IGNORECASE), r) for p, r in _PHRASES.items()]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_STOP_EN = frozenset(
    _words(
        """
    a an the and or but nor of to in on at by for from with without into onto over under
    about after before during since until than as via per amid among between against
    is are was were be been being am has have had having do does did will would shall should
    can could may might must it its this that these those there here he she they we you i me
    him her them his their our your who whom whose which what when where why how not no yes
    so if then also just more most very much many some any all each other such own same
    only both either neither again further once new says said say saying tells told reports
    reported report according amp first year time state media official leader president
    country government people
    monday tuesday wednesday thursday friday saturday sunday today yesterday week
    reuters ap afp yonhap tass ria novosti kcna bbc cnn nk news guardian interfax bloomberg
    update exclusive lead ld
    """
    )
)
_STOP_RU = frozenset(_words("и в во не что на с со как а к у за по от о об из до для при это"))
_STOP_KO = frozenset(_words("및 등 것 수 위해 대한 이번 지난 오늘 밝혔다 했다 있다"))
_STOPWORDS = _STOP_EN | _STOP_RU | _STOP_KO

_DERIVATIONAL = _words("ation ition ment ness ity ery ary ive ous al er ly")

# Spelling variants, irregular verbs and headline synonyms (keys are stems): outlets
# rephrase one fact with these, and the truncating stemmer cannot join them on its own.
_ALIASES = {
    "korean": "korea",
    "defens": "defenc",
    "labor": "labour",
    "zelenskiy": "zelensky",
    "kiev": "kyiv",
    "km": "kilome",
    "soldi": "troop",
    "pact": "treaty",
    "accord": "treaty",
    "ambass": "envoy",
    "restar": "resum",
    "vessel": "ship",
    "arm": "weapon",
    "muniti": "weapon",
    "ammuni": "weapon",
    "fir": "launch",
    "sent": "send",
    "met": "meet",
    "gave": "giv",
    "given": "giv",
    "took": "tak",
    "taken": "tak",
    "held": "hold",
    "struck": "strik",
    "won": "win",
    "fell": "fall",
    "drop": "fall",
    "slid": "fall",
    "tumbl": "fall",
    "slump": "fall",
    "plung": "fall",
    "rose": "ris",
    "jump": "ris",
    "surg": "ris",
    "soar": "ris",
}


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What layer (b) needs of one article: the stored signature and LSH band keys."""

    signature: bytes  # NUM_PERM MinHash values, little-endian uint32
    band_keys: tuple[int, ...]  # BANDS non-negative int64 keys; empty = never cluster
    features: frozenset[str] = field(default=frozenset(), compare=False)  # for debugging


def _stable_u64(label: str, count: int) -> _U64:
    # blake2b, not numpy.random: Generator streams may change between numpy releases, and
    # stored band keys must stay valid across upgrades.
    words = [
        int.from_bytes(hashlib.blake2b(f"{label}/{i}".encode(), digest_size=8).digest(), "little")
        for i in range(count)
    ]
    return np.array(words, dtype=np.uint64)


_PERM_MUL = _stable_u64(f"{SCHEME}/mul", NUM_PERM)[:, None] | np.uint64(1)
_PERM_ADD = _stable_u64(f"{SCHEME}/add", NUM_PERM)[:, None]
_BAND_MUL = _stable_u64(f"{SCHEME}/band-mul", BANDS * ROWS).reshape(BANDS, ROWS) | np.uint64(1)
_BAND_ADD = _stable_u64(f"{SCHEME}/band-add", BANDS)
_BAND_INDEX = np.arange(BANDS, dtype=np.uint64) << np.uint64(56)
_EMPTY_SIGNATURE = b"\xff" * (4 * NUM_PERM)


def _strip_plural(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and len(word) > 3 and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _strip_inflection(word: str) -> str:
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            # "shipped" -> "ship", but "called" keeps its "ll".
            if word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            return word
    return word


def _stem_latin(word: str) -> str:
    # Light Porter-style stripping; the final cut to STEM_LENGTH absorbs the rest.
    word = _strip_inflection(_strip_plural(word))
    for suffix in _DERIVATIONAL:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word[:STEM_LENGTH]


@functools.lru_cache(maxsize=1 << 16)
def _stems(token: str) -> tuple[str, ...]:
    # Cached: a news vocabulary is small, and stemming in Python dominates the cost.
    if token in _STOPWORDS:
        return ()
    if _LATIN_RE.fullmatch(token):
        stem = _ALIASES.get(s := _stem_latin(token), s)
        return () if len(token) == 1 or stem in _STOPWORDS else (stem,)
    if _CYRILLIC_RE.fullmatch(token):
        return (token[:5],)
    if _HANGUL_RE.fullmatch(token) and len(token) > 2:
        # Particles glue onto Korean nouns; syllable bigrams still overlap across forms.
        return tuple(token[i : i + 2] for i in range(len(token) - 1))
    return (token,)


def _clean_title(title: str) -> str:
    title = _MARKER_RE.sub(" ", _PREFIX_RE.sub("", title))
    return _SUFFIX_RE.sub(r"\1", title)


def _tokens(text: str) -> list[str]:
    text = _THOUSANDS_RE.sub("", _POSSESSIVE_RE.sub("", _US_RE.sub(" usa ", text)))
    for pattern, replacement in _PHRASE_RES:
        text = pattern.sub(replacement, text)
    out: list[str] = []
    for raw in _TOKEN_RE.findall(text.casefold().replace("_", " ")):
        out.extend(_stems(raw))
    return out


def _features(title: str, summary: str) -> frozenset[str]:
    title_tokens = _tokens(_clean_title(unicodedata.normalize("NFKC", title)))
    summary_tokens = _tokens(unicodedata.normalize("NFKC", summary))[:SUMMARY_TOKENS]
    return frozenset(title_tokens).union(summary_tokens)


def _minhash(features: Iterable[str]) -> _U32:
    keys = np.array([zlib.crc32(f.encode()) for f in features], dtype=np.uint64)
    # Multiply-add-shift: a strongly universal 32-bit hash per permutation. uint64 arithmetic
    # wraps modulo 2**64 by design, and the shift is monotonic, so it can follow the min.
    mins: _U64 = (_PERM_MUL * keys + _PERM_ADD).min(axis=1)
    return (mins >> np.uint64(32)).astype(np.uint32)


def _band_keys(sig: _U32) -> tuple[int, ...]:
    # Multilinear hash of each band's rows, top 56 bits: distinct bands collide with
    # probability about 2**-32, and the band index in the top byte keeps bands apart.
    rows = sig.astype(np.uint64).reshape(BANDS, ROWS)
    mixed = (rows * _BAND_MUL).sum(axis=1, dtype=np.uint64) + _BAND_ADD
    keys: list[int] = ((mixed >> np.uint64(8)) | _BAND_INDEX).tolist()
    return tuple(keys)


def fingerprint(title: str, summary: str) -> Fingerprint:
    """Fingerprint an article from its title and summary; identical in every process."""
    features = _features(title, summary)
    if len(features) < MIN_FEATURES:
        # Too little text to tell stories apart: no band keys, so never a candidate or match.
        return Fingerprint(_EMPTY_SIGNATURE, (), features)
    sig = _minhash(features)
    return Fingerprint(sig.astype("<u4").tobytes(), _band_keys(sig), features)


def _as_u32(signature: bytes) -> _U32:
    return np.frombuffer(signature, dtype="<u4")


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures; 0.0 if either is empty or foreign."""
    if len(a) != len(b) or not a or a == _EMPTY_SIGNATURE or b == _EMPTY_SIGNATURE:
        return 0.0
    return float(np.count_nonzero(_as_u32(a) == _as_u32(b))) / (len(a) // 4)


def best_match(
    fp: Fingerprint, candidates: Iterable[tuple[int, bytes]], threshold: float = THRESHOLD
) -> int | None:
    """Story id of the most similar candidate at or above `threshold`, else None."""
    if not fp.band_keys:
        return None
    # A signature of another length comes from another scheme and cannot be compared.
    pairs = [(sid, sig) for sid, sig in candidates if len(sig) == len(fp.signature)]
    if not pairs:
        return None
    matrix = np.frombuffer(b"".join(sig for _, sig in pairs), dtype="<u4")
    equal = matrix.reshape(len(pairs), -1) == _as_u32(fp.signature)
    scores = np.count_nonzero(equal, axis=1)
    best = int(scores.argmax())  # ties go to the earliest candidate
    if scores[best] < threshold * NUM_PERM:
        return None
    return pairs[best][0]


class StoryIndex:
    """In-memory mirror of the story_bands table: band key -> story ids, plus signatures."""

    def __init__(self) -> None:
        self._bands: dict[int, list[int]] = {}
        self._signatures: dict[int, list[bytes]] = {}
        self._keys: dict[int, list[int]] = {}
        self._seen: dict[int, float] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    def add(self, story_id: int, fp: Fingerprint, seen_at: float = 0.0) -> None:
        """Index `fp` under `story_id`; adding to a known story also keeps its new keys."""
        if not fp.band_keys:
            return
        self._signatures.setdefault(story_id, []).append(fp.signature)
        self._keys.setdefault(story_id, []).extend(fp.band_keys)
        self._seen[story_id] = max(seen_at, self._seen.get(story_id, seen_at))
        for key in fp.band_keys:
            ids = self._bands.setdefault(key, [])
            if not ids or ids[-1] != story_id:
                ids.append(story_id)

    def candidates(self, fp: Fingerprint) -> list[tuple[int, bytes]]:
        """(story id, signature) of every story sharing a band key with `fp`."""
        found: set[int] = set()
        for key in fp.band_keys:
            ids = self._bands.get(key)
            if ids is not None:
                found.update(ids)
        return [(sid, sig) for sid in found for sig in self._signatures[sid]]

    def remove_older_than(self, cutoff: float) -> int:
        """Forget stories last seen before `cutoff` (the window's start); return how many."""
        old = [sid for sid, seen in self._seen.items() if seen < cutoff]
        for sid in old:
            for key in set(self._keys.pop(sid)):
                ids = self._bands[key]
                ids[:] = [i for i in ids if i != sid]
                if not ids:
                    del self._bands[key]
            del self._signatures[sid], self._seen[sid]
        return len(old)
