"""The eight roles of the public contract and what each may do.

Permissions are coarse, per resource: `can_read`, `can_write`, `can_delete` (views and REST
APIs share one `class_permission_name` per resource and map their methods onto these three),
so a role reads as a short table. *Which rows* a role reaches is the scope (scope.py)."""

from __future__ import annotations

ROLES = (
    "Admin",
    "BureauOfficer",
    "BureauAnalyst",
    "Leadership",
    "SchoolRegistrar",
    "SchoolLeader",
    "Teacher",
    "Parent",
)

# When a user holds several roles, the broadest one decides the scope.
ROLE_PRECEDENCE = (
    "Admin",
    "BureauOfficer",
    "SchoolLeader",
    "SchoolRegistrar",
    "Teacher",
    "BureauAnalyst",
    "Leadership",
    "Parent",
)
STATISTICS_ONLY_ROLES = frozenset({"BureauAnalyst", "Leadership"})

# How view and API methods map onto the three permissions.
METHOD_PERMISSIONS = {
    # ModelView
    "list": "read",
    "show": "read",
    "download": "read",
    "add": "write",
    "edit": "write",
    "delete": "delete",
    "action": "write",
    "action_post": "write",
    "confirm_contact": "write",
    # ModelRestApi
    "get": "read",
    "get_list": "read",
    "get_version": "read",
    "info": "read",
    "related": "read",
    "distinct": "read",
    "post": "write",
    "put": "write",
    "bulk_delete": "delete",
    # 学籍异动 (admin/status_changes): filing and acting are writes
    "apply": "write",
    "act": "write",
    # electronic diplomas (admin/diplomas)
    "issue": "write",
    "revoke": "write",
    "pdf": "read",
    "document": "read",
    # attendance (admin/attendance)
    "save": "write",
    "report": "read",
    # timetables and teaching assignments (admin/timetable)
    "mine": "read",
    "assign": "write",
    "unassign": "write",
    # messages (admin/notifications)
    "open": "read",
    "read_all": "read",
    # parent portal and parent-account links (admin/parents)
    "child": "read",
    "attendance": "read",
    "timetable": "read",
    "results": "read",
    "evaluation": "read",
    "evaluation_pdf": "read",
    "report_card": "read",  # 学生成绩报告单 (PDF)
    "evaluation_object": "read",  # a parent objects to their own child's evaluation
    "link": "write",
    "unlink": "write",
    # help pages
    "index": "read",
    "page": "read",
}

R, RW, RWD = {"read"}, {"read", "write"}, {"read", "write", "delete"}

# Resource → allowed actions, per role (Admin gets every permission).
ROLE_PERMISSIONS: dict[str, dict[str, set[str]]] = {
    "BureauOfficer": {
        "Message": R,  # their own messages (消息)
        "Student": R,
        "Guardian": R,
        "Enrollment": R,
        "School": RW,
        "SchoolClass": R,
        "SchoolYear": R,
        "Region": R,
        "AuditLog": R,
        "StudentFile": R,
        "Dashboards": R,  # dashboards/: statistics pages (统计分析 › 数据看板)
        "SnapshotRefresh": R,  # dashboards/: rebuild the warehouse snapshot (xueji etl)
        "StatusChange": RW,  # county/province bureau steps, take-over, purge
        "NumberCheck": RW,  # 学籍号核验: L → G/J for the region
        "Promotion": RW,  # 升级 of the region's schools
        "Graduation": RW,  # approves senior-high graduation
        "Diploma": RW,  # revokes certificates of the region's schools
        "InfoChange": RW,  # decides key-field corrections (关键信息变更)
        "Help": R,
    },
    "BureauAnalyst": {"School": R, "SchoolYear": R, "Region": R, "Dashboards": R, "Help": R},
    "Leadership": {"School": R, "SchoolYear": R, "Region": R, "Dashboards": R, "Help": R},
    "SchoolRegistrar": {
        "Message": R,  # their own messages (消息)
        "Student": RW,
        "Guardian": RWD,
        "Enrollment": RW,
        "School": R,
        "SchoolClass": RW,
        "SchoolYear": R,
        "Region": R,
        "StudentFile": RW,
        "StatusChange": RW,  # files requests (a transfer: the receiving school)
        "Graduation": RW,  # files the school's graduations
        "Diploma": RW,  # issues and prints the school's certificates
        "InfoChange": RW,  # files key-field corrections
        "Attendance": RW,  # any class of the school
        "Exam": RW,  # sets up and publishes the school's exams, corrects published scores
        "Timetable": RW,  # 课程表 of the school's classes
        "TeachingAssignment": RW,  # 任课安排
        "Evaluation": RW,  # 综合素质评价: any class of the school
        "ParentLink": RW,  # links parent accounts after checking a guardian's ID
        "Help": R,
    },
    "SchoolLeader": {
        "Message": R,  # their own messages (消息)
        "Student": R,
        "Guardian": R,
        "Enrollment": R,
        "School": R,
        "SchoolClass": R,
        "SchoolYear": R,
        "Region": R,
        "AuditLog": R,
        "StudentFile": R,
        "Dashboards": R,  # dashboards/: their school's statistics
        "StatusChange": RW,  # the school's review step
        "Diploma": R,
        "InfoChange": RW,  # reviews edits where the school turned review on
        "Attendance": R,
        "Exam": R,
        "Timetable": R,
        "TeachingAssignment": R,
        "Evaluation": RW,  # decides objections (grades read-only)
        "ParentLink": R,
        "Help": R,
    },
    "Teacher": {
        "Message": R,  # their own messages (消息)
        "Student": R,
        "Guardian": R,
        "Enrollment": R,
        "SchoolClass": R,
        "SchoolYear": R,
        "Attendance": RW,  # their own classes
        "Exam": RW,  # enters scores of their own classes and subjects
        "Timetable": R,  # their classes' and their own week
        "TeachingAssignment": R,  # of their own classes
        "Evaluation": RW,  # their own classes (grades: the class teacher)
        "Help": R,
    },
    # A parent downloads the child's certificate.
    "Parent": {
        "Student": R,
        "Guardian": R,
        "Enrollment": R,
        "Diploma": R,
        "Message": R,
        "ParentPortal": R,  # admin/parents: the child's timetable, attendance, results…
        "Help": R,
    },
}

# Menu links (AppBuilder.add_link) → the (resource, action) they need.
MENU_LINKS: dict[str, tuple[str, str]] = {
    "StatusChangeApply": ("StatusChange", "write"),
    "GraduationPending": ("Graduation", "write"),
    "DiplomaIssue": ("Diploma", "write"),
    "MyTimetable": ("Timetable", "read"),
}

# Personal-data resources: never granted to statistics-only roles (checked by a test).
PERSONAL_RESOURCES = frozenset(
    {
        "Student",
        "Guardian",
        "Enrollment",
        "AuditLog",
        "StudentFile",
        "StatusChange",
        "NumberCheck",
        "Graduation",
        "Diploma",
        "InfoChange",
        "Attendance",
        "Timetable",  # names teachers
        "Exam",
        "TeachingAssignment",
        "Evaluation",
        "ParentLink",
        "ParentPortal",
    }
)
