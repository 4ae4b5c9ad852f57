"""The web panel: server-rendered pages on the bot's HTTP listener (bot.web), for the team.

Stories, a story's every report, search, trends, the watchlist (with its editor: preview, then
save), feeds, routes and the audit log, in Jinja2 templates
(autoescaped: feed text is always text) with one stylesheet and no JavaScript. Signing in takes
a one-time link from `/nkru web` or `nkru web-login` (bot.core.web_login); the session lives in
an encrypted cookie (aiohttp-session). Reading needs a session; every change is a POST with the
session's CSRF token, run by the same command service as chat, which checks the same admin
rules and writes the same audit entries. README, "Web panel".
"""

from bot.panel.app import add_panel
from bot.panel.config import PanelConfig

__all__ = ["PanelConfig", "add_panel"]
