"""User screens under the password policy (admin.domain.passwords) and the user's scope.

* `PasswordPolicy`: a WTForms validator that knows the username (the form's own `username`
  field, or the account whose password is being set), so "must not contain the username" works.
* `UserDBModelView` (users list/add/edit): the policy on the add form, and an Admin sets the
  user's scope (a GB/T 2260 region prefix or one school's 学校标识码) stored in `user_scope`.
* `ResetMyPasswordView` (change my password: asks for the current one) and `ResetPasswordView`
  (an Admin sets another user's password), both through the policy.

The classes keep FAB's names so that their endpoints and permission names (`can_userinfo on
UserDBModelView`, `can_this_form_post on ResetMyPasswordView`, …) stay what roles.py grants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, g, request
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
from flask_appbuilder.security.forms import DynamicForm
from flask_appbuilder.security.views import ResetMyPasswordView as FabResetMyPasswordView
from flask_appbuilder.security.views import ResetPasswordView as FabResetPasswordView
from flask_appbuilder.security.views import UserDBModelView as FabUserDBModelView
from flask_appbuilder.validators import PasswordComplexityValidator
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import check_password_hash
from wtforms import Field, Form, PasswordField, StringField, ValidationError
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ..domain.messages import Violation
from ..domain.passwords import MIN_CLASSES, MIN_LENGTH, check_password_policy
from ..extensions import db
from ..models import Region, School, UserScope
from .lockout import LockoutUnavailable, clear_account_failures, login_guard
from .login import UNAVAILABLE_MESSAGE, fab_text, locked_message

POLICY_DESCRIPTION = _l(
    "At least %(length)s characters, mixing at least %(classes)s of: lowercase letters, "
    "uppercase letters, digits, symbols; must not contain the username.",
    length=MIN_LENGTH,
    classes=MIN_CLASSES,
)


def locale() -> str:
    current = get_locale()
    return str(current) if current else "zh"


def violation_text(problems: list[Violation]) -> str:
    return "; ".join(p.message(locale()) for p in problems)


class PasswordPolicy:
    """Validates a new password. `username_of()` names the account when the form has no
    `username` field (password change and reset forms)."""

    def __init__(self, username_of: Callable[[], str] | None = None) -> None:
        self.username_of = username_of

    def __call__(self, form: Form, field: Field) -> None:
        if self.username_of is not None:
            username = self.username_of()
        else:
            username = getattr(getattr(form, "username", None), "data", None) or ""
        problems = check_password_policy(field.data or "", username)
        if problems:
            raise ValidationError(violation_text(problems))


class NotCurrentPassword:
    """The new password must differ from the account's current one."""

    def __init__(self, user_of: Callable[[], Any]) -> None:
        self.user_of = user_of

    def __call__(self, form: Form, field: Field) -> None:
        user = self.user_of()
        reused = (
            user is not None
            and bool(user.password and field.data)
            and check_password_hash(user.password, field.data)
        )
        if reused:
            raise ValidationError(Violation("password.reused", "password").message(locale()))


class CurrentPassword:
    """Checks the signed-in user's current password; wrong answers count towards the lockout
    like failed sign-ins (a stolen session must not become a password-guessing oracle)."""

    def __call__(self, form: Form, field: Field) -> None:
        user = g.user
        guard = login_guard(user.username)
        try:
            if guard.is_locked():
                raise ValidationError(locked_message(guard.minutes))
            if not check_password_hash(user.password or "", field.data or ""):
                guard.register_failure()
                raise ValidationError(_l("The current password is not correct."))
        except LockoutUnavailable as exc:
            raise ValidationError(str(UNAVAILABLE_MESSAGE)) from exc


def _signed_in_username() -> str:
    return str(g.user.username)


def _signed_in_user() -> Any:
    return g.user


def _target_user() -> Any:
    """The account whose password is being set: the one a reset link names, or the one
    ResetPasswordView (?pk=…) is for."""
    from flask import current_app

    chosen = getattr(g, "xueji_password_user", None)
    if chosen is not None:
        return chosen
    pk = request.args.get("pk")
    return current_app.appbuilder.sm.get_user_by_id(pk) if pk else None


def _target_username() -> str:
    user = _target_user()
    return str(user.username) if user is not None else ""


def _new_password_fields(
    username_of: Callable[[], str], user_of: Callable[[], Any]
) -> tuple[PasswordField, PasswordField]:
    password = PasswordField(
        _l("New password"),
        description=POLICY_DESCRIPTION,
        validators=[DataRequired(), PasswordPolicy(username_of), NotCurrentPassword(user_of)],
        widget=BS3PasswordFieldWidget(),
    )
    confirm = PasswordField(
        fab_text("Confirm Password"),
        validators=[
            DataRequired(),
            EqualTo("password", message=fab_text("Passwords must match")),
        ],
        widget=BS3PasswordFieldWidget(),
    )
    return password, confirm


class ChangeMyPasswordForm(DynamicForm):
    """The signed-in user changes their own password (self-service and forced change)."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), CurrentPassword()],
        widget=BS3PasswordFieldWidget(),
    )
    password, conf_password = _new_password_fields(_signed_in_username, _signed_in_user)


class AdminSetPasswordForm(DynamicForm):
    """An Admin sets another user's password (ResetPasswordView?pk=…)."""

    password, conf_password = _new_password_fields(_target_username, _target_user)


