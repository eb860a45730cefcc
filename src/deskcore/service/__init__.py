"""Use cases: the only layer that touches ports (P1)."""

from deskcore.service.crm import (
    CrmAutomation,
    CrmOutcome,
)
from deskcore.service.desk import ChatOutcome, Desk, IntakeResult
from deskcore.service.kbsync import MANUAL_SYNC_ID, KnowledgeSync, SyncOutcome, SyncResult
from deskcore.service.levels import FollowUp, ServiceLevelCheck
from deskcore.service.runtime import SystemClock, UuidIds
from deskcore.service.social import AppendCheck, SocialOutcome

__all__ = [
    "MANUAL_SYNC_ID",
    "AppendCheck",
    "ChatOutcome",
    "CrmAutomation",
    "CrmOutcome",
    "Desk",
    "FollowUp",
    "IntakeResult",
    "KnowledgeSync",
    "ServiceLevelCheck",
    "SocialOutcome",
    "SyncOutcome",
    "SyncResult",
    "SystemClock",
    "UuidIds",
]
