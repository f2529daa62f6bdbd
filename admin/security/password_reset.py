"""Forgotten password: a single-use, expiring token sent by e-mail over SMTP.

`/forgot-password/` (username or e-mail address + captcha) always answers with the same neutral
message, whether or not the account exists, has an e-mail address or was sent a link; the mail
leaves from a background thread so the answer takes the same time either way. The token is
`secrets.token_urlsafe(32)`; only its SHA-256 is stored, it expires after
XUEJI_RESET_TOKEN_MINUTES and works once. `/reset-password/<token>` sets a new password through
the password policy. Without XUEJI_SMTP_HOST the page only says that reset by e-mail is not
available.

Settings: XUEJI_SMTP_HOST, XUEJI_SMTP_PORT, XUEJI_SMTP_USER, XUEJI_SMTP_PASSWORD,
XUEJI_SMTP_STARTTLS, XUEJI_SMTP_FROM, XUEJI_RESET_TOKEN_MINUTES, and XUEJI_BASE_URL (the
public address put in the link; without it the request's host is used)."""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
import ssl
import threading
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from flask import current_app, flash, g, make_response, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.security.decorators import no_cache
from flask_appbuilder.security.forms import DynamicForm
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..audit import record_event
from ..extensions import db
from ..models import PasswordResetToken
from ..models.students import utcnow
from . import captcha
from .lockout import LockoutUnavailable, clear_account_failures, client_address
from .login import CAPTCHA_MESSAGE, UNAVAILABLE_MESSAGE

log = logging.getLogger("xueji.security")

# audit_log.action is VARCHAR(16): "password_reset_requested" (24) does not fit on PostgreSQL.
ACTION_REQUESTED = "reset_requested"
ACTION_RESET = "password_reset"
# One link per account per minute at most (mail bombing); the answer does not change.
RESEND_AFTER = timedelta(seconds=60)


def smtp_settings() -> dict[str, Any]:
    config = current_app.config
    return {
        "host": config.get("XUEJI_SMTP_HOST") or "",
        "port": int(config.get("XUEJI_SMTP_PORT") or 25),
        "user": config.get("XUEJI_SMTP_USER") or "",
        "password": config.get("XUEJI_SMTP_PASSWORD") or "",
        "starttls": bool(config.get("XUEJI_SMTP_STARTTLS", True)),
        "sender": config.get("XUEJI_SMTP_FROM") or "xueji@localhost",
    }


def smtp_configured() -> bool:
    return bool(current_app.config.get("XUEJI_SMTP_HOST"))


def token_minutes() -> int:
    return max(1, int(current_app.config.get("XUEJI_RESET_TOKEN_MINUTES", 30)))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- mail --------------------------------------------------------------------------------------

_pending: set[threading.Thread] = set()
_pending_lock = threading.Lock()


def send_mail(message: EmailMessage, settings: dict[str, Any]) -> None:
    """Deliver one message over SMTP (STARTTLS and login when configured)."""
    with smtplib.SMTP(settings["host"], settings["port"], timeout=15) as smtp:
        smtp.ehlo()
        if settings["starttls"]:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings["user"]:
            smtp.login(settings["user"], settings["password"])
        smtp.send_message(message)


def _deliver(message: EmailMessage, settings: dict[str, Any]) -> None:
    try:
        send_mail(message, settings)
    except (OSError, smtplib.SMTPException) as exc:
        # Never the address: nothing personal reaches the logs.
        log.error("mail not sent via %s:%s: %s", settings["host"], settings["port"], exc)
    finally:
        with _pending_lock:
            _pending.discard(threading.current_thread())


def send_in_background(message: EmailMessage) -> None:
    thread = threading.Thread(
        target=_deliver, args=(message, smtp_settings()), name="xueji-mail", daemon=True
    )
    with _pending_lock:
        _pending.add(thread)
    thread.start()


def wait_for_mail(timeout: float = 10.0) -> None:
    """Wait until the mail threads started so far are done (tests, graceful shutdown)."""
    with _pending_lock:
        threads = list(_pending)
    for thread in threads:
        thread.join(timeout)


def reset_link(token: str) -> str:
    path = url_for("PasswordResetView.reset", token=token)
    base = str(current_app.config.get("XUEJI_BASE_URL") or "").rstrip("/")
    return (base or request.host_url.rstrip("/")) + path


def reset_message(user: Any, link: str, minutes: int) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "学籍 XueJi：重置密码 / Password reset"
    message["From"] = smtp_settings()["sender"]
    message["To"] = user.email
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="xueji")
    message.set_content(
        f"{user.username}，您好：\n\n"
        f"有人（可能是您本人）请求重置学籍系统账户 {user.username} 的密码。"
        f"如需重置，请在 {minutes} 分钟内打开下面的链接（仅能使用一次）：\n\n"
        f"{link}\n\n"
        "如果不是您本人操作，请忽略本邮件，您的密码不会改变。\n\n"
        "----\n\n"
        f"Hello {user.username},\n\n"
        f"Someone (probably you) asked to reset the password of the XueJi account "
        f"{user.username}. To choose a new password, open this link within {minutes} minutes "
        f"(it works once):\n\n{link}\n\n"
        "If this was not you, ignore this message: your password stays unchanged.\n"
    )
    return message


# --- tokens ------------------------------------------------------------------------------------


def deliverable(email: str | None) -> bool:
    # create-user gives accounts without an address `<username>@xueji.invalid` (RFC 2606).
    return bool(email) and "@" in str(email) and not str(email).lower().endswith(".invalid")


