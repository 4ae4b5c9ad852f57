"""The parts of a watchlist document the web editor offers, and putting an edited one back."""

from __future__ import annotations

import pytest

from bot.core.watchlist_editing.document import EditError, add_terms
from bot.core.watchlist_editing.parts import find_part, part_text, parts, splice
from tests.watchlist_editing.harness import WATCHLIST

TEXT = WATCHLIST.read_text(encoding="utf-8")


def test_the_default_watchlist_has_the_whole_the_head_and_a_part_per_theme() -> None:
    keys = [part.key for part in parts(TEXT)]
    assert keys[:3] == ["all", "head", "theme:tumen-bridge"]
    assert len(keys) == 2 + TEXT.count("[[themes]]")
    theme = part_text(TEXT, find_part(TEXT, "theme:arms-transfers"))
    # A theme's part starts with the comment describing it and holds that theme alone.
    assert theme.startswith("# Munitions, missiles") and theme.count("[[themes]]") == 1
    assert not theme.endswith("\n")


@pytest.mark.parametrize("key", [part.key for part in parts(TEXT)])
def test_an_unchanged_part_gives_back_the_document_exactly(key: str) -> None:
    part = find_part(TEXT, key)
    assert splice(TEXT, part, part_text(TEXT, part)) == TEXT
    # As a browser sends a textarea: CRLF line ends.
    assert splice(TEXT, part, part_text(TEXT, part).replace("\n", "\r\n")) == TEXT


def test_an_edited_theme_is_the_edit_with_every_other_line_as_it_was() -> None:
    edited_document = add_terms(TEXT, "troops", ["pontoon crossing"])
    part = find_part(TEXT, "theme:troops")
    edited = part_text(edited_document, find_part(edited_document, "theme:troops"))
    assert splice(TEXT, part, edited) == edited_document


def test_problems_are_placed_on_the_lines_of_the_part() -> None:
    part = find_part(TEXT, "theme:troops")
    assert part.local_line(part.start + 1) == 1
    assert part.local_line(part.start) is None and part.local_line(part.end + 1) is None
    assert part.local_line(None) is None


def test_inline_themes_or_an_unreadable_document_offer_only_the_whole() -> None:
    inline = '[watchlist]\nname = "x"\nthemes = [{ slug = "a", title = "A", terms = ["a"] }]\n'
    assert [part.key for part in parts(inline)] == ["all"]
    assert [part.key for part in parts("[[themes]\nbroken")] == ["all"]


def test_an_unknown_part_is_refused_naming_those_there_are() -> None:
    with pytest.raises(EditError, match="no part 'theme:nope'") as raised:
        find_part(TEXT, "theme:nope")
    assert raised.value.hint is not None and "theme:troops" in raised.value.hint


def test_parts_kept_per_document_are_each_documents_own() -> None:
    # Parts are kept per document text: asking about one document, then another, then the
    # first again gives each its own; a caller changing the list it got changes nothing kept.
    longer = add_terms(TEXT, "tumen-bridge", ["pontoon crossing", "pontoon bridge"])
    first = parts(TEXT)
    first.clear()
    other = parts(longer)
    again = parts(TEXT)
    assert [part.key for part in again] == [part.key for part in other]
    assert find_part(longer, "theme:arms-transfers").start == (
        find_part(TEXT, "theme:arms-transfers").start + longer.count("\n") - TEXT.count("\n")
    )
    assert again[0].end == TEXT.count("\n") and other[0].end == longer.count("\n")
