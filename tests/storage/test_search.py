"""`ArticleRepository.search` on SQLite and PostgreSQL: whole words, stemmed, Korean by its
parts, phrases, ranked, from the full-text index, kept in step with inserts and retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, insert, text

from storage.engine import MIGRATIONS, Store
from storage.fulltext import search as fulltext_search
from storage.schema import FULLTEXT_INDEX, articles
from tests.storage.statements import statements
from tests.storage.test_contract import NOW, add_feed, article

HOUR = timedelta(hours=1)


async def keys(store: Store, query: str) -> list[str]:
    """The item keys `search` finds, in its order."""
    async with store.transaction() as tx:
        return [found.item_key for found in await tx.articles.search(query)]


async def store_articles(store: Store, texts: dict[str, str], **changes: Any) -> None:
    """One article per key, its title the text (its summary "Summary of " the text), from a
    feed of their own."""
    feed_id = await add_feed(store, f"https://news.example/{min(texts)}.xml")
    async with store.transaction() as tx:
        await tx.articles.insert_new(
            [article(key, feed_id, title, **changes) for key, title in texts.items()]
        )


async def test_a_word_matches_words_not_the_words_that_contain_it(store: Store) -> None:
    await store_articles(
        store,
        {
            "colby": "Elbridge Colby visits Seoul",
            "series": "Bridgerton season four",
            "scandal": "Cambridge Analytica files",
            "bridge": "Tumen road bridge opens",
            "flaws": "Найдены уязвимости в системе",
            "most": "Открыт мост через Туманную",
        },
    )

    assert await keys(store, "bridge") == ["bridge"]
    assert await keys(store, "мост") == ["most"]  # not "уязвимости"


async def test_english_and_russian_words_match_their_other_forms(store: Store) -> None:
    await store_articles(
        store,
        {
            "bridges": "Two bridges cross the Tumen",
            "bridge": "A bridge for trucks",
            "bridged": "Gap bridged by talks",
            "po-mostu": "Грузовики пошли по мосту",
            "mosty": "Мосты и дороги",
            "building": "Строительство моста началось",
        },
        published_at=NOW,
    )

    assert sorted(await keys(store, "bridge")) == ["bridge", "bridged", "bridges"]
    assert sorted(await keys(store, "BRIDGES")) == ["bridge", "bridged", "bridges"]
    assert sorted(await keys(store, "мост")) == ["building", "mosty", "po-mostu"]
    assert sorted(await keys(store, "мосту")) == ["building", "mosty", "po-mostu"]


async def test_korean_is_found_by_the_parts_a_reader_types(store: Store) -> None:
    await store_articles(
        store,
        {
            "topic": "북한은 러시아와 협력을 확대했다",
            "genitive": "북한의 노동자 파견",
            "kim": "김정은 위원장 방러",
            "south": "남한 경제 동향",
        },
    )

    assert sorted(await keys(store, "북한")) == ["genitive", "topic"]  # particles 은, 의 follow
    assert await keys(store, "북한의") == ["genitive"]
    assert await keys(store, "러시아") == ["topic"]  # 러시아와: "with Russia"
    assert await keys(store, "김정은 위원장") == ["kim"]
    assert sorted(await keys(store, "북")) == ["genitive", "topic"]  # one syllable starts a word
    assert await keys(store, "한국") == []  # 한 and 국 appear, never side by side


async def test_quoted_words_match_as_a_phrase(store: Store) -> None:
    await store_articles(
        store,
        {
            "phrase": "Road bridge over the Tumen opens",
            "apart": "Bridge closed, road reopened",
            "russian": "«Железная дорога» продлена",
        },
    )

    assert sorted(await keys(store, "road bridge")) == ["apart", "phrase"]
    assert await keys(store, '"road bridge"') == ["phrase"]
    assert await keys(store, "“roads bridges” tumen") == ["phrase"]  # stemmed, with a word
    assert await keys(store, '"bridge road"') == []
    assert await keys(store, "«железную дорогу»") == ["russian"]
    assert await keys(store, '"road bridge') == ["phrase"]  # an unclosed quote runs to the end


async def test_results_are_ranked_by_relevance_then_newest_first(store: Store) -> None:
    long_text = (
        "Officials from both governments met in Vladivostok to discuss trade, fishing quotas, "
        "labour, tourism, rail freight, a bridge and much else besides"
    )
    await store_articles(store, {"passing": long_text}, published_at=NOW)
    await store_articles(
        store, {"about": "Bridge, bridge: the bridge"}, published_at=NOW - 48 * HOUR
    )
    await store_articles(store, {"older": "Tumen bridge opens"}, published_at=NOW - 3 * HOUR)
    await store_articles(store, {"newer": "Tumen bridge opens"}, published_at=NOW - HOUR)

    assert await keys(store, "bridge") == ["about", "newer", "older", "passing"]


async def test_only_the_matches_stored_last_are_ranked(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A word in most articles is ranked among the CANDIDATES (10,000) matches stored last; here
    the limit is 3, so the best match, stored first, is left out."""
    monkeypatch.setattr(fulltext_search, "CANDIDATES", 3)
    await store_articles(store, {"a-best": "Bridge, bridge: the bridge"}, published_at=NOW)
    for key in ("b", "c", "d"):
        await store_articles(store, {key: "Tumen bridge opens"}, published_at=NOW - HOUR)

    assert await keys(store, "bridge") == ["d", "c", "b"]


