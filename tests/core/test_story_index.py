"""StoryIndex: work per lookup stays bounded, memory per story stays small, the window holds."""

from __future__ import annotations

import gc
import random
import sys
from types import FunctionType, ModuleType

import numpy as np

from bot.core.cluster import StoryIndex, best_match, fingerprint
from bot.core.minhash import NUM_PERM, Fingerprint, band_keys_of, compact, signature_matrix
from bot.core.story_index import CANDIDATE_CAP, MEMBER_CAP, SCREEN_GATE
from bot.core.story_segments import SCREEN

_SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "su",
    "ta",
    "vo",
    "ri",
    "pe",
    "zu",
    "do",
    "ga",
    "hu",
    "ji",
    "be",
]
_VOCABULARY = sorted({a + b + c for a in _SYLLABLES for b in _SYLLABLES for c in _SYLLABLES})


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.sample(_VOCABULARY, count))


def _stream(index: StoryIndex, texts: list[tuple[str, str]]) -> int:
    """Cluster `texts` one by one as ingest does; return how many signatures were compared."""
    compared = 0
    for number, text in enumerate(texts):
        fp = fingerprint(*text)
        found = index.candidates(fp)
        compared += len(found)
        story = best_match(fp, found)
        index.add(number if story is None else story, fp)
    return compared


def test_near_identical_reports_are_compared_with_a_bounded_number_of_signatures() -> None:
    # One story told 2,000 times: every report joins it, and used to be compared with every
    # report before it (2 million comparisons, 58 s for 4,000 such items in production).
    texts = [
        (f"Story number {n} about the weather in the city", f"Body of story {n}: sun, then rain.")
        for n in range(2_000)
    ]
    index = StoryIndex()
    compared = _stream(index, texts)
    assert len(index) == 1
    assert compared <= 16 * len(texts)  # a story keeps at most 16 reports to compare with


def test_templated_distinct_stories_are_compared_with_a_bounded_number_of_signatures() -> None:
    # Distinct stories in one template ("Weather report for district N"): they share the
    # template's band keys, so each used to be compared with a growing share of the others.
    rng = random.Random(7)
    texts = [
        (f"Weather report for district number {n}", f"Forecast: {_words(rng, 10)}.")
        for n in range(2_000)
    ]
    index = StoryIndex()
    compared = _stream(index, texts)
    assert len(index) > 1_500  # distinct stories stay distinct
    assert compared <= 25 * len(texts)  # a band key leads to its newest few stories only


def _deep_size(root: object) -> int:
    """Bytes held by `root` and everything it references (numpy data included)."""
    seen: set[int] = set()
    stack = [root]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type | ModuleType | FunctionType):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, np.ndarray) and obj.base is not None:
            total += obj.nbytes  # a view: getsizeof leaves its data out
        stack.extend(gc.get_referents(obj))
    return total


def test_the_index_holds_under_a_kibibyte_per_story() -> None:
    rng = random.Random(3)
    index = StoryIndex()
    for story_id in range(1, 3_001):
        index.add(story_id, fingerprint(_words(rng, 8), _words(rng, 12)), seen_at=story_id)
    assert len(index) == 3_000
    per_story = _deep_size(index) / len(index)
    assert per_story <= 1024, f"{per_story:.0f} bytes per story"


def _story(rng: random.Random) -> tuple[str, str]:
    return _words(rng, 8), _words(rng, 12)


def _retold(rng: random.Random, text: tuple[str, str]) -> tuple[str, str]:
    """Another outlet's report: most words kept, a few replaced."""
    title = text[0].split()[:6] + _words(rng, 2).split()
    return " ".join(title), text[1]


def test_a_story_keeps_its_first_reports_up_to_the_cap() -> None:
    index = StoryIndex()
    rng = random.Random(5)
    story = _story(rng)
    reports = [fingerprint(f"{story[0]} {n}", story[1]) for n in range(40)]
    for n, report in enumerate(reports):
        index.add(9, report, seen_at=n)
    assert len(index) == 1
    found = {signature for _, signature in index.candidates(fingerprint(*story))}
    assert 0 < len(found) <= MEMBER_CAP
    last_kept, first_dropped = (
        compact(signature_matrix([reports[n].signature])).tobytes()
        for n in (MEMBER_CAP - 1, MEMBER_CAP)
    )
    assert last_kept in found and first_dropped not in found
    index.touch(9, 100.0)
    assert index.remove_older_than(50.0) == 0  # its last report, or a touch, keeps it


def test_story_ids_in_any_order() -> None:
    rng = random.Random(6)
    texts = {story_id: _story(rng) for story_id in (50, 10, 30, 20, 40)}
    index = StoryIndex()
    for story_id, text in texts.items():
        index.add(story_id, fingerprint(*text), seen_at=float(story_id))
    for story_id, text in texts.items():
        assert best_match(fingerprint(*text), index.candidates(fingerprint(*text))) == story_id
    assert index.remove_older_than(25.0) == 2  # 10 and 20
    assert {sid for sid, _ in index.candidates(fingerprint(*texts[10]))} == set()
    index.add(10, fingerprint(*texts[10]), seen_at=60.0)  # reported again: back in the window
    assert len(index) == 4
    assert best_match(fingerprint(*texts[10]), index.candidates(fingerprint(*texts[10]))) == 10


