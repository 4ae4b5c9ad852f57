"""The feed list file (`seeds/feeds.toml`): its errors, and seeding an empty database from it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.core.feedlist import FeedListError, load_feed_list, read_feed_list, seed_feed_list
from storage.engine import Store


def feed_list(path: Path, count: int) -> Path:
    path.write_text(
        "".join(
            f'[[feed]]\nurl = "https://news{n}.example/rss.xml"\nname = "News {n}"\n\n'
            for n in range(count)
        ),
        encoding="utf-8",
    )
    return path


def test_errors_name_the_file_the_entry_and_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "none.toml"
    with pytest.raises(FeedListError, match="file not found — set NKRU_FEEDS_FILE"):
        load_feed_list(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("[[feed]\nurl = 1", encoding="utf-8")
    with pytest.raises(FeedListError, match="invalid TOML"):
        load_feed_list(broken)
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[feed]]\nurl = "https://ok.example/rss"\n\n[[feed]]\nurl = "http://exa mple.com/"\n',
        encoding="utf-8",
    )
    with pytest.raises(FeedListError, match=r"bad.toml: feed #2: `url`"):
        load_feed_list(bad)


def test_misspelt_keys_are_errors_not_feeds_silently_left_out(tmp_path: Path) -> None:
    plural = tmp_path / "plural.toml"  # would have seeded no feed at all
    plural.write_text('[[feeds]]\nurl = "https://ok.example/rss"\n', encoding="utf-8")
    with pytest.raises(FeedListError, match=r"unknown top-level key 'feeds'.*\[\[feed\]\]"):
        load_feed_list(plural)
    typo = tmp_path / "typo.toml"  # would have polled on the default interval
    typo.write_text(
        '[[feed]]\nurl = "https://ok.example/rss"\nname = "Ok"\nintervall = "5m"\n',
        encoding="utf-8",
    )
    with pytest.raises(FeedListError, match=r"typo.toml: feed #1: unknown key 'intervall'"):
        load_feed_list(typo)


async def test_the_event_loop_runs_while_a_long_list_is_read(tmp_path: Path) -> None:
    """Reading 10,000 feeds (TOML, every URL checked) held the event loop for half a second
    at start-up: no health check or Slack command was answered meanwhile. Another task must
    get turns while the list is read (the old synchronous read gave it none)."""
    path = feed_list(tmp_path / "feeds.toml", 3_000)
    turns = 0

    async def other_work() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    other = asyncio.create_task(other_work())
    await asyncio.sleep(0)
    before = turns
    specs = await read_feed_list(path)
    during = turns - before
    other.cancel()
    assert len(specs) == 3_000
    assert during > 1


async def test_an_empty_database_is_seeded_once_with_every_feed(
    tmp_path: Path, store: Store
) -> None:
    path = feed_list(tmp_path / "feeds.toml", 1_234)  # more than one statement's worth
    added = await seed_feed_list(store, path, 600)
    assert len(added) == 1_234
    assert {feed.interval_seconds for feed in added} == {600}
    async with store.transaction() as tx:
        stored = await tx.feeds.list_all()
    assert sorted(feed.url for feed in stored) == sorted(feed.url for feed in added)
    assert await seed_feed_list(store, path, 600) == []  # not empty any more
