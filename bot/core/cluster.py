"""Layer-(b) dedup: recognise one story reported by several outlets (MinHash + LSH).

Pure code, no I/O. The database keeps, per story, the `Fingerprint.signature` blob (the truth);
`StoryIndex` maps band keys (`band_keys_of(signature)`) to the stories of the window in memory,
kept in step with the database by `bot.core.story_cache`. For each new article the pipeline
calls `fingerprint`, asks the index for the stories that share at least one band key, and
lets `best_match` pick one or none: the cost per article does not grow with the window.

Features. Title and summary are NFKC-normalised and casefolded; wire markers ("UPDATE 1-",
"(LEAD)", "Reuters:", " - Outlet") are dropped, multi-word names joined ("N. Korea", "DPRK"
-> nkorea; "Kim Jong Un" -> kim), stopwords removed (English, a few Russian and Korean,
weekdays, reporting verbs, outlet names), Latin words lightly stemmed and cut to 6 letters
("bridges"/"bridge", "opened"/"opens", "renewal"/"renew" meet), a few headline synonyms
joined (troops/soldiers, pact/treaty), Cyrillic words cut to 5 letters, Hangul words split
into syllable bigrams (particles glue onto nouns), numbers kept ("3,000" -> 3000). The
feature set is every title token plus the first `SUMMARY_TOKENS` summary tokens, so a title
token weighs more than a summary token (a title is short). Doubling title tokens or adding
title bigrams separated the labelled pairs worse: outlets reword and reorder titles.

MinHash. Each feature is hashed with zlib.crc32 (stable across processes, unlike the salted
hash()), then by `NUM_PERM` = 192 multiply-add-shift hashes whose coefficients come from
blake2b of `SCHEME`. The signature is the 192 minima as little-endian uint32, 768 bytes.
`similarity` is the fraction of equal positions: an unbiased Jaccard estimate, standard
error about 0.03 near the threshold.

LSH. The minima form `BANDS` = 64 bands of `ROWS` = 3. A story becomes a candidate when at
least one band is equal, which for Jaccard similarity J happens with probability
P(J) = 1 - (1 - J**3)**64:

    J      0.05   0.10   0.15   0.20   0.25   0.30   0.35   0.40   0.50
    P(J)   0.008  0.062  0.19   0.40   0.63   0.83   0.94   0.99   >0.999

The S-curve's midpoint (1/64)**(1/3) = 0.25 equals the verification `THRESHOLD`.

Why 64 x 3: on the labelled set (tests/core/test_cluster.py) same-story pairs from different
outlets measure J = 0.21-0.62 (median 0.39), different stories on the same topic J = 0-0.40
(median 0.06, 99th percentile 0.21). 64 x 3 makes 94% of those same-story pairs
candidates, and 5% of the same-topic different-story pairs. Three rows is the most that
still catches J near 0.3: four (48 x 4) would find only 67% of same-story pairs, while two
(96 x 2) would make 40% of same-topic stories candidates. Measured through
StoryIndex + best_match: 38/40 same-story pairs merged, 6/1,881 same-topic different-story
pairs merged, 0/496 cross-topic pairs.

Cost. Per article: `BANDS` index lookups plus one vectorised comparison per candidate.
Candidates are the true matches plus a fixed share of the rest (the low end of the
S-curve): 5% of same-topic and 0.05% of cross-topic stories on the labelled set, 0.6% of
the synthetic benchmark's stories, whose unrelated pairs overlap more (mean J 0.035).
So cost stays flat while that share of the window is small (a few thousand stories) and
grows slowly beyond: benchmarks/pipeline.py (part 5, its own synthetic headlines) measures
0.9 candidates per lookup at 1,000 stories and 74 at 100,000 (benchmarks/clustering.py, with
a harsher vocabulary, about 600). Flat cost at that size would need four rows, at the recall
cost above.

Each band key is a multilinear hash of the band's three minima, top 56 bits, with the band
index in the top byte: band i never collides with band j, and every key is a non-negative
signed 64-bit integer (a PostgreSQL BIGINT). Changing anything that alters signatures or band
keys (features, stemming, parameters) must change `SCHEME`: stored keys would stop matching.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import itertools
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
# Below this, one shared word is already J >= 0.2 and two J >= 0.5: too little to tell
# stories apart, so such an article always starts a story of its own.
MIN_FEATURES = 4
_SUMMARY_CHARS = 20 * SUMMARY_TOKENS  # comfortably more text than SUMMARY_TOKENS words

_U32 = npt.NDArray[np.uint32]
_U64 = npt.NDArray[np.uint64]

# Wire-service markers carry no content and differ between copies of one story.
_PREFIX_RE = re.compile(
    r"\s*(?:(?:update|corrected|refile|exclusive|breaking|urgent|analysis|factbox|explainer"
    r"|insight|live|watch|video)\s*\d*\s*[-:–—|]\s*)+",
    re.IGNORECASE,
)
_MARKER_RE = re.compile(r"\((?:lead|urgent|\d+(?:st|nd|rd|th)\s*ld|update\s*\d*)\)", re.IGNORECASE)
_SUFFIX_SEPARATORS = (" - ", " | ", " – ", " — ")
_US_RE = re.compile(r"\bU\.?S\.?(?=\W|$)")
_GROUPED_NUMBER_RE = re.compile(r"\d{1,3}(?:[,.'’]\d{3})+")
_WORD_RE = re.compile(r"\w+")
_LATIN_RE = re.compile(r"[a-z]+")
_CYRILLIC_RE = re.compile(r"[а-яё]+")
_HANGUL_RE = re.compile(r"[\uac00-\ud7a3]+")

# str.translate and str.split run at C speed; a regex tokeniser costs several times more.
# Commas, full stops and apostrophes stay, so "10,000" survives as one word; _stems, which
# is cached, splits them and any rarer symbol off.
_KEPT = ",.'’"
_PUNCTUATION = "".join(chr(i) for i in range(128) if not chr(i).isalnum() and chr(i) not in _KEPT)
_PUNCTUATION += "–—‘“”«»…·•‐‑‒―"
_TO_SPACES = str.maketrans(_PUNCTUATION, " " * len(_PUNCTUATION))
_NO_SEPARATORS = str.maketrans("", "", _KEPT)

# Outlets shorten these names differently ("Kim", "Kim Jong Un", "N. Korea", "DPRK"). The
# leading space anchors each phrase at the start of a word.
_PHRASES = (
    (" kim jong un", " kim"),
    (" vladimir putin", " putin"),
    (" sergei ", " "),
    (" north korea", " nkorea"),
    (" n. korea", " nkorea"),
    (" n.korea", " nkorea"),
    (" south korea", " skorea"),
    (" s. korea", " skorea"),
    (" s.korea", " skorea"),
    (" u.n.", " un"),
)


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
    "nkorean": "nkorea",
    "skorean": "skorea",
    "dprk": "nkorea",
    "rok": "skorea",
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


_PERM_MUL = _stable_u64(f"{SCHEME}/mul", NUM_PERM) | np.uint64(1)
_PERM_ADD = _stable_u64(f"{SCHEME}/add", NUM_PERM)
_BAND_MUL = _stable_u64(f"{SCHEME}/band-mul", BANDS * ROWS) | np.uint64(1)
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
def _stems(word: str) -> tuple[str, ...]:
    # Cached: a news vocabulary is small, and stemming in Python dominates the cost.
    if word in _STOPWORDS:
        return ()
    if not word.isalnum():
        if (core := word.strip(_KEPT)) != word:
            return _stems(core) if core else ()
        if _GROUPED_NUMBER_RE.fullmatch(word):
            return (word.translate(_NO_SEPARATORS),)  # "10,000" -> "10000"
        parts = _WORD_RE.findall(word.replace("_", " "))
        if parts != [word]:
            return tuple(itertools.chain.from_iterable(map(_stems, parts)))
    if _LATIN_RE.fullmatch(word):
        stem = _ALIASES.get(s := _stem_latin(word), s)
        return () if len(word) == 1 or stem in _STOPWORDS else (stem,)
    if _CYRILLIC_RE.fullmatch(word):
        return (word[:5],)
    if _HANGUL_RE.fullmatch(word) and len(word) > 2:
        # Particles glue onto Korean nouns; syllable bigrams still overlap across forms.
        return tuple(word[i : i + 2] for i in range(len(word) - 1))
    return (word,)


def _clean_title(title: str) -> str:
    if prefix := _PREFIX_RE.match(title):
        title = title[prefix.end() :]
    if "(" in title:
        title = _MARKER_RE.sub(" ", title)
    for separator in _SUFFIX_SEPARATORS:
        head, _, tail = title.rpartition(separator)
        # Aggregators append " - Outlet"; a short tail after a long head is taken for one.
        if len(tail.split()) <= 4 and len(head.split()) >= 4:
            return head
    return title


def _tokens(text: str, limit: int | None = None) -> list[str]:
    """The feature tokens of `text`, in order; only the first `limit` if given."""
    if "US" in text or "U.S" in text:
        text = _US_RE.sub(" usa ", text)  # before casefold, which would make it "us"
    text = text.casefold().replace("'s ", " ").replace("’s ", " ")
    joined = " " + text.translate(_TO_SPACES)
    for phrase, replacement in _PHRASES:
        joined = joined.replace(phrase, replacement)
    # Lazily: words past the first `limit` tokens are never stemmed.
    tokens = itertools.chain.from_iterable(map(_stems, joined.split()))
    return list(itertools.islice(tokens, limit))


def _features(title: str, summary: str) -> frozenset[str]:
    title_tokens = _tokens(_clean_title(unicodedata.normalize("NFKC", title)))
    # Only the lead of a long summary is read: later text diverges between outlets.
    lead = unicodedata.normalize("NFKC", summary[:_SUMMARY_CHARS])
    return frozenset(title_tokens).union(_tokens(lead, SUMMARY_TOKENS))


def _minhash(features: Iterable[str]) -> _U32:
    keys = np.array([zlib.crc32(f.encode()) for f in features], dtype=np.uint64)[:, None]
    # Multiply-add-shift: a strongly universal 32-bit hash per permutation. uint64 arithmetic
    # wraps modulo 2**64 by design, and the shift is monotonic, so it can follow the min.
    # Features run down axis 0: an element-wise minimum over rows is the fastest reduction.
    values = keys * _PERM_MUL
    values += _PERM_ADD
    mins: _U64 = values.min(axis=0)
    return (mins >> np.uint64(32)).astype(np.uint32)


def _band_keys(sig: _U32) -> tuple[int, ...]:
    # Multilinear hash of each band's rows, top 56 bits: distinct bands collide with
    # probability about 2**-32, and the band index in the top byte keeps bands apart.
    products = sig.astype(np.uint64) * _BAND_MUL
    mixed = _BAND_ADD.copy()
    for row in range(ROWS):
        mixed += products[row::ROWS]
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


def band_keys_of(signature: bytes) -> tuple[int, ...]:
    """The LSH band keys of a stored signature (what `fingerprint` returned with it)."""
    if len(signature) != 4 * NUM_PERM or signature == _EMPTY_SIGNATURE:
        return ()
    return _band_keys(_as_u32(signature))


def band_keys_of_many(signatures: list[bytes]) -> list[tuple[int, ...]]:
    """`band_keys_of` for each signature, computed together: one set of array operations for
    the lot instead of a few microseconds of numpy overhead per signature."""
    size = 4 * NUM_PERM
    keyed = [i for i, sig in enumerate(signatures) if len(sig) == size and sig != _EMPTY_SIGNATURE]
    found: list[tuple[int, ...]] = [()] * len(signatures)
    if not keyed:
        return found
    sigs = np.frombuffer(b"".join(signatures[i] for i in keyed), dtype="<u4")
    products = sigs.reshape(len(keyed), NUM_PERM).astype(np.uint64) * _BAND_MUL
    mixed = np.broadcast_to(_BAND_ADD, (len(keyed), BANDS)).copy()
    for row in range(ROWS):
        mixed += products[:, row::ROWS]
    rows: list[list[int]] = ((mixed >> np.uint64(8)) | _BAND_INDEX).tolist()
    for i, keys in zip(keyed, rows, strict=True):
        found[i] = tuple(keys)
    return found


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
    pairs = candidates if isinstance(candidates, list) else list(candidates)
    if not pairs:
        return None
    if len(pairs) == 1:  # the usual case, and a plain comparison costs less than a matrix
        story_id, signature = pairs[0]
        if len(signature) != len(fp.signature):
            return None
        score = np.count_nonzero(_as_u32(signature) == _as_u32(fp.signature))
        return story_id if score >= threshold * (len(signature) // 4) else None
    joined = b"".join(sig for _, sig in pairs)
    if len(joined) != len(pairs) * len(fp.signature):
        # Signatures of another length come from another scheme and cannot be compared.
        pairs = [(sid, sig) for sid, sig in pairs if len(sig) == len(fp.signature)]
        joined = b"".join(sig for _, sig in pairs)
        if not pairs:
            return None
    matrix = np.frombuffer(joined, dtype="<u4").reshape(len(pairs), -1)
    # add.reduce, not count_nonzero(axis=1): the same counts without numpy's Python wrappers.
    scores = np.add.reduce(matrix == _as_u32(fp.signature), axis=1)
    best = int(scores.argmax())  # ties go to the earliest candidate
    if scores[best] < threshold * matrix.shape[1]:
        return None
    return pairs[best][0]


class StoryIndex:
    """Band key -> story ids, plus signatures: the LSH index of the stories in the window."""

    def __init__(self) -> None:
        # A band key almost always belongs to one story: a bare id saves a list per key,
        # which matters at millions of keys.
        self._bands: dict[int, int | list[int]] = {}
        self._signatures: dict[int, bytes] = {}  # first article's, flat for fast lookups
        self._later: dict[int, list[Fingerprint]] = {}  # articles attached afterwards
        self._first: dict[int, Fingerprint] = {}
        self._seen: dict[int, float] = {}
        # (seen at, story id), a min-heap with stale entries left in place: finding the
        # stories that left the window costs what leaves, not a scan of the whole window.
        self._expiry: list[tuple[float, int]] = []

    def __len__(self) -> int:
        return len(self._signatures)

    def add(self, story_id: int, fp: Fingerprint, seen_at: float = 0.0) -> None:
        """Index `fp` under `story_id`; adding to a known story also keeps the new keys."""
        if not fp.band_keys:
            return
        if story_id in self._first:
            self._later.setdefault(story_id, []).append(fp)
        else:
            self._first[story_id] = fp
            self._signatures[story_id] = fp.signature
        self._see(story_id, seen_at)
        # Inlined rather than a helper per key: 64 keys per report make this the hot loop of
        # ingest (benchmarks/pipeline.py).
        bands = self._bands
        for key in fp.band_keys:
            held = bands.setdefault(key, story_id)
            if held == story_id:  # new key, or already this story's (a list never equals)
                continue
            if isinstance(held, list):
                if story_id not in held:
                    held.append(story_id)
            else:
                bands[key] = [held, story_id]

    def candidates(self, fp: Fingerprint) -> list[tuple[int, bytes]]:
        """(story id, signature) of every story sharing a band key with `fp`."""
        bands = self._bands
        # Most keys miss: intersect at C speed, then walk the few hits (in band order, so the
        # result does not depend on the hits' set order).
        hits = bands.keys() & fp.band_keys
        if not hits:
            return []
        found: set[int] = set()
        for key in hits if len(hits) == 1 else [k for k in fp.band_keys if k in hits]:
            held = bands[key]
            if isinstance(held, list):
                found.update(held)
            else:
                found.add(held)
        signatures = self._signatures
        pairs = [(sid, signatures[sid]) for sid in found]
        if self._later:
            later = self._later
            pairs += [(sid, f.signature) for sid in found for f in later.get(sid, ())]
        return pairs

    def touch(self, story_id: int, seen_at: float) -> None:
        """Record that a known story was seen again (it stays in the window longer)."""
        if story_id in self._seen:
            self._see(story_id, seen_at)

    def _see(self, story_id: int, seen_at: float) -> None:
        known = self._seen.get(story_id)
        if known is None or seen_at > known:
            self._seen[story_id] = seen_at
            heapq.heappush(self._expiry, (seen_at, story_id))

    def remove_older_than(self, cutoff: float) -> int:
        """Forget stories last seen before `cutoff` (the window's start); return how many."""
        old = []
        expiry, seen = self._expiry, self._seen
        while expiry and expiry[0][0] < cutoff:
            at, sid = heapq.heappop(expiry)
            if seen.get(sid) == at:  # else stale: the story was seen again later, or is gone
                del seen[sid]
                old.append(sid)
        for sid in old:
            for fp in [self._first.pop(sid), *self._later.pop(sid, [])]:
                for key in fp.band_keys:
                    self._unlink(key, sid)
            del self._signatures[sid]
        return len(old)

    def _unlink(self, key: int, story_id: int) -> None:
        held = self._bands.get(key)
        if held == story_id:
            del self._bands[key]
        elif isinstance(held, list) and story_id in held:
            held.remove(story_id)
            if len(held) == 1:
                self._bands[key] = held[0]
