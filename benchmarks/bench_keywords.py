"""PF1: keyword rules on social posts (``KeywordMatcher.find``) as the keywords grow.

Figures, all from one run:

- ``keywords.find@K``: :meth:`KeywordMatcher.find` on 20,000 social posts of 140 to 280
  characters (English, Japanese and mixed, with emoji, full-width and half-width forms; about
  30% carry a sentence with a watched keyword), with K = 10, 1,000 and 10,000 keywords in
  rules of 10 (ten real ones, then made-up Latin, katakana and kanji words drawn from 2,000
  Han characters, so the list starts with many distinct characters, as a real Japanese list
  does), in items a second on one core. The note splits the figure into posts with a match
  and posts without. The baseline is a compiled :mod:`re` alternation of the same
  normalised keywords run with ``finditer`` over the normalised text: it does less (no word
  boundaries, no overlapping matches, no positions in the original text) and slows down as
  keywords are added. PF1 asks for at least 100,000 items/s with 10,000 keywords.
- ``keywords.find@K.vs-scan``: the same figure against the slow, obvious scan (every keyword
  looked for with ``str.find`` in the normalised text, then the boundary checks), the oracle
  of the tests.
- ``keywords.growth``: items/s with 10,000 keywords against items/s with 10. PF1: no more than
  2x slower, so the ratio must be at least 0.5.

The baselines cost time in proportion to the keywords, so with many keywords they run on the
first posts only (the note says how many); a rate is a rate. Before timing, the benchmark
checks that ``find`` and the scan agree on which rules fire. The sizes take turns in each of
the 5 rounds and each figure is the best round, so a burst of load from another process on a
shared machine does not skew one size (and the growth figure) only.

Run ``python benchmarks/bench_keywords.py --profile 10000`` to profile ``find`` with 10,000
keywords with :mod:`cProfile`.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from _harness import Result, Sample, Target, Timing, timed
from deskcore.policies.keywords import KeywordMatcher, KeywordRule, is_word_character, normalize

__all__ = ["Sizes", "build_keywords", "build_posts", "build_rules", "run"]

PF1_ITEMS_PER_SECOND = 100_000.0
PF1_GROWTH = 0.5
"""PF1: with 10,000 keywords no more than 2x slower than with 10 (items/s ratio >= 0.5)."""
KEYWORDS_PER_RULE = 10
SCAN_BUDGET = 2_500_000
"""The baselines run on at most this many (keyword, post) pairs a repeat."""


@dataclass(frozen=True)
class Sizes:
    """How much work one run does."""

    posts: int
    keywords: tuple[int, ...]
    """Keyword counts; the growth figure compares the last with the first."""
    repeats: int


FULL = Sizes(posts=20_000, keywords=(10, 1_000, 10_000), repeats=5)
QUICK = Sizes(posts=200, keywords=(10, 100, 1_000), repeats=1)

# -- the keywords --------------------------------------------------------------------------------

# What a social team would watch for; every set starts with these, so even 10 keywords fire.
_REAL = (
    "refund",
    "返金",
    "broken",
    "壊れ",
    "cancel",
    "キャンセル",
    "iPhoneケース",
    "never arrived",
    "届かない",
    "最悪",
)
_SYLLABLES = [consonant + vowel for consonant in "bdgklmnprstvz" for vowel in "aeiou"]
_KANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
_KANJI_POOL = 2_000
"""Distinct Han characters the made-up Japanese words draw from: a real list of thousands of
Japanese keywords starts with a thousand or more different characters, which is what makes
some automata slow (a node's children scanned one by one)."""


def build_keywords(count: int, *, seed: int = 2026) -> list[str]:
    """``count`` distinct keywords: the real ones, then made-up Latin, katakana and kanji words."""
    rng = random.Random(seed)
    kanji = [chr(code) for code in rng.sample(range(0x4E00, 0x9FA0), _KANJI_POOL)]
    words = list(_REAL[:count])
    seen = {normalize(w) for w in words}
    while len(words) < count:
        roll = rng.random()
        if roll < 0.5:
            word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        elif roll < 0.7:
            word = "".join(rng.choice(_KANA) for _ in range(rng.randint(3, 5)))
        else:
            word = "".join(rng.choice(kanji) for _ in range(rng.randint(2, 3)))
        if normalize(word) not in seen:
            seen.add(normalize(word))
            words.append(word)
    return words


def build_rules(keywords: Sequence[str]) -> list[KeywordRule]:
    """The keywords in rules of :data:`KEYWORDS_PER_RULE`."""
    return [
        KeywordRule(
            id=f"rule-{n // KEYWORDS_PER_RULE}", keywords=keywords[n : n + KEYWORDS_PER_RULE]
        )
        for n in range(0, len(keywords), KEYWORDS_PER_RULE)
    ]


# -- the posts -----------------------------------------------------------------------------------

_ENGLISH = (
    "@acme where is my order #{n}? It has been two weeks.",
    "Love the new colour, thanks team! ✨✨",
    "The app keeps crashing since the last update, please fix it.",
    "Is the store on Main St open on Sunday?",
    "Best customer service ever, thank you Sarah 🙏",
    "Just picked up the iPhone 15 case in blue, looks great",
    "Check this out https://example.com/p/{n}?ref=share",
    "Ordered on Monday, still says processing. Any update?",
    "Does the winter jacket come in XL? Asking for my brother.",
    "Shoutout to the night shift at the downtown store 👏",
    "RT @friend: this coffee maker changed my mornings ☕",
    "What time does the sale start tomorrow?",
)
_ENGLISH_ISSUES = (
    "My package never arrived and nobody answers the phone 😡",
    "Can I get a refund for order {n}? The screen came broken.",
    "How do I cancel my subscription? Can't find it in settings.",
)
_JAPANESE = (
    "お店の営業時間を知りたいです。",
    "今日も使ってます♪ #お気に入り #acme",
    "アプリがすぐ落ちます。アップデートしてから調子が悪い。",
    "会員登録のメールが来ません。",
    "送料無料キャンペーンはいつまでですか？",
    "ＡＢＣストアで購入しました。ポイントは付きますか？",
    "新作のスニーカー、サイズ感どうですか？",
    "駅前の店舗、店員さんがとても親切でした😊",
    "ｾｰﾙ情報まだですか？楽しみにしてます！",
    "注文番号{n}、配送状況を確認したいです。",
    "新型iPhone用のケースはいつ発売ですか",
    "昨日届きました、ありがとうございました🙏",
)
_JAPANESE_ISSUES = (
    "注文した商品がまだ届かないです。注文番号は{n}です。",
    "サポートの対応が最悪でした😢",
    "ﾍﾝﾋﾟﾝしたいのですが、返金はどうすればいいですか…",
    "届いた商品が壊れていました。交換できますか？",
    "新型iPhoneケース買いました！でもキャンセルしたい",
)
ISSUE_SHARE = 0.3
"""The share of posts that get one sentence about a problem (the real keywords live there)."""


def build_posts(count: int, *, seed: int = 2026) -> list[str]:
    """``count`` social posts of 140-280 characters: English, Japanese or both.

    About :data:`ISSUE_SHARE` of them carry one sentence with a real keyword; the others can
    still hit made-up keywords by chance, as real posts hit real lists.
    """
    rng = random.Random(seed)
    posts: list[str] = []
    while len(posts) < count:
        roll = rng.random()
        pool: tuple[str, ...]
        issues: tuple[str, ...]
        if roll < 0.4:
            pool, issues = _ENGLISH, _ENGLISH_ISSUES
        elif roll < 0.8:
            pool, issues = _JAPANESE, _JAPANESE_ISSUES
        else:
            pool, issues = _ENGLISH + _JAPANESE, _ENGLISH_ISSUES + _JAPANESE_ISSUES
        sentences = [rng.choice(issues)] if rng.random() < ISSUE_SHARE else []
        length = rng.randint(140, 280)
        while len(" ".join(sentences)) < length:
            sentence = rng.choice(pool).format(n=rng.randrange(10_000, 99_999))
            sentences.insert(rng.randrange(len(sentences) + 1), sentence)
        posts.append(" ".join(sentences)[:280])
    return posts


# -- the baselines -------------------------------------------------------------------------------

_ScanKey = tuple[str, bool, bool, str]


def _scan_keys(rules: Sequence[KeywordRule]) -> list[_ScanKey]:
    keys = []
    for rule in rules:
        for keyword in rule.keywords:
            key = normalize(keyword).strip()
            keys.append((key, is_word_character(key[0]), is_word_character(key[-1]), rule.id))
    return keys


def _scan(keys: Sequence[_ScanKey], text: str) -> set[str]:
    """The obvious way: look for every keyword in turn, then check its boundaries."""
    norm = normalize(text)
    fired: set[str] = set()
    for key, check_start, check_end, rule_id in keys:
        at = norm.find(key)
        while at >= 0:
            end = at + len(key)
            if not (check_start and at and is_word_character(norm[at - 1])) and not (
                check_end and end < len(norm) and is_word_character(norm[end])
            ):
                fired.add(rule_id)
            at = norm.find(key, at + 1)
    return fired


def _regex(keys: Sequence[_ScanKey]) -> re.Pattern[str]:
    alternatives = sorted({key for key, *_ in keys}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, alternatives)))


