"""Watchlist matching speed: articles/s for 10 to 10,000 terms, against feedparser's parse rate.

Run: .venv/bin/python benchmarks/matching.py [--articles N] [--reference N]

The same articles are matched by watchlists of 10, 100, 1,000 and 10,000 terms: synthetic
agency copy from benchmarks/_synthetic.py (its headlines name Pyongyang, the Kremlin, the
Tumen River…) with one article in ten replaced by a real-style North Korea–Russia item in
English, Russian or Korean, so context groups, indicators and exclusions all fire.

The watchlists are the default watchlists/nkru.toml (cut down for 10 and 100 terms) plus,
for 1,000 and 10,000 terms, synthetic themes of made-up names (people, companies, vessels,
as on a sanctions list): a few are words the articles use (exact hits) or one typo away
from them (fuzzy hits), most occur nowhere.

feedparser's rate is measured on the very same articles serialised as RSS 2.0, so the ratio
comes from one run on one machine. Aims: 10,000 terms at most 5x slower than 10 terms; at
1,000 terms, matching at least 20x faster than feedparser parses.

Timing: the machine may be shared and its speed drifts (a 2-vCPU VM here swung 20 % between
passes), so the work is interleaved: for each feed of 100 articles, feedparser parses it and
then every watchlist matches its articles, each the fastest of three runs. Each figure is the
sum over the feeds. Drift then slows all watchlists and feedparser alike, and the ratios —
the aims — compare work done at the same moments; a burst of someone else's work spoils one
run of one chunk rather than a whole pass.

Quality: the fast matcher must give the same themes and scores as the brute-force
ReferenceMatcher (every term against every window with rapidfuzz) on the labelled and
held-out sets (tests/data/*.jsonl, if present) and on a sample of the benchmark articles.
Precision and recall are benchmarks/quality.py's.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import feedparser

from benchmarks import _synthetic as synthetic
from bot.core.canonical import html_to_text
from bot.core.watchlist import Matcher, load_watchlist
from bot.core.watchlist.model import Term, Theme, Watchlist
from bot.core.watchlist.normalize import scripts
from bot.core.watchlist.scoring import ThemeMatch
from bot.core.watchlist.terms import default_fuzzy, default_mode
from tests.watchlist.reference import ReferenceMatcher

ROOT = Path(__file__).resolve().parents[1]
LABELLED_SETS = (
    ROOT / "tests" / "data" / "labelled.jsonl",
    ROOT / "tests" / "data" / "heldout.jsonl",
    ROOT / "tests" / "data" / "heldout2.jsonl",
)
SIZES = (10, 100, 1_000, 10_000)
ITEMS_PER_FEED = 100
Article = tuple[str, str]  # title, plain-text summary

REAL_STYLE = [
    ("Russia and North Korea open Tumen River road bridge at Khasan",
     "The first road crossing between the two countries links Khasan in Primorye with "
     "Tumangang, beside the Soviet-era Friendship rail bridge, officials in Moscow said."),
    ("North Korean artillery shells and KN-23 missiles keep Russia's guns firing",
     "Ukrainian intelligence says Pyongyang has shipped millions of rounds to Russia by rail "
     "and sea from Rajin, in breach of UN sanctions."),
    ("Lavrov meets Choe Son Hui in Wonsan, praises treaty",
     "The Russian foreign minister arrived in North Korea for talks on the Comprehensive "
     "Strategic Partnership treaty signed during Putin's visit to Pyongyang."),
    ("US vetoes Security Council draft on Gaza ceasefire",
     "The United States blocked the resolution; thirteen members voted in favour."),
    ("Tyumen region expands grain exports to China",
     "Farmers in western Siberia shipped record volumes of wheat by rail this autumn."),
    ("China and North Korea to open new Yalu River bridge",
     "The bridge between Dandong and Sinuiju has stood unused for a decade."),
    ("Мост через реку Туманную: КНДР и Россия завершили опоры",
     "Строители с российской и северокорейской стороны у Хасана завершили опоры "
     "автомобильного моста, сообщил губернатор Приморья."),
    ("Россия поставила КНДР нефтепродукты сверх лимита ООН",
     "Танкеры из порта Восточный доставили в Северную Корею более миллиона баррелей."),
    ("북한군 러시아 쿠르스크 파병…공병 1천명 추가",
     "북한은 러시아 쿠르스크 지역에 공병과 군사 건설 인력을 추가로 보내기로 했다고 "
     "쇼이구 러시아 안보회의 서기가 밝혔다."),
    ("러, 北에 방공체계 제공…정찰위성 기술 이전 우려",
     "러시아가 북한에 판치르 방공 체계를 넘기고 정찰위성 기술을 지원했다는 분석이 나왔다."),
]  # fmt: skip


def make_articles(count: int) -> tuple[list[synthetic.Item], list[Article]]:
    """``count`` feed items and their (title, plain-text summary), one in ten real-style."""
    now = datetime.now(UTC)
    rng = random.Random(synthetic.SEED)
    items: list[synthetic.Item] = []
    for feed in range((count + ITEMS_PER_FEED - 1) // ITEMS_PER_FEED):
        items += synthetic.make_items(feed, ITEMS_PER_FEED, now, f"news{feed}.example", [])
    items = items[:count]
    for i in range(0, count, 10):
        title, summary = REAL_STYLE[rng.randrange(len(REAL_STYLE))]
        old = items[i]
        items[i] = synthetic.Item(
            old.guid, old.guid_is_permalink, old.link, title, f"<p>{summary}</p>", old.published
        )
    return items, [(item.title, html_to_text(item.description_html)) for item in items]


def _term(text: str, weight: float = 1.0) -> Term:
    mode = default_mode(text)
    return Term(text, mode, default_fuzzy(text, mode), weight)


def cut_down(nkru: Watchlist, size: int) -> list[Theme]:
    """Themes of nkru cut to ``size`` term entries: one theme under 50 terms, else all."""
    themes = nkru.themes[:1] if size < 50 else nkru.themes
    per_group = max(3, size // 10)
    groups = {g.name: replace(g, terms=g.terms[:per_group]) for t in themes for g in t.require}
    budget = size - sum(len(g.terms) for g in groups.values())
    out = []
    for index, theme in enumerate(themes):
        share = budget // len(themes) + (1 if index < budget % len(themes) else 0)
        require = tuple(groups[g.name] for g in theme.require)
        # Without exclusions, other actors and round-up markers: the cut-down list has
        # ``size`` term entries to scan for.
        cut = replace(theme, terms=theme.terms[:share], require=require, exclude=())
        out.append(replace(cut, others=(), roundups=()))
    return out


_KOREAN_FAMILY = ("Kim", "Ri", "Pak", "Choe", "Jong", "Kang", "Han", "Yun", "Jang", "Hwang", "O")
_KOREAN_SYLLABLES = (
    "chol", "song", "myong", "hyok", "il", "su", "nam", "jin", "kwang", "yong", "hak", "chan",
    "ho", "min", "sok", "gyu", "bong", "rim", "hui", "sun", "dok", "ung", "thae", "gun",
)  # fmt: skip
_RUSSIAN_STEMS = (
    "Ivan", "Petr", "Sidor", "Kuzn", "Smirn", "Volk", "Sokol", "Lebed", "Morozov", "Belyak",
    "Orlov", "Zaits", "Pavl", "Semen", "Golub", "Vinogr", "Bogdan", "Vorob", "Fedor", "Mikhail",
)  # fmt: skip
_RUSSIAN_ENDS = ("ov", "ev", "in", "sky", "enko", "ykh", "ovich")
_COMPANY_WORDS = (
    "Ryonbong", "Kumgang", "Taesong", "Chosun", "Sungri", "Paekho", "Namgang", "Kwangson",
    "Dalnevostok", "Primtrans", "Sibmash", "Amurstal", "Vostokflot", "Tikhookean", "Baikalnef",
)  # fmt: skip
_COMPANY_KINDS = ("Trading", "Shipping", "Logistics", "Energy", "Mining", "Marine", "Machinery")
_COMPANY_FORMS = ("Co", "LLC", "Ltd", "Corporation", "JSC", "Group")
_VESSEL_WORDS = ("Sea", "Star", "Dragon", "Ocean", "Pearl", "Glory", "Fortune", "Amur", "Polar")


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + rng.choice("aeioukrt") + word[i + 1 :]


def _name(rng: random.Random) -> str:
    """A made-up person, company or vessel name of the kind sanctions lists hold."""
    kind = rng.randrange(4)
    if kind == 0:
        given = rng.choice(_KOREAN_SYLLABLES).capitalize() + "-" + rng.choice(_KOREAN_SYLLABLES)
        return f"{rng.choice(_KOREAN_FAMILY)} {given}"
    if kind == 1:
        return (
            rng.choice(_RUSSIAN_STEMS)
            + rng.choice(_RUSSIAN_ENDS)
            + " "
            + rng.choice(_RUSSIAN_STEMS)
            + rng.choice(("a", "ich", "ovna", ""))
        )
    if kind == 2:
        return " ".join(
            (rng.choice(_COMPANY_WORDS) + rng.choice(("", "-" + str(rng.randrange(1, 99)))),
             rng.choice(_COMPANY_KINDS), rng.choice(_COMPANY_FORMS))
        )  # fmt: skip
    return f"{rng.choice(_VESSEL_WORDS)} {rng.choice(_VESSEL_WORDS)} {rng.randrange(1, 999)}"


def synthetic_themes(
    nkru: Watchlist, terms: int, seed: int, occurring: float = 0.01
) -> list[Theme]:
    """Themes of made-up names needing North Korea and Russia: ``terms`` indicators in all.

    ``occurring`` (1 %) are words the articles use, written in lower case as vocabulary is
    (exact hits; not fuzzy, as lower-case terms are not by default), as many are names one
    typo away from such words (fuzzy hits), the rest are names of people, companies and
    vessels, which mostly occur nowhere: the usual case for a long list of names.

    Why the words the articles use are not names: the synthetic articles draw their rare
    words from one small made-up vocabulary (20 onsets, 8 vowels), so a fuzzy term taken
    from it has pieces that start or end hundreds of other words of the articles. Measured
    at 10,000 terms, such terms found pieces ~300 times as often as the made-up names of
    real kinds (0.019 vs 0.00006 piece finds per term and article): 1 % of the terms made
    most of the fuzzy work, which real names in real copy do not. The typo'd names keep it.
    """
    rng = random.Random(seed)
    tail = [w for w in synthetic._TAIL if len(w) >= 8]
    groups = nkru.themes[0].require
    names: dict[str, Term] = {}
    while len(names) < terms:
        roll = rng.random()
        if roll < occurring:
            text = rng.choice(tail)
        elif roll < 2 * occurring:
            text = _typo(rng, rng.choice(tail)).capitalize()
        else:
            text = _name(rng)
        names.setdefault(text.casefold(), _term(text, 1.5))
    unique = list(names.values())
    return [
        Theme(f"synthetic-{n}", f"Synthetic {n}", "", "#777777", tuple(unique[i : i + 100]),
              groups, (), 1.0)
        for n, i in enumerate(range(0, len(unique), 100))
    ]  # fmt: skip


def watchlist_of(nkru: Watchlist, size: int) -> Watchlist:
    """A watchlist of about ``size`` term entries."""
    if size <= nkru.term_count():
        themes = cut_down(nkru, size)
    else:
        themes = [*nkru.themes, *synthetic_themes(nkru, size - nkru.term_count(), size)]
    return Watchlist(f"bench-{size}", f"{size} terms", nkru.path, tuple(themes))


def best_of(runs: int, func: Callable[[], object]) -> float:
    """Fastest wall time of ``runs`` calls, in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return min(times)


