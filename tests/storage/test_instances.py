"""The instances table and releasing the claims of gone instances, on both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from bot.core.records import Instance, OutboxEntry
from storage.engine import Store
from storage.schema import outbox
from tests.storage.test_contract import NOW, add_feed, article

LEASE = timedelta(minutes=5)


async def queue(store: Store, *keys: str) -> list[int]:
    """One console alert per key, each its own story; their outbox ids."""
    feed_id = await add_feed(store)
    async with store.transaction() as tx:
        for key in keys:
            [item] = await tx.articles.insert_new([article(key, feed_id)])
            sid = await tx.stories.create(
                title=key, lead_article_id=item.id, seen_at=NOW, signature=b"s"
            )
            await tx.outbox.enqueue([OutboxEntry("console", "new", sid, item.id)], NOW)
        rows = await tx.connection.execute(select(outbox.c.id).order_by(outbox.c.id))
        return list(rows.scalars())


async def test_beat_adds_an_instance_then_renews_only_its_heartbeat(store: Store) -> None:
    first = Instance("a1", "boot pid:[1]", 4321, 99, NOW)
    async with store.transaction() as tx:
        await tx.instances.beat(first)
        await tx.instances.beat(Instance("b2", "", 1, 0, NOW))
    later = replace(first, seen_at=NOW + timedelta(seconds=15), pid=1)
    async with store.transaction() as tx:
        await tx.instances.beat(later)
        stored = {i.id: i for i in await tx.instances.all()}
    assert stored["a1"] == replace(first, seen_at=NOW + timedelta(seconds=15))
    async with store.transaction() as tx:
        await tx.instances.remove(["a1"])
        await tx.instances.remove([])
        assert [i.id for i in await tx.instances.all()] == ["b2"]


async def test_release_claims_makes_only_the_running_claims_of_those_holders_due(
    store: Store,
) -> None:
    mine, theirs, failed = await queue(store, "k1", "k2", "k3")
    async with store.transaction() as tx:
        assert len(await tx.outbox.claim_due(NOW, LEASE, by="gone")) == 3
    async with store.transaction() as tx:
        # k2 goes to another holder after a lease; k3's holder recorded a failure.
        await tx.connection.execute(
            outbox.update().where(outbox.c.id == theirs).values(claimed_by="alive")
        )
        await tx.outbox.mark_failed(failed, "503", NOW + timedelta(minutes=30))

    async with store.transaction() as tx:
        assert await tx.outbox.release_claims(["gone"], NOW + timedelta(seconds=5)) == 1
        assert await tx.outbox.release_claims([], NOW) == 0
        rows = await tx.connection.execute(
            select(outbox.c.id, outbox.c.next_attempt_at, outbox.c.claimed_by, outbox.c.claims)
        )
        found = {row.id: (row.next_attempt_at, row.claimed_by, row.claims) for row in rows}
    assert found == {
        mine: (NOW + timedelta(seconds=5), None, 1),
        theirs: (NOW + LEASE, "alive", 1),
        failed: (NOW + timedelta(minutes=30), None, 1),
    }
    async with store.transaction() as tx:
        [again] = await tx.outbox.claim_due(NOW + timedelta(seconds=5), LEASE, by="restarted")
    assert (again.outbox_id, again.redelivery) == (mine, True)
