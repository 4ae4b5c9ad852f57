"""Discord adapter: alerts and digests as embeds (bot token or webhook), `/nkru` slash commands.

The runner's entry points (each takes `network=DiscordNetwork(proxy=…)`, default direct):

* `start_discord_bot(token, handler, catalog, guild_id=…)` → `DiscordBot`
  (gateway + commands); stop with `await bot.shutdown()`.
* `DiscordDelivery(bot, catalog)` shares that bot's client, or
  `await DiscordDelivery.connect(token, catalog)` logs in a send-only client;
  `await delivery.close()`.
* `DiscordWebhookDelivery(url, catalog)` for webhook-only deployments;
  `await delivery.close()`.
"""

from bot.adapters.discord.api import DiscordNetwork, DiscordSetupError
from bot.adapters.discord.app import DiscordBot, start_discord_bot
from bot.adapters.discord.delivery import DiscordDelivery, DiscordWebhookDelivery

__all__ = [
    "DiscordBot",
    "DiscordDelivery",
    "DiscordNetwork",
    "DiscordSetupError",
    "DiscordWebhookDelivery",
    "start_discord_bot",
]
