"""admin.uploads.service: the store_student_file contract for views and importers, cleanup
when the database write fails, and one round trip on each backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from admin.domain.messages import RuleError
from admin.extensions import db
from admin.models import AuditLog, Student, StudentFile
from admin.uploads.service import (
    commit_files,
    discard_new_blobs,
    files_for_display,
    store_student_file,
)
from admin.uploads.storage import FileStore
from tests.uploads.conftest import (
    PASSWORD,
    SCHOOL_A,
    SCHOOL_B,
    build_world,
    csrf_token,
    jpeg_with_exif,
    pdf_bytes,
    png_bytes,
    sign_in,
    stored_files,
    upload,
)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _broken_student() -> Student:
    """A new student missing required columns: its flush fails on every backend."""
    return Student(student_number="L640104202003179999", student_number_kind="L", name="缺")


def test_refused_content_raises_rule_error_and_writes_nothing(files_app) -> None:
    with files_app.app_context():
        student = db.session.get(Student, files_app.config["WORLD"].student_b)
        rows, blobs = _count(StudentFile), stored_files(files_app)
        with pytest.raises(RuleError) as refused:
            store_student_file(db.session, student, "photo", "a.jpg", b"text", "importer")
        assert [v.code for v in refused.value.violations] == ["file.type"]
        with pytest.raises(RuleError) as refused:
            store_student_file(db.session, student, "selfie", "a.png", png_bytes(), "importer")
        assert [(v.code, v.field) for v in refused.value.violations] == [("file.kind", "file_kind")]
        db.session.rollback()
        assert _count(StudentFile) == rows and stored_files(files_app) == blobs


def test_failed_flush_removes_the_new_blob(files_app) -> None:
    with files_app.app_context():
        rows, blobs = _count(StudentFile), stored_files(files_app)
        with pytest.raises(Exception, match="(?i)null|constraint"):
            store_student_file(
                db.session, _broken_student(), "proof", "a.png", png_bytes((33, 44)), "importer"
            )
        assert _count(StudentFile) == rows
        assert stored_files(files_app) == blobs


def test_failed_flush_keeps_a_blob_other_rows_use(files_app) -> None:
    with files_app.app_context():
        student = db.session.get(Student, files_app.config["WORLD"].student_b)
        data = png_bytes((55, 66))
        row = store_student_file(db.session, student, "proof", "kept.png", data, "importer")
        commit_files(db.session)
        blob = FileStore.for_app().path_for(row.sha256)
        with pytest.raises(Exception, match="(?i)null|constraint"):
            store_student_file(db.session, _broken_student(), "proof", "x.png", data, "importer")
        assert blob.is_file()


def test_failed_commit_removes_the_new_blob(files_app, monkeypatch) -> None:
    with files_app.app_context():
        student = db.session.get(Student, files_app.config["WORLD"].student_b)
        rows, blobs = _count(StudentFile), stored_files(files_app)
        store_student_file(db.session, student, "proof", "late.pdf", pdf_bytes(b"/B 2 "), "x")
        assert len(stored_files(files_app)) == len(blobs) + 1  # written, not yet committed

        def refuse_commit() -> None:
            raise RuntimeError("database went away")

        monkeypatch.setattr(db.session(), "commit", refuse_commit)
        with pytest.raises(RuntimeError):
            commit_files(db.session)
        monkeypatch.undo()
        assert _count(StudentFile) == rows
        assert stored_files(files_app) == blobs


def test_discard_keeps_blobs_that_a_committed_row_references(files_app) -> None:
    with files_app.app_context():
        student = db.session.get(Student, files_app.config["WORLD"].student_b)
        row = store_student_file(db.session, student, "proof", "a.png", png_bytes((7, 8)), "x")
        commit_files(db.session)
        db.session.info["xueji_new_file_blobs"] = {row.sha256: str(FileStore.for_app().root)}
        assert discard_new_blobs(db.session) == []
        assert FileStore.for_app().exists(row.sha256)


def test_photo_history_and_display_list(files_app) -> None:
    with files_app.app_context():
        student = db.session.get(Student, files_app.config["WORLD"].student_b)
        first = store_student_file(db.session, student, "photo", "1.jpg", jpeg_with_exif(), "x")
        second = store_student_file(
            db.session, student, "photo", "2.png", png_bytes((120, 160)), "x"
        )
        commit_files(db.session)
        assert student.photo_ref == second.sha256
        listed = files_for_display(db.session, student)
        by_id = {f["id"]: f for f in listed}
        assert by_id[second.id]["current_photo"] is True
        assert by_id[first.id]["current_photo"] is False
        assert sum(f["current_photo"] for f in listed) == 1
        assert all("sha256" not in f for f in listed)


# --- both backends ---------------------------------------------------------------------------


def test_upload_and_download_round_trip(initialized_app) -> None:
    """On SQLite and PostgreSQL: a registrar uploads through the page, downloads with an
    audit entry; the other school's registrar gets 404."""
    app = initialized_app
    from flask import current_app

    from admin.services.accounts import create_account

    with app.app_context():
        world = build_world(db.session)
        ids = {}
        for username, school in (("reg_a", SCHOOL_A), ("reg_b", SCHOOL_B)):
            create_account(
                username=username, password=PASSWORD, role="SchoolRegistrar", school=school
            )
            ids[username] = current_app.appbuilder.sm.find_user(username=username).id
    app.config["USERS"] = ids

    client = sign_in(app, "reg_a")
    response = upload(
        client,
        world.student_a,
        "photo",
        "me.jpg",
        jpeg_with_exif(),
        csrf_token(client, world.student_a),
    )
    assert response.status_code == 302
    with app.app_context():
        row = db.session.scalars(select(StudentFile)).one()
        assert db.session.get(Student, world.student_a).photo_ref == row.sha256
        assert (row.kind, row.uploaded_by) == ("photo", "reg_a")
        file_id = row.id

    response = client.get(f"/studentfile/{file_id}")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert sign_in(app, "reg_b").get(f"/studentfile/{file_id}").status_code == 404
    with app.app_context():
        entries = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "file_download")
        ).all()
        assert [(e.username, e.changes["file_id"]) for e in entries] == [("reg_a", file_id)]
