"""Maximum password age (XUEJI_PASSWORD_MAX_AGE_DAYS, default 90; 0 turns it off).

`user_scope.password_changed_at` is set whenever a password is set (create-user, the user
screens, a change, a reset by e-mail). A signed-in user whose password is older than the
maximum is sent to `/change-password/` from every page until they choose a new one; only that
page, sign-out, language switching and static files stay reachable. The API refuses to issue
tokens for such an account (api.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import no_cache
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import UserScope
from ..models.students import utcnow

EXPIRED_API_MESSAGE = _l(
    "The password has expired. Sign in to the web interface to choose a new one."
)
CHANGE_ENDPOINT = "PasswordExpiredView.change"
# Reachable while the password is expired (plus every blueprint's `.static`).
ALLOWED_ENDPOINTS = frozenset(
    {
        CHANGE_ENDPOINT,
        "AuthDBView.logout",
        "AuthDBView.login",
        "LocaleView.index",
        "CaptchaView.image",
        "static",
    }
)


def max_age_days() -> int:
    return int(current_app.config.get("XUEJI_PASSWORD_MAX_AGE_DAYS", 90) or 0)


def password_changed_at(user: Any) -> datetime | None:
    row = db.session.get(UserScope, user.id)
    if row is not None and row.password_changed_at is not None:
        return row.password_changed_at  # type: ignore[no-any-return]
    # Accounts made outside XueJi (e.g. `flask fab create-admin`) have no user_scope row.
    return getattr(user, "created_on", None)


def password_expired(user: Any) -> bool:
    days = max_age_days()
    if days <= 0 or user is None:
        return False
    changed = password_changed_at(user)
    return changed is not None and utcnow() - changed > timedelta(days=days)


def enforce_password_age() -> Any:
    """before_request: send a signed-in user with an expired password to the change page."""
    if max_age_days() <= 0:
        return None
    user = getattr(g, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    endpoint = request.endpoint or ""
    if endpoint in ALLOWED_ENDPOINTS or endpoint.endswith(".static"):
        return None
    if not password_expired(user):
        return None
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for(CHANGE_ENDPOINT, next=target))


def init_app(app: Flask) -> None:
    """Register the hook; call after AppBuilder.init_app (FAB's hook sets g.user first)."""
    app.before_request(enforce_password_age)


class PasswordExpiredView(BaseView):
    """`/change-password/`: the signed-in user chooses a new password (forced when expired)."""

    route_base = "/change-password"
    default_view = "change"
    template = "xueji/security/form_page.html"

    @expose("/", methods=["GET", "POST"])
    @no_cache
    def change(self) -> Any:
        from .users import ChangeMyPasswordForm

        user = getattr(g, "user", None)
        if user is None or not user.is_authenticated:
            return redirect(self.appbuilder.get_url_for_login_with(request.full_path))
        form = ChangeMyPasswordForm()
        if form.validate_on_submit():
            sm = self.appbuilder.sm
            account = sm.get_user_by_id(user.id)
            expired = password_expired(account)
            sm.set_password(
                account, form.password.data, reason="password expired" if expired else None
            )
            flash(_("Your password has been changed."), "info")
            next_url = get_safe_redirect(request.args.get("next") or "")
            return redirect(next_url)
        notice = None
        if password_expired(user):
            notice = _(
                "Your password is more than %(days)s days old. Choose a new one to continue.",
                days=max_age_days(),
            )
        return self.render_template(
            self.template,
            title=_("Change my password"),
            form=form,
            notice=notice,
            submit=_("Change password"),
            appbuilder=self.appbuilder,
        )
