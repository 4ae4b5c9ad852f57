"""PostgreSQL's search vectors in their own table (migration 0017): kept in step with articles,
filled from what 0016 stored, and ranked exactly as from the article text itself."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text, update

from bot.core.search_terms.terms import index_text, parse_query
from storage.engine import MIGRATIONS, Store
from storage.fulltext import search as fulltext_search
from storage.schema import articles
from tests.storage.test_contract import NOW, add_feed, article
from tests.storage.test_search import keys, store_articles

_RAJIN = ("Rajin ferry", "Summary of Rajin ferry")  # title and summary, as store_articles has
WORDS = ["bridge", "tumen", "rail", "port", "ferry", "trade", "talks", "khasan", "rajin",
         "border", "grain", "coal", "visit"]  # fmt: skip

# The rule, written from the article text rather than from any stored vector: the CANDIDATES
# matches stored last, by ts_rank (normalised by length), then the newest, then the last stored.
REFERENCE = text(
    "SELECT item_key FROM ("
    " SELECT item_key, id, published_at, to_tsvector('simple', search_text) AS vector"
    " FROM articles WHERE to_tsvector('simple', search_text) @@ to_tsquery('simple', :query)"
    " ORDER BY id DESC LIMIT :candidates) AS recent"
    " ORDER BY ts_rank(vector, to_tsquery('simple', :query), 1) DESC, published_at DESC, id DESC"
    " LIMIT :limit"
)


async def test_a_changed_search_text_or_date_is_searched_as_changed(store: Store) -> None:
    await store_articles(store, {"a": "Tumen bridge opens", "b": "Tumen bridge closes"})
    async with store.transaction() as tx:
        await tx.connection.execute(
            update(articles)
            .where(articles.c.item_key == "a")
            .values(search_text=index_text(*_RAJIN), published_at=NOW + timedelta(days=1))
        )

    assert await keys(store, "bridge") == ["b"]
    assert await keys(store, "ferry") == ["a"]
    await store_articles(store, {"c": _RAJIN[0]}, published_at=NOW)  # the same text, stored last
    assert await keys(store, "rajin ferry") == ["a", "c"]  # same rank: a's new date is newer


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
async def test_the_ranking_is_that_of_the_article_texts(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seeded articles of varied lengths and shared dates; a candidate limit below some words'
    match counts."""
    monkeypatch.setattr(fulltext_search, "CANDIDATES", 60)
    rng = random.Random(17)
    feed_id = await add_feed(store)
    rows = [
        article(
            f"k{n}",
            feed_id,
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 14))),
            published_at=NOW - timedelta(hours=rng.randint(0, 40)),
        )
        for n in range(400)
    ]
    async with store.transaction() as tx:
        await tx.articles.insert_new(rows)
        for query in ("bridge", "tumen ferry", '"rail port"', "khasan coal grain"):
            found = [a.item_key for a in await tx.articles.search(query, 15)]
            tsquery = fulltext_search.postgresql_query(parse_query(query))
            params = {"query": tsquery, "candidates": 60, "limit": 15}
            expected = list((await tx.connection.execute(REFERENCE, params)).scalars())
            assert found == expected, query
            assert len(found) == 15, query  # enough matches that the order is put to the test


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
async def test_the_migration_moves_the_vectors_and_back(store: Store) -> None:
    await store_articles(store, {"head": "Tumen bridge opens"})

    async with store.engine.begin() as conn:
        await conn.run_sync(migrate, "downgrade", "0016")
        found = await conn.execute(
            text("SELECT count(*) FROM articles WHERE search_vector @@ 'bridg'::tsquery")
        )
        assert found.scalar() == 1
    await store_articles(store, {"at-0016": "Rajin bridge closes"}, published_at=NOW)
    async with store.engine.begin() as conn:
        await conn.run_sync(migrate, "upgrade", "head")

    assert sorted(await keys(store, "bridge")) == ["at-0016", "head"]
    await store_articles(store, {"after": "Khasan bridge"})
    assert sorted(await keys(store, "bridge")) == ["after", "at-0016", "head"]


def migrate(connection: Connection, direction: str, revision: str) -> None:
    """Alembic's upgrade or downgrade to a revision, on this connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    getattr(command, direction)(config, revision)