def match_all(matcher: Matcher, articles: list[Article]) -> list[list[ThemeMatch]]:
    """The matches of every article."""
    return [matcher.match(title, summary) for title, summary in articles]


def interleaved(
    matchers: list[Matcher], articles: list[Article], items: list[synthetic.Item] | None = None
) -> tuple[float, list[float]]:
    """Seconds feedparser takes for ``items`` as RSS (if given), and each matcher for
    ``articles``.

    Feed by feed (100 items): feedparser parses the feed, then each matcher matches the
    same articles, the fastest of three runs each (see the module doc).
    """
    now = datetime.now(UTC)
    parse, matching = 0.0, [0.0] * len(matchers)
    for first in range(0, len(articles), ITEMS_PER_FEED):
        if items is not None:
            feed = items[first : first + ITEMS_PER_FEED]
            body = synthetic.rss(f"Feed {first}", f"news{first}.example", feed, now)
            parse += best_of(3, partial(feedparser.parse, body))
        chunk = articles[first : first + ITEMS_PER_FEED]
        for index, matcher in enumerate(matchers):
            matching[index] += best_of(3, partial(match_all, matcher, chunk))
    return parse, matching


def same_results(fast: Matcher, ref: ReferenceMatcher, articles: list[Article]) -> int:
    """How many articles get the same themes and scores from both matchers."""
    same = 0
    for title, summary in articles:
        a = [(m.slug, m.score) for m in fast.match(title, summary)]
        b = [(m.slug, m.score) for m in ref.match(title, summary)]
        same += a == b
    return same


