"""Department mapping between the chat tool and the helpdesk (D1, D2; C8).

Each chat-tool department maps either to one helpdesk department or to one of three defaults
(D1). What agents of a chat department may do follows from its link (D2):

==================  ============  ==============  =============  ============
link                view tickets  create tickets  change status  auto-convert
==================  ============  ==============  =============  ============
helpdesk dept       yes           yes             yes            yes
no integration      no            no              no             no
view only           yes           no              no             no
choose each time    yes           yes             yes            no
==================  ============  ==============  =============  ============

A chat department the mapping does not know is treated as *choose each time*: automatic
conversion never guesses a department (D2).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import attrs

from deskcore.errors import InvalidModelError
from deskcore.models._validate import identifier, instance_of, lenient, member, optional_identifier

__all__ = ["ChatCapability", "DepartmentLink", "DepartmentMapping", "MappingDefault"]


class MappingDefault(enum.StrEnum):
    """The three defaults a chat department can take instead of a helpdesk department (D1)."""

    NO_INTEGRATION = "no_integration"
    VIEW_ONLY = "view_only"
    CHOOSE_EACH_TIME = "choose_each_time"


class ChatCapability(enum.StrEnum):
    """What agents of a chat department may do with helpdesk tickets (D2)."""

    VIEW_TICKETS = "view_tickets"
    CREATE_TICKETS = "create_tickets"  # manual conversion of a chat
    CHANGE_STATUS = "change_status"
    AUTO_CONVERT = "auto_convert"


_ALL = frozenset(ChatCapability)

_DEFAULT_CAPABILITIES: dict[MappingDefault, frozenset[ChatCapability]] = {
    MappingDefault.NO_INTEGRATION: frozenset(),
    MappingDefault.VIEW_ONLY: frozenset({ChatCapability.VIEW_TICKETS}),
    # Automatic conversion needs a mapped department; by hand the agent picks one (D2).
    MappingDefault.CHOOSE_EACH_TIME: _ALL - {ChatCapability.AUTO_CONVERT},
}


def _to_default(value: MappingDefault | str | None) -> MappingDefault | None:
    if value is None:
        return None
    return lenient(MappingDefault, value)


_default_member = member(MappingDefault)


def _optional_default(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _default_member(instance, attribute, value)


@attrs.frozen(kw_only=True)
class DepartmentLink:
    """Where one chat-tool department points: a helpdesk department or a default (D1).

    Exactly one of ``helpdesk_department_id`` and ``default`` is set.

    Attributes:
        chat_department_id: The chat tool's department.
        helpdesk_department_id: The helpdesk department it maps to, if mapped.
        default: The default it takes instead, if not mapped.
        auto: True when the link was made automatically from matching names (D3, D4);
            only a link to a helpdesk department can be automatic.
    """

    chat_department_id: str = attrs.field(validator=identifier)
    helpdesk_department_id: str | None = attrs.field(default=None, validator=optional_identifier)
    default: MappingDefault | None = attrs.field(
        default=None, converter=_to_default, validator=_optional_default
    )
    auto: bool = attrs.field(default=False, validator=instance_of(bool))

    def __attrs_post_init__(self) -> None:
        if (self.helpdesk_department_id is None) == (self.default is None):
            raise InvalidModelError(
                "DepartmentLink",
                "helpdesk_department_id",
                "set exactly one of helpdesk_department_id and default (D1)",
                chat_department_id=self.chat_department_id,
            )
        if self.auto and self.helpdesk_department_id is None:
            raise InvalidModelError(
                "DepartmentLink",
                "auto",
                "only a link to a helpdesk department can be automatic (D3)",
                chat_department_id=self.chat_department_id,
            )

    @property
    def capabilities(self) -> frozenset[ChatCapability]:
        """Everything agents of this chat department may do (D2)."""
        if self.default is None:
            return _ALL
        return _DEFAULT_CAPABILITIES[self.default]

    def allows(self, capability: ChatCapability) -> bool:
        """True when agents of this chat department may do ``capability`` (D2)."""
        return capability in self.capabilities

    @property
    def searches_all_departments(self) -> bool:
        """True when ticket lookup from a chat searches every helpdesk department (C8).

        View-only and choose-each-time departments have no department of their own to filter
        on; a mapped department may filter to its department, and "no integration" cannot
        search at all.
        """
        return self.default in (MappingDefault.VIEW_ONLY, MappingDefault.CHOOSE_EACH_TIME)


def _unique_links(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    instance_of(tuple)(instance, attribute, value)
    seen: set[str] = set()
    for link in value:  # type: ignore[attr-defined]
        instance_of(DepartmentLink)(instance, attribute, link)
        if link.chat_department_id in seen:
            raise InvalidModelError(
                "DepartmentMapping",
                attribute.name,
                f"chat department {link.chat_department_id!r} is linked twice",
                chat_department_id=link.chat_department_id,
            )
        seen.add(link.chat_department_id)


def _to_links(value: Iterable[DepartmentLink]) -> tuple[DepartmentLink, ...]:
    candidate: object = value
    if isinstance(candidate, str | bytes) or not isinstance(candidate, Iterable):
        return candidate  # type: ignore[return-value]  # reported by the validator
    return tuple(candidate)


@attrs.frozen(kw_only=True)
class DepartmentMapping:
    """The links of every known chat department, at most one per chat department (D1).

    Attributes:
        links: The links, in a stable order (the order the chat tool lists its departments).
    """

    links: tuple[DepartmentLink, ...] = attrs.field(
        default=(), converter=_to_links, validator=_unique_links
    )

    @classmethod
    def empty(cls) -> DepartmentMapping:
        """A mapping with no links: every chat department is choose-each-time."""
        return cls(links=())

    def link_for(self, chat_department_id: str) -> DepartmentLink:
        """The link of ``chat_department_id``; an unknown department is choose-each-time (D2)."""
        for link in self.links:
            if link.chat_department_id == chat_department_id:
                return link
        return DepartmentLink(
            chat_department_id=chat_department_id, default=MappingDefault.CHOOSE_EACH_TIME
        )

    def has_link(self, chat_department_id: str) -> bool:
        """True when the mapping holds a link for ``chat_department_id``."""
        return any(link.chat_department_id == chat_department_id for link in self.links)

    def with_link(self, link: DepartmentLink) -> DepartmentMapping:
        """A mapping with ``link`` replacing the one of its chat department, or added at the end."""
        links = list(self.links)
        for index, old in enumerate(links):
            if old.chat_department_id == link.chat_department_id:
                links[index] = link
                break
        else:
            links.append(link)
        return DepartmentMapping(links=tuple(links))
