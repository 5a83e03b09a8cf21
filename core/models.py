"""Imports every core model so that the shared metadata is complete (Alembic, tests, tooling)."""

from core.audit.models import AuditEntry
from core.db.base import metadata
from core.events.models import EventDelivery, OutboxEvent
from core.identity.models import RoleGrant, User
from core.orgs.models import Member, Organization, Participation
from core.plugin_host.models import PluginActivation
from core.storage.models import StoredFile
from core.tenancy.models import Tenant

__all__ = [
    "AuditEntry",
    "EventDelivery",
    "Member",
    "Organization",
    "OutboxEvent",
    "Participation",
    "PluginActivation",
    "RoleGrant",
    "StoredFile",
    "Tenant",
    "User",
    "metadata",
]
