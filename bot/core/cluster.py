"""Layer-(b) dedup: recognise one story reported by several outlets (MinHash + LSH).

DRAFT
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

NUM_PERM = 128
BANDS = 32
ROWS = NUM_PERM // BANDS
SUMMARY_TOKENS = 30
STEM_LENGTH = 7
MIN_FEATURES = 3
THRESHOLD = 0.25

_U64 = npt.NDArray[np.uint64]

# Wire-service markers carry no content and differ between copies of one story.
_PREFIX_RE = re.compile(
    r"^\s*(?:(?:update|corrected|refile|exclusive|breaking|urgent|analysis|factbox|explainer"
    r"|insight|live|watch|video)\s*\d*\s*[-:–—|]\s*)+",
    re.IGNORECASE,
)
_MARKER_RE = re.compile(r"\((?:lead|urgent|\d+(?:st|nd|rd|th)\s*ld|update\s*\d*)\)", re.IGNORECASE)
_US_RE = re.compile(r"\bU\.?S\.?(?=\W|$)")
_POSSESSIVE_RE = re.compile(r"['’]s\b")
_THOUSANDS_RE = re.compile(r"(?<=\d)[,.'’ ](?=\d{3}\b)")
_TOKEN_RE = re.compile(r"\w+")
_LATIN_RE = re.compile(r"[a-z]+")
_CYRILLIC_RE = re.compile(r"[а-яё]+")
_HANGUL_RE = re.compile(r"[\uac00-\ud7a3]+")

_STOP_EN = frozenset(
    ["a", "an", "the", "and", "or", "but", "nor", "of", "to", "in", "on", "at", "by", "for", "from", "with", "without", "into", "onto", "over", "under", "about", "after", "before", "during", "since", "until", "than", "as", "via", "per", "amid", "among", "between", "against", "is", "are", "was", "were", "be", "been", "being", "am", "has", "have", "had", "having", "do", "does", "did", "will", "would", "shall", "should", "can", "could", "may", "might", "must", "it", "its", "this", "that", "these", "those", "there", "here", "he", "she", "they", "we", "you", "i", "me", "him", "her", "them", "his", "their", "our", "your", "who", "whom", "whose", "which", "what", "when", "where", "why", "how", "not", "no", "yes", "so", "if", "then", "also", "just", "more", "most", "very", "much", "many", "some", "any", "all", "each", "other", "such", "own", "same", "only", "both", "either", "neither", "again", "further", "once", "new", "says", "said", "say", "saying", "tells", "told", "reports", "reported", "report", "according", "amp", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today", "yesterday", "week", "reuters", "ap", "afp", "yonhap", "tass", "ria", "novosti", "kcna", "bbc", "cnn", "nk", "news", "guardian", "interfax", "bloomberg", "update", "exclusive", "lead", "ld", "first", "year", "time", "state", "media", "official", "leader", "president", "country", "government", "people"]
)
# Multi-word names that outlets shorten differently ("Kim", "Kim Jong Un", "N. Korea", "DPRK").
_PHRASES = [
    (re.compile(p, re.IGNORECASE), r)
    for p, r in [
        (r"\bkim\s+jong[\s-]+un\b", "kim"),
        (r"\bvladimir\s+(?:v\.\s+)?putin\b", "putin"),
        (r"\bsergei\s+(?=lavrov|shoigu)", ""),
        (r"\bn(?:orth)?\.?\s*korean?s?\b|\bdprk\b", "nkorea"),
        (r"\bs(?:outh)?\.?\s*korean?s?\b|\brok\b", "skorea"),
    ]
]
_DERIVATIONAL = ("ation", "ition", "ment", "ness", "ity", "ery", "ary", "ive", "ous", "al", "er", "ly")
_STOP_RU = frozenset(["и", "в", "во", "не", "что", "на", "с", "со", "как", "а", "к", "у", "за", "по", "от", "о", "об", "из", "до", "для", "при", "это"])
_STOP_KO = frozenset(["및", "등", "것", "수", "위해", "대한", "이번", "지난", "오늘", "밝혔다", "했다", "있다"])
_STOPWORDS = _STOP_EN | _STOP_RU | _STOP_KO

# Spelling variants, irregular verbs and headline synonyms (keys are stems): outlets rephrase
# the same fact with these, and the truncating stemmer cannot join them on its own.
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
    """MinHash signature and LSH band keys of one article."""

    signature: bytes
    band_keys: tuple[int, ...]
    tokens: frozenset[str]


def _stable_u64(label: str, count: int) -> _U64:
    # Derived from blake2b, not numpy.random: Generator streams may change between numpy
    # releases, and stored band keys must stay valid across upgrades.
    words = [
        int.from_bytes(hashlib.blake2b(f"{label}/{i}".encode(), digest_size=8).digest(), "little")
        for i in range(count)
    ]
    return np.array(words, dtype=np.uint64)


_MUL = _stable_u64("nkru-cluster-v1/mul", NUM_PERM)[:, None] | np.uint64(1)
_ADD = _stable_u64("nkru-cluster-v1/add", NUM_PERM)[:, None]
_BAND_SALT = _stable_u64("nkru-cluster-v1/band", BANDS)
_EMPTY_SIGNATURE = b"\xff" * (4 * NUM_PERM)


def _minhash(hashes: _U64, mul: _U64, add: _U64) -> npt.NDArray[np.uint32]:
    # Multiply-add-shift (Dietzfelbinger): a strongly universal 32-bit hash per permutation;
    # uint64 arithmetic wraps modulo 2**64 by design.
    return ((mul * hashes[None, :] + add) >> np.uint64(32)).min(axis=1).astype(np.uint32)


def _mix64(x: _U64) -> _U64:
    # splitmix64 finaliser: a bijection that spreads every input bit over the output.
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _band_keys(sig: npt.NDArray[np.uint32], salt: _U64, rows: int) -> tuple[int, ...]:
    bands = sig.astype(np.uint64).reshape(-1, rows)
    h = salt.copy()
    for j in range(rows):
        h = _mix64(h ^ bands[:, j])
    # The band index sits in the top byte, so band i can never collide with band j, and the
    # key stays below 2**63: a non-negative PostgreSQL BIGINT.
    index = np.arange(len(salt), dtype=np.uint64) << np.uint64(56)
    keys: list[int] = ((h >> np.uint64(8)) | index).tolist()
    return tuple(keys)


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
    # A light Porter-style stemmer: enough for "opens"/"opened", "bridge"/"bridges",
    # "renewal"/"renew", "shipments"/"ship"; the final truncation absorbs the rest.
    word = _strip_inflection(_strip_plural(word))
    for suffix in _DERIVATIONAL:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word[:STEM_LENGTH]


def _stems(token: str) -> list[str]:
    if _LATIN_RE.fullmatch(token):
        if len(token) == 1:
            return []
        stem = _stem_latin(token)
        return [_ALIASES.get(stem, stem)]
    if _CYRILLIC_RE.fullmatch(token):
        return [token[:5]]
    if _HANGUL_RE.fullmatch(token) and len(token) > 2:
        # Korean particles glue onto nouns; syllable bigrams still overlap across forms.
        return [token[i : i + 2] for i in range(len(token) - 1)]
    return [token]


def tokens(text: str, *, title: bool = False) -> list[str]:
    """Normalised content tokens of `text`, in order."""
    text = unicodedata.normalize("NFKC", text)
    if title:
        text = _MARKER_RE.sub(" ", _PREFIX_RE.sub("", text))
    text = _THOUSANDS_RE.sub("", _POSSESSIVE_RE.sub("", _US_RE.sub(" usa ", text)))
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    out: list[str] = []
    for raw in _TOKEN_RE.findall(text.casefold().replace("_", " ")):
        if raw in _STOPWORDS:
            continue
        out.extend(s for s in _stems(raw) if s not in _STOPWORDS)
    return out


def _features(title: str, summary: str) -> frozenset[str]:
    title_tokens = tokens(title, title=True)
    return frozenset(title_tokens) | frozenset(tokens(summary)[:SUMMARY_TOKENS])


def fingerprint(title: str, summary: str) -> Fingerprint:
    """Fingerprint an article from its title and summary (deterministic across processes)."""
    feats = _features(title, summary)
    if len(feats) < MIN_FEATURES:
        # Too little text to tell stories apart: never index or match it.
        return Fingerprint(_EMPTY_SIGNATURE, (), feats)
    hashes = np.fromiter(
        (zlib.crc32(f.encode()) for f in feats), dtype=np.uint64, count=len(feats)
    )
    sig = _minhash(hashes, _MUL, _ADD)
    return Fingerprint(sig.astype("<u4").tobytes(), _band_keys(sig, _BAND_SALT, ROWS), feats)


def _as_u32(signature: bytes) -> npt.NDArray[np.uint32]:
    return np.frombuffer(signature, dtype="<u4")


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures (0.0 if either is empty)."""
    if a == _EMPTY_SIGNATURE or b == _EMPTY_SIGNATURE or len(a) != len(b):
        return 0.0
    return float(np.count_nonzero(_as_u32(a) == _as_u32(b))) / (len(a) // 4)


def best_match(
    fp: Fingerprint, candidates: Iterable[tuple[int, bytes]], threshold: float = THRESHOLD
) -> int | None:
    """Id of the most similar candidate story at or above `threshold`, or None."""
    if not fp.band_keys:
        return None
    pairs = [(sid, sig) for sid, sig in candidates if len(sig) == len(fp.signature)]
    if not pairs:
        return None
    matrix = np.frombuffer(b"".join(sig for _, sig in pairs), dtype="<u4").reshape(len(pairs), -1)
    scores = np.count_nonzero(matrix == _as_u32(fp.signature), axis=1)
    best = int(scores.argmax())
    if scores[best] < threshold * matrix.shape[1]:
        return None
    return pairs[best][0]
