"""NKRU_* environment variables that name no setting: a typo would otherwise be silently ignored
and the bot would run on the default the operator meant to change."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

PREFIX = "NKRU_"
# NKRU_* variables that are not settings but are set legitimately beside them.
NOT_SETTINGS = frozenset(
    {
        "NKRU_CONFIG",  # the config file (read before the settings)
        "NKRU_TEST_DATABASE_URL",  # the test suite's PostgreSQL (README, "Development")
        "NKRU_TEST_REQUIRE_BROWSER",  # .ci/run: the browser tests fail, not skip, without one
    }
)


def known_variables(fields: Iterable[str], secrets: Iterable[str]) -> frozenset[str]:
    """Every valid name: NKRU_<FIELD>, NKRU_<SECRET>_FILE and the NOT_SETTINGS."""
    names = {f"{PREFIX}{field.upper()}" for field in fields}
    names |= {f"{PREFIX}{secret.upper()}_FILE" for secret in secrets}
    return frozenset(names | NOT_SETTINGS)


def unknown_variables(environ: Mapping[str, str], known: frozenset[str]) -> str | None:
    """One line naming each unknown NKRU_* variable with the closest valid name, or None."""
    problems = [_explain(name, known) for name in sorted(environ) if _unknown(name, known)]
    return "; ".join(problems) or None


def _unknown(name: str, known: frozenset[str]) -> bool:
    upper = name.upper()  # the settings read the environment case-insensitively
    if not upper.startswith(PREFIX) or upper in known:
        return False
    # NKRU_ROUTES__0__MODE: a nested part of a setting, checked by the settings themselves.
    head, nested, _ = upper.partition("__")
    return not (nested and head in known)


def _explain(name: str, known: frozenset[str]) -> str:
    stems = {valid.removeprefix(PREFIX): valid for valid in known}
    close = difflib.get_close_matches(name.upper().removeprefix(PREFIX), list(stems), n=1)
    advice = f"did you mean {stems[close[0]]}?" if close else "unset it"
    return f"{name} is not a setting — {advice} (see README, 'Settings')"
