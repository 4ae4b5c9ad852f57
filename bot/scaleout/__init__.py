"""The PostgreSQL engine: every `nkru run` on one database shares procrastinate's job queue.

SQLite keeps the single-process engine (bot.core.scheduling.BotScheduler). On PostgreSQL the
units of work the core already has (poll a feed, deliver a destination's due alerts, send a
digest, retention) become procrastinate jobs, so another `nkru run` on the same database is
all it takes to add capacity. The core knows nothing of procrastinate: this package calls it.
"""
