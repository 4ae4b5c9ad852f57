"""Gateway payloads as Discord sends them: GUILD_CREATE and INTERACTION_CREATE (slash commands)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from tests.fakes.discord_api import APP_ID, FakeDiscord, InteractionState

GUILD = 1_300_000_000_000_000_001
CHANNEL = 1_300_000_000_000_000_002
MOD_ROLE = 1_300_000_000_000_000_003
USER = 1_300_000_000_000_000_004
MANAGE_GUILD = 1 << 5
SEND_AND_VIEW = (1 << 10) | (1 << 11) | (1 << 14)  # View Channel, Send Messages, Embed Links
_ids = itertools.count(1_400_000_000_000_000_000)
Json = dict[str, Any]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _channel(channel_id: int = CHANNEL) -> Json:
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(GUILD),
        "name": "nk-news",
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "rate_limit_per_user": 0,
        "last_message_id": None,
        "flags": 0,
    }


def _role(role_id: int, name: str) -> Json:
    return {
        "id": str(role_id),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": 0 if role_id == GUILD else 1,
        "permissions": "0",
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def guild_create() -> Json:
    """The GUILD_CREATE the `guilds` intent delivers on connect: roles and channels cached."""
    return {
        "id": str(GUILD),
        "name": "Monitoring",
        "icon": None,
        "owner_id": str(USER),
        "roles": [_role(GUILD, "@everyone"), _role(MOD_ROLE, "moderators")],
        "channels": [_channel()],
        "threads": [],
        "members": [],
        "member_count": 2,
        "emojis": [],
        "stickers": [],
        "features": [],
        "unavailable": False,
        "large": False,
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "system_channel_flags": 0,
        "afk_timeout": 300,
        "joined_at": _now(),
    }


def _member(roles: list[int], permissions: int) -> Json:
    return {
        "user": {
            "id": str(USER),
            "username": "analyst",
            "discriminator": "0",
            "global_name": "Analyst",
            "avatar": None,
        },
        "roles": [str(role) for role in roles],
        "joined_at": _now(),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "nick": None,
        "avatar": None,
        "premium_since": None,
        "communication_disabled_until": None,
        "permissions": str(permissions),
    }


def slash_command(
    fake: FakeDiscord,
    subcommand: str,
    options: dict[str, str | int] | None = None,
    *,
    roles: list[int] | None = None,
    permissions: int = SEND_AND_VIEW,
    focused: str | None = None,
    guild_command: bool = False,
) -> tuple[Json, InteractionState]:
    """INTERACTION_CREATE for `/nkru <subcommand> <options>` (type 4, autocomplete, if `focused`).

    The interaction is registered with the fake, which answers its callback and followups.
    """
    interaction_id, token = next(_ids), f"interaction-token-{next(_ids)}"
    state = InteractionState(interaction_id, token, CHANNEL)
    fake.interactions[token] = state
    option_list = [
        {"name": name, "type": 4 if isinstance(value, int) else 3, "value": value}
        | ({"focused": True} if name == focused else {})
        for name, value in (options or {}).items()
    ]
    data: Json = {
        "id": str(next(_ids)),
        "name": "nkru",
        "type": 1,
        "options": [{"name": subcommand, "type": 1, "options": option_list}],
    }
    if guild_command:
        data["guild_id"] = str(GUILD)
    payload = {
        "id": str(interaction_id),
        "application_id": str(APP_ID),
        "type": 4 if focused else 2,
        "token": token,
        "version": 1,
        "guild_id": str(GUILD),
        "guild": {"id": str(GUILD), "locale": "en-US", "features": []},
        "channel_id": str(CHANNEL),
        "channel": _channel(),
        "member": _member(roles or [], permissions),
        "data": data,
        "locale": "en-US",
        "guild_locale": "en-US",
        "app_permissions": str(SEND_AND_VIEW),
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(GUILD)},
        "context": 0,
        "attachment_size_limit": 8 * 1024 * 1024,
    }
    return payload, state
