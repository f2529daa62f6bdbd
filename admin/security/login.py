"""The sign-in form: FAB's AuthDBView with a captcha, the shared lockout (through
RegistrySecurityManager.authenticate) and a link to the forgotten-password page.

The class keeps FAB's name, `AuthDBView`, so its endpoints (`AuthDBView.login`, `.logout`) and
the links other code builds to them do not change."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, session
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
from flask_appbuilder.security.decorators import no_cache
from flask_appbuilder.security.forms import DynamicForm
from flask_appbuilder.security.views import AuthDBView as FabAuthDBView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_appbuilder.views import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from . import captcha
from .lockout import LockoutUnavailable

# For msgids FAB's own catalog already translates ("Password", "User Name", …): called through
# this alias they stay out of our extraction, so our catalog need not repeat FAB's wording
# (admin/translations/README.md: a msgid FAB also uses must keep FAB's translation).
fab_text = _l

CAPTCHA_MESSAGE = _l("The verification code was wrong or has expired. Try again.")
UNAVAILABLE_MESSAGE = _l("Signing in is temporarily unavailable. Try again later.")


def locked_message(minutes: int) -> str:
    return _("Too many failed sign-in attempts. Try again in %(minutes)s minutes.", minutes=minutes)


class LoginForm(DynamicForm):
    username = StringField(
        fab_text("User Name"), validators=[DataRequired()], widget=BS3TextFieldWidget()
    )
    password = PasswordField(
        fab_text("Password"), validators=[DataRequired()], widget=BS3PasswordFieldWidget()
    )
    # Checked (and consumed) by the view on every POST, so no validator here.
    captcha = StringField(_l("Verification code"), widget=BS3TextFieldWidget())


class AuthDBView(FabAuthDBView):
    login_template = "xueji/security/login_db.html"

    @expose("/login/", methods=["GET", "POST"])
    @no_cache
    def login(self) -> Any:
        if g.user is not None and g.user.is_authenticated:
            return redirect(self._get_safe_next_url())
        form = LoginForm()
        if request.method == "POST":
            try:
                return self._post(form)
            except LockoutUnavailable:
                flash(str(UNAVAILABLE_MESSAGE), "danger")
        return self.render_template(
            self.login_template,
            title=self.title,
            form=form,
            appbuilder=self.appbuilder,
            captcha_enabled=captcha.enabled(),
        )

    def _post(self, form: LoginForm) -> Any:
        # The challenge is consumed by every attempt, right or wrong, before anything else.
        captcha_ok = not captcha.enabled() or captcha.verify(form.captcha.data)
        if not form.validate_on_submit():
            return self.render_template(
                self.login_template,
                title=self.title,
                form=form,
                appbuilder=self.appbuilder,
                captcha_enabled=captcha.enabled(),
            )
        next_url = get_safe_redirect(request.args.get("next", ""))
        back = redirect(self.appbuilder.get_url_for_login_with(next_url))
        if not captcha_ok:
            # Nothing is checked or counted: the password was never looked at.
            flash(str(CAPTCHA_MESSAGE), "warning")
            return back
        sm = self.appbuilder.sm
        result = sm.authenticate(form.username.data, form.password.data)
        if result.locked:
            flash(locked_message(sm.lockout_minutes), "danger")
            return back
        if result.user is None:
            flash(str(self.invalid_login_message), "warning")
            return back
        # A fresh session (new CSRF secret) for the signed-in user; keep only the language.
        language = session.get("locale")
        session.clear()
        if language:
            session["locale"] = language
        login_user(result.user, remember=False)
        return redirect(next_url)
