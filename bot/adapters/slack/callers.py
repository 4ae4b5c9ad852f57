"""What Slack knows about a caller that the bot needs to decide who is an admin.

A slash command names only the user. User-group membership (`usergroups.list`, scope
`usergroups:read`) and workspace admin/owner status (`users.info`, scope `users:read`) are
looked up here — only when the bot's admin settings use them — and cached for a few minutes so a
burst of commands costs one lookup. The decision itself is the core's (AdminPolicy).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.errors import slack_error_code
from bot.core.commands.model import Caller
from bot.core.commands.permissions import WORKSPACE_ADMIN

log = logging.getLogger(__name__)
CACHE_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Lookups:
    """Which facts to look up (what the admin settings need)."""

    usergroups: bool = False  # NKRU_SLACK_ADMIN_USERGROUP_IDS is set
    workspace_admins: bool = False  # NKRU_SLACK_WORKSPACE_ADMINS is on


class CallerFacts:
    """Builds Callers with the user's groups and admin status, cached for `ttl` seconds."""

    def __init__(
        self,
        client: AsyncWebClient,
        lookups: Lookups,
        *,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.lookups = lookups
        self.ttl = ttl
        self.clock = clock
        self._groups: tuple[float, dict[str, frozenset[str]]] | None = None
        self._admins: dict[str, tuple[float, bool]] = {}

    async def caller(self, user_id: str, user_name: str) -> Caller:
        """The caller with every fact the settings ask for; a failed lookup counts as none."""
        groups = await self._groups_of(user_id) if self.lookups.usergroups else frozenset()
        admin = self.lookups.workspace_admins and await self._is_admin(user_id)
        permissions = frozenset({WORKSPACE_ADMIN}) if admin else frozenset()
        return Caller("slack", user_id, user_name, roles=groups, permissions=permissions)

    async def _groups_of(self, user_id: str) -> frozenset[str]:
        now = self.clock()
        if self._groups is None or now - self._groups[0] > self.ttl:
            try:
                response = await self.client.usergroups_list(include_users=True)
            except SlackApiError as exc:
                # Fail closed: without the lookup nobody is an admin through a group.
                log.error(
                    "Slack usergroups.list failed (%s): user-group admins cannot be recognised "
                    "— add the usergroups:read scope and reinstall the app",
                    slack_error_code(exc),
                )
                return frozenset()
            members: dict[str, set[str]] = {}
            for group in response.get("usergroups") or []:
                for member in group.get("users") or []:
                    members.setdefault(str(member), set()).add(str(group["id"]))
            self._groups = (now, {user: frozenset(ids) for user, ids in members.items()})
        return self._groups[1].get(user_id, frozenset())

    async def _is_admin(self, user_id: str) -> bool:
        now = self.clock()
        cached = self._admins.get(user_id)
        if cached and now - cached[0] <= self.ttl:
            return cached[1]
        try:
            response = await self.client.users_info(user=user_id)
        except SlackApiError as exc:
            log.error(
                "Slack users.info failed (%s): workspace admins cannot be recognised — add the "
                "users:read scope and reinstall the app",
                slack_error_code(exc),
            )
            return False
        user = response.get("user") or {}
        admin = bool(user.get("is_admin") or user.get("is_owner"))
        self._admins[user_id] = (now, admin)
        return admin
