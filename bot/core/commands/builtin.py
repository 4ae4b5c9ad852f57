"""The built-in `/nkru` commands, in the order `help` lists them."""

from __future__ import annotations

from bot.core.commands.args import (
    no_args,
    parse_digest,
    parse_latest,
    parse_mute,
    parse_search,
    parse_unmute,
)
from bot.core.commands.audit_command import parse_audit, run_audit
from bot.core.commands.feeds import USAGE as FEEDS_USAGE
from bot.core.commands.feeds import parse_feeds, run_feeds
from bot.core.commands.guide import parse_help, run_help, run_themes
from bot.core.commands.muting import run_mute, run_unmute
from bot.core.commands.news import run_digest, run_latest, run_search
from bot.core.commands.registry import Command, Registry
from bot.core.commands.status import run_status
from bot.core.commands.subscribe import (
    parse_subscriptions,
    run_subscribe,
    run_subscriptions,
    run_unsubscribe,
)
from bot.core.commands.subscribe_args import SUBSCRIBE_USAGE, parse_subscribe
from bot.core.commands.watch import parse_watch, run_watch
from bot.core.commands.web_command import run_web


def builtin_commands() -> Registry:
    """A new registry of the commands every channel may use (admin ones are added to it)."""
    return Registry(
        [
            Command(
                "latest",
                "[theme] [n]",
                "the newest stories that matched a watchlist theme (5, at most 20; all: any)",
                parse_latest,
                run_latest,
            ),
            Command(
                "search",
                "<words>",
                'stored articles with every word (any form) and "phrase", best match first',
                parse_search,
                run_search,
            ),
            Command("themes", "", "the watchlist themes and what each covers", no_args, run_themes),
            Command(
                "digest",
                "[since]",
                "this channel's digest now, over the last 24h or e.g. 3d, 90m",
                parse_digest,
                run_digest,
            ),
            Command(
                "status",
                "",
                "feed health, last poll, alerts waiting and deliveries that failed",
                no_args,
                run_status,
            ),
            Command(
                "mute",
                "<theme> <duration>",
                "silence a theme in this channel, e.g. arms-transfers 3d (alone: list mutes)",
                parse_mute,
                run_mute,
            ),
            Command(
                "unmute", "<theme>", "lift a theme's mute in this channel", parse_unmute, run_unmute
            ),
            Command(
                "watch",
                "<list|show|test|history|add|remove|exclude|new|delete|undo> …",
                "see, test and (admins) edit the watchlist; changes can be undone",
                parse_watch,
                run_watch,
            ),
            Command(
                "feeds",
                FEEDS_USAGE,
                "the feeds and their health; admins add, remove, enable and disable them",
                parse_feeds,
                run_feeds,
            ),
            Command(
                "subscribe",
                SUBSCRIBE_USAGE,
                "(admins) route alerts or a digest to this channel; replaces its subscription",
                parse_subscribe,
                run_subscribe,
            ),
            Command(
                "subscriptions",
                "[undo]",
                "(admins) every route, config file's included; undo this channel's last change",
                parse_subscriptions,
                run_subscriptions,
            ),
            Command(
                "unsubscribe",
                "",
                "(admins) end this channel's subscription from chat",
                no_args,
                run_unsubscribe,
            ),
            Command("audit", "[n]", "the latest admin actions (admins)", parse_audit, run_audit),
            Command(
                "web",
                "",
                "a one-time sign-in link to the web panel, for you alone",
                no_args,
                run_web,
            ),
            Command("help", "[command]", "this list, or one command's usage", parse_help, run_help),
        ]
    )
