"""Parsing and validating terms: a string, or an inline table {text, mode, fuzzy, weight}."""

from __future__ import annotations

import functools
from collections import Counter

from bot.core.watchlist.checker import Checker, show
from bot.core.watchlist.model import MODES, Term, TermMode
from bot.core.watchlist.normalize import letters, normalize_term, scripts, word_spans
from bot.core.watchlist.pieces import choose_pieces
from bot.core.watchlist.toml_lines import Path

FUZZY_MIN_LETTERS = 9  # two 4-letter pieces and the letter between (see pieces.py)
LONG_WORD = 7  # default fuzziness needs one word this long: short words have look-alikes
TERM_KEYS = ("text", "mode", "fuzzy", "weight", "except")
MAX_WEIGHT = 100.0


# Kept per term text, as normalize_term: each load of the default watchlist (a preview of a
# draft, a save) asks for each of its ~1,100 terms, and reading their scripts letter by letter
# was a third of the load.
@functools.lru_cache(maxsize=16_384)
def default_mode(text: str) -> TermMode:
    """Prefix for Cyrillic and Hangul (inflections, particles), whole words otherwise."""
    return "prefix" if scripts(text) & {"CYRILLIC", "HANGUL"} else "word"


def fuzzy_possible(text: str, mode: TermMode = "word") -> bool:
    """Whether ``text`` is long enough to index for one typo (two pieces, see pieces.py)."""
    return choose_pieces(normalize_term(text), Counter(), prefix=mode == "prefix") is not None


@functools.lru_cache(maxsize=16_384)  # per term, as normalize_term: a load asks for each
def default_fuzzy(text: str, mode: TermMode) -> bool:
    """Typo tolerance by default only for Latin names: a capitalised word of 7+ letters, and
    9+ letters in all.

    Names are where typos and transliteration variants occur (Pyongayng, Pyeongyang).
    Shorter terms never get it: they have look-alikes one edit away (Tumen/Tyumen), and
    their pieces would be found in most articles; nor do names made of short words (Kim
    Jong Un is one letter from Kim Jong Il). Lowercase vocabulary does not either, even
    beside a capital ("UN sanctions": the long word is not a name): its pieces would be
    common fragments ("tions ", " stra"), each find costing a comparison.
    Set ``fuzzy = true`` on a term to override. Prefix terms (Russian stems, Korean words)
    are never fuzzy by default: a stem has inflected look-alikes one letter away ("Советск",
    Soviet, and "светск", secular), and a typo in Hangul changes a whole syllable, a third
    of a word. A one-word prefix name of 7+ letters may be made fuzzy ("Пхеньян" then finds
    "Пхеняне").
    """
    spans = word_spans(text, normalize_term(text)) or []
    name = any(
        text[start].isupper() and letters(text[start:end]) >= LONG_WORD for start, end in spans
    )
    return (
        mode != "prefix"
        and scripts(text) == {"LATIN"}
        and name
        and letters(text) >= FUZZY_MIN_LETTERS
        and fuzzy_possible(text)
    )


def term_list(checker: Checker, value: object, path: Path, non_empty: bool) -> tuple[Term, ...]:
    """A list of terms; repeats (the same words once normalised) are problems."""
    items = checker.typed(value, list, path, "a list of terms", 'write ["term", …]')
    if items is None:
        return ()
    if non_empty and not items:
        checker.report(path, "the list of terms is empty", "add at least one term")
    terms: list[Term] = []
    seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(items):
        term = parse_term(checker, item, (*path, index))
        if term is None:
            continue
        key = (normalize_term(term.text), term.mode)
        if key in seen:
            checker.report(
                (*path, index),
                f"{term.text!r} repeats item {seen[key]} (the same words once normalised)",
                "remove one of them",
            )
            continue
        seen[key] = index
        terms.append(term)
    return tuple(terms)


