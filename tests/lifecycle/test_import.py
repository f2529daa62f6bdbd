"""新生批量导入 (admin/services/importing.py, `xueji import`): the template round trip, a file
full of mistakes that writes nothing and names each row and column, the error workbook, CSV
encodings, unusable files, all-or-nothing writing and the CLI's exit codes."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from admin.domain.consistency import expected_age, grade_by_code
from admin.domain.idcard import make_id_number
from admin.domain.messages import RuleError, Violation
from admin.extensions import db
from admin.models import (
    AuditLog,
    Enrollment,
    Guardian,
    School,
    SchoolClass,
    Student,
    StudentIdDocument,
    StudentNumberHistory,
)
from admin.security.scope import Scope
from admin.services import importing
from admin.services.importing import (
    ERROR_FILL,
    ERRORS_HEADER,
    TEMPLATE_COLUMNS,
    ImportLimits,
    ImportRejected,
    commit,
    dry_run,
    error_workbook,
    read_rows,
    template_workbook,
)
from tests.lifecycle.conftest import TODAY

NATIONAL = Scope(role="Admin", kind="national")
HEADER = dict(TEMPLATE_COLUMNS)
TABLES = (
    Student,
    Guardian,
    Enrollment,
    StudentNumberHistory,
    StudentIdDocument,
    AuditLog,
)


# --- building import files ------------------------------------------------------------------------


class Maker:
    """Valid rows for one class: birth dates that fit the grade, ID numbers nobody holds."""

    def __init__(self, klass: SchoolClass) -> None:
        self.klass = klass
        self.school = klass.school
        self.region = self.school.region_code
        grade = grade_by_code(klass.grade_code)
        age = expected_age(grade, self.school.primary_years)
        self.birth = date(klass.school_year.start_date.year - age, 3, 17)
        self.taken = set(db.session.scalars(select(Student.id_number)))
        self.sequence = 100

    def id_number(self, sex: str = "1", birth: date | None = None) -> str:
        while True:
            self.sequence += 1
            if (self.sequence % 2 == 1) != (sex == "1"):
                continue
            number = make_id_number(self.region, birth or self.birth, self.sequence)
            if number not in self.taken:
                self.taken.add(number)
                return number

    def row(self, index: int, **changes: object) -> dict[str, object]:
        sex = str(changes.pop("_sex", "1"))
        father = make_id_number(self.region, date(1988, 1, 1), 11 + 2 * index)
        row: dict[str, object] = {
            "name": f"导入测试{'甲乙丙丁戊己庚辛壬癸'[index % 10]}{index}",
            "sex": "男" if sex == "1" else "2",  # a name and a code
            "birth_date": self.birth.strftime("%Y%m%d"),
            "birthplace_code": self.region,
            "native_place_code": self.region,
            "ethnicity": "汉族",
            "nationality": "CHN",
            "id_doc_type": "居民身份证",
            "id_number": self.id_number(sex),
            "overseas_chinese": "00",
            "health": "健康或良好",
            "hukou_region_code": self.region,
            "hukou_type": "2",
            "current_address": "测试市测试路1号",
            "mailing_address": "测试市测试路1号",
            "home_address": "测试市测试路1号",
            "phone": "13812345678",
            "postal_code": "100010",
            "only_child": "是",
            "distance_km": "1.5",
            "class_name": self.klass.name,
            "stage_entry_ym": "202609",
            "admission_method": "11",
            "study_mode": "走读",
            "guardian1_name": "导入测试父",
            "guardian1_relationship": "父亲",
            "guardian1_phone": "13912345678",
            "guardian1_id_number": father,
            "guardian1_is_guardian": "是",
            "guardian2_name": "导入测试母",
            "guardian2_relationship": "2",
        }
        row.update(changes)
        return row


def fill_template(template: bytes, rows: list[dict[str, object]]) -> bytes:
    book = load_workbook(io.BytesIO(template))
    sheet = book["学生"]
    columns = {cell.value: cell.column for cell in sheet[1]}
    for number, row in enumerate(rows, start=2):
        for name, value in row.items():
            if value is not None:
                sheet.cell(row=number, column=columns[HEADER[name]], value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def plain_workbook(rows: list[dict[str, object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append([header for _, header in TEMPLATE_COLUMNS])
    for row in rows:
        sheet.append([row.get(name) for name, _ in TEMPLATE_COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[dict[str, object]], encoding: str) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([header for _, header in TEMPLATE_COLUMNS])
    for row in rows:
        writer.writerow(["" if row.get(n) is None else row.get(n) for n, _ in TEMPLATE_COLUMNS])
    return out.getvalue().encode(encoding)


def counts() -> dict[str, int]:
    return {t.__tablename__: db.session.scalar(select(func.count()).select_from(t)) for t in TABLES}


def _class(lc) -> SchoolClass:
    return db.session.get(SchoolClass, lc.cast.target_class)


# --- the template round trip -------------------------------------------------------------------


def test_template_round_trip_registers_students_with_everything(lc, monkeypatch):
    monkeypatch.setattr(importing, "_WRITE_CHUNK", 2)  # three students: two flushes
    with lc.app.app_context():
        klass = _class(lc)
        school = klass.school
        maker = Maker(klass)
        template = template_workbook("zh_CN", session=db.session, today=TODAY)
        book = load_workbook(io.BytesIO(template))
        assert book.sheetnames[:2] == ["学生", "说明"]
        headers = [c.value for c in book["学生"][1]]
        assert headers == [h for _, h in TEMPLATE_COLUMNS]
        assert {"姓名", "身份证件号", "班级", "入学年月", "家庭成员或监护人一姓名"} <= set(headers)
        assert book["学生"].freeze_panes == "B2" and book["学生"]["A1"].font.b
        help_rows = list(book["说明"].iter_rows(values_only=True))
        sex_help = next(r for r in help_rows if r[1] == "性别")
        assert sex_help[2] == "是" and "1 男性" in sex_help[3] and "9" not in sex_help[3]

        # Codes typed into number cells lose their leading zeros (01 → 1); they still match.
        third = maker.row(2, guardian2_name=None, ethnicity=1, overseas_chinese=0)
        rows = [maker.row(0), maker.row(1, _sex="2"), third]
        rows[2].pop("guardian2_relationship")
        data = fill_template(template, rows)
        report = dry_run(db.session, NATIONAL, school, data, "新生.xlsx", today=TODAY)
        assert report.ok, report.lines()
        assert (report.rows, report.valid_rows, report.rows_with_errors) == (3, 3, 0)

        before = counts()
        assert (
            commit(db.session, NATIONAL, school, data, "新生.xlsx", today=TODAY, username="tester")
            == 3
        )
        db.session.commit()
        after = counts()
        assert after["student"] == before["student"] + 3
        assert after["guardian"] == before["guardian"] + 5
        assert after["enrollment"] == before["enrollment"] + 3
        assert after["student_number_history"] == before["student_number_history"] + 3
        assert after["student_id_document"] == before["student_id_document"] + 3
        for row in rows:
            student = db.session.scalars(
                select(Student).where(Student.id_number == row["id_number"])
            ).one()
            assert student.student_number.startswith("L" + maker.region)
            assert student.student_number_kind == "L" and student.current_status == "01"
            assert student.current_class_id == klass.id and student.ethnicity == "01"
            assert student.only_child is True and student.distance_km == 1.5
            assert student.sex == ("1" if row["sex"] == "男" else "2")
            guardians = db.session.scalars(
                select(Guardian).where(Guardian.student_id == student.id).order_by(Guardian.seq)
            ).all()
            assert guardians[0].relationship_code == "1" and guardians[0].name == "导入测试父"
            (enrollment,) = db.session.scalars(
                select(Enrollment).where(Enrollment.student_id == student.id)
            ).all()
            assert enrollment.class_id == klass.id and enrollment.stage_entry_ym == "202609"
            assert enrollment.admission_method == "11" and enrollment.study_mode == "1"
            # Each student's own audit entries, as on the registration screen, say why.
            entry = db.session.scalars(
                select(AuditLog).where(
                    AuditLog.table_name == "student", AuditLog.student_id == student.id
                )
            ).one()
            assert entry.action == "insert" and entry.reason == "新生批量导入 新生.xlsx"
        batch = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "import").order_by(AuditLog.id.desc())
        ).first()
        assert batch.changes["count"] == 3 and batch.changes["file"] == "新生.xlsx"
        assert batch.username == "tester" and batch.table_name == "student"

        # The same file again: every row is now in the registry (查重).
        with pytest.raises(ImportRejected) as info:
            commit(db.session, NATIONAL, school, data, "新生.xlsx", today=TODAY, username="t")
        db.session.rollback()
        codes = {(p.row, p.field, p.violation.code) for p in info.value.report.problems}
        assert {(n, "id_number", "registration.duplicate_id") for n in (2, 3, 4)} <= codes
        assert counts() == after


# --- a file full of mistakes -------------------------------------------------------------------


def _mistakes(maker: Maker, holder: Student) -> list[tuple[dict[str, object], set[tuple]]]:
    """(row, {(column field, violation code), …}) — one kind of mistake per row."""
    young = date(maker.birth.year + 4, 3, 17)
    twin_id = make_id_number(
        holder.id_number[:6], holder.birth_date, 991 if holder.sex == "1" else 990
    )
    dup = maker.id_number()
    wrong_check = maker.id_number()
    wrong_check = wrong_check[:17] + ("0" if wrong_check[17] != "0" else "1")
    cases: list[tuple[dict[str, object], set[tuple]]] = [
        ({"name": None}, {("name", "required")}),
        ({"sex": "3"}, {("sex", "code.unknown")}),
        ({"ethnicity": "外星族"}, {("ethnicity", "code.unknown")}),
        ({"admission_method": "其他"}, {("admission_method", "import.code_ambiguous")}),
        ({"admission_method": None}, {("admission_method", "required")}),
        ({"id_number": wrong_check}, {("id_number", "id_number.check_digit")}),
        ({"id_number": "1101011"}, {("id_number", "id_number.length")}),
        ({"id_number": "110101200103170011"[:15]}, {("id_number", "id_number.legacy_15")}),
        ({"birth_date": "20190101"}, {("birth_date", "consistency.birth_date_mismatch")}),
        ({"sex": "女"}, {("sex", "consistency.sex_mismatch")}),
        ({"phone": "12345"}, {("phone", "phone.format")}),
        ({"postal_code": "1000"}, {("postal_code", "postal_code.format")}),
        (
            {"hukou_region_code": maker.region[:2] + "9999"},
            {("hukou_region_code", "region.unknown")},
        ),
        ({"birthplace_code": "12345"}, {("birthplace_code", "region.format")}),
        ({"class_name": "九年级(99)班"}, {("class_name", "import.unknown_class")}),
        (
            {"birth_date": young.strftime("%Y%m%d"), "id_number": maker.id_number(birth=young)},
            {("birth_date", "consistency.age_for_grade")},
        ),
        ({"birth_date": "2019-02-30"}, {("birth_date", "date.invalid")}),
        ({"birth_date": "17/03/2019"}, {("birth_date", "date.format")}),
        ({"only_child": "也许"}, {("only_child", "import.boolean")}),
        ({"distance_km": "很远"}, {("distance_km", "import.number")}),
        ({"email": "not-an-email"}, {("email", "email.format")}),
        ({"stage_entry_ym": "2026-13"}, {("stage_entry_ym", "year_month.invalid")}),
        ({"guardian1_phone": "999"}, {("guardian1_phone", "phone.format")}),
        ({"guardian1_relationship": None}, {("guardian1_relationship", "required")}),
        (
            {"guardian2_id_number": make_id_number("110101", date(1990, 1, 1), 3)[:17] + "Y"},
            {("guardian2_id_number", "id_number.charset")},
        ),
        ({"name": "长" * 51}, {("name", "import.too_long")}),
        ({"hukou_type": None}, {("hukou_type", "required")}),
        (
            {"id_doc_type": "Z", "id_number": None, "guardian1_id_number": None},
            {("guardian1_id_number", "consistency.guardian_id_required")},
        ),
        (
            {
                "id_number": holder.id_number,
                "birth_date": holder.birth_date.strftime("%Y%m%d"),
                "sex": holder.sex,
            },
            {("id_number", "registration.duplicate_id")},
        ),
        (
            {
                "name": holder.name,
                "sex": holder.sex,
                "id_number": twin_id,
                "birth_date": holder.birth_date.strftime("%Y%m%d"),
            },
            {("name", "import.possible_duplicate")},
        ),
        ({"id_number": dup}, {("id_number", "import.duplicate_in_file")}),
        ({"id_number": dup}, {("id_number", "import.duplicate_in_file")}),
        ({"stage_entry_ym": "下学期"}, {("stage_entry_ym", "date.format")}),
    ]
    return [(maker.row(i, **changes), expected) for i, (changes, expected) in enumerate(cases)]


def _holder(school: School) -> Student:
    """A registered student elsewhere, with an ID number (for 查重)."""
    return db.session.scalars(
        select(Student)
        .where(
            Student.id_number.is_not(None),
            Student.id_doc_type == "1",
            Student.current_school_id != school.id,
        )
        .order_by(Student.id)
    ).first()


def test_file_full_of_mistakes_names_each_row_and_column_and_writes_nothing(lc):
    with lc.app.app_context():
        klass = _class(lc)
        school = klass.school
        maker = Maker(klass)
        cases = _mistakes(maker, _holder(school))
        good = maker.row(99)
        rows = [row for row, _ in cases] + [good]
        data = plain_workbook(rows)
        before = counts()

        report = dry_run(db.session, NATIONAL, school, data, "mistakes.xlsx", today=TODAY)
        assert report.readable and not report.ok
        assert report.rows == len(rows)
        assert report.rows_with_errors == len(cases) and report.valid_rows == 1
        found = {(p.row, p.field, p.violation.code) for p in report.problems}
        by_row = report.by_row()
        for number, (_, expected) in enumerate(cases, start=2):
            for column_field, code in expected:
                hits = [
                    p
                    for p in by_row.get(number, [])
                    if p.violation.code == code and p.header == HEADER[column_field]
                ]
                assert hits, (number, column_field, code, sorted(found))
                # The message names the field and the rule, localized.
                assert hits[0].message("zh_CN") and hits[0].message("en")
                assert hits[0].line().startswith(f"row {number}, {HEADER[column_field]}: ")
        assert len({code for _, e in cases for _, code in e}) >= 25
        assert len(rows) + 1 not in by_row  # the good row is clean
        # Both rows of the in-file duplicate name each other.
        dup_rows = [
            n
            for n, (_, e) in enumerate(cases, start=2)
            if ("id_number", "import.duplicate_in_file") in e
        ]
        for number, other in zip(dup_rows, reversed(dup_rows), strict=True):
            (problem,) = [
                p for p in by_row[number] if p.violation.code == "import.duplicate_in_file"
            ]
            assert f"第{other}行" in problem.message("zh_CN")
            assert f"row {other}" in problem.message("en")
        assert counts() == before

        with pytest.raises(ImportRejected):
            commit(db.session, NATIONAL, school, data, "mistakes.xlsx", today=TODAY, username="t")
        db.session.commit()  # even a caller that commits afterwards writes nothing
        assert counts() == before

        # The error workbook marks exactly those cells.
        book = load_workbook(io.BytesIO(error_workbook(report, data)))
        sheet = book.active
        headers = {cell.value: cell.column for cell in sheet[1]}
        assert ERRORS_HEADER in headers and headers[ERRORS_HEADER] == len(TEMPLATE_COLUMNS) + 1
        for number, (_, expected) in enumerate(cases, start=2):
            for column_field, code in expected:
                cell = sheet.cell(row=number, column=headers[HEADER[column_field]])
                assert cell.fill.fgColor.rgb == ERROR_FILL, (number, column_field)
                message = next(
                    p.message()
                    for p in by_row[number]
                    if p.violation.code == code and p.header == HEADER[column_field]
                )
                assert message in cell.comment.text
            assert sheet.cell(row=number, column=headers[ERRORS_HEADER]).value
        good_number = len(rows) + 1
        assert sheet.cell(row=good_number, column=headers["姓名"]).value == good["name"]
        assert all(
            cell.comment is None and cell.fill.fgColor.rgb != ERROR_FILL
            for cell in sheet[good_number]
        )
        assert sheet.cell(row=good_number, column=headers[ERRORS_HEADER]).value is None

        # Corrected in the error workbook itself, the file imports (its extra column ignored).
        fixed = load_workbook(io.BytesIO(error_workbook(report, data)))
        fixed_sheet = fixed.active
        fixed_sheet.delete_rows(2, len(cases))
        out = io.BytesIO()
        fixed.save(out)
        again = dry_run(db.session, NATIONAL, school, out.getvalue(), "fixed.xlsx", today=TODAY)
        assert again.ok and again.rows == 1, again.lines()


def test_namesake_passes_with_a_reason(lc):
    with lc.app.app_context():
        klass = _class(lc)
        school = klass.school
        maker = Maker(klass)
        first = maker.row(0)
        twin = maker.row(1, name=first["name"])  # same name, sex and birth date, other ID
        data = plain_workbook([first, twin])
        report = dry_run(db.session, NATIONAL, school, data, "twins.xlsx", today=TODAY)
        (problem,) = report.problems
        assert (problem.row, problem.violation.code) == (3, "import.possible_duplicate_in_file")
        twin["duplicate_reason"] = "双胞胎，证件号不同"
        data = plain_workbook([first, twin])
        assert dry_run(db.session, NATIONAL, school, data, "twins.xlsx", today=TODAY).ok
        assert commit(db.session, NATIONAL, school, data, "t.xlsx", today=TODAY, username="t") == 2
        db.session.commit()
        batch = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "import").order_by(AuditLog.id.desc())
        ).first()
        assert batch.changes["duplicate_reasons"] == {"3": "双胞胎，证件号不同"}


# --- CSV, encodings, unusable files ------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_in_every_encoding(lc, encoding):
    with lc.app.app_context():
        klass = _class(lc)
        maker = Maker(klass)
        rows = [maker.row(0), maker.row(1, _sex="2")]
        data = csv_bytes(rows, encoding)
        report = dry_run(db.session, NATIONAL, klass.school, data, "新生.csv", today=TODAY)
        assert report.ok, report.lines()
        before = counts()
        assert (
            commit(db.session, NATIONAL, klass.school, data, "新生.csv", today=TODAY, username="t")
            == 2
        )
        db.session.commit()
        names = set(
            db.session.scalars(
                select(Student.name).where(Student.id_number.in_([r["id_number"] for r in rows]))
            )
        )
        assert names == {rows[0]["name"], rows[1]["name"]}  # decoded right
        assert counts()["student"] == before["student"] + 2


def _pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n" + bytes(range(256))


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "file.empty"),
        (_pdf(), "import.file_type"),
        (os.urandom(4096), "import.file_type"),
        (b"PK\x03\x04" + os.urandom(2048), "file.corrupt"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "import.legacy_xls"),
        ("姓名,性别\n".encode(), "import.missing_header"),
        (b"hello,world\n1,2\n", "import.no_header"),
        (",".join(h for _, h in TEMPLATE_COLUMNS).encode() + b"\n\n", "import.no_rows"),
        (b"x" * 20_000, "file.too_large"),
        (
            "\n".join([",".join(h for _, h in TEMPLATE_COLUMNS)] + ["张三"] * 6).encode(),
            "import.too_many_rows",
        ),
    ],
)
def test_unusable_files_are_one_clear_problem(data, code):
    if code == "import.file_type" and data[:4] == b"PK\x03\x04":
        pytest.skip("random bytes happened to look like a ZIP")
    sheet = read_rows("upload.xlsx", data, limits=ImportLimits(max_rows=5, max_bytes=10_000))
    assert not sheet.readable and not sheet.rows
    codes = [p.violation.code for p in sheet.problems]
    assert code in codes, codes
    for problem in sheet.problems:
        assert problem.message("zh_CN") and problem.message("en")


def test_header_problems_name_the_header():
    headers = [h for _, h in TEMPLATE_COLUMNS] + ["身分证号", "姓名", ""]
    body = ["x"] * len(TEMPLATE_COLUMNS) + ["1", "2", "3"]
    data = "\n".join([",".join(headers), ",".join(body)]).encode("utf-8")
    sheet = read_rows("x.csv", data)
    messages = {p.violation.code: p.message("zh_CN") for p in sheet.problems}
    assert "“身分证号”" in messages["import.unknown_header"]
    assert (
        "“姓名”" in messages["import.duplicate_header"]
        and "第1列" in messages["import.duplicate_header"]
    )
    assert f"第{len(headers)}列" in messages["import.blank_header"]
    assert sheet.readable and len(sheet.rows) == 1  # the rows are still checked
    assert sheet.rows[0].values["name"] == "x" and sheet.rows[0].number == 2


def test_garbage_through_the_dry_run_is_a_report_not_a_traceback(lc):
    with lc.app.app_context():
        school = _class(lc).school
        before = counts()
        report = dry_run(db.session, NATIONAL, school, _pdf(), "名单.xlsx", today=TODAY)
        assert not report.readable and report.rows == 0
        assert [p.violation.code for p in report.problems] == ["import.file_type"]
        assert report.lines() == [f"file: {report.problems[0].message()}"]
        with pytest.raises(ImportRejected):
            commit(db.session, NATIONAL, school, _pdf(), "名单.xlsx", today=TODAY, username="t")
        # Another school's registrar may not import here.
        other = Scope(role="SchoolRegistrar", kind="school", school_id=lc.cast.sending)
        data = plain_workbook([Maker(_class(lc)).row(0)])
        report = dry_run(db.session, other, school, data, "x.xlsx", today=TODAY)
        assert [p.violation.code for p in report.problems] == ["scope.school"]
        db.session.rollback()
        assert counts() == before


# --- all or nothing ----------------------------------------------------------------------------


@pytest.mark.parametrize("failure", ["crash", "rule", "clash"])
def test_a_failure_in_the_middle_writes_nothing(lc, monkeypatch, failure):
    with lc.app.app_context():
        klass = _class(lc)
        maker = Maker(klass)
        rows = [maker.row(i) for i in range(5)]
        if failure == "clash":
            # Rows 3 and 5 carry one ID number and the dry run is made to miss it, as if
            # someone had registered the student between the check and the write.
            rows[3]["id_number"] = rows[1]["id_number"]
            monkeypatch.setattr(importing, "_duplicates", lambda session, ready: {})
        data = plain_workbook(rows)
        real = importing.new_l_number
        calls = []

        def flaky(*args, **kwargs):
            calls.append(1)
            if len(calls) == 3 and failure == "crash":
                raise RuntimeError("disk on fire")
            if len(calls) == 3 and failure == "rule":
                raise RuleError([Violation("j_sequence.exhausted", "student_number", {})])
            return real(*args, **kwargs)

        monkeypatch.setattr(importing, "new_l_number", flaky)
        # Two students per flush: the failure comes after rows were already flushed.
        monkeypatch.setattr(importing, "_WRITE_CHUNK", 2)
        before = counts()
        expected = RuntimeError if failure == "crash" else ImportRejected
        with pytest.raises(expected) as info:
            commit(db.session, NATIONAL, klass.school, data, "x.xlsx", today=TODAY, username="t")
        if failure == "rule":
            (problem,) = info.value.report.problems
            assert (problem.row, problem.violation.code) == (4, "j_sequence.exhausted")
            assert problem.line().startswith("row 4, 学籍号: ")
        if failure == "clash":
            (problem,) = info.value.report.problems
            assert (problem.row, problem.violation.code) == (None, "database.constraint")
        db.session.commit()  # the import's savepoint is gone: nothing of it to commit
        assert counts() == before
        # The clash is met when the second pair is flushed, after the first pair was.
        assert len(calls) == (4 if failure == "clash" else 3)


# --- the command line --------------------------------------------------------------------------


def _xueji(lc, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUEJI_")}
    env.update(XUEJI_DATABASE_URL=lc.url, XUEJI_DATA_DIR=str(tmp_path / "cli"))
    return subprocess.run(
        [sys.executable, "-m", "admin.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_cli_exit_codes(lc, tmp_path):
    with lc.app.app_context():
        klass = _class(lc)
        school_code = klass.school.code
        maker = Maker(klass)
        good = [maker.row(0), maker.row(1)]
        bad = [maker.row(2, phone="12345"), maker.row(3)]
        db.session.remove()
    today = ("--today", TODAY.isoformat())
    template = tmp_path / "template.xlsx"
    result = _xueji(lc, tmp_path, "import", "template", str(template))
    assert result.returncode == 0, result.stderr
    good_file = tmp_path / "good.xlsx"
    good_file.write_bytes(fill_template(template.read_bytes(), good))
    bad_file = tmp_path / "bad.csv"
    bad_file.write_bytes(csv_bytes(bad, "gb18030"))
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(_pdf())
    errors = tmp_path / "errors.xlsx"

    result = _xueji(
        lc,
        tmp_path,
        "import",
        "students",
        str(bad_file),
        "--school",
        school_code,
        "--dry-run",
        "--errors",
        str(errors),
        *today,
    )
    assert result.returncode == 1, result.stderr
    assert "2 rows, 1 valid, 1 with errors" in result.stdout
    assert "row 2, 联系电话: " in result.stdout and "Traceback" not in result.stderr
    phone_column = [name for name, _ in TEMPLATE_COLUMNS].index("phone") + 1
    assert load_workbook(errors).active.cell(row=2, column=phone_column).comment is not None

    result = _xueji(
        lc, tmp_path, "import", "students", str(garbage), "--school", school_code, *today
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("xueji: error:") and len(result.stderr.splitlines()) == 1

    result = _xueji(
        lc, tmp_path, "import", "students", str(good_file), "--school", "0000000000", *today
    )
    assert result.returncode == 2 and "--school" in result.stderr

    result = _xueji(
        lc,
        tmp_path,
        "import",
        "students",
        str(good_file),
        "--school",
        school_code,
        "--dry-run",
        *today,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 rows, 2 valid, 0 with errors" in result.stdout and "nothing written" in result.stdout

    result = _xueji(
        lc, tmp_path, "import", "students", str(good_file), "--school", school_code, *today
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "registered 2 students" in result.stdout

    result = _xueji(
        lc, tmp_path, "import", "students", str(good_file), "--school", school_code, *today
    )
    assert result.returncode == 1 and "row 2, 身份证件号: " in result.stdout
    with lc.app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Student)
                .where(Student.id_number.in_([r["id_number"] for r in good]))
            )
            == 2
        )
