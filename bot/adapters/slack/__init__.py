"""Slack adapter: alert and digest delivery (Web API) and the `/nkru` slash command (Bolt).

Runner wiring:

    delivery = SlackDelivery.from_token(token, api_url=api_url, catalog=get_catalog)
    adapters["slack"] = delivery                      # DeliveryAdapter and DigestAdapter
    bolt = build_slack_app(token, signing_secret, api_url, command_handler, get_catalog)
    add_slack_routes(web_app, bolt, signing_secret)   # HTTP mode, before web_app starts
    socket = socket_mode_handler(bolt, app_token, api_url)   # or Socket Mode
    await start_socket_mode(socket) … await stop_socket_mode(socket)
"""

from bot.adapters.slack.app import (
    add_slack_routes,
    build_slack_app,
    socket_mode_handler,
    start_socket_mode,
    stop_socket_mode,
)
from bot.adapters.slack.callers import Lookups
from bot.adapters.slack.delivery import DEFAULT_API_URL, SlackDelivery, make_web_client
from bot.adapters.slack.errors import SlackSetupError

__all__ = [
    "DEFAULT_API_URL",
    "Lookups",
    "SlackDelivery",
    "SlackSetupError",
    "add_slack_routes",
    "build_slack_app",
    "make_web_client",
    "socket_mode_handler",
    "start_socket_mode",
    "stop_socket_mode",
]
