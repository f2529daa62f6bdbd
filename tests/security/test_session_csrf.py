"""Session cookie flags, CSRF on every form, no cookie-authenticated writes to the APIs, and
sign-out in the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import csrf_token_from, login_via_form
from tests.security.conftest import PASSWORD, audit_actions, new_user


def _set_cookie(response, name: str) -> str:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            return header
    raise AssertionError(f"no {name} cookie set")


def test_session_cookie_is_httponly_and_lax(app) -> None:
    username = new_user(app)
    response = login_via_form(app.test_client(), username, PASSWORD)
    cookie = _set_cookie(response, "session")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP unless XUEJI_HTTPS=1


def test_https_setting_makes_cookies_secure(monkeypatch) -> None:
    from admin.config import build_config

    monkeypatch.setenv("XUEJI_HTTPS", "1")
    config = build_config()
    assert config["SESSION_COOKIE_SECURE"] is True and config["REMEMBER_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=8)
    monkeypatch.setenv("XUEJI_HTTPS", "0")
    assert build_config()["SESSION_COOKIE_SECURE"] is False


def test_lockout_settings_come_from_the_environment(monkeypatch) -> None:
    from admin.config import ConfigError, build_config

    monkeypatch.setenv("XUEJI_LOCKOUT_ATTEMPTS", "7")
    monkeypatch.setenv("XUEJI_CAPTCHA_ENABLED", "0")
    monkeypatch.setenv("XUEJI_PASSWORD_MAX_AGE_DAYS", "0")
    config = build_config()
    assert config["XUEJI_LOCKOUT_ATTEMPTS"] == 7 and config["XUEJI_LOCKOUT_MINUTES"] == 15
    assert config["XUEJI_CAPTCHA_ENABLED"] is False
    assert config["XUEJI_PASSWORD_MAX_AGE_DAYS"] == 0
    assert config["XUEJI_RESET_TOKEN_MINUTES"] == 30
    monkeypatch.setenv("XUEJI_LOCKOUT_ATTEMPTS", "many")
    with pytest.raises(ConfigError, match="XUEJI_LOCKOUT_ATTEMPTS"):
        build_config()


@pytest.mark.parametrize(
    "path",
    ["/login/", "/forgot-password/", "/users/add", "/resetmypassword/form", "/change-password/"],
)
def test_form_posts_without_a_csrf_token_are_refused(app, path) -> None:
    username = new_user(app)
    client = app.test_client()
    if path not in ("/login/", "/forgot-password/"):
        login_via_form(client, username, PASSWORD)
    response = client.post(path, data={"username": username, "password": PASSWORD})
    assert response.status_code == 400


def test_cookie_authenticated_api_writes_are_refused(app) -> None:
    username = new_user(app)
    client = app.test_client()
    login_via_form(client, username, PASSWORD)  # an Admin, signed in with a cookie
    assert client.get("/users/userinfo/").status_code == 200
    token = csrf_token_from(client.get("/resetmypassword/form"))
    for headers in ({}, {"X-CSRFToken": token}):
        response = client.post("/api/v1/student/", json={"name": "张三"}, headers=headers)
        assert response.status_code in (401, 403), response.status_code
        response = client.delete("/api/v1/student/1", headers=headers)
        assert response.status_code in (401, 403), response.status_code


def test_logout_is_audited(app) -> None:
    username = new_user(app)
    client = app.test_client()
    login_via_form(client, username, PASSWORD)
    client.get("/logout/")
    assert audit_actions(app, username)[-2:] == ["login", "logout"]
