"""Forgotten password over real SMTP (aiosmtpd on loopback): a single-use, expiring link,
the same neutral answer for every request, the password policy on the new password."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select, update

from tests.conftest import csrf_token_from, login_via_form, solve_captcha
from tests.security.conftest import PASSWORD, audit_rows, en_client, flashed, new_user, unique

NEUTRAL = "If that account exists and has an e-mail address, a link to choose a new password"
INVALID_LINK = "This link is not valid"
NEW_PASSWORD = "Fresh-Start-2026!"


def _forgot(client, login: str, *, captcha: str | None = None):
    page = client.get("/forgot-password/")
    assert page.status_code == 200
    answer = solve_captcha(client)
    response = client.post(
        "/forgot-password/",
        data={
            "login": login,
            "captcha": answer if captcha is None else captcha,
            "csrf_token": csrf_token_from(page),
        },
    )
    assert response.status_code == 302
    return response, flashed(client.get(response.headers["Location"]))


def _link(message) -> str:
    body = message.get_content()
    match = re.search(r"https://xueji\.example\.edu\.cn(/reset-password/[A-Za-z0-9_\-]+)", body)
    assert match, body
    return match.group(1)


def _set_password(client, path: str, password: str, confirm: str | None = None):
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    return client.post(
        path,
        data={
            "password": password,
            "conf_password": password if confirm is None else confirm,
            "csrf_token": csrf_token_from(page),
        },
    )


def test_reset_by_e_mail_link(app, smtp) -> None:
    from admin.security.password_reset import wait_for_mail

    email = f"{unique('mail')}@school.example.cn"
    username = new_user(app, email=email)
    client = en_client(app)
    response, text = _forgot(client, email.upper())  # by e-mail address, any case
    assert response.headers["Location"].endswith("/login/") and NEUTRAL in text
    wait_for_mail()
    [message] = smtp.wait(1)
    assert smtp.envelopes[0][1] == [email]
    assert message["To"] == email and "Password reset" in message["Subject"]
    assert "重置密码" in message["Subject"] and "30" in message.get_content()
    path = _link(message)

    # The policy applies to the new password.
    response = _set_password(client, path, f"{username}-X1")
    assert response.status_code == 200 and "must not contain the username" in flashed(response)
    response = _set_password(client, path, NEW_PASSWORD)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert (
        "/login"
        not in login_via_form(app.test_client(), username, NEW_PASSWORD).headers["Location"]
    )
    # Single use.
    again = client.get(path)
    assert again.status_code == 404 and INVALID_LINK in flashed(again)
    actions = [r.action for r in audit_rows(app, username=username)]
    assert "reset_requested" in actions and "password_reset" in actions


def test_unknown_account_gets_the_same_answer_and_no_mail(app, smtp) -> None:
    from admin.security.password_reset import wait_for_mail

    no_mail = new_user(app)  # create-user without --email: <name>@xueji.invalid
    client = en_client(app)
    texts = []
    for login in (unique("ghost"), f"{unique('ghost')}@example.cn", no_mail):
        response, text = _forgot(client, login)
        assert response.headers["Location"].endswith("/login/")
        texts.append(re.search(NEUTRAL + r"[^.]*\.[^.]*\.", text).group(0))
    assert len(set(texts)) == 1
    wait_for_mail()
    assert smtp.wait(1, timeout=0.5) == []
    from admin.extensions import db
    from admin.models import PasswordResetToken

    with app.app_context():
        user_id = app.appbuilder.sm.find_user(username=no_mail).id
        tokens = select(func.count(PasswordResetToken.id)).where(
            PasswordResetToken.user_id == user_id
        )
        assert db.session.scalar(tokens) == 0
        db.session.remove()
    requests = [r for r in audit_rows(app, action="reset_requested") if r.address == "127.0.0.1"]
    assert requests and not any(r.changes["mailed"] for r in requests[-3:])


def test_an_expired_link_is_refused(app, smtp) -> None:
    from admin.extensions import db
    from admin.models import PasswordResetToken
    from admin.security.password_reset import wait_for_mail

    username = new_user(app, email=f"{unique('mail')}@school.example.cn")
    client = en_client(app)
    _forgot(client, username)
    wait_for_mail()
    [message] = smtp.wait(1)
    path = _link(message)
    with app.app_context():
        user_id = app.appbuilder.sm.find_user(username=username).id
        db.session.execute(
            update(PasswordResetToken)
            .where(PasswordResetToken.user_id == user_id)
            .values(expires_at=PasswordResetToken.created_at - timedelta(minutes=1))
        )
        db.session.commit()
        db.session.remove()
    page = client.get(path)
    assert page.status_code == 404 and INVALID_LINK in flashed(page)
    response = client.post(
        path,
        data={
            "password": NEW_PASSWORD,
            "conf_password": NEW_PASSWORD,
            "csrf_token": csrf_token_from(client.get("/login/")),
        },
    )
    assert response.status_code == 404
    assert "/login" not in login_via_form(app.test_client(), username, PASSWORD).headers["Location"]


def test_only_the_token_hash_is_stored_and_it_expires_in_30_minutes(app, smtp) -> None:
    import hashlib

    from admin.extensions import db
    from admin.models import PasswordResetToken
    from admin.security.password_reset import wait_for_mail

    username = new_user(app, email=f"{unique('mail')}@school.example.cn")
    _forgot(en_client(app), username)
    wait_for_mail()
    token = _link(smtp.wait(1)[0]).rsplit("/", 1)[1]
    assert len(token) >= 43  # token_urlsafe(32)
    with app.app_context():
        user_id = app.appbuilder.sm.find_user(username=username).id
        row = db.session.scalars(
            select(PasswordResetToken).where(PasswordResetToken.user_id == user_id)
        ).one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert row.expires_at - row.created_at == timedelta(minutes=30)
        db.session.remove()


def test_wrong_captcha_sends_nothing(app, smtp) -> None:
    from admin.security.password_reset import wait_for_mail

    username = new_user(app, email=f"{unique('mail')}@school.example.cn")
    client = en_client(app)
    _response, text = _forgot(client, username, captcha="WRONG")
    assert "verification code was wrong" in text
    wait_for_mail()
    assert smtp.wait(1, timeout=0.3) == []


def test_without_smtp_the_page_says_reset_is_unavailable(app) -> None:
    client = en_client(app)
    page = client.get("/forgot-password/")
    assert page.status_code == 200
    text = flashed(page)
    assert "Password reset by e-mail is not available" in text
    assert 'name="login"' not in page.get_data(as_text=True)
    # A POST changes nothing and says the same.
    response = client.post(
        "/forgot-password/",
        data={"login": "admin", "csrf_token": csrf_token_from(client.get("/login/"))},
    )
    assert "Password reset by e-mail is not available" in flashed(response)


def test_a_bad_token_is_refused(app) -> None:
    page = en_client(app).get("/reset-password/not-a-real-token")
    assert page.status_code == 404 and INVALID_LINK in flashed(page)
