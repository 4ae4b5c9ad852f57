"""The one settings module: defaults < nkru.toml (or $NKRU_CONFIG) < NKRU_* environment variables.

Secrets have no default. Each secret can also be read from a file named by `NKRU_<NAME>_FILE`
(Docker/Kubernetes secrets). A bad value stops start-up with `SettingsError`, whose message is
one line naming the setting and the fix.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.core.commands.permissions import AdminPolicy
from bot.core.cron import check_cron
from bot.core.durations import parse_duration
from bot.core.feed_input import MAX_INTERVAL, MIN_INTERVAL, feed_interval
from bot.core.quiet_hours import QuietHours
from bot.core.routing import Route, conflicting_update_styles
from bot.core.web_login import WebLinks
from bot.settings_names import known_variables, unknown_variables

ENV_PREFIX = "NKRU_"
DEFAULT_CONFIG_FILE = "nkru.toml"
SECRET_FIELDS = (
    "slack_bot_token",
    "slack_signing_secret",
    "slack_app_token",
    "discord_token",
    "discord_webhook_url",
    "web_secret",
)
# Settings that no longer exist but would silently change where traffic goes if ignored.
REMOVED_SETTINGS = {
    "discord_api_url": "discord.py always talks to https://discord.com/api/v10",
    "discord_gateway_url": "discord.py always connects to wss://gateway.discord.gg",
}
_PROXY_SCHEMES = ("http", "https")


class SettingsError(Exception):
    """A setting is invalid; the message names it and says how to fix it."""


Seconds = Annotated[float, BeforeValidator(parse_duration)]


def normalize_database_url(url: str) -> str:
    """Map plain sqlite:// and postgresql:// URLs to the async drivers; refuse other schemes."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"{url!r} is not a URL")
    base = scheme.split("+", 1)[0].lower()
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    if base in {"postgresql", "postgres"}:
        return f"postgresql+asyncpg://{rest}"
    raise ValueError(
        f"unsupported database {scheme!r}: use sqlite+aiosqlite:///path/to.db "
        "or postgresql+asyncpg://user@host/db"
    )


def _usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class RouteSettings(BaseModel):
    """A route: a destination, the watchlist themes it follows, and how it hears of them."""

    model_config = ConfigDict(extra="forbid")

    destination: str = "console"  # "console", "slack:<channel id>", "discord:<channel id>"
    themes: list[str] = Field(default_factory=list)  # theme slugs; empty = every theme
    unmatched: bool = False  # also stories that match no theme (everything new)
    min_score: float = Field(default=0.0, ge=0)
    mode: Literal["instant", "digest"] = "instant"
    cron: str = "0 8 * * *"  # digest mode: when (UTC)
    since: Seconds = 86400.0  # digest mode: the period it covers
    quiet_hours: str | None = None  # instant mode: e.g. "22:00-07:00"; alerts wait until the end
    timezone: str = "UTC"  # of quiet_hours
    # how an update of an alerted story is shown: "edit" the alert, a "thread" reply, "both"
    updates: Literal["edit", "thread", "both"] | None = None

    @field_validator("destination")
    @classmethod
    def _known_destination(cls, value: str) -> str:
        platform, _, channel = value.partition(":")
        if platform == "console" and not channel:
            return value
        if platform in {"slack", "discord"} and channel.strip():
            return value
        raise ValueError(
            f"{value!r} is not a destination: use console, slack:<channel id> or "
            "discord:<channel id>"
        )

    @model_validator(mode="after")
    def _valid_quiet_hours(self) -> RouteSettings:
        if self.quiet_hours is not None:
            QuietHours.parse(self.quiet_hours, self.timezone)
        return self

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        check_cron(value)  # the same check as `/nkru subscribe … digest <cron>`
        return value

    def route(self) -> Route:
        """This route as the core's Route."""
        themes = None if self.unmatched else frozenset(self.themes)
        quiet = QuietHours.parse(self.quiet_hours, self.timezone) if self.quiet_hours else None
        return Route(self.destination, themes, self.min_score, self.mode, quiet, self.updates)