async def test_purged_articles_leave_the_index(store: Store) -> None:
    old = NOW - 100 * 24 * HOUR
    await store_articles(store, {"old": "Tumen bridge, old news"}, fetched_at=old)
    await store_articles(store, {"kept": "Tumen bridge, new news"})

    async with store.transaction() as tx:
        assert await tx.articles.purge_fetched_before(NOW - 90 * 24 * HOUR) == 1
    assert await keys(store, "bridge") == ["kept"]
    async with store.transaction() as tx:
        assert await _indexed_ids(tx.connection, "bridg") == [(await tx.articles.latest())[0].id]


async def test_search_reads_the_full_text_index_not_every_article(store: Store) -> None:
    feed_id = await add_feed(store)
    filler = [article(f"f{n}", feed_id, f"Filler story {n} on trade") for n in range(500)]
    async with store.transaction() as tx:
        await tx.articles.insert_new([*filler, article("rare", feed_id, "Zanzibar ferry")])

    with statements(store) as executed:
        assert await keys(store, "zanzibar") == ["rare"]
    [(sql, parameters)] = [(s, p) for s, p in executed if "articles" in s and "SELECT" in s]
    async with store.transaction() as tx:
        if store.dialect == "postgresql":
            # On a table this small a sequential scan costs less, so PostgreSQL would choose it:
            # what is checked here is that the search can be answered from the index.
            await tx.connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = await tx.connection.exec_driver_sql(f"EXPLAIN {_explain(store)}{sql}", parameters)
        lines = [str(row[-1]) for row in plan]
    if store.dialect == "sqlite":
        assert any("VIRTUAL TABLE INDEX" in line for line in lines), lines
        assert not any(line.startswith("SCAN articles ") for line in lines), lines
    else:
        assert any(f"Bitmap Index Scan on {FULLTEXT_INDEX}" in line for line in lines), lines
        assert not any("Seq Scan" in line for line in lines), lines


async def test_the_migration_indexes_articles_stored_before_it(store_url: str) -> None:
    def to_0007(connection: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")

    store = await Store.open(store_url, migrate=False)
    try:
        async with store.engine.begin() as conn:
            await conn.run_sync(to_0007)
        feed_id = await add_feed(store)
        rows = [
            article("en", feed_id, "Bridge reopens after floods"),
            article("ru", feed_id, "Мост открыт"),
        ]
        async with store.transaction() as tx:  # as version 0007 stored them
            await tx.connection.execute(
                insert(articles),
                [
                    {
                        **{name: getattr(a, name) for name in _STORED},
                        "search_text": f"{a.title}\n{a.summary}".casefold(),
                    }
                    for a in rows
                ],
            )
        await store.upgrade()

        assert await keys(store, "bridges") == ["en"]
        assert await keys(store, "мосту") == ["ru"]
    finally:
        await store.close()


async def test_queries_without_words_or_with_search_syntax_are_plain_words(store: Store) -> None:
    await store_articles(store, {"a": "Kim's NEAR-term AND/OR plan: 100% done"})

    assert await keys(store, "   ") == []
    assert await keys(store, '"" … !!') == []
    assert await keys(store, "kim NEAR term") == ["a"]
    assert await keys(store, "AND OR") == ["a"]
    assert await keys(store, "NOT plan") == []  # "not" is a word the article lacks
    assert await keys(store, "plan*") == ["a"]
    assert await keys(store, "kim's 100%") == ["a"]


_STORED = [
    *("item_key", "feed_id", "guid", "url", "title", "summary"),
    *("source_name", "content_hash", "published_at", "fetched_at"),
]


def _explain(store: Store) -> str:
    return "QUERY PLAN " if store.dialect == "sqlite" else ""


async def _indexed_ids(conn: Any, term: str) -> list[int]:
    """The article ids the full-text index itself holds for a term."""
    if conn.dialect.name == "sqlite":
        query = text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH :term")
    else:
        query = text(
            "SELECT article_id FROM article_vectors WHERE vector @@ to_tsquery('simple', :term)"
        )
    return sorted(int(row[0]) for row in await conn.execute(query, {"term": term}))
