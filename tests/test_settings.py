"""Settings: defaults < nkru.toml (or $NKRU_CONFIG) < NKRU_* environment, *_FILE secrets."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bot.core.durations import parse_duration
from bot.settings import (
    SECRET_FIELDS,
    Settings,
    SettingsError,
    load_settings,
    normalize_database_url,
)
from bot.settings_names import known_variables


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No NKRU_* variable from the outside, and a cwd without nkru.toml."""
    for name in list(os.environ):
        if name.startswith("NKRU_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def one_line_error(**overrides: object) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(**overrides)
    message = str(caught.value)
    assert "\n" not in message and message
    return message


def test_defaults_without_any_configuration() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///storage/nkru.db"
    assert settings.poll_interval == 1800
    assert settings.flood_guard is True
    [route] = settings.routes
    assert (route.destination, route.themes, route.mode) == ("console", [], "instant")
    assert settings.discord_token is None and settings.slack_bot_token is None


def test_environment_overrides_the_config_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = write(
        tmp_path / "elsewhere.toml",
        'poll_interval = "10m"\nlog_level = "debug"\nflood_guard = false\n'
        '[[routes]]\ndestination = "slack:C0123"\nthemes = ["un-veto"]\nmin_score = 2\n',
    )
    monkeypatch.setenv("NKRU_CONFIG", str(config))
    monkeypatch.setenv("NKRU_POLL_INTERVAL", "90s")

    settings = load_settings()

    assert settings.poll_interval == 90  # environment wins
    assert settings.log_level == "DEBUG"  # from the file, normalised
    assert settings.flood_guard is False
    [route] = settings.routes
    assert (route.destination, route.themes, route.min_score) == ("slack:C0123", ["un-veto"], 2)


def test_nkru_toml_in_the_working_directory_is_read(tmp_path: Path) -> None:
    write(
        tmp_path / "nkru.toml",
        'story_window = "2d"\n[[routes]]\nmode = "digest"\ncron = "0 7 * * *"\n',
    )
    settings = load_settings()
    assert settings.story_window == 2 * 86400
    [digest] = settings.routes
    assert (digest.mode, digest.cron, digest.since) == ("digest", "0 7 * * *", 86400)


def test_missing_named_config_file_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NKRU_CONFIG", "/nonexistent/nkru.toml")
    assert one_line_error().startswith("NKRU_CONFIG: '/nonexistent/nkru.toml' does not exist")


def test_unknown_key_in_config_file_is_rejected(tmp_path: Path) -> None:
    write(tmp_path / "nkru.toml", 'poll_intervall = "5m"\n')
    assert one_line_error() == (
        "NKRU_POLL_INTERVALL: unknown setting — check the spelling (see README, 'Settings')"
    )


def test_invalid_toml_is_one_line(tmp_path: Path) -> None:
    write(tmp_path / "nkru.toml", "poll_interval = \n[broken\n")
    assert one_line_error().startswith("config file: ")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///data/nkru.db", "sqlite+aiosqlite:///data/nkru.db"),
        ("sqlite:////abs/nkru.db", "sqlite+aiosqlite:////abs/nkru.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://bot:pw@db:5432/nkru", "postgresql+asyncpg://bot:pw@db:5432/nkru"),
        ("postgres://bot@db/nkru", "postgresql+asyncpg://bot@db/nkru"),
        ("postgresql+psycopg2://bot@db/nkru", "postgresql+asyncpg://bot@db/nkru"),
    ],
)
def test_database_urls_map_to_async_drivers(
    monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    assert normalize_database_url(given) == expected
    monkeypatch.setenv("NKRU_DATABASE_URL", given)
    assert load_settings().database_url == expected


@pytest.mark.parametrize("url", ["mysql://x", "nkru.db"])
def test_unsupported_database_is_one_line(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("NKRU_DATABASE_URL", url)
    message = one_line_error()
    assert message.startswith("NKRU_DATABASE_URL: ") and repr(url) in message


def test_secret_from_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = write(tmp_path / "token", "xoxb-from-file\n")
    monkeypatch.setenv("NKRU_SLACK_BOT_TOKEN_FILE", str(secret))
    monkeypatch.setenv("NKRU_DISCORD_TOKEN_FILE", str(secret))
    monkeypatch.setenv("NKRU_DISCORD_TOKEN", "from-env")

    settings = load_settings()

    assert settings.slack_bot_token == "xoxb-from-file"  # stripped of the newline
    assert settings.discord_token == "from-env"  # the plain variable wins


def test_unreadable_secret_file_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NKRU_SLACK_SIGNING_SECRET_FILE", str(tmp_path / "missing"))
    message = one_line_error()
    assert message.startswith("NKRU_SLACK_SIGNING_SECRET_FILE: cannot read")
    assert "No such file or directory" in message


def test_secret_values_never_appear_in_errors(tmp_path: Path) -> None:
    write(tmp_path / "nkru.toml", 'discord_token = ["s3cr3t-value"]\n')
    message = one_line_error()
    assert message.startswith("NKRU_DISCORD_TOKEN: ")
    assert "s3cr3t" not in message


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("15m", 900), ("2h", 7200), ("90s", 90), ("90", 90), (" 1.5h ", 5400), ("3d", 259200),
     ("1w", 604800), ("250ms", 0.25), (45, 45), (2.5, 2.5)],
)  # fmt: skip
def test_durations(monkeypatch: pytest.MonkeyPatch, value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds
    monkeypatch.setenv("NKRU_POLL_JITTER", str(value))
    assert load_settings().poll_jitter == seconds


@pytest.mark.parametrize("value", ["0", "250ms", "59s", "8d", "99999999d", "9" * 400])
def test_poll_interval_out_of_range_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("NKRU_POLL_INTERVAL", value)
    message = one_line_error()
    assert message.startswith(f"NKRU_POLL_INTERVAL: '{value[:20]}")
    assert "is out of range: a feed's interval must be from 1 minute to 7 days" in message


@pytest.mark.parametrize(("value", "seconds"), [("1m", 60), ("15m", 900), ("7d", 604800)])
def test_poll_interval_within_range(
    monkeypatch: pytest.MonkeyPatch, value: str, seconds: float
) -> None:
    monkeypatch.setenv("NKRU_POLL_INTERVAL", value)
    assert load_settings().poll_interval == seconds


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("NKRU_POLL_INTERVALL",
         "NKRU_POLL_INTERVALL is not a setting — did you mean NKRU_POLL_INTERVAL?"),
        ("NKRU_SLACK_SIGNING_SECRT",
         "NKRU_SLACK_SIGNING_SECRT is not a setting — did you mean NKRU_SLACK_SIGNING_SECRET?"),
        ("NKRU_SLACK_BOT_TOKEN_FIEL",
         "NKRU_SLACK_BOT_TOKEN_FIEL is not a setting — did you mean NKRU_SLACK_BOT_TOKEN_FILE?"),
        ("nkru_flod_guard", "nkru_flod_guard is not a setting — did you mean NKRU_FLOOD_GUARD?"),
        ("NKRU_ZZZ", "NKRU_ZZZ is not a setting — unset it (see README, 'Settings')"),
    ],
)  # fmt: skip
def test_an_unknown_variable_stops_start_up_with_the_closest_name(
    monkeypatch: pytest.MonkeyPatch, name: str, message: str
) -> None:
    monkeypatch.setenv(name, "5m")
    assert one_line_error().startswith(message)