def test_batched_lookups_agree_with_candidates_and_best_match() -> None:
    rng = random.Random(8)
    stories = [_story(rng) for _ in range(1_500)]
    index = StoryIndex(auto_maintain=False)
    index.add_many(
        list(range(1, 1_501)),
        [fingerprint(*text).signature for text in stories],
        [float(n) for n in range(1_500)],
    )
    queries = [fingerprint(*_retold(rng, stories[n])) for n in range(0, 1_500, 7)]
    queries += [fingerprint(*_story(rng)) for _ in range(100)]

    def one_by_one() -> list[int | None]:
        return [best_match(fp, index.candidates(fp)) for fp in queries]

    def batched() -> list[int | None]:
        found = index.best_matches(queries)
        return [story if equal >= 0.25 * 192 else None for story, equal in found]

    expected = one_by_one()
    assert sum(match is not None for match in expected) >= 200  # the retold ones match
    assert batched() == expected
    assert index.maintenance_due() is False  # one segment
    for start in range(0, 1_200, 100):  # later reports: small segments
        index.add_many(
            list(range(start + 1, start + 101)),
            [fingerprint(*_retold(rng, stories[n])).signature for n in range(start, start + 100)],
            [2_000.0] * 100,
        )
    assert index.maintenance_due()
    before = batched()
    index.maintain()
    assert not index.maintenance_due()
    assert batched() == before == one_by_one()


def test_maintain_drops_the_reports_of_stories_that_left_the_window() -> None:
    rng = random.Random(9)
    stories = [_story(rng) for _ in range(2_000)]
    index = StoryIndex(auto_maintain=False)
    index.add_many(
        list(range(1, 2_001)),
        [fingerprint(*text).signature for text in stories],
        [float(n) for n in range(2_000)],
    )
    full = index.nbytes
    assert index.remove_older_than(1_000.0) == 1_000
    assert index.maintenance_due()
    index.maintain()
    assert len(index) == 1_000
    assert index.nbytes < 0.6 * full
    assert index.candidates(fingerprint(*stories[10])) == []
    assert (
        best_match(fingerprint(*stories[1_500]), index.candidates(fingerprint(*stories[1_500])))
        == 1_501
    )


def test_nothing_in_common_finds_nothing() -> None:
    rng = random.Random(10)
    index = StoryIndex()
    index.add(1, fingerprint(*_story(rng)))
    assert index.best_matches([fingerprint(*_story(rng)), fingerprint("", "")]) == [(0, -1)] * 2
    assert StoryIndex().best_matches([fingerprint(*_story(rng))]) == [(0, -1)]


def test_a_copy_among_many_alike_reports_is_found_with_at_most_the_cap_compared() -> None:
    # The query's story is the oldest of 400 that share much of its wording: more reports
    # share a band with the query than are compared (CANDIDATE_CAP), the true one among them.
    rng = random.Random(11)
    common = _words(rng, 10)
    source = (f"{common} {_words(rng, 6)}", _words(rng, 10))
    index = StoryIndex()
    index.add(1, fingerprint(*source), seen_at=1.0)
    for story_id in range(2, 401):
        index.add(story_id, fingerprint(f"{common} {_words(rng, 14)}", _words(rng, 10)))
    query = fingerprint(source[0], _words(rng, 3) + " " + source[1])
    found = index.candidates(query)
    assert len(found) == CANDIDATE_CAP
    assert best_match(query, found) == 1
    assert index.best_matches([query])[0][0] == 1


def _signature(values: np.ndarray) -> bytes:
    return values.astype("<u4").tobytes()


def test_a_report_met_only_by_chance_is_screened_out_before_it_is_compared() -> None:
    # The stored report shares one band (positions 60-62) with the first probe and nothing
    # else: its screen (the first SCREEN positions) has no equal position, so it is not read
    # further. The second probe is a report at the threshold's level (a third of the
    # positions equal, spread over the signature): compared, and found.
    rng = np.random.default_rng(12)
    stored = rng.choice(1 << 31, size=NUM_PERM, replace=False).astype(np.uint32)
    index = StoryIndex()
    index.add_many([7], [_signature(stored)], [1.0])

    chance = rng.choice(1 << 31, size=NUM_PERM, replace=False).astype(np.uint32) | (1 << 31)
    chance[60:63] = stored[60:63]
    close = rng.choice(1 << 31, size=NUM_PERM, replace=False).astype(np.uint32) | (1 << 31)
    same = np.sort(rng.choice(NUM_PERM, size=NUM_PERM // 3, replace=False))
    close[same] = stored[same]
    assert np.count_nonzero(close[:SCREEN] == stored[:SCREEN]) >= SCREEN_GATE

    assert index.best_many(np.stack([chance])) == [(0, -1)]
    assert index.examined == 0
    assert index.best_many(np.stack([close])) == [(7, NUM_PERM // 3)]
    assert index.examined == 1
    chance_fp = Fingerprint(_signature(chance), band_keys_of(_signature(chance)))
    assert chance_fp.band_keys and index.candidates(chance_fp) == []
