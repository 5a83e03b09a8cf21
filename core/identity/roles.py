"""Roles and the permissions they carry. Plugins add their own roles through the plugin host."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    name: str
    title_zh: str
    title_en: str
    permissions: frozenset[str]


# Permission names are "<area>.<verb>". Keep this list and the routes' declarations in step.
TENANT_READ = "tenant.read"
TENANT_MANAGE = "tenant.manage"
AUDIT_READ = "audit.read"
FILE_READ = "file.read"
FILE_WRITE = "file.write"
USER_MANAGE = "user.manage"
PLUGIN_MANAGE = "plugin.manage"
EVENT_READ = "event.read"
ORG_MANAGE = "org.manage"
MEMBER_READ = "member.read"
MEMBER_WRITE = "member.write"
MEMBER_REVEAL = "member.reveal"
ORGLIFE_WRITE = "orglife.write"  # record organisation life, attendance and the "六有" checklist
STANDARDS_MANAGE = "standards.manage"  # "六好" items, scores, ranking publication
TRANSFER_MANAGE = "transfer.manage"  # decide on organisation-relation transfers into the tenant
REPORT_READ = "report.read"  # roll-up statistics, their Excel export and the work report

TENANT_ADMIN = Role(
    "tenant_admin",
    "单位管理员",
    "Tenant administrator",
    frozenset(
        {
            TENANT_READ,
            TENANT_MANAGE,
            AUDIT_READ,
            FILE_READ,
            FILE_WRITE,
            USER_MANAGE,
            PLUGIN_MANAGE,
            EVENT_READ,
            ORG_MANAGE,
            MEMBER_READ,
            MEMBER_WRITE,
            MEMBER_REVEAL,
            ORGLIFE_WRITE,
            STANDARDS_MANAGE,
            TRANSFER_MANAGE,
            REPORT_READ,
        }
    ),
)
BRANCH_SECRETARY = Role(
    "branch_secretary",
    "党支部书记",
    "Branch secretary",
    frozenset({TENANT_READ, FILE_READ, FILE_WRITE, MEMBER_READ, MEMBER_WRITE, ORGLIFE_WRITE}),
)
MEMBER = Role("member", "党员", "Member", frozenset({TENANT_READ, FILE_READ}))

CORE_ROLES: tuple[Role, ...] = (TENANT_ADMIN, BRANCH_SECRETARY, MEMBER)


class RoleRegistry:
    """All roles known to this process: the core's plus those plugins declare."""

    def __init__(self, roles: tuple[Role, ...] = CORE_ROLES) -> None:
        self._roles: dict[str, Role] = {}
        for role in roles:
            self.add(role)

    def add(self, role: Role) -> None:
        self._roles[role.name] = role

    def get(self, name: str) -> Role | None:
        return self._roles.get(name)

    def names(self) -> list[str]:
        return sorted(self._roles)

    def permissions_of(self, name: str) -> frozenset[str]:
        role = self._roles.get(name)
        return role.permissions if role else frozenset()
