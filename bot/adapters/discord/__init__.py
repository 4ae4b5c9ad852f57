"""Discord adapter: alerts and digests as embeds (bot token or webhook), `/nkru` slash commands.

The runner's entry points:

* `start_discord_bot(token, handler, catalog, api_url=…, guild_id=…)` → `DiscordBot`
  (gateway + commands); stop with `await bot.shutdown()`.
* `DiscordDelivery(bot, catalog)` shares that bot's client, or
  `await DiscordDelivery.connect(token, catalog, api_url=…)` logs in a send-only client;
  `await delivery.close()`.
* `DiscordWebhookDelivery(url, catalog, api_url=…)` for webhook-only deployments;
  `await delivery.close()`.
"""

from bot.adapters.discord.api import DEFAULT_API_URL, DiscordSetupError, use_api_base
from bot.adapters.discord.app import DiscordBot, start_discord_bot
from bot.adapters.discord.delivery import DiscordDelivery, DiscordWebhookDelivery

__all__ = [
    "DEFAULT_API_URL",
    "DiscordBot",
    "DiscordDelivery",
    "DiscordSetupError",
    "DiscordWebhookDelivery",
    "start_discord_bot",
    "use_api_base",
]
