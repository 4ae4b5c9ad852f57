"""Layer-(b) dedup cost: fingerprint time, and lookup + match time as the window grows.

Run: .venv/bin/python benchmarks/clustering.py [--sizes 1000,1000000] [--queries N]

Stories are synthetic but news-like: facts (who, did what, to what, where, numbers) drawn
from word lists with a fixed seed and a skew towards popular words, then written up by
several "outlets" with different templates, prefixes, word order and detail. Half of the
queries are another outlet's report of a stored story (they should match it), half are
stories never seen (they should match nothing).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import numpy.typing as npt

from bot.core.cluster import (
    Fingerprint,
    StoryIndex,
    best_match,
    fingerprint,
)
from bot.core.minhash import band_hashes, compact, signature_matrix


def _words(text: str) -> list[str]:
    return text.split()


PEOPLE = _words(
    """
Putin Kim Lavrov Shoigu Belousov Choe Zelensky Biden Trump Xi Kishida Ishiba Yoon Lee Macron
Scholz Merz Starmer Modi Erdogan Netanyahu Guterres Blinken Rubio Sullivan Peskov Medvedev
Mishustin Nabiullina Sobyanin Kozhemyako Matviyenko Volodin Austin Hegseth Albanese Lula Milei
Orban Meloni Sanchez Tusk Duda Rutte Borrell Kallas Sikorski Baerbock Wang Han Choi Park Cho
Moon Jeong Kang Ahn Song Ryabkov Zakharova Nebenzia Ushakov Patrushev Gerasimov Syrskyi Umerov
Sybiha Yermak Budanov Lukashenko Pezeshkian Araghchi Assad Sharaa Widodo Prabowo Marcos Lai
Anwar Shehbaz Tokayev Mirziyoyev Aliyev Pashinyan Kobakhidze Khurelsukh Grossi Tedros Lagarde
Powell Ueda Georgieva Bessent Yellen Lutnick Vance Harris Pelosi Schumer Johnson McConnell
"""
)
PLACES = _words(
    """
Pyongyang Moscow Seoul Beijing Tokyo Washington Kyiv Kursk Kharkiv Vladivostok Khabarovsk
Rason Rajin Wonsan Sinuiju Kaesong Nampo Hamhung Chongjin Busan Incheon Osaka Shanghai Harbin
Donetsk Zaporizhzhia Odesa Crimea Belgorod Bryansk Minsk Tehran Damascus Hanoi Jakarta Manila
Taipei Delhi Ankara Berlin Paris London Brussels Geneva Vienna Warsaw Helsinki Tallinn Riga
Vilnius Astana Tashkent Baku Yerevan Tbilisi Ulaanbaatar Irkutsk Novosibirsk Murmansk Sochi
Kazan Samara Rostov Krasnodar Sakhalin Kamchatka Amur Primorye Tumen Yalu Hokkaido Okinawa
Guam Hawaii Alaska Dnipro Lviv Sumy Kherson Mykolaiv Pokrovsk Avdiivka Bakhmut Sevastopol
Kaliningrad Arkhangelsk Yakutsk Chita Ulsan Gwangju Daegu Jeju Gangwon Kaesong Panmunjom
Nagasaki Fukuoka Kobe Sapporo Dalian Dandong Hunchun Yanji Shenyang Qingdao Hainan Macau
"""
)
ORGS = _words(
    """
Kremlin Gazprom Rosneft Rosatom Roscosmos Sberbank Aeroflot Nordwind Samsung Hyundai LG Hynix
Posco Kia Toyota Sony Huawei Alibaba Tencent NATO ASEAN IAEA WFP UNICEF Duma Politburo Treasury
Pentagon Interpol OPEC BRICS G7 G20 IMF Lukoil Novatek Transneft Rostec Wagner Yandex VTB
Sovcomflot Hanwha Doosan Daewoo Lotte Naver Kakao Coupang Mitsubishi Hitachi Panasonic Nissan
Honda Sinopec CNPC Cosco Maersk Boeing Airbus Lockheed Raytheon Gallup Amnesty Greenpeace
"""
)
VERBS = _words(
    """
visits signs opens closes launches fires tests seizes bans sanctions approves rejects blocks
vetoes ratifies suspends resumes expands cuts raises lowers warns threatens denies confirms
accuses condemns welcomes hosts meets urges pledges vows promises sends deploys withdraws
captures frees arrests jails fines sues probes reveals unveils builds repairs hits strikes
shells bombs downs intercepts detects tracks spots monitors imports exports ships delivers
supplies buys sells leases funds pays doubles halves boosts slashes delays cancels postpones
extends renews ends inspects orders appoints dismisses replaces recalls summons expels
evacuates rescues restores reopens relocates merges acquires lists delists
"""
)
NOUNS = _words(
    """