def find_account(login: str) -> Any:
    sm = current_app.appbuilder.sm
    user = sm.find_user(username=login)
    if user is None and "@" in login:
        model = sm.user_model
        user = db.session.scalar(select(model).where(func.lower(model.email) == login.lower()))
    return user


def request_reset(login: str) -> None:
    """Issue and mail a token when the account exists and can receive mail; otherwise only
    audit the request. The caller answers the same in every case."""
    login = login.strip()
    user = find_account(login)
    address = client_address()
    now = utcnow()
    sent = False
    if user is not None and user.active and deliverable(user.email):
        recent = db.session.scalar(
            select(func.count(PasswordResetToken.id)).where(
                PasswordResetToken.user_id == user.id,
                PasswordResetToken.created_at > now - RESEND_AFTER,
            )
        )
        if not recent:
            token = secrets.token_urlsafe(32)
            db.session.add(
                PasswordResetToken(
                    user_id=user.id,
                    token_hash=hash_token(token),
                    created_at=now,
                    expires_at=now + timedelta(minutes=token_minutes()),
                )
            )
            sent = True
    record_event(
        db.session,
        ACTION_REQUESTED,
        username=(user.username if user is not None else login)[:64],
        user_id=user.id if user is not None else None,
        address=address,
        details={"mailed": sent},
    )
    db.session.commit()
    if sent:
        send_in_background(reset_message(user, reset_link(token), token_minutes()))


def valid_token(token: str) -> PasswordResetToken | None:
    if not token or len(token) > 128:
        return None
    return db.session.scalar(
        select(PasswordResetToken).where(
            PasswordResetToken.token_hash == hash_token(token),
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > utcnow(),
        )
    )


def consume_token(row_id: int, user_id: int) -> bool:
    """Mark the token used (atomically: one winner) and void the user's other tokens."""
    now = utcnow()
    won = db.session.execute(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.id == row_id,
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > now,
        )
        .values(used_at=now)
    ).rowcount
    if won != 1:
        db.session.rollback()
        return False
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    return True


# --- pages -------------------------------------------------------------------------------------


class ForgotPasswordForm(DynamicForm):
    login = StringField(
        _l("Username or e-mail address"),
        validators=[DataRequired(), Length(max=256)],
        widget=BS3TextFieldWidget(),
    )
    captcha = StringField(_l("Verification code"), widget=BS3TextFieldWidget())


class PasswordResetView(BaseView):
    route_base = ""
    default_view = "forgot"
    template = "xueji/security/form_page.html"

    def _page(self, form: Any, notice: str | None, title: str, submit: str = "") -> Any:
        return self.render_template(
            self.template,
            title=title,
            form=form,
            notice=notice,
            submit=submit,
            links=[(self.appbuilder.get_url_for_login, _("Back to sign in"))],
            captcha_enabled=captcha.enabled(),
            appbuilder=self.appbuilder,
        )

    @expose("/forgot-password/", methods=["GET", "POST"])
    @no_cache
    def forgot(self) -> Any:
        title = _("Forgot your password?")
        if not smtp_configured():
            return self._page(
                None,
                _(
                    "Password reset by e-mail is not available. "
                    "Ask your administrator to reset your password."
                ),
                title,
            )
        form = ForgotPasswordForm()
        if request.method == "POST":
            try:
                captcha_ok = not captcha.enabled() or captcha.verify(form.captcha.data)
            except LockoutUnavailable:
                flash(str(UNAVAILABLE_MESSAGE), "danger")
                return redirect(url_for("PasswordResetView.forgot"))
            if form.validate_on_submit():
                if not captcha_ok:
                    flash(str(CAPTCHA_MESSAGE), "warning")
                    return redirect(url_for("PasswordResetView.forgot"))
                request_reset(form.login.data)
                flash(
                    _(
                        "If that account exists and has an e-mail address, a link to choose "
                        "a new password has been sent to it. The link works once, for "
                        "%(minutes)s minutes.",
                        minutes=token_minutes(),
                    ),
                    "info",
                )
                return redirect(self.appbuilder.get_url_for_login)
        return self._page(
            form,
            _("Enter your username or e-mail address; we will send a link to that account."),
            title,
            _("Send the link"),
        )

    @expose("/reset-password/<token>", methods=["GET", "POST"])
    @no_cache
    def reset(self, token: str) -> Any:
        response = make_response(self._reset(token))
        # The token is in this page's address: never send it on as a Referer.
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    def _reset(self, token: str) -> Any:
        from .users import AdminSetPasswordForm

        title = _("Choose a new password")
        row = valid_token(token)
        user = self.appbuilder.sm.get_user_by_id(row.user_id) if row is not None else None
        if row is None or user is None or not user.active:
            notice = _(
                "This link is not valid: it has expired or has already been used. "
                "Ask for a new one."
            )
            return self._page(None, notice, title), 404
        g.xueji_password_user = user
        form = AdminSetPasswordForm()
        if form.validate_on_submit():
            if not consume_token(row.id, user.id):
                return redirect(url_for("PasswordResetView.reset", token=token))
            record_event(
                db.session,
                ACTION_RESET,
                username=user.username,
                user_id=user.id,
                address=client_address(),
                details={"token_id": row.id},
            )
            # Commits the token, this entry and the password (audited as password_change).
            self.appbuilder.sm.set_password(user, form.password.data, reason="reset by e-mail")
            clear_account_failures(user.username)
            flash(_("Your password has been changed. Sign in with the new password."), "info")
            return redirect(self.appbuilder.get_url_for_login)
        notice = _("Account: %(username)s", username=user.username)
        return self._page(form, notice, title, _("Change password"))
