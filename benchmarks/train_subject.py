"""Train the subject model (bot/core/watchlist/subject_model.py) on the development sets.

Run: .venv/bin/python benchmarks/train_subject.py [--write]

For every article of the development sets that matches two themes or more, each theme it
matched is one example: its features (``subject.features``: share of the top about points,
named first in the title, a subject on its own by the main-subject rule, counted hits, share
of the title's points) and whether the article is labelled with it. A logistic regression is
fitted with numpy by plain gradient descent from zero weights (fixed steps, so the same data
give the same weights on any machine, to the rounding written), with a little L2 on the
weights. It prints, for each development set in turn, the figures of the whole matcher with
a model trained on the *other* sets (cross-validation across sets: does it carry to writing
it never saw?), then the weights trained on all of them; ``--write`` saves those to
bot/core/watchlist/subject_model.json.

Blind sets (heldout4, heldout5) are never read here.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from bot.core.watchlist import Matcher, load_watchlists, subject, subject_model
from bot.core.watchlist.evaluate import evaluate, load_labelled
from bot.core.watchlist.subject_model import FEATURES, PATH, SubjectModel

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
# Folds: a set, or sets written together, left out in turn.
FOLDS = (("labelled",), ("heldout", "heldout2"), ("heldout3",), ("heldout6",))
THRESHOLD = 0.5
L2 = 1.0
STEPS = 4000
RATE = 0.5


def examples(matcher: Matcher, name: str) -> tuple[list[list[float]], list[float]]:
    """Features and labels of every theme of every article of ``name`` that matched several."""
    rows: list[list[float]] = []
    labels: list[float] = []
    seen: list[list[tuple[float, subject.Candidate, dict[int, subject.Judged]]]] = []
    real = subject.judge

    def recording(
        reader: subject.Reader,
        candidates: list[subject.Candidate],
        context: list[subject.ContextHit],
    ) -> dict[str, subject.Verdict]:
        seen.append(subject.about_points(reader, candidates, context)[0])
        return real(reader, candidates, context)

    # The scorer calls subject.judge for articles of several themes: record what it weighs.
    # (Swapped as a module attribute, which the scorer looks up at each call.)
    subject.judge = recording
    try:
        for item in load_labelled(DATA / f"{name}.jsonl"):
            seen.clear()
            matcher.match(item.title, item.summary)
            for judged in seen:
                if max(about for about, _, _ in judged) <= 0:
                    continue  # about nothing: the model is not asked
                rows += subject.features(judged)
                labels += [float(c.slug in item.themes) for _, c, _ in judged]
    finally:
        subject.judge = real
    return rows, labels


def fit(rows: list[list[float]], labels: list[float]) -> SubjectModel:
    """Logistic regression by gradient descent from zero (deterministic)."""
    x = np.hstack([np.ones((len(rows), 1)), np.array(rows)])
    y = np.array(labels)
    w = np.zeros(x.shape[1])
    penalty = np.r_[0.0, np.full(x.shape[1] - 1, L2)] / len(y)  # not on the bias
    for _ in range(STEPS):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        w -= RATE * (x.T @ (p - y) / len(y) + penalty * w)
    w = np.round(w, 4)
    return SubjectModel(
        bias=float(w[0]), weights=tuple(float(v) for v in w[1:]), threshold=THRESHOLD
    )


def figures(matcher_of: Callable[[], Matcher], name: str, model: SubjectModel) -> str:
    """Theme micro P/R/F1 and should-alert F1 of the matcher on ``name`` with ``model``."""
    saved = subject_model.MODEL
    subject_model.MODEL = model
    try:
        matcher = matcher_of()
        slugs = list(matcher.themes)
        result = evaluate(matcher.match, load_labelled(DATA / f"{name}.jsonl"), slugs)
    finally:
        subject_model.MODEL = saved
    m = result.micro
    return (
        f"{name:<10} themes P/R/F1 {m.precision:.3f} / {m.recall:.3f} / {m.f1:.3f}   "
        f"should alert F1 {result.alert.f1:.3f}"
    )


def main() -> None:
    """Cross-validate across sets, then fit on all of them (and write with --write)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {PATH.name}")
    args = parser.parse_args()
    watchlists = load_watchlists(ROOT / "watchlists")

    def matcher_of() -> Matcher:
        return Matcher.from_watchlists(watchlists)

    # Examples are read with the model in force: the features do not depend on it.
    matcher = matcher_of()
    names = [name for fold in FOLDS for name in fold]
    data = {name: examples(matcher, name) for name in names}
    print("cross-validation (trained on the other sets, measured on these):")
    for fold in FOLDS:
        rows = [r for n in names if n not in fold for r in data[n][0]]
        labels = [y for n in names if n not in fold for y in data[n][1]]
        model = fit(rows, labels)
        for name in fold:
            print("  " + figures(matcher_of, name, model))
    rows = [r for n in names for r in data[n][0]]
    labels = [y for n in names for y in data[n][1]]
    model = fit(rows, labels)
    print(f"trained on all ({len(rows)} themes of articles matching several):")
    print(
        f"  bias {model.bias:+.4f}, "
        + ", ".join(f"{f} {w:+.4f}" for f, w in zip(FEATURES, model.weights, strict=True))
    )
    for name in names:
        print("  " + figures(matcher_of, name, model))
    if args.write:
        PATH.write_text(
            json.dumps(
                {
                    "features": list(FEATURES),
                    "bias": model.bias,
                    "weights": list(model.weights),
                    "threshold": model.threshold,
                    "trained_on": names,
                    "examples": len(rows),
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        print(f"written: {PATH.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
