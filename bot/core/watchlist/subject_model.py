"""The subject model: which of the themes an article matches it is about, from a few
explainable numbers per theme (``subject.features``), weighed by a logistic regression.

The weights are in ``subject_model.json`` beside this file, written by
``benchmarks/train_subject.py`` (numpy, deterministic) from the development sets only, and
read once at start. A theme is filed when its chance reaches ``threshold``; the likeliest
filed theme is the main subject, the others are also subjects, and a theme below the
threshold is a passing mention. Only articles that match two themes or more are weighed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PATH = Path(__file__).with_name("subject_model.json")
FEATURES = ("share_of_top", "first_in_title", "subject_alone", "hits")


@dataclass(frozen=True, slots=True)
class SubjectModel:
    """A logistic regression over ``FEATURES``."""

    bias: float
    weights: tuple[float, ...]
    threshold: float

    def chances(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """The chance that the article is about each theme, one row of features each."""
        bias, weights, exp = self.bias, self.weights, math.exp
        out = []
        for row in rows:
            z = bias
            for index, value in enumerate(row):  # a loop, not sum() of a generator: faster
                z += weights[index] * value
            out.append(1.0 / (1.0 + exp(-z)))
        return out


def load_model(path: Path = PATH) -> SubjectModel:
    """The model in ``path`` (see ``benchmarks/train_subject.py``); its features must be
    ``FEATURES``, in that order."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if tuple(data["features"]) != FEATURES:
        raise ValueError(f"{path}: features {data['features']} are not {list(FEATURES)}")
    if len(data["weights"]) != len(FEATURES):
        raise ValueError(f"{path}: {len(data['weights'])} weights for {len(FEATURES)} features")
    return SubjectModel(
        bias=float(data["bias"]),
        weights=tuple(float(w) for w in data["weights"]),
        threshold=float(data["threshold"]),
    )


MODEL = load_model()
