"""Uploading through the student page: checked by content, stored by hash under the data
folder, refused uploads leave nothing behind, and only those allowed may upload."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from admin.domain.files import has_metadata
from admin.extensions import db
from admin.models import AuditLog, Student, StudentFile
from tests.uploads.conftest import (
    csrf_token,
    jpeg_with_exif,
    oversized_jpeg,
    pdf_bytes,
    png_bytes,
    session_csrf_token,
    sign_in,
    stored_files,
    upload,
)

MB = 1024 * 1024


def _rows(app, student_id: int | None = None) -> list[StudentFile]:
    with app.app_context():
        query = select(StudentFile).order_by(StudentFile.id)
        if student_id is not None:
            query = query.where(StudentFile.student_id == student_id)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return list(rows)


def _photo_ref(app, student_id: int) -> str | None:
    with app.app_context():
        return db.session.get(Student, student_id).photo_ref


def _alerts(client, student_id: int) -> list[str]:
    """The flashed messages, as shown on the student page."""
    html = client.get(f"/studentview/show/{student_id}").get_data(as_text=True)
    found = re.findall(r'class="alert alert-(?:danger|success)">(.*?)</div>', html, re.S)
    return [re.sub(r"<[^>]+>|&times;", "", text).strip() for text in found]


def _static_folders(app) -> list[Path]:
    folders = [app.static_folder, *(bp.static_folder for bp in app.blueprints.values())]
    return [Path(f).resolve() for f in folders if f]


@pytest.fixture
def registrar(files_app):
    client = sign_in(files_app, "reg_a")
    client.get("/lang/zh")
    return client


@pytest.fixture
def student_a(files_app) -> int:
    return files_app.config["WORLD"].student_a


# --- accepted --------------------------------------------------------------------------------


def test_photo_with_exif_is_stored_reencoded_by_hash_outside_static(
    files_app, registrar, student_a
) -> None:
    before = _rows(files_app, student_a)
    response = upload(
        registrar,
        student_a,
        "photo",
        "证件照.jpg",
        jpeg_with_exif(),
        csrf_token(registrar, student_a),
        description="2026年秋季",
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/studentview/show/{student_a}")
    assert _alerts(registrar, student_a) == ["照片已保存。"]

    rows = _rows(files_app, student_a)
    assert len(rows) == len(before) + 1
    row = rows[-1]
    assert (row.kind, row.mime_type, row.original_name) == ("photo", "image/jpeg", "证件照.jpg")
    assert row.uploaded_by == "reg_a" and row.description == "2026年秋季"
    assert _photo_ref(files_app, student_a) == row.sha256

    data_dir = Path(files_app.config["XUEJI_DATA_DIR"]).resolve()
    blob = data_dir / "files" / row.sha256[:2] / row.sha256
    assert blob.is_file()
    content = blob.read_bytes()
    assert len(content) == row.size_bytes
    assert not has_metadata(content)
    assert Image.open(io.BytesIO(content)).size == (768, 1024)
    for static in _static_folders(files_app):
        assert static not in blob.parents
        assert not any(p.name == row.sha256 for p in static.rglob("*"))

    with files_app.app_context():  # the audit listener recorded the new row
        entry = db.session.scalars(
            select(AuditLog).where(
                AuditLog.table_name == "student_file", AuditLog.row_pk == str(row.id)
            )
        ).one()
        assert (entry.action, entry.username, entry.student_id) == ("insert", "reg_a", student_a)


def test_png_is_accepted_as_photo_and_as_proof(files_app, registrar, student_a) -> None:
    token = csrf_token(registrar, student_a)
    for kind in ("photo", "proof"):
        response = upload(registrar, student_a, kind, "scan.PNG", png_bytes(), token)
        assert response.status_code == 302
        row = _rows(files_app, student_a)[-1]
        assert (row.kind, row.mime_type) == (kind, "image/png")


def test_pdf_proof_is_kept_as_is(files_app, registrar, student_a) -> None:
    data = pdf_bytes()
    upload(registrar, student_a, "proof", "户口本.pdf", data, csrf_token(registrar, student_a))
    row = _rows(files_app, student_a)[-1]
    assert (row.kind, row.mime_type, row.size_bytes) == ("proof", "application/pdf", len(data))
    blob = Path(files_app.config["XUEJI_DATA_DIR"]) / "files" / row.sha256[:2] / row.sha256
    assert blob.read_bytes() == data


def test_replacing_the_photo_keeps_the_old_row_and_dedups_blobs(
    files_app, registrar, student_a
) -> None:
    token = csrf_token(registrar, student_a)
    first, second = png_bytes((200, 260)), png_bytes((210, 280))
    upload(registrar, student_a, "photo", "a.png", first, token)
    old = _rows(files_app, student_a)[-1]
    upload(registrar, student_a, "photo", "b.png", second, token)
    new = _rows(files_app, student_a)[-1]
    assert old.sha256 != new.sha256
    assert _photo_ref(files_app, student_a) == new.sha256
    assert {r.id for r in _rows(files_app, student_a)} >= {old.id, new.id}

    files_before = stored_files(files_app)
    upload(registrar, student_a, "photo", "again.png", second, token)
    assert stored_files(files_app) == files_before  # same content, one blob
    assert _rows(files_app, student_a)[-1].sha256 == new.sha256


# --- refused ---------------------------------------------------------------------------------


def _truncated_jpeg() -> bytes:
    data = jpeg_with_exif()
    return data[: len(data) * 2 // 3]


REFUSED = [
    ("photo", "x.jpg", b"Not an image at all, just text.\n", "照片：只接受 JPEG、PNG 文件"),
    ("photo", "big.jpg", None, "照片：文件大小为 2.0 MB，超过上限 2.0 MB"),
    ("proof", "scan.pdf", b"%PDX-1.7\n" + pdf_bytes()[9:], "证明材料：只接受 PDF、JPEG、PNG 文件"),
    (
        "proof",
        "form.pdf",
        pdf_bytes(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >> "),
        "证明材料：PDF 含有脚本、启动程序的动作或嵌入文件（/JS, /JavaScript）",
    ),
    ("photo", "cut.jpg", "truncated", "照片：文件已损坏或不完整，无法读取"),
    ("proof", "empty.pdf", b"", "证明材料：文件是空的"),
]


@pytest.mark.parametrize(
    ("kind", "name", "data", "message"),
    REFUSED,
    ids=["renamed-text", "oversized", "pdf-signature", "pdf-javascript", "truncated-jpeg", "empty"],
)
def test_refused_upload_names_the_field_and_leaves_nothing(
    files_app, registrar, student_a, kind, name, data, message
) -> None:
    if data is None:
        data = oversized_jpeg(2 * MB + 1)
    elif data == "truncated":
        data = _truncated_jpeg()
    token = csrf_token(registrar, student_a)
    rows, blobs, ref = _rows(files_app), stored_files(files_app), _photo_ref(files_app, student_a)

    response = upload(registrar, student_a, kind, name, data, token)

    assert response.status_code == 302
    alerts = _alerts(registrar, student_a)
    assert any(a.startswith(message) for a in alerts), alerts
    assert [r.id for r in _rows(files_app)] == [r.id for r in rows]
    assert stored_files(files_app) == blobs
    assert _photo_ref(files_app, student_a) == ref


def test_refusal_in_english(files_app, student_a) -> None:
    client = sign_in(files_app, "reg_a")
    client.get("/lang/en")
    upload(client, student_a, "photo", "x.jpg", b"text", csrf_token(client, student_a))
    alerts = _alerts(client, student_a)
    assert any(a.startswith("Photo: only JPEG or PNG files are accepted") for a in alerts)


def test_request_far_over_the_limit_is_cut_off_with_a_message(
    files_app, registrar, student_a
) -> None:
    rows, blobs = _rows(files_app), stored_files(files_app)
    response = upload(
        registrar,
        student_a,
        "photo",
        "huge.jpg",
        b"\0" * (5 * MB),
        csrf_token(registrar, student_a),
    )
    assert response.status_code == 302
    assert any("超过上限 2.0 MB" in a for a in _alerts(registrar, student_a))
    assert [r.id for r in _rows(files_app)] == [r.id for r in rows]
    assert stored_files(files_app) == blobs


def test_upload_without_csrf_token_is_refused(files_app, registrar, student_a) -> None:
    rows, blobs = len(_rows(files_app)), stored_files(files_app)
    response = upload(registrar, student_a, "photo", "a.png", png_bytes(), token=None)
    assert response.status_code == 400
    assert len(_rows(files_app)) == rows and stored_files(files_app) == blobs


def test_description_too_long_is_refused(files_app, registrar, student_a) -> None:
    rows = len(_rows(files_app))
    upload(
        registrar,
        student_a,
        "proof",
        "a.png",
        png_bytes(),
        csrf_token(registrar, student_a),
        description="说" * 201,
    )
    assert any(a.startswith("文件说明：不能超过200个字符") for a in _alerts(registrar, student_a))
    assert len(_rows(files_app)) == rows


# --- who may upload --------------------------------------------------------------------------


def test_registrar_of_another_school_gets_404(files_app, student_a) -> None:
    other = sign_in(files_app, "reg_b")
    token = csrf_token(other, files_app.config["WORLD"].student_b)
    rows = len(_rows(files_app))
    response = upload(other, student_a, "photo", "a.png", png_bytes(), token)
    assert response.status_code == 404
    assert len(_rows(files_app)) == rows


@pytest.mark.parametrize("username", ["officer", "leader_a", "teacher_a", "parent"])
def test_roles_without_write_get_403(files_app, student_a, username) -> None:
    client = sign_in(files_app, username)
    token = session_csrf_token(files_app, client)
    rows = len(_rows(files_app))
    response = upload(client, student_a, "photo", "a.png", png_bytes(), token)
    assert response.status_code == 403
    assert len(_rows(files_app)) == rows


def test_anonymous_upload_is_sent_to_login(files_app, student_a) -> None:
    client = sign_in(files_app, None)
    token = session_csrf_token(files_app, client)
    response = upload(client, student_a, "photo", "a.png", png_bytes(), token)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_upload_form_only_for_writers(files_app, student_a) -> None:
    for username, has_tab, has_form in [
        ("reg_a", True, True),
        ("leader_a", True, False),
        ("admin", True, True),
    ]:
        html = sign_in(files_app, username).get(f"/studentview/show/{student_a}")
        text = html.get_data(as_text=True)
        assert ('id="StudentFiles"' in text) is has_tab, username
        assert ('id="student-file-upload"' in text) is has_form, username


def test_counts_are_consistent(files_app) -> None:
    """Every row points at a blob that exists (nothing half-written by the tests above)."""
    data_dir = Path(files_app.config["XUEJI_DATA_DIR"]) / "files"
    with files_app.app_context():
        hashes = set(db.session.scalars(select(StudentFile.sha256)))
        assert db.session.scalar(select(func.count()).select_from(StudentFile)) >= len(hashes)
    assert {p.name for p in stored_files(files_app)} == hashes
    assert all((data_dir / h[:2] / h).is_file() for h in hashes)
