"""RegistrySecurityManager: FAB's security manager with XueJi's roles kept in sync by
`xueji init`, the user's scope attached to each request, and the login hardening hooks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_appbuilder.security.sqla.manager import SecurityManager
from werkzeug.security import generate_password_hash

from .api import SecurityApi
from .captcha import CaptchaView
from .lockout import client_address, login_guard
from .login import AuthDBView
from .password_age import PasswordExpiredView
from .password_reset import PasswordResetView
from .roles import MENU_LINKS, ROLE_PERMISSIONS
from .users import ResetMyPasswordView, ResetPasswordView, UserDBModelView

# Every signed-in user may see and edit their own account page and change their password.
SELF_SERVICE = [
    ("can_userinfo", "UserDBModelView"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
    ("can_this_form_get", "UserInfoEditView"),
    ("can_this_form_post", "UserInfoEditView"),
]


@dataclass(frozen=True)
class AuthResult:
    """The outcome of a sign-in attempt: the user, or None (and whether a lock refused it)."""

    user: Any | None
    locked: bool = False


class RegistrySecurityManager(SecurityManager):
    # --- login hardening (admin/security/{login,lockout,captcha,password_*,users,api}.py) ---
    authdbview = AuthDBView
    security_api = SecurityApi
    userdbmodelview = UserDBModelView
    resetmypasswordview = ResetMyPasswordView
    resetpasswordview = ResetPasswordView

    def register_views(self) -> None:
        super().register_views()
        for view in (CaptchaView, PasswordResetView, PasswordExpiredView):
            self.appbuilder.add_view_no_menu(view())

    @property
    def lockout_minutes(self) -> int:
        return max(1, int(current_app.config.get("XUEJI_LOCKOUT_MINUTES", 15)))

    def authenticate(self, username: str | None, password: str | None) -> AuthResult:
        """FAB's password check behind the lockout. Used by the sign-in form and the API;
        unknown usernames are counted and answered alike.

        Audit: the ORM listener (admin/audit/listener.py) already writes "login" and
        "login_failed" when FAB bumps ab_user.login_count / fail_login_count; this writes the
        events no ab_user row shows: failures FAB does not count (unknown or inactive account,
        empty password), attempts refused by a lock, and the lockouts themselves."""
        address = client_address()
        guard = login_guard(username, address)
        typed = (username or "")[:64]
        if guard.is_locked():
            self._audit("login_failed", username=typed, address=address, reason="locked")
            return AuthResult(None, locked=True)
        known = self._find_login(username)
        failures_before = (known.fail_login_count or 0) if known is not None else 0
        user = super().auth_user_db(username, password)
        if user:
            guard.register_success()
            return AuthResult(user)
        locked_now = guard.register_failure()
        if known is None or (known.fail_login_count or 0) <= failures_before:
            self._audit(
                "login_failed",
                username=typed,
                user_id=known.id if known is not None else None,
                address=address,
                reason="unknown user" if known is None else "not counted by FAB",
            )
        for scope in locked_now:
            self._audit(
                "lockout",
                username=typed,
                user_id=known.id if known is not None and scope == "account" else None,
                address=address,
                details={"scope": scope, "attempts": guard.attempts, "minutes": guard.minutes},
            )
        return AuthResult(None)

    def _find_login(self, username: str | None) -> Any:
        if not username:
            return None
        return self.find_user(username=username) or self.find_user(email=username)

    def auth_user_db(self, username: str | None, password: str | None) -> Any:
        # Any caller of FAB's entry point goes through the lockout too.
        return self.authenticate(username, password).user

    def set_password(self, user: Any, password: str, *, reason: str | None = None) -> None:
        """Hash and store a new password and stamp user_scope.password_changed_at. The ORM
        listener audits the change ("password_change", with `reason`)."""
        from ..audit import set_audit_reason
        from ..models import UserScope
        from ..models.students import utcnow

        config = current_app.config
        user.password = generate_password_hash(
            password=password,
            method=config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
            salt_length=config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16),
        )
        user.changed_on = datetime.now()
        row = self.session.get(UserScope, user.id)
        if row is None:
            row = UserScope(user_id=user.id)
            self.session.add(row)
        row.password_changed_at = utcnow()
        set_audit_reason(self.session, reason)
        try:
            self.session.commit()
        finally:
            set_audit_reason(self.session, None)

    def reset_password(self, userid: Any, password: str) -> None:
        self.set_password(self.get_user_by_id(userid), password)

    def on_user_logout(self, user: Any) -> None:
        self._audit("logout", username=user.username, user_id=user.id, address=client_address())

    def _audit(self, action: str, **fields: Any) -> None:
        from ..audit import record_event

        record_event(self.session, action, **fields)
        self.session.commit()

    # --- roles ---------------------------------------------------------------------------------
    def role_permission_pairs(self, role: str) -> set[tuple[str, str]]:
        """(permission, view_menu) pairs a role should hold: its resources' actions, the menu
        entries of the views it may read, and self-service pages."""
        resources = ROLE_PERMISSIONS.get(role, {})
        wanted: set[tuple[str, str]] = set(SELF_SERVICE)
        for resource, actions in resources.items():
            for action in actions:
                wanted.add((f"can_{action}", resource))
        readable = {r for r, actions in resources.items() if "read" in actions}
        for view in self.appbuilder.baseviews:
            permission_group = getattr(view, "class_permission_name", None)
            if permission_group not in readable:
                continue
            for item in self.appbuilder.menu.get_list():
                for child in [item, *item.childs]:
                    if child.name and getattr(child, "baseview", None) is view:
                        wanted.add(("menu_access", child.name))
                        wanted.add(("menu_access", item.name))
        # Menu links without a view of their own (add_link): shown to roles holding the
        # permission they lead to.
        for item in self.appbuilder.menu.get_list():
            for child in [item, *item.childs]:
                needs = MENU_LINKS.get(child.name)
                if needs and needs[1] in resources.get(needs[0], set()):
                    wanted.add(("menu_access", child.name))
                    wanted.add(("menu_access", item.name))
        return wanted

    def sync_role_definitions(self) -> dict[str, int]:
        """Give each role exactly its permissions (Admin: all). Returns permissions per role."""
        all_pvms = self.get_session.query(self.permissionview_model).all()
        by_pair = {(p.permission.name, p.view_menu.name): p for p in all_pvms if p.permission}
        counts: dict[str, int] = {}
        admin = self.find_role(self.auth_role_admin) or self.add_role(self.auth_role_admin)
        admin.permissions = list(all_pvms)
        counts[admin.name] = len(all_pvms)
        for role_name in ROLE_PERMISSIONS:
            role = self.find_role(role_name) or self.add_role(role_name)
            wanted = self.role_permission_pairs(role_name)
            role.permissions = [by_pair[pair] for pair in sorted(wanted) if pair in by_pair]
            counts[role_name] = len(role.permissions)
        self.get_session.commit()
        return counts

    @property
    def get_session(self) -> Any:
        return self.session
