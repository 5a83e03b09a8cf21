"""Imports every core model so that the shared metadata is complete (Alembic, tests, tooling)."""

from core.audit.models import AuditEntry
from core.db.base import metadata
from core.events.models import EventDelivery, OutboxEvent
from core.identity.models import RoleGrant, User
from core.orglife.models import (
    Attendance,
    BranchScore,
    BranchScoreLine,
    BranchSixHave,
    Meeting,
    RankingEntry,
    RankingPublication,
    SixHaveEvidence,
    StandardItem,
)
from core.orgs.import_models import MemberImportJob
from core.orgs.models import CommitteeSeat, Member, Organization, Participation
from core.orgs.transfer_models import MemberTransfer
from core.plugin_host.models import PluginActivation
from core.reports.models import ReportDistinct, ReportSubject, ReportSum
from core.storage.models import StoredFile
from core.tenancy.models import Tenant

__all__ = [
    "Attendance",
    "AuditEntry",
    "BranchScore",
    "BranchScoreLine",
    "BranchSixHave",
    "CommitteeSeat",
    "EventDelivery",
    "Meeting",
    "Member",
    "MemberImportJob",
    "MemberTransfer",
    "Organization",
    "OutboxEvent",
    "Participation",
    "PluginActivation",
    "RankingEntry",
    "RankingPublication",
    "ReportDistinct",
    "ReportSubject",
    "ReportSum",
    "RoleGrant",
    "SixHaveEvidence",
    "StandardItem",
    "StoredFile",
    "Tenant",
    "User",
    "metadata",
]
