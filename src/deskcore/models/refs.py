"""External references: where a ticket or a thread item came from (T6)."""

from __future__ import annotations

import re

import attrs

from deskcore.errors import InvalidModelError
from deskcore.models._validate import identifier

__all__ = ["ExternalReference"]


_ESCAPE = re.compile(r"%(25|2[Ff])")


def _part(value: str) -> str:
    # '/' separates the parts and '%' escapes; both may occur in native ids (an email
    # Message-ID, a URL), so they are percent-encoded in the string form.
    return value.replace("%", "%25").replace("/", "%2F")


def _unpart(value: str) -> str:
    return _ESCAPE.sub(lambda m: "%" if m.group(1) == "25" else "/", value)


@attrs.frozen(order=True, cache_hash=True)
class ExternalReference:
    """``network/account/kind/native_id``: a tweet, a Facebook comment, a chat session, an email.

    One external reference maps to at most one ticket (T6, P3); repositories enforce it with a
    unique claim.

    Attributes:
        network: The platform (``twitter``, ``facebook``, ``chat``, ``email``).
        account: The brand's channel account on that network (a page id, a mailbox).
        kind: What the id names (``tweet``, ``dm``, ``comment``, ``chat_session``, ``message``).
        native_id: The platform's own id.
    """

    network: str = attrs.field(validator=identifier)
    account: str = attrs.field(validator=identifier)
    kind: str = attrs.field(validator=identifier)
    native_id: str = attrs.field(validator=identifier)

    def __str__(self) -> str:
        return "/".join(_part(p) for p in (self.network, self.account, self.kind, self.native_id))

    @classmethod
    def parse(cls, text: str) -> ExternalReference:
        """Parse the string form produced by ``str(reference)``.

        Raises:
            InvalidModelError: ``text`` does not have four non-empty parts.
        """
        parts = text.split("/")
        if len(parts) != 4:
            raise InvalidModelError(
                cls.__name__, "text", f"{text!r} is not 'network/account/kind/native_id'"
            )
        network, account, kind, native_id = (_unpart(p) for p in parts)
        return cls(network=network, account=account, kind=kind, native_id=native_id)
