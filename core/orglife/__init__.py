"""Organisation life (组织生活: 三会一课, 主题党日 …) with attendance, the "六有" checklist of branches with
evidence photos, "六好" model-branch scoring and rankings, and the core's metrics for reports.

Domain events: ``core.attendance_recorded`` / ``core.attendance_revoked`` (see :mod:`core.orglife.service`).
"""

from core.orglife.metrics import compute_core_metrics, core_metrics

__all__ = ["compute_core_metrics", "core_metrics"]
