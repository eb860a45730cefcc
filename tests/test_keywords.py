"""Keyword matching (W1-W5): named cases, an oracle, positions, hostile input."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from deskcore.errors import InvalidModelError
from deskcore.policies import keywords as kw_module
from deskcore.policies.keywords import (
    MAX_KEYWORD_LENGTH,
    KeywordMatch,
    KeywordMatcher,
    KeywordRule,
    is_word_character,
    normalize,
)

Found = tuple[str, tuple[str, ...], int, int]


def matcher(*rules: KeywordRule) -> KeywordMatcher:
    return KeywordMatcher.compile(rules)


def rule(rule_id: str, *keywords: str, prefix: bool = False) -> KeywordRule:
    return KeywordRule(id=rule_id, keywords=keywords, prefix=prefix)


def found(m: KeywordMatcher, text: str) -> list[Found]:
    return [(x.keyword, x.rule_ids, x.start, x.end) for x in m.find(text)]


def spans(m: KeywordMatcher, text: str) -> list[str]:
    return [text[x.start : x.end] for x in m.find(text)]


# -- the oracle: slow and obvious ----------------------------------------------------------------

# Scripts written without spaces, by Unicode character name (independent of the module's
# code point ranges); right for every character the strategies below generate.
UNSPACED_NAMES = (
    "CJK",
    "HIRAGANA",
    "KATAKANA",
    "HALFWIDTH KATAKANA",
    "COMBINING KATAKANA",
    "IDEOGRAPHIC",
    "THAI",
    "LAO",
    "KHMER",
    "MYANMAR",
)


def oracle_word(char: str) -> bool:
    if char == "_":
        return True
    if unicodedata.category(char)[0] not in "LNM":
        return False
    return not unicodedata.name(char, "").startswith(UNSPACED_NAMES)


def oracle(rules: Sequence[KeywordRule], text: str) -> list[Found]:
    """Every keyword at every position of the normalised text, positions mapped plainly.

    A cut ``i`` of the original text is clean when ``text[:i]`` and ``text[i:]`` normalise
    apart; a match starts at the last clean cut at or before its normalised start and ends at
    the first clean cut at or after its normalised end.
    """
    norm = normalize(text)
    groups: dict[str, list[tuple[str, str, bool]]] = {}
    for r in rules:
        for keyword in r.keywords:
            groups.setdefault(normalize(keyword).strip(), []).append((keyword, r.id, r.prefix))
    cuts = {
        i: len(normalize(text[:i]))
        for i in range(len(text) + 1)
        if normalize(text[:i]) + normalize(text[i:]) == norm
    }
    result: set[Found] = set()
    for key, members in groups.items():
        for a in range(len(norm) - len(key) + 1):
            b = a + len(key)
            if norm[a:b] != key:
                continue
            if oracle_word(key[0]) and a > 0 and oracle_word(norm[a - 1]):
                continue
            end_ok = not (oracle_word(key[-1]) and b < len(norm) and oracle_word(norm[b]))
            fired = members if end_ok else [m for m in members if m[2]]
            if not fired:
                continue
            start = max(i for i, offset in cuts.items() if offset <= a)
            end = min(i for i, offset in cuts.items() if offset >= b)
            result.add((fired[0][0], tuple(sorted({m[1] for m in fired})), start, end))
    return sorted(result)


# -- W1: normalisation ---------------------------------------------------------------------------


def test_W1_normalize_is_nfkc_then_casefold() -> None:
    assert normalize("ＡＢＣ") == "abc"
    assert normalize("ﾍﾝﾋﾟﾝ") == "ヘンピン"
    assert normalize("Straße") == "strasse"
    assert normalize("㈱") == "(株)"


def test_W1_full_width_latin_matches_ascii_keyword_and_back() -> None:
    m = matcher(rule("r1", "ABC"), rule("r2", "ｒｅｆｕｎｄ"))
    assert found(m, "xx ＡＢＣ yy") == [("ABC", ("r1",), 3, 6)]
    assert found(m, "Refund now") == [("ｒｅｆｕｎｄ", ("r2",), 0, 6)]
    assert found(m, "abc") == [("ABC", ("r1",), 0, 3)]


def test_W1_half_width_kana_matches_full_width_keyword() -> None:
    m = matcher(rule("r1", "ヘンピン"))
    text = "至急ﾍﾝﾋﾟﾝお願いします"
    assert found(m, text) == [("ヘンピン", ("r1",), 2, 7)]
    assert spans(m, text) == ["ﾍﾝﾋﾟﾝ"]


def test_W1_half_width_keyword_matches_full_width_text() -> None:
    m = matcher(rule("r1", "ﾍﾝﾋﾟﾝ"))
    assert found(m, "ヘンピンしたい") == [("ﾍﾝﾋﾟﾝ", ("r1",), 0, 4)]


def test_W1_case_folding_goes_beyond_lower() -> None:
    m = matcher(rule("r1", "strasse"), rule("r2", "ΣΟΦΙΑ"))
    assert found(m, "Die STRAẞE ist") == [("strasse", ("r1",), 4, 10)]
    assert found(m, "σοφια") == [("ΣΟΦΙΑ", ("r2",), 0, 5)]


def test_W1_keyword_whitespace_around_is_ignored() -> None:
    m = matcher(rule("r1", "  refund\u3000"))
    assert found(m, "a refund") == [("  refund\u3000", ("r1",), 2, 8)]


# -- W2: word boundaries -------------------------------------------------------------------------


def test_W2_latin_keywords_match_on_word_boundaries() -> None:
    m = matcher(rule("r1", "refund"))
    assert spans(m, "I want a refund.") == ["refund"]
    assert spans(m, "refund") == ["refund"]
    assert spans(m, "(refund)") == ["refund"]
    assert spans(m, "refund_now") == []
    assert spans(m, "refunds") == []
    assert spans(m, "prerefund") == []
    assert spans(m, "refund2") == []


def test_W2_prefix_rules_match_the_start_of_longer_words() -> None:
    m = matcher(rule("r1", "refund", prefix=True))
    assert spans(m, "refunds") == ["refund"]
    assert spans(m, "Refunded?") == ["Refund"]
    assert spans(m, "prerefund") == []
    assert spans(m, "prerefunds") == []


def test_W2_cjk_keywords_match_anywhere() -> None:
    m = matcher(rule("ja", "返金"), rule("zh", "退款"), rule("kana", "ケース"))
    assert found(m, "返金してください") == [("返金", ("ja",), 0, 2)]
    assert found(m, "我要退款啊") == [("退款", ("zh",), 2, 4)]
    assert found(m, "スマホケースが") == [("ケース", ("kana",), 3, 6)]
    assert found(m, "abc返金xyz") == [("返金", ("ja",), 3, 5)]


def test_W2_mixed_keyword_checks_only_its_latin_end() -> None:
    m = matcher(rule("r1", "iPhoneケース"), rule("r2", "iPhone15ケース"), rule("r3", "iphone"))
    # "ケ" is not a word character of a spaced script: "iphone" ends on a boundary too.
    assert found(m, "新型iPhoneケースを買った") == [
        ("iphone", ("r3",), 2, 8),
        ("iPhoneケース", ("r1",), 2, 11),
    ]
    assert found(m, "ｉＰｈｏｎｅ１５ケース") == [("iPhone15ケース", ("r2",), 0, 11)]
    # "iphone" runs into "15": no boundary after its Latin end.
    assert found(m, "iPhone15ケース") == [("iPhone15ケース", ("r2",), 0, 11)]
    assert found(m, "xiPhoneケース") == []
    assert found(m, "iphoneが欲しい") == [("iphone", ("r3",), 0, 6)]


def test_W2_keyword_ending_in_cjk_or_emoji_needs_no_boundary_there() -> None:
    m = matcher(rule("r1", "sale中"), rule("r2", "win🎉"))
    assert spans(m, "sale中です") == ["sale中"]
    assert spans(m, "xsale中") == []
    assert spans(m, "win🎉abc") == ["win🎉"]


def test_W2_korean_is_a_spaced_script() -> None:
    m = matcher(rule("ko", "환불"))
    assert spans(m, "환불 해주세요") == ["환불"]
    assert spans(m, "빨리 환불!") == ["환불"]
    assert spans(m, "환불해주세요") == []


def test_W2_thai_matches_anywhere() -> None:
    m = matcher(rule("th", "คืนเงิน"))
    assert spans(m, "ขอคืนเงินด้วยครับ") == ["คืนเงิน"]


def test_W2_word_characters_follow_the_script() -> None:
    for char in "aZ9_éЖλ한":
        assert is_word_character(char), char
    for char in " !-。、返ケかー々ก🎉\u200d":
        assert not is_word_character(char), char


def test_W2_word_character_agrees_with_names_on_common_scripts() -> None:
    blocks = [(0x20, 0x250), (0x370, 0x530), (0xE00, 0xE80), (0x3040, 0x3100), (0xAC00, 0xAD00)]
    for first, last in blocks:
        for code in range(first, last):
            char = chr(code)
            if unicodedata.category(char) != "Cn":
                assert is_word_character(char) == oracle_word(char), hex(code)


# -- W3: the whole text --------------------------------------------------------------------------


def test_W3_long_texts_are_searched_to_the_end() -> None:
    m = matcher(rule("r1", "refund"), rule("r2", "返金"))
    text = "あ" * 100_000 + " refund " + "x " * 200_000 + "返金"
    assert found(m, text) == [
        ("refund", ("r1",), 100_001, 100_007),
        ("返金", ("r2",), len(text) - 2, len(text)),
    ]


def test_W3_emoji_and_astral_characters_count_as_one_position() -> None:
    m = matcher(rule("r1", "🎉"), rule("r2", "👍🏽"), rule("r3", "𠮷野家"), rule("r4", "refund"))
    text = "😀😀 refund 🎉𠮷野家👍🏽"
    assert found(m, text) == [
        ("refund", ("r4",), 3, 9),
        ("🎉", ("r1",), 10, 11),
        ("𠮷野家", ("r3",), 11, 14),
        ("👍🏽", ("r2",), 14, 16),
    ]


def test_W3_emoji_sequences_and_variation_selectors() -> None:
    m = matcher(rule("r1", "❤"), rule("r2", "👨‍👩‍👧"))
    text = "love ❤️ 👨‍👩‍👧‍👦"
    assert spans(m, text) == ["❤", "👨‍👩‍👧"]


# -- W4: one automaton ---------------------------------------------------------------------------


def test_W4_many_keywords_compile_once_and_match() -> None:
    words = [f"word{n}" for n in range(5000)] + [f"語{n}彙" for n in range(5000)]
    m = KeywordMatcher.compile([rule(f"r{n % 7}", *words[n::7]) for n in range(7)])
    assert spans(m, "see word123 and 語4999彙, not word12345x") == ["word123", "語4999彙"]


def test_W4_keywords_with_thousands_of_first_characters_match() -> None:
    # A Japanese list starts with many distinct characters (what slows some automata down).
    kanji = [chr(code) for code in range(0x4E00, 0x4E00 + 3000)]
    m = KeywordMatcher.compile([rule("r1", *(a + b for a, b in pairwise(kanji)))])
    text = "x" + "".join(kanji[100:103]) + "y"
    assert [(x.keyword, x.start, x.end) for x in m.find(text)] == [
        (kanji[100] + kanji[101], 1, 3),
        (kanji[101] + kanji[102], 2, 4),
    ]


def test_W4_a_matcher_without_rules_matches_nothing() -> None:
    assert KeywordMatcher.compile([]).find("anything") == ()


# -- W5: what a match reports --------------------------------------------------------------------


def test_W5_match_reports_keyword_rules_and_positions() -> None:
    m = matcher(rule("refunds", "refund", "返金"), rule("angry", "最悪"))
    matches = m.find("最悪。返金して refund")
    assert matches == (
        KeywordMatch(keyword="最悪", rule_ids=("angry",), start=0, end=2),
        KeywordMatch(keyword="返金", rule_ids=("refunds",), start=3, end=5),
        KeywordMatch(keyword="refund", rule_ids=("refunds",), start=8, end=14),
    )
    assert m.matched_rule_ids("最悪。返金して refund") == {"angry", "refunds"}


def test_W5_keywords_that_normalise_alike_report_the_first_spelling_and_all_rules() -> None:
    m = matcher(rule("z", "Refund"), rule("a", "REFUND", "ｒｅｆｕｎｄ"), rule("m", "refund"))
    assert found(m, "a refund") == [("Refund", ("a", "m", "z"), 2, 8)]


def test_W5_a_failed_end_boundary_reports_only_the_prefix_rules() -> None:
    m = matcher(rule("exact", "Refund"), rule("p1", "REFUND", prefix=True), rule("p2", "refund"))
    assert found(m, "refund") == [("Refund", ("exact", "p1", "p2"), 0, 6)]
    assert found(m, "refunds") == [("REFUND", ("p1",), 0, 6)]


def test_W5_overlapping_matches_are_all_reported_in_order() -> None:
    m = matcher(rule("a", "返金"), rule("b", "金額"), rule("c", "返金額"), rule("d", "new york"))
    assert found(m, "返金額") == [
        ("返金", ("a",), 0, 2),
        ("返金額", ("c",), 0, 3),
        ("金額", ("b",), 1, 3),
    ]
    assert spans(m, "new york new york") == ["new york", "new york"]


def test_W5_positions_cover_characters_that_normalise_to_several() -> None:
    m = matcher(rule("r1", "1"), rule("r2", "fi"), rule("r3", "ss"))
    assert found(m, "½") == [("1", ("r1",), 0, 1)]
    assert found(matcher(rule("r4", "⁄2")), "x½") == [("⁄2", ("r4",), 1, 2)]
    assert found(m, "ﬁ ß") == [("fi", ("r2",), 0, 1), ("ss", ("r3",), 2, 3)]


def test_W5_positions_inside_a_merged_chunk_are_as_tight_as_normalisation_allows() -> None:
    # a + grave + grave-below: NFC is "à" + grave-below, so "à" ends after two characters.
    text = "a\u0300\u0316"
    m = matcher(rule("r1", "à", prefix=True))
    assert found(m, text) == oracle(m.rules, text) == [("à", ("r1",), 0, 2)]


# -- properties: the fast matcher against the oracle ---------------------------------------------

LATIN = "abAＢ_1１"
CJK = "返金ケースヘﾍﾟﾝペ中ー"
THAI_KO = "คืน환불"
OTHER = " !、　🎉😀\u200d½ßé\u0301"
KEYWORD_PIECES = ["ab", "返金", "ケース", "ペン", "ab返金", "🎉", "환불", "คืน", "a_1", "ss"]


@st.composite
def rule_sets(draw: st.DrawFn) -> list[KeywordRule]:
    keyword = st.one_of(
        st.sampled_from(KEYWORD_PIECES),
        st.text(alphabet=LATIN + CJK + THAI_KO + "🎉ß", min_size=1, max_size=3),
    ).filter(lambda k: bool(normalize(k).strip()))
    count = draw(st.integers(min_value=1, max_value=4))
    return [
        KeywordRule(
            id=f"r{n}",
            keywords=draw(st.lists(keyword, min_size=1, max_size=4)),
            prefix=draw(st.booleans()),
        )
        for n in range(count)
    ]


@st.composite
def texts_for(draw: st.DrawFn, rules: list[KeywordRule]) -> str:
    spellings = [k for r in rules for k in r.keywords]
    variants = spellings + [k.upper() for k in spellings]
    piece = st.one_of(
        st.sampled_from(variants),
        st.sampled_from([f" {v} " for v in variants]),
        st.text(alphabet=LATIN + CJK + THAI_KO + OTHER, max_size=3),
    )
    return "".join(draw(st.lists(piece, max_size=8)))


def test_W2_W5_fast_matcher_agrees_with_the_oracle() -> None:
    counts: Counter[str] = Counter()

    @given(st.data())
    def check(data: st.DataObject) -> None:
        rules = data.draw(rule_sets())
        text = data.draw(texts_for(rules))
        m = KeywordMatcher.compile(rules)
        result = m.find(text)
        expected = oracle(rules, text)
        got = sorted((x.keyword, x.rule_ids, x.start, x.end) for x in result)
        assert got == expected
        assert [(x.start, x.end) for x in result] == sorted((x.start, x.end) for x in result)
        counts["examples"] += 1
        if expected:
            counts["matched"] += 1
            event("has matches")

    check()
    assert counts["matched"] >= counts["examples"] // 3, counts


def test_W1_W5_positions_map_back_to_the_original_text() -> None:
    @given(st.data())
    def check(data: st.DataObject) -> None:
        rules = data.draw(rule_sets())
        text = data.draw(texts_for(rules))
        keys = {k: normalize(k).strip() for r in rules for k in r.keywords}
        for match in KeywordMatcher.compile(rules).find(text):
            assert 0 <= match.start < match.end <= len(text)
            assert keys[match.keyword] in normalize(text[match.start : match.end])

    check()


def test_W1_W5_aligned_matches_map_back_exactly() -> None:
    alphabet = "abcＡＢｃ返金ｶﾞｹﾟﾍﾝｰ🎉 、"

    @given(st.text(alphabet=alphabet, max_size=20), st.text(alphabet=alphabet, max_size=20))
    def check(before: str, after: str) -> None:
        m = matcher(rule("r1", "ｶﾞ返金ab"))
        text = before + " ｶﾞ返金ＡＢ " + after
        match = next(x for x in m.find(text) if x.start == len(before) + 1)
        assert normalize(text[match.start : match.end]) == normalize("ｶﾞ返金ab")

    check()


def test_W1_stable_characters_need_case_folding_only() -> None:
    unstable = kw_module._UNSTABLE
    merges = kw_module._merges_backwards
    for code in range(0x20000):
        char = chr(code)
        if not unstable.match(char):
            assert unicodedata.normalize("NFKC", char) == char, hex(code)
            assert len(char.casefold()) == 1, hex(code)
            assert not merges(char), hex(code)


@given(st.text(max_size=40))
def test_W1_normalising_region_by_region_equals_normalize(text: str) -> None:
    normalized, parts, pieces = kw_module._normalize(text)
    assert normalized == normalize(text)
    assert kw_module._chunks(text, kw_module._regions(parts, pieces))[0] == normalized


@given(
    st.text(alphabet=LATIN + CJK + THAI_KO + OTHER + "ｶﾞＡ…ẞ\u3099ㄱㅏ\u1161\u11a8가", max_size=40)
)
def test_W1_normalising_mixed_text_region_by_region_equals_normalize(text: str) -> None:
    normalized, parts, pieces = kw_module._normalize(text)
    assert normalized == normalize(text)
    assert not parts or "".join(parts) == text
    assert kw_module._chunks(text, kw_module._regions(parts, pieces))[0] == normalized


def test_W1_merging_characters_cover_every_composition() -> None:
    # Every second half of a canonical pair must start a merge with the character before.
    for code in range(0x110000):
        decomposition = unicodedata.decomposition(chr(code)).split()
        if len(decomposition) == 2 and not decomposition[0].startswith("<"):
            assert kw_module._merges_backwards(chr(int(decomposition[1], 16))), hex(code)
    assert kw_module._merges_backwards("ﾟ")
    assert kw_module._merges_backwards("ㅏ")  # compatibility jamo, NFKC to a vowel jamo


def test_W1_unknown_normalisation_falls_back_to_chunk_by_chunk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    m = matcher(rule("r1", "ヘ"), rule("r2", "ペ"))
    assert found(m, "ﾍﾟﾝ") == [("ペ", ("r2",), 0, 2)]
    # Pretend nothing merges: the region then normalises differently chunk by chunk, and
    # find() must search the chunked text so positions stay exact.
    monkeypatch.setattr(kw_module, "_merges_backwards", lambda char: False)
    assert found(m, "ﾍﾟﾝ") == [("ヘ", ("r1",), 0, 1)]


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "keywords",
    [
        ("",),
        ("   ",),
        ("\u3000",),  # ideographic space: blank after NFKC
        ("ok", "\t\n"),
        ("x" * (MAX_KEYWORD_LENGTH + 1),),
        ("bad\ud800",),
        ("ok", 5),
        (None,),
        (),
        "refund",  # one string, not a list of keywords
        5,
        None,
    ],
)
def test_W1_bad_keywords_are_refused(keywords: object) -> None:
    with pytest.raises(InvalidModelError) as info:
        KeywordRule(id="r1", keywords=keywords)  # type: ignore[arg-type]
    assert info.value.field == "keywords"


def test_W1_longest_keyword_is_accepted() -> None:
    long = "x" * MAX_KEYWORD_LENGTH
    assert spans(matcher(rule("r1", long)), f"a {long} b") == [long]


@pytest.mark.parametrize("rules", [[object()], "abc", 5, None])
def test_W4_compile_refuses_anything_but_rules(rules: object) -> None:
    with pytest.raises(InvalidModelError):
        KeywordMatcher.compile(rules)  # type: ignore[arg-type]


def test_W3_find_refuses_non_text() -> None:
    with pytest.raises(InvalidModelError):
        matcher(rule("r1", "a")).find(b"a")  # type: ignore[arg-type]


def test_W3_a_one_megabyte_text_works() -> None:
    m = matcher(rule("r1", "refund"), rule("r2", "ヘンピン"), rule("r3", "🎉"))
    chunk = "Where is my order? 注文はまだですか… ﾍﾝﾋﾟﾝ希望 🎉 refund\n"
    text = (chunk * (1_000_000 // len(chunk) + 1))[:1_000_000]
    result = m.find(text)
    assert len(result) >= 3 * (1_000_000 // len(chunk))
    for match in result[:50] + result[-50:]:
        assert text[match.start : match.end] in {"refund", "ﾍﾝﾋﾟﾝ", "🎉"}


def test_W3_lone_surrogates_in_texts_do_not_crash() -> None:
    m = matcher(rule("r1", "refund"), rule("r2", "返金"))
    assert spans(m, "\ud800refund\udfff返金\ud83d") == ["refund", "返金"]
    assert m.find("\udc00" * 1000) == ()


@given(st.text(max_size=60))
def test_W3_any_text_is_matched_without_error(text: str) -> None:
    m = matcher(rule("r1", "a"), rule("r2", "返"), rule("r3", "1", prefix=True))
    for match in m.find(text):
        assert 0 <= match.start < match.end <= len(text)
    assert m.matched_rule_ids(text) <= {"r1", "r2", "r3"}


def test_W1_common_social_characters_skip_nfkc() -> None:
    assert kw_module._UNSTABLE.fullmatch("ßﬁ½\u0301ＡｶﾞⅣ…")
    assert not kw_module._UNSTABLE.search(
        "abc Ünïcödé 返金、かな・カナ。한국 🎉 👍🏽 ‘quoted’ – ok"
    )
