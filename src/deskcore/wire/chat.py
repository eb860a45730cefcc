"""The chat integration's settings document (C1-C4, C11, D1): JSON in, domain settings out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, Strict, model_validator

from deskcore.models.chat import ChatSettings, ConvertWhen, ConvertWhich, LinkState, LookupScope
from deskcore.models.departments import DepartmentLink, DepartmentMapping, MappingDefault
from deskcore.models.enums import TicketStatus
from deskcore.wire._types import FromList, Identifier, WireModel

__all__ = [
    "ChatIntegrationDocument",
    "DepartmentLinkPayload",
    "parse_chat_integration",
]


class DepartmentLinkPayload(WireModel):
    """Where one chat-tool department goes (D1): a helpdesk department, or a default."""

    chat_department_id: Identifier
    """The chat tool's department."""
    helpdesk_department_id: Identifier | None = None
    """The helpdesk department its chats become tickets in."""
    default: Annotated[MappingDefault, Strict(False)] | None = None
    """``no_integration``, ``view_only`` or ``choose_each_time``, instead of a department."""
    auto: bool = False
    """The link was made automatically because the names match (D3, D4); undoing it sets the
    chat department to choose each time."""

    @model_validator(mode="after")
    def _one_target(self) -> DepartmentLinkPayload:
        if (self.helpdesk_department_id is None) == (self.default is None):
            raise ValueError("give exactly one of helpdesk_department_id and default (D1)")
        if self.auto and self.helpdesk_department_id is None:
            raise ValueError("only a link to a helpdesk department can be automatic (D3)")
        return self


class ChatIntegrationDocument(WireModel):
    """The chat integration's settings, as a host stores them or an admin edits them."""

    schema_version: Literal[1] = 1
    """The version of this document format."""
    enabled: bool = True
    """The integration is on; disabling keeps every setting (C11)."""
    convert: Annotated[ConvertWhich, Strict(False)] = ConvertWhich.ALL
    """Which chats convert automatically: ``all``, ``attended``, ``missed`` or ``none`` (C1)."""
    when: Annotated[ConvertWhen, Strict(False)] = ConvertWhen.ON_END
    """When attended chats convert: ``on_answer`` or ``on_end`` (C2)."""
    ticket_status: Literal["open", "closed"] = "open"
    """The status of tickets made from chats (C3)."""
    owner_id: Identifier
    """The helpdesk admin who enabled the integration (C11)."""
    link_state: Annotated[LinkState, Strict(False)] = LinkState.LINKED
    """``needs_relink`` once the owner was deleted or deactivated (C11)."""
    lookup_scope: Annotated[LookupScope, Strict(False)] = LookupScope.ALL_DEPARTMENTS
    """Ticket lookups from a chat cover ``all_departments`` or ``associated_departments``
    only; view-only and choose-each-time departments always see all of them (C8)."""
    departments: Annotated[
        tuple[DepartmentLinkPayload, ...], FromList, Field(max_length=10_000)
    ] = ()
    """The department mapping (D1); chat departments not listed choose each time (D4)."""

    @classmethod
    def from_domain(
        cls, settings: ChatSettings, mapping: DepartmentMapping
    ) -> ChatIntegrationDocument:
        """The document of ``settings`` and ``mapping``, ready to store (``model_dump_json``).

        ``to_settings`` and ``to_mapping`` give them back unchanged.
        """
        links = [
            {
                "chat_department_id": link.chat_department_id,
                "helpdesk_department_id": link.helpdesk_department_id,
                "default": None if link.default is None else link.default.value,
                "auto": link.auto,
            }
            for link in mapping.links
        ]
        return cls.model_validate(
            {
                "enabled": settings.enabled,
                "convert": settings.convert.value,
                "when": settings.when.value,
                "ticket_status": settings.ticket_status.value,
                "owner_id": settings.owner_id,
                "link_state": settings.link_state.value,
                "lookup_scope": settings.lookup_scope.value,
                "departments": links,
            }
        )

    def to_settings(self) -> ChatSettings:
        """The domain settings."""
        return ChatSettings(
            enabled=self.enabled,
            convert=self.convert,
            when=self.when,
            ticket_status=TicketStatus(self.ticket_status),
            owner_id=self.owner_id,
            link_state=self.link_state,
            lookup_scope=self.lookup_scope,
        )

    def to_mapping(self) -> DepartmentMapping:
        """The domain department mapping.

        Raises:
            InvalidModelError: A chat department is listed twice.
        """
        return DepartmentMapping(
            links=tuple(
                DepartmentLink(
                    chat_department_id=link.chat_department_id,
                    helpdesk_department_id=link.helpdesk_department_id,
                    default=link.default,
                    auto=link.auto,
                )
                for link in self.departments
            )
        )


def parse_chat_integration(
    data: bytes | bytearray | str | Mapping[str, Any],
) -> ChatIntegrationDocument:
    """Parse the chat integration's settings document at the edge (P6).

    Raises:
        pydantic.ValidationError: The document is malformed, has unknown fields or bad values.
    """
    if isinstance(data, bytes | bytearray | str):
        return ChatIntegrationDocument.model_validate_json(data)
    return ChatIntegrationDocument.model_validate(dict(data))
