"""新生批量导入: registering a school's new students from one Excel (.xlsx) or CSV file.

Used by `xueji import students` and by the import screen. Every row is checked with the same
`validate_student_input` the registration screen uses, and 查重 gives the same verdicts as
`duplicate_check`, for the whole file in one registry query per 10,000 rows; the students are
then written as `add_student` writes one (L number from `new_l_number`, number and
ID-document history, family members, enrollment) but flushed together (see `_write`). This
module only reads the file, turns its cells into form values, and adds the checks that need
the whole file (duplicates inside it, its classes).

API (all messages are `Violation`s, localized with `Problem.message(locale)`):

* `TEMPLATE_COLUMNS` — the template's columns in order, as (field name, zh header): the
  national form's items, the class and enrollment (班级, 入学年月, 入学方式, 就读方式, 学生来源),
  two family members, and 确认不是同一人的理由 (needed only when 查重 warns about a namesake).
* `template_workbook(locale, session=None)` → xlsx bytes: the header row, a "说明" sheet
  (required?, format, allowed codes) and drop-down lists. Code columns accept the code ("1"),
  its name ("男性", "男") or the drop-down text ("1 男性"); yes/no columns 是/否 or 1/0.
* `read_rows(filename, data)` → `SheetData`: the rows as dicts keyed by field name, with
  their Excel row numbers; header problems (unknown, duplicate, missing required) and
  unreadable files come back as problems, never as exceptions. An .xlsx (first sheet) or a
  CSV (UTF-8 with or without BOM, or GB18030) is recognised by its content.
* `dry_run(session, scope, school, data, filename, *, today, locale)` → `ImportReport`:
  writes nothing; `report.problems` names the row, the column header and the rule.
* `error_workbook(report, data)` → xlsx bytes: the uploaded rows with the bad cells filled
  red, each with a comment carrying the message, and a column "错误说明" per row. It can be
  corrected and imported again as it is (the extra column is ignored on reading).
* `commit(session, scope, school, data, filename, *, today, username)` → number of students
  registered. Runs the dry run again and writes only when it is clean, all or nothing, in
  the caller's transaction (the caller commits); raises `ImportRejected` (carrying the
  report) otherwise. Each student gets its ORM audit entries as on the screen (reason
  "新生批量导入 <file>"), plus one `record_batch` entry for the file (count, file, school,
  the reasons given for namesakes). 10,000 rows take under a minute (bench/README.md): run
  it outside a web request.
* `ImportLimits(max_rows=20_000, max_bytes=20 MiB)` — pass `limits=` to any of the above.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Boolean, Float, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.fields import (
    parse_form_date,
    parse_year_month,
    require,
    validate_code,
    validate_region_code,
)
from ..domain.files import human_size
from ..domain.messages import ZH_CN, RuleError, Violation, field_label, resolve_locale
from ..domain.text import to_halfwidth
from ..models import (
    CodeItem,
    Guardian,
    School,
    SchoolClass,
    SchoolYear,
    Student,
)
from ..security.scope import Scope, school_in_scope
from .numbering import new_l_number
from .students import (
    CODED_FIELDS,
    GUARDIAN_FIELDS,
    REGION_FIELDS,
    REQUIRED_FIELDS,
    STUDENT_FORM_FIELDS,
    CodeCatalog,
    new_student_records,
    validate_student_input,
)

IMPORT_REASON = "新生批量导入"
ERRORS_HEADER = "错误说明"  # added by error_workbook; ignored when the file comes back
ERROR_FILL = "FFFFC7CE"  # Excel's own "bad" red
GUARDIAN_SEQS = (1, 2)
_ZH_SEQ = {1: "一", 2: "二"}
# Codes of the enrollment (form items 25–27) and of family members, by column.
ENROLLMENT_CODED = {
    "admission_method": "admission_method",
    "study_mode": "study_mode",
    "student_source": "student_source",
}
GUARDIAN_CODED = {
    "relationship_code": "family_relationship",
    "ethnicity": "ethnicity",
    "id_doc_type": "id_doc_type",
}
# Registry look-ups go out in chunks: both backends take this many bind parameters.
_QUERY_CHUNK = 10_000
# A title line or two above the header row is common in school spreadsheets.
_HEADER_SEARCH_ROWS = 10
_MAX_COLUMNS = 200
_YES = frozenset({"是", "1", "y", "yes", "true", "t", "√", "✓", "有"})
_NO = frozenset({"否", "0", "n", "no", "false", "f", "无"})


@dataclass(frozen=True)
class ImportLimits:
    max_rows: int = 20_000
    max_bytes: int = 20 * 1024 * 1024


DEFAULT_LIMITS = ImportLimits()


# --- the template's columns ---------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnSpec:
    """One template column. `kind`: text, code, region, date, bool, number, class, entry."""

    field: str
    header: str  # zh header = the national form's item name
    kind: str
    code_set: str | None = None
    required: bool = False
    max_length: int | None = None
    guardian: int = 0  # 1 or 2 for family-member columns
    attr: str = ""  # the Guardian attribute of a family-member column


def _kind_of(table: Any, name: str) -> tuple[str, int | None]:
    column_type = table.c[name].type
    if isinstance(column_type, Boolean):
        return "bool", None
    if isinstance(column_type, Float):
        return "number", None
    if isinstance(column_type, String):
        return "text", column_type.length
    return "date", None


def guardian_field(seq: int, attr: str) -> str:
    """Column field of a family member's attribute; validate_student_input names the
    relationship "guardianN_relationship" in its violations, so the column does too."""
    return f"guardian{seq}_{'relationship' if attr == 'relationship_code' else attr}"


def _build_specs() -> tuple[ColumnSpec, ...]:
    specs: list[ColumnSpec] = []
    student = Student.__table__
    for name in STUDENT_FORM_FIELDS:
        kind, length = _kind_of(student, name)
        code_set = CODED_FIELDS.get(name)
        if code_set:
            kind = "code"
        elif name in REGION_FIELDS:
            kind = "region"
        specs.append(
            ColumnSpec(
                name,
                field_label(name, ZH_CN),
                kind,
                code_set=code_set,
                required=name in REQUIRED_FIELDS,
                max_length=length,
            )
        )
    name_length = SchoolClass.__table__.c["name"].type.length
    specs.append(ColumnSpec("class_name", "班级", "class", required=True, max_length=name_length))
    specs.append(
        ColumnSpec("stage_entry_ym", field_label("stage_entry_ym"), "entry", required=True)
    )
    for name, code_set in ENROLLMENT_CODED.items():
        specs.append(
            ColumnSpec(
                name,
                field_label(name, ZH_CN),
                "code",
                code_set=code_set,
                required=name == "admission_method",
            )
        )
    guardian = Guardian.__table__
    for seq in GUARDIAN_SEQS:
        for attr in GUARDIAN_FIELDS:
            kind, length = _kind_of(guardian, attr)
            code_set = GUARDIAN_CODED.get(attr)
            if code_set:
                kind = "code"
            elif attr == "hukou_region_code":
                kind = "region"
            name = guardian_field(seq, attr)
            specs.append(
                ColumnSpec(
                    name,
                    field_label(name, ZH_CN),
                    kind,
                    code_set=code_set,
                    max_length=length,
                    guardian=seq,
                    attr=attr,
                )
            )
    specs.append(
        ColumnSpec(
            "duplicate_reason", field_label("duplicate_reason", ZH_CN), "text", max_length=200
        )
    )
    return tuple(specs)


COLUMN_SPECS: tuple[ColumnSpec, ...] = _build_specs()
TEMPLATE_COLUMNS: tuple[tuple[str, str], ...] = tuple((s.field, s.header) for s in COLUMN_SPECS)
SPEC_BY_FIELD: dict[str, ColumnSpec] = {s.field: s for s in COLUMN_SPECS}
_STUDENT_SPECS = tuple(s for s in COLUMN_SPECS if s.field in STUDENT_FORM_FIELDS)
_GUARDIAN_SPECS = {
    seq: tuple(s for s in COLUMN_SPECS if s.guardian == seq) for seq in GUARDIAN_SEQS
}
_ID_FIELDS = frozenset({"id_number", *(guardian_field(seq, "id_number") for seq in GUARDIAN_SEQS)})


def _norm(text: str) -> str:
    """Header and code-name matching: half-width, no spaces, no required-marker stars."""
    return "".join(to_halfwidth(text).split()).strip("*").casefold()


def _header_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for spec in COLUMN_SPECS:
        for text in (spec.header, field_label(spec.field, "en"), spec.field):
            aliases.setdefault(_norm(text), spec.field)
    aliases[_norm("班级名称")] = "class_name"
    return aliases


_HEADER_ALIASES = _header_aliases()


# --- code tables: names → codes ---------------------------------------------------------------


@dataclass
class CodeNames:
    """Codes in force per code set, with their names, and the text a cell may hold for each:
    the code, its zh or en name, "code name" (the drop-down text), or the zh name without a
    trailing 性/族 (男, 汉). A name shared by several codes maps to all of them (ambiguous)."""

    items: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    lookup: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, on: date) -> CodeNames:
        names = cls()
        rows = session.execute(
            select(CodeItem.code_set, CodeItem.code, CodeItem.name_zh, CodeItem.name_en)
            .where(
                CodeItem.valid_from <= on,
                (CodeItem.valid_to.is_(None)) | (CodeItem.valid_to >= on),
            )
            .order_by(CodeItem.code_set, CodeItem.sort_order, CodeItem.code)
        )
        for code_set, code, zh, en in rows:
            names.items.setdefault(code_set, []).append((code, zh, en))
        for code_set, items in names.items.items():
            by_text: dict[str, list[str]] = defaultdict(list)
            for code, zh, en in items:
                texts = {zh, en, f"{code} {zh}"}
                if len(zh) > 1 and zh[-1] in "性族":
                    texts.add(zh[:-1])
                for text in texts:
                    if code not in by_text[_norm(text)]:
                        by_text[_norm(text)].append(code)
            for code, _, _ in items:  # a code always means itself
                by_text[_norm(code)] = [code]
            names.lookup[code_set] = dict(by_text)
        return names

    def to_code(self, code_set: str, text: str) -> tuple[str, list[str]]:
        """(the code, []) when the text names one; (text, []) when it names none (the code
        rule then refuses it); (text, [codes]) when it names several."""
        table = self.lookup.get(code_set, {})
        found = table.get(_norm(text))
        if not found and text.isascii() and text.isdigit():
            # Excel drops leading zeros from codes typed into a number cell ("01" → 1).
            widths = {len(code) for code, _, _ in self.items.get(code_set, [])}
            padded = {text.zfill(w) for w in widths if w > len(text)}
            found = [code for code in sorted(padded) if table.get(code) == [code]]
        if not found:
            return text, []
        if len(found) > 1:
            return text, found
        return found[0], []

    def choices(self, code_set: str) -> list[str]:
        return [f"{code} {zh}" for code, zh, _ in self.items.get(code_set, [])]


# --- reading the file ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One broken rule at a place in the file: `row` is the Excel row number (None for the
    file as a whole), `column` the 1-based column (None when the value has no column in the
    file), `header` that column's header as written in the file (else the field's label)."""

    violation: Violation
    row: int | None = None
    column: int | None = None
    header: str = ""

    @property
    def field(self) -> str:
        return self.violation.field

    def message(self, locale: str = ZH_CN) -> str:
        return self.violation.message(locale)

    def line(self, locale: str = ZH_CN) -> str:
        """ "row 7, 身份证件号: 校验码错误，应为 X" (the field label is not repeated)."""
        text = self.message(locale)
        label = field_label(self.violation.field, locale)
        for separator in ("：", ": "):
            if text.startswith(label + separator):
                text = text[len(label) + len(separator) :]
                break
        if self.row is None:  # the file or its header row: the whole message
            where = "file" if self.column is None else f"column {self.column}"
            return f"{where}: {self.message(locale)}"
        return f"row {self.row}, {self.header or label}: {text}"

    def to_dict(self, locale: str = ZH_CN) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "header": self.header,
            **self.violation.to_dict(locale),
        }


