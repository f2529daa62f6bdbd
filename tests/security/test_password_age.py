"""Maximum password age: an expired password sends the user to a forced-change page."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import csrf_token_from, login_via_form
from tests.security.conftest import PASSWORD, en_client, flashed, new_user

NEW_PASSWORD = "Renewed-Key-2026!"


def _age_password(app, username: str, days: int) -> None:
    from admin.extensions import db
    from admin.models import UserScope
    from admin.models.students import utcnow

    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        db.session.get(UserScope, user.id).password_changed_at = utcnow() - timedelta(days=days)
        db.session.commit()
        db.session.remove()


def test_an_old_password_must_be_changed_before_anything_else(app) -> None:
    username = new_user(app, role="BureauOfficer")  # no user-admin rights needed
    _age_password(app, username, 100)
    client = en_client(app)
    response = login_via_form(client, username, PASSWORD, next_url="/studentview/list/")
    assert response.status_code == 302
    for url in ("/studentview/list/", "/", "/users/userinfo/", "/schoolview/list/"):
        page = client.get(url)
        assert page.status_code == 302, url
        assert "/change-password/" in page.headers["Location"], url
    page = client.get("/change-password/?next=/studentview/list/")
    assert page.status_code == 200
    assert "more than 90 days old" in flashed(page)
    # Language switching and static files stay reachable.
    assert client.get("/lang/zh").status_code == 302
    assert client.get("/static/appbuilder/css/ab.css").status_code in (200, 304)
    client.get("/lang/en")
    # The policy applies; then the user reaches the page they asked for.
    token = csrf_token_from(client.get("/change-password/"))
    response = client.post(
        "/change-password/?next=/studentview/list/",
        data={
            "current_password": PASSWORD,
            "password": "weak",
            "conf_password": "weak",
            "csrf_token": token,
        },
    )
    assert response.status_code == 200 and "at least 10 characters" in flashed(response)
    response = client.post(
        "/change-password/?next=/studentview/list/",
        data={
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "conf_password": NEW_PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/studentview/list/")
    assert client.get("/studentview/list/").status_code == 200
    assert client.get("/").status_code == 200


def test_logout_stays_reachable(app) -> None:
    username = new_user(app)
    _age_password(app, username, 100)
    client = en_client(app)
    login_via_form(client, username, PASSWORD)
    response = client.get("/logout/")
    assert response.status_code == 302 and "/change-password/" not in response.headers["Location"]
    assert client.get("/users/userinfo/").status_code == 302  # signed out: to the login page


def test_a_recent_password_is_left_alone(app) -> None:
    username = new_user(app)
    _age_password(app, username, 89)
    client = en_client(app)
    login_via_form(client, username, PASSWORD)
    assert client.get("/users/userinfo/").status_code == 200


def test_zero_turns_the_maximum_age_off(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "XUEJI_PASSWORD_MAX_AGE_DAYS", 0)
    username = new_user(app)
    _age_password(app, username, 1000)
    client = en_client(app)
    login_via_form(client, username, PASSWORD)
    assert client.get("/users/userinfo/").status_code == 200


def test_the_api_issues_no_token_for_an_expired_password(app) -> None:
    username = new_user(app)
    _age_password(app, username, 100)
    response = app.test_client().post(
        "/api/v1/security/login?_l_=en",
        json={"username": username, "password": PASSWORD, "provider": "db"},
    )
    assert response.status_code == 403 and "expired" in response.json["message"]
    assert "access_token" not in response.json
