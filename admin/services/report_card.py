"""学生成绩报告单 (term report card): for one student and term, the published exam results
under the parent visibility policy, the term's attendance so far, and the quality-evaluation
grades with the class teacher's comment once publicized — gathered here, drawn as one A4 PDF.

The card goes home to the family, so it shows exactly what the parent portal shows: results
come from ``exams.student_results`` (scores or only levels, ranks only where allowed), and an
evaluation appears only once it is publicized or final (a draft is the teacher's work in
progress). The caller checks the student is in scope and the term belongs to them."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain import attendance as attendance_rules
from ..domain import evaluation as evaluation_rules
from ..domain.calendar import WorkingCalendar
from ..domain.messages import RuleError, Violation
from ..models import Attendance, Exam, School, SchoolClass, Student, Term
from . import attendance as attendance_service
from . import evaluations as evaluation_service
from . import exams as exam_service

FIELD = "report_card"
# Evaluation states whose grades a family may read (DOMAIN.md §5: after publicity starts).
SHOWN_STATES = frozenset({evaluation_rules.EvalState.PUBLICIZED, evaluation_rules.EvalState.FINAL})


@dataclass(frozen=True)
class EvaluationPart:
    state_zh: str
    dimensions: tuple[evaluation_service.DimensionLine, ...]
    comment: str


@dataclass(frozen=True)
class ReportCard:
    student_id: int
    student_name: str
    student_number: str
    school_name: str
    class_name: str
    term_id: int
    term_label: str  # "2026-2027学年第1学期"
    term_start: date
    term_end: date
    issued_on: date
    exams: tuple[exam_service.ChildExam, ...]  # oldest first
    attendance: attendance_rules.AttendanceSummary | None  # None before the term starts
    attendance_until: date | None
    evaluation: EvaluationPart | None  # None until publicized


def term_label(term: Term) -> str:
    year = term.school_year.code if term.school_year else ""
    return f"{year}学年第{term.number}学期"


def _attendance(
    session: Session,
    student: Student,
    klass: SchoolClass | None,
    term: Term,
    until: date,
    calendar: WorkingCalendar,
    periods_per_day: int,
) -> attendance_rules.AttendanceSummary | None:
    if klass is None or until < term.start_date:
        return None
    days = attendance_service.school_days(session, klass, term.start_date, until, calendar)
    records = [
        attendance_rules.AttendanceRecord(day, attendance_service.KIND_MARK[kind], period)
        for day, kind, period in session.execute(
            select(Attendance.date, Attendance.kind, Attendance.period).where(
                Attendance.student_id == student.id,
                Attendance.date >= term.start_date,
                Attendance.date <= until,
            )
        )
        if kind in attendance_service.KIND_MARK
    ]
    return attendance_rules.summarize(records, days, periods_per_day=periods_per_day)


def term_report_card(
    session: Session,
    student_id: int,
    term_id: int,
    *,
    today: date,
    exam_settings: exam_service.ExamSettings,
    calendar: WorkingCalendar,
    periods_per_day: int = attendance_service.DEFAULT_PERIODS_PER_DAY,
) -> ReportCard:
    """Everything on one student's report card for one term. Attendance counts the school
    days from the term's start up to today (or the term's end, when it is over)."""
    student = session.get(Student, student_id)
    term = session.get(Term, term_id)
    if student is None or term is None:
        raise RuleError([Violation("report_card.not_found", FIELD, {})])
    klass = evaluation_service.class_of(session, student.id, term)
    school = session.get(School, klass.school_id) if klass is not None else None
    in_term = set(session.scalars(select(Exam.id).where(Exam.term_id == term.id)))
    results = exam_service.student_results(
        session,
        student.id,
        visibility=exam_settings.visibility,
        policy=exam_settings.policy,
        mode=exam_settings.rank_mode,
    )
    chosen = sorted(
        (e for e in results if e.exam_id in in_term), key=lambda e: (e.exam_date, e.exam_id)
    )
    until = min(today, term.end_date)
    summary = _attendance(session, student, klass, term, until, calendar, periods_per_day)
    report = evaluation_service.student_report(session, student.id, term.id, today)
    evaluation = None
    if report.term_evaluation_id is not None and report.state in {s.value for s in SHOWN_STATES}:
        evaluation = EvaluationPart(report.state_zh, report.dimensions, report.comment)
    return ReportCard(
        student_id=student.id,
        student_name=student.name,
        student_number=student.student_number,
        school_name=school.name if school else "",
        class_name=klass.name if klass else "",
        term_id=term.id,
        term_label=term_label(term),
        term_start=term.start_date,
        term_end=term.end_date,
        issued_on=today,
        exams=tuple(chosen),
        attendance=summary,
        attendance_until=until if summary is not None else None,
        evaluation=evaluation,
    )


# --- the PDF ---------------------------------------------------------------------------------


def days_text(value: Fraction) -> str:
    """Days to one decimal place, trailing zeros dropped: 3, 2.5, 0.1."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    text = f"{exact.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def result_cell(subject: exam_service.ChildSubject) -> str:
    """成绩/等级 as the family may see it: "92（优秀）", "缺考", "良好" (level only) or "—"."""
    if subject.score is not None and subject.band_zh:
        return f"{subject.score}（{subject.band_zh}）"
    return subject.score or subject.band_zh or "—"


def _plain(value: Decimal | None) -> str:
    return "—" if value is None else exam_service.ranking._plain(value)


def render_report_card_pdf(card: ReportCard) -> bytes:
    """学生成绩报告单: one A4 page (more if there are many exams), in Chinese."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from .pdf import cjk_font, styles

    font = cjk_font()
    st = styles()

    def p(text: str, style: str = "body") -> Paragraph:
        return Paragraph(escape(text), st[style])

    def table(rows: Sequence[Sequence[str]], widths: list[float], head: bool = True) -> Table:
        made = Table([[p(c) for c in row] for row in rows], colWidths=widths, repeatRows=1)
        commands: list[Any] = [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
        if head:
            commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")))
        made.setStyle(TableStyle(commands))
        return made

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"学生成绩报告单 {card.student_name} {card.term_label}",
        author=card.school_name,
        creator="XueJi 学籍",
    )
    width = 174 * mm  # A4 less the margins
    story: list[Any] = [
        p(f"{card.school_name} {card.term_label} 学生成绩报告单", "title"),
        table(
            [["姓名", card.student_name, "学籍号", card.student_number, "班级", card.class_name]],
            [16 * mm, 34 * mm, 18 * mm, 50 * mm, 16 * mm, 40 * mm],
            head=False,
        ),
        p("一、学业成绩", "heading"),
    ]
    if not card.exams:
        story.append(p("本学期尚无已发布的考试成绩。"))
    for exam in card.exams:
        story.append(p(f"{exam.name}（{exam.exam_date.isoformat()}）", "body"))
        rows = [["学科", "满分", "成绩/等级", "班级平均"]]
        for subject in exam.subjects:
            rows.append(
                [
                    subject.subject_zh,
                    _plain(subject.full_mark),
                    result_cell(subject),
                    _plain(subject.class_average),
                ]
            )
        story.append(table(rows, [54 * mm, 30 * mm, 50 * mm, 40 * mm]))
        extra = []
        if exam.total is not None:
            extra.append(f"总分：{_plain(exam.total)}")
        if exam.class_rank is not None:
            extra.append(f"班级名次：{exam.class_rank}")
        if exam.grade_rank is not None:
            extra.append(f"年级名次：{exam.grade_rank}")
        if extra:
            story.append(p("　".join(extra), "small"))
        story.append(Spacer(1, 3 * mm))
    story.append(p("二、出勤情况", "heading"))
    summary = card.attendance
    if summary is None or card.attendance_until is None:
        story.append(p("本学期尚未开始。"))
    else:
        by_mark = summary.absent_by_mark
        leave = "/".join(
            days_text(by_mark.get(m, Fraction(0)))
            for m in (
                attendance_rules.Mark.SICK,
                attendance_rules.Mark.PERSONAL,
                attendance_rules.Mark.TRUANT,
            )
        )
        story.append(
            p(
                f"统计期间：{card.term_start.isoformat()} 至 {card.attendance_until.isoformat()}",
                "small",
            )
        )
        story.append(
            table(
                [
                    ["应到天数", "缺勤天数", "病假/事假/旷课", "迟到", "早退", "出勤率"],
                    [
                        str(summary.school_days),
                        days_text(summary.absent_days),
                        leave,
                        str(summary.late),
                        str(summary.left_early),
                        attendance_service.percent(summary.attendance_rate),
                    ],
                ],
                [26 * mm, 26 * mm, 38 * mm, 24 * mm, 24 * mm, 36 * mm],
            )
        )
    story.append(p("三、综合素质评价", "heading"))
    if card.evaluation is None:
        story.append(p("本学期评价尚未公示。"))
    else:
        story.append(p(f"状态：{card.evaluation.state_zh}", "small"))
        rows = [["评价维度", "等级"]]
        for line in card.evaluation.dimensions:
            grade = f"{line.grade}（{line.grade_zh}）" if line.grade else "未评定"
            rows.append([line.name_zh, grade])
        story.append(table(rows, [87 * mm, 87 * mm]))
    story.append(p("四、班主任评语", "heading"))
    comment = card.evaluation.comment if card.evaluation else ""
    story.append(table([[comment or "（无）"]], [width], head=False))
    story += [
        Spacer(1, 8 * mm),
        p(f"签发日期：{card.issued_on.isoformat()}　　XueJi 学籍管理系统", "small"),
    ]
    doc.build(story)
    return out.getvalue()


def download_name(card: ReportCard) -> str:
    """ASCII file name (the Content-Disposition header): student number and term."""
    return f"report-card-{card.student_number}-{card.term_id}.pdf"
