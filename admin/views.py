"""Menus and API registration: every screen and REST resource of the admin, grouped by task
(学籍管理, 学校管理, 统计分析, 系统管理)."""

from __future__ import annotations

from flask_appbuilder import AppBuilder
from flask_babel import lazy_gettext as _l

from .attendance.views import AttendanceView
from .audit.views import AuditLogView
from .codes.views import CodeItemView
from .corrections.views import InfoChangeTodoView, InfoChangeView, StaleContactsView
from .diplomas.api import DiplomaApi
from .diplomas.views import DiplomaView, VerifyView
from .evaluations.views import EvaluationView
from .exams.views import ExamView
from .geo.views import RegionApi, RegionView
from .help.views import HelpView
from .notifications.views import MessagesView
from .parents.views import ParentLinkView, ParentPortalView
from .registry.api import EnrollmentApi, GuardianApi, StudentApi
from .registry.graduation import GraduationView
from .registry.importing import StudentImportView
from .registry.numbers import NumberCheckView
from .registry.promotion import PromotionView
from .registry.registration import RegistrationView
from .registry.views import EnrollmentView, GuardianView, StudentView
from .reportcards.views import ReportCardView
from .schools.api import SchoolApi, SchoolClassApi, SchoolYearApi
from .schools.views import SchoolClassView, SchoolView, SchoolYearView
from .status_changes.api import StatusChangeApi
from .status_changes.views import StatusChangeOverdueView, StatusChangeTodoView, StatusChangeView
from .timetable.views import TeachingAssignmentView, TimetableView
from .uploads.views import StudentFileView

REGISTRY = "Registry"
STATUS_CHANGES = "StatusChanges"
SCHOOLS = "Schools"
ANALYTICS = "Analytics"
SYSTEM = "Security"  # FAB's own users/roles menu, relabelled 系统管理


