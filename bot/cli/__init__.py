"""The `nkru` command line (entry point `bot.cli:main`).

`main` holds the top-level commands and the typer app; `feeds`, `watchlist` and `audit` their
groups; `support` the output, settings and error handling they share.
"""

from bot.cli.main import app, main

__all__ = ["app", "main"]
