"""The sample replay data set (P6, P3): every line parses and converts, the output is
deterministic per seed, in time order, and holds the mix a replay needs."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from deskcore.cli.sample import START, sample_events, sample_settings, write_sample
from deskcore.wire.codecs import to_inbound_message
from deskcore.wire.replay import (
    ChatEntry,
    MessageEntry,
    SocialItemEntry,
    StatusEntry,
    parse_replay_entry,
    parse_replay_settings,
    reference_of,
)

_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def full() -> list[dict[str, Any]]:
    """The default sample, made once for the module."""
    return sample_events()


@pytest.fixture(scope="module")
def parsed(
    full: list[dict[str, Any]],
) -> list[MessageEntry | SocialItemEntry | ChatEntry | StatusEntry]:
    return [parse_replay_entry(json.dumps(entry, ensure_ascii=False)) for entry in full]


def test_P6_every_line_parses_and_converts_to_domain_objects(
    parsed: list[MessageEntry | SocialItemEntry | ChatEntry | StatusEntry],
) -> None:
    assert len(parsed) == 3000
    for entry in parsed:
        if isinstance(entry, MessageEntry):
            to_inbound_message(entry.message)
        elif isinstance(entry, SocialItemEntry):
            entry.item.to_item()
        elif isinstance(entry, ChatEntry):
            session = entry.chat.to_session()
            entry.chat_event()
            assert session.transcript, "every chat event carries the lines so far"
        else:
            assert entry.conversation is not None
            reference_of(entry.conversation)
            entry.target_status()


def test_P6_times_never_go_back_and_start_on_monday_morning(
    parsed: list[MessageEntry | SocialItemEntry | ChatEntry | StatusEntry],
) -> None:
    times = [entry.at for entry in parsed]
    assert times[0] == START
    assert all(a <= b for a, b in pairwise(times))
    assert times[-1] - times[0] < timedelta(days=5), "a working week"
    offsets = {entry.at.utcoffset() for entry in parsed}
    assert len(offsets) == 2, "both +09:00 and UTC"


def test_P6_the_mix_holds_every_kind_in_about_the_planned_shares(
    full: list[dict[str, Any]],
) -> None:
    kinds = Counter(entry["kind"] for entry in full)
    assert 0.50 < kinds["message"] / len(full) < 0.65
    assert 0.20 < kinds["social_item"] / len(full) < 0.30
    assert 0.07 < kinds["chat"] / len(full) < 0.13
    assert 0.03 < kinds["status"] / len(full) < 0.08
    channels = Counter(e["message"]["channel"] for e in full if e["kind"] == "message")
    assert set(channels) == {"email", "web", "chat", "twitter", "facebook"}
    events = Counter(e["event"] for e in full if e["kind"] == "chat")
    assert {"started", "answered", "ended", "missed"} <= set(events)
    social = Counter(e["item"]["kind"] for e in full if e["kind"] == "social_item")
    assert {"mention", "reply", "direct_message", "visitor_post", "comment", "post"} <= set(social)
    assert any(e["item"].get("brand_own") for e in full if e["kind"] == "social_item")


def test_P6_english_and_japanese_text(full: list[dict[str, Any]]) -> None:
    bodies = [e["message"]["body"] for e in full if e["kind"] == "message"]
    assert any(_JAPANESE.search(body) for body in bodies)
    assert any(body.isascii() and "order" in body for body in bodies)


def test_S4_social_items_match_the_rules_keywords(full: list[dict[str, Any]]) -> None:
    texts = [e["item"]["text"] for e in full if e["kind"] == "social_item"]
    for keyword in ("refund", "broken", "返品", "料金", "故障"):
        assert any(keyword in text.casefold() for text in texts), keyword


def test_P3_redeliveries_repeat_an_earlier_message_verbatim(full: list[dict[str, Any]]) -> None:
    seen: dict[str, dict[str, Any]] = {}
    redelivered = edited = 0
    for entry in full:
        if entry["kind"] != "message":
            continue
        message = entry["message"]
        key = json.dumps(message["reference"], sort_keys=True)
        if key in seen:
            if message.get("is_edit"):
                edited += 1
                assert message["body"] != seen[key]["body"]
            else:
                redelivered += 1
                assert message == seen[key]
        seen[key] = message
    messages = sum(1 for entry in full if entry["kind"] == "message")
    assert 0.06 < redelivered / messages < 0.14
    assert edited >= 5


def test_L1_status_entries_name_conversations_seen_earlier(full: list[dict[str, Any]]) -> None:
    conversations: set[str] = set()
    for entry in full:
        if entry["kind"] == "message":
            conversations.add(json.dumps(entry["message"]["conversation"], sort_keys=True))
        elif entry["kind"] == "chat":
            conversations.add(json.dumps(entry["chat"]["reference"], sort_keys=True))
        elif entry["kind"] == "status":
            assert json.dumps(entry["conversation"], sort_keys=True) in conversations
            assert entry["status"] in {"closed", "on_hold", "escalated"}


def test_P6_the_same_seed_gives_the_same_stream_and_another_seed_differs() -> None:
    first = sample_events(300, seed=11)
    assert sample_events(300, seed=11) == first
    assert sample_events(300, seed=12) != first
    assert sample_events(0) == []
    with pytest.raises(ValueError, match="count"):
        sample_events(-1)


def test_P6_sample_settings_parse_and_convert() -> None:
    settings = parse_replay_settings(json.dumps(sample_settings(), ensure_ascii=False))
    domain = settings.to_settings()
    assert domain.desk.default_department_id == "support"
    assert domain.social is not None
    assert domain.social.rules
    assert domain.chat is not None
    mapping = domain.chat_departments
    chat_departments = {
        e["chat"]["department_id"] for e in sample_events(400) if e["kind"] == "chat"
    }
    linked = {link.chat_department_id for link in mapping.links}
    assert chat_departments & linked
    assert domain.service_levels is not None
    assert domain.service_levels.policies


def test_P6_write_sample_writes_files_that_round_trip(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    events_path, settings_path = write_sample(folder, count=200, seed=5)
    assert (events_path.parent, settings_path.parent) == (folder, folder)
    raw = events_path.read_bytes()
    assert raw.endswith(b"\n")
    lines = raw.decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == sample_events(200, seed=5)
    assert any(_JAPANESE.search(line) for line in lines), "written unescaped (ensure_ascii off)"
    for line in lines:
        parse_replay_entry(line)
    assert json.loads(settings_path.read_text(encoding="utf-8")) == sample_settings()
    parse_replay_settings(settings_path.read_bytes()).to_settings()
