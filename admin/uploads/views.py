"""The only ways in and out of the file store: upload a student's photo or proof document, and
download (or show inline) one file. Both check the permission on the "StudentFile" resource
(can_write / can_read) and the student's row scope; every download is audited.

    POST /studentfile/upload/<student_id>   multipart: kind, file, description, csrf_token
    GET  /studentfile/<file_id>             the bytes, scoped and audited

FAB's generic `/<view>/download/<filename>` is closed in base_views, and nothing is stored
under a static folder (storage.FileStore.for_app refuses one)."""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, current_app, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from ..audit import record_event
from ..base_views import current_locale, current_scope
from ..domain.files import PDF, PHOTO, human_size
from ..domain.messages import RuleError, Violation
from ..extensions import db
from ..models import StatusChangeRequest, Student, StudentFile
from ..security.scope import row_in_scope
from .service import commit_files, download_name, store_student_file
from .storage import FileStore

log = logging.getLogger("xueji.uploads")

# Room for the multipart envelope and the small form fields around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
# A file served from here is data, never a page: no sniffing, no scripts, no caching.
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "X-Frame-Options": "SAMEORIGIN",
}


def _student_page(student_id: Any) -> Any:
    return redirect(url_for("StudentView.show", pk=student_id) + "#StudentFiles")


class StudentFileView(BaseView):
    route_base = "/studentfile"
    class_permission_name = "StudentFile"
    method_permission_name = {"download": "read", "upload": "write"}

    def create_blueprint(
        self, appbuilder: Any, endpoint: Any = None, static_folder: Any = None
    ) -> Any:
        blueprint = super().create_blueprint(appbuilder, endpoint, static_folder)
        upload_endpoint = f"{blueprint.name}.upload"

        # Runs before any before_request hook (CSRFProtect parses the form there), so an
        # oversized body is refused before it is read.
        @blueprint.url_value_preprocessor
        def _limit_body(endpoint: str | None, values: Any) -> None:
            if endpoint == upload_endpoint:
                limit = int(current_app.config["XUEJI_UPLOAD_MAX_BYTES"])
                request.max_content_length = limit + MULTIPART_OVERHEAD

        blueprint.register_error_handler(RequestEntityTooLarge, self._too_large)
        return blueprint

    # --- download ----------------------------------------------------------------------------
    @expose("/<int:file_id>", methods=["GET"])
    @has_access
    def download(self, file_id: int) -> Any:
        row = db.session.get(StudentFile, file_id)
        # Out of scope looks exactly like "no such file".  A request's proof is also readable
        # by every unit that sees the request (the receiving side of a transfer, before the
        # student is theirs).
        scope = current_scope()
        if row is None or not (
            row_in_scope(db.session, scope, Student, row.student_id)
            or (
                row.request_id is not None
                and row_in_scope(db.session, scope, StatusChangeRequest, row.request_id)
            )
        ):
            abort(404)
        path = FileStore.for_app().path_for(row.sha256)
        if not path.is_file():
            log.error("student_file %s: blob %s is missing from the store", row.id, row.sha256)
            abort(404)
        user = g.user
        record_event(
            db.session,
            "file_download",
            username=user.username,
            user_id=user.id,
            address=request.remote_addr,
            details={
                "file_id": row.id,
                "student_id": row.student_id,
                "kind": row.kind,
                "sha256": row.sha256,
            },
        )
        db.session.commit()  # no audit entry, no file
        response = send_file(
            path,
            mimetype=row.mime_type,
            as_attachment=row.mime_type == PDF,
            download_name=download_name(row),
            conditional=False,
            etag=False,
        )
        response.headers.update(DOWNLOAD_HEADERS)
        response.headers.pop("Last-Modified", None)  # the blob's mtime says nothing useful
        return response

    # --- upload ------------------------------------------------------------------------------
    @expose("/upload/<int:student_id>", methods=["POST"])
    @has_access
    def upload(self, student_id: int) -> Any:
        if not row_in_scope(db.session, current_scope(), Student, student_id):
            abort(404)
        student = db.session.get(Student, student_id)
        kind = request.form.get("kind", "")
        upload = request.files.get("file")
        data = upload.read() if upload is not None and upload.filename else None
        user = g.user
        try:
            store_student_file(
                db.session,
                student,
                kind,
                upload.filename if upload is not None else None,
                data,
                user.username,
                description=request.form.get("description"),
            )
            commit_files(db.session)
        except RuleError as exc:
            for violation in exc.violations:
                flash(violation.message(current_locale()), "danger")
            return _student_page(student_id)
        except Exception:
            log.exception("upload for student %s failed", student_id)
            flash(
                _(
                    "The file could not be saved (the record may have been changed at the "
                    "same time); nothing was stored. Please try again."
                ),
                "danger",
            )
            return _student_page(student_id)
        flash(_("Photo saved.") if kind == PHOTO else _("Proof document saved."), "success")
        return _student_page(student_id)

    def _too_large(self, error: Exception) -> Any:
        limit = int(current_app.config["XUEJI_UPLOAD_MAX_BYTES"])
        size = request.content_length or 0
        violation = Violation(
            "file.too_large",
            "file",
            {"size": human_size(size) if size else "?", "limit": human_size(limit)},
        )
        flash(violation.message(current_locale()), "danger")
        student_id = (request.view_args or {}).get("student_id")
        if request.endpoint and request.endpoint.endswith(".upload") and student_id:
            return _student_page(student_id)
        return error


__all__ = ["StudentFileView"]
