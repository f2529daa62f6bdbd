"""消息: every signed-in user's in-app messages (attendance alerts, published results,
evaluations under publicity), newest first; opening one marks it read and follows its link.
E-mail copies go out after the transaction that raised them commits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l

from ..base_views import current_locale
from ..extensions import db
from ..models import Notification
from ..security import password_reset as mail
from ..services import notifications as service


def send_notice_mail(rows: Iterable[Notification]) -> None:
    """E-mail the given (committed) notices to users with an address, when SMTP is set up."""
    rows = list(rows)
    if not rows or not mail.smtp_configured():
        return
    settings = mail.smtp_settings()
    messages = service.mail_for(
        db.session,
        rows,
        sender=settings["sender"],
        base_url=current_app.config.get("XUEJI_BASE_URL") or request.url_root,
    )
    db.session.commit()  # emailed_at
    for message in messages:
        mail.send_in_background(message)


class MessagesView(BaseView):
    route_base = "/messages"
    class_permission_name = "Message"
    method_permission_name = {"index": "read", "open": "read", "read_all": "read"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        rows = service.inbox(db.session, g.user.id)
        locale = current_locale()
        return self.render_template(
            "xueji/messages.html",
            title=_l("Messages"),
            messages=[service.render(db.session, row, locale) for row in rows],
            unread=service.unread_count(db.session, g.user.id),
        )

    @expose("/<int:pk>")
    @has_access
    def open(self, pk: int) -> Any:
        row = db.session.get(Notification, pk)
        if row is None or row.user_id != g.user.id:
            return self.render_template(
                "xueji/messages.html", title=_l("Messages"), messages=[], unread=0
            ), 404
        service.mark_read(db.session, g.user.id, [pk])
        db.session.commit()
        link = row.link or ""
        # Only our own paths: a stored link never sends anyone off-site.
        if link.startswith("/") and not link.startswith("//"):
            return redirect(link)
        return redirect(url_for("MessagesView.index"))

    @expose("/read", methods=["POST"])
    @has_access
    def read_all(self) -> Any:
        service.mark_read(db.session, g.user.id)
        db.session.commit()
        return redirect(url_for("MessagesView.index"))