class Settings(BaseSettings):
    """Every setting of nkru-monitor; environment names are NKRU_<FIELD> in upper case."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", env_nested_delimiter="__"
    )

    database_url: str = "sqlite+aiosqlite:///storage/nkru.db"
    feeds_file: Path = Path("seeds/feeds.toml")
    log_level: str = "INFO"

    # polling
    # Before poll_interval, which is checked against it.
    poll_min_interval: Seconds = Field(default=60.0, ge=1.0)  # no feed polled more often
    poll_interval: Seconds = 1800.0  # default interval for feeds that name none
    poll_max_interval: Seconds = 6 * 3600.0  # cap for Cache-Control max-age / <ttl>
    poll_jitter: Seconds = 30.0
    failure_backoff_base: Seconds = 60.0
    failure_backoff_cap: Seconds = 6 * 3600.0
    disable_after: Seconds = 7 * 86400.0  # a feed failing this long is disabled
    flood_guard: bool = True  # first fetch of a new feed stores items without alerting

    # fetching
    fetch_connect_timeout: Seconds = 10.0
    fetch_total_timeout: Seconds = 30.0
    fetch_max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    fetch_global_concurrency: int = Field(default=20, ge=1)
    fetch_per_host_concurrency: int = Field(default=2, ge=1)
    user_agent: str = "nkru-monitor/0.1 (news monitoring bot; +https://github.com/nkru-monitor)"

    # parsing: worker processes for parse + normalise + fingerprint; 0 = a thread of this process
    parse_workers: int = Field(default_factory=_usable_cpus, ge=0)

    # dedup, retention, delivery
    story_window: Seconds = 72 * 3600.0
    alert_max_age: Seconds = 7 * 86400.0  # older new items are stored silently; 0 = no limit
    retention: Seconds = 90 * 86400.0
    delivery_interval: Seconds = 5.0
    delivery_max_attempts: int = Field(default=12, ge=1)
    delivery_backoff_base: Seconds = 5.0
    delivery_backoff_cap: Seconds = 3600.0
    # who hears about what: instant alerts and digests (see README, "Routes")
    routes: list[RouteSettings] = Field(default_factory=lambda: [RouteSettings()])
    watchlists: Path = Path("watchlists")  # a watchlist file, or a folder of *.toml files

    # chat platforms: which adapters start depends on which secrets are set (README, "Slack",
    # "Discord"); the Slack API URL is for proxies and for tests
    slack_api_url: str = "https://slack.com/api/"
    # an HTTP(S) proxy for all Discord traffic (REST, gateway, webhook), e.g. http://proxy:3128;
    # None = straight to discord.com
    discord_proxy: str | None = None
    discord_guild_id: int | None = None  # register /nkru in this guild at once (else globally)
    http_host: str = "127.0.0.1"  # the HTTP listener: /healthz, and /slack/events in HTTP mode
    http_port: int = Field(default=8080, ge=0, le=65535)

    # who may run admin commands from chat (README, "Admins"); checked by the bot itself
    discord_admins_manage_guild: bool = True  # members with Manage Server are admins
    discord_admin_role_ids: list[str] = Field(default_factory=list)
    slack_admin_user_ids: list[str] = Field(default_factory=list)
    slack_admin_usergroup_ids: list[str] = Field(default_factory=list)
    slack_workspace_admins: bool = False  # Slack workspace admins and owners are admins too
    # Feeds added from chat may not reach private, loopback, link-local or metadata addresses,
    # except these networks (CIDR, e.g. "10.20.0.0/16") — the operator's own CLI and config
    # file are trusted and may name any address.
    chat_feed_allow_networks: list[str] = Field(default_factory=list)
    # How often each process checks for a new watchlist version (database or watchlists/ files).
    watchlist_check_interval: Seconds = 30.0

    # the web panel (README, "Web panel"), served on the HTTP listener by `nkru run`
    # its address as people's browsers reach it; None = http://NKRU_HTTP_HOST:NKRU_HTTP_PORT
    web_base_url: str | None = None
    web_link_ttl: Seconds = Field(default=600.0, ge=60.0, le=3600.0)  # a sign-in link's life
    web_session_ttl: Seconds = Field(default=12 * 3600.0, ge=300.0, le=30 * 86400.0)

    # secrets: no defaults, ever
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    discord_token: str | None = None
    discord_webhook_url: str | None = None
    # encrypts the web panel's session cookies; unset: a key made on first start and kept in
    # the database (table web_keys)
    web_secret: str | None = None

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalize_database_url(value)

    @model_validator(mode="after")
    def _retention_covers_the_window(self) -> Settings:
        # Purging a story that a process still holds in its window would break its next match.
        if self.retention < self.story_window:
            raise ValueError(
                "NKRU_RETENTION must be at least NKRU_STORY_WINDOW "
                f"({self.retention:.0f}s < {self.story_window:.0f}s): raise the retention"
            )
        return self

    @model_validator(mode="after")
    def _one_update_style_per_destination(self) -> Settings:
        # One channel's alerts are updated one way: two routes asking differently is a mistake.
        for destination, styles in conflicting_update_styles(self.route_list()).items():
            raise ValueError(
                f"routes to {destination} ask for different updates ({', '.join(styles)}): "
                "set the same `updates` on each of its routes, or on one only"
            )
        return self

    @field_validator("discord_proxy")
    @classmethod
    def _proxy_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not _is_proxy_url(value.strip()):
            raise ValueError(
                "not a proxy URL: write http://host:port, or http://user:password@host:port "
                "when the proxy wants a login (HTTP and HTTPS proxies only)"
            )
        return value.strip()

    @field_validator("poll_interval", mode="before")
    @classmethod
    def _interval_in_range(cls, value: Any, info: ValidationInfo) -> float:
        minimum = float(info.data.get("poll_min_interval", MIN_INTERVAL))
        if minimum >= MIN_INTERVAL:
            return float(feed_interval(value))  # 1 minute to 7 days, as for any feed
        # Below a minute only when the operator lowered NKRU_POLL_MIN_INTERVAL (load tests).
        seconds = parse_duration(value)
        if not minimum <= seconds <= MAX_INTERVAL:
            raise ValueError(
                f"{value!r} is out of range: with NKRU_POLL_MIN_INTERVAL at {minimum:g}s a "
                f"feed's interval must be from {minimum:g}s to 7 days"
            )
        return seconds

    @field_validator("web_base_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "not a web address: write the panel's address as browsers reach it, e.g. "
                "https://nkru.example.org or http://127.0.0.1:8080"
            )
        if parts.query or parts.fragment:
            raise ValueError("the panel's address takes no ?query or #fragment: remove it")
        return value.strip().rstrip("/")

    @field_validator("web_secret")
    @classmethod
    def _long_secret(cls, value: str | None) -> str | None:
        if value is not None and len(value.strip()) < 32:
            raise ValueError(
                "too short: use at least 32 random characters, e.g. from "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        return value.strip() if value is not None else None

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("use one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    def route_list(self) -> tuple[Route, ...]:
        """NKRU_ROUTES as the core's Routes."""
        return tuple(spec.route() for spec in self.routes)

    def admin_policy(self) -> AdminPolicy:
        """Who is an admin on each platform (checked inside the bot for every admin command)."""
        return AdminPolicy(
            discord_manage_guild=self.discord_admins_manage_guild,
            discord_role_ids=frozenset(self.discord_admin_role_ids),
            slack_user_ids=frozenset(self.slack_admin_user_ids),
            slack_usergroup_ids=frozenset(self.slack_admin_usergroup_ids),
            slack_workspace_admins=self.slack_workspace_admins,
        )

    def web_base(self) -> str:
        """The panel's address: NKRU_WEB_BASE_URL, else the HTTP listener's own."""
        return self.web_base_url or f"http://{self.http_host}:{self.http_port}"

    def web_links(self) -> WebLinks:
        """What `/nkru web` and `nkru web-login` make sign-in links with."""
        return WebLinks(self.web_base(), timedelta(seconds=self.web_link_ttl))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order of precedence: arguments, environment, *_FILE secrets, config file."""
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_path())
        return (init_settings, env_settings, _SecretFileSource(settings_cls), toml)


class _SecretFileSource(PydanticBaseSettingsSource):
    """Reads NKRU_<SECRET>_FILE so secrets need not sit in the environment."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in SECRET_FIELDS:
            path = os.environ.get(f"{ENV_PREFIX}{name.upper()}_FILE")
            if path:
                try:
                    values[name] = Path(path).read_text(encoding="utf-8").strip()
                except OSError as exc:
                    raise SettingsError(
                        f"{ENV_PREFIX}{name.upper()}_FILE: cannot read {path!r} ({exc.strerror}) "
                        "— point it at a readable file holding the secret"
                    ) from exc
        return values


