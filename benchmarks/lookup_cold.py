"""StoryIndex.best_many per item with the index out of the CPU's caches, 50 items at a time.

Run: .venv/bin/python benchmarks/lookup_cold.py --data /tmp/lookup pipe 1000,1000000
     .venv/bin/python benchmarks/lookup_cold.py --data /tmp/lookup harsh 1000,100000,1000000

`pipe` is part 5 of benchmarks/pipeline.py (its stored headlines and its 2,000 items), `harsh`
is benchmarks/clustering.py (its window and its 2,000 queries, half of them repeats). The
signatures are computed once and kept in `--data` (`--make` computes them: minutes for a
million). The index is built as a cold `StoryCache.sync` builds it (pages of 1,000, one merge).

Per batch of 50 the figure is the least CPU time of the thread (`time.thread_time`: time spent
waiting for a core is not counted) over `--passes` passes, each after a 1 GiB read that empties
the L3 of the index: a new article meets the index cold, as in production. `--root` picks the
checkout whose `bot` is measured, so two versions run side by side (interleave the runs; the
machine's load moves single figures a lot).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import random
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def make(data: Path, kind: str, size: int) -> Path:
    """Compute and store the signatures of one data set; return its path."""
    # After the checkout `--root` put first: the signatures are made by this checkout's
    # benchmarks, the index measured is `--root`'s (the same `bot` for both when it is this one).
    sys.path.insert(1, str(HERE))  # pipeline.py imports _synthetic as a top-level module
    sys.path.insert(1, str(HERE.parent))
    from bot.core import cluster

    def matrix(signatures: list[bytes]) -> np.ndarray:
        return np.frombuffer(b"".join(signatures), dtype="<u4").reshape(len(signatures), -1)

    if kind == "pipe":
        from benchmarks import _synthetic as synthetic
        from benchmarks import pipeline

        path = data / "pipe.npz"
        texts = synthetic.iter_headlines(seed=synthetic.SEED + 1)
        first: list[tuple[str, str]] = []
        stored: list[bytes] = []
        for title, summary in itertools.islice(texts, size):
            if len(first) < 1000:
                first.append((title, summary))
            stored.append(cluster.fingerprint(title, summary).signature)
        items = pipeline.new_items(first)
        prints, sources = items.prints, [source or 0 for source in items.sources]
    else:
        from benchmarks import clustering as c

        path = data / f"harsh{size}.npz"
        rng = random.Random(2)  # what clustering.bench_window draws, in the same order
        wanted = [rng.randrange(1, size + 1) for _ in range(1000)]
        facts: dict[int, c.Facts] = {}
        stored = []
        for start in range(0, size, c.CHUNK):
            ids = list(range(start + 1, min(start + c.CHUNK, size) + 1))
            chunk = [c.new_story(rng) for _ in ids]
            facts.update((sid, f) for sid, f in zip(ids, chunk, strict=True) if sid in wanted)
            stored += [cluster.fingerprint(*c.report(rng, f)).signature for f in chunk]
        repeats = [cluster.fingerprint(*c.report(rng, facts[sid])) for sid in wanted]
        fresh = [cluster.fingerprint(*c.report(rng, c.new_story(rng))) for _ in range(1000)]
        prints, sources = repeats + fresh, wanted + [0] * 1000
    np.savez(
        path,
        stored=matrix(stored),
        items=matrix([fp.signature for fp in prints]),
        keyed=np.array([bool(fp.band_keys) for fp in prints]),
        sources=np.array(sources),
    )
    return path


def measure(path: Path, size: int, passes: int) -> str:
    """One line: µs per item, signatures compared, same story found, bytes per story."""
    from bot.core.story_index import StoryIndex

    data = np.load(path)
    raw = data["stored"][:size].astype("<u4")
    index = StoryIndex(auto_maintain=False)
    for at in range(0, size, 1000):
        page = raw[at : at + 1000]
        ids = list(range(at + 1, at + len(page) + 1))
        index.add_many(ids, [row.tobytes() for row in page], [1.0] * len(page))
    index.maintain()
    del raw
    sigs = data["items"][data["keyed"]].astype(np.uint32)
    sources = data["sources"][data["keyed"]]
    flush = np.ones(1 << 28, dtype=np.float32)  # 1 GiB: more than the L3
    gc.collect()
    gc.freeze()
    best: dict[int, float] = {}
    found: list[tuple[int, int]] = []
    compared = 0
    for _ in range(passes):
        flush.sum()
        found, compared = [], index.examined
        for at in range(0, len(sigs), 50):
            started = time.thread_time()
            found += index.best_many(sigs[at : at + 50])
            best[at] = min(best.get(at, float("inf")), time.thread_time() - started)
        compared = index.examined - compared
    gc.unfreeze()
    got = np.array([story if equal >= 48 else 0 for story, equal in found])
    same = int(np.count_nonzero((sources > 0) & (got == sources)))
    n = len(sigs)
    return (
        f"{size:>9,} stories: {sum(best.values()) / n * 1e6:6.2f} µs/item,"
        f" {compared / n:.1f} signatures compared/item,"
        f" same story found {same}/{int(np.count_nonzero(sources))},"
        f" {index.nbytes / len(index):.0f} bytes/story (StoryIndex.nbytes)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("pipe", "harsh"))
    parser.add_argument("sizes", help="stories in the window, comma-separated")
    parser.add_argument("--data", type=Path, required=True, help="folder of the signatures")
    parser.add_argument("--make", action="store_true", help="compute the signatures first")
    parser.add_argument("--root", type=Path, default=HERE.parent, help="checkout measured")
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(args.root.resolve()))  # before the installed package
    sizes = [int(size) for size in args.sizes.split(",")]
    for size in sizes:
        if args.kind == "harsh" or size == sizes[0]:
            path = args.data / ("pipe.npz" if args.kind == "pipe" else f"harsh{size}.npz")
            if args.make:
                path = make(args.data, args.kind, max(sizes) if args.kind == "pipe" else size)
        print(f"{args.root.name} {args.kind} {measure(path, size, args.passes)}", flush=True)


if __name__ == "__main__":
    main()
