"""The Snowball Russian stemmer, for lower-case words in Cyrillic (ё already written е).

Written from the algorithm's published description (snowballstem.org, russian.sbl) rather than
taken from a package: this branch adds no dependency. PostgreSQL's `russian_stem` dictionary
runs the same algorithm, and tests/storage/test_stemmers.py compares the two word by word.
"""

from __future__ import annotations

from collections.abc import Collection


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_VOWELS = frozenset("аеиоуыэюя")
_NONE: tuple[str, ...] = ()
# Endings of each class; those of a "group 1" count only after а or я (which stays).
_GERUND_1 = ("в", "вши", "вшись")
_GERUND_2 = ("ив", "ивши", "ившись", "ыв", "ывши", "ывшись")
_ADJECTIVE = _words(
    "ее ие ые ое ими ыми ей ий ый ой ем им ым ом его ого ему ому их ых ую юю ая яя ою ею"
)
_PARTICIPLE_1 = ("ем", "нн", "вш", "ющ", "щ")
_PARTICIPLE_2 = ("ивш", "ывш", "ующ")
_REFLEXIVE = ("ся", "сь")
_VERB_1 = _words("ла на ете йте ли й л ем н ло но ет ют ны ть ешь нно")
_VERB_2 = _words(
    "ила ыла ена ейте уйте ите или ыли ей уй ил ыл им ым ен ило ыло ено ят ует уют ит ыт ены "
    "ить ыть ишь ую ю"
)
_NOUN = _words(
    "а ев ов ие ье е иями ями ами еи ии и ией ей ой ий й иям ям ием ем ам ом о у ах иях ях ы ь "
    "ию ью ю ия ья я"
)
_DERIVATIONAL = ("ост", "ость")
_TIDY = ("ейш", "ейше", "н", "ь")


def _regions(word: str) -> tuple[int, int]:
    """RV (after the first vowel) and R2 (R1 of R1, R1 starting after the first non-vowel
    that follows a vowel)."""
    rv = next((i + 1 for i, char in enumerate(word) if char in _VOWELS), len(word))
    r1 = _after_vowel_then_other(word, rv - 1)
    return rv, _after_vowel_then_other(word, r1)


def _after_vowel_then_other(word: str, start: int) -> int:
    for i in range(max(start, 0) + 1, len(word)):
        if word[i] not in _VOWELS and word[i - 1] in _VOWELS:
            return i + 1
    return len(word)


def _strip(word: str, rv: int, group_1: Collection[str], group_2: Collection[str]) -> str | None:
    """`word` without its longest ending of the two groups lying in RV (a group-1 ending only
    after а or я), or None when it has none (Snowball's `among`: no shorter retry)."""
    best = ""
    for ending in (*group_1, *group_2):
        if len(ending) > len(best) and word.endswith(ending) and len(word) - len(ending) >= rv:
            best = ending
    if not best:
        return None
    start = len(word) - len(best)
    if best in group_1 and not (start - 1 >= rv and word[start - 1] in "ая"):
        return None
    return word[:start]


def _step_1(word: str, rv: int) -> str:
    """A perfective gerund ending; else an optional reflexive one, then an adjectival, verb or
    noun ending."""
    gerund = _strip(word, rv, _GERUND_1, _GERUND_2)
    if gerund is not None:
        return gerund
    word = _strip(word, rv, _NONE, _REFLEXIVE) or word
    adjective = _strip(word, rv, _NONE, _ADJECTIVE)
    if adjective is not None:
        participle = _strip(adjective, rv, _PARTICIPLE_1, _PARTICIPLE_2)
        return adjective if participle is None else participle
    verb = _strip(word, rv, _VERB_1, _VERB_2)
    if verb is not None:
        return verb
    noun = _strip(word, rv, _NONE, _NOUN)
    return word if noun is None else noun


def _tidy_up(word: str, rv: int) -> str:
    """A superlative ending goes (then нн → н); else нн → н; else a final ь goes."""
    ending = _strip(word, rv, _NONE, _TIDY)
    if ending is None:
        return word
    if word.endswith(("ейш", "ейше")):
        word = ending
        return word[:-1] if word.endswith("нн") and len(word) - 2 >= rv else word
    if word.endswith("н"):
        return word[:-1] if word.endswith("нн") and len(word) - 2 >= rv else word
    return ending  # ь


def stem(word: str) -> str:
    """The stem of one lower-case Russian word."""
    rv, r2 = _regions(word)
    word = _step_1(word, rv)
    if word.endswith("и") and len(word) - 1 >= rv:
        word = word[:-1]
    derivational = _strip(word, rv, _NONE, _DERIVATIONAL)
    if derivational is not None and len(derivational) >= r2:
        word = derivational
    return _tidy_up(word, rv)
