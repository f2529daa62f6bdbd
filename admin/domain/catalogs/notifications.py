"""Messages (消息) to teachers, school staff and parents: the subject line of each kind. The
body of an attendance alert is the alert's own rule message (admin/domain/attendance.py)."""

from __future__ import annotations

FIELD_LABELS: dict[str, dict[str, str]] = {
    "notification": {"zh_CN": "消息", "en": "Message"},
}

MESSAGES: dict[str, dict[str, str]] = {
    "notice.attendance_alert": {
        "zh_CN": "考勤预警：{student}（{class_name}）",
        "en": "Attendance alert: {student} ({class_name})",
    },
    "notice.dropout_warning": {
        "zh_CN": "辍学预警：{student}（{class_name}）连续旷课，请核实并按规定办理",
        "en": "Dropout warning: {student} ({class_name}) has been absent without excuse; "
        "check and act as the rules require",
    },
    "notice.results_published": {
        "zh_CN": "{exam}成绩已发布：{student}",
        "en": "Results of {exam} published: {student}",
    },
    "notice.evaluation_publicized": {
        "zh_CN": "综合素质评价公示：{student}，公示期{start}至{end}",
        "en": "Quality evaluation under publicity: {student}, {start} to {end}",
    },
    "notice.mail_footer": {
        "zh_CN": "请登录学籍系统查看详情：{link}",
        "en": "Sign in to XueJi for the details: {link}",
    },
}