def parse_term(checker: Checker, item: object, path: Path) -> Term | None:
    """One term with its defaults filled in, or None (reported)."""
    if isinstance(item, str):
        if not _has_words(checker, item, path):
            return None
        mode = default_mode(item)
        return Term(item, mode, default_fuzzy(item, mode), 1.0)
    spec = checker.table(item, path, 'write "term" or { text = "term", mode = "prefix" }')
    if spec is None:
        return None
    checker.keys(spec, path, TERM_KEYS)
    text = checker.text(spec, path, "text", required=True)
    if text is None or not _has_words(checker, text, (*path, "text")):
        return None
    mode = _mode(checker, spec, path, default_mode(text))
    fuzzy = _fuzzy(checker, spec, path, text, mode)
    exceptions = _exceptions(checker, spec, path, text, mode)
    return Term(text, mode, fuzzy, _weight(checker, spec, path), exceptions)


def _has_words(checker: Checker, text: str, path: Path) -> bool:
    if not normalize_term(text):
        checker.report(path, f"{text!r} has no letters or digits", "give a word to look for")
        return False
    return True


def _mode(checker: Checker, spec: dict[str, object], path: Path, default: TermMode) -> TermMode:
    value = spec.get("mode", default)
    for mode in MODES:
        if value == mode:
            return mode
    checker.report(
        (*path, "mode"), f"{show(value)} is not a mode", 'use "word", "phrase", "prefix"'
    )
    return default


def _fuzzy(
    checker: Checker, spec: dict[str, object], path: Path, text: str, mode: TermMode
) -> bool:
    default = default_fuzzy(text, mode)
    if "fuzzy" not in spec:
        return default
    value = checker.typed(spec["fuzzy"], bool, (*path, "fuzzy"), "true or false", "fuzzy = true")
    if not value:
        return False if value is False else default
    if mode == "prefix":
        words = normalize_term(text).split(" ")
        if len(words) > 1 or letters(text) < LONG_WORD or not fuzzy_possible(text, mode):
            checker.report(
                (*path, "fuzzy"),
                f"a fuzzy prefix term must be one word of {LONG_WORD}+ letters, not {text!r}:"
                " shorter stems have inflected look-alikes one letter away",
                'drop fuzzy or use mode = "word"',
            )
            return False
        return True
    if letters(text) < FUZZY_MIN_LETTERS or not fuzzy_possible(text):
        checker.report(
            (*path, "fuzzy"),
            f"{text!r} is too short for fuzzy matching (it needs {FUZZY_MIN_LETTERS}+ letters,"
            " 4+ on each side of one): short words have look-alikes, such as Tyumen for Tumen",
            "drop fuzzy = true and list spelling variants as separate terms",
        )
        return False
    return True


def _exceptions(
    checker: Checker, spec: dict[str, object], path: Path, text: str, mode: TermMode
) -> tuple[str, ...]:
    """Longer forms of the term that do not count ("북한산" for "북한"), read like the term:
    a prefix term's exception is words whose starts are the text's, any other term's a
    start of the text at the hit."""
    if "except" not in spec:
        return ()
    items = checker.typed(
        spec["except"], list, (*path, "except"), "a list of strings", 'write except = ["…"]'
    )
    base = normalize_term(text)
    out: list[str] = []
    for index, item in enumerate(items or []):
        where = (*path, "except", index)
        value = checker.typed(item, str, where, "a string", 'write "…"')
        if value is None:
            continue
        if not _extends(normalize_term(value), base, mode):
            checker.report(
                where,
                f"{value!r} does not start with the term {text!r} and go on: it would never apply",
                f'write a longer form of the text at a hit, e.g. "{text}…"',
            )
            continue
        out.append(value)
    return tuple(out)


def _extends(exception: str, term: str, mode: TermMode) -> bool:
    """Whether ``exception`` is a longer form of ``term``, so that it can ever apply."""
    if exception == term:
        return False
    if mode != "prefix":
        return exception.startswith(term)
    ours, theirs = term.split(" "), exception.split(" ")
    return len(theirs) >= len(ours) and all(
        b.startswith(a) for a, b in zip(ours, theirs[: len(ours)], strict=True)
    )


def _weight(checker: Checker, spec: dict[str, object], path: Path) -> float:
    if "weight" not in spec:
        return 1.0
    number = checker.number(spec["weight"], (*path, "weight"), "a number", "write weight = 1.5")
    if number is not None and not 0 < number <= MAX_WEIGHT:
        checker.report((*path, "weight"), f"{number:g} is out of range", "use 0 < weight ≤ 100")
        return 1.0
    return 1.0 if number is None else number
