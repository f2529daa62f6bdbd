"""新生批量导入 through the screen: template download, a dry run that lists the problems and
hands back the marked file, nothing saved until the clean file is committed, and the upload
held per user (another user's token is not found)."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import func, select

from admin.extensions import db
from admin.models import School, Student
from tests.lifecycle.test_import import Maker, _class, plain_workbook
from tests.scope.conftest import login


def _client(lc, username: str):
    lc.app.config["WTF_CSRF_ENABLED"] = False
    client = lc.app.test_client()
    login(client, lc.cast.users[username])
    return client


def _students() -> int:
    return db.session.scalar(select(func.count()).select_from(Student))


def test_import_screen_dry_run_then_commit(lc):
    with lc.app.app_context():
        klass = _class(lc)
        maker = Maker(klass)
        good = [maker.row(i) for i in range(3)]
        bad = [maker.row(10), maker.row(11, id_number="110101201001011234", phone="12345")]
        school_code = db.session.get(School, lc.cast.receiving).code
        before = _students()
    registrar = _client(lc, "reg_r")
    page = registrar.get("/import/?_l_=en")
    assert page.status_code == 200 and "import-form" in page.get_data(as_text=True)
    template = registrar.get("/import/template")
    assert template.status_code == 200
    assert load_workbook(io.BytesIO(template.data)).sheetnames[0] == "学生"

    checked = registrar.post(
        "/import/check?_l_=en",
        data={"school": school_code, "file": (io.BytesIO(plain_workbook(bad)), "intake.xlsx")},
        content_type="multipart/form-data",
    )
    body = checked.get_data(as_text=True)
    assert 'data-ok="no"' in body and "row 3" in body, body[:3000]
    errors_url = re.search(r'href="(/import/errors/[^"]+)"', body).group(1)
    marked = registrar.get(errors_url)
    sheet = load_workbook(io.BytesIO(marked.data)).active
    assert any(
        cell.comment is not None for row in sheet.iter_rows(min_row=3, max_row=3) for cell in row
    )
    # Someone else cannot fetch this user's upload.
    assert _client(lc, "reg_s").get(errors_url).status_code == 404
    with lc.app.app_context():
        assert _students() == before

    checked = registrar.post(
        "/import/check",
        data={"school": school_code, "file": (io.BytesIO(plain_workbook(good)), "intake.xlsx")},
        content_type="multipart/form-data",
    )
    body = checked.get_data(as_text=True)
    assert 'data-ok="yes"' in body
    commit_url = re.search(r'action="(/import/commit/[^"]+)"', body).group(1)
    # Another school's code on the commit of this upload is refused.
    assert registrar.post(commit_url, data={"school": "0000000000"}).status_code == 404
    done = registrar.post(commit_url, data={"school": school_code})
    assert done.status_code == 302
    with lc.app.app_context():
        assert _students() == before + 3
    # The upload is gone after the commit: a second commit finds nothing.
    assert registrar.post(commit_url, data={"school": school_code}).status_code == 404
    # A teacher cannot import.
    assert _client(lc, "teacher_s").get("/import/").status_code in (302, 403)
