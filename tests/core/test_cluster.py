"""Layer-(b) dedup: quality on a labelled set, determinism, and edge cases."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core import cluster
from bot.core.cluster import (
    BANDS,
    NUM_PERM,
    Fingerprint,
    StoryIndex,
    best_match,
    fingerprint,
    similarity,
)

REPO = Path(__file__).resolve().parents[2]
Article = tuple[str, str]  # (title, summary)

# Each group is one story told by several "outlets": (topic, [(title, summary), ...]).
# Topics: "nkru" = North Korea–Russia, "nk" = North Korea only, "other" = unrelated news,
# "ru"/"ko" = Russian/Korean-language items. Different groups are different stories.
STORIES: list[tuple[str, list[Article]]] = [
    (
        "nkru",
        [
            (
                "Putin arrives in Pyongyang, signs mutual defence pact with Kim Jong Un",
                "Russian President Vladimir Putin and North Korean leader Kim Jong Un signed a "
                "comprehensive strategic partnership treaty on Wednesday that obliges each side "
                "to help the other if attacked, during Putin's first visit to Pyongyang in 24 "
                "years.",
            ),
            (
                "Reuters: Kim and Putin sign pact pledging mutual military assistance in Pyongyang",
                "North Korea and Russia agreed to provide immediate military assistance to each "
                "other if either faces armed aggression, under a treaty Kim Jong Un and Vladimir "
                "Putin signed during the Russian leader's visit to Pyongyang, the first since "
                "2000.",
            ),
            (
                "UPDATE 2-Putin visits North Korea, strikes defense treaty with Kim",
                "Vladimir Putin was greeted with a lavish ceremony in Pyongyang, where he and Kim "
                "Jong Un signed a strategic partnership treaty including a mutual defense clause, "
                "a deal likely to alarm Seoul and Washington.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "North Korean troops spotted in Russia's Kursk region, Ukraine says",
                "Ukrainian military intelligence said units of North Korean soldiers had been "
                "seen in the Kursk border region, where Russian forces are trying to push back a "
                "Ukrainian incursion, the first sighting near the front line.",
            ),
            (
                "Ukraine intelligence: North Korean soldiers seen in Kursk near front",
                "North Korean soldiers have arrived in Russia's Kursk region, close to the area "
                "held by Ukrainian forces, Kyiv's defence intelligence agency said on Wednesday, "
                "citing reports from the front.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Russia vetoes renewal of UN panel monitoring North Korea sanctions",
                "Russia on Thursday vetoed a UN Security Council resolution that would have "
                "extended the mandate of the expert panel monitoring enforcement of sanctions "
                "against North Korea, ending 15 years of independent oversight. China abstained.",
            ),
            (
                "UN Security Council: Russian veto ends mandate of North Korea sanctions experts "
                "panel",
                "A Russian veto at the UN Security Council means the panel of experts that tracks "
                "violations of North Korea sanctions will disband next month. Thirteen members "
                "voted in favour of renewal and China abstained.",
            ),
            (
                "(LEAD) Russia blocks extension of UN panel on N. Korea sanctions",
                "Russia used its veto power to block a resolution renewing the UN panel of "
                "experts on North Korea sanctions, drawing criticism from Seoul, Washington and "
                "Tokyo, who accused Moscow of shielding its arms supplier.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Russia and North Korea open Tumen road bridge",
                "Russia and North Korea have opened a road bridge across the Tumen River, giving "
                "the two countries their first direct road link and bypassing a border crossing "
                "through China, Russian officials said.",
            ),
            (
                "First road bridge linking North Korea and Russia opened over Tumen river",
                "A road bridge over the Tumen River linking Russia's Primorye region with North "
                "Korea was opened on Monday, officials in Vladivostok said, creating the first "
                "vehicle crossing between the countries.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Kim Jong Un meets Putin at Vostochny cosmodrome in Russia's Far East",
                "North Korean leader Kim Jong Un and Russian President Vladimir Putin held talks "
                "at the Vostochny space launch centre in the Amur region, after Kim travelled by "
                "armoured train. Putin said Russia would help North Korea build satellites.",
            ),
            (
                "Putin hosts Kim at Vostochny space base, hints at satellite help",
                "Vladimir Putin welcomed Kim Jong Un to the Vostochny cosmodrome on Wednesday "
                "and, asked whether Russia would help Pyongyang build satellites, said: that is "
                "why we came here. The leaders then held talks.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Lavrov arrives in Pyongyang for talks with North Korean officials",
                "Russian Foreign Minister Sergei Lavrov arrived in Pyongyang on Wednesday for a "
                "two-day visit, during which he is expected to meet his North Korean counterpart "
                "Choe Son Hui, the foreign ministry in Moscow said.",
            ),
            (
                "TASS: Russian foreign minister Lavrov begins two-day North Korea visit",
                "Sergei Lavrov landed in the North Korean capital on a visit lasting two days and "
                "will hold talks with Foreign Minister Choe Son Hui, according to the Russian "
                "foreign ministry.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Satellite images show containers at Rajin port, suggesting arms shipments to "
                "Russia",
                "Commercial satellite imagery shows hundreds of shipping containers at North "
                "Korea's Rajin port, where Russian-flagged cargo ships have been docking, a think "
                "tank said, in a pattern consistent with artillery shell deliveries.",
            ),
            (
                "Think tank: Russian ships ferry containers from North Korea's Rajin, likely "
                "munitions",
                "Russian cargo vessels have made repeated trips to Rajin in North Korea, loading "
                "containers that researchers believe hold artillery shells bound for the war in "
                "Ukraine, according to an analysis of satellite imagery.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Ukraine captures two North Korean soldiers in Kursk, Zelensky says",
                "Ukrainian forces captured two North Korean soldiers in Russia's Kursk region, "
                "President Volodymyr Zelensky said on Saturday, posting photographs of the "
                "wounded men and saying they were being questioned by the SBU.",
            ),
            (
                "Zelenskiy: two North Korean troops taken prisoner by Ukrainian forces",
                "Two soldiers from North Korea were taken prisoner in the Kursk region and "
                "transferred to Kyiv for interrogation, Volodymyr Zelenskiy said, the first time "
                "Ukraine has captured North Korean fighters alive.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Shoigu meets Kim Jong Un in Pyongyang on second trip in weeks",
                "Sergei Shoigu, secretary of Russia's Security Council, met North Korean leader "
                "Kim Jong Un in Pyongyang, state media KCNA reported, his second visit to the "
                "country this month as the two sides deepen military ties.",
            ),
            (
                "KCNA: Kim Jong Un receives Russia's Security Council secretary Shoigu",
                "North Korea's leader Kim Jong Un received Sergei Shoigu, the head of Russia's "
                "Security Council, for talks in Pyongyang, the official KCNA news agency said on "
                "Wednesday. It was Shoigu's second visit in a matter of weeks.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Russia's Nordwind launches regular Moscow–Pyongyang flights",
                "Russian airline Nordwind operated its first regular passenger flight from Moscow "
                "to Pyongyang on Sunday, the first direct air link between the two capitals in "
                "decades. Flights will run once a month.",
            ),
            (
                "First direct Moscow to Pyongyang passenger flight takes off",
                "A Nordwind Airlines plane left Moscow's Sheremetyevo airport for Pyongyang, "
                "launching the first regular direct flights between the Russian and North Korean "
                "capitals. The route will operate monthly.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Russian tourists visit North Korea's Masikryong ski resort",
                "A group of Russian tourists has arrived at the Masikryong ski resort in North "
                "Korea, one of the first foreign tour groups allowed into the country since it "
                "closed its borders during the pandemic.",
            ),
            (
                "North Korea welcomes first Russian tour group to Masikryong since pandemic",
                "North Korea welcomed about 100 Russian tourists from Vladivostok, who will ski "
                "at Masikryong and visit Pyongyang, the first organised tour group since borders "
                "shut in 2020.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Ukraine says North Korean KN-23 missile debris found in Kharkiv",
                "Ukrainian prosecutors said fragments recovered after a strike on Kharkiv came "
                "from a North Korean KN-23 ballistic missile launched by Russia, presenting the "
                "debris to reporters.",
            ),
            (
                "Kharkiv prosecutors: Russia fired North Korean ballistic missile at city",
                "Remnants of a missile that hit Kharkiv were identified as a North Korean-made "
                "KN-23, the regional prosecutor's office said, adding to evidence that Moscow is "
                "using Pyongyang's weapons in Ukraine.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "South Korea summons Russian ambassador over North Korea defence treaty",
                "South Korea's foreign ministry summoned Russia's ambassador Georgy Zinoviev to "
                "protest the treaty signed by Moscow and Pyongyang, calling the pledge of mutual "
                "military assistance a threat to its security.",
            ),
            (
                "Seoul calls in Russian envoy to protest Moscow–Pyongyang military pact",
                "The South Korean foreign ministry called in Russian Ambassador Georgy Zinoviev "
                "and lodged a protest over the military pact that Russia and North Korea signed "
                "this week, urging Moscow to stop military cooperation.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Putin gifts Kim Jong Un a Russian-made car, KCNA says",
                "Russian President Vladimir Putin has given North Korean leader Kim Jong Un a "
                "Russian-made car for his personal use, state news agency KCNA said, in a gift "
                "that may breach UN sanctions banning luxury goods exports to the North.",
            ),
            (
                "Kim Jong Un receives Russian car as gift from Putin, state media report",
                "Kim Jong Un's sister Kim Yo Jong thanked Moscow after a Russian-made car, sent "
                "by Vladimir Putin for the North Korean leader's personal use, was delivered on "
                "Sunday, according to KCNA.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Russia's State Duma ratifies strategic partnership treaty with North Korea",
                "Russia's lower house of parliament voted unanimously to ratify the comprehensive "
                "strategic partnership treaty with North Korea, which includes a mutual defence "
                "clause, Duma speaker Vyacheslav Volodin said.",
            ),
            (
                "Russian lawmakers approve defence treaty with Pyongyang",
                "Lawmakers in Russia's State Duma on Thursday approved the comprehensive "
                "strategic partnership treaty signed with North Korea in June, unanimously "
                "backing a mutual assistance provision in the event of attack.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "US imposes sanctions on entities helping North Korea arm Russia",
                "The US Treasury sanctioned Russian and North Korean companies and individuals it "
                "accused of facilitating arms transfers between Pyongyang and Moscow, including a "
                "shipping firm whose vessels carried munitions containers.",
            ),
            (
                "Washington sanctions firms over North Korea–Russia weapons transfers",
                "The Treasury Department on Thursday blacklisted several companies and people in "
                "Russia and North Korea over weapons shipments from Pyongyang to Moscow, freezing "
                "any U.S. assets.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Thousands of North Korean workers sent to Russian construction sites, officials "
                "say",
                "North Korea has dispatched thousands of labourers to Russia to work on building "
                "sites in violation of UN sanctions, South Korean intelligence said, with many "
                "entering on student visas.",
            ),
            (
                "Seoul spy agency: North Korean labourers flooding into Russia despite UN ban",
                "South Korea's National Intelligence Service said large numbers of North Korean "
                "workers have been sent to Russia to staff construction projects, using student "
                "visas to evade a UN ban on overseas labour.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Moscow–Pyongyang passenger train service resumes after five years",
                "Direct passenger rail service between Moscow and Pyongyang restarted on Tuesday "
                "for the first time since 2020, Russian Railways said, with a train departing the "
                "Russian capital on the 10,000 km route.",
            ),
            (
                "Russian Railways restarts direct trains to North Korea's capital",
                "Russian Railways has resumed direct passenger trains from Moscow to Pyongyang, "
                "halted since the pandemic, with the first departure on Tuesday covering about "
                "10,000 kilometres.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Russia shipped over 1 million barrels of oil to North Korea, breaching UN cap",
                "Russia has supplied North Korea with more than 1 million barrels of oil since "
                "March, exceeding the annual limit set by UN sanctions, according to satellite "
                "imagery analysed by the Open Source Centre think tank.",
            ),
            (
                "Satellite images show Russian oil deliveries to North Korea break UN cap",
                "North Korea received over 1 million barrels of oil from Russia this year, well "
                "above the UN ceiling of 500,000, a report by the Open Source Centre said, based "
                "on satellite images of tankers at Vostochny port.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Seoul says North Korea has sent 3,000 more troops to Russia",
                "South Korea's military said North Korea dispatched about 3,000 additional "
                "soldiers to Russia in January and February, along with more missiles and "
                "artillery, despite heavy casualties.",
            ),
            (
                "North Korea sends additional 3,000 soldiers to Russia, South Korean military says",
                "North Korea has deployed roughly 3,000 more troops to Russia this year to "
                "replenish losses, South Korea's Joint Chiefs of Staff said, adding that "
                "Pyongyang also supplied more short-range missiles.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Russian Pacific Fleet ships make port call at North Korea's Wonsan",
                "A detachment of Russian Pacific Fleet warships docked at the North Korean port "
                "of Wonsan for a friendly visit, the first such port call in years, Russia's "
                "defence ministry said.",
            ),
            (
                "Russian warships visit Wonsan port in North Korea",
                "Warships from Russia's Pacific Fleet arrived in Wonsan on the North Korean east "
                "coast for a goodwill visit, the defence ministry in Moscow said on Monday.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Russia and North Korea sign healthcare cooperation agreement",
                "Russian and North Korean health ministers signed an agreement on medical "
                "cooperation in Pyongyang covering pharmaceuticals, training of doctors and joint "
                "research, the Russian health ministry said.",
            ),
            (
                "Moscow, Pyongyang agree to expand medical and pharmaceutical ties",
                "Russia's health minister Mikhail Murashko and his North Korean counterpart "
                "agreed in Pyongyang to cooperate on medicines, doctor training and research, "
                "according to a ministry statement.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Russian defence minister Belousov meets Kim Jong Un in Pyongyang",
                "Russia's defence minister Andrei Belousov held talks with Kim Jong Un in "
                "Pyongyang, KCNA reported on Saturday, with Kim pledging to support Moscow's war "
                "in Ukraine.",
            ),
            (
                "Kim Jong Un vows support for Russia's war as Belousov visits",
                "North Korean leader Kim Jong Un told visiting Russian Defence Minister Andrei "
                "Belousov that Pyongyang will continue to back Moscow's military operation in "
                "Ukraine, state media said.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "North Korean foreign minister Choe Son Hui meets Putin in Moscow",
                "Vladimir Putin received North Korean Foreign Minister Choe Son Hui at the "
                "Kremlin, where they discussed a possible visit by Kim Jong Un to Russia, the "
                "Kremlin said.",
            ),
            (
                "Putin receives North Korea's top diplomat at Kremlin",
                "Choe Son Hui, North Korea's foreign minister, held talks with Vladimir Putin in "
                "the Kremlin on Monday. Kremlin spokesman Dmitry Peskov said Kim Jong Un's trip "
                "to Russia was discussed.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "North Korea confirms for first time it sent troops to fight for Russia",
                "North Korea's ruling party acknowledged for the first time that it had deployed "
                "troops to help Russia retake the Kursk region, calling the soldiers heroes, KCNA "
                "reported on Monday.",
            ),
            (
                "Pyongyang acknowledges troop deployment to Kursk, praises soldiers as heroes",
                "Kim Jong Un's government admitted it sent soldiers to Russia's Kursk region, "
                "following Moscow's first public confirmation a day earlier, state media KCNA "
                "said.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Sanctions monitoring team reports North Korea–Russia arms transfers",
                "A new 11-nation sanctions monitoring team said North Korea sent Russia millions "
                "of artillery shells and ballistic missiles in 2024, in its first report since "
                "the UN panel was disbanded.",
            ),
            (
                "MSMT: Pyongyang supplied Moscow with millions of shells and dozens of missiles",
                "The Multilateral Sanctions Monitoring Team, set up by 11 countries after "
                "Russia's veto ended the UN expert panel, said in its first report that North "
                "Korea shipped millions of artillery rounds to Russia.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Russia gave North Korea air defence systems in exchange for troops, Seoul says",
                "Russia has provided North Korea with air defence equipment for Pyongyang's "
                "defences in return for troops sent to fight Ukraine, South Korea's national "
                "security adviser said.",
            ),
            (
                "South Korea: Moscow supplied Pyongyang with anti-aircraft missiles",
                "Seoul's national security adviser said Moscow has shipped anti-aircraft missiles "
                "and air defence equipment to North Korea as payment for its deployment of "
                "soldiers.",
            ),
        ],
    ),
    (
        "nkru",
        [
            (
                "Primorye governor Kozhemyako visits Pyongyang to boost trade",
                "Oleg Kozhemyako, governor of Russia's Primorye region, arrived in Pyongyang for "
                "talks on trade, tourism and labour, the regional government said.",
            ),
            (
                "Russian Far East governor in North Korea for trade and tourism talks",
                "The governor of Primorye, Oleg Kozhemyako, is visiting North Korea to discuss "
                "expanding trade, tourist flows and the use of North Korean workers.",
            ),
        ],
    ),
    (
        "nk",
        [
            (
                "Kim Jong Un orders mass production of suicide attack drones",
                "North Korean leader Kim Jong Un inspected a test of AI-equipped suicide drones "
                "and called for serial production, state media said, amid concerns about lessons "
                "learned from the war in Ukraine.",
            ),
            (
                "North Korea's Kim watches drone tests, calls for mass production",
                "Kim Jong Un oversaw testing of new attack drones and urged the country's defence "
                "industry to mass-produce them, KCNA said on Friday.",
            ),
        ],
    ),
    (
        "nk",
        [
            (
                "North Korea fires new Hwasong-19 ICBM into sea",
                "North Korea test-fired its new solid-fuel Hwasong-19 intercontinental ballistic "
                "missile, which flew for 86 minutes before falling into the sea off its east "
                "coast, Japan and South Korea said.",
            ),
            (
                "UPDATE 3-North Korea launches ICBM, longest flight time yet",
                "North Korea launched an intercontinental ballistic missile that flew a record 86 "
                "minutes, according to Japan's defence ministry, days before the US election. "
                "Pyongyang later named it the Hwasong-19.",
            ),
        ],
    ),
    (
        "other",
        [
            (
                "Typhoon Shanshan makes landfall in southern Japan",
                "Typhoon Shanshan made landfall on the southern Japanese island of Kyushu on "
                "Thursday, bringing torrential rain and winds, with authorities urging millions "
                "of residents to evacuate.",
            ),
            (
                "Millions told to evacuate as typhoon Shanshan hits Kyushu",
                "Japanese authorities issued evacuation orders for millions of people as Typhoon "
                "Shanshan struck Kyushu with heavy rain and powerful winds.",
            ),
        ],
    ),
    (
        "other",
        [
            (
                "Kospi slides 3% as chip stocks tumble",
                "South Korea's benchmark Kospi index fell more than 3 percent on Monday, led by "
                "steep losses in Samsung Electronics and SK Hynix as global chip shares sold off.",
            ),
            (
                "Seoul shares fall sharply on chipmaker losses",
                "Seoul stocks dropped over 3% with Samsung Electronics and SK Hynix leading the "
                "decline amid a global selloff in semiconductor shares.",
            ),
        ],
    ),
    (
        "other",
        [
            (
                "Son Heung-min double sends South Korea past Jordan",
                "Son Heung-min scored two goals as South Korea beat Jordan 2-0 in a World Cup "
                "qualifier in Amman on Tuesday.",
            ),
            (
                "South Korea defeat Jordan 2-0 in World Cup qualifier, Son scores twice",
                "Tottenham captain Son Heung-min netted both goals in South Korea's 2-0 victory "
                "over Jordan in Amman.",
            ),
        ],
    ),
    (
        "other",
        [
            (
                "Samsung Electronics quarterly profit jumps on memory chip recovery",
                "Samsung Electronics reported a sharp rise in second-quarter operating profit as "
                "prices of memory chips rebounded on demand for AI servers.",
            ),
            (
                "Samsung's Q2 operating profit surges as AI boosts chip prices",
                "Samsung Electronics said its April–June operating profit rose more than tenfold "
                "from a year earlier, helped by higher memory chip prices driven by AI demand.",
            ),
        ],
    ),
    (
        "ru",
        [
            (
                "Ким Чен Ын посетил посольство России в Пхеньяне",
                "Лидер КНДР Ким Чен Ын посетил посольство России в Пхеньяне и встретился с послом "
                "Александром Мацегорой, сообщило ЦТАК.",
            ),
            (
                "Ким Чен Ын побывал в российском посольстве",
                "Северокорейский лидер Ким Чен Ын побывал в посольстве России в Пхеньяне, где "
                "провёл встречу с послом Мацегорой, передаёт ЦТАК.",
            ),
        ],
    ),
    (
        "ko",
        [
            (
                "북한, 동해상으로 탄도미사일 발사",
                "합동참모본부는 북한이 오늘 오전 동해상으로 "
                "단거리 탄도미사일 여러 발을 발사했다고 밝혔다.",
            ),
            (
                '합참 "북한, 동해상으로 단거리 탄도미사일 발사"',
                "북한이 동해상으로 단거리 탄도미사일을 발사했다고 "
                "합동참모본부가 밝혔다. 군은 추가 발사에 대비하고 있다.",
            ),
        ],
    ),
]

# Named in the brief: different North Korea–Russia stories of one week must stay apart.
HARD_NEGATIVES: list[tuple[Article, Article]] = [
    (
        ("Putin visits Pyongyang, signs defence pact", ""),
        ("North Korean troops spotted in Kursk", ""),
    ),
    (
        ("Russia vetoes UN panel renewal", ""),
        ("Russia and North Korea open Tumen road bridge", ""),
    ),
    (STORIES[0][1][0], STORIES[1][1][0]),  # the same two stories, with summaries
    (STORIES[2][1][0], STORIES[3][1][0]),
]


def _labelled_pairs() -> tuple[list[tuple[Article, Article]], ...]:
    """Same-story pairs, different-story pairs on one topic, and cross-topic pairs."""
    items = [(g, topic, art) for g, (topic, arts) in enumerate(STORIES) for art in arts]
    same, related, unrelated = [], [], []
    for (g1, t1, a1), (g2, t2, a2) in itertools.combinations(items, 2):
        if g1 == g2:
            same.append((a1, a2))
        elif {t1, t2} <= {"nk", "nkru"} or t1 == t2:
            related.append((a1, a2))
        elif {t1, t2} & {"ru", "ko"}:
            continue  # different languages never share tokens: no information
        else:
            unrelated.append((a1, a2))
    return same, related, unrelated


SAME, RELATED, UNRELATED = _labelled_pairs()


def _merged(first: Article, second: Article) -> bool:
    """The full path: index the first article as story 1, then look the second one up."""
    index = StoryIndex()
    index.add(1, fingerprint(*first))
    fp = fingerprint(*second)
    return best_match(fp, index.candidates(fp)) == 1


def _rate(pairs: list[tuple[Article, Article]]) -> float:
    return sum(_merged(a, b) for a, b in pairs) / len(pairs)


def test_labelled_set_is_big_enough() -> None:
    assert len(SAME) >= 25
    assert len(RELATED) >= 25
    assert len(UNRELATED) >= 25


def test_same_story_recall() -> None:
    # 0.95 with the shipped SCHEME; other hash seeds give 0.80-0.975 (mean 0.92) on this set.
    assert _rate(SAME) >= 0.85


def test_same_topic_false_merge_rate() -> None:
    assert _rate(RELATED) <= 0.05


def test_cross_topic_never_merges() -> None:
    assert _rate(UNRELATED) == 0.0


@pytest.mark.parametrize(("first", "second"), HARD_NEGATIVES)
def test_named_different_stories_stay_apart(first: Article, second: Article) -> None:
    assert not _merged(first, second)
    assert not _merged(second, first)


def test_stream_builds_one_story_per_group() -> None:
    """Feed every article through the pipeline in turn; most groups end up as one story."""
    index = StoryIndex()
    story_of: dict[int, int] = {}  # article number -> story id
    group_of: dict[int, int] = {}
    articles = [(g, art) for g, (_, arts) in enumerate(STORIES) for art in arts]
    for n, (group, art) in enumerate(articles):
        fp = fingerprint(*art)
        story = best_match(fp, index.candidates(fp))
        story_of[n] = story if story is not None else n
        group_of[n] = group
        index.add(story_of[n], fp)
    pairs = list(itertools.combinations(story_of, 2))
    same = [(a, b) for a, b in pairs if group_of[a] == group_of[b]]
    diff = [(a, b) for a, b in pairs if group_of[a] != group_of[b]]
    assert sum(story_of[a] == story_of[b] for a, b in same) / len(same) >= 0.85
    assert sum(story_of[a] == story_of[b] for a, b in diff) / len(diff) <= 0.01


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Russia and North Korea open bridge", "Russia, North Korea opened bridges"),
        ("N. Korea's Kim Jong Un meets Putin", "North Korean leader Kim meets Vladimir Putin"),
        ("UPDATE 1-Seoul says 3,000 troops sent", "Seoul says 3000 troops sent - Reuters"),
    ],
)
def test_normalisation_makes_variants_meet(a: str, b: str) -> None:
    assert fingerprint(a, "").features == fingerprint(b, "").features


def test_signature_is_identical_in_another_process() -> None:
    title, summary = STORIES[0][1][0]
    code = (
        "import sys; from bot.core.cluster import fingerprint; "
        "fp = fingerprint(sys.argv[1], sys.argv[2]); "
        "print(fp.signature.hex()); print(*fp.band_keys)"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code, title, summary],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env=env,
    ).stdout.split("\n")
    fp = fingerprint(title, summary)
    assert out[0] == fp.signature.hex()
    assert tuple(int(k) for k in out[1].split()) == fp.band_keys


def test_shapes_and_band_keys_fit_bigint() -> None:
    for _, arts in STORIES:
        for art in arts:
            fp = fingerprint(*art)
            assert len(fp.signature) == 4 * NUM_PERM
            assert len(fp.band_keys) == BANDS
            assert all(-(2**63) <= k < 2**63 for k in fp.band_keys)
            # The band index is part of the key: band i never meets band j.
            assert [k >> 56 for k in fp.band_keys] == list(range(BANDS))


def test_similarity_of_identical_and_unrelated() -> None:
    a = fingerprint(*STORIES[0][1][0]).signature
    b = fingerprint(*STORIES[-3][1][0]).signature
    assert similarity(a, a) == 1.0
    assert similarity(a, b) < 0.1
    assert similarity(a, b"") == 0.0


@pytest.mark.parametrize(("title", "summary"), [("", ""), ("   ", ""), ("!!!", "..."), ("a", "")])
def test_empty_text_neither_crashes_nor_matches(title: str, summary: str) -> None:
    fp = fingerprint(title, summary)
    assert fp.band_keys == ()
    assert best_match(fp, [(1, fp.signature)]) is None
    assert similarity(fp.signature, fp.signature) == 0.0


def test_short_titles_do_not_merge_everything() -> None:
    index = StoryIndex()
    titles = ["Sanctions", "Missiles", "Kursk", "Update", "Putin visits Pyongyang"]
    for sid, title in enumerate([*titles, "Putin visits Beijing"]):
        fp = fingerprint(title, "")
        assert best_match(fp, index.candidates(fp)) is None
        index.add(sid, fp)
    assert len(index) == 0  # too little text to index at all


def test_title_only_articles_still_cluster() -> None:
    first = fingerprint("Russia and North Korea open first road bridge over Tumen river", "")
    second = fingerprint("UPDATE 1-North Korea, Russia open Tumen river road bridge", "")
    other = fingerprint("Russia vetoes renewal of UN panel on North Korea sanctions", "")
    assert best_match(second, [(1, first.signature)]) == 1
    assert best_match(other, [(1, first.signature)]) is None


def test_best_match_picks_the_most_similar_candidate() -> None:
    target = fingerprint(*STORIES[3][1][0])
    near = fingerprint(*STORIES[3][1][1]).signature
    far = fingerprint(*STORIES[2][1][0]).signature
    assert best_match(target, [(7, far), (8, near)]) == 8
    assert best_match(target, [(7, far)]) is None
    assert best_match(target, []) is None
    assert best_match(target, [(9, b"\x00" * 8)]) is None  # another scheme's signature


def test_story_index_window() -> None:
    index = StoryIndex()
    old, new = fingerprint(*STORIES[3][1][0]), fingerprint(*STORIES[5][1][0])
    index.add(1, old, seen_at=100.0)
    index.add(2, new, seen_at=200.0)
    assert index.remove_older_than(150.0) == 1
    assert len(index) == 1
    probe = fingerprint(*STORIES[3][1][1])
    assert all(sid != 1 for sid, _ in index.candidates(probe))
    assert index.candidates(new)[0][0] == 2


def test_story_index_keeps_every_article_of_a_story() -> None:
    index = StoryIndex()
    first, second = (fingerprint(*art) for art in STORIES[2][1][:2])
    index.add(5, first, seen_at=10.0)
    index.add(5, second, seen_at=20.0)
    assert len(index) == 1
    third = fingerprint(*STORIES[2][1][2])
    assert {sid for sid, _ in index.candidates(third)} <= {5}
    assert len(index.candidates(first)) == 2  # both signatures of story 5
    assert index.remove_older_than(15.0) == 0  # last seen at 20
    assert index.remove_older_than(25.0) == 1
    assert index.candidates(first) == []
    assert index.candidates(second) == []


def test_fingerprint_is_a_value() -> None:
    fp = fingerprint(*STORIES[0][1][0])
    assert isinstance(fp, Fingerprint)
    assert fp == fingerprint(*STORIES[0][1][0])


def test_the_window_forgets_only_stories_not_seen_again() -> None:
    index = cluster.StoryIndex()
    texts = [
        ("Tumen River road bridge opens to lorries", "Khasan and Tumangang linked by road"),
        ("Security Council veto ends sanctions panel", "Monitoring mandate expires in April"),
        ("Freight trains resume to Rajin port", "Coal and containers move by rail again"),
        ("Tourists fly from Vladivostok to Wonsan", "Beach resort receives its first groups"),
    ]
    prints = [cluster.fingerprint(title, summary) for title, summary in texts]
    assert all(p.band_keys for p in prints)
    for story_id, p in enumerate(prints, start=1):
        index.add(story_id, p, seen_at=100.0)
    index.touch(2, 300.0)  # seen again: stays
    index.add(3, prints[2], seen_at=250.0)  # a later report of story 3: stays
    assert index.remove_older_than(200.0) == 2  # stories 1 and 4
    assert len(index) == 2
    assert index.candidates(prints[0]) == [] and index.candidates(prints[3]) == []
    assert {sid for sid, _ in index.candidates(prints[1])} == {2}
    assert index.remove_older_than(200.0) == 0  # stale heap entries count nothing twice
    assert index.remove_older_than(301.0) == 2
    assert len(index) == 0
