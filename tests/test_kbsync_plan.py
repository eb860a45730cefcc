"""The knowledge-base sync plan (KB1-KB4, KB7-KB10; P1, P5), with property tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskcore import (
    Actor,
    ArticlePermission,
    ArticleStatus,
    InvalidModelError,
    NaiveDatetimeError,
    PermissionDeniedError,
    PermissionFilter,
    ReadOnlyArticleError,
    Role,
    SourceArticle,
    StatusRule,
    SyncAction,
    SyncedArticle,
    SyncOperation,
    SyncPlan,
    SyncReason,
    SyncSettings,
    apply_plan,
    digest_article,
    plan_sync,
    update_sync_settings,
)
from deskcore.policies import refuse_article_edit, require_sync_admin

T0 = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=1)

SETTINGS = (
    SyncSettings(tag="from-desk")
    .with_association("faq", "support")
    .with_association("billing", "sales")
)
ADMIN = Actor(id="admin-1", roles={Role.ADMIN})
AGENT = Actor(id="agent-1", roles={Role.AGENT, Role.MANAGER})


def source(article_id: str = "a-1", **changes: Any) -> SourceArticle:
    fields: dict[str, Any] = {
        "id": article_id,
        "category_id": "faq",
        "title": f"Title {article_id}",
        "body": f"Body of {article_id}",
    }
    return SourceArticle(**(fields | changes))


def synced_once(
    *sources: SourceArticle, settings: SyncSettings = SETTINGS
) -> tuple[SyncedArticle, ...]:
    """The copies after a first sync of ``sources``."""
    return apply_plan((), plan_sync(sources, (), settings, T0))


def published(copies: tuple[SyncedArticle, ...]) -> tuple[SyncedArticle, ...]:
    """The copies, published by an admin in the chat tool."""
    return tuple(attrs.evolve(c, status=ArticleStatus.PUBLISHED) for c in copies)


# -- KB4: drafts and the status rule --------------------------------------------------------------


def test_KB4_a_new_article_is_created_as_a_draft() -> None:
    plan = plan_sync([source("a-1"), source("a-2")], [], SETTINGS, T0)
    assert [op.action for op in plan.operations] == [SyncAction.CREATE, SyncAction.CREATE]
    for op in plan.creates:
        assert op.reason is SyncReason.NEW_ARTICLE
        assert op.article.status is ArticleStatus.DRAFT
        assert op.previous is None
        assert op.article.synced_at == T0
        assert op.article.department_id == "support"
    assert [op.target_id for op in plan.creates] == ["a-1", "a-2"]


def test_KB4_a_published_copy_stays_published_with_keep_published() -> None:
    copies = published(synced_once(source()))
    plan = plan_sync([source(body="New body")], copies, SETTINGS, T1)
    (op,) = plan.updates
    assert op.reason is SyncReason.CONTENT_CHANGED
    assert op.article.status is ArticleStatus.PUBLISHED
    assert op.article.body == "New body"
    assert op.article.synced_at == T1
    assert op.previous == copies[0]


def test_KB4_a_published_copy_returns_to_draft_with_keep_draft() -> None:
    settings = attrs.evolve(SETTINGS, status_rule=StatusRule.KEEP_DRAFT)
    copies = published(synced_once(source(), settings=settings))
    plan = plan_sync([source(title="New title")], copies, settings, T1)
    (op,) = plan.updates
    assert op.article.status is ArticleStatus.DRAFT
    assert op.article.title == "New title"


@pytest.mark.parametrize("rule", list(StatusRule))
def test_KB4_a_draft_stays_a_draft_on_update(rule: StatusRule) -> None:
    settings = attrs.evolve(SETTINGS, status_rule=rule)
    copies = synced_once(source(), settings=settings)
    (op,) = plan_sync([source(body="changed")], copies, settings, T1).updates
    assert op.article.status is ArticleStatus.DRAFT


def test_KB4_an_unchanged_published_copy_is_left_alone_even_with_keep_draft() -> None:
    """Decision: the status rule applies when a sync brings a change, not on every run."""
    settings = attrs.evolve(SETTINGS, status_rule=StatusRule.KEEP_DRAFT)
    copies = published(synced_once(source(), settings=settings))
    plan = plan_sync([source()], copies, settings, T1)
    (op,) = plan.operations
    assert (op.action, op.reason) == (SyncAction.UNCHANGED, SyncReason.UP_TO_DATE)
    assert op.article.status is ArticleStatus.PUBLISHED
    assert not plan.changes_anything


# -- KB8: change detection, reasons ---------------------------------------------------------------


def test_KB8_an_unchanged_article_is_reported_unchanged() -> None:
    copies = synced_once(source())
    plan = plan_sync([source()], copies, SETTINGS, T1)
    (op,) = plan.unchanged
    assert op.reason is SyncReason.UP_TO_DATE
    assert op.article is copies[0]
    assert op.article.synced_at == T0
    assert plan.counts() == {
        "create": 0,
        "update": 0,
        "unchanged": 1,
        "orphaned": 0,
        "remove": 0,
    }


def test_KB8_a_change_is_found_by_the_content_digest() -> None:
    copies = synced_once(source(content_digest="etag-1"))
    (op,) = plan_sync([source(content_digest="etag-2")], copies, SETTINGS, T1).updates
    assert op.reason is SyncReason.CONTENT_CHANGED
    assert op.article.source_digest == "etag-2"


def test_KB8_a_change_is_found_by_the_source_version() -> None:
    copies = synced_once(source(version="3"))
    (op,) = plan_sync([source(version="4")], copies, SETTINGS, T1).updates
    assert op.reason is SyncReason.SOURCE_VERSION_CHANGED
    assert op.changes == (SyncReason.SOURCE_VERSION_CHANGED,)
    assert op.article.source_version == "4"


def test_KB2_KB8_a_category_moved_to_another_department_updates_the_copy() -> None:
    copies = synced_once(source())
    moved = SETTINGS.without_association("faq").with_association("faq", "sales")
    (op,) = plan_sync([source()], copies, moved, T1).updates
    assert op.reason is SyncReason.DEPARTMENT_CHANGED
    assert op.article.department_id == "sales"
    (op,) = plan_sync([source(category_id="billing")], copies, SETTINGS, T1).updates
    assert op.article.department_id == "sales"


def test_KB10_KB8_a_permission_change_updates_the_copy() -> None:
    settings = attrs.evolve(SETTINGS, permission_filter=PermissionFilter.BOTH)
    copies = synced_once(source(), settings=settings)
    changed = source(permission=ArticlePermission.REGISTERED_USERS)
    plan = plan_sync([changed], copies, settings, T1)
    (op,) = plan.updates
    assert op.reason is SyncReason.PERMISSION_CHANGED
    assert plan.invisible_to_visitors == ("a-1",)


def test_KB7_every_copy_carries_the_tag_and_a_new_tag_updates_copies() -> None:
    copies = synced_once(source())
    assert copies[0].tag == "from-desk"
    retagged = attrs.evolve(SETTINGS, tag="kb-sync")
    (op,) = plan_sync([source()], copies, retagged, T1).updates
    assert op.reason is SyncReason.TAG_CHANGED
    assert op.article.tag == "kb-sync"


def test_KB8_an_update_lists_every_change_and_explains_them() -> None:
    copies = synced_once(source())
    changed = source(body="new", version="9", category_id="billing")
    (op,) = plan_sync([changed], copies, SETTINGS, T1).updates
    assert op.changes == (
        SyncReason.CONTENT_CHANGED,
        SyncReason.SOURCE_VERSION_CHANGED,
        SyncReason.DEPARTMENT_CHANGED,
    )
    assert op.reason is SyncReason.CONTENT_CHANGED
    assert "title or body changed" in op.explanation
    assert "another department" in op.explanation


def test_KB8_every_operation_carries_a_reason_code_and_an_explanation() -> None:
    copies = synced_once(source("a-1"), source("a-2"), source("a-3"))
    plan = plan_sync([source("a-1"), source("a-2", body="x"), source("a-4")], copies, SETTINGS, T1)
    assert [(op.action, op.reason) for op in plan.operations] == [
        (SyncAction.UNCHANGED, SyncReason.UP_TO_DATE),
        (SyncAction.UPDATE, SyncReason.CONTENT_CHANGED),
        (SyncAction.CREATE, SyncReason.NEW_ARTICLE),
        (SyncAction.ORPHANED, SyncReason.SOURCE_DELETED),
    ]
    for op in plan.operations:
        assert op.explanation.startswith(f"{op.action.value} {op.source_id}: ")


# -- KB2, KB3: what syncs -------------------------------------------------------------------------


def test_KB2_articles_sync_into_the_department_of_their_category_only() -> None:
    plan = plan_sync(
        [source("a-1"), source("a-2", category_id="billing"), source("a-3", category_id="news")],
        [],
        SETTINGS,
        T0,
    )
    assert {op.source_id: op.article.department_id for op in plan.creates} == {
        "a-1": "support",
        "a-2": "sales",
    }


@pytest.mark.parametrize(
    ("rule", "synced"),
    [
        (PermissionFilter.ALL_USERS, {"public"}),
        (PermissionFilter.REGISTERED_USERS, {"members"}),
        (PermissionFilter.BOTH, {"public", "members"}),
    ],
)
def test_KB3_which_articles_sync_follows_the_permission_filter(
    rule: PermissionFilter, synced: set[str]
) -> None:
    articles = [
        source("public", permission="all_users"),
        source("members", permission="registered_users"),
    ]
    plan = plan_sync(articles, [], attrs.evolve(SETTINGS, permission_filter=rule), T0)
    assert {op.source_id for op in plan.creates} == synced


# -- KB8: orphans ---------------------------------------------------------------------------------


def test_KB8_a_copy_whose_source_disappeared_is_orphaned_and_kept() -> None:
    copies = synced_once(source("a-1"), source("a-2"))
    plan = plan_sync([source("a-1")], copies, SETTINGS, T1)
    (op,) = plan.orphans
    assert (op.action, op.reason) == (SyncAction.ORPHANED, SyncReason.SOURCE_DELETED)
    assert op.article == copies[1]
    assert not plan.removals
    assert apply_plan(copies, plan) == copies


def test_KB8_orphans_are_removed_only_when_the_host_asks() -> None:
    settings = attrs.evolve(SETTINGS, remove_orphans=True)
    copies = synced_once(source("a-1"), source("a-2"), settings=settings)
    plan = plan_sync([source("a-1")], copies, settings, T1)
    (op,) = plan.removals
    assert (op.action, op.reason, op.target_id) == (
        SyncAction.REMOVE,
        SyncReason.SOURCE_DELETED,
        "a-2",
    )
    assert plan.orphans == plan.removals
    assert [c.target_id for c in apply_plan(copies, plan)] == ["a-1"]


def test_KB8_a_copy_whose_category_is_no_longer_associated_is_orphaned() -> None:
    copies = synced_once(source())
    plan = plan_sync([source()], copies, SETTINGS.without_association("faq"), T1)
    (op,) = plan.orphans
    assert op.reason is SyncReason.CATEGORY_NOT_ASSOCIATED
    assert op.article == copies[0]  # kept as it is, not updated


def test_KB3_KB8_a_copy_whose_permission_no_longer_passes_the_filter_is_orphaned() -> None:
    copies = synced_once(source())
    plan = plan_sync([source(permission="registered_users", body="new")], copies, SETTINGS, T1)
    (op,) = plan.orphans
    assert op.reason is SyncReason.PERMISSION_FILTERED
    assert op.article.body == copies[0].body


def test_KB8_a_second_copy_of_one_article_is_a_duplicate_orphan() -> None:
    (first,) = synced_once(source())
    second = attrs.evolve(first, target_id="zz-copy", status=ArticleStatus.PUBLISHED)
    plan = plan_sync([source()], [second, first], SETTINGS, T1)
    assert [(op.action, op.reason, op.target_id) for op in plan.operations] == [
        (SyncAction.UNCHANGED, SyncReason.UP_TO_DATE, "a-1"),
        (SyncAction.ORPHANED, SyncReason.DUPLICATE_COPY, "zz-copy"),
    ]


def test_KB8_the_copy_that_stands_for_an_article_does_not_change_with_a_sync() -> None:
    """Regression: with two published copies and keep_draft, the updated one turns draft;
    planning again must not switch to the other copy and update it too."""
    settings = attrs.evolve(SETTINGS, status_rule=StatusRule.KEEP_DRAFT)
    (first,) = published(synced_once(source(), settings=settings))
    second = attrs.evolve(first, target_id="zz-copy")
    copies = (first, second)
    plan = plan_sync([source(body="new")], copies, settings, T1)
    after = apply_plan(copies, plan)
    again = plan_sync([source(body="new")], after, settings, T1)
    assert not again.changes_anything


def test_KB8_a_created_copy_never_takes_a_target_id_another_copy_holds() -> None:
    other = attrs.evolve(synced_once(source("x"))[0], target_id="a-1")
    plan = plan_sync([source("x"), source("a-1")], [other], SETTINGS, T1)
    (op,) = plan.creates
    assert op.target_id == "a-1~2"
    again = attrs.evolve(other, target_id="a-1~2", source_id="y")
    plan = plan_sync([source("x"), source("a-1")], [other, again], SETTINGS, T1)
    assert plan.creates[0].target_id == "a-1~3"
    long_id = "L" * 255
    taken = attrs.evolve(other, target_id=long_id)
    (op,) = plan_sync([source("x"), source(long_id)], [taken], SETTINGS, T1).creates
    assert len(op.target_id) <= 255


# -- KB1: disabled --------------------------------------------------------------------------------


def test_KB1_disabled_sync_creates_nothing_and_leaves_copies_as_they_are() -> None:
    copies = synced_once(source("a-1"), source("a-2"))
    disabled = attrs.evolve(SETTINGS, enabled=False, remove_orphans=True)
    plan = plan_sync([source("a-1", body="changed"), source("a-9")], copies, disabled, T1)
    assert [(op.action, op.reason) for op in plan.operations] == [
        (SyncAction.UNCHANGED, SyncReason.SYNC_DISABLED)
    ] * 2
    assert not plan.changes_anything
    assert apply_plan(copies, plan) == copies
    assert "disabled" in plan.operations[0].explanation


# -- KB10: visibility -----------------------------------------------------------------------------


def test_KB10_the_plan_lists_the_copies_visitors_cannot_all_see() -> None:
    settings = attrs.evolve(SETTINGS, permission_filter=PermissionFilter.BOTH)
    copies = synced_once(source("old", permission="registered_users"), settings=settings)
    plan = plan_sync(
        [
            source("public"),
            source("members", permission="registered_users"),
            source("old", permission="registered_users"),
        ],
        copies,
        settings,
        T1,
    )
    assert plan.invisible_to_visitors == ("members", "old")
    # A copy being removed is not listed: it will not be there.
    removing = attrs.evolve(settings, remove_orphans=True)
    assert plan_sync([source("public")], copies, removing, T1).invisible_to_visitors == ()
    # A kept orphan still is.
    assert plan_sync([source("public")], copies, settings, T1).invisible_to_visitors == ("old",)


# -- KB7: read-only copies ------------------------------------------------------------------------


def test_KB7_an_edit_of_a_synced_article_is_refused() -> None:
    (article,) = synced_once(source())
    with pytest.raises(ReadOnlyArticleError) as caught:
        refuse_article_edit(article)
    assert caught.value.code == "read_only_article"
    assert caught.value.details == {"target_id": "a-1", "source_id": "a-1"}
    assert isinstance(caught.value, PermissionError)


# -- KB9: admins only -----------------------------------------------------------------------------


def test_KB9_only_admins_configure_the_sync() -> None:
    new = attrs.evolve(SETTINGS, enabled=False)
    assert update_sync_settings(SETTINGS, new, actor=ADMIN) is new
    with pytest.raises(PermissionDeniedError) as caught:
        update_sync_settings(SETTINGS, new, actor=AGENT)
    assert caught.value.missing == "role:admin"
    with pytest.raises(InvalidModelError):
        update_sync_settings(SETTINGS, {"enabled": False}, actor=ADMIN)  # type: ignore[arg-type]


def test_KB9_only_admins_run_the_sync() -> None:
    require_sync_admin(ADMIN)
    with pytest.raises(PermissionDeniedError) as caught:
        require_sync_admin(AGENT)
    assert caught.value.operation == "run the knowledge-base sync"


# -- P1, P5: purity and hostile input -------------------------------------------------------------


def test_P1_the_plan_is_a_value_of_its_arguments() -> None:
    copies = synced_once(source("a-1"), source("a-2"))
    sources = [source("a-1", body="x"), source("a-3")]
    first = plan_sync(sources, copies, SETTINGS, T1)
    assert plan_sync(iter(sources), iter(copies), SETTINGS, T1) == first
    assert plan_sync(sources, list(reversed(copies)), SETTINGS, T1) == first
    assert isinstance(first, SyncPlan)


@pytest.mark.parametrize(
    ("sources", "copies", "settings", "now", "error"),
    [
        ([source(), source()], [], SETTINGS, T0, InvalidModelError),
        ([{"id": "a"}], [], SETTINGS, T0, InvalidModelError),
        ([], ["copy"], SETTINGS, T0, InvalidModelError),
        ([], [], {"enabled": True}, T0, InvalidModelError),
        ([], [], SETTINGS, datetime(2026, 5, 1), NaiveDatetimeError),
        ([], [], SETTINGS, "2026-05-01T00:00:00Z", InvalidModelError),
    ],
)
def test_P5_bad_plan_input_is_a_typed_error(
    sources: Any, copies: Any, settings: Any, now: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        plan_sync(sources, copies, settings, now)


def test_P5_an_operation_holds_copies_only() -> None:
    (article,) = synced_once(source())
    with pytest.raises(InvalidModelError):
        SyncOperation(
            action=SyncAction.UPDATE,
            reason=SyncReason.CONTENT_CHANGED,
            article=article,
            previous="a-1",  # type: ignore[arg-type]
        )
    with pytest.raises(InvalidModelError):
        SyncOperation(
            action=SyncAction.CREATE,
            reason=SyncReason.NEW_ARTICLE,
            article="a-1",  # type: ignore[arg-type]
        )


def test_P5_copies_listed_twice_are_a_typed_error() -> None:
    (article,) = synced_once(source())
    with pytest.raises(InvalidModelError) as caught:
        plan_sync([], [article, article], SETTINGS, T1)
    assert caught.value.details["target_id"] == "a-1"


def test_P5_a_plan_that_does_not_fit_the_copies_is_refused_by_apply_plan() -> None:
    copies = synced_once(source())
    create = plan_sync([source()], [], SETTINGS, T0)
    with pytest.raises(InvalidModelError):
        apply_plan(copies, create)
    update = plan_sync([source(body="new")], copies, SETTINGS, T1)
    with pytest.raises(InvalidModelError):
        apply_plan((), update)


# -- property tests -------------------------------------------------------------------------------

SOURCE_IDS = ["a1", "a2", "a3", "a4", "a5"]
CATEGORIES = ["c1", "c2", "c3"]
DEPARTMENTS = ["d1", "d2"]
TEXTS = st.sampled_from(["", "Hello", "返品", "🙂 emoji", "مرحبا", "x" * 50])


@st.composite
def settings_values(draw: st.DrawFn) -> SyncSettings:
    settings = SyncSettings(
        enabled=draw(st.booleans()),
        permission_filter=draw(st.sampled_from(list(PermissionFilter))),
        status_rule=draw(st.sampled_from(list(StatusRule))),
        tag=draw(st.sampled_from(["helpdesk", "kb"])),
        remove_orphans=draw(st.booleans()),
    )
    for category in draw(st.lists(st.sampled_from(CATEGORIES), unique=True)):
        settings = settings.with_association(category, draw(st.sampled_from(DEPARTMENTS)))
    return settings


@st.composite
def source_sets(draw: st.DrawFn) -> list[SourceArticle]:
    chosen = draw(st.lists(st.sampled_from(SOURCE_IDS), unique=True))
    return [
        SourceArticle(
            id=article_id,
            category_id=draw(st.sampled_from(CATEGORIES)),
            title=draw(TEXTS),
            body=draw(TEXTS),
            permission=draw(st.sampled_from(list(ArticlePermission))),
            version=draw(st.sampled_from([None, "1", "2"])),
        )
        for article_id in chosen
    ]


@st.composite
def copy_sets(draw: st.DrawFn) -> list[SyncedArticle]:
    """Copies in any state: stale, published, duplicated, orphaned, on colliding ids."""
    target_ids = draw(
        st.lists(st.sampled_from([*SOURCE_IDS, "a1~2", "t1", "t2", "t3"]), unique=True)
    )
    copies = []
    for target_id in target_ids:
        title, body = draw(TEXTS), draw(TEXTS)
        digest = draw(st.sampled_from([digest_article(title, body), "sha256:stale"]))
        copies.append(
            SyncedArticle(
                target_id=target_id,
                source_id=draw(st.sampled_from([*SOURCE_IDS, "gone"])),
                department_id=draw(st.sampled_from(DEPARTMENTS)),
                title=title,
                body=body,
                permission=draw(st.sampled_from(list(ArticlePermission))),
                status=draw(st.sampled_from(list(ArticleStatus))),
                tag=draw(st.sampled_from(["helpdesk", "kb"])),
                source_digest=digest,
                source_version=draw(st.sampled_from([None, "1", "2"])),
                synced_at=T0,
            )
        )
    return copies


@given(sources=source_sets(), copies=copy_sets(), settings=settings_values())
def test_KB8_property_planning_again_after_applying_changes_nothing(
    sources: list[SourceArticle], copies: list[SyncedArticle], settings: SyncSettings
) -> None:
    """KB8: the plan is idempotent: applied, then planned again, it has nothing left to do;
    only kept orphans are reported again, as the same orphans."""
    first = plan_sync(sources, copies, settings, T1)
    after = apply_plan(copies, first)
    second = plan_sync(sources, after, settings, T1 + timedelta(days=1))
    assert not second.changes_anything
    assert {op.action for op in second.operations} <= {SyncAction.UNCHANGED, SyncAction.ORPHANED}
    if settings.enabled and settings.remove_orphans:
        assert not second.orphans
    assert {op.target_id for op in second.orphans} == {
        op.target_id for op in first.orphans if op.action is SyncAction.ORPHANED
    }
    assert apply_plan(after, second) == after
    assert second.invisible_to_visitors == first.invisible_to_visitors


@given(sources=source_sets(), copies=copy_sets(), settings=settings_values())
def test_KB8_property_no_copy_is_removed_unless_remove_orphans_is_on(
    sources: list[SourceArticle], copies: list[SyncedArticle], settings: SyncSettings
) -> None:
    """KB8, KB1: without ``remove_orphans`` every copy survives the plan; with it, only
    orphans go; with sync disabled, nothing changes at all."""
    plan = plan_sync(sources, copies, settings, T1)
    after = {c.target_id for c in apply_plan(copies, plan)}
    before = {c.target_id for c in copies}
    removed = before - after
    if not settings.remove_orphans:
        assert not removed
        assert not plan.removals
    assert removed == {op.target_id for op in plan.removals}
    if not settings.enabled:
        assert apply_plan(copies, plan) == tuple(sorted(copies, key=lambda c: c.target_id))


@given(sources=source_sets(), copies=copy_sets(), settings=settings_values())
def test_KB4_KB8_KB10_property_every_article_and_copy_is_accounted_for(
    sources: list[SourceArticle], copies: list[SyncedArticle], settings: SyncSettings
) -> None:
    """Every copy is in exactly one operation; every syncing source has exactly one copy
    afterwards, in its category's department; new copies are drafts (KB4); the invisible
    list is exactly the copies not for all users (KB10)."""
    plan = plan_sync(sources, copies, settings, T1)
    previous = [op.previous.target_id for op in plan.operations if op.previous is not None]
    assert sorted(previous) == sorted(c.target_id for c in copies)
    assert all(op.article.status is ArticleStatus.DRAFT for op in plan.creates)
    after = apply_plan(copies, plan)
    if settings.enabled:
        for article in sources:
            department = settings.department_for(article.category_id)
            syncs = department is not None and settings.permission_filter.admits(article.permission)
            live = [op for op in plan.operations if op.source_id == article.id]
            live = [op for op in live if op.action in (SyncAction.CREATE, SyncAction.UPDATE)] + [
                op
                for op in live
                if op.action is SyncAction.UNCHANGED and op.reason is SyncReason.UP_TO_DATE
            ]
            assert len(live) == (1 if syncs else 0)
            if syncs:
                assert live[0].article.department_id == department
                assert live[0].article.tag == settings.tag
    assert plan.invisible_to_visitors == tuple(
        sorted(c.target_id for c in after if c.permission is not ArticlePermission.ALL_USERS)
    )
