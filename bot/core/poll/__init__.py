"""One poll of one feed, in the order its steps run.

1. `fetch`: a conditional GET (ETag, Last-Modified), bounded in size and time, guarded for
   feeds added from chat (bot.core.feed_safety).
2. `parse` turns the body into normalised entries (feedparser, or the JSON Feed reader), and
   `prepare` adds what storage and clustering need to each entry (dedup key, content hash,
   story fingerprint), in a worker thread or process.
3. `ingest` stores only what is new, in one transaction: matches themes, joins or starts
   stories and queues alerts; `group_commit` lets concurrent polls share that transaction.

`pipeline.poll_feed` runs the steps for one feed id and records the feed's health.
"""