# -- measuring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Size:
    keywords: int
    posts: int
    matched: int
    baseline_posts: int
    find: Timing
    find_matched: Timing
    find_clean: Timing
    regex: Timing
    scan: Timing


def _rate(seconds: float, items: int) -> float:
    return items / seconds


def _pass(body: Callable[[str], object], posts: Sequence[str]) -> Callable[[], None]:
    def one_pass() -> None:
        for post in posts:
            body(post)

    return one_pass


def _prepare(count: int, posts: list[str]) -> tuple[dict[str, Callable[[], None]], _Size]:
    """The timed passes for ``count`` keywords, and the size's counts (timings still empty)."""
    rules = build_rules(build_keywords(count))
    matcher = KeywordMatcher.compile(rules)
    keys = _scan_keys(rules)
    pattern = _regex(keys)
    few = posts[: max(50, min(len(posts), SCAN_BUDGET // count))]
    for post in few[:200]:
        assert matcher.matched_rule_ids(post) == _scan(keys, post), post

    def regex(text: str) -> object:
        return [m.span() for m in pattern.finditer(normalize(text))]

    matched = [post for post in posts if matcher.find(post)]
    clean = [post for post in posts if not matcher.find(post)]
    passes = {
        "find": _pass(matcher.find, posts),
        "find_matched": _pass(matcher.find, matched),
        "find_clean": _pass(matcher.find, clean),
        "regex": _pass(regex, few),
        "scan": _pass(lambda text: _scan(keys, text), few),
    }
    empty = Timing(())
    size = _Size(
        keywords=count,
        posts=len(posts),
        matched=len(matched),
        baseline_posts=len(few),
        find=empty,
        find_matched=empty,
        find_clean=empty,
        regex=empty,
        scan=empty,
    )
    return passes, size


def _measure(counts: Sequence[int], posts: list[str], repeats: int) -> list[_Size]:
    """Every pass of every size, ``repeats`` rounds, the sizes taking turns in each round.

    Taking turns spreads each size's repeats over the whole run, so a burst of load from
    another process on a shared machine does not land on one size only (and skew the growth
    figure); the best repeat of each is kept.
    """
    prepared = [_prepare(count, posts) for count in counts]
    samples: dict[tuple[int, str], list[Sample]] = {}
    for _ in range(repeats):
        for index, (passes, _size) in enumerate(prepared):
            for name, body in passes.items():
                samples.setdefault((index, name), []).append(timed(body))
    measured = []
    for index, (_passes, size) in enumerate(prepared):

        def timing(name: str, index: int = index) -> Timing:
            return Timing(tuple(samples[index, name]))

        measured.append(
            replace(
                size,
                find=timing("find"),
                find_matched=timing("find_matched"),
                find_clean=timing("find_clean"),
                regex=timing("regex"),
                scan=timing("scan"),
            )
        )
    return measured


def _size_results(size: _Size, largest: bool) -> list[Result]:
    rate = _rate(size.find.best, size.posts)
    median = _rate(size.find.median, size.posts)
    name = f"keywords.find@{size.keywords}"
    common = (
        f"{size.keywords:,} keywords, {size.posts:,} posts ({size.matched:,} with a match), "
        f"baseline on {size.baseline_posts:,} posts"
    )
    return [
        Result(
            name=name,
            value=rate,
            median=median,
            unit="items/s",
            better="higher",
            baseline_name="re alternation",
            baseline=_rate(size.regex.best, size.baseline_posts),
            target=Target(
                source="PF1",
                text=f">= {PF1_ITEMS_PER_SECOND:,.0f} items/s (PF1 states it at 10,000 keywords)",
                bound=PF1_ITEMS_PER_SECOND,
                at_least=True,
            )
            if largest
            else None,
            note=f"{common}; items/s by CPU time {_rate(size.find.best_cpu, size.posts):,.0f}; "
            f"posts with a match {_rate(size.find_matched.best, size.matched):,.0f} items/s, "
            f"without {_rate(size.find_clean.best, size.posts - size.matched):,.0f}",
        ),
        Result(
            name=f"{name}.vs-scan",
            value=rate,
            median=median,
            unit="items/s",
            better="higher",
            baseline_name="slow scan",
            baseline=_rate(size.scan.best, size.baseline_posts),
            note=f"{common}; the scan is str.find per keyword plus the boundary checks",
        ),
    ]


def _growth(small: _Size, large: _Size) -> Result:
    regex_growth = _rate(large.regex.best, large.baseline_posts) / _rate(
        small.regex.best, small.baseline_posts
    )
    return Result(
        name="keywords.growth",
        value=_rate(large.find.best, large.posts),
        median=_rate(large.find.median, large.posts),
        unit="items/s",
        better="higher",
        baseline_name=f"keywords.find@{small.keywords}",
        baseline=_rate(small.find.best, small.posts),
        target=Target(
            source="PF1",
            text=f">= {PF1_GROWTH:g}x (no more than 2x slower with "
            f"{large.keywords:,} keywords than with {small.keywords:,})",
            bound=PF1_GROWTH,
            at_least=True,
            on_ratio=True,
        ),
        note=f"find at {large.keywords:,} keywords over {small.keywords:,}; for the same "
        f"keywords the re alternation keeps {regex_growth:.3f}x of its speed",
    )


def run(quick: bool) -> list[Result]:
    """Measure keyword matching; ``quick`` uses tiny sizes (a smoke test, not a measurement)."""
    sizes = QUICK if quick else FULL
    posts = build_posts(sizes.posts)
    measured = _measure(sizes.keywords, posts, sizes.repeats)
    results: list[Result] = []
    for n, size in enumerate(measured):
        results.extend(_size_results(size, largest=n == len(measured) - 1))
    results.append(_growth(measured[0], measured[-1]))
    return results


def _profile(count: int, posts: int) -> None:
    """Print where ``find`` spends its time with ``count`` keywords."""
    matcher = KeywordMatcher.compile(build_rules(build_keywords(count)))
    texts = build_posts(posts)

    def body() -> None:
        for text in texts:
            matcher.find(text)

    profiler = cProfile.Profile()
    sample = timed(lambda: profiler.runcall(body))
    print(f"{posts / sample.wall:,.0f} items/s under the profiler with {count:,} keywords")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(20)


def main(argv: Sequence[str] | None = None) -> int:
    """``python benchmarks/bench_keywords.py --profile K``: profile ``find`` at K keywords."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--profile", type=int, metavar="K", default=10_000)
    parser.add_argument("--posts", type=int, default=20_000)
    args = parser.parse_args(argv)
    _profile(args.profile, args.posts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
