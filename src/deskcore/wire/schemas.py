"""JSON Schema export of the wire models (P6)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter

from deskcore.wire.chat import ChatIntegrationDocument
from deskcore.wire.crm import CrmSettingsDocument
from deskcore.wire.documents import TicketDocument
from deskcore.wire.events import DOMAIN_EVENT_ADAPTER
from deskcore.wire.inbound import InboundMessageEvent
from deskcore.wire.kbsync import KbSyncSettingsDocument
from deskcore.wire.replay import ReplayEntry, ReplaySettingsDocument
from deskcore.wire.sla import SlaSettingsDocument
from deskcore.wire.social import SocialItemEvent, SocialSettingsDocument

__all__ = ["JSON_SCHEMA_DIALECT", "json_schemas"]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema dialect of the exported schemas."""

_MODELS: dict[str, type[BaseModel] | TypeAdapter[Any]] = {
    "inbound_message_event": InboundMessageEvent,
    "ticket": TicketDocument,
    "chat_integration": ChatIntegrationDocument,
    "social_item": SocialItemEvent,
    "social_settings": SocialSettingsDocument,
    "kb_sync_settings": KbSyncSettingsDocument,
    "sla_settings": SlaSettingsDocument,
    "crm_settings": CrmSettingsDocument,
    "replay_entry": TypeAdapter(ReplayEntry),
    "replay_settings": ReplaySettingsDocument,
    "domain_event": DOMAIN_EVENT_ADAPTER,
}


def json_schemas() -> dict[str, dict[str, Any]]:
    """Return the JSON Schema of every top-level wire model, keyed by a stable name.

    The names are ``inbound_message_event`` (:class:`InboundMessageEvent`), ``ticket``
    (:class:`TicketDocument`), ``chat_integration`` (:class:`ChatIntegrationDocument`),
    ``social_item`` (:class:`SocialItemEvent`), ``social_settings``
    (:class:`SocialSettingsDocument`), ``kb_sync_settings`` (:class:`KbSyncSettingsDocument`),
    ``sla_settings`` (:class:`SlaSettingsDocument`), ``crm_settings``
    (:class:`CrmSettingsDocument`), ``replay_entry`` (one line of a replay stream, any
    kind: :data:`~deskcore.wire.replay.ReplayEntry`), ``replay_settings``
    (:class:`~deskcore.wire.replay.ReplaySettingsDocument`) and ``domain_event`` (what
    :func:`~deskcore.wire.events.event_to_document` writes for any domain event).
    Each schema describes what the model accepts as JSON input, is self-contained (nested
    models under ``$defs``), names its dialect in ``$schema``, and is plain JSON data
    (``json.dumps`` works on it). A fresh copy is built on each call.

    Returns:
        A mapping of schema name to JSON Schema document.
    """
    schemas: dict[str, dict[str, Any]] = {}
    for name, model in _MODELS.items():
        schema = (
            model.json_schema(mode="validation")
            if isinstance(model, TypeAdapter)
            else model.model_json_schema(mode="validation")
        )
        schemas[name] = {"$schema": JSON_SCHEMA_DIALECT, **schema}
    return schemas