def register_views(appbuilder: AppBuilder) -> None:
    add = appbuilder.add_view
    add(
        StudentView,
        "Students",
        label=_l("Students"),
        icon="fa-id-card",
        category=REGISTRY,
        category_label=_l("Student registry"),
        category_icon="fa-users",
    )
    add(
        RegistrationView,
        "Registration",
        label=_l("Register a student"),
        icon="fa-user-plus",
        category=REGISTRY,
    )
    add(
        GuardianView,
        "Guardians",
        label=_l("Family members and guardians"),
        icon="fa-user",
        category=REGISTRY,
    )
    add(EnrollmentView, "Enrollments", label=_l("Enrollments"), icon="fa-list", category=REGISTRY)
    add(
        StudentImportView,
        "StudentImport",
        label=_l("Import new students"),
        icon="fa-upload",
        category=REGISTRY,
    )
    add(
        NumberCheckView,
        "NumberCheck",
        label=_l("Student number check"),
        icon="fa-check-square-o",
        category=REGISTRY,
    )
    add(
        GraduationView,
        "Graduation",
        label=_l("Graduation"),
        icon="fa-graduation-cap",
        category=REGISTRY,
    )
    appbuilder.add_link(
        "GraduationPending",
        href="/graduation/pending",
        label=_l("Graduations awaiting approval"),
        icon="fa-check",
        category=REGISTRY,
    )
    add(
        InfoChangeTodoView,
        "InfoChangeTodo",
        label=_l("Record changes awaiting my review"),
        icon="fa-inbox",
        category=REGISTRY,
    )
    add(
        InfoChangeView,
        "InfoChanges",
        label=_l("Record changes"),
        icon="fa-pencil",
        category=REGISTRY,
    )
    add(
        StaleContactsView,
        "StaleContacts",
        label=_l("Contact details to confirm"),
        icon="fa-phone",
        category=REGISTRY,
    )
    add(
        DiplomaView,
        "Diplomas",
        label=_l("Electronic diplomas"),
        icon="fa-certificate",
        category=REGISTRY,
    )
    appbuilder.add_link(
        "DiplomaIssue",
        href="/diploma/issue",
        label=_l("Issue electronic diplomas"),
        icon="fa-pencil-square-o",
        category=REGISTRY,
    )
    add(
        PromotionView,
        "Promotion",
        label=_l("Annual promotion"),
        icon="fa-level-up",
        category=REGISTRY,
    )
    # --- 学籍异动 ----------------------------------------------------------------------------
    add(
        StatusChangeTodoView,
        "StatusChangeTodo",
        label=_l("Awaiting my decision"),
        icon="fa-inbox",
        category=STATUS_CHANGES,
        category_label=_l("Status changes"),
        category_icon="fa-exchange",
    )
    appbuilder.add_link(
        "StatusChangeApply",
        href="/statuschange/apply",
        label=_l("Apply for a status change"),
        icon="fa-plus",
        category=STATUS_CHANGES,
    )
    add(
        StatusChangeOverdueView,
        "StatusChangeOverdue",
        label=_l("Overdue requests"),
        icon="fa-clock-o",
        category=STATUS_CHANGES,
    )
    add(
        StatusChangeView,
        "StatusChanges",
        label=_l("All status changes"),
        icon="fa-list",
        category=STATUS_CHANGES,
    )
    add(
        AttendanceView,
        "Attendance",
        label=_l("Attendance"),
        icon="fa-check-square-o",
        category=SCHOOLS,
        category_label=_l("School management"),
        category_icon="fa-university",
    )
    add(
        ExamView,
        "Exams",
        label=_l("Exams and scores"),
        icon="fa-pencil-square-o",
        category=SCHOOLS,
        category_label=_l("School management"),
        category_icon="fa-university",
    )
    add(
        EvaluationView,
        "Evaluation",
        label=_l("Quality evaluation"),
        icon="fa-star-half-o",
        category=SCHOOLS,
    )
    add(TimetableView, "Timetable", label=_l("Timetable"), icon="fa-table", category=SCHOOLS)
    appbuilder.add_link(
        "MyTimetable",
        href="/timetable/mine",
        label=_l("My timetable"),
        icon="fa-calendar-check-o",
        category=SCHOOLS,
    )
    add(
        TeachingAssignmentView,
        "TeachingAssignments",
        label=_l("Teaching assignments"),
        icon="fa-id-badge",
        category=SCHOOLS,
    )
    add(
        SchoolView,
        "Schools",
        label=_l("Schools"),
        icon="fa-university",
        category=SCHOOLS,
        category_label=_l("School management"),
        category_icon="fa-university",
    )
    add(SchoolClassView, "Classes", label=_l("Classes"), icon="fa-th", category=SCHOOLS)
    add(
        SchoolYearView,
        "SchoolYears",
        label=_l("School years"),
        icon="fa-calendar",
        category=SCHOOLS,
    )
    # --- 消息: every user's own messages (attendance alerts, results, evaluations) ----------
    add(MessagesView, "Messages", label=_l("Messages"), icon="fa-envelope")
    # --- 家长端: the parent's own children; linking accounts is on the student's page -----
    add(ParentPortalView, "MyChild", label=_l("My child"), icon="fa-child")
    appbuilder.add_view_no_menu(ParentLinkView)
    appbuilder.add_view_no_menu(ReportCardView)  # 学生成绩报告单 PDF, linked from the class grid
    # --- dashboards (统计分析) -------------------------------------------------------------
    # Menu entries and the FAB permissions ("can_read" on Dashboards / SnapshotRefresh) of the
    # Dash app that create_app mounts at /dashboards/ (dashboards/app.py checks the same two
    # permissions on every /dashboards/ request). Labels follow the session locale without a
    # Babel catalog entry (dashboards/ keeps its own zh/en strings).
    from flask import redirect
    from flask_appbuilder import BaseView, expose
    from flask_appbuilder.security.decorators import has_access
    from flask_babel import get_locale
    from flask_babel.speaklater import LazyString

    def _zh_en(zh: str, en: str) -> LazyString:
        return LazyString(lambda: en if str(get_locale() or "zh").startswith("en") else zh)

    class DashboardsView(BaseView):
        route_base = "/analytics/dashboards"
        class_permission_name = "Dashboards"
        method_permission_name = {"show": "read"}
        default_view = "show"

        @expose("/")
        @has_access
        def show(self) -> object:
            return redirect("/dashboards/")

    class SnapshotRefreshView(BaseView):
        route_base = "/analytics/snapshot"
        class_permission_name = "SnapshotRefresh"
        method_permission_name = {"show": "read"}
        default_view = "show"

        @expose("/")
        @has_access
        def show(self) -> object:
            return redirect("/dashboards/refresh")

    add(
        DashboardsView,
        "Dashboards",
        label=_zh_en("数据看板", "Dashboards"),
        icon="fa-bar-chart",
        category=ANALYTICS,
        category_label=_zh_en("统计分析", "Statistics"),
        category_icon="fa-line-chart",
    )
    add(
        SnapshotRefreshView,
        "SnapshotRefresh",
        label=_zh_en("数据快照更新", "Refresh snapshot"),
        icon="fa-refresh",
        category=ANALYTICS,
    )
    # --- end dashboards ----------------------------------------------------------------------
    add(
        RegionView,
        "Regions",
        label=_l("Regions"),
        icon="fa-map",
        category=SYSTEM,
        category_label=_l("System administration"),
        category_icon="fa-cogs",
    )
    add(CodeItemView, "CodeTables", label=_l("Code tables"), icon="fa-book", category=SYSTEM)
    add(AuditLogView, "AuditLog", label=_l("Audit log"), icon="fa-history", category=SYSTEM)
    # FAB created the Security category first, and add_view's category_label only labels a new
    # category: relabel it here or the menu keeps FAB's "Security" (用户权限).
    system_menu = appbuilder.menu.find(SYSTEM)
    if system_menu is not None:
        system_menu.label = _l("System administration")
        system_menu.icon = "fa-cogs"
    add(HelpView, "Help", label=_l("Help"), icon="fa-question-circle")
    # Student photos and proof documents: no menu entry, reached from the student page.
    appbuilder.add_view_no_menu(StudentFileView)
    # Public diploma verification (no login; rate-limited).
    appbuilder.add_view_no_menu(VerifyView)
    for api in (
        StudentApi,
        GuardianApi,
        EnrollmentApi,
        SchoolApi,
        SchoolClassApi,
        SchoolYearApi,
        RegionApi,
        StatusChangeApi,
        DiplomaApi,
    ):
        appbuilder.add_api(api)