def quality(nkru: Watchlist, articles: list[Article], sample: int) -> None:
    """Fast matcher vs brute-force reference on the labelled set and on benchmark articles."""
    print("\nfast matcher vs brute-force ReferenceMatcher (same themes and scores):")
    fast, ref = Matcher.from_watchlists([nkru]), ReferenceMatcher.from_watchlists([nkru])
    for path in LABELLED_SETS:
        if not path.exists():
            print(f"  {path.name}: missing, skipped")
            continue
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        labelled = [(r["title"], r["summary"]) for r in rows]
        same = same_results(fast, ref, labelled)
        print(f"  {path.name + ', nkru.toml:':<32} {same}/{len(labelled)}")
    big = watchlist_of(nkru, 1_000)
    fast, ref = Matcher.from_watchlists([big]), ReferenceMatcher.from_watchlists([big])
    picked = articles[:sample]
    print(f"  benchmark articles, 1,000 terms: {same_results(fast, ref, picked)}/{len(picked)}")


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--reference", type=int, default=300, help="articles checked vs reference")
    args = parser.parse_args()
    nkru = load_watchlist(ROOT / "watchlists" / "nkru.toml")
    items, articles = make_articles(args.articles)
    chars = sum(len(t) + len(s) for t, s in articles) / len(articles)
    print(f"{len(articles)} articles, {chars:.0f} characters of title + summary on average")
    watchlists, compiled, matchers = [], [], []
    for size in SIZES:
        watchlists.append(watchlist_of(nkru, size))
        started = time.perf_counter()
        matchers.append(Matcher.from_watchlists([watchlists[-1]]))
        compiled.append(time.perf_counter() - started)
    # One pass untimed: it also fills the fuzzy verdict caches, as a running bot's are.
    hits = [sum(1 for t, s in articles if m.match(t, s)) for m in matchers]
    parse_seconds, match_seconds = interleaved(matchers, articles, items)
    parse = parse_seconds / len(items)
    print(f"feedparser.parse: {1 / parse:,.0f} articles/s ({parse * 1e6:.0f} µs/article)\n")
    print(f"{'terms':>7} {'distinct':>8} {'compile':>8} {'articles/s':>11} {'µs/article':>10} "
          f"{'vs 10 terms':>11} {'vs feedparser':>13} {'matched':>8}")  # fmt: skip
    base = match_seconds[0] / len(articles)
    for index, watchlist in enumerate(watchlists):
        per = match_seconds[index] / len(articles)
        print(
            f"{watchlist.term_count():>7,} {len(matchers[index].compiled.slots):>8,} "
            f"{compiled[index]:>7.2f}s {1 / per:>11,.0f} {per * 1e6:>10.1f} "
            f"{per / base:>10.2f}x {parse / per:>12.1f}x {hits[index]:>8,}"
        )
    del matchers
    names_only(nkru, articles)
    explanations(nkru, articles)
    by_language(nkru)
    quality(nkru, articles, args.reference)