class ResetMyPasswordView(FabResetMyPasswordView):
    form = ChangeMyPasswordForm
    form_title = _l("Change my password")
    message = _l("Your password has been changed.")

    def form_post(self, form: DynamicForm) -> None:
        sm = self.appbuilder.sm
        user = sm.get_user_by_id(g.user.id)
        sm.set_password(user, form.password.data)
        clear_account_failures(user.username)
        flash(str(self.message), "info")


class ResetPasswordView(FabResetPasswordView):
    form = AdminSetPasswordForm
    form_title = _l("Set a user's password")
    message = _l("The user's password has been changed.")

    def form_post(self, form: DynamicForm) -> None:
        sm = self.appbuilder.sm
        user = _target_user()
        if user is None:
            flash(str(_l("No such user.")), "danger")
            return
        sm.set_password(user, form.password.data)  # audited with the Admin as the actor
        flash(str(self.message), "info")


# --- scope fields -------------------------------------------------------------------------------


def _validate_region(form: Form, field: Field) -> None:
    value = (field.data or "").strip()
    if not value:
        return
    if not (value.isdigit() and len(value) in (2, 4, 6)):
        raise ValidationError(_l("A GB/T 2260 region prefix has 2, 4 or 6 digits."))
    if db.session.get(Region, value.ljust(6, "0")) is None:
        raise ValidationError(_l("No region %(code)s in GB/T 2260.", code=value))


def _validate_school(form: Form, field: Field) -> None:
    value = (field.data or "").strip()
    if not value:
        return
    region = getattr(form, "scope_region", None)
    if region is not None and (region.data or "").strip():
        raise ValidationError(_l("Give a region or a school, not both."))
    if db.session.scalar(select(School.id).where(School.code == value)) is None:
        raise ValidationError(_l("No school has the code %(code)s.", code=value))


def _scope_fields() -> dict[str, Field]:
    return {
        "scope_region": StringField(
            _l("Scope: region"),
            description=_l(
                "For bureau accounts: a GB/T 2260 region prefix (2, 4 or 6 digits); "
                "empty = national."
            ),
            validators=[Optional(), Length(max=6), _validate_region],
            widget=BS3TextFieldWidget(),
        ),
        "scope_school": StringField(
            _l("Scope: school"),
            description=_l("For school accounts: the school's 10-digit identification code."),
            validators=[Optional(), Length(max=10), _validate_school],
            widget=BS3TextFieldWidget(),
        ),
    }


def _is_admin() -> bool:
    from flask import current_app

    admin_role = current_app.appbuilder.sm.auth_role_admin
    user = getattr(g, "user", None)
    return bool(user is not None and any(r.name == admin_role for r in user.roles))


class UserDBModelView(FabUserDBModelView):
    add_form_extra_fields = {
        "password": PasswordField(
            fab_text("Password"),
            description=POLICY_DESCRIPTION,
            # FAB's PasswordComplexityValidator stays (it is a no-op unless
            # FAB_PASSWORD_COMPLEXITY_ENABLED); ours sees the username.
            validators=[DataRequired(), PasswordComplexityValidator(), PasswordPolicy()],
            widget=BS3PasswordFieldWidget(),
        ),
        "conf_password": PasswordField(
            fab_text("Confirm Password"),
            description=fab_text("Please rewrite the user's password to confirm"),
            validators=[
                DataRequired(),
                EqualTo("password", message=fab_text("Passwords must match")),
            ],
            widget=BS3PasswordFieldWidget(),
        ),
        **_scope_fields(),
    }
    edit_form_extra_fields = _scope_fields()
    add_columns = [*FabUserDBModelView.add_columns, "scope_region", "scope_school"]
    edit_columns = [*FabUserDBModelView.edit_columns, "scope_region", "scope_school"]
    label_columns = {
        **FabUserDBModelView.label_columns,
        "conf_password": fab_text("Confirm Password"),
        "scope_region": _l("Scope: region"),
        "scope_school": _l("Scope: school"),
    }

    def prefill_form(self, form: DynamicForm, pk: Any) -> None:
        row = db.session.get(UserScope, int(pk))
        form.scope_region.data = (row.region_prefix or "") if row else ""
        form.scope_school.data = (row.school.code if row.school else "") if row else ""

    def process_form(self, form: DynamicForm, is_created: bool) -> None:
        region = (form.scope_region.data or "").strip() or None
        school = (form.scope_school.data or "").strip() or None
        school_id = (
            db.session.scalar(select(School.id).where(School.code == school)) if school else None
        )
        g._xueji_user_scope = (region, school_id)

    def _save_scope(self, item: Any, *, password_set: bool) -> None:
        from ..models.students import utcnow

        row = db.session.get(UserScope, item.id)
        if row is None:
            row = UserScope(user_id=item.id)
            db.session.add(row)
        if _is_admin():  # scope is an Admin's decision (the only role with these screens today)
            row.region_prefix, row.school_id = getattr(g, "_xueji_user_scope", (None, None))
        if password_set:
            row.password_changed_at = utcnow()
        db.session.commit()

    def post_add(self, item: Any) -> None:
        self._save_scope(item, password_set=True)

    def post_update(self, item: Any) -> None:
        self._save_scope(item, password_set=False)
