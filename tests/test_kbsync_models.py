"""Knowledge-base sync models: articles, copies, settings, runs (KB1-KB4, KB7, KB10; T1, P5)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from deskcore import (
    DEFAULT_SYNC_TAG,
    ArticlePermission,
    ArticleStatus,
    CategoryAssociation,
    InvalidModelError,
    NaiveDatetimeError,
    Occurrence,
    PermissionFilter,
    Schedule,
    SourceArticle,
    StatusRule,
    SyncedArticle,
    SyncRun,
    SyncSettings,
    SyncTrigger,
    UnknownValueError,
    digest_article,
)

T0 = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)


def source(**changes: Any) -> SourceArticle:
    fields: dict[str, Any] = {
        "id": "a-1",
        "category_id": "faq",
        "title": "返品の方法",
        "body": "Send it back within 30 days. 🙏",
    }
    return SourceArticle(**(fields | changes))


def copy(**changes: Any) -> SyncedArticle:
    fields: dict[str, Any] = {
        "target_id": "a-1",
        "source_id": "a-1",
        "department_id": "support",
        "title": "返品の方法",
        "body": "Send it back within 30 days. 🙏",
        "source_digest": "sha256:0",
        "synced_at": T0,
    }
    return SyncedArticle(**(fields | changes))


# -- articles -------------------------------------------------------------------------------------


def test_KB8_a_source_article_computes_its_content_digest() -> None:
    article = source()
    assert article.content_digest == digest_article(article.title, article.body)
    assert article.digest.startswith("sha256:")
    assert source(content_digest="etag-7").digest == "etag-7"


def test_KB8_the_digest_is_length_prefixed_so_title_and_body_cannot_trade_characters() -> None:
    assert digest_article("ab", "c") != digest_article("a", "bc")
    assert digest_article("", "x") != digest_article("x", "")
    assert digest_article("a", "b") == digest_article("a", "b")


def test_KB3_KB10_permissions_default_to_all_users_and_accept_their_codes() -> None:
    assert source().permission is ArticlePermission.ALL_USERS
    assert source(permission="registered_users").permission is ArticlePermission.REGISTERED_USERS


def test_KB4_a_synced_copy_is_a_draft_with_the_identifying_tag_by_default() -> None:
    made = copy()
    assert made.status is ArticleStatus.DRAFT
    assert not made.published
    assert made.tag == DEFAULT_SYNC_TAG
    assert copy(status="published").published


def test_KB10_only_a_copy_for_all_users_is_visible_to_every_visitor() -> None:
    assert copy(permission=ArticlePermission.ALL_USERS).visible_to_all_visitors
    assert not copy(permission=ArticlePermission.REGISTERED_USERS).visible_to_all_visitors


def test_T1_synced_at_keeps_the_instant_in_a_fixed_offset() -> None:
    jst = timezone(timedelta(hours=9))
    made = copy(synced_at=T0.astimezone(jst))
    assert made.synced_at == T0
    assert made.synced_at.utcoffset() == timedelta(hours=9)


# -- hostile input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "change", "error"),
    [
        (source, {"permission": "everyone"}, UnknownValueError),
        (source, {"permission": None}, UnknownValueError),
        (source, {"body": "lone \ud800 surrogate"}, InvalidModelError),
        (source, {"title": "\udfff"}, InvalidModelError),
        (source, {"body": "x" * 1_000_001}, InvalidModelError),
        (source, {"title": "t" * 1001}, InvalidModelError),
        (source, {"id": ""}, InvalidModelError),
        (source, {"id": " a"}, InvalidModelError),
        (source, {"category_id": "a\nb"}, InvalidModelError),
        (source, {"body": b"bytes"}, InvalidModelError),
        (source, {"version": 3}, InvalidModelError),
        (copy, {"status": "archived"}, UnknownValueError),
        (copy, {"synced_at": datetime(2026, 5, 1)}, NaiveDatetimeError),
        (copy, {"tag": ""}, InvalidModelError),
        (copy, {"body": "\ud800"}, InvalidModelError),
        (copy, {"body": "y" * 1_000_001}, InvalidModelError),
        (copy, {"permission": "admins"}, UnknownValueError),
    ],
)
def test_P5_bad_article_values_are_typed_errors(
    factory: Any, change: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        factory(**change)


def test_P5_a_body_of_exactly_the_limit_is_accepted() -> None:
    assert len(source(body="x" * 1_000_000).body) == 1_000_000


# -- settings -------------------------------------------------------------------------------------


def test_KB2_a_category_is_associated_with_at_most_one_department() -> None:
    with pytest.raises(InvalidModelError) as caught:
        SyncSettings(
            associations=(
                CategoryAssociation(category_id="faq", department_id="support"),
                CategoryAssociation(category_id="faq", department_id="sales"),
            )
        )
    assert caught.value.details["category_id"] == "faq"
    assert caught.value.details["associated_with"] == "support"
    assert caught.value.details["department_id"] == "sales"
    assert "KB2" in caught.value.message


def test_KB2_associating_a_category_with_a_second_department_is_rejected() -> None:
    settings = SyncSettings().with_association("faq", "support")
    with pytest.raises(InvalidModelError) as caught:
        settings.with_association("faq", "sales")
    assert caught.value.details["associated_with"] == "support"
    assert settings.department_for("faq") == "support"


def test_KB2_the_same_association_again_changes_nothing_and_a_move_goes_through_removal() -> None:
    settings = SyncSettings().with_association("faq", "support")
    assert settings.with_association("faq", "support") is settings
    moved = settings.without_association("faq").with_association("faq", "sales")
    assert moved.department_for("faq") == "sales"
    assert moved.department_for("news") is None


def test_KB2_a_department_may_take_several_categories() -> None:
    settings = SyncSettings().with_association("faq", "support").with_association("how", "support")
    assert settings.department_for("faq") == settings.department_for("how") == "support"


def test_KB2_associations_accept_a_list_and_reject_other_things() -> None:
    listed = SyncSettings(
        associations=[CategoryAssociation(category_id="faq", department_id="support")]  # type: ignore[arg-type]
    )
    assert isinstance(listed.associations, tuple)
    with pytest.raises(InvalidModelError):
        SyncSettings(associations="faq")  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError):
        SyncSettings(associations=({"category_id": "faq", "department_id": "s"},))  # type: ignore[arg-type]


def test_P5_more_associations_than_the_limit_are_refused() -> None:
    too_many = tuple(
        CategoryAssociation(category_id=f"c{i}", department_id="d") for i in range(10_001)
    )
    with pytest.raises(InvalidModelError, match="more than 10000"):
        SyncSettings(associations=too_many)


def test_KB1_KB3_KB4_KB8_defaults() -> None:
    settings = SyncSettings()
    assert settings.enabled
    assert settings.permission_filter is PermissionFilter.ALL_USERS
    assert settings.status_rule is StatusRule.KEEP_PUBLISHED
    assert settings.tag == DEFAULT_SYNC_TAG
    assert not settings.remove_orphans
    assert settings.schedule is None


def test_KB1_disabling_keeps_every_other_setting() -> None:
    settings = SyncSettings(status_rule="keep_draft").with_association("faq", "support")
    disabled = attrs.evolve(settings, enabled=False)
    assert disabled.associations == settings.associations
    assert disabled.status_rule is StatusRule.KEEP_DRAFT


@pytest.mark.parametrize(
    ("rule", "permission", "admitted"),
    [
        (PermissionFilter.ALL_USERS, ArticlePermission.ALL_USERS, True),
        (PermissionFilter.ALL_USERS, ArticlePermission.REGISTERED_USERS, False),
        (PermissionFilter.REGISTERED_USERS, ArticlePermission.ALL_USERS, False),
        (PermissionFilter.REGISTERED_USERS, ArticlePermission.REGISTERED_USERS, True),
        (PermissionFilter.BOTH, ArticlePermission.ALL_USERS, True),
        (PermissionFilter.BOTH, ArticlePermission.REGISTERED_USERS, True),
    ],
)
def test_KB3_the_permission_filter(
    rule: PermissionFilter, permission: ArticlePermission, admitted: bool
) -> None:
    assert rule.admits(permission) is admitted


@pytest.mark.parametrize(
    "change",
    [
        {"permission_filter": "guests"},
        {"status_rule": "keep_archived"},
        {"enabled": "yes"},
        {"remove_orphans": 1},
        {"tag": " padded"},
        {"schedule": "daily"},
    ],
)
def test_P5_bad_settings_are_typed_errors(change: dict[str, Any]) -> None:
    with pytest.raises(InvalidModelError):
        SyncSettings(**change)


def test_KB5_settings_take_a_schedule() -> None:
    schedule = Schedule(id="kb", frequency="weekly", anchor=date(2026, 5, 4), timezone="Asia/Tokyo")
    assert SyncSettings(schedule=schedule).schedule == schedule


# -- runs -----------------------------------------------------------------------------------------


def test_KB5_KB6_a_run_names_its_occurrence_when_scheduled_and_none_when_manual() -> None:
    occurrence = Occurrence(schedule_id="kb", local_date=date(2026, 5, 1), at=T0)
    run = SyncRun(key=occurrence.key, trigger="scheduled", started_at=T0, occurrence=occurrence)
    assert run.trigger is SyncTrigger.SCHEDULED
    assert not run.finished
    done = attrs.evolve(run, finished_at=T0 + timedelta(seconds=2), created=3)
    assert done.finished
    assert done.created == 3
    with pytest.raises(InvalidModelError):
        SyncRun(key="kb@2026-05-01", trigger="scheduled", started_at=T0)
    with pytest.raises(InvalidModelError):
        SyncRun(key="other", trigger="scheduled", started_at=T0, occurrence=occurrence)
    with pytest.raises(InvalidModelError):
        SyncRun(key="k", trigger="manual", started_at=T0, occurrence=occurrence)
    with pytest.raises(InvalidModelError):
        SyncRun(key="k", trigger="manual", started_at=T0, finished_at=T0 - timedelta(seconds=1))
    with pytest.raises(InvalidModelError):
        SyncRun(key="k", trigger="manual", started_at=T0, created=-1)
    with pytest.raises(UnknownValueError):
        SyncRun(key="k", trigger="cron", started_at=T0)
