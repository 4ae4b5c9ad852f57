"""The web panel's repositories on both databases: sign-in grants (single use, expiry), the
session key, and the panel's story queries."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.core.commands.model import Caller
from bot.core.records import LoginGrant
from bot.core.web_login import WebLinks, caller_of, token_hash
from storage.engine import Store

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
ANA = Caller("discord", "42", "Ana", frozenset({"777"}), frozenset({"manage_guild"}))


def grant(token: str, *, expires: datetime = NOW + timedelta(minutes=10)) -> LoginGrant:
    return LoginGrant(
        token_hash(token),
        ANA.platform,
        ANA.user_id,
        ANA.user_name,
        ANA.roles,
        ANA.permissions,
        NOW,
        expires,
    )


async def test_a_grant_redeems_once_and_keeps_the_callers_facts(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.web_logins.add(grant("t1"))
    async with store.transaction() as tx:
        redeemed = await tx.web_logins.redeem(token_hash("t1"), NOW + timedelta(minutes=9))
        again = await tx.web_logins.redeem(token_hash("t1"), NOW + timedelta(minutes=9))
    assert redeemed == grant("t1") and again is None
    assert caller_of(redeemed) == ANA


async def test_an_expired_or_unknown_grant_does_not_redeem(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.web_logins.add(grant("t1"))
        assert await tx.web_logins.redeem(token_hash("t1"), NOW + timedelta(minutes=10)) is None
        assert await tx.web_logins.redeem(token_hash("other"), NOW) is None
        assert await tx.web_logins.redeem(token_hash("t1"), NOW) is not None  # still unused


async def test_two_racing_redemptions_sign_in_once(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.web_logins.add(grant("race"))

    async def redeem() -> LoginGrant | None:
        async with store.transaction() as tx:
            return await tx.web_logins.redeem(token_hash("race"), NOW)

    results = await asyncio.gather(*(redeem() for _ in range(5)))
    assert sum(result is not None for result in results) == 1


async def test_links_store_only_a_hash_and_expired_grants_are_purged(store: Store) -> None:
    links = WebLinks("https://panel.example/", timedelta(minutes=5))
    async with store.transaction() as tx:
        await tx.web_logins.add(grant("old", expires=NOW - timedelta(seconds=1)))
    url = await links.issue(store, ANA, NOW)
    token = url.removeprefix("https://panel.example/login/")
    async with store.transaction() as tx:
        rows = (await tx.connection.exec_driver_sql("SELECT token_hash FROM web_logins")).all()
        assert [row[0] for row in rows] == [token_hash(token)]  # "old" purged, no token kept
        assert await tx.web_logins.redeem(token_hash(token), NOW + timedelta(minutes=5)) is None
        assert await tx.web_logins.redeem(token_hash(token), NOW + timedelta(minutes=4)) is not None


async def test_the_first_session_key_stored_is_everyones(store: Store) -> None:
    async with store.transaction() as tx:
        first = await tx.web_logins.session_key(b"a" * 32)
    async with store.transaction() as tx:
        second = await tx.web_logins.session_key(b"b" * 32)
    assert first == second == b"a" * 32
