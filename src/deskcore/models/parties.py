"""Who is involved: contacts, accounts, departments, brands and actors (T2, T7)."""

from __future__ import annotations

import attrs

from deskcore.errors import PermissionDeniedError
from deskcore.models import enums
from deskcore.models._validate import (
    identifier,
    members,
    optional_identifier,
    text,
    tuple_of,
)
from deskcore.models.enums import Permission, Role

__all__ = ["Account", "Actor", "Brand", "Contact", "Department"]

_name = text(1000)
_short = text(320)


def _optional_short(
    instance: object, attribute: attrs.Attribute[str | None], value: object
) -> None:
    if value is not None:
        _short(instance, attribute, value)


@attrs.frozen(kw_only=True)
class Contact:
    """A customer (連絡先). The host owns contacts; deskcore keeps what intake needs."""

    id: str = attrs.field(validator=identifier)
    name: str = attrs.field(default="", validator=_name)
    email: str | None = attrs.field(default=None, validator=_optional_short)
    phone: str | None = attrs.field(default=None, validator=_optional_short)
    account_id: str | None = attrs.field(default=None, validator=optional_identifier)


@attrs.frozen(kw_only=True)
class Account:
    """A customer organisation (取引先)."""

    id: str = attrs.field(validator=identifier)
    name: str = attrs.field(validator=_name)


@attrs.frozen(kw_only=True)
class Department:
    """A helpdesk department (部門); tickets belong to exactly one."""

    id: str = attrs.field(validator=identifier)
    name: str = attrs.field(validator=_name)


@attrs.frozen(kw_only=True)
class Brand:
    """A brand groups the connected social channel accounts (S7)."""

    id: str = attrs.field(validator=identifier)
    name: str = attrs.field(validator=_name)
    channel_accounts: tuple[str, ...] = attrs.field(
        default=(), converter=tuple, validator=tuple_of(str)
    )


@attrs.frozen(kw_only=True)
class Actor:
    """Someone acting on the desk: an agent, an admin, or an automated integration (T7).

    Roles and permissions are independent sets: the host decides what each role grants and
    passes the actor's effective permissions.
    """

    id: str = attrs.field(validator=identifier)
    name: str = attrs.field(default="", validator=_name)
    roles: frozenset[Role] = attrs.field(
        default=frozenset(), converter=enums.to_roles, validator=members(Role)
    )
    permissions: frozenset[Permission] = attrs.field(
        default=frozenset(), converter=enums.to_permissions, validator=members(Permission)
    )

    def can(self, permission: Permission) -> bool:
        """True when the actor holds ``permission``."""
        return permission in self.permissions

    def require(self, permission: Permission, operation: str) -> None:
        """Raise :class:`PermissionDeniedError` naming ``permission`` unless the actor holds it."""
        if permission not in self.permissions:
            raise PermissionDeniedError(self.id, permission.value, operation)

    def require_role(self, role: Role, operation: str) -> None:
        """Raise :class:`PermissionDeniedError` naming ``role`` unless the actor has it."""
        if role not in self.roles:
            raise PermissionDeniedError(self.id, f"role:{role.value}", operation)
