"""The audit screens (系统管理 › 审计日志): read-only, scoped like every registry screen (a
SchoolLeader sees their school's entries, a BureauOfficer their region's), with personal
values masked for roles outside UNMASKED_ROLES."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import g
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l

from ..base_views import ScopedModelView, current_scope
from ..lookups import RegistryInterface
from ..models import AuditLog
from ..security.masking import mask_changes


class AuditLogView(ScopedModelView):
    datamodel = RegistryInterface(AuditLog)
    class_permission_name = "AuditLog"
    base_permissions = ["can_read"]
    list_title = _l("Audit log")
    show_title = _l("Audit entry")
    list_columns = ["at", "username", "action", "table_name", "row_pk", "reason"]
    # `changes` is rendered by the template, masked; never through the plain show widget.
    show_columns = [
        "at",
        "username",
        "address",
        "action",
        "table_name",
        "row_pk",
        "region_code",
        "reason",
        "prev_hash",
        "entry_hash",
    ]
    search_columns = ["username", "action", "table_name", "at"]
    label_columns = {
        "at": _l("When"),
        "username": _l("Who"),
        "address": _l("IP address"),
        "action": _l("Action"),
        "table_name": _l("Table"),
        "row_pk": _l("Record ID"),
        "region_code": _l("Region code"),
        "reason": _l("Reason"),
        "prev_hash": _l("Previous hash"),
        "entry_hash": _l("Entry hash"),
    }
    base_order = ("id", "desc")
    page_size = 50
    show_template = "xueji/audit_show.html"
    # FAB names its own module as the blueprint's import name, so give the folder absolutely.
    template_folder = str(Path(__file__).parent / "templates")

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk: Any) -> Any:
        item = self.datamodel.get(pk, self._base_filters)
        if item is not None:
            g.xueji_audit_changes = mask_changes(
                item.table_name, dict(item.changes or {}), current_scope()
            )
        return super().show(pk)
