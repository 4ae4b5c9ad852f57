"""Who is an admin: decided by the bot from the caller's platform facts and its own settings."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.commands.model import Caller

MANAGE_GUILD = "manage_guild"  # Caller.permissions fact from Discord
WORKSPACE_ADMIN = "workspace_admin"  # Caller.permissions fact from Slack (users.info is_admin)


@dataclass(frozen=True, slots=True)
class AdminPolicy:
    """Who counts as an admin on each platform (README, "Admins")."""

    discord_manage_guild: bool = True  # members with Manage Server
    discord_role_ids: frozenset[str] = frozenset()
    slack_user_ids: frozenset[str] = frozenset()
    slack_usergroup_ids: frozenset[str] = frozenset()
    slack_workspace_admins: bool = False

    def is_admin(self, caller: Caller) -> bool:
        """Decide from the caller's platform facts and this configuration alone."""
        if caller.platform == "discord":
            if self.discord_manage_guild and MANAGE_GUILD in caller.permissions:
                return True
            return bool(self.discord_role_ids & caller.roles)
        if caller.platform == "slack":
            if caller.user_id in self.slack_user_ids:
                return True
            if self.slack_workspace_admins and WORKSPACE_ADMIN in caller.permissions:
                return True
            return bool(self.slack_usergroup_ids & caller.roles)
        return caller.platform == "console"  # the operator at the server's own terminal
