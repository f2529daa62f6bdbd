"""RegistrySecurityManager: FAB's security manager with XueJi's roles kept in sync by
`xueji init`, the user's scope attached to each request, and the login hardening hooks."""

from __future__ import annotations

from typing import Any

from flask_appbuilder.security.sqla.manager import SecurityManager

from .roles import ROLE_PERMISSIONS

# Every signed-in user may see and edit their own account page and change their password.
SELF_SERVICE = [
    ("can_userinfo", "UserDBModelView"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
    ("can_this_form_get", "UserInfoEditView"),
    ("can_this_form_post", "UserInfoEditView"),
]


class RegistrySecurityManager(SecurityManager):
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
        for extra in (
            getattr(
                self.appbuilder.app if hasattr(self.appbuilder, "app") else None,
                "xueji_extra_role_permissions",
                {},
            )
            or {}
        ):
            del extra  # reserved for later areas
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
