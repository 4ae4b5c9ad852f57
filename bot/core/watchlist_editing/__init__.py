"""The watchlist as numbered versions in the database, edited from chat, files and the CLI.

* `editor.WatchlistEditor`: every change (chat edit, undo, file, import, seed) — locked,
  validated with the real loader, stored as the next version;
* `live.LiveWatchlist`: the version this process matches with, refreshed on schedule from the
  watchlist file and the database, swapped into the pipeline when it changes;
* `document`: comment-preserving edits of the TOML text; `diff`: what changed, in lines;
  `files`: the watchlist file (NKRU_WATCHLISTS); `views`: text for `/nkru watch`.
"""

from bot.core.watchlist_editing.editor import NoWatchlist, Saved, WatchlistEditor, When
from bot.core.watchlist_editing.live import LiveWatchlist

__all__ = ["LiveWatchlist", "NoWatchlist", "Saved", "WatchlistEditor", "When"]