@dataclass(frozen=True)
class SheetColumn:
    index: int  # 1-based, as in the file
    header: str  # as written
    field: str | None  # None: not a template column (or the error column)


@dataclass
class ImportRow:
    number: int  # Excel row number
    values: dict[str, Any]  # field → cell value (str, int, float, date, datetime, bool)
    cells: tuple[Any, ...]  # the row as read, every column


@dataclass
class SheetData:
    columns: list[SheetColumn] = field(default_factory=list)
    rows: list[ImportRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    header_row: int = 1
    readable: bool = True  # False: no row could be read (the problems say why)

    def column_of(self, field_name: str) -> SheetColumn | None:
        return next((c for c in self.columns if c.field == field_name), None)


def _file_problem(code: str, params: Mapping[str, object] | None = None) -> Problem:
    return Problem(Violation(code, "file", params or {}))


def _sniff(data: bytes) -> str:
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "xls"
    return "csv"


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, tuple[Any, ...]]]:
    from openpyxl import load_workbook

    # read_only streams the sheet; data_only gives formulas' cached values.
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        # Rows as stored, not padded to the declared size: a wrong or missing <dimension>
        # would otherwise cost a pass over the whole sheet, or pad every row.
        sheet.reset_dimensions()
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, tuple(values[:_MAX_COLUMNS])
    finally:
        book.close()