def _is_proxy_url(value: str) -> bool:
    """http(s)://[user:password@]host[:port][/], as aiohttp takes a proxy."""
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises ValueError when the port is not a number in range
    except ValueError:
        return False
    return (
        parts.scheme in _PROXY_SCHEMES
        and bool(parts.hostname)
        and parts.path in ("", "/")
        and not parts.query
        and not parts.fragment
    )


def _config_path() -> Path | None:
    """The config file: $NKRU_CONFIG if set (must exist), else ./nkru.toml if present."""
    named = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise SettingsError(
                f"{ENV_PREFIX}CONFIG: {named!r} does not exist — fix the path or unset it"
            )
        return path
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning any validation problem into a one-line SettingsError."""
    for name in REMOVED_SETTINGS:  # named apart: they say what replaced them
        if f"{ENV_PREFIX}{name.upper()}" in os.environ:
            raise SettingsError(_removed(name))
    # A misspelt variable stops start-up (README, "Settings"): ignored, the bot would run on
    # the default the operator meant to change, and a warning scrolls by unread.
    unknown = unknown_variables(os.environ, known_variables(Settings.model_fields, SECRET_FIELDS))
    if unknown:
        raise SettingsError(unknown)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
    except ValueError as exc:  # e.g. a config file that is not valid TOML
        raise SettingsError(
            f"config file: {exc} — fix the file or set {ENV_PREFIX}CONFIG"
        ) from None


def _describe(exc: ValidationError) -> str:
    """First error as 'NKRU_FIELD: problem (got value)'."""
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    name = ENV_PREFIX + "__".join(loc).upper()
    message = str(error["msg"]).removeprefix("Value error, ")
    if not loc:  # a rule across several settings: the message names them
        return message
    if error["type"] == "extra_forbidden" and loc[0] in REMOVED_SETTINGS:
        return _removed(loc[0])
    if error["type"] == "extra_forbidden":
        return f"{name}: unknown setting — check the spelling (see README, 'Settings')"
    given = error.get("input")
    hidden = loc[0] in SECRET_FIELDS or loc[0] == "discord_proxy"  # a proxy URL may hold a login
    shown = "" if hidden or isinstance(given, dict) else f" (got {given!r})"
    return f"{name}: {message}{shown}"


def _removed(name: str) -> str:
    return (
        f"{ENV_PREFIX}{name.upper()}: no longer supported ({REMOVED_SETTINGS[name]}) — remove it; "
        f"to send Discord traffic through a proxy set {ENV_PREFIX}DISCORD_PROXY=http://host:port"
    )
