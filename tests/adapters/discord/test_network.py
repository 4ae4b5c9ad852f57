"""DiscordNetwork: REST, the gateway and webhooks go where it says, over verified TLS.

The networks here resolve no Discord hostname at all, so the only way to the fakes is the proxy:
what arrives went through it.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.adapters.discord import (
    DiscordDelivery,
    DiscordNetwork,
    DiscordSetupError,
    DiscordWebhookDelivery,
    start_discord_bot,
)
from bot.core.commands.model import Invocation, Reply
from bot.core.delivery import DeliveryError
from tests.adapters.discord.factories import CATALOG, alert
from tests.adapters.discord.payloads import CHANNEL, guild_create
from tests.fakes.connect_proxy import FakeProxy
from tests.fakes.discord_api import TOKEN, FakeDiscord
from tests.fakes.discord_gateway import FakeGateway
from tests.fakes.discord_hosts import API_HOST, GATEWAY_HOST, LoopbackResolver, loopback_network

LOGIN = ("nkru", "s3cret-pass")
HOOK_CHANNEL = 1_500_000_000_000_000_002


class Handler:
    async def handle(self, invocation: Invocation) -> Reply:
        return Reply("Done")


def via(proxy_url: str) -> DiscordNetwork:
    """Through the proxy only: this network's resolver knows no Discord host."""
    return loopback_network({}, proxy=proxy_url)


@pytest.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    async with FakeGateway(guilds=[guild_create()]) as server:
        yield server


@pytest.fixture
async def proxy(fake: FakeDiscord, gateway: FakeGateway) -> AsyncIterator[FakeProxy]:
    ports = {API_HOST: fake.port, GATEWAY_HOST: gateway.port}
    async with FakeProxy(ports, login=LOGIN) as server:
        yield server


async def test_rest_gateway_and_webhook_all_go_through_the_proxy(
    fake: FakeDiscord, gateway: FakeGateway, proxy: FakeProxy
) -> None:
    network = via(proxy.url)  # the login is in the URL, as NKRU_DISCORD_PROXY carries it
    bot = await start_discord_bot(TOKEN, Handler(), CATALOG, network=network)
    webhook = DiscordWebhookDelivery(fake.add_webhook(HOOK_CHANNEL), CATALOG, network=network)
    try:
        identify = await gateway.wait_identified()
        posted = await DiscordDelivery(bot, CATALOG).send(alert(1))
        hooked = await webhook.send(alert(2))
    finally:
        await webhook.close()
        await bot.shutdown()

    assert identify["token"] == TOKEN
    assert posted.remote_id == fake.channel_messages(CHANNEL)[0]["id"]
    assert hooked.remote_id == fake.channel_messages(HOOK_CHANNEL)[0]["id"]
    assert set(proxy.tunnels) == {f"{API_HOST}:443", f"{GATEWAY_HOST}:443"}
    assert proxy.refused == []


async def test_a_proxy_wanting_a_login_names_the_setting(
    fake: FakeDiscord, proxy: FakeProxy
) -> None:
    without_login = proxy.url.replace(f"{LOGIN[0]}:{LOGIN[1]}@", "")

    with pytest.raises(DiscordSetupError) as caught:
        await DiscordDelivery.connect(TOKEN, CATALOG, network=via(without_login))

    message = str(caught.value)
    assert message.startswith("NKRU_DISCORD_PROXY: the proxy answered 407")
    assert "http://user:password@host:port" in message
    assert fake.requests == [] and proxy.tunnels == []


async def test_an_unreachable_proxy_names_the_setting(fake: FakeDiscord) -> None:
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{unused.getsockname()[1]}"

    with pytest.raises(DiscordSetupError, match=r"^NKRU_DISCORD_PROXY: cannot connect"):
        await DiscordDelivery.connect(TOKEN, CATALOG, network=via(closed))


async def test_a_webhook_post_the_proxy_refuses_names_the_setting(
    fake: FakeDiscord, proxy: FakeProxy
) -> None:
    without_login = proxy.url.replace(f"{LOGIN[0]}:{LOGIN[1]}@", "")
    webhook = DiscordWebhookDelivery(
        fake.add_webhook(HOOK_CHANNEL), CATALOG, network=via(without_login)
    )
    try:
        with pytest.raises(DeliveryError) as caught:
            await webhook.send(alert(3))
    finally:
        await webhook.close()

    assert "NKRU_DISCORD_PROXY: the proxy answered 407" in str(caught.value)
    assert not caught.value.permanent  # fixed in the proxy or the setting, then retried
    assert LOGIN[1] not in str(caught.value)


async def test_tls_is_verified(fake: FakeDiscord) -> None:
    """The fakes' certificate is only good with their CA: the system's CAs refuse it."""

    def system_trust() -> aiohttp.BaseConnector:
        return aiohttp.TCPConnector(resolver=LoopbackResolver({API_HOST: fake.port}))

    with pytest.raises(DiscordSetupError) as caught:
        await DiscordDelivery.connect(
            TOKEN, CATALOG, network=DiscordNetwork(connector=system_trust)
        )

    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectorCertificateError)
    assert str(caught.value).startswith("SSL_CERT_FILE: cannot verify Discord's TLS certificate")
    assert fake.requests == []
