"""帮助文档: the operator's guide, one page per business, in zh_CN and en, linked from the
screens they explain.  Pages are templates under templates/xueji/help/<topic>.<locale>.html."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l

from ..base_views import current_locale

# topic → title; the order is the index's.
TOPICS: dict[str, Any] = {
    "status-changes": _l("Status changes (学籍异动)"),
    "student-numbers": _l("Student number check"),
    "registration": _l("Registering a new student"),
    "import": _l("Import new students"),
    "corrections": _l("Record changes"),
    "promotion": _l("Annual promotion"),
    "graduation": _l("Graduation"),
    "diplomas": _l("Electronic diplomas"),
    "progression": _l("Progression to the next stage"),
    "attendance": _l("Attendance"),
    "exams": _l("Exams and scores"),
    "timetable": _l("Timetables and teaching assignments"),
    "evaluation": _l("Comprehensive quality evaluation"),
    "parents": _l("Parent accounts and the parent portal"),
    "search": _l("Finding students"),
}


class HelpView(BaseView):
    route_base = "/help"
    class_permission_name = "Help"
    method_permission_name = {"index": "read", "page": "read"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        return self.render_template("xueji/help/index.html", title=_l("Help"), topics=TOPICS)

    @expose("/<topic>")
    @has_access
    def page(self, topic: str) -> Any:
        if topic not in TOPICS:
            abort(404)
        locale = "zh" if current_locale().startswith("zh") else "en"
        return self.render_template(
            f"xueji/help/{topic}.{locale}.html",
            title=TOPICS[topic],
            topics=TOPICS,
        )