def test_every_unknown_variable_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NKRU_RETENTON", "30d")
    monkeypatch.setenv("NKRU_LOGLEVEL", "DEBUG")
    assert one_line_error() == (
        "NKRU_LOGLEVEL is not a setting — did you mean NKRU_LOG_LEVEL? (see README, 'Settings');"
        " NKRU_RETENTON is not a setting — did you mean NKRU_RETENTION? (see README, 'Settings')"
    )


def test_variables_set_beside_the_settings_are_not_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Docker's, the secret files', the config file's and the test suite's own variables."""
    secret = write(tmp_path / "secret", "s3cret")
    config = write(tmp_path / "nkru.toml", "")
    for name, value in {
        "NKRU_DATABASE_URL": "sqlite:////data/nkru.db",  # set by the Dockerfile
        "NKRU_HTTP_HOST": "0.0.0.0",
        "NKRU_HTTP_PORT": "8080",
        "NKRU_SLACK_SIGNING_SECRET_FILE": str(secret),
        "NKRU_DISCORD_TOKEN_FILE": str(secret),
        "NKRU_CONFIG": str(config),
        "NKRU_TEST_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1/test",
        "NKRU_TEST_REQUIRE_BROWSER": "1",
        "nkru_log_level": "debug",  # names are read case-insensitively
        "NKRUX": "not ours",
    }.items():
        monkeypatch.setenv(name, value)

    settings = load_settings()

    assert settings.slack_signing_secret == "s3cret" and settings.log_level == "DEBUG"


@pytest.mark.parametrize("value", ["abc", "15 minutes", "-5m", "", "1h30m"])
def test_bad_duration_names_the_setting(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(value)
    monkeypatch.setenv("NKRU_FAILURE_BACKOFF_CAP", value)
    assert one_line_error().startswith(
        f"NKRU_FAILURE_BACKOFF_CAP: {value!r} is not a duration: write e.g. 90s, 15m, 2h or 3d"
    )


def test_other_bad_values_name_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NKRU_LOG_LEVEL", "loud")
    assert one_line_error().startswith("NKRU_LOG_LEVEL: use one of DEBUG, INFO")
    monkeypatch.delenv("NKRU_LOG_LEVEL")
    monkeypatch.setenv("NKRU_FETCH_MAX_BODY_BYTES", "10")
    assert one_line_error().startswith("NKRU_FETCH_MAX_BODY_BYTES: ")
    monkeypatch.delenv("NKRU_FETCH_MAX_BODY_BYTES")
    monkeypatch.setenv("NKRU_FLOOD_GUARD", "maybe")
    assert one_line_error().startswith("NKRU_FLOOD_GUARD: ")


def test_bad_digest_cron_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NKRU_ROUTES", '[{"mode": "digest", "cron": "every morning"}]')
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("NKRU_ROUTES__0__CRON:") and "'every morning'" in message
    assert "\n" not in message


def test_retention_shorter_than_the_story_window_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NKRU_RETENTION", "1h")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith("NKRU_RETENTION must be at least NKRU_STORY_WINDOW")


def test_route_destination_must_name_a_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NKRU_ROUTES", '[{"destination": "#general"}]')
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("NKRU_ROUTES__0__DESTINATION:")
    assert "slack:<channel id>" in message


def test_route_quiet_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "NKRU_ROUTES",
        '[{"destination": "slack:C1", "quiet_hours": "22:00-07:00", "timezone": "Asia/Seoul"}]',
    )
    [route] = load_settings().routes
    assert (route.quiet_hours, route.timezone) == ("22:00-07:00", "Asia/Seoul")
    monkeypatch.setenv("NKRU_ROUTES", '[{"destination": "slack:C1", "quiet_hours": "night"}]')
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "'night' is not a time window" in str(caught.value)


def test_chat_platform_settings_have_public_defaults() -> None:
    settings = load_settings()
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.discord_proxy is None  # straight to discord.com
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)
    assert settings.slack_bot_token is None and settings.discord_token is None


@pytest.mark.parametrize(
    "value",
    ["http://proxy.internal:3128", "https://nkru:pa%40ss@proxy.example:8443/", "http://10.0.0.5"],
)
def test_discord_proxy(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("NKRU_DISCORD_PROXY", value)
    assert load_settings().discord_proxy == value
    monkeypatch.setenv("NKRU_DISCORD_PROXY", "")
    assert load_settings().discord_proxy is None


@pytest.mark.parametrize(
    "value",
    [
        "socks5://user:hunter2@proxy:1080",
        "proxy.internal:3128",
        "http://user:hunter2@proxy:port",
        "http://user:hunter2@proxy:3128/some/path",
        "http://",
    ],
)
def test_bad_discord_proxy_names_the_setting_and_hides_the_password(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("NKRU_DISCORD_PROXY", value)
    message = one_line_error()
    assert message.startswith("NKRU_DISCORD_PROXY: not a proxy URL: write http://host:port")
    assert "http://user:password@host:port" in message
    assert "hunter2" not in message


@pytest.mark.parametrize("name", ["discord_api_url", "discord_gateway_url"])
def test_removed_discord_urls_say_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str
) -> None:
    """They used to send Discord traffic elsewhere: ignoring them silently would not do."""
    variable = f"NKRU_{name.upper()}"
    monkeypatch.setenv(variable, "https://discord-proxy.internal/api/v10")
    message = one_line_error()
    assert message.startswith(f"{variable}: no longer supported")
    assert "remove it" in message and "NKRU_DISCORD_PROXY=http://host:port" in message

    monkeypatch.delenv(variable)
    write(tmp_path / "nkru.toml", f'{name} = "wss://gateway-proxy.internal"\n')
    assert one_line_error().startswith(f"{variable}: no longer supported")


def test_a_lower_poll_minimum_allows_shorter_intervals(monkeypatch: pytest.MonkeyPatch) -> None:
    """Load tests poll every few seconds: NKRU_POLL_MIN_INTERVAL is the floor, 1 minute by
    default, and NKRU_POLL_INTERVAL may not go under it."""
    monkeypatch.setenv("NKRU_POLL_INTERVAL", "4")
    assert "is out of range: a feed's interval must be from 1 minute" in one_line_error()
    monkeypatch.setenv("NKRU_POLL_MIN_INTERVAL", "2")
    assert load_settings().poll_interval == 4
    monkeypatch.setenv("NKRU_POLL_MIN_INTERVAL", "10")
    assert one_line_error() == (
        "NKRU_POLL_INTERVAL: '4' is out of range: with NKRU_POLL_MIN_INTERVAL at 10s a feed's "
        "interval must be from 10s to 7 days (got '4')"
    )


def test_routes_say_how_updates_are_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.core.routing import update_style

    monkeypatch.setenv(
        "NKRU_ROUTES",
        '[{"destination": "slack:C1", "updates": "thread"},'
        ' {"destination": "slack:C1", "themes": []},'
        ' {"destination": "discord:9", "updates": "both"}, {"destination": "console"}]',
    )
    routes = load_settings().route_list()
    assert [update_style(routes, d) for d in ("slack:C1", "discord:9", "console")] == [
        "thread",
        "both",
        "edit",  # the default: the posted alert is edited
    ]


def test_routes_of_one_channel_disagreeing_on_updates_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "NKRU_ROUTES",
        '[{"destination": "slack:C1", "updates": "thread"},'
        ' {"destination": "slack:C1", "updates": "edit"}]',
    )
    message = one_line_error()
    assert "routes to slack:C1 ask for different updates (thread, edit)" in message
    assert "\n" not in message
    monkeypatch.setenv("NKRU_ROUTES", '[{"destination": "slack:C1", "updates": "reply"}]')
    assert one_line_error().startswith("NKRU_ROUTES__0__UPDATES:")


def test_every_variable_ci_exports_is_one_the_bot_accepts() -> None:
    # Regression: .ci/run exported NKRU_TEST_REQUIRE_BROWSER, which the bot did not know, so
    # every `nkru` the suite starts in CI stopped at start-up on the "unknown variable" check.
    ci_script = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    exported = set(re.findall(r"^\s*export (NKRU_\w+)=", ci_script, flags=re.MULTILINE))
    assert "NKRU_TEST_DATABASE_URL" in exported
    known = known_variables(Settings.model_fields, SECRET_FIELDS)
    assert exported <= known, exported - known
