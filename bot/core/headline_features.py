"""The features of a headline for story clustering: which words say what a story is about.

Title and summary are NFKC-normalised and casefolded; wire markers ("UPDATE 1-", "(LEAD)",
"Reuters:", " - Outlet") are dropped, multi-word names joined ("N. Korea", "DPRK" -> nkorea;
"Kim Jong Un" -> kim), stopwords removed (English, a few Russian and Korean, weekdays,
reporting verbs, outlet names), Latin words lightly stemmed and cut to 6 letters
("bridges"/"bridge", "opened"/"opens", "renewal"/"renew" meet), a few headline synonyms joined
(troops/soldiers, pact/treaty), Cyrillic words cut to 5 letters, Hangul words split into
syllable bigrams (particles glue onto nouns), numbers kept ("3,000" -> 3000). The feature set
is every title token plus the first `SUMMARY_TOKENS` summary tokens, so a title token weighs
more than a summary token (a title is short). Doubling title tokens or adding title bigrams
separated the labelled pairs worse: outlets reword and reorder titles.

Changing anything here alters signatures: `bot.core.minhash.SCHEME` must change with it.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata

SUMMARY_TOKENS = 30
STEM_LENGTH = 6
_SUMMARY_CHARS = 20 * SUMMARY_TOKENS  # comfortably more text than SUMMARY_TOKENS words

# Wire-service markers carry no content and differ between copies of one story.
_PREFIX_RE = re.compile(
    r"\s*(?:(?:update|corrected|refile|exclusive|breaking|urgent|analysis|factbox|explainer"
    r"|insight|live|watch|video)\s*\d*\s*[-:–—|]\s*)+",
    re.IGNORECASE,
)
_MARKER_RE = re.compile(r"\((?:lead|urgent|\d+(?:st|nd|rd|th)\s*ld|update\s*\d*)\)", re.IGNORECASE)
_SUFFIX_SEPARATORS = (" - ", " | ", " – ", " — ")
_US_RE = re.compile(r"\bU\.?S\.?(?=\W|$)")
_GROUPED_NUMBER_RE = re.compile(r"\d{1,3}(?:[,.'’]\d{3})+")
_WORD_RE = re.compile(r"\w+")
_LATIN_RE = re.compile(r"[a-z]+")
_CYRILLIC_RE = re.compile(r"[а-яё]+")
_HANGUL_RE = re.compile(r"[\uac00-\ud7a3]+")

# str.translate and str.split run at C speed; a regex tokeniser costs several times more.
# Commas, full stops and apostrophes stay, so "10,000" survives as one word; _stems, which
# is cached, splits them and any rarer symbol off.
_KEPT = ",.'’"
_PUNCTUATION = "".join(chr(i) for i in range(128) if not chr(i).isalnum() and chr(i) not in _KEPT)
_PUNCTUATION += "–—‘“”«»…·•‐‑‒―"
_TO_SPACES = str.maketrans(_PUNCTUATION, " " * len(_PUNCTUATION))
_NO_SEPARATORS = str.maketrans("", "", _KEPT)

# Outlets shorten these names differently ("Kim", "Kim Jong Un", "N. Korea", "DPRK"). The
# leading space anchors each phrase at the start of a word.
_PHRASES = (
    (" kim jong un", " kim"),
    (" vladimir putin", " putin"),
    (" sergei ", " "),
    (" north korea", " nkorea"),
    (" n. korea", " nkorea"),
    (" n.korea", " nkorea"),
    (" south korea", " skorea"),
    (" s. korea", " skorea"),
    (" s.korea", " skorea"),
    (" u.n.", " un"),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_STOP_EN = frozenset(
    _words(
        """
    a an the and or but nor of to in on at by for from with without into onto over under
    about after before during since until than as via per amid among between against
    is are was were be been being am has have had having do does did will would shall should
    can could may might must it its this that these those there here he she they we you i me
    him her them his their our your who whom whose which what when where why how not no yes
    so if then also just more most very much many some any all each other such own same
    only both either neither again further once new says said say saying tells told reports
    reported report according amp first year time state media official leader president
    country government people
    monday tuesday wednesday thursday friday saturday sunday today yesterday week
    reuters ap afp yonhap tass ria novosti kcna bbc cnn nk news guardian interfax bloomberg
    update exclusive lead ld
    """
    )
)
_STOP_RU = frozenset(_words("и в во не что на с со как а к у за по от о об из до для при это"))
_STOP_KO = frozenset(_words("및 등 것 수 위해 대한 이번 지난 오늘 밝혔다 했다 있다"))
_STOPWORDS = _STOP_EN | _STOP_RU | _STOP_KO

_DERIVATIONAL = _words("ation ition ment ness ity ery ary ive ous al er ly")

# Spelling variants, irregular verbs and headline synonyms (keys are stems): outlets
# rephrase one fact with these, and the truncating stemmer cannot join them on its own.
_ALIASES = {
    "korean": "korea",
    "nkorean": "nkorea",
    "skorean": "skorea",
    "dprk": "nkorea",
    "rok": "skorea",
    "defens": "defenc",
    "labor": "labour",
    "zelenskiy": "zelensky",
    "kiev": "kyiv",
    "km": "kilome",
    "soldi": "troop",
    "pact": "treaty",
    "accord": "treaty",
    "ambass": "envoy",
    "restar": "resum",
    "vessel": "ship",
    "arm": "weapon",
    "muniti": "weapon",
    "ammuni": "weapon",
    "fir": "launch",
    "sent": "send",
    "met": "meet",
    "gave": "giv",
    "given": "giv",
    "took": "tak",
    "taken": "tak",
    "held": "hold",
    "struck": "strik",
    "won": "win",
    "fell": "fall",
    "drop": "fall",
    "slid": "fall",
    "tumbl": "fall",
    "slump": "fall",
    "plung": "fall",
    "rose": "ris",
    "jump": "ris",
    "surg": "ris",
    "soar": "ris",
}


def _strip_plural(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and len(word) > 3 and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _strip_inflection(word: str) -> str:
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            # "shipped" -> "ship", but "called" keeps its "ll".
            if word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            return word
    return word


def _stem_latin(word: str) -> str:
    # Light Porter-style stripping; the final cut to STEM_LENGTH absorbs the rest.
    word = _strip_inflection(_strip_plural(word))
    for suffix in _DERIVATIONAL:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word[:STEM_LENGTH]


@functools.lru_cache(maxsize=1 << 16)
def _stems(word: str) -> tuple[str, ...]:
    # Cached: a news vocabulary is small, and stemming in Python dominates the cost.
    if word in _STOPWORDS:
        return ()
    if not word.isalnum():
        if (core := word.strip(_KEPT)) != word:
            return _stems(core) if core else ()
        if _GROUPED_NUMBER_RE.fullmatch(word):
            return (word.translate(_NO_SEPARATORS),)  # "10,000" -> "10000"
        parts = _WORD_RE.findall(word.replace("_", " "))
        if parts != [word]:
            return tuple(itertools.chain.from_iterable(map(_stems, parts)))
    if _LATIN_RE.fullmatch(word):
        stem = _ALIASES.get(s := _stem_latin(word), s)
        return () if len(word) == 1 or stem in _STOPWORDS else (stem,)
    if _CYRILLIC_RE.fullmatch(word):
        return (word[:5],)
    if _HANGUL_RE.fullmatch(word) and len(word) > 2:
        # Particles glue onto Korean nouns; syllable bigrams still overlap across forms.
        return tuple(word[i : i + 2] for i in range(len(word) - 1))
    return (word,)


def _clean_title(title: str) -> str:
    if prefix := _PREFIX_RE.match(title):
        title = title[prefix.end() :]
    if "(" in title:
        title = _MARKER_RE.sub(" ", title)
    for separator in _SUFFIX_SEPARATORS:
        head, _, tail = title.rpartition(separator)
        # Aggregators append " - Outlet"; a short tail after a long head is taken for one.
        if len(tail.split()) <= 4 and len(head.split()) >= 4:
            return head
    return title


def _tokens(text: str, limit: int | None = None) -> list[str]:
    """The feature tokens of `text`, in order; only the first `limit` if given."""
    if "US" in text or "U.S" in text:
        text = _US_RE.sub(" usa ", text)  # before casefold, which would make it "us"
    text = text.casefold().replace("'s ", " ").replace("’s ", " ")
    joined = " " + text.translate(_TO_SPACES)
    for phrase, replacement in _PHRASES:
        joined = joined.replace(phrase, replacement)
    # Lazily: words past the first `limit` tokens are never stemmed.
    tokens = itertools.chain.from_iterable(map(_stems, joined.split()))
    return list(itertools.islice(tokens, limit))


def features(title: str, summary: str) -> frozenset[str]:
    """The feature set of an article: every title token, then the summary's first tokens."""
    title_tokens = _tokens(_clean_title(unicodedata.normalize("NFKC", title)))
    # Only the lead of a long summary is read: later text diverges between outlets.
    lead = unicodedata.normalize("NFKC", summary[:_SUMMARY_CHARS])
    return frozenset(title_tokens).union(_tokens(lead, SUMMARY_TOKENS))