treaty pact deal agreement talks summit visit trip tour ceremony parade drill exercise missile
rocket satellite drone warship submarine tanker freighter ferry bridge road railway train
flight airport port pipeline border crossing checkpoint embassy consulate envoy ambassador
minister delegation troops soldiers workers tourists students engineers doctors refugees
prisoners hostages shells ammunition weapons rifles tanks artillery radar launcher warhead
uranium reactor plant factory mine oil gas coal wheat rice fertiliser fuel grid tariffs
quotas loans credits debt budget inflation rates currency rouble won yen dollar yuan shares
stocks bonds exports imports trade investment aid food medicine vaccine hospital school
university festival exhibition museum stadium match team coach visa permit licence record
survey poll election vote referendum law bill decree resolution panel committee court
verdict sentence trial probe inquiry leak hack cyberattack outage blackout flood typhoon
earthquake wildfire drought heatwave snowstorm harvest fishing shipyard steel copper nickel
aluminium gold diamonds timber cotton sugar coffee tea salt cement chips batteries phones
cars trucks buses tractors helicopters jets bombers fighters frigates icebreakers cruisers
corvettes minesweepers destroyers carriers hovercraft barges cranes containers warehouses
terminals depots refineries smelters mills dams canals tunnels highways ports runways
hangars bunkers silos barracks camps prisons clinics pharmacies laboratories observatories
spaceport cosmodrome telescope antenna cable fibre network spectrum frequency broadcast
newspaper journalist blogger activist lawyer judge prosecutor detective smuggler hacker
"""
)
ADJECTIVES = _words(
    """
new first largest biggest secret rare direct joint military nuclear naval civilian economic
strategic historic annual monthly weekly emergency temporary permanent regional national
foreign domestic commercial illegal unprecedented major fresh further additional record
controversial disputed delayed expanded revised draft final interim classified leaked
"""
)
SOURCES = _words(
    """
officials ministry spokesman agency diplomats analysts witnesses prosecutors regulators
lawmakers executives residents researchers monitors observers investigators
"""
)
# Connecting words vary between outlets and stories, so templates add little shared text.
LINKS = _words(
    """
follows comes caps crowns tops trails echoes mirrors revives reverses overshadows complicates
eclipses accelerates rekindles deepens eases sharpens clouds sours brightens prolongs
"""
)
EFFECTS = _words(
    """
affected displaced involved stranded detained evacuated employed insured vaccinated counted
registered processed recovered delayed compensated relocated questioned interviewed surveyed
"""
)
STATES = _words(
    """
unchanged uncertain pending suspended unaffected unresolved contested closed rationed guarded
scarce stretched idle overbooked unpaid unpublished reviewed audited
"""
)
QUARRELS = _words(
    """
row dispute spat standoff feud tension crisis quarrel clash impasse deadlock backlash
"""
)
REACTIONS = _words(
    """
commented responded reacted replied objected protested confirmed clarified elaborated
retaliated apologised conceded acknowledged disputed explained
"""
)
PREFIXES = ("", "", "", "", "Reuters: ", "UPDATE 1-", "UPDATE 2-", "(LEAD) ", "EXCLUSIVE-")
SUFFIXES = ("", "", "", " - Reuters", " | NK News", " - The Moscow Times", " - Yonhap")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


SYLLABLES = _words(
    """
