"""The `nkru` command line (entry point `bot.cli:main`).

`main` holds the typer app and the top-level commands; `news` answers `latest` and `search`
through the command service; `feeds`, `watchlist` and `audit` hold their groups; `support` the
output, settings and error handling they share (and why the modules import so little at the
top: every command, `--help` included, imports this whole package first).
"""

from bot.cli.main import app, main

__all__ = ["app", "main"]