def names_only(nkru: Watchlist, articles: list[Article]) -> None:
    """The automaton's own scaling: the 10-term list plus 10,000 names that never occur."""
    ten = cut_down(nkru, 10)
    names = [*ten, *synthetic_themes(nkru, 10_000, 7, occurring=0.0)]
    matchers = [
        Matcher.from_watchlists([Watchlist(name, name, nkru.path, tuple(themes))])
        for name, themes in (("ten", ten), ("names", names))
    ]
    _, (base, seconds) = interleaved(matchers, articles)
    print(
        f"\n10 terms + 10,000 names that occur nowhere: {seconds / len(articles) * 1e6:.1f} "
        f"µs/article, {seconds / base:.2f}x the 10-term list (the scan itself; the rows above "
        "add the cost of the hits that more terms find)"
    )


def by_language(nkru: Watchlist) -> None:
    """Russian and Korean cost more (NFKC, case folding, two automata): the labelled and
    held-out articles by script, at 1,000 terms."""
    rows = [json.loads(line) for path in LABELLED_SETS if path.exists()
            for line in path.read_text().splitlines() if line.strip()]  # fmt: skip
    languages: dict[str, list[Article]] = {"English": [], "Russian": [], "Korean": []}
    for row in rows:
        found = scripts(row["title"] + row["summary"])
        language = (
            "Korean" if "HANGUL" in found else "Russian" if "CYRILLIC" in found else "English"
        )
        languages[language].append((row["title"], row["summary"]))
    matcher = Matcher.from_watchlists([watchlist_of(nkru, 1_000)])
    match_all(matcher, [article for group in languages.values() for article in group])
    figures = [
        f"{language} {best_of(5, partial(match_all, matcher, group)) / len(group) * 1e6:.1f} µs"
        for language, group in languages.items()
        if group
    ]
    print(f"1,000 terms, the labelled and held-out articles by language: {', '.join(figures)}")


def explanations(nkru: Watchlist, articles: list[Article]) -> None:
    """Explanations are built when read: what reading all of them costs, at 1,000 terms."""
    matcher = Matcher.from_watchlists([watchlist_of(nkru, 1_000)])

    def explain_all() -> None:
        for title, summary in articles:
            for match in matcher.match(title, summary):
                assert match.explanation["hits"]

    per = best_of(3, explain_all) / len(articles)
    print(f"1,000 terms, reading every explanation too: {per * 1e6:.1f} µs/article")


if __name__ == "__main__":
    main()
