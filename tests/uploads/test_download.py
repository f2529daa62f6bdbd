"""Downloading a student's file: only through /studentfile/<id>, only within the user's scope
(else 404, as if there were no such file), with safe headers, and audited every time."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from admin.extensions import db
from admin.models import AuditLog, Student
from admin.uploads.service import commit_files, store_student_file
from admin.uploads.storage import FileStore, StorageError
from tests.uploads.conftest import jpeg_with_exif, pdf_bytes, sign_in


@pytest.fixture(scope="module")
def stored(files_app) -> SimpleNamespace:
    """A photo and a proof PDF of student A, stored through the service."""
    with files_app.app_context():
        student = db.session.get(Student, files_app.config["WORLD"].student_a)
        photo = store_student_file(
            db.session, student, "photo", "photo.jpg", jpeg_with_exif(), "seed"
        )
        proof = store_student_file(
            db.session, student, "proof", "出生证明.pdf", pdf_bytes(), "seed"
        )
        commit_files(db.session)
        return SimpleNamespace(photo=photo.id, proof=proof.id, photo_sha=photo.sha256)


def _downloads(app, file_id: int) -> list[AuditLog]:
    with app.app_context():
        entries = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "file_download").order_by(AuditLog.id)
        ).all()
        db.session.expunge_all()
        return [e for e in entries if e.changes.get("file_id") == file_id]


def _assert_safe_headers(response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "ETag" not in response.headers and "Last-Modified" not in response.headers


def test_registrar_of_the_school_gets_the_photo_inline(files_app, stored) -> None:
    before = len(_downloads(files_app, stored.photo))
    response = sign_in(files_app, "reg_a").get(f"/studentfile/{stored.photo}")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.data[:3] == b"\xff\xd8\xff"
    _assert_safe_headers(response)
    entries = _downloads(files_app, stored.photo)
    assert len(entries) == before + 1
    entry = entries[-1]
    assert entry.username == "reg_a"
    assert entry.changes["student_id"] == files_app.config["WORLD"].student_a
    assert entry.school_id == files_app.config["WORLD"].school_a


def test_pdf_is_an_attachment_with_its_real_extension(files_app, stored) -> None:
    response = sign_in(files_app, "reg_a").get(f"/studentfile/{stored.proof}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''%E5%87%BA%E7%94%9F%E8%AF%81%E6%98%8E.pdf" in disposition
    assert response.data == pdf_bytes()
    _assert_safe_headers(response)


@pytest.mark.parametrize("username", ["leader_a", "officer", "admin"])
def test_readers_in_scope_get_200_and_are_audited(files_app, stored, username) -> None:
    before = len(_downloads(files_app, stored.proof))
    response = sign_in(files_app, username).get(f"/studentfile/{stored.proof}")
    assert response.status_code == 200
    after = _downloads(files_app, stored.proof)
    assert len(after) == before + 1 and after[-1].username == username


def test_registrar_of_another_school_gets_404_by_direct_url(files_app, stored) -> None:
    client = sign_in(files_app, "reg_b")
    before = (len(_downloads(files_app, stored.photo)), len(_downloads(files_app, stored.proof)))
    assert client.get(f"/studentfile/{stored.photo}").status_code == 404
    assert client.get(f"/studentfile/{stored.proof}").status_code == 404
    after = (len(_downloads(files_app, stored.photo)), len(_downloads(files_app, stored.proof)))
    assert after == before


@pytest.mark.parametrize("username", ["teacher_a", "parent"])
def test_teacher_and_parent_are_refused(files_app, stored, username) -> None:
    response = sign_in(files_app, username).get(f"/studentfile/{stored.photo}")
    assert response.status_code in (403, 404)
    assert response.status_code == 403  # no read permission on StudentFile at all


def test_anonymous_is_sent_to_login(files_app, stored) -> None:
    response = sign_in(files_app, None).get(f"/studentfile/{stored.photo}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_unknown_file_is_404(files_app, stored) -> None:
    assert sign_in(files_app, "admin").get("/studentfile/999999").status_code == 404


def test_missing_blob_is_404_not_500(files_app, stored, tmp_path) -> None:
    with files_app.app_context():
        student = db.session.get(Student, files_app.config["WORLD"].student_a)
        row = store_student_file(db.session, student, "proof", "gone.pdf", pdf_bytes(b"/A 1 "), "t")
        commit_files(db.session)
        FileStore.for_app().remove(row.sha256)
        file_id = row.id
    assert sign_in(files_app, "reg_a").get(f"/studentfile/{file_id}").status_code == 404


def test_nothing_is_reachable_through_static_or_fab_download(files_app, stored) -> None:
    client = sign_in(files_app, "admin")
    sha = stored.photo_sha
    for url in (
        f"/studentview/download/{sha}",
        f"/studentview/download/{sha[:2]}/{sha}",
        f"/static/files/{sha[:2]}/{sha}",
        f"/static/{sha}",
        f"/static/appbuilder/{sha}",
        f"/static/appbuilder/../../files/{sha[:2]}/{sha}",
        f"/appbuilder/static/{sha}",
    ):
        assert client.get(url).status_code == 404, url
    blob = FileStore.for_app(files_app).path_for(sha)
    for folder in [
        files_app.static_folder,
        *(b.static_folder for b in files_app.blueprints.values()),
    ]:
        if folder:
            assert Path(folder).resolve() not in blob.resolve().parents


def test_student_page_shows_the_photo_through_the_scoped_route(files_app, stored) -> None:
    student_id = files_app.config["WORLD"].student_a
    html = sign_in(files_app, "reg_a").get(f"/studentview/show/{student_id}").get_data(as_text=True)
    assert f'src="/studentfile/{stored.photo}"' in html
    assert 'id="student-files"' in html and "出生证明.pdf" in html
    assert f"/files/{stored.photo_sha[:2]}/" not in html  # no path into the store


def test_teacher_of_the_class_sees_the_record_but_no_files(files_app, stored) -> None:
    world = files_app.config["WORLD"]
    with files_app.app_context():
        from admin.models import TeachingAssignment

        db.session.add(
            TeachingAssignment(
                user_id=files_app.config["USERS"]["teacher_a"], class_id=world.class_a
            )
        )
        db.session.commit()
    client = sign_in(files_app, "teacher_a")
    page = client.get(f"/studentview/show/{world.student_a}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="StudentFiles"' not in text and "/studentfile/" not in text
    assert client.get(f"/studentfile/{stored.photo}").status_code == 403


def test_store_refuses_a_data_folder_under_static(tmp_path) -> None:
    static = tmp_path / "static"
    fake = SimpleNamespace(
        config={"XUEJI_DATA_DIR": str(static / "data")}, static_folder=str(static), blueprints={}
    )
    with pytest.raises(StorageError, match="static folder"):
        FileStore.for_app(fake)
    with pytest.raises(StorageError):
        FileStore(tmp_path).path_for("../../etc/passwd")


def test_download_after_a_real_form_login(files_app, stored) -> None:
    """The same route for a user signed in through the login form (captcha included)."""
    from tests.conftest import login_via_form
    from tests.uploads.conftest import PASSWORD

    client = files_app.test_client()
    response = login_via_form(client, "leader_a", PASSWORD)
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    assert client.get(f"/studentfile/{stored.proof}").status_code == 200
    assert client.get("/logout/").status_code == 302
    assert client.get(f"/studentfile/{stored.proof}").status_code == 302
