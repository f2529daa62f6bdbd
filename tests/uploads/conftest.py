"""Fixtures for student files: a small hand-built registry (two schools in 银川 with one
student each), accounts of every relevant role, sample files made with Pillow, and a helper
that signs a test client in."""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

PASSWORD = "Xueji-Test-2026!"
SCHOOL_A = "2164000001"
SCHOOL_B = "2164000002"
ACCOUNTS = {
    # username: (role, school code, region prefix)
    "admin": ("Admin", None, None),
    "reg_a": ("SchoolRegistrar", SCHOOL_A, None),
    "reg_b": ("SchoolRegistrar", SCHOOL_B, None),
    "leader_a": ("SchoolLeader", SCHOOL_A, None),
    "officer": ("BureauOfficer", None, "64"),
    "teacher_a": ("Teacher", SCHOOL_A, None),
    "parent": ("Parent", None, None),
}


# --- sample files ----------------------------------------------------------------------------


def jpeg_with_exif(size: tuple[int, int] = (1600, 1200), orientation: int = 6) -> bytes:
    """A JPEG carrying EXIF: orientation, camera make and a GPS block."""
    image = Image.new("RGB", size, (180, 40, 40))
    image.paste((20, 20, 200), (0, 0, size[0] // 4, size[1] // 4))  # a marker corner
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation: rotate 90° CW to display
    exif[0x010F] = "Canon"  # Make
    exif[0x8825] = {1: "N", 2: (38.0, 28.0, 0.0)}  # GPS IFD
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), quality=92)
    return buffer.getvalue()


def png_bytes(size: tuple[int, int] = (300, 400), mode: str = "RGBA") -> bytes:
    image = Image.new(mode, size, (10, 120, 30, 200) if mode == "RGBA" else (10, 120, 30))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def oversized_jpeg(size: int) -> bytes:
    """A real JPEG padded (after its end marker) to exactly `size` bytes."""
    data = jpeg_with_exif()
    return data + b"\0" * (size - len(data))


def pdf_bytes(extra_catalog: bytes = b"", extra_objects: bytes = b"") -> bytes:
    """A small, well-formed one-page PDF; `extra_*` splice content in."""
    content = b"BT /F1 12 Tf 72 720 Td (Hukou booklet scan) Tj ET"
    stream = zlib.compress(content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + extra_catalog + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    out += extra_objects
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# --- registry --------------------------------------------------------------------------------


def build_world(session) -> SimpleNamespace:
    """Two schools of 兴庆区 (640104), a class and one enrolled student in each."""
    from admin.models import Enrollment, School, SchoolClass, SchoolYear, Student

    year = SchoolYear(code="2026-2027", start_date=date(2026, 9, 1), end_date=date(2027, 8, 31))
    schools = [
        School(
            code=code,
            name=name,
            kind="primary",
            primary_years=6,
            region_code="640104",
            urban_rural="111",
        )
        for code, name in ((SCHOOL_A, "兴庆区实验小学"), (SCHOOL_B, "兴庆区第二小学"))
    ]
    session.add_all([year, *schools])
    session.flush()
    students, classes = [], []
    for seq, school in enumerate(schools, start=1):
        klass = SchoolClass(
            school_id=school.id,
            school_year_id=year.id,
            grade_code="11",
            number=1,
            name="一年级(1)班",
        )
        session.add(klass)
        session.flush()
        student = Student(
            student_number=f"L64010420200317{seq:04d}",
            student_number_kind="L",
            name=("马小宁", "李小明")[seq - 1],
            sex="2",
            birth_date=date(2020, 3, 17),
            birthplace_code="640104",
            native_place_code="640104",
            ethnicity="03",
            nationality="CHN",
            id_doc_type="Z",
            overseas_chinese="00",
            health="10",
            hukou_region_code="640104",
            hukou_type="2",
            current_address="宁夏回族自治区银川市兴庆区解放街1号",
            mailing_address="宁夏回族自治区银川市兴庆区解放街1号",
            home_address="宁夏回族自治区银川市兴庆区解放街1号",
            phone="13995112233",
            postal_code="750001",
            current_school_id=school.id,
            current_class_id=klass.id,
            current_grade_code="11",
        )
        session.add(student)
        session.flush()
        session.add(
            Enrollment(
                student_id=student.id,
                school_id=school.id,
                school_year_id=year.id,
                class_id=klass.id,
                grade_code="11",
                stage_entry_ym="202609",
                entry_date=date(2026, 9, 1),
                admission_method="11",
            )
        )
        students.append(student)
        classes.append(klass)
    session.commit()
    return SimpleNamespace(
        student_a=students[0].id,
        student_b=students[1].id,
        school_a=schools[0].id,
        school_b=schools[1].id,
        class_a=classes[0].id,
    )


def create_accounts() -> dict[str, int]:
    from flask import current_app

    from admin.services.accounts import create_account

    ids = {}
    for username, (role, school, region) in ACCOUNTS.items():
        create_account(
            username=username, password=PASSWORD, role=role, school=school, region=region
        )
        ids[username] = current_app.appbuilder.sm.find_user(username=username).id
    return ids


@pytest.fixture(scope="module")
def files_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """An initialised SQLite app with the small registry and the accounts above."""
    from tests.conftest import make_app

    folder = tmp_path_factory.mktemp("uploads")
    application = make_app(f"sqlite:///{folder / 'x.db'}", folder)
    from admin.extensions import db
    from admin.services.setup import initialize

    with application.app_context():
        initialize()
        application.config["WORLD"] = build_world(db.session)
        application.config["USERS"] = create_accounts()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def sign_in(app, username: str | None):
    """A test client with `username` signed in (None: anonymous). The Flask-Login session is
    set directly, so this works whatever the login form asks for (captcha …)."""
    client = app.test_client()
    if username is not None:
        user_id = app.config["USERS"][username]
        with client.session_transaction() as session:
            session["_user_id"] = str(user_id)
            session["_fresh"] = True
    return client


def csrf_token(client, student_id: int) -> str:
    """The token of the upload form on the student's page (which must show the form)."""
    page = client.get(f"/studentview/show/{student_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    form = re.search(r'<form[^>]*id="student-file-upload".*?</form>', html, re.S)
    assert form, "no upload form on the student page"
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.group(0))
    assert token
    return token.group(1)


def session_csrf_token(app, client) -> str:
    """A valid CSRF token for `client`'s session, for users whose pages show no form."""
    from flask import session
    from flask_wtf.csrf import generate_csrf

    with app.test_request_context():
        token = generate_csrf()
        raw = session["csrf_token"]
    with client.session_transaction() as client_session:
        client_session["csrf_token"] = raw
    return token


def upload(
    client, student_id: int, kind: str, filename: str, data: bytes, token: str | None, **extra
):
    form = {"kind": kind, "file": (io.BytesIO(data), filename), **extra}
    if token is not None:
        form["csrf_token"] = token
    return client.post(
        f"/studentfile/upload/{student_id}",
        data=form,
        content_type="multipart/form-data",
    )


def stored_files(app) -> set[Path]:
    root = Path(app.config["XUEJI_DATA_DIR"]) / "files"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()
