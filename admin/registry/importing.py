"""新生批量导入 screen: download the national template, upload a filled file for a dry run with
every problem by row and column (and the file back with the bad cells marked), then register
all its students at once (admin/services/importing.py; `xueji import students` is the same).

The uploaded file waits between the dry run and the commit under the data folder, named by a
random token and kept per user, so the commit imports exactly the file that was checked;
it is deleted after the commit and forgotten after a day."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..base_views import business_date, current_locale, current_scope, school_from_request
from ..extensions import db
from ..models import School
from ..services import importing as service

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KEEP_SECONDS = 24 * 3600
PROBLEMS_SHOWN = 300


def _folder() -> Path:
    folder = Path(current_app.config["XUEJI_DATA_DIR"]) / "imports" / str(g.user.id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _forget_old(folder: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for path in folder.glob("*.upload"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _held(token: str) -> tuple[Path, str, str, bytes]:
    """(path, school code, file name, bytes) of an upload this user made, or 404."""
    if not token.isascii() or not token.replace("-", "").replace("_", "").isalnum():
        abort(404)
    path = _folder() / f"{token}.upload"
    meta = _folder() / f"{token}.meta"
    if not path.is_file() or not meta.is_file():
        abort(404)
    school_code, filename = meta.read_text(encoding="utf-8").split("\n", 1)
    return path, school_code, filename, path.read_bytes()


class StudentImportView(BaseView):
    route_base = "/import"
    # Importing registers students: the right to register them (Student write).
    class_permission_name = "Student"
    method_permission_name = {
        "index": "write",
        "template": "write",
        "check": "write",
        "errors": "write",
        "commit": "write",
    }
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        return self.render_template(
            "xueji/import.html",
            title=_l("Import new students"),
            school=school_from_request(),
            report=None,
            token="",
            locale=current_locale(),
            max_rows=service.DEFAULT_LIMITS.max_rows,
        )

    @expose("/template")
    @has_access
    def template(self) -> Any:
        body = service.template_workbook(
            current_locale(), session=db.session, today=business_date()
        )
        return Response(
            body,
            mimetype=XLSX,
            headers={"Content-Disposition": "attachment; filename=xueji-import-template.xlsx"},
        )

    @expose("/check", methods=["POST"])
    @has_access
    def check(self) -> Any:
        school = school_from_request()
        upload = request.files.get("file")
        if school is None:
            flash(_("Choose a school in your scope."), "danger")
            return redirect(url_for("StudentImportView.index"))
        if upload is None or not upload.filename:
            flash(_("Choose the file to import."), "danger")
            return redirect(url_for("StudentImportView.index", school=school.code))
        data = upload.read()
        filename = Path(upload.filename).name[:200]
        report = service.dry_run(
            db.session,
            current_scope(),
            school,
            data,
            filename,
            today=business_date(),
            locale=current_locale(),
        )
        db.session.rollback()  # a dry run writes nothing
        folder = _folder()
        _forget_old(folder)
        token = secrets.token_urlsafe(18)
        (folder / f"{token}.upload").write_bytes(data)
        (folder / f"{token}.meta").write_text(f"{school.code}\n{filename}", encoding="utf-8")
        return self.render_template(
            "xueji/import.html",
            title=_l("Import new students"),
            school=school,
            report=report,
            lines=report.lines(PROBLEMS_SHOWN),
            token=token,
            locale=current_locale(),
            max_rows=service.DEFAULT_LIMITS.max_rows,
        )

    @expose("/errors/<token>")
    @has_access
    def errors(self, token: str) -> Any:
        _path, school_code, filename, data = _held(token)
        school = db.session.query(School).filter_by(code=school_code).first()
        if school is None:
            abort(404)
        report = service.dry_run(
            db.session,
            current_scope(),
            school,
            data,
            filename,
            today=business_date(),
            locale=current_locale(),
        )
        db.session.rollback()
        stem = Path(filename).stem or "import"
        return Response(
            service.error_workbook(report, data),
            mimetype=XLSX,
            headers={"Content-Disposition": f"attachment; filename={stem}-errors.xlsx"},
        )

    @expose("/commit/<token>", methods=["POST"])
    @has_access
    def commit(self, token: str) -> Any:
        path, school_code, filename, data = _held(token)
        school = school_from_request()
        if school is None or school.code != school_code:
            abort(404)
        try:
            count = service.commit(
                db.session,
                current_scope(),
                school,
                data,
                filename,
                today=business_date(),
                username=g.user.username,
                locale=current_locale(),
            )
            db.session.commit()
        except service.ImportRejected as exc:
            db.session.rollback()
            flash(
                _(
                    "Nothing was imported: the file has %(n)d problems (check it again).",
                    n=len(exc.report.problems),
                ),
                "danger",
            )
            return redirect(url_for("StudentImportView.index", school=school.code))
        path.unlink(missing_ok=True)
        path.with_suffix(".meta").unlink(missing_ok=True)
        flash(_("%(n)d students registered from %(file)s.", n=count, file=filename), "success")
        return redirect(url_for("StudentView.list"))
