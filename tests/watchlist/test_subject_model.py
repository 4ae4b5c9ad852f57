"""The subject model (bot/core/watchlist/subject_model.py): its weights file, how it weighs,
and that the shipped weights are what benchmarks/train_subject.py trains on the development
sets (so a change of features or data cannot ship with stale weights)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks import train_subject
from bot.core.watchlist import Matcher, load_watchlists
from bot.core.watchlist.subject_model import FEATURES, MODEL, PATH, SubjectModel, load_model
from tests.watchlist.conftest import DEFAULT_WATCHLISTS

BLIND = {"heldout4", "heldout5"}


def test_the_shipped_weights_are_what_the_training_script_fits() -> None:
    shipped = json.loads(PATH.read_text(encoding="utf-8"))
    assert shipped["features"] == list(FEATURES)
    assert not BLIND & set(shipped["trained_on"])  # blind sets are never trained on
    matcher = Matcher.from_watchlists(load_watchlists(DEFAULT_WATCHLISTS))
    rows: list[list[float]] = []
    labels: list[float] = []
    for name in shipped["trained_on"]:
        more_rows, more_labels = train_subject.examples(matcher, name)
        rows += more_rows
        labels += more_labels
    assert len(rows) == shipped["examples"]
    fitted = train_subject.fit(rows, labels)
    assert fitted.bias == pytest.approx(MODEL.bias, abs=2e-4)
    assert fitted.weights == pytest.approx(MODEL.weights, abs=2e-4)


def test_every_weight_pulls_towards_a_subject() -> None:
    # Each feature says "more of a subject" (a bigger share, named first, a subject by the
    # rule, more hits): a negative weight would make explanations contradict themselves.
    assert all(weight > 0 for weight in MODEL.weights)
    assert MODEL.threshold == 0.5


def test_chances_are_a_logistic_regression() -> None:
    model = SubjectModel(bias=-1.0, weights=(2.0, 0.5), threshold=0.5)
    [high, low] = model.chances([[1.0, 1.0], [0.0, 0.0]])
    assert high == pytest.approx(1 / (1 + math.exp(-1.5)))
    assert low == pytest.approx(1 / (1 + math.exp(1.0)))


def test_a_file_of_other_features_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    data = {"features": ["share_of_top"], "bias": 0, "weights": [1], "threshold": 0.5}
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="are not"):
        load_model(path)
    data["features"] = list(FEATURES)
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="1 weights for"):
        load_model(path)
    data["weights"] = [1.0] * len(FEATURES)
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_model(path).weights == (1.0,) * len(FEATURES)
