"""Department mapping policy: match names, associate automatically, undo (D1, D3, D4).

Pure functions over :class:`~deskcore.models.departments.DepartmentMapping`. Automatic
association links a chat department to the one helpdesk department whose name matches; a name
matching none or several helpdesk departments leaves the chat department to choose each time,
so nothing converts into a guessed department (D2).

Links made by hand (``auto=False``: a manual mapping, a default, an undone association) are
never overwritten by automatic association; automatic links are re-derived from the names.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from deskcore.models import Department, fold
from deskcore.models.departments import DepartmentLink, DepartmentMapping, MappingDefault

__all__ = [
    "AssociationNotice",
    "auto_associate",
    "match_name",
    "on_chat_department_created",
    "set_link",
    "undo_association",
]


def match_name(a: str, b: str) -> bool:
    """True when two department names match (D3).

    Names match when they are equal after Unicode NFKC normalisation, case folding and
    trimming: ``"Ｓａｌｅｓ "`` matches ``"sales"``, ``"ｻﾎﾟｰﾄ"`` matches ``"サポート"``. A blank
    name matches nothing, not even another blank name.
    """
    folded = fold(a)
    return bool(folded) and folded == fold(b)


@attrs.frozen(kw_only=True)
class AssociationNotice:
    """A chat department was auto-associated with a helpdesk department (D4).

    Attributes:
        chat_department_id: The chat department.
        helpdesk_department_id: The helpdesk department it is now mapped to.
        message: A sentence for the admin, saying it was auto-associated and how to undo it.
        code: Stable reason code, ``auto_associated``.
    """

    chat_department_id: str
    helpdesk_department_id: str
    message: str
    code: str = "auto_associated"


def _choose_each_time(chat_department_id: str) -> DepartmentLink:
    return DepartmentLink(
        chat_department_id=chat_department_id, default=MappingDefault.CHOOSE_EACH_TIME
    )


def _index(helpdesk_departments: Sequence[Department]) -> dict[str, list[Department]]:
    """Helpdesk departments by folded name; blank names are left out (they match nothing)."""
    index: dict[str, list[Department]] = {}
    for department in helpdesk_departments:
        key = fold(department.name)
        if not key:
            continue
        same = index.setdefault(key, [])
        if all(d.id != department.id for d in same):
            same.append(department)
    return index


def _associate(
    chat_department: Department,
    index: dict[str, list[Department]],
    mapping: DepartmentMapping,
) -> tuple[DepartmentLink, AssociationNotice | None]:
    """The link of one chat department, and a notice when it is newly auto-associated."""
    if mapping.has_link(chat_department.id):
        current = mapping.link_for(chat_department.id)
        if not current.auto:
            return current, None  # made by hand: kept
    else:
        current = None
    candidates = index.get(fold(chat_department.name), [])
    if len(candidates) != 1:
        # No match, or an ambiguous one: never guess (D2, D3).
        return _choose_each_time(chat_department.id), None
    target = candidates[0]
    link = DepartmentLink(
        chat_department_id=chat_department.id, helpdesk_department_id=target.id, auto=True
    )
    if link == current:
        return link, None  # already associated: no news
    notice = AssociationNotice(
        chat_department_id=chat_department.id,
        helpdesk_department_id=target.id,
        message=(
            f"Chat department {chat_department.name!r} was auto-associated with helpdesk "
            f"department {target.name!r} because their names match; undo the association "
            "to choose the department each time instead."
        ),
    )
    return link, notice


def auto_associate(
    chat_departments: Sequence[Department],
    helpdesk_departments: Sequence[Department],
    mapping: DepartmentMapping | None = None,
) -> tuple[DepartmentMapping, tuple[AssociationNotice, ...]]:
    """Map chat departments to helpdesk departments by name, when the integration is enabled (D3).

    Every chat department whose name matches exactly one helpdesk department is linked to it
    (``auto=True``), however many there are. Links in ``mapping`` made by hand are kept;
    automatic ones are re-derived. A chat department matching no helpdesk department, or
    several (two with the same folded name), is set to choose each time.

    Returns:
        The new mapping, with the chat departments' links in their order, followed by any links
        of ``mapping`` for chat departments not listed (kept unchanged); and a notice for each
        association that is new. Running it again on its own result changes nothing.

    Raises:
        InvalidModelError: When a chat department id is listed twice.
    """
    base = DepartmentMapping.empty() if mapping is None else mapping
    index = _index(helpdesk_departments)
    links: list[DepartmentLink] = []
    notices: list[AssociationNotice] = []
    for department in chat_departments:
        link, notice = _associate(department, index, base)
        links.append(link)
        if notice is not None:
            notices.append(notice)
    listed = {department.id for department in chat_departments}
    links.extend(link for link in base.links if link.chat_department_id not in listed)
    return DepartmentMapping(links=tuple(links)), tuple(notices)


def on_chat_department_created(
    department: Department,
    helpdesk_departments: Sequence[Department],
    mapping: DepartmentMapping,
) -> tuple[DepartmentMapping, AssociationNotice | None]:
    """Map a chat department created after the integration was enabled (D4).

    A name matching exactly one helpdesk department links it automatically and yields a notice
    that it was auto-associated; otherwise the department is set to choose each time, without
    a notice. A link already made by hand for the department is kept.
    """
    link, notice = _associate(department, _index(helpdesk_departments), mapping)
    return mapping.with_link(link), notice


def undo_association(mapping: DepartmentMapping, chat_department_id: str) -> DepartmentMapping:
    """Undo an automatic association: the chat department chooses each time (D4).

    The new link is manual (``auto=False``), so automatic association leaves it alone. Undoing
    a department that was not auto-associated also sets it to choose each time.
    """
    return mapping.with_link(_choose_each_time(chat_department_id))


def set_link(
    mapping: DepartmentMapping,
    chat_department_id: str,
    *,
    helpdesk_department_id: str | None = None,
    default: MappingDefault | str | None = None,
) -> DepartmentMapping:
    """Map a chat department by hand to a helpdesk department or a default (D1).

    Raises:
        InvalidModelError: Unless exactly one of ``helpdesk_department_id`` and ``default`` is
            given, or when an id or the default is malformed.
    """
    link = DepartmentLink(
        chat_department_id=chat_department_id,
        helpdesk_department_id=helpdesk_department_id,
        default=default,
    )
    return mapping.with_link(link)
