"""The Snowball English stemmer ("Porter2"), for lower-case words of the letters a-z and '.

Written from the algorithm's published description (snowballstem.org, english.sbl) rather than
taken from a package: this branch adds no dependency. PostgreSQL's `english_stem` dictionary
runs the same algorithm, and tests/storage/test_stemmers.py compares the two word by word.
"""

from __future__ import annotations

from collections.abc import Iterable


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_VOWELS = frozenset("aeiouy")
_DOUBLES = ("bb", "dd", "ff", "gg", "mm", "nn", "pp", "rr", "tt")
_LI_ENDINGS = frozenset("cdeghkmnrt")
_SPECIAL = {
    "skis": "ski",
    "skies": "sky",
    "dying": "die",
    "lying": "lie",
    "tying": "tie",
    "idly": "idl",
    "gently": "gentl",
    "ugly": "ugli",
    "early": "earli",
    "only": "onli",
    "singly": "singl",
    "sky": "sky",
    "news": "news",
    "howe": "howe",
    "atlas": "atlas",
    "cosmos": "cosmos",
    "bias": "bias",
    "andes": "andes",
}
_AFTER_STEP_1A = frozenset(
    {"inning", "outing", "canning", "herring", "earring", "proceed", "exceed", "succeed"}
)
_R1_PREFIXES = ("gener", "commun", "arsen")
_STEP_2 = {
    "tional": "tion",
    "enci": "ence",
    "anci": "ance",
    "abli": "able",
    "entli": "ent",
    "izer": "ize",
    "ization": "ize",
    "ational": "ate",
    "ation": "ate",
    "ator": "ate",
    "alism": "al",
    "aliti": "al",
    "alli": "al",
    "fulness": "ful",
    "ousli": "ous",
    "ousness": "ous",
    "iveness": "ive",
    "iviti": "ive",
    "biliti": "ble",
    "bli": "ble",
    "ogi": "og",
    "fulli": "ful",
    "lessli": "less",
    "li": "",
}
_STEP_3 = {
    "tional": "tion",
    "ational": "ate",
    "alize": "al",
    "icate": "ic",
    "iciti": "ic",
    "ical": "ic",
    "ful": "",
    "ness": "",
    "ative": "",
}
_STEP_4 = _words("al ance ence er ic able ible ant ement ment ent ism ate iti ous ive ize ion")


def _longest(word: str, suffixes: Iterable[str]) -> str | None:
    """The longest of `suffixes` that ends `word` (Snowball's `among`: no shorter retry)."""
    best = None
    for suffix in suffixes:
        if word.endswith(suffix) and (best is None or len(suffix) > len(best)):
            best = suffix
    return best


def _region_after(word: str, start: int) -> int:
    """Where the region after the first non-vowel that follows a vowel (from `start`) begins."""
    for i in range(start + 1, len(word)):
        if word[i] not in _VOWELS and word[i - 1] in _VOWELS:
            return i + 1
    return len(word)


def _ends_short_syllable(part: str) -> bool:
    """A non-vowel, a vowel, then a non-vowel other than w, x or Y; or a word that is a vowel
    and a non-vowel."""
    if len(part) == 2:
        return part[0] in _VOWELS and part[1] not in _VOWELS
    return (
        len(part) >= 3
        and part[-1] not in _VOWELS
        and part[-1] not in "wxY"
        and part[-2] in _VOWELS
        and part[-3] not in _VOWELS
    )


def _prelude(word: str) -> str:
    """Drop a leading apostrophe; a y that starts the word or follows a vowel becomes Y."""
    chars = list(word.removeprefix("'"))
    for i, char in enumerate(chars):
        if char == "y" and (i == 0 or chars[i - 1] in _VOWELS):
            chars[i] = "Y"
    return "".join(chars)


def _step_1a(word: str) -> str:
    suffix = _longest(word, ("'s'", "'s", "'"))
    if suffix:
        word = word[: -len(suffix)]
    suffix = _longest(word, ("sses", "ied", "ies", "us", "ss", "s"))
    if suffix == "sses":
        return word[:-2]
    if suffix in ("ied", "ies"):
        return word[:-3] + ("i" if len(word) > 4 else "ie")
    if suffix == "s" and any(char in _VOWELS for char in word[:-2]):
        return word[:-1]
    return word


def _step_1b(word: str, p1: int) -> str:
    suffix = _longest(word, ("eed", "eedly", "ed", "edly", "ing", "ingly"))
    if suffix is None:
        return word
    stem = word[: -len(suffix)]
    if suffix in ("eed", "eedly"):
        return stem + "ee" if len(stem) >= p1 else word
    if not any(char in _VOWELS for char in stem):
        return word
    if stem.endswith(("at", "bl", "iz")):
        return stem + "e"
    if stem.endswith(_DOUBLES):
        return stem[:-1]
    if len(stem) == p1 and _ends_short_syllable(stem):  # a short word
        return stem + "e"
    return stem


def _step_1c(word: str) -> str:
    if len(word) > 2 and word[-1] in "yY" and word[-2] not in _VOWELS:
        return word[:-1] + "i"
    return word


def _replace(word: str, table: dict[str, str], p1: int, p2: int) -> str:
    """Steps 2 and 3: the longest suffix of `table`, replaced when it lies in R1."""
    suffix = _longest(word, table)
    if suffix is None or len(word) - len(suffix) < p1:
        return word
    stem = word[: -len(suffix)]
    if suffix == "ogi" and not stem.endswith("l"):
        return word
    if suffix == "li" and (not stem or stem[-1] not in _LI_ENDINGS):
        return word
    if suffix == "ative" and len(stem) < p2:
        return word
    return stem + table[suffix]


def _step_4(word: str, p2: int) -> str:
    suffix = _longest(word, _STEP_4)
    if suffix is None or len(word) - len(suffix) < p2:
        return word
    stem = word[: -len(suffix)]
    if suffix == "ion" and not stem.endswith(("s", "t")):
        return word
    return stem


def _step_5(word: str, p1: int, p2: int) -> str:
    stem = word[:-1]
    if word.endswith("e"):
        if len(stem) >= p2 or (len(stem) >= p1 and not _ends_short_syllable(stem)):
            return stem
    elif word.endswith("l") and len(stem) >= p2 and stem.endswith("l"):
        return stem
    return word


def stem(word: str) -> str:
    """The stem of one lower-case English word."""
    if word in _SPECIAL:
        return _SPECIAL[word]
    if len(word) < 3:
        return word
    word = _prelude(word)
    prefix = next((p for p in _R1_PREFIXES if word.startswith(p)), None)
    p1 = len(prefix) if prefix else _region_after(word, 0)
    p2 = _region_after(word, p1)
    word = _step_1a(word)
    if word not in _AFTER_STEP_1A:
        word = _step_1b(word, p1)
        word = _step_1c(word)
        word = _replace(word, _STEP_2, p1, p2)
        word = _replace(word, _STEP_3, p1, p2)
        word = _step_4(word, p2)
        word = _step_5(word, p1, p2)
    return word.replace("Y", "y")
