"""Another actor's story, or a round-up's: a theme whose countries are named only in an aside.

A South Korean budget story that ends "officials cited North Korea's missiles and its ties
with Russia", a NATO summit whose communique "also voiced concern about North Korea": the
theme's words are there (a reconnaissance satellite, a summit) and so are both countries, but
the story is another actor's. A theme that lists such actors (``Theme.others``: other
countries) is not filed when the title names one of them and one of its required groups is
named only in an aside: not in the title, not in the summary's first sentence, and not in a
sentence with one of the theme's own terms. When every title word of the theme is the other
actor's — its name is the word right before ("Chinese tourists return to Rason", "중국인
관광객") — the theme's words are that actor's throughout, and only the title and the summary's
first sentence can name the missing country ("Russian tourists had been allowed in earlier"
is an aside). Checked only for themes that reached their ``min_score`` and only when the
title names another actor: most articles never get here.

A round-up of several stories ("Ukraine war live: …", "Russia-Ukraine war day 1,000: key
events", "Сводка СВО") names North Korean troops in one line among many: a theme that lists
round-up markers (``Theme.roundups``) is filed from a round-up only when its title names every
group the theme requires.

Sentences are read from the original summary (the normalised words have lost the full
stops): a sentence ends at a word followed by ".", "!", "?", "…" or "。", except after a
short capitalised abbreviation ("N. Korea", "U.S. officials").
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence

from bot.core.watchlist.normalize import word_runs, word_spans

SENTENCE_MARKS = frozenset(".!?…。")


def sentence_starts(original: str) -> list[int]:
    """The normalised word indexes at which the second, third… sentence of ``original``
    begin (a run of marks alone shifts the count, as for clause ends: rare)."""
    runs = [run.span() for run in word_runs(original)]
    starts = []
    for index in range(len(runs) - 1):
        begin, stop = runs[index]
        gap = original[stop - 1 : runs[index + 1][0]]
        if not SENTENCE_MARKS.isdisjoint(gap) and not _abbreviation(original[begin:stop]):
            starts.append(index + 1)
    return starts


def _abbreviation(run: str) -> bool:
    """Whether a word ending in a full stop is an abbreviation: "N.", "U.S.", "Mr."."""
    letters = [c for c in run if c.isalpha()]
    return run.isascii() and run[0].isupper() and len(letters) <= 2


def sentences_of(starts: list[int], words: str, start: int, end: int) -> list[int]:
    """The sentences (0: the first) of every occurrence in ``words`` (a field's normalised
    words) of the words at [start, end): a found term keeps only its first hit, and the
    theme's words may meet a country in a later sentence."""
    found = words[start:end]
    out = []
    while start >= 0:
        out.append(bisect_right(starts, words.count(" ", 0, start)))
        start = words.find(found, start + 1)
        while start > 0 and words[start - 1] != " ":  # whole words only: a word's start
            start = words.find(found, start + 1)
    return out


def in_aside(
    missing: int,
    summary: Iterable[tuple[int, int]],
    own: Iterable[int],
    group_bits: Sequence[int],
) -> bool:
    """Whether some group of ``missing`` (bits of required groups the title does not name) is
    named only in an aside. ``summary``: (slot, sentence) of each term found in the summary,
    ``own``: the sentences with one of the theme's terms, ``group_bits``: slot -> groups."""
    sentences = set(own)
    named = 0  # groups named in the first sentence or beside the theme's words
    for slot, sentence in summary:
        if sentence == 0 or sentence in sentences:
            named |= group_bits[slot]
    return missing & ~named != 0


def owned_starts(original: str, words: str, ends: Iterable[int]) -> set[int]:
    """Where the words that another actor's name directly qualifies start in ``words`` (a
    title's normalised words): the word right after the name, with nothing but a space
    between them in ``original`` ("Chinese tourists", "중국인 관광객"; not "Seoul: North
    Korean troops"). ``ends``: where each name ends in ``words``."""
    spans = word_spans(original, words)
    out = set()
    for end in ends:
        after = words.find(" ", end)  # the end of the name's last word
        if after < 0 or spans is None:
            continue
        index = words.count(" ", 0, after)  # that word's index
        stop, following = spans[index][1], spans[index + 1][0]
        if original[stop - 1].isalnum() and not original[stop:following].strip():
            out.add(after + 1)
    return out
