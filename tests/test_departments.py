"""Department mapping between the chat tool and the helpdesk (D1-D4; C8)."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskcore.errors import InvalidModelError, UnknownValueError
from deskcore.models import Department, fold
from deskcore.models.departments import (
    ChatCapability,
    DepartmentLink,
    DepartmentMapping,
    MappingDefault,
)
from deskcore.policies.departments import (
    AssociationNotice,
    auto_associate,
    match_name,
    on_chat_department_created,
    set_link,
    undo_association,
)

VIEW, CREATE, STATUS, AUTO = (
    ChatCapability.VIEW_TICKETS,
    ChatCapability.CREATE_TICKETS,
    ChatCapability.CHANGE_STATUS,
    ChatCapability.AUTO_CONVERT,
)
CHOOSE = MappingDefault.CHOOSE_EACH_TIME

HELPDESK = (
    Department(id="h-support", name="サポート"),
    Department(id="h-sales", name="営業"),
    Department(id="h-billing", name="経理"),
    Department(id="h-dev", name="開発部"),
)
CHAT = (
    Department(id="c-support", name="ｻﾎﾟｰﾄ"),  # half-width katakana
    Department(id="c-sales", name=" 営業　"),  # ideographic space
    Department(id="c-general", name="総合窓口"),  # no helpdesk match
)


def chat_link(chat_id: str, **kwargs: object) -> DepartmentLink:
    return DepartmentLink(chat_department_id=chat_id, **kwargs)  # type: ignore[arg-type]


# D1: a link is a helpdesk department or one of three defaults, exactly one ------------------


def test_D1_link_to_a_helpdesk_department() -> None:
    link = chat_link("c1", helpdesk_department_id="h1")
    assert link.default is None
    assert not link.auto


@pytest.mark.parametrize("default", list(MappingDefault))
def test_D1_link_to_a_default(default: MappingDefault) -> None:
    assert chat_link("c1", default=default).helpdesk_department_id is None


def test_D1_default_accepts_its_code() -> None:
    assert chat_link("c1", default="view_only").default is MappingDefault.VIEW_ONLY


def test_D1_both_targets_rejected() -> None:
    with pytest.raises(InvalidModelError, match="exactly one"):
        chat_link("c1", helpdesk_department_id="h1", default=CHOOSE)


def test_D1_no_target_rejected() -> None:
    with pytest.raises(InvalidModelError, match="exactly one"):
        chat_link("c1")


def test_D1_unknown_default_rejected() -> None:
    with pytest.raises(UnknownValueError):
        chat_link("c1", default="sometimes")


@pytest.mark.parametrize("bad", ["", " c1", "c\n1", 7, None])
def test_D1_bad_chat_department_id_rejected(bad: object) -> None:
    with pytest.raises(InvalidModelError):
        chat_link(bad, default=CHOOSE)  # type: ignore[arg-type]


def test_D1_auto_only_for_a_helpdesk_department() -> None:
    with pytest.raises(InvalidModelError, match="automatic"):
        chat_link("c1", default=CHOOSE, auto=True)
    with pytest.raises(InvalidModelError):
        chat_link("c1", helpdesk_department_id="h1", auto="yes")


def test_D1_evolve_revalidates() -> None:
    link = chat_link("c1", helpdesk_department_id="h1")
    with pytest.raises(InvalidModelError):
        attrs.evolve(link, default=CHOOSE)


def test_D1_duplicate_chat_department_ids_rejected() -> None:
    with pytest.raises(InvalidModelError, match="linked twice"):
        DepartmentMapping(
            links=(chat_link("c1", default=CHOOSE), chat_link("c1", helpdesk_department_id="h"))
        )


@pytest.mark.parametrize("bad", ["c1", (1, 2), 5, [None]])
def test_D1_mapping_of_non_links_rejected(bad: object) -> None:
    with pytest.raises(InvalidModelError):
        DepartmentMapping(links=bad)  # type: ignore[arg-type]


def test_D1_mapping_accepts_any_iterable_of_links() -> None:
    links = [chat_link("c1", default=CHOOSE)]
    assert DepartmentMapping(links=links).links == tuple(links)


def test_D1_unknown_chat_department_chooses_each_time() -> None:
    link = DepartmentMapping.empty().link_for("新部門")
    assert link == chat_link("新部門", default=CHOOSE)


def test_D1_with_link_replaces_in_place_or_appends() -> None:
    mapping = DepartmentMapping(
        links=(chat_link("c1", default=CHOOSE), chat_link("c2", default=CHOOSE))
    )
    replaced = mapping.with_link(chat_link("c1", helpdesk_department_id="h1"))
    assert [link.chat_department_id for link in replaced.links] == ["c1", "c2"]
    assert replaced.link_for("c1").helpdesk_department_id == "h1"
    added = replaced.with_link(chat_link("c3", default=MappingDefault.VIEW_ONLY))
    assert [link.chat_department_id for link in added.links] == ["c1", "c2", "c3"]
    assert mapping.link_for("c1").default is CHOOSE  # unchanged: values are immutable


def test_D1_set_link_by_hand() -> None:
    mapping = set_link(DepartmentMapping.empty(), "c1", helpdesk_department_id="h1")
    assert mapping.link_for("c1") == chat_link("c1", helpdesk_department_id="h1")
    mapping = set_link(mapping, "c1", default="no_integration")
    assert mapping.link_for("c1").default is MappingDefault.NO_INTEGRATION
    assert len(mapping.links) == 1


def test_D1_set_link_needs_exactly_one_target() -> None:
    with pytest.raises(InvalidModelError):
        set_link(DepartmentMapping.empty(), "c1")
    with pytest.raises(InvalidModelError):
        set_link(DepartmentMapping.empty(), "c1", helpdesk_department_id="h1", default=CHOOSE)


# D2: what each kind of link allows; C8: which searches cover all departments ---------------


@pytest.mark.parametrize(
    ("link", "allowed"),
    [
        (chat_link("c", helpdesk_department_id="h"), {VIEW, CREATE, STATUS, AUTO}),
        (chat_link("c", helpdesk_department_id="h", auto=True), {VIEW, CREATE, STATUS, AUTO}),
        (chat_link("c", default=MappingDefault.NO_INTEGRATION), set()),
        (chat_link("c", default=MappingDefault.VIEW_ONLY), {VIEW}),
        (chat_link("c", default=CHOOSE), {VIEW, CREATE, STATUS}),
    ],
)
def test_D2_capabilities(link: DepartmentLink, allowed: set[ChatCapability]) -> None:
    for capability in ChatCapability:
        assert link.allows(capability) is (capability in allowed)
    assert link.capabilities == allowed


def test_D2_unknown_department_never_auto_converts() -> None:
    link = DepartmentMapping.empty().link_for("c-unknown")
    assert not link.allows(AUTO)
    assert link.allows(CREATE)


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (chat_link("c", helpdesk_department_id="h"), False),
        (chat_link("c", default=MappingDefault.NO_INTEGRATION), False),
        (chat_link("c", default=MappingDefault.VIEW_ONLY), True),
        (chat_link("c", default=CHOOSE), True),
    ],
)
def test_C8_searches_all_departments(link: DepartmentLink, expected: bool) -> None:
    assert link.searches_all_departments is expected


# D3: names match after NFKC, case folding and trimming -------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Ｓａｌｅｓ ", "sales"),
        ("サポート", "ｻﾎﾟｰﾄ"),
        ("サポート", " サポート　"),
        ("SUPPORT", "support"),
        ("Straße", "STRASSE"),
        ("営業", "営業"),
    ],
)
def test_D3_names_match(a: str, b: str) -> None:
    assert match_name(a, b)
    assert match_name(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [("サポート", "サポート部"), ("営業", "営業 1"), ("sales", "saIes"), ("", ""), ("　", " ")],
)
def test_D3_names_do_not_match(a: str, b: str) -> None:
    assert not match_name(a, b)


@given(st.text(max_size=20), st.text(max_size=20))
def test_D3_match_is_folded_equality_of_non_blank_names(a: str, b: str) -> None:
    assert match_name(a, b) is (fold(a) == fold(b) != "")
    assert match_name(a, b) is match_name(b, a)


def test_D3_enable_maps_every_matching_name() -> None:
    mapping, notices = auto_associate(CHAT, HELPDESK)
    assert mapping.links == (
        chat_link("c-support", helpdesk_department_id="h-support", auto=True),
        chat_link("c-sales", helpdesk_department_id="h-sales", auto=True),
        chat_link("c-general", default=CHOOSE),
    )
    assert [(n.chat_department_id, n.helpdesk_department_id) for n in notices] == [
        ("c-support", "h-support"),
        ("c-sales", "h-sales"),
    ]
    assert all(n.code == "auto_associated" and "auto-associated" in n.message for n in notices)


def test_D3_however_many_there_are() -> None:
    helpdesk = [Department(id=f"h{i}", name=f"部門{i}") for i in range(500)]
    chat = [Department(id=f"c{i}", name=f"ＢＵ{i}" if i % 2 else f"部門{i}") for i in range(500)]
    mapping, notices = auto_associate(chat, helpdesk)
    assert len(notices) == 250
    assert all(
        mapping.link_for(f"c{i}").helpdesk_department_id == f"h{i}" for i in range(0, 500, 2)
    )
    assert all(mapping.link_for(f"c{i}").default is CHOOSE for i in range(1, 500, 2))


def test_D3_ambiguous_name_chooses_each_time() -> None:
    helpdesk = [Department(id="h1", name="サポート"), Department(id="h2", name="ｻﾎﾟｰﾄ")]
    mapping, notices = auto_associate([Department(id="c1", name="サポート")], helpdesk)
    assert mapping.link_for("c1") == chat_link("c1", default=CHOOSE)
    assert notices == ()


def test_D3_same_helpdesk_department_listed_twice_is_not_ambiguous() -> None:
    helpdesk = [HELPDESK[0], HELPDESK[0]]
    mapping, _ = auto_associate([CHAT[0]], helpdesk)
    assert mapping.link_for("c-support").helpdesk_department_id == "h-support"


def test_D3_blank_names_never_associate() -> None:
    mapping, notices = auto_associate(
        [Department(id="c1", name="　")], [Department(id="h1", name=" ")]
    )
    assert mapping.link_for("c1").default is CHOOSE
    assert notices == ()


def test_D3_hand_made_links_are_kept() -> None:
    manual = DepartmentMapping(
        links=(
            chat_link("c-support", helpdesk_department_id="h-dev"),
            chat_link("c-sales", default=MappingDefault.VIEW_ONLY),
            chat_link("c-gone", default=MappingDefault.NO_INTEGRATION),
        )
    )
    mapping, notices = auto_associate(CHAT, HELPDESK, manual)
    assert mapping.links == (
        chat_link("c-support", helpdesk_department_id="h-dev"),
        chat_link("c-sales", default=MappingDefault.VIEW_ONLY),
        chat_link("c-general", default=CHOOSE),
        chat_link("c-gone", default=MappingDefault.NO_INTEGRATION),  # not listed: kept, last
    )
    assert notices == ()


def test_D3_automatic_links_are_rederived() -> None:
    stale = DepartmentMapping(
        links=(chat_link("c-sales", helpdesk_department_id="h-x", auto=True),)
    )
    mapping, notices = auto_associate(CHAT, HELPDESK, stale)
    assert mapping.link_for("c-sales").helpdesk_department_id == "h-sales"
    assert "c-sales" in {n.chat_department_id for n in notices}
    renamed = [Department(id="h-sales", name="営業二課")]
    mapping, _ = auto_associate(CHAT, renamed, mapping)
    assert mapping.link_for("c-sales") == chat_link("c-sales", default=CHOOSE)


def test_D3_second_run_changes_nothing_and_says_nothing() -> None:
    first, _ = auto_associate(CHAT, HELPDESK)
    second, notices = auto_associate(CHAT, HELPDESK, first)
    assert second == first
    assert notices == ()


def test_D3_duplicate_chat_department_rejected() -> None:
    with pytest.raises(InvalidModelError):
        auto_associate([CHAT[0], CHAT[0]], HELPDESK)


# D4: departments created later; undoing an association -------------------------------------


def test_D4_new_department_with_matching_name_is_auto_associated() -> None:
    mapping, _ = auto_associate(CHAT, HELPDESK)
    new = Department(id="c-billing", name="経理 ")
    mapping2, notice = on_chat_department_created(new, HELPDESK, mapping)
    assert mapping2.link_for("c-billing") == chat_link(
        "c-billing", helpdesk_department_id="h-billing", auto=True
    )
    assert mapping2.links[: len(mapping.links)] == mapping.links
    assert isinstance(notice, AssociationNotice)
    assert notice.chat_department_id == "c-billing"
    assert notice.helpdesk_department_id == "h-billing"
    assert "auto-associated" in notice.message
    assert "経理" in notice.message


def test_D4_new_department_without_match_chooses_each_time() -> None:
    mapping, notice = on_chat_department_created(
        Department(id="c-new", name="広報"), HELPDESK, DepartmentMapping.empty()
    )
    assert mapping.links == (chat_link("c-new", default=CHOOSE),)
    assert notice is None


def test_D4_new_department_already_mapped_by_hand_is_kept() -> None:
    manual = set_link(DepartmentMapping.empty(), "c-billing", default="view_only")
    mapping, notice = on_chat_department_created(
        Department(id="c-billing", name="経理"), HELPDESK, manual
    )
    assert mapping == manual
    assert notice is None


def test_D4_undo_sets_choose_each_time_and_sticks() -> None:
    mapping, _ = auto_associate(CHAT, HELPDESK)
    undone = undo_association(mapping, "c-support")
    assert undone.link_for("c-support") == chat_link("c-support", default=CHOOSE)
    assert not undone.link_for("c-support").auto
    assert [link.chat_department_id for link in undone.links] == [
        link.chat_department_id for link in mapping.links
    ]
    # Enabling again respects the undo: it is a choice made by hand.
    again, notices = auto_associate(CHAT, HELPDESK, undone)
    assert again == undone
    assert notices == ()


# Properties of automatic association -------------------------------------------------------

NAMES = st.sampled_from(
    [
        "サポート",
        "ｻﾎﾟｰﾄ",
        " サポート　",
        "営業",
        "Ｓａｌｅｓ",
        "sales",
        "SALES ",
        "経理",
        "開発部",
        "",
    ]
) | st.text(max_size=6)
DEFAULTS = st.sampled_from(list(MappingDefault))


@st.composite
def departments(draw: st.DrawFn, prefix: str) -> list[Department]:
    names = draw(st.lists(NAMES, max_size=8))
    return [Department(id=f"{prefix}{i}", name=name) for i, name in enumerate(names)]


@st.composite
def manual_mappings(draw: st.DrawFn) -> DepartmentMapping:
    ids = draw(st.lists(st.integers(0, 10), unique=True, max_size=6))
    links = []
    for i in ids:
        if draw(st.booleans()):
            links.append(chat_link(f"c{i}", helpdesk_department_id=f"h{draw(st.integers(0, 9))}"))
        else:
            links.append(chat_link(f"c{i}", default=draw(DEFAULTS)))
    return DepartmentMapping(links=tuple(links))


@given(departments("c"), departments("h"), manual_mappings())
def test_D3_properties_of_auto_associate(
    chat: list[Department], helpdesk: list[Department], manual: DepartmentMapping
) -> None:
    mapping, notices = auto_associate(chat, helpdesk, manual)
    by_id = {d.id: d for d in helpdesk}
    # Listed chat departments come first, in their order, each linked once.
    assert [link.chat_department_id for link in mapping.links[: len(chat)]] == [d.id for d in chat]
    for department in chat:
        link = mapping.link_for(department.id)
        # Exactly one target (the model guarantees it; check it survived).
        assert (link.helpdesk_department_id is None) != (link.default is None)
        if manual.has_link(department.id):
            assert link == manual.link_for(department.id)  # a hand-made link is never overwritten
        elif link.auto:
            assert link.helpdesk_department_id is not None
            target = by_id[link.helpdesk_department_id]
            assert match_name(department.name, target.name)
            assert [h.id for h in helpdesk if match_name(department.name, h.name)] == [target.id]
        else:
            assert link.default is CHOOSE
            assert len({h.id for h in helpdesk if match_name(department.name, h.name)}) != 1
    # Links of chat departments not listed survive.
    for old in manual.links:
        assert mapping.link_for(old.chat_department_id) == old
    # Notices name exactly the new automatic links.
    assert {(n.chat_department_id, n.helpdesk_department_id) for n in notices} == {
        (link.chat_department_id, link.helpdesk_department_id)
        for link in mapping.links
        if link.auto
    }
    # Idempotent: a second run gives the same mapping and no notices.
    assert auto_associate(chat, helpdesk, mapping) == (mapping, ())


@given(departments("c"), departments("h"))
def test_D4_created_one_by_one_agrees_with_enable(
    chat: list[Department], helpdesk: list[Department]
) -> None:
    at_once, notices = auto_associate(chat, helpdesk)
    mapping = DepartmentMapping.empty()
    one_by_one = []
    for department in chat:
        mapping, notice = on_chat_department_created(department, helpdesk, mapping)
        assert (notice is not None) is mapping.link_for(department.id).auto
        if notice is not None:
            one_by_one.append(notice)
    assert mapping == at_once
    assert tuple(one_by_one) == notices


@given(departments("c"), departments("h"), st.data())
def test_D4_undo_always_leaves_choose_each_time(
    chat: list[Department], helpdesk: list[Department], data: st.DataObject
) -> None:
    mapping, _ = auto_associate(chat, helpdesk)
    target = data.draw(st.sampled_from([d.id for d in chat] + ["c-other"]))
    undone = undo_association(mapping, target)
    assert undone.link_for(target) == chat_link(target, default=CHOOSE)
    assert auto_associate(chat, helpdesk, undone)[0].link_for(target).default is CHOOSE
