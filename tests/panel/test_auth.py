"""Signing in to the panel and what a session may do, over real HTTP on both databases."""

from __future__ import annotations

import re
from datetime import timedelta

import aiohttp
import pytest

from bot.core.commands.model import Invocation
from bot.panel.security import SECURITY_HEADERS
from tests.panel.support import ADMIN, CHANNEL, MEMBER, Panel, browser_session

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def signed_in(session: aiohttp.ClientSession, panel: Panel, link: str) -> str:
    """Sign in through the link's button; the CSRF token of the session's forms."""
    async with session.post(link, allow_redirects=False) as answer:
        assert (answer.status, answer.headers["Location"]) == (303, "/stories")
    async with session.get(f"{panel.url}/feeds") as page:
        assert page.status == 200
        found = CSRF.search(await page.text())
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("path", ["/", "/stories", "/stories/1", "/search?q=x", "/feeds", "/audit"])
async def test_without_a_session_pages_lead_to_the_sign_in_page(panel: Panel, path: str) -> None:
    async with browser_session() as session:
        async with session.get(panel.url + path, allow_redirects=False) as answer:
            assert (answer.status, answer.headers["Location"]) == (302, "/signin")
        async with session.get(f"{panel.url}/signin") as page:
            assert page.status == 200
            assert "/nkru web" in await page.text()


async def test_without_a_session_a_post_is_refused_and_does_nothing(panel: Panel) -> None:
    before = await panel.feed_urls()
    async with browser_session() as session:
        form = {"url": "http://127.0.0.1:9/feed.xml", "csrf": "guess"}
        async with session.post(f"{panel.url}/feeds/add", data=form) as answer:
            assert answer.status == 401
        async with session.get(f"{panel.url}/healthz") as health:  # the probe stays open
            assert health.status == 200
    assert await panel.feed_urls() == before


async def test_the_link_goes_to_the_caller_alone_and_signs_them_in_once(panel: Panel) -> None:
    reply = await panel.service.handle(Invocation(ADMIN, CHANNEL, "web"))
    link = reply.lines[0]
    assert reply.ephemeral and link.startswith(f"{panel.url}/login/")
    assert "within 10 minutes" in reply.lines[1] and "an admin" in reply.lines[1]
    async with browser_session() as session:
        async with session.get(link) as landing:  # a link preview's GET spends nothing
            assert landing.status == 200 and "Sign in" in await landing.text()
            assert landing.headers["Referrer-Policy"] == "no-referrer"  # the token stays here
        async with session.post(link, allow_redirects=False) as answer:
            cookie = answer.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
        async with session.get(f"{panel.url}/stories") as page:
            text = await page.text()
        assert page.status == 200 and "Ada (slack, admin)" in text
        for name, value in SECURITY_HEADERS.items():
            assert page.headers[name] == value
    async with browser_session() as again, again.post(link, allow_redirects=False) as reused:
        assert reused.status == 403
        assert "expired or was used already" in await reused.text()
        assert "Set-Cookie" not in reused.headers


async def test_an_expired_link_is_refused(panel: Panel) -> None:
    link = await panel.link()
    panel.clock.advance(minutes=10, seconds=1)
    async with browser_session() as session:
        async with session.post(link, allow_redirects=False) as answer:
            assert answer.status == 403
            assert "expired or was used already" in await answer.text()
        async with session.get(f"{panel.url}/stories", allow_redirects=False) as page:
            assert page.status == 302  # still not signed in


async def test_a_made_up_token_is_refused(panel: Panel) -> None:
    made_up = f"{panel.url}/login/not-a-token"
    async with browser_session() as session, session.post(made_up) as answer:
        assert answer.status == 403


async def test_a_post_without_the_sessions_csrf_token_is_refused(panel: Panel) -> None:
    before = await panel.feed_urls()
    async with browser_session() as session:
        token = await signed_in(session, panel, await panel.link(ADMIN))
        for form in ({}, {"csrf": ""}, {"csrf": token[:-1] + "x"}):
            async with session.post(f"{panel.url}/feeds/1/disable", data=form) as answer:
                assert answer.status == 403
                assert "security token" in await answer.text()
        async with session.post(f"{panel.url}/signout", data={}) as answer:
            assert answer.status == 403  # signing out is a POST like any other
    async with panel.store.transaction() as tx:
        feed = await tx.feeds.get(1)
    assert feed is not None and feed.enabled and await panel.feed_urls() == before


async def test_a_team_member_reads_but_every_change_is_refused_and_audited(panel: Panel) -> None:
    async with browser_session() as session:
        token = await signed_in(session, panel, await panel.link(MEMBER))
        async with session.get(f"{panel.url}/feeds") as page:
            text = await page.text()
        assert "Only admins can add" in text and "/feeds/add" not in text
        async with session.post(f"{panel.url}/feeds/1/disable", data={"csrf": token}) as answer:
            assert answer.status == 403 and "Only admins can" in await answer.text()
        for path in ("/audit", "/subscriptions"):
            async with session.get(panel.url + path) as page:
                assert page.status == 403
    [entry] = await panel.audit()
    assert (entry.user_id, entry.destination, entry.action, entry.outcome) == (
        MEMBER.user_id,
        "web",
        "feeds disable",
        "refused",
    )


async def test_an_admin_change_is_made_and_audited_as_from_chat(panel: Panel) -> None:
    async with browser_session() as session:
        token = await signed_in(session, panel, await panel.link(ADMIN))
        form = {"csrf": token}
        async with session.post(f"{panel.url}/feeds/1/disable", data=form) as answer:
            assert answer.status == 200 and str(answer.url).endswith("/feeds")
            text = await answer.text()
        assert "Disabled feed #1" in text
        async with session.get(f"{panel.url}/feeds") as page:  # the answer is shown once
            assert "Disabled feed #1" not in await page.text()
        async with session.get(f"{panel.url}/audit") as page:
            assert page.status == 200 and "feeds disable" in await page.text()
    [entry] = await panel.audit()
    assert (entry.user_name, entry.destination, entry.action, entry.outcome) == (
        "Ada",
        "web",
        "feeds disable",
        "ok",
    )


async def test_a_session_ends_when_signed_out(panel: Panel) -> None:
    async with browser_session() as session:
        token = await signed_in(session, panel, await panel.link(ADMIN))
        async with session.post(f"{panel.url}/signout", data={"csrf": token}) as answer:
            assert str(answer.url).endswith("/signin")
        async with session.get(f"{panel.url}/stories", allow_redirects=False) as page:
            assert page.status == 302


async def test_a_cookie_from_another_key_is_no_session(panel: Panel) -> None:
    async with browser_session() as session:
        session.cookie_jar.update_cookies({"nkru_panel": "gAAAAABforged"})
        async with session.get(f"{panel.url}/stories", allow_redirects=False) as page:
            assert page.status == 302


def test_links_last_as_the_setting_says() -> None:
    from bot.settings import Settings

    links = Settings(web_link_ttl="3m", web_base_url="https://nkru.example/").web_links()
    assert (links.base_url, links.ttl, links.minutes()) == (
        "https://nkru.example",
        timedelta(minutes=3),
        3,
    )
