"""Keyword matching for social rules (W1-W5).

Every keyword of every rule is compiled once, by :meth:`KeywordMatcher.compile`, into one
Aho-Corasick automaton (``ahocorasick_rs``, the Rust ``aho-corasick`` crate), so the cost of
matching a text grows with the text and the number of hits, not with the number of keywords
(W4). (``pyahocorasick`` scans a trie node's children one by one, so its cost per character
grows with the number of distinct first characters, which a Japanese or Chinese keyword list
makes large: about 15x slower with 2,500 distinct first characters.)

The rules, exactly:

- W1: a keyword and a text are compared after :func:`normalize` (Unicode NFKC, then case
  folding): ``ＡＢＣ`` matches ``abc``, half-width ``ﾍﾝﾋﾟﾝ`` matches ``ヘンピン``. A keyword's
  surrounding whitespace (after normalisation) is ignored; a keyword that is blank, longer
  than :data:`MAX_KEYWORD_LENGTH` characters, not a string, or holds a lone surrogate is
  rejected with :class:`~deskcore.errors.InvalidModelError`.
- W2: a *word character* is ``_`` or a letter, digit or mark (Unicode categories ``L*``,
  ``N*``, ``M*``) of a script written with spaces, that is, of any script except the ones
  written without spaces: Han, Hiragana, Katakana, Bopomofo, Yi, Thai, Lao, Tibetan, Myanmar,
  Khmer, Tai scripts, Balinese, Javanese, Tangut, Nushu and the CJK symbol, radical and
  compatibility blocks (:func:`is_word_character`). In the normalised text, an occurrence of
  the normalised keyword matches when, at each of its two ends whose keyword character is a
  word character, the neighbouring text character (if any) is not a word character. A rule
  with ``prefix=True`` skips the check at the keyword's end. So ``refund`` does not fire on
  ``refunds`` or ``prerefund`` (``refunds`` fires with ``prefix=True``), ``返金`` fires
  anywhere, ``iphoneケース`` fires in ``新型iphoneケースを`` (``新`` is not a word character of
  a spaced script) and a keyword that ends in a CJK character or an emoji never needs a
  boundary at that end. Hangul is a spaced script: Korean keywords match whole words.
- W3: the whole text is searched, whatever its length, emoji and other characters outside
  the Basic Multilingual Plane included (a Python ``str`` indexes code points).
- W5: a match reports the keyword as configured, the sorted ids of the rules it fires, and
  its ``start`` and ``end`` in the *original* text. When several configured keywords
  normalise to the same string, one match reports the first spelling in rule order with the
  ids of all their rules (only the ``prefix`` rules' when the end boundary fails). Overlapping
  matches are all reported, ordered by start, then end.

Speed: most texts pass CPython's quick NFKC check and are only case folded, one to one. In
the others only the runs of characters outside a table of common stable ones (ASCII, kana,
CJK, Hangul, emoji...) go through NFKC, which CPython runs at about 0.2 us a character once a
text fails the quick check. Positions are worked out only for texts with a hit.

Positions: outside those runs the text and the normalised text run one to one. Inside a run,
the text is cut into chunks, a character and the characters after it that normalisation can
merge into it (those whose decomposition starts with a combining mark or a Hangul vowel or
final consonant, as ``ﾍ`` + ``ﾟ``); a chunk normalises on its own. A match starts at the start
of the chunk that holds its first normalised character and ends at the end of the chunk that
holds its last, narrowed inside a chunk to the nearest cut that normalises apart
(``normalize(text[:i]) + normalize(text[i:]) == normalize(text)``). Then
``normalize(text[start:end])`` equals the normalised keyword, or contains it when the keyword
covers only part of what one character normalises to (``1`` in ``½``). Were a run to
normalise differently chunk by chunk (a Unicode version with a merge this module does not
know), the text is searched in its chunk-by-chunk normalisation, so positions stay exact.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from typing import Any, Final

import ahocorasick_rs
import attrs

from deskcore.errors import InvalidModelError
from deskcore.models._validate import identifier, instance_of, text

__all__ = [
    "MAX_KEYWORD_LENGTH",
    "KeywordMatch",
    "KeywordMatcher",
    "KeywordRule",
    "is_word_character",
    "normalize",
]

MAX_KEYWORD_LENGTH: Final = 1000
"""The longest keyword a rule may hold, in characters as configured."""

# Scripts written without spaces (W2), as [first, last] code point ranges, sorted. Checked on
# normalised text, so the compatibility blocks matter little, but they cost nothing here.
_UNSPACED: Final[tuple[tuple[int, int], ...]] = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x1950, 0x19FF),  # Tai Le, New Tai Lue, Khmer symbols
    (0x1A20, 0x1AAF),  # Tai Tham
    (0x1B00, 0x1B7F),  # Balinese
    (0x2E80, 0x2FFF),  # CJK radicals, Kangxi radicals, ideographic description
    (0x3000, 0x312F),  # CJK symbols and punctuation, Hiragana, Katakana, Bopomofo
    (0x3190, 0x31FF),  # Kanbun, Bopomofo extended, CJK strokes, Katakana extension
    (0x3200, 0x4DBF),  # enclosed CJK, CJK compatibility, CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA000, 0xA4CF),  # Yi
    (0xA980, 0xA9FF),  # Javanese, Myanmar extended B
    (0xAA60, 0xAADF),  # Myanmar extended A, Tai Viet
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF65, 0xFF9F),  # half-width Katakana
    (0x16FE0, 0x16FFF),  # ideographic symbols
    (0x17000, 0x18D7F),  # Tangut, Khitan
    (0x1AFF0, 0x1B2FF),  # Kana extensions and supplement, Nushu
    (0x20000, 0x3FFFF),  # CJK extensions B and later, compatibility supplement
)
_UNSPACED_STARTS: Final = tuple(first for first, _ in _UNSPACED)

# Characters that NFKC leaves alone, that case folding maps to one character, and that never
# merge into the character before them. Runs of them need case folding only and map one to one
# onto the normalised text; NFKC (slow in CPython: about 0.2 us a character once anything in
# the text needs it) runs only on what lies between them. Not exhaustive, just the common
# ranges of social posts; a test checks every character.
_STABLE: Final = (
    "\x00-\x9f\xa1-\xa7\xbf-\xde\xe0-\u012f\u0134-\u013e\u0141-\u0148\u014a-\u017e"
    "\u0180-\u01c3\u01cd-\u01ef\u01f4-\u024f"  # Latin
    "\u0391-\u03af\u03b1-\u03cf\u03d7-\u03ef\u03fa-\u0482\u048a-\u052f"  # Greek, Cyrillic
    "\u0e01-\u0e30\u0e32\u0e3f-\u0e46\u0e4f-\u0e5b"  # Thai (not its vowel and tone marks)
    "\u2010\u2012-\u2016\u2018-\u2023\u2027-\u202e\u2030-\u2032"  # general punctuation
    "\u2190-\u222b\u2231-\u2328\u232b-\u245f\u24eb-\u2a0b\u2b00-\u2bff"  # arrows, symbols
    "\u3001-\u3029\u3030-\u3035\u3037\u303b-\u3096\u30a0-\u30fe"  # CJK punctuation, kana
    "\u4e00-\u9fff\uac00-\ud7a3"  # Han, Hangul syllables
    "\U0001f300-\U0001faff"  # emoji
)
_UNSTABLE: Final = re.compile(f"([^{_STABLE}]+)")


def normalize(text: str) -> str:
    """Unicode NFKC, then case folding (W1)."""
    return unicodedata.normalize("NFKC", text).casefold()


def is_word_character(char: str) -> bool:
    """True for ``_`` and the letters, digits and marks of scripts written with spaces (W2)."""
    if char < "\x80":
        return char.isalnum() or char == "_"
    if "\u3040" <= char <= "\u30ff" or "\u3400" <= char <= "\u9fff":  # kana, Han: common
        return False
    if unicodedata.category(char)[0] not in "LNM":
        return False
    code = ord(char)
    index = bisect_right(_UNSPACED_STARTS, code) - 1
    return index < 0 or code > _UNSPACED[index][1]


def _merges_backwards(char: str) -> bool:
    """True when normalisation can merge ``char`` into the character before it."""
    first = unicodedata.normalize("NFKD", char)[0]
    code = ord(first)
    return (
        unicodedata.combining(first) != 0
        or unicodedata.category(first)[0] == "M"
        or 0x1161 <= code <= 0x1175  # Hangul vowel jamo (L + V compose)
        or 0x11A8 <= code <= 0x11C2  # Hangul final jamo (LV + T compose)
    )


def _keywords(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    model = type(instance).__name__
    if not isinstance(value, tuple):
        raise InvalidModelError(
            model, attribute.name, f"expected a sequence of keywords, got {type(value).__name__}"
        )
    if not value:
        raise InvalidModelError(model, attribute.name, "a rule needs at least one keyword")
    check = text(MAX_KEYWORD_LENGTH)
    for keyword in value:
        check(instance, attribute, keyword)
        if not normalize(keyword).strip():
            raise InvalidModelError(model, attribute.name, f"keyword {keyword!r} is blank")


def _to_tuple(value: object) -> object:
    # A bare string is one keyword typed where a list was meant: leave it for the validator
    # rather than splitting it into characters. Non-iterables too.
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return value
    return tuple(value)


@attrs.frozen(kw_only=True)
class KeywordRule:
    """Keywords that fire one rule.

    Attributes:
        id: The rule's id, reported with each match.
        keywords: The keywords, as the admin typed them (at least one; none blank, none
            longer than :data:`MAX_KEYWORD_LENGTH`).
        prefix: Keywords in scripts with spaces also match at the start of a longer word
            (``refund`` fires on ``refunds``) (W2).
    """

    id: str = attrs.field(validator=identifier)
    keywords: tuple[str, ...] = attrs.field(converter=_to_tuple, validator=_keywords)
    prefix: bool = attrs.field(default=False, validator=instance_of(bool))


@attrs.frozen(kw_only=True)
class KeywordMatch:
    """One occurrence of a keyword in a text (W5).

    Attributes:
        keyword: The keyword as configured (first spelling, if several normalise alike).
        rule_ids: The rules this keyword belongs to, sorted.
        start: Start of the occurrence in the original text (a ``str`` index).
        end: End of the occurrence in the original text (exclusive).
    """

    keyword: str
    rule_ids: tuple[str, ...]
    start: int
    end: int


# What to report for one normalised keyword: whether its first and last characters need a
# word boundary, then the spelling and rule ids to report when the end boundary holds, and the
# ones to report when it fails (the prefix rules', or None).
_Entry = tuple[bool, bool, str, tuple[str, ...], str | None, tuple[str, ...]]
# One hit in the normalised text: start, end, keyword, rule ids.
_Hit = tuple[int, int, str, tuple[str, ...]]


_SURROGATE: Final = re.compile("[\ud800-\udfff]")


@attrs.frozen
class _Automaton:
    """The compiled keywords: the automaton, and what to report for each of its patterns."""

    searcher: ahocorasick_rs.AhoCorasick
    entries: tuple[_Entry, ...]

    def find(self, normalized: str) -> list[tuple[int, int, int]]:
        """Every occurrence of every pattern in ``normalized``: (pattern, start, end)."""
        try:
            return self.searcher.find_matches_as_indexes(normalized, overlapping=True)
        except UnicodeEncodeError:  # lone surrogates; no keyword holds one: search around them
            found: list[tuple[int, int, int]] = []
            offset = 0
            for segment in _SURROGATE.split(normalized):
                found.extend(
                    (pattern, start + offset, end + offset)
                    for pattern, start, end in self.searcher.find_matches_as_indexes(
                        segment, overlapping=True
                    )
                )
                offset += len(segment) + 1
            return found


def _compile(rules: tuple[KeywordRule, ...]) -> _Automaton | None:
    spellings: dict[str, str] = {}
    prefix_spellings: dict[str, str] = {}
    ids: dict[str, set[str]] = {}
    prefix_ids: dict[str, set[str]] = {}
    for rule in rules:
        for keyword in rule.keywords:
            key = normalize(keyword).strip()
            spellings.setdefault(key, keyword)
            ids.setdefault(key, set()).add(rule.id)
            if rule.prefix:
                prefix_spellings.setdefault(key, keyword)
                prefix_ids.setdefault(key, set()).add(rule.id)
    if not spellings:
        return None
    keys = list(spellings)
    entries = tuple(
        (
            is_word_character(key[0]),
            is_word_character(key[-1]),
            spellings[key],
            tuple(sorted(ids[key])),
            prefix_spellings.get(key),
            tuple(sorted(prefix_ids.get(key, ()))),
        )
        for key in keys
    )
    # The contiguous NFA: about as fast as the DFA here, with a fraction of its memory and
    # build time for 10,000 keywords and more.
    searcher = ahocorasick_rs.AhoCorasick(
        keys,
        matchkind=ahocorasick_rs.MatchKind.Standard,
        implementation=ahocorasick_rs.Implementation.ContiguousNFA,
    )
    return _Automaton(searcher, entries)


def _hits(automaton: _Automaton, normalized: str) -> list[_Hit]:
    """The occurrences in ``normalized`` that pass the boundary checks (W2)."""
    hits: list[_Hit] = []
    size = len(normalized)
    entries = automaton.entries
    for pattern, start, end in automaton.find(normalized):
        check_start, check_end, keyword, ids, prefix_keyword, prefix_ids = entries[pattern]
        if check_start and start and is_word_character(normalized[start - 1]):
            continue
        if check_end and end < size and is_word_character(normalized[end]):
            if prefix_keyword is None:
                continue
            hits.append((start, end, prefix_keyword, prefix_ids))
        else:
            hits.append((start, end, keyword, ids))
    return hits


# A piece of the text and of the normalised text: start, end, normalised start, normalised end.
_Piece = tuple[int, int, int, int]


def _normalize(text: str) -> tuple[str, list[str], list[str]]:
    """``normalize(text)``, the text split into stable runs and regions, and their NFKC.

    Most texts pass CPython's quick NFKC check and only need case folding, one to one: then
    both lists are empty. In the others, a region is a run of characters outside
    :data:`_STABLE` with the character before it (which the run's first character may merge
    into); the lists alternate stable runs (even indexes) and regions (odd). Only regions go
    through NFKC, which in CPython costs about 0.2 us a character once a text fails the quick
    check. The result equals ``normalize(text)``, since normalisation never reaches across a
    stable character (tests check this).
    """
    if unicodedata.is_normalized("NFKC", text):  # a quick check in C
        folded = text.casefold()
        if len(folded) == len(text):  # case folding never shortens: one to one
            return folded, [], []
    parts = _UNSTABLE.split(text)
    pieces = parts.copy()
    for index in range(1, len(parts), 2):
        before = parts[index - 1]
        if before:
            parts[index - 1] = pieces[index - 1] = before[:-1]
            parts[index] = before[-1] + parts[index]
        pieces[index] = unicodedata.normalize("NFKC", parts[index])
    return "".join(pieces).casefold(), parts, pieces


def _regions(parts: list[str], pieces: list[str]) -> list[_Piece]:
    """Where the regions of :func:`_normalize` lie, in the text and in the normalised text."""
    regions: list[_Piece] = []
    position = norm = 0
    for index in range(1, len(parts), 2):
        stable = len(parts[index - 1])  # case folded one to one
        position += stable
        norm += stable
        size = len(parts[index])
        folded = len(pieces[index].casefold())
        regions.append((position, position + size, norm, norm + folded))
        position += size
        norm += folded
    return regions


def _cut(text: str, start: int, end: int, norm: int) -> tuple[list[_Piece], list[str]]:
    """``text[start:end]`` cut into chunks, each normalised on its own from offset ``norm``.

    A chunk is a character and the characters after it that merge into it (ccc != 0, marks,
    Hangul vowel and final jamo).
    """
    chunks: list[_Piece] = []
    pieces: list[str] = []
    position = start
    while position < end:
        stop = position + 1
        while stop < end and _merges_backwards(text[stop]):
            stop += 1
        piece = normalize(text[position:stop])
        pieces.append(piece)
        chunks.append((position, stop, norm, norm + len(piece)))
        norm += len(piece)
        position = stop
    return chunks, pieces


def _chunks(text: str, regions: list[_Piece]) -> tuple[str, list[_Piece]]:
    """Every region cut into chunks, and the normalised text rebuilt chunk by chunk."""
    pieces: list[str] = []
    chunks: list[_Piece] = []
    position = norm = 0
    for start, end, _, _ in regions:
        pieces.append(text[position:start].casefold())
        norm += start - position
        region_chunks, region_pieces = _cut(text, start, end, norm)
        chunks.extend(region_chunks)
        pieces.extend(region_pieces)
        norm = region_chunks[-1][3]
        position = end
    pieces.append(text[position:].casefold())
    return "".join(pieces), chunks


def _start_inside(piece: str, offset: int) -> int:
    """The last cut in ``piece`` that normalises apart at or before normalised ``offset``."""
    whole = normalize(piece)
    for cut in range(len(piece) - 1, 0, -1):
        head = normalize(piece[:cut])
        if len(head) <= offset and head + normalize(piece[cut:]) == whole:
            return cut
    return 0


def _end_inside(piece: str, offset: int) -> int:
    """The first cut in ``piece`` that normalises apart at or after normalised ``offset``."""
    whole = normalize(piece)
    for cut in range(1, len(piece)):
        head = normalize(piece[:cut])
        if len(head) >= offset and head + normalize(piece[cut:]) == whole:
            return cut
    return len(piece)


class _ChunkMismatchError(Exception):
    """A region normalises differently chunk by chunk (a Unicode version this module does not
    know); positions inside it would be wrong, so the text is searched chunk by chunk."""


class _Positions:
    """Maps positions in the normalised text back to the text.

    Between pieces (regions, or chunks) the two texts run one to one. A position inside a
    region is placed through that region's chunks, cut when first needed; a position inside
    a chunk at the last (first) cut of the chunk that normalises apart, see
    :func:`_start_inside`.
    """

    def __init__(self, text: str, normalized: str, pieces: list[_Piece], *, chunks: bool) -> None:
        self._text = text
        self._normalized = normalized
        self._pieces = pieces
        self._norm_starts = [piece[2] for piece in pieces]
        self._are_chunks = chunks
        self._inner: dict[int, _Positions] = {}
        self.inside = False
        """Whether a position fell inside a piece: then two hits may land on the same
        characters, and the order of the normalised text may not carry over."""

    def _inside(self, index: int) -> _Positions:
        inner = self._inner.get(index)
        if inner is None:
            start, end, norm_start, norm_end = self._pieces[index]
            chunks, pieces = _cut(self._text, start, end, norm_start)
            if "".join(pieces) != self._normalized[norm_start:norm_end]:
                raise _ChunkMismatchError
            inner = self._inner[index] = _Positions(
                self._text, self._normalized, chunks, chunks=True
            )
        return inner

    def start(self, norm: int) -> int:
        index = bisect_right(self._norm_starts, norm) - 1
        if index < 0:
            return norm
        start, end, norm_start, norm_end = self._pieces[index]
        if norm >= norm_end:
            return norm - norm_end + end
        if norm == norm_start:
            return start
        self.inside = True
        if self._are_chunks:
            return start + _start_inside(self._text[start:end], norm - norm_start)
        return self._inside(index).start(norm)

    def end(self, norm: int) -> int:
        index = bisect_right(self._norm_starts, norm - 1) - 1
        if index < 0:
            return norm
        start, end, norm_start, norm_end = self._pieces[index]
        if norm >= norm_end:
            return norm - norm_end + end
        self.inside = True
        if self._are_chunks:
            return start + _end_inside(self._text[start:end], norm - norm_start)
        return self._inside(index).end(norm)


def _place(hits: list[_Hit], positions: _Positions) -> tuple[KeywordMatch, ...]:
    """The hits as matches in the original text, in order, each once."""
    placed = [
        (positions.start(start), positions.end(end), keyword, ids)
        for start, end, keyword, ids in hits
    ]
    if not positions.inside:  # the map is strictly increasing: hits stay distinct
        placed.sort()
        return tuple(KeywordMatch(keyword=k, rule_ids=i, start=a, end=b) for a, b, k, i in placed)
    # Distinct hits may land on the same characters (``.`` twice in ``‥``): report them once.
    return tuple(
        KeywordMatch(keyword=k, rule_ids=i, start=a, end=b) for a, b, k, i in sorted(set(placed))
    )


class KeywordMatcher:
    """Every keyword of a set of rules, compiled once and reused for every text (W4).

    The compiled automaton belongs to the matcher and never changes after construction, so
    one matcher may serve many threads.
    """

    def __init__(self, rules: tuple[KeywordRule, ...]) -> None:
        for rule in rules:
            if not isinstance(rule, KeywordRule):
                raise InvalidModelError(
                    "KeywordMatcher", "rules", f"expected KeywordRule, got {type(rule).__name__}"
                )
        self.rules = rules
        self._automaton = _compile(rules)

    @classmethod
    def compile(cls, rules: Iterable[KeywordRule]) -> KeywordMatcher:
        """Compile ``rules``; raises ``InvalidModelError`` for anything but keyword rules.

        Blank, overlong and otherwise invalid keywords are refused when the
        :class:`KeywordRule` is built.
        """
        if isinstance(rules, str | bytes) or not isinstance(rules, Iterable):
            raise InvalidModelError(
                "KeywordMatcher", "rules", f"expected keyword rules, got {type(rules).__name__}"
            )
        return cls(tuple(rules))

    def find(self, text: str) -> tuple[KeywordMatch, ...]:
        """Every match in ``text``, ordered by start, then end (W2-W5)."""
        if not isinstance(text, str):
            raise InvalidModelError(
                "KeywordMatcher", "text", f"expected a string, got {type(text).__name__}"
            )
        automaton = self._automaton
        if automaton is None:
            return ()
        normalized, parts, pieces = _normalize(text)
        hits = _hits(automaton, normalized)
        if not hits:
            return ()
        if not parts:  # positions are the same in both texts
            hits.sort()
            return tuple(KeywordMatch(keyword=k, rule_ids=i, start=a, end=b) for a, b, k, i in hits)
        regions = _regions(parts, pieces)
        try:
            return _place(hits, _Positions(text, normalized, regions, chunks=False))
        except _ChunkMismatchError:
            chunked, chunks = _chunks(text, regions)
            hits = _hits(automaton, chunked)
            return _place(hits, _Positions(text, chunked, chunks, chunks=True))

    def matched_rule_ids(self, text: str) -> frozenset[str]:
        """The ids of the rules with at least one match in ``text``."""
        return frozenset(rule_id for m in self.find(text) for rule_id in m.rule_ids)
