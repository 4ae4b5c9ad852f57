"""Helpers for the watchlist tests: small TOML watchlists written to tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

DEFAULT_WATCHLISTS = REPO_ROOT / "watchlists"
LABELLED = REPO_ROOT / "tests" / "data" / "labelled.jsonl"
HELDOUT = REPO_ROOT / "tests" / "data" / "heldout.jsonl"
HELDOUT2 = REPO_ROOT / "tests" / "data" / "heldout2.jsonl"  # by one who never saw the matcher
# Written by a helper who saw only the theme definitions (406 items, 121 hard negatives);
# measured once before and once after the main-subject work of the stop that added it. Since
# issue 18's third pass a DEVELOPMENT set: its errors were read and the watchlist tuned on
# them, so its figures are no longer an independent estimate.
HELDOUT3 = HELDOUT2.with_name("heldout3.jsonl")
# Blind: never read item by item nor tuned on; measured only through
# ``benchmarks/quality.py --figures-only`` (figures, no ids), once before and after a pass.
HELDOUT4 = HELDOUT2.with_name("heldout4.jsonl")
# Blind in the same way: written (351 items, 115 hard negatives) from the theme definitions by
# a helper who opened nothing of the project, measured before and after the third pass only.
HELDOUT5 = HELDOUT2.with_name("heldout5.jsonl")
# Written blind from the theme definitions during issue 18's fifth pass (477 items, 152 hard
# negatives), measured once as it arrived (the honest "first look"), then a DEVELOPMENT set:
# its errors read and the subject model trained on it.
HELDOUT6 = HELDOUT2.with_name("heldout6.jsonl")

MINIMAL = """\
[watchlist]
name = "mini"
title = "Mini"

[groups.north-korea]
title = "North Korea"
terms = ["North Korea", "DPRK", "Pyongyang", "КНДР", "북한"]

[groups.russia]
title = "Russia"
terms = ["Russia", "Moscow", "Росси", "러시아"]

[[themes]]
slug = "tumen-bridge"
title = "Tumen bridge"
description = "The road bridge over the Tumen"
colour = "#2e86de"
require = ["north-korea", "russia"]
terms = [{ text = "Tumen", weight = 1.5 }, "road bridge", "Tumangang", "Туманн", "두만강"]
exclude = ["Yalu"]
"""


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a watchlist file into tmp_path and return its path."""

    def _write(text: str, name: str = "list.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write
