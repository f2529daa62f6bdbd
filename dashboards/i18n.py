"""UI strings of the dashboards in Chinese and English.

The dashboards keep their own small catalogue instead of admin's Babel catalogue, so that the
admin's extraction test does not depend on this package. Metric titles come from the
analytics catalogue (title_zh / title_en); everything else is here. The language is the FAB
session locale (flask_babel.get_locale), so switching language in the admin switches it here.
"""

from __future__ import annotations

from flask import has_request_context

LANGS = ("zh", "en")

STRINGS: dict[str, tuple[str, str]] = {
    # shell
    "brand": ("学籍统计分析", "XueJi Statistics"),
    "brand_sub": ("全国中小学生学籍信息管理系统", "National K-12 Student Status Registry"),
    "back_to_admin": ("返回管理后台", "Back to the registry"),
    "language": ("English", "中文"),
    "as_of": ("数据截至", "Data as of"),
    "snapshot": ("快照", "Snapshot"),
    "beijing_time": ("北京时间", "Beijing time"),
    "signed_in_as": ("当前用户", "Signed in as"),
    "scope": ("数据范围", "Data scope"),
    "scope_national": ("全国", "Nationwide"),
    "print": ("打印", "Print"),
    # navigation
    "nav_overview": ("总览", "Overview"),
    "nav_enrollment": ("在校生", "Enrollment"),
    "nav_attendance": ("考勤", "Attendance"),
    "nav_grades": ("学业成绩", "Grades"),
    "nav_status": ("学籍异动", "Status changes"),
    "nav_progression": ("毕业与升学", "Graduation & progression"),
    "nav_quality": ("数据质量", "Data quality"),
    "nav_refresh": ("数据快照更新", "Refresh snapshot"),
    # filters
    "f_school_year": ("学年", "School year"),
    "f_province": ("省级", "Province"),
    "f_prefecture": ("地市级", "Prefecture"),
    "f_county": ("区县级", "County"),
    "f_school": ("学校", "School"),
    "f_stage": ("学段", "Stage"),
    "all_stages": ("全部学段", "All stages"),
    "stage_primary": ("小学", "Primary"),
    "stage_junior": ("初中", "Junior secondary"),
    "stage_senior": ("高中", "Senior secondary"),
    "all_provinces": ("全部省份", "All provinces"),
    "all_prefectures": ("全部地市", "All prefectures"),
    "all_counties": ("全部区县", "All counties"),
    "all_schools": ("全部学校", "All schools"),
    "reset_filters": ("重置", "Reset"),
    # page headings
    "overview_title": ("学籍总览", "Registry overview"),
    "overview_lead": (
        "所选学年、地区与学段的核心指标，以及与上一学年的比较。",
        "Key figures for the selected school year, region and stage, compared with the previous year.",
    ),
    "enrollment_title": ("在校生结构", "Enrollment"),
    "enrollment_lead": (
        "在校学生按年级、性别、民族、户口与随迁/留守情况的分布，以及班额情况。",
        "Enrolled students by grade, sex, ethnicity, household registration and migrant / left-behind status, and class sizes.",
    ),
    "attendance_title": ("考勤", "Attendance"),
    "attendance_lead": (
        "各校逐月出勤率与长期缺勤学生情况。",
        "Monthly attendance rate per school and chronic absence.",
    ),
    "grades_title": ("学业成绩", "Grades"),
    "grades_lead": (
        "考试成绩分布、各学科平均分与及格率、优秀率。",
        "Score distribution, subject means, pass and excellence rates.",
    ),
    "status_title": ("学籍异动", "Status changes"),
    "status_lead": (
        "转学流向、辍学率、审批时长与超期审批环节。",
        "Transfer flows, dropout rate, approval lead times and overdue approval steps.",
    ),
    "progression_title": ("毕业与升学", "Graduation & progression"),
    "progression_lead": (
        "学生从本学年到下一学年的去向（升级、留级、升学、离开），按地区比较升学率。",
        "Where students go from one school year to the next (promoted, repeated, progressed, left), and progression rates by region.",
    ),
    "quality_title": ("数据质量", "Data quality"),
    "quality_lead": (
        "学籍数据的完整性与一致性检查结果，以及快照发布前的核验。",
        "Completeness and consistency of the registry data, and the checks run before the snapshot was published.",
    ),
    "refresh_title": ("数据快照更新", "Refresh the warehouse snapshot"),
    "refresh_lead": (
        "从学籍库重新生成脱敏的统计快照。更新在后台运行，完成后所有看板自动使用新快照。",
        "Rebuild the pseudonymised statistics snapshot from the registry. The update runs in the background; when it finishes every dashboard uses the new snapshot.",
    ),
    # cards and states
    "download_csv": ("下载 CSV", "Download CSV"),
    "download_png": ("下载 PNG", "Download PNG"),
    "no_data": ("暂无数据", "No data"),
    "no_data_hint": (
        "当前筛选条件下没有可显示的数据。可尝试更换学年、地区或学段。",
        "Nothing to show for this selection. Try another school year, region or stage.",
    ),
    "future_data_hint": (
        "该类数据尚未接入学籍系统，接入后将自动显示。",
        "This kind of data is not yet recorded in the registry; it will appear here once it is.",
    ),
    "suppressed_note": (
        "为保护个人隐私，少于 5 人的单元格以“<5”显示，不参与图形绘制。",
        "To protect privacy, cells of fewer than 5 students are shown as “<5” and are not plotted.",
    ),
    "suppressed_count": ("项因人数过少已隐去", "cells hidden (fewer than 5 students)"),
    "no_snapshot_title": ("尚无数据仓库快照", "No warehouse snapshot yet"),
    "no_snapshot_text": (
        "统计看板读取学籍库的脱敏快照。目前还没有发布任何快照——管理员可以生成一个。",
        "The dashboards read a pseudonymised snapshot of the registry. None has been published yet — an administrator can build one.",
    ),
    "no_snapshot_action": ("生成快照", "Build a snapshot"),
    "not_found_title": ("页面不存在", "Page not found"),
    "not_found_text": ("请从左侧导航选择一个看板。", "Choose a dashboard from the navigation."),
    "forbidden_title": ("没有权限", "Not permitted"),
    "forbidden_text": (
        "您的账户没有更新数据快照的权限。",
        "Your account may not refresh the warehouse snapshot.",
    ),
    "yoy": ("同比", "vs. previous year"),
    "yoy_na": ("无上年数据", "no previous year"),
    "previous_year": ("上一学年", "previous year"),
    "students_unit": ("人", "students"),
    "unit_students": ("学生数（人）", "Students"),
    "unit_percent": ("比例（%）", "Percent"),
    "unit_days": ("天数", "Days"),
    "unit_score": ("分数", "Score"),
    "unit_classes": ("班级数（个）", "Classes"),
    "unit_steps": ("审批环节数", "Approval steps"),
    "unit_count": ("数量", "Count"),
    "progression_report": ("升学情况报告（PDF）", "Progression report (PDF)"),
    "progression_report_hint": (
        "面向领导的可打印报告：所选地区与学年的升学去向与各地区升学率。",
        "A printable report for leadership: flows and progression rates for the selected region and year.",
    ),
    "sankey_title": ("学生去向（本学年 → 下一学年）", "Student flows (this year → next year)"),
    # refresh page
    "refresh_start": ("开始更新", "Start the update"),
    "refresh_running": ("正在更新…", "Updating…"),
    "refresh_idle": ("空闲", "Idle"),
    "refresh_done": ("已完成", "Finished"),
    "refresh_failed": ("失败", "Failed"),
    "refresh_busy": ("已有更新任务在运行", "An update is already running"),
    "refresh_started_by": ("发起人", "Started by"),
    "refresh_started_at": ("开始时间", "Started at"),
    "refresh_steps": ("已完成步骤", "Steps done"),
    "refresh_current": ("当前快照", "Current snapshot"),
    "refresh_log": ("运行日志", "Run log"),
    "refresh_never": ("尚未运行过", "Never run from here"),
    "refresh_exit": ("退出码", "Exit code"),
    "col_step": ("步骤", "Step"),
    "col_table": ("数据表", "Table"),
    "col_rows": ("行数", "Rows"),
    "col_seconds": ("耗时（秒）", "Seconds"),
    # misc labels
    "total": ("合计", "Total"),
    "male": ("男", "Male"),
    "female": ("女", "Female"),
    "loading": ("加载中…", "Loading…"),
    "footer": (
        "数据来源：学籍库脱敏快照。个人身份信息不进入统计库；少于 5 人的单元格不予显示。",
        "Source: pseudonymised snapshot of the registry. No personal identifiers reach the warehouse; cells under 5 students are suppressed.",
    ),
}


def locale() -> str:
    """'zh' or 'en': the FAB session locale; 'zh' outside a request."""
    if not has_request_context():
        return "zh"
    try:
        from flask_babel import get_locale

        value = str(get_locale() or "zh")
    except Exception:  # no Babel on this app (tests of pure helpers)
        return "zh"
    return "en" if value.lower().startswith("en") else "zh"


def t(key: str, lang: str | None = None) -> str:
    """The UI string `key` in `lang` (default: the current locale)."""
    zh, en = STRINGS[key]
    return en if (lang or locale()) == "en" else zh


def pick(zh: str | None, en: str | None, lang: str | None = None) -> str:
    """Choose between a Chinese and an English text (catalogue titles), falling back."""
    if (lang or locale()) == "en":
        return en or zh or ""
    return zh or en or ""