def _decode(data: bytes) -> str | None:
    if data.startswith(b"\xef\xbb\xbf"):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # Binary files (a renamed PDF, a ZIP, noise) carry control characters.
        if re.search(r"[\x00-\x08\x0b\x0e-\x1f\x7f]", text[:65536]):
            return None
        return text
    return None


def _csv_rows(text: str) -> Iterator[tuple[int, tuple[Any, ...]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for number, values in enumerate(reader, start=1):
        yield number, tuple(values[:_MAX_COLUMNS])


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _find_header(
    rows: Iterator[tuple[int, tuple[Any, ...]]],
) -> tuple[int, tuple[Any, ...]] | None:
    """The first row (among the first few) that holds template headers."""
    for number, values in rows:
        known = sum(1 for v in values if isinstance(v, str) and _norm(v) in _HEADER_ALIASES)
        if known:
            return number, values
        if number >= _HEADER_SEARCH_ROWS:
            return None
    return None


def _read_header(values: tuple[Any, ...], number: int) -> tuple[list[SheetColumn], list[Problem]]:
    columns: list[SheetColumn] = []
    problems: list[Problem] = []
    seen: dict[str, SheetColumn] = {}
    for index, raw in enumerate(values, start=1):
        header = "" if raw is None else str(raw).strip()
        if not header or _norm(header) == _norm(ERRORS_HEADER):
            columns.append(SheetColumn(index, header, None))
            continue
        name = _HEADER_ALIASES.get(_norm(header))
        if name is None:
            problems.append(
                Problem(
                    Violation(
                        "import.unknown_header", "header", {"column": index, "header": header}
                    ),
                    column=index,
                    header=header,
                )
            )
        elif name in seen:
            params = {"header": header, "first": seen[name].index, "column": index}
            problems.append(
                Problem(
                    Violation("import.duplicate_header", "header", params),
                    column=index,
                    header=header,
                )
            )
            name = None
        columns.append(SheetColumn(index, header, name))
        if name is not None:
            seen[name] = columns[-1]
    for spec in COLUMN_SPECS:
        if spec.required and spec.field not in seen:
            problems.append(
                Problem(Violation("import.missing_header", "header", {"header": spec.header}))
            )
    return columns, problems


def read_rows(filename: str, data: bytes, *, limits: ImportLimits = DEFAULT_LIMITS) -> SheetData:
    """Read an .xlsx or CSV import file into rows keyed by field name (see the module
    docstring). Blank rows are skipped; row numbers stay those of the file."""
    sheet = SheetData()
    if not data:
        sheet.problems.append(_file_problem("file.empty"))
        sheet.readable = False
        return sheet
    if len(data) > limits.max_bytes:
        params = {"size": human_size(len(data)), "limit": human_size(limits.max_bytes)}
        sheet.problems.append(_file_problem("file.too_large", params))
        sheet.readable = False
        return sheet
    kind = _sniff(data)
    if kind == "xls":
        sheet.problems.append(_file_problem("import.legacy_xls"))
        sheet.readable = False
        return sheet
    if kind == "xlsx":
        source: Iterator[tuple[int, tuple[Any, ...]]] = _xlsx_rows(data)
    else:
        text = _decode(data)
        if text is None:
            sheet.problems.append(_file_problem("import.file_type"))
            sheet.readable = False
            return sheet
        source = _csv_rows(text)
    # openpyxl and zipfile raise many kinds of errors on a damaged workbook; csv only Error.
    damaged: tuple[type[Exception], ...] = (Exception,) if kind == "xlsx" else (csv.Error,)
    try:
        _read_source(sheet, source, limits)
    except damaged:
        sheet.rows.clear()
        sheet.columns.clear()
        sheet.problems = [_file_problem("file.corrupt" if kind == "xlsx" else "import.file_type")]
        sheet.readable = False
    return sheet


def _read_source(
    sheet: SheetData, source: Iterator[tuple[int, tuple[Any, ...]]], limits: ImportLimits
) -> None:
    found = _find_header(source)
    if found is None:
        sheet.problems.append(_file_problem("import.no_header"))
        sheet.readable = False
        return
    sheet.header_row, header_values = found
    sheet.columns, problems = _read_header(header_values, sheet.header_row)
    sheet.problems += problems
    if any(p.violation.code == "import.missing_header" for p in problems):
        sheet.readable = False
        return
    fields = [(c.index - 1, c.field) for c in sheet.columns if c.field is not None]
    unnamed = [c.index - 1 for c in sheet.columns if c.field is None and not c.header]
    blank_with_data: set[int] = set()
    for number, values in source:
        if all(_blank(v) for v in values):
            continue
        if len(sheet.rows) >= limits.max_rows:
            sheet.problems.append(_file_problem("import.too_many_rows", {"limit": limits.max_rows}))
            sheet.readable = False
            sheet.rows.clear()
            return
        row = {name: values[i] if i < len(values) else None for i, name in fields}
        for i in unnamed:
            if i < len(values) and not _blank(values[i]):
                blank_with_data.add(i + 1)
        extra = values[len(sheet.columns) :]
        for offset, value in enumerate(extra):
            if not _blank(value):
                blank_with_data.add(len(sheet.columns) + offset + 1)
        sheet.rows.append(ImportRow(number, row, values))
    for index in sorted(blank_with_data):
        sheet.problems.append(
            Problem(Violation("import.blank_header", "header", {"column": index}), column=index)
        )
    if not sheet.rows:
        sheet.problems.append(_file_problem("import.no_rows"))
        sheet.readable = False


# --- the report ---------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What a dry run (or a refused commit) found. `rows` counts the data rows read."""

    filename: str
    school_code: str
    locale: str = ZH_CN
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    readable: bool = True  # False: the file could not be checked at all (see file_problems)

    @property
    def ok(self) -> bool:
        return self.readable and not self.problems

    @property
    def file_problems(self) -> list[Problem]:
        return [p for p in self.problems if p.row is None]

    @property
    def row_problems(self) -> list[Problem]:
        return [p for p in self.problems if p.row is not None]

    @property
    def rows_with_errors(self) -> int:
        return len({p.row for p in self.problems if p.row is not None})

    @property
    def valid_rows(self) -> int:
        return self.rows - self.rows_with_errors if self.readable else 0

    def by_row(self) -> dict[int, list[Problem]]:
        found: dict[int, list[Problem]] = defaultdict(list)
        for p in self.problems:
            if p.row is not None:
                found[p.row].append(p)
        return dict(found)

    def lines(self, limit: int | None = None) -> list[str]:
        """File problems first, then row problems by row and column."""
        ordered = self.file_problems + sorted(
            self.row_problems, key=lambda p: (p.row or 0, p.column or 10_000)
        )
        return [p.line(self.locale) for p in ordered[:limit]]


class ImportRejected(Exception):
    """The file has problems (or a row failed while writing): nothing was written."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        super().__init__(
            f"{report.filename}: {len(report.problems)} problem(s) in "
            f"{report.rows_with_errors} row(s); nothing was imported"
        )


# --- cells → form values ------------------------------------------------------------------------


def _as_text(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        return raw.strip() or None
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, datetime):
        return raw.date().isoformat() if raw.time() == time(0) else raw.isoformat(sep=" ")
    if isinstance(raw, date):
        return raw.isoformat()
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


@dataclass
class _RowContext:
    catalog: CodeCatalog
    names: CodeNames
    school: School
    year: SchoolYear
    classes: dict[str, list[SchoolClass]]
    today: date


def _convert(spec: ColumnSpec, raw: Any, ctx: _RowContext) -> tuple[Any, list[Violation]]:
    """A cell → the value the form takes, and the problems only the file can have (a name
    that fits several codes, a yes/no or number that is neither, a value longer than the
    column, an ID number Excel turned into a number)."""
    if raw is None or raw == "":  # most cells of a row are blank: the fast way out
        return None, []
    name = spec.field
    if isinstance(raw, float) and name in _ID_FIELDS and abs(raw) >= 1e15:
        return None, [Violation("import.id_as_number", name)]
    if spec.kind == "date" and isinstance(raw, date):
        return (raw.date() if isinstance(raw, datetime) else raw), []
    text = _as_text(raw)
    if text is None:
        return None, []
    if spec.kind == "bool":
        key = _norm(text)
        if key in _YES:
            return True, []
        if key in _NO:
            return False, []
        return None, [Violation("import.boolean", name, {"value": text})]
    if spec.kind == "number":
        try:
            number = float(to_halfwidth(text))
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            return None, [Violation("import.number", name, {"value": text})]
        return number, []
    if spec.kind == "code" and spec.code_set:
        code, several = ctx.names.to_code(spec.code_set, text)
        if several:
            params = {"value": text, "codes": "/".join(several)}
            return text, [Violation("import.code_ambiguous", name, params)]
        return code, []
    # Region codes have their own format rule; other text must fit its column.
    if spec.kind != "region" and spec.max_length is not None and len(text) > spec.max_length:
        return text, [
            Violation("import.too_long", name, {"max": spec.max_length, "length": len(text)})
        ]
    return text, []


@dataclass
class _Ready:
    """A checked row, as add_student takes it."""

    number: int
    data: dict[str, Any]
    guardians: list[dict[str, Any]]
    guardian_seqs: list[int]
    school_class: SchoolClass | None
    entry_date: date | None
    admission_method: str | None
    study_mode: str
    student_source: str
    duplicate_reason: str | None
    clean: dict[str, Any]
    id_ok: bool  # the ID number passed its own rules (a candidate for 查重)


def _retarget(violation: Violation, seqs: Sequence[int]) -> tuple[Violation, str]:
    """(the violation, the column it belongs to). validate_student_input numbers the family
    members it was given 1, 2, …; a file with only 家庭成员二 filled gives it one member."""
    name = violation.field
    if name == "grade":  # the class decides the grade
        return violation, "class_name"
    if name == "guardian_id_number":
        return violation, guardian_field(seqs[0] if seqs else 1, "id_number")
    match = re.fullmatch(r"guardian(\d)_(\w+)", name)
    if match and seqs:
        index = int(match.group(1))
        seq = seqs[index - 1] if index <= len(seqs) else index
        if seq != index:
            moved = f"guardian{seq}_{match.group(2)}"
            return Violation(violation.code, moved, dict(violation.params)), moved
    return violation, name


def _check_row(row: ImportRow, ctx: _RowContext) -> tuple[_Ready, list[Violation]]:
    values = row.values
    problems: list[Violation] = []

    def take(spec: ColumnSpec) -> Any:
        value, found = _convert(spec, values.get(spec.field), ctx)
        if found:
            problems.extend(found)
        return value

    data = {spec.field: take(spec) for spec in _STUDENT_SPECS}
    guardians: list[dict[str, Any]] = []
    seqs: list[int] = []
    for seq, specs in _GUARDIAN_SPECS.items():
        member = {spec.attr: take(spec) for spec in specs}
        if any(v is not None for v in member.values()):
            guardians.append(member)
            seqs.append(seq)
            for attr, code_set in GUARDIAN_CODED.items():
                if attr != "relationship_code" and member.get(attr):
                    problems += validate_code(
                        member[attr],
                        field=guardian_field(seq, attr),
                        allowed=ctx.catalog.codes.get(code_set, set()),
                    )
            if member.get("hukou_region_code"):
                problems += validate_region_code(
                    member["hukou_region_code"],
                    field=guardian_field(seq, "hukou_region_code"),
                    known_codes=ctx.catalog.regions,
                )[1]

    class_name = take(SPEC_BY_FIELD["class_name"])
    problems += require(class_name, field="class_name")
    school_class: SchoolClass | None = None
    if class_name:
        matches = ctx.classes.get(_norm(class_name), [])
        params = {"value": class_name, "school": ctx.school.name, "school_year": ctx.year.code}
        if not matches:
            problems.append(Violation("import.unknown_class", "class_name", params))
        elif len(matches) > 1:
            params["count"] = len(matches)
            problems.append(Violation("import.ambiguous_class", "class_name", params))
        else:
            school_class = matches[0]

    entry_raw = values.get("stage_entry_ym")
    problems += require(_as_text(entry_raw), field="stage_entry_ym")
    entry_date = _entry_date(entry_raw, ctx, problems)

    enrollment: dict[str, str | None] = {}
    for name, code_set in ENROLLMENT_CODED.items():
        value = take(SPEC_BY_FIELD[name])
        enrollment[name] = value
        problems += validate_code(value, field=name, allowed=ctx.catalog.codes.get(code_set, set()))
    problems += require(enrollment["admission_method"], field="admission_method")
    reason = take(SPEC_BY_FIELD["duplicate_reason"])

    clean, rule_problems = validate_student_input(
        data,
        guardians,
        ctx.catalog,
        today=ctx.today,
        grade_code=school_class.grade_code if school_class else None,
        school_year_start=ctx.year.start_date,
        primary_years=ctx.school.primary_years,
    )
    problems += rule_problems
    id_ok = bool(clean.get("id_number")) and not any(v.field == "id_number" for v in problems)
    ready = _Ready(
        number=row.number,
        data=data,
        guardians=guardians,
        guardian_seqs=seqs,
        school_class=school_class,
        entry_date=entry_date,
        admission_method=enrollment["admission_method"],
        study_mode=enrollment["study_mode"] or "1",
        student_source=enrollment["student_source"] or "1",
        duplicate_reason=reason,
        clean=clean,
        id_ok=id_ok,
    )
    return ready, problems


def _entry_date(raw: Any, ctx: _RowContext, problems: list[Violation]) -> date | None:
    """入学年月: YYYYMM / YYYY-MM (the 1st of the month) or a full date. A date may lie up to
    the end of the class's school year: new students are often registered before they start."""
    if isinstance(raw, date):
        found, date_problems = parse_form_date(raw, field="stage_entry_ym", today=ctx.year.end_date)
        problems += date_problems
        return found
    text = _as_text(raw)
    if text is None:
        return None
    compact = to_halfwidth(text)
    if re.fullmatch(r"[0-9]{4}-?[0-9]{1,2}", compact) and len(compact.replace("-", "")) <= 6:
        year_month, ym_problems = parse_year_month(compact, field="stage_entry_ym")
        problems += ym_problems
        return date(year_month[0], year_month[1], 1) if year_month else None
    found, date_problems = parse_form_date(compact, field="stage_entry_ym", today=ctx.year.end_date)
    problems += date_problems
    return found


# --- whole-file checks: duplicates --------------------------------------------------------------


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _registry_holders(session: Session, numbers: Iterable[str]) -> dict[str, dict[str, Any]]:
    """查重 for the whole file: who already holds each ID number, in one query per 10,000."""
    from ..security.masking import mask_value

    holders: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(numbers)), _QUERY_CHUNK):
        rows = session.execute(
            select(Student.id_number, Student.name, Student.student_number, School.name)
            .outerjoin(School, School.id == Student.current_school_id)
            .where(Student.id_number.in_(chunk))
        )
        for number, name, student_number, school_name in rows:
            holders.setdefault(
                number,
                {
                    "school": school_name or "—",
                    "name": mask_value("name", name),
                    "student_number": student_number,
                },
            )
    return holders