ka ko ra ri mo na ne vo va sa se to ta lu li mi be bo du de gu go ze zo ha hu pe po an el
or in ur ek ov ev sk st tr dr ny ch sh
"""
)


def _rare_name(rng: random.Random) -> str:
    # Real news has a long tail of names (local officials, towns, firms) the lists lack.
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def _pick(rng: random.Random, words: list[str]) -> str:
    # Popular words recur (Putin, Pyongyang, missile), as in real news, most are rare.
    return words[int(len(words) * rng.random() ** 1.2)]


@dataclass(frozen=True)
class Facts:
    """What one story is about; outlets differ in which facts they use and how."""

    actor: str
    verb: str
    adjective: str
    thing: str
    place: str
    other_place: str
    number: str
    details: tuple[str, ...]
    source: str
    names: tuple[str, str]  # long-tail names: a person and a town or firm


def new_story(rng: random.Random) -> Facts:
    actor = _pick(rng, PEOPLE) if rng.random() < 0.7 else _pick(rng, ORGS)
    return Facts(
        actor=actor,
        verb=_pick(rng, VERBS),
        adjective=_pick(rng, ADJECTIVES),
        thing=f"{_pick(rng, NOUNS)} {_pick(rng, NOUNS)}",
        place=_pick(rng, PLACES),
        other_place=_pick(rng, PLACES),
        number=str(rng.choice((2, 3, 5, 12, 40, 150, 300, 1200, 3000, 10000, 2024, 2025))),
        details=tuple(_pick(rng, NOUNS) for _ in range(4)),
        source=rng.choice(SOURCES),
        names=(_rare_name(rng), _rare_name(rng)),
    )


def _title(rng: random.Random, f: Facts) -> str:
    templates = (
        f"{f.actor} {f.verb} {f.adjective} {f.thing} in {f.place}",
        f"{f.place}: {f.actor} {f.verb} {f.thing} at {f.names[1]}",
        f"{f.actor} {f.verb} {f.thing} as {f.details[0]} {rng.choice(QUARRELS)} grows",
        f"{f.adjective.capitalize()} {f.thing}: {f.actor} {f.verb} it, {f.source} say",
    )
    return rng.choice(PREFIXES) + rng.choice(templates) + rng.choice(SUFFIXES)


def _summary(rng: random.Random, f: Facts) -> str:
    d = f.details
    lead = (
        f"{f.actor} {f.verb} the {f.adjective} {f.thing} at {f.names[1]} in {f.place} on "
        f"{rng.choice(WEEKDAYS)}, {f.source} said."
    )
    rest = [
        f"It {rng.choice(LINKS)} {d[0]} and {d[1]} in {f.other_place}.",
        f"About {f.number} {d[2]} were {rng.choice(EFFECTS)}, according to {f.source}.",
        f"The {d[3]} is {rng.choice(STATES)}, {rng.choice(SOURCES)} said.",
        f"{f.other_place} has not {rng.choice(REACTIONS)} on the {f.thing}.",
        f"{f.names[0]}, who runs the {f.thing}, was {rng.choice(EFFECTS)}.",
    ]
    rng.shuffle(rest)
    # Outlets keep different details, and some add their own colour.
    colour = f"The {_pick(rng, NOUNS)} in {_pick(rng, PLACES)} was also {rng.choice(EFFECTS)}."
    return " ".join([lead, *rest[: rng.randint(2, 5)], colour])


def report(rng: random.Random, f: Facts) -> tuple[str, str]:
    """One outlet's title and summary of story `f`."""
    return _title(rng, f), _summary(rng, f)


def _best_of_3(fn: Callable[[], object]) -> float:
    # The fastest run is the least disturbed by other processes on the machine.
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench_fingerprint(rng: random.Random, count: int) -> tuple[float, float]:
    """µs per fingerprint with the stemming cache warm, and mean characters per article."""
    articles = [report(rng, new_story(rng)) for _ in range(count)]
    for title, summary in articles:  # warm the cache, as in a running bot
        fingerprint(title, summary)
    seconds = _best_of_3(lambda: [fingerprint(t, s) for t, s in articles])
    chars = statistics.fmean(len(t) + len(s) for t, s in articles)
    return seconds / count * 1e6, chars


CHUNK = 10_000  # stories fingerprinted and indexed at a time (their texts are then dropped)
BATCH = 50  # items looked up together, as one ingest of a feed's new items does
MATCH = 0.25 * 192  # equal positions needed to join a story (cluster.THRESHOLD)


@dataclass
class Window:
    """A StoryIndex of N stories, the facts of the stories queried again, and what the
    uncapped reference needs: every story's band hashes and compact signature."""

    index: StoryIndex
    facts: dict[int, Facts]
    hashes: npt.NDArray[np.uint32]
    sigs: npt.NDArray[np.uint16]
    build_seconds: float  # add_many + maintain, fingerprinting not included


