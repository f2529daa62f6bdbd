"""REST resource `diploma`: list and read certificates in scope (FAB `_info`, `q` filtering and
paging), issue certificates for approved graduations, and revoke one (bureau)."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request
from flask_appbuilder.api import expose, protect, safe
from sqlalchemy import select

from ..base_views import ScopedModelRestApi, business_date, current_scope
from ..domain.messages import RuleError, Violation
from ..extensions import db
from ..lookups import RegistryInterface
from ..models import Diploma, Graduation
from ..services import diplomas as service

COLUMNS = [
    "id",
    "number",
    "student.student_number",
    "school.code",
    "stage",
    "year",
    "serial",
    "key_id",
    "issued_at",
    "revoked_at",
    "revoke_reason",
]


class DiplomaApi(ScopedModelRestApi):
    resource_name = "diploma"
    class_permission_name = "Diploma"
    datamodel = RegistryInterface(Diploma)
    include_route_methods = {"get", "get_list", "info", "issue", "revoke"}
    list_columns = COLUMNS
    show_columns = [*COLUMNS, "signature", "issued_by", "revoked_by"]
    search_columns = ["number", "school", "year", "stage"]
    order_columns = ["id", "number", "year", "issued_at"]

    def _keyring(self) -> service.KeyRing:
        return service.KeyRing.from_config(current_app.config)

    @expose("/issue", methods=["POST"])
    @protect()
    @safe
    def issue(self) -> Any:
        """Issue and sign certificates.
        ---
        post:
          description: "Body {graduation_ids: [...]}, approved graduations in your scope;
            all are issued or none, with every reason."
          responses:
            201: {description: Issued; the new certificate numbers}
            422: {description: Refused; every broken rule with its field}
        """
        body = request.get_json(silent=True)
        ids = body.get("graduation_ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
            return self._refuse(422, [Violation("required", "graduation", {})])
        rows = list(db.session.scalars(select(Graduation).where(Graduation.id.in_(ids))))
        if len(rows) != len(set(ids)):
            return self._refuse(422, [Violation("graduation.school_scope", "school", {})])
        try:
            made = service.issue(
                db.session,
                current_scope(),
                rows,
                keyring=self._keyring(),
                username=g.user.username,
                today=business_date(),
            )
            db.session.commit()
        except RuleError as exc:
            db.session.rollback()
            return self._refuse(422, exc.violations)
        return self.response(201, numbers=[d.number for d in made], ids=[d.id for d in made])

    @expose("/<int:pk>/revoke", methods=["POST"])
    @protect()
    @safe
    def revoke(self, pk: int) -> Any:
        """Revoke a certificate.
        ---
        post:
          description: "Body {reason: ...}; the bureau over the issuing school only."
          responses:
            200: {description: Revoked}
            422: {description: Refused, with the rule}
        """
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            return self.response_404()
        body = request.get_json(silent=True) or {}
        try:
            service.revoke(
                db.session,
                current_scope(),
                item,
                reason=str(body.get("reason") or ""),
                username=g.user.username,
            )
            db.session.commit()
        except RuleError as exc:
            db.session.rollback()
            return self._refuse(422, exc.violations)
        return self.response(200, number=item.number, revoked_at=item.revoked_at.isoformat())
