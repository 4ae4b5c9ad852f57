"""settle_collector: what `nkru run` does to the garbage collector once started."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot.collector import YOUNG_THRESHOLD, settle_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    """The collector as it was: thresholds, and nothing frozen."""
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restored_collector")
def test_settling_freezes_what_exists_and_collects_the_young_less_often() -> None:
    gc.unfreeze()
    existing: list[object] = []  # made before: frozen, never walked by a full collection again
    assert any(obj is existing for obj in gc.get_objects())
    _, middle, old = gc.get_threshold()

    settle_collector()

    assert gc.get_freeze_count() > 0
    assert not any(obj is existing for obj in gc.get_objects())  # frozen ones are not listed
    assert gc.get_threshold() == (YOUNG_THRESHOLD, middle, old)
    assert YOUNG_THRESHOLD > 700  # CPython's default, which the bot raises