def _fill(size: int, rng: random.Random, wanted: set[int]) -> Window:
    index = StoryIndex(auto_maintain=False)  # as StoryCache: merged once, at the end
    facts: dict[int, Facts] = {}
    hashes, sigs, build = [], [], 0.0
    for start in range(0, size, CHUNK):
        ids = list(range(start + 1, min(start + CHUNK, size) + 1))
        chunk = [new_story(rng) for _ in ids]
        facts.update((sid, f) for sid, f in zip(ids, chunk, strict=True) if sid in wanted)
        signatures = [fingerprint(*report(rng, f)).signature for f in chunk]
        matrix = signature_matrix(signatures)
        hashes.append(band_hashes(matrix))
        sigs.append(compact(matrix))
        started = time.perf_counter()
        index.add_many(ids, signatures, [float(sid) for sid in ids])
        build += time.perf_counter() - started
    started = time.perf_counter()
    index.maintain()
    build += time.perf_counter() - started
    return Window(index, facts, np.concatenate(hashes), np.concatenate(sigs), build)


def _uncapped(window: Window, fp: Fingerprint) -> int | None:
    """What an index without caps would answer: the best of every story sharing a band."""
    matrix = signature_matrix([fp.signature])
    shares = np.flatnonzero((window.hashes == band_hashes(matrix)).any(axis=1))
    if not len(shares):
        return None
    equal = np.count_nonzero(window.sigs[shares] == compact(matrix), axis=1)
    best = int(equal.argmax())  # ties: the smallest story id, as the index
    return int(shares[best]) + 1 if equal[best] >= MATCH else None


def bench_window(size: int, queries: int, reference: int, seed: int) -> dict[str, float]:
    """Fill a StoryIndex with `size` stories, then time lookup + match of `queries` items."""
    rng = random.Random(seed)
    stored = [rng.randrange(1, size + 1) for _ in range(queries // 2)]
    window = _fill(size, rng, set(stored))
    index = window.index
    repeats = [(sid, fingerprint(*report(rng, window.facts[sid]))) for sid in stored]
    fresh = [fingerprint(*report(rng, new_story(rng))) for _ in range(queries - len(repeats))]
    items = [fp for _, fp in repeats] + fresh

    def batched() -> list[int | None]:
        found = []
        for start in range(0, len(items), BATCH):
            found += index.best_matches(items[start : start + BATCH])
        return [story if equal >= MATCH else None for story, equal in found]

    def one_by_one() -> list[int | None]:
        return [best_match(fp, index.candidates(fp)) for fp in items]

    batch_seconds = _best_of_3(batched)
    single_seconds = _best_of_3(one_by_one)
    examined = index.examined
    decided = batched()
    examined = index.examined - examined
    checked = repeats[:reference]
    split = sum(
        1
        for (sid, fp), got in zip(checked, decided, strict=False)
        if got != sid and _uncapped(window, fp) == sid
    )
    pairs = [rng.sample(items, 2) for _ in range(5_000)]
    return {
        "build": window.build_seconds,
        "bytes": index.nbytes / len(index),
        "us": batch_seconds / len(items) * 1e6,
        "single_us": single_seconds / len(items) * 1e6,
        "examined": examined / len(items),
        "recall": statistics.fmean(
            got == sid for (sid, _), got in zip(repeats, decided, strict=False)
        ),
        "false": statistics.fmean(got is not None for got in decided[len(repeats) :]),
        "split": split,
        "checked": len(checked),
        "jaccard": statistics.fmean(
            len(a.features & b.features) / len(a.features | b.features) for a, b in pairs
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1000,10000,100000", help="stories in the window, comma-separated"
    )
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument(
        "--reference", type=int, default=200, help="repeats also checked without caps"
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    per_item, chars = bench_fingerprint(random.Random(1), 5_000)
    print(f"fingerprint: {per_item:.1f} µs/item (title + summary: {chars:.0f} characters)")
    results = {}
    for size in sizes:
        started = time.perf_counter()
        r = results[size] = bench_window(size, args.queries, args.reference, seed=2)
        print(
            f"{size:>9,} stories: lookup+match {r['us']:.1f} µs/item in batches of {BATCH}"
            f" ({r['single_us']:.1f} one by one), {r['examined']:.1f} signatures compared/item,"
            f" same-story found {r['recall']:.1%}, fresh story merged {r['false']:.1%},"
            f" split from its story by the caps {r['split']:.0f}/{r['checked']:.0f};"
            f" index {r['bytes']:.0f} bytes/story, built in {r['build']:.1f} s"
            f" (whole run {time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    print(f"unrelated pairs: mean Jaccard {results[sizes[0]]['jaccard']:.3f}")
    small, large = results[sizes[0]], results[sizes[-1]]
    print(
        f"ratio {sizes[-1]:,} / {sizes[0]:,} stories: {large['us'] / small['us']:.2f}x in"
        f" batches, {large['single_us'] / small['single_us']:.2f}x one by one"
    )


if __name__ == "__main__":
    main()
