"""The languages the web panel filters stories by, told by the script of a report's title.

The feed list's `language` is informational and not stored, and a feed (Google News, an
agency's wire) may carry reports in several languages: the title's own letters are the
reliable fact. Korean is Hangul, Russian is Cyrillic, English is a title with neither.
"""

from __future__ import annotations

LANGUAGES = {"en": "English", "ru": "Russian", "ko": "Korean"}
# A character class of each script, as both SQLite's GLOB and PostgreSQL's regular
# expressions spell one.
SCRIPTS = {"ko": "[가-힣]", "ru": "[Ѐ-ӿ]"}


def language_name(code: str) -> str:
    """'Korean' for 'ko'; ValueError naming the known codes for any other."""
    try:
        return LANGUAGES[code]
    except KeyError:
        known = ", ".join(f"{c} ({n})" for c, n in LANGUAGES.items())
        raise ValueError(f"unknown language {code!r}: use one of {known}") from None
