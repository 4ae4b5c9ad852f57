"""`nkru web-login`: a one-time sign-in link to the web panel for the operator (an admin)."""

from __future__ import annotations

from bot.cli.support import console, escape, load, login_name, run_async


@run_async
async def web_login() -> None:
    """Print a one-time link that signs the operator in to the web panel, as an admin (the
    panel is served by `nkru run`, at NKRU_WEB_BASE_URL)."""
    from datetime import UTC, datetime

    from bot.core.commands.model import Caller
    from storage.engine import Store

    settings = load()
    links = settings.web_links()
    # The operator at the server's terminal, as `nkru latest` names them: an admin (AdminPolicy).
    caller = Caller("console", login_name(), login_name())
    store = await Store.open(settings.database_url)
    try:
        url = await links.issue(store, caller, datetime.now(UTC))
    finally:
        await store.close()
    console.print(escape(url), soft_wrap=True, highlight=False)
    console.print(
        f"It works once, within {links.minutes()} minutes, and signs you in as an admin.",
        highlight=False,
    )
