"""Quality of a matcher on labelled articles: precision, recall and F1 per theme and overall.

Used by ``benchmarks/quality.py`` (which prints the figures) and by the tests (which assert
floors), so both count the same way. A labelled article is a JSON line with ``id``,
``lang``, ``title``, ``summary``, ``themes`` (the slugs it is about) and ``alert`` (whether
it should alert at all). Two views:

* **themes**: each (article, theme) pair is a decision; micro figures pool the pairs of
  every theme, so big themes weigh more.
* **should alert**: one decision per article — it alerts when it matches any theme. This
  is what a reader of an alert channel sees: a story under the wrong theme is still a
  useful alert, a missed story is not.

And which theme was given for which: the **confusion** counts, for each theme an article is
labelled with (or ``NONE``, a hard negative), the themes it was given — the labelled theme
itself (right), another one it is not labelled with (wrong: a story about a veto filed under
sanctions-evasion too), or ``MISSED`` when the labelled theme was not given. **Instead**
counts the wrong themes given on articles whose labelled theme was missed: a story filed under
another channel only.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.watchlist.scoring import ThemeMatch

MatchFunction = Callable[[str, str], list[ThemeMatch]]
NONE = "(none)"  # the labelled side of a hard negative
MISSED = "(missed)"  # the given side of a labelled theme that was not given


@dataclass(frozen=True, slots=True)
class LabelledItem:
    """One labelled article."""

    id: str
    lang: str
    title: str
    summary: str
    themes: frozenset[str]
    alert: bool


def load_labelled(path: Path | str) -> list[LabelledItem]:
    """The articles of a JSON Lines file (blank lines skipped)."""
    items = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        items.append(
            LabelledItem(
                id=str(row["id"]),
                lang=str(row.get("lang", "")),
                title=str(row["title"]),
                summary=str(row.get("summary", "")),
                themes=frozenset(row.get("themes", ())),
                alert=bool(row["alert"]),
            )
        )
    return items


@dataclass(slots=True)
class Counts:
    """True positives, false positives and false negatives of one kind of decision."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        """Add ``other``'s counts to these."""
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn

    @property
    def precision(self) -> float:
        """Share of the decisions made that were right (1.0 when none were made)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of the wanted decisions that were made (1.0 when none were wanted)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall (0.0 when both are 0)."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(slots=True)
class Evaluation:
    """Every figure of one run over a labelled set, and what went wrong."""

    themes: dict[str, Counts] = field(default_factory=dict)  # slug -> counts
    micro: Counts = field(default_factory=Counts)
    alert: Counts = field(default_factory=Counts)
    by_lang: dict[str, tuple[Counts, Counts]] = field(default_factory=dict)  # themes, alert
    misses: list[tuple[str, str]] = field(default_factory=list)  # (id, theme) not found
    false_hits: list[tuple[str, str]] = field(default_factory=list)  # (id, theme) wrongly found
    missed_alerts: list[str] = field(default_factory=list)  # ids
    false_alerts: list[tuple[str, str]] = field(default_factory=list)  # (id, themes found)
    # (labelled theme or NONE, given theme or MISSED) -> articles; see the module doc
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    instead: Counter[tuple[str, str]] = field(default_factory=Counter)  # (missed, given)
    items: int = 0


def evaluate(
    match: MatchFunction, items: Iterable[LabelledItem], slugs: Iterable[str]
) -> Evaluation:
    """Run ``match`` (e.g. ``Matcher.match``) on every item and count.

    ``slugs`` are the themes of the watchlist: a theme that no item is labelled with still
    gets a row (its false hits count against it).
    """
    result = Evaluation(themes={slug: Counts() for slug in slugs})
    for item in items:
        result.items += 1
        got = {m.slug for m in match(item.title, item.summary)}
        lang_themes, lang_alert = result.by_lang.setdefault(item.lang, (Counts(), Counts()))
        for slug in sorted(got | item.themes):
            counts = result.themes.setdefault(slug, Counts())
            one = Counts(tp=int(slug in got and slug in item.themes))
            if slug in got and slug not in item.themes:
                one.fp = 1
                result.false_hits.append((item.id, slug))
            elif slug not in got:
                one.fn = 1
                result.misses.append((item.id, slug))
            counts.add(one)
            result.micro.add(one)
            lang_themes.add(one)
        _confuse(result, item.themes, got)
        alerted = bool(got)
        one = Counts(
            tp=int(alerted and item.alert),
            fp=int(alerted and not item.alert),
            fn=int(item.alert and not alerted),
        )
        if one.fp:
            result.false_alerts.append((item.id, ",".join(sorted(got))))
        if one.fn:
            result.missed_alerts.append(item.id)
        result.alert.add(one)
        lang_alert.add(one)
    return result


def _confuse(result: Evaluation, wanted: frozenset[str], got: set[str]) -> None:
    """Count one article into ``confusion`` and ``instead``."""
    wrong = got - wanted
    for labelled in sorted(wanted) or [NONE]:
        if labelled != NONE:
            result.confusion[labelled, labelled if labelled in got else MISSED] += 1
        for given in sorted(wrong):
            result.confusion[labelled, given] += 1
            if labelled != NONE and labelled not in got:
                result.instead[labelled, given] += 1


def _row(name: str, counts: Counts) -> str:
    return (
        f"  {name:<20} {counts.precision:>6.3f} {counts.recall:>6.3f} {counts.f1:>6.3f} "
        f"{counts.tp:>5} {counts.fp:>4} {counts.fn:>4}"
    )


def figures(evaluation: Evaluation, name: str) -> str:
    """The figures alone as a text table: per theme, micro, should alert, per language. Nothing
    about single articles, so a blind set can be measured without showing what to tune on."""
    header = f"  {'':<20} {'P':>6} {'R':>6} {'F1':>6} {'tp':>5} {'fp':>4} {'fn':>4}"
    lines = [f"{name}: {evaluation.items} articles", header]
    lines += [_row(slug, counts) for slug, counts in evaluation.themes.items()]
    lines.append(_row("themes (micro)", evaluation.micro))
    lines.append(_row("should alert", evaluation.alert))
    for lang in sorted(evaluation.by_lang):
        themes, alert = evaluation.by_lang[lang]
        lines.append(_row(f"{lang}: themes", themes))
        lines.append(_row(f"{lang}: should alert", alert))
    return "\n".join(lines)


def report(evaluation: Evaluation, name: str) -> str:
    """The figures (see ``figures``), the confusion, then the misses and false hits by id."""
    lines = [figures(evaluation, name)]
    lines += confusion_table(evaluation)
    lines.append(f"  missed (id theme): {_pairs(evaluation.misses)}")
    lines.append(f"  false hits (id theme): {_pairs(evaluation.false_hits)}")
    lines.append(f"  missed alerts: {', '.join(evaluation.missed_alerts) or 'none'}")
    lines.append(f"  false alerts: {_pairs(evaluation.false_alerts)}")
    return "\n".join(lines)


def _pairs(pairs: list[tuple[str, str]]) -> str:
    return ", ".join(f"{a} {b}" for a, b in pairs) or "none"


def confusion_table(evaluation: Evaluation) -> list[str]:
    """The confusion as a table (rows: labelled, columns: given), then the wrong pairs."""
    slugs = list(evaluation.themes)
    columns = [*slugs, MISSED]
    lines = ["  confusion (rows: labelled theme, columns: theme given; articles):"]
    lines.append(
        "  " + " " * 20 + "".join(f"{n:>5}" for n in range(1, len(slugs) + 1)) + "  missed"
    )
    for labelled in [*slugs, NONE]:
        counts = [evaluation.confusion.get((labelled, given), 0) for given in columns]
        if labelled == NONE and not any(counts):
            continue
        cells = "".join(f"{c or '.':>5}" for c in counts[:-1]) + f"{counts[-1] or '.':>8}"
        number = f"{slugs.index(labelled) + 1}" if labelled in slugs else ""
        lines.append(f"  {number:>2} {labelled:<17}{cells}")
    wrong = sorted(
        ((count, labelled, given) for (labelled, given), count in evaluation.confusion.items()
         if given not in (labelled, MISSED)),
        key=lambda t: (-t[0], t[1], t[2]),
    )  # fmt: skip
    shown = [f"{given} on {labelled} {count}" for count, labelled, given in wrong]
    lines.append(f"  wrong theme given (given on labelled, articles): {', '.join(shown) or 'none'}")
    instead = sorted(evaluation.instead.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = [f"{given} instead of {missed} {count}" for (missed, given), count in instead]
    lines.append(f"  given instead of a missed theme: {', '.join(shown) or 'none'}")
    return lines