Twin = tuple[str, str, date]


def _registry_twins(session: Session, keys: Iterable[Twin]) -> dict[Twin, dict[str, Any]]:
    """Students with the same name, sex and birth date (查重's warning), for the whole file:
    one query per 5,000 rows, narrowed by name and birth date, matched here."""
    wanted = sorted(set(keys))
    found: dict[Twin, list[int | None]] = defaultdict(list)
    for chunk in _chunks(wanted, _QUERY_CHUNK // 2):
        keys_here = set(chunk)
        rows = session.execute(
            select(Student.name, Student.sex, Student.birth_date, Student.current_school_id).where(
                Student.name.in_({k[0] for k in chunk}),
                Student.birth_date.in_({k[2] for k in chunk}),
            )
        )
        for name, sex, birth, school_id in rows:
            key = (name, sex, birth)
            if key in keys_here and len(found[key]) < 5:  # duplicate_check looks at five
                found[key].append(school_id)
    school_ids = {i for ids in found.values() for i in ids if i is not None}
    names = (
        dict(session.execute(select(School.id, School.name).where(School.id.in_(school_ids))).all())
        if school_ids
        else {}
    )
    return {
        key: {
            "count": len(ids),
            "schools": "、".join(sorted({names[i] for i in ids if i in names})),
        }
        for key, ids in found.items()
    }


def _twin_key(ready: _Ready) -> Twin | None:
    clean = ready.clean
    name, sex, birth = clean.get("name"), clean.get("sex"), clean.get("birth_date")
    if isinstance(name, str) and name.strip() and sex and isinstance(birth, date):
        return name.strip(), str(sex), birth
    return None


def _duplicates(session: Session, ready: Sequence[_Ready]) -> dict[int, list[Violation]]:
    """In-file and registry duplicates, as add_student's 查重 would meet them row by row
    (earlier rows of the file are in the registry by then)."""
    found: dict[int, list[Violation]] = defaultdict(list)
    by_id: dict[str, list[int]] = defaultdict(list)
    for item in ready:
        if item.id_ok:
            by_id[item.clean["id_number"]].append(item.number)
    id_taken: set[int] = set()
    for rows in by_id.values():
        if len(rows) > 1:
            for number in rows:
                others = "、".join(str(n) for n in rows if n != number)
                found[number].append(
                    Violation("import.duplicate_in_file", "id_number", {"other": others})
                )
                id_taken.add(number)
    holders = _registry_holders(session, by_id)
    for item in ready:
        if item.id_ok and item.clean["id_number"] in holders:
            params = holders[item.clean["id_number"]]
            found[item.number].append(Violation("registration.duplicate_id", "id_number", params))
            id_taken.add(item.number)

    candidates = [
        (item, key)
        for item in ready
        if item.number not in id_taken and (key := _twin_key(item)) is not None
    ]
    first_row: dict[Twin, int] = {}
    unexplained = [(item, key) for item, key in candidates if not (item.duplicate_reason or "")]
    twins = _registry_twins(session, (key for _, key in unexplained))
    for item, key in candidates:
        earlier = first_row.setdefault(key, item.number)
        if item.duplicate_reason:
            continue
        if key in twins:
            found[item.number].append(Violation("import.possible_duplicate", "name", twins[key]))
        elif earlier != item.number:
            found[item.number].append(
                Violation("import.possible_duplicate_in_file", "name", {"other": earlier})
            )
    return found


# --- dry run and commit -------------------------------------------------------------------------


def _current_year(session: Session, today: date) -> SchoolYear | None:
    from .status_changes import current_school_year

    return current_school_year(session, today)


def _place(violation: Violation, ready: _Ready | None, sheet: SheetData, row: int) -> Problem:
    violation, column_field = _retarget(violation, ready.guardian_seqs if ready else [])
    column = sheet.column_of(column_field)
    if column is not None:
        return Problem(violation, row=row, column=column.index, header=column.header)
    return Problem(violation, row=row, header=field_label(column_field, ZH_CN))


def _check(
    session: Session,
    scope: Scope,
    school: School,
    data: bytes,
    filename: str,
    *,
    today: date,
    locale: str,
    limits: ImportLimits,
) -> tuple[ImportReport, list[_Ready], SheetData]:
    report = ImportReport(filename=filename, school_code=school.code, locale=resolve_locale(locale))
    sheet = SheetData()
    if not school_in_scope(session, scope, school.id):
        report.problems.append(Problem(Violation("scope.school", "school")))
        report.readable = False
        return report, [], sheet
    year = _current_year(session, today)
    if year is None:
        params = {"today": today.isoformat()}
        report.problems.append(Problem(Violation("import.no_school_year", "school_year", params)))
        report.readable = False
        return report, [], sheet
    sheet = read_rows(filename, data, limits=limits)
    report.problems += sheet.problems
    report.rows = len(sheet.rows)
    report.readable = sheet.readable
    if not sheet.readable:
        return report, [], sheet

    classes: dict[str, list[SchoolClass]] = defaultdict(list)
    for klass in session.scalars(
        select(SchoolClass).where(
            SchoolClass.school_id == school.id, SchoolClass.school_year_id == year.id
        )
    ):
        classes[_norm(klass.name)].append(klass)
    ctx = _RowContext(
        catalog=CodeCatalog.load(session, today),
        names=CodeNames.load(session, today),
        school=school,
        year=year,
        classes=dict(classes),
        today=today,
    )
    ready: list[_Ready] = []
    placed: dict[int, list[Problem]] = {}
    for row in sheet.rows:
        item, violations = _check_row(row, ctx)
        ready.append(item)
        placed[row.number] = [_place(v, item, sheet, row.number) for v in violations]
    by_number = {item.number: item for item in ready}
    for number, violations in _duplicates(session, ready).items():
        placed[number] += [_place(v, by_number[number], sheet, number) for v in violations]
    for row_problems in placed.values():
        report.problems += _tidy(row_problems)
    return report, ready, sheet


# Problems of the cell itself (not of the value's meaning): the rules' verdicts on what the
# cell was turned into would only repeat them.
_CELL_CODES = frozenset(
    {
        "import.code_ambiguous",
        "import.boolean",
        "import.number",
        "import.too_long",
        "import.id_as_number",
    }
)


def _tidy(problems: list[Problem]) -> list[Problem]:
    """One row's problems: each message once per column, and a cell the file got wrong
    (an ambiguous name, a yes/no that is neither …) reported for that alone."""
    bad_cells = {p.header for p in problems if p.violation.code in _CELL_CODES}
    seen: set[tuple[str, str]] = set()
    kept: list[Problem] = []
    for problem in problems:
        if problem.header in bad_cells and problem.violation.code not in _CELL_CODES:
            continue
        key = (problem.header, problem.message())
        if key not in seen:
            seen.add(key)
            kept.append(problem)
    return kept


def dry_run(
    session: Session,
    scope: Scope,
    school: School,
    data: bytes,
    filename: str,
    *,
    today: date,
    locale: str = ZH_CN,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> ImportReport:
    """Check an import file for `school` without writing anything."""
    return _check(
        session, scope, school, data, filename, today=today, locale=locale, limits=limits
    )[0]


def commit(
    session: Session,
    scope: Scope,
    school: School,
    data: bytes,
    filename: str,
    *,
    today: date,
    username: str,
    locale: str = ZH_CN,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> int:
    """Register every student of the file, or none, in the caller's transaction (the caller
    commits). The dry run runs again and must be clean; then every student is built as
    add_student builds one (L number, number and ID-document history, family members,
    enrollment) and all are flushed at once inside a savepoint, which is rolled back if
    anything fails — a row whose L number cannot be issued, a clash with a registration made
    meanwhile (ImportRejected), or any other error. Each student gets its ORM audit entries
    as on the screen, and the file one batch entry."""
    from ..audit import record_batch
    from ..audit.context import REASON_KEY

    report, ready, sheet = _check(
        session, scope, school, data, filename, today=today, locale=locale, limits=limits
    )
    if not report.ok:
        raise ImportRejected(report)
    previous_reason = session.info.get(REASON_KEY)
    # Each student's own audit entries say where they came from.
    session.info[REASON_KEY] = previous_reason or f"{IMPORT_REASON} {filename}"
    savepoint = session.begin_nested()
    try:
        _write(session, school, ready, report, sheet)
        reasons = {str(r.number): r.duplicate_reason for r in ready if r.duplicate_reason}
        record_batch(
            session,
            "import",
            "student",
            len(ready),
            IMPORT_REASON,
            username=username,
            details={
                "file": filename,
                "school": school.code,
                **({"duplicate_reasons": reasons} if reasons else {}),
            },
        )
    except BaseException:
        savepoint.rollback()
        raise
    finally:
        if previous_reason is None:
            session.info.pop(REASON_KEY, None)
        else:
            session.info[REASON_KEY] = previous_reason
    savepoint.commit()
    return len(ready)


def _write(
    session: Session,
    school: School,
    ready: Sequence[_Ready],
    report: ImportReport,
    sheet: SheetData,
) -> None:
    """The rows, checked by the dry run (validate_student_input and 查重), written as
    add_student writes one, a chunk of students per flush. Not add_student itself: per row
    it reloads the code tables, repeats 查重 and flushes with its audit entries, which took
    minutes per 10,000 rows on PostgreSQL while holding the audit chain's lock (every
    audited write in the registry waits for it). Flushed chunks leave the session, so memory
    stays flat however long the file."""
    issued: set[str] = set()
    for start in range(0, len(ready), _WRITE_CHUNK):
        chunk = ready[start : start + _WRITE_CHUNK]
        with session.no_autoflush:  # new_l_number's look-ups must not flush half-built rows
            objects = _build(session, school, chunk, issued, report, sheet)
        try:
            session.flush()
        except IntegrityError:
            # A registration made since the check (the same ID number, a taken L number).
            report.problems.append(Problem(Violation("database.constraint", "file")))
            raise ImportRejected(report) from None
        for obj in objects:
            session.expunge(obj)


_WRITE_CHUNK = 1_000


def _build(
    session: Session,
    school: School,
    chunk: Sequence[_Ready],
    issued: set[str],
    report: ImportReport,
    sheet: SheetData,
) -> list[Any]:
    """Add one chunk's students and their rows to the session; return every object added."""
    objects: list[Any] = []
    for item in chunk:
        if item.school_class is None or item.entry_date is None or not item.admission_method:
            raise RuntimeError(f"row {item.number}: checked without class or entry")
        clean = dict(item.clean)
        guardian_rows = clean.pop("guardians")
        try:
            number = new_l_number(session, school.region_code, clean["birth_date"])
            while number in issued:  # issued to an earlier row, maybe not flushed yet
                number = new_l_number(session, school.region_code, clean["birth_date"])
        except RuleError as exc:
            report.problems += [_place(v, item, sheet, item.number) for v in exc.violations]
            raise ImportRejected(report) from None
        issued.add(number)
        objects += new_student_records(
            clean,
            guardian_rows,
            number=number,
            school_class=item.school_class,
            entry_date=item.entry_date,
            admission_method=item.admission_method,
            study_mode=item.study_mode,
            student_source=item.student_source,
        )
    _add_grouped(session, objects)
    return objects


def _add_grouped(session: Session, objects: list[Any]) -> None:
    """Add the objects so that rows of one table filling the same defaulted columns are next
    to each other: the flush sends consecutive inserts with the same columns as one
    statement, and a file's rows differ in which optional columns they fill."""

    def key(obj: Any) -> tuple[str, tuple[str, ...]]:
        table = type(obj).__table__
        filled = tuple(
            sorted(
                c.key
                for c in table.columns
                if (c.default is not None or c.server_default is not None)
                and getattr(obj, c.key, None) is not None
            )
        )
        return table.name, filled

    session.add_all(sorted(objects, key=key))


# --- workbooks ----------------------------------------------------------------------------------


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


_HELP: dict[str, dict[str, Any]] = {
    ZH_CN: {
        "title": "填写说明",
        "intro": (
            "每行一名学生；请勿修改第一行表头。代码列可填代码（如 1）、名称（如 男）或下拉选项"
            "（如 1 男性）；是否列填“是”或“否”。也可另存为 CSV（UTF-8 或 GB18030 编码）导入。"
        ),
        "columns": ("列", "表头", "必填", "填写要求"),
        "yes": "是",
        "no": "否",
        "id_number": "居民身份证必填（18位，校验码须正确）；证件类型为“其他”时可空",
        "kinds": {
            "text": "文字",
            "code": "代码或名称：",
            "region": "6位或12位行政区划代码",
            "date": "日期：YYYYMMDD 或 YYYY-MM-DD",
            "bool": "是 / 否",
            "number": "数字，如 1.5",
            "class": "本校当前学年的班级名称，如 一年级(1)班",
            "entry": "YYYYMM、YYYY-MM 或具体日期",
        },
        "duplicate_reason": "仅当与已有学生或本文件其他行的姓名、性别、出生日期都相同、"
        "且确认不是同一人时填写",
        "guardian": "填写该家庭成员时，姓名和关系必填",
        "max": "最多{n}个字符",
    },
    "en": {
        "title": "How to fill in",
        "intro": (
            "One student per row; do not change the header row. Code columns take the code "
            "(1), the name (男) or the drop-down text (1 男性); yes/no columns 是 or 否. The "
            "sheet may also be saved as CSV (UTF-8 or GB18030) and imported."
        ),
        "columns": ("Column", "Header", "Required", "What to enter"),
        "yes": "yes",
        "no": "no",
        "id_number": "required for a resident ID card (18 characters, valid check digit); "
        "may be blank for document type Other",
        "kinds": {
            "text": "text",
            "code": "code or name: ",
            "region": "6- or 12-digit division code",
            "date": "date: YYYYMMDD or YYYY-MM-DD",
            "bool": "是 (yes) / 否 (no)",
            "number": "a number, e.g. 1.5",
            "class": "a class of the school in the current school year, e.g. 一年级(1)班",
            "entry": "YYYYMM, YYYY-MM or a date",
        },
        "duplicate_reason": "only when a student with the same name, sex and birth date "
        "exists (or is on another row) and this is a different person",
        "guardian": "when the family member is given, name and relationship are required",
        "max": "at most {n} characters",
    },
}


def _accepted_codes(
    spec: ColumnSpec, names: CodeNames, catalog: CodeCatalog, today: date
) -> list[str]:
    """The drop-down of a student column: the codes in force that the form's rules accept
    (the student form takes only some of a standard's codes, e.g. sex 1 and 2)."""
    choices = names.items.get(spec.code_set or "", [])
    if spec.field not in CODED_FIELDS:
        return [f"{code} {zh}" for code, zh, _ in choices]
    accepted = []
    for code, zh, _ in choices:
        _, problems = validate_student_input({spec.field: code}, [], catalog, today=today)
        if not any(v.field == spec.field and v.code == "code.unknown" for v in problems):
            accepted.append(f"{code} {zh}")
    return accepted


def template_workbook(
    locale: str = ZH_CN, *, session: Session | None = None, today: date | None = None
) -> bytes:
    """The import template: zh headers (bold, frozen, sized), a "说明" sheet and drop-downs.
    Code tables come from `session` (default: the app's db.session)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    if session is None:
        from ..extensions import db

        session = db.session
    today = today or date.today()
    text = _HELP[resolve_locale(locale)]
    names = CodeNames.load(session, today)
    catalog = CodeCatalog.load(session, today)

    book = Workbook()
    sheet = book.active
    sheet.title = "学生"
    help_sheet = book.create_sheet("说明")
    codes_sheet = book.create_sheet("代码")  # the drop-downs' lists, hidden
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFFFE699")
    last_row = DEFAULT_LIMITS.max_rows + 1
    code_column = 0
    lists: dict[str, str] = {}
    for index, spec in enumerate(COLUMN_SPECS, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=spec.header)
        cell.font = bold
        if spec.required:
            cell.fill = required_fill
        width = 24 if spec.field in _ID_FIELDS or "address" in spec.field else 10
        sheet.column_dimensions[letter].width = max(width, _display_width(spec.header) + 2)
        # Text columns keep leading zeros (postal codes) and all 18 digits of ID numbers.
        sheet.column_dimensions[letter].number_format = "@"
        formula = None
        if spec.kind == "code" and spec.code_set:
            if spec.field not in lists:
                choices = _accepted_codes(spec, names, catalog, today)
                code_column += 1
                code_letter = get_column_letter(code_column)
                codes_sheet.cell(row=1, column=code_column, value=spec.header)
                for offset, choice in enumerate(choices, start=2):
                    codes_sheet.cell(row=offset, column=code_column, value=choice)
                lists[spec.field] = f"'代码'!${code_letter}$2:${code_letter}${len(choices) + 1}"
            formula = lists[spec.field]
        elif spec.kind == "bool":
            formula = '"是,否"'
        if formula:
            # A warning, not a stop: typing a bare code ("1") or a name is fine too.
            check = DataValidation(type="list", formula1=formula, allow_blank=True)
            check.errorStyle = "warning"
            check.showErrorMessage = True
            check.error = text["intro"]
            check.add(f"{letter}2:{letter}{last_row}")
            sheet.add_data_validation(check)
    sheet.freeze_panes = "B2"
    codes_sheet.sheet_state = "hidden"

    help_sheet.append([text["title"]])
    help_sheet["A1"].font = Font(bold=True, size=14)
    help_sheet.append([text["intro"]])
    help_sheet.append([])
    help_sheet.append(list(text["columns"]))
    for cell in help_sheet[4]:
        cell.font = bold
    kinds = text["kinds"]
    for index, spec in enumerate(COLUMN_SPECS, start=1):
        if spec.field == "id_number":
            rule, required = text["id_number"], "—"
        else:
            rule = kinds[spec.kind]
            if spec.kind == "code":
                rule += "；".join(_accepted_codes(spec, names, catalog, today))
            elif spec.field == "duplicate_reason":
                rule = text["duplicate_reason"]
            elif spec.kind == "text" and spec.max_length:
                rule = text["max"].format(n=spec.max_length)
            if spec.guardian and spec.attr in ("name", "relationship_code"):
                rule = f"{rule}；{text['guardian']}"
            required = text["yes"] if spec.required else text["no"]
        help_sheet.append([get_column_letter(index), spec.header, required, rule])
    for letter, width in (("A", 6), ("B", 30), ("C", 8), ("D", 90)):
        help_sheet.column_dimensions[letter].width = width
    for row in help_sheet.iter_rows(min_row=5):
        row[3].alignment = Alignment(wrap_text=True, vertical="top")
    help_sheet["A2"].alignment = Alignment(wrap_text=True)
    help_sheet.merge_cells("A2:D2")
    help_sheet.row_dimensions[2].height = 45
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def error_workbook(report: ImportReport, data: bytes) -> bytes:
    """The uploaded rows (at their own row numbers) with every bad cell filled red and a
    comment carrying its message, and a last column 错误说明 summing up each row."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    limits = ImportLimits(max_rows=max(report.rows, 1), max_bytes=max(len(data), 1))
    sheet_data = read_rows(report.filename, data, limits=limits)
    locale = report.locale
    fill = PatternFill("solid", fgColor=ERROR_FILL)
    book = Workbook()
    sheet = book.active
    sheet.title = "导入错误"
    header_row = sheet_data.header_row
    width = max((c.index for c in sheet_data.columns if c.field or c.header), default=0)
    error_column = width + 1
    for column in sheet_data.columns[:width]:
        cell = sheet.cell(row=header_row, column=column.index, value=column.header or None)
        cell.font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(column.index)].width = max(
            10, _display_width(column.header) + 2
        )
    errors_cell = sheet.cell(row=header_row, column=error_column, value=ERRORS_HEADER)
    errors_cell.font = Font(bold=True, color="FFC00000")
    sheet.column_dimensions[get_column_letter(error_column)].width = 80
    for read in sheet_data.rows:
        for index, value in enumerate(read.cells[:width], start=1):
            if value is not None and value != "":
                sheet.cell(row=read.number, column=index, value=value)

    notes: dict[tuple[int, int], list[str]] = defaultdict(list)
    summaries: dict[int, list[str]] = defaultdict(list)
    for problem in report.problems:
        message = problem.message(locale)
        row = problem.row if problem.row is not None else header_row
        summaries[row].append(message)
        if problem.column is not None:
            notes[(row, problem.column)].append(message)
    for (row, index), messages in notes.items():
        cell = sheet.cell(row=row, column=index)
        cell.fill = fill
        comment = Comment("\n".join(messages), "XueJi")
        comment.width, comment.height = 320, 40 + 30 * len(messages)
        cell.comment = comment
    for row, messages in summaries.items():
        target = sheet.cell(row=row, column=error_column)
        if row == header_row:
            # File-level problems go under the column's title.
            target.comment = Comment("\n".join(messages), "XueJi")
            target.fill = fill
        else:
            target.value = "；".join(messages)
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=2).coordinate
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


__all__ = [
    "COLUMN_SPECS",
    "DEFAULT_LIMITS",
    "ERRORS_HEADER",
    "ERROR_FILL",
    "TEMPLATE_COLUMNS",
    "CodeNames",
    "ColumnSpec",
    "ImportLimits",
    "ImportRejected",
    "ImportReport",
    "ImportRow",
    "Problem",
    "SheetColumn",
    "SheetData",
    "commit",
    "dry_run",
    "error_workbook",
    "read_rows",
    "template_workbook",
]
