"""The password policy (≥ 10 characters, 3 character classes, no username) on the user
screens and on password change; the user's scope set on the user screens."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import csrf_token_from, login_via_form
from tests.security.conftest import PASSWORD, flashed, new_user, unique


def _admin_client(app):
    """An Admin signed in through the form (Chinese UI, the default)."""
    admin = new_user(app, stem="admin")
    client = app.test_client()
    assert "/login" not in login_via_form(client, admin, PASSWORD).headers["Location"]
    return client, admin


def _role_id(app, name: str) -> int:
    with app.app_context():
        return int(app.appbuilder.sm.find_role(name).id)


def _add_user(client, app, username: str, password: str, **extra: str):
    page = client.get("/users/add")
    assert page.status_code == 200
    data = {
        "first_name": "Li",
        "last_name": "Lei",
        "username": username,
        "active": "y",
        "email": f"{username}@example.edu.cn",
        "roles": str(_role_id(app, "BureauOfficer")),
        "password": password,
        "conf_password": password,
        "csrf_token": csrf_token_from(page),
        **extra,
    }
    return client.post("/users/add", data=data)


def _user(app, username: str):
    from admin.extensions import db
    from admin.models import UserScope

    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        scope = db.session.get(UserScope, user.id) if user else None
        result = (
            user is not None,
            scope and (scope.region_prefix, scope.school_id, scope.password_changed_at),
        )
        db.session.remove()
    return result


def test_weak_passwords_are_refused_on_the_add_user_screen(app) -> None:
    client, _ = _admin_client(app)
    cases = {
        "Ab1!short": "密码：至少需要10个字符",
        "alllowercase1": "密码：须包含小写字母、大写字母、数字、符号中的至少3类",
    }
    for password, message in cases.items():
        username = unique("weak")
        response = _add_user(client, app, username, password)
        assert response.status_code == 200  # the form again, with the error
        assert message in flashed(response), password
        assert _user(app, username)[0] is False
    username = unique("zhang")
    response = _add_user(client, app, username, f"X-{username}-2026")
    assert "密码：不能包含用户名" in flashed(response)
    assert _user(app, username)[0] is False


def test_strong_password_and_scope_on_the_add_user_screen(app) -> None:
    client, _ = _admin_client(app)
    username = unique("officer")
    response = _add_user(client, app, username, "Quiet-River-2026", scope_region="6401")
    assert response.status_code == 302, flashed(response)
    exists, (region, school_id, changed_at) = _user(app, username)
    assert exists and region == "6401" and school_id is None and changed_at is not None
    # Both scopes at once, or an unknown region, are refused and create nothing.
    for extra in ({"scope_region": "64", "scope_school": "1234567890"}, {"scope_region": "99"}):
        name = unique("officer")
        response = _add_user(client, app, name, "Quiet-River-2026", **extra)
        assert response.status_code == 200 and _user(app, name)[0] is False


def test_scope_is_edited_on_the_edit_screen(app) -> None:
    client, _ = _admin_client(app)
    username = new_user(app, role="BureauOfficer")
    with app.app_context():
        pk = app.appbuilder.sm.find_user(username=username).id
    page = client.get(f"/users/edit/{pk}")
    assert page.status_code == 200 and 'name="scope_region"' in page.get_data(as_text=True)
    data = {
        "first_name": "Li",
        "last_name": "Lei",
        "username": username,
        "active": "y",
        "email": f"{username}@example.edu.cn",
        "roles": str(_role_id(app, "BureauOfficer")),
        "scope_region": "64",
        "scope_school": "",
        "csrf_token": csrf_token_from(page),
    }
    assert client.post(f"/users/edit/{pk}", data=data).status_code == 302
    assert _user(app, username)[1][0] == "64"
    assert 'value="64"' in client.get(f"/users/edit/{pk}").get_data(as_text=True)


def _change_form(client):
    page = client.get("/resetmypassword/form")
    assert page.status_code == 200
    return csrf_token_from(page)


def test_change_my_password_goes_through_the_policy(app) -> None:
    username = new_user(app, role="BureauOfficer")  # self-service, not an Admin
    client = app.test_client()
    login_via_form(client, username, PASSWORD)
    before = _user(app, username)[1][2]

    def change(current: str, new: str, confirm: str | None = None):
        return client.post(
            "/resetmypassword/form",
            data={
                "current_password": current,
                "password": new,
                "conf_password": new if confirm is None else confirm,
                "csrf_token": _change_form(client),
            },
        )

    response = change(PASSWORD, "short1A!")
    assert response.status_code == 200 and "至少需要10个字符" in flashed(response)
    response = change(PASSWORD, f"{username.upper()}-2026x")
    assert "不能包含用户名" in flashed(response)
    response = change(PASSWORD, PASSWORD)
    assert "不能与当前密码相同" in flashed(response)
    response = change("Not-The-Current-1", "Brand-New-Pass-77")
    assert response.status_code == 200
    assert _user(app, username)[1][2] == before  # nothing changed so far
    response = change(PASSWORD, "Brand-New-Pass-77")
    assert response.status_code == 302
    assert _user(app, username)[1][2] > before
    assert _password_change_logged(app, username)
    fresh = app.test_client()
    assert "/login" not in login_via_form(fresh, username, "Brand-New-Pass-77").headers["Location"]


def _password_change_logged(app, username: str) -> bool:
    from admin.extensions import db
    from admin.models import AuditLog

    with app.app_context():
        rows = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "password_change")
        ).all()
        found = any((r.changes or {}).get("username") == username for r in rows)
        db.session.remove()
    return found


def test_admin_setting_a_password_goes_through_the_policy(app) -> None:
    client, _ = _admin_client(app)
    target = new_user(app, role="BureauOfficer")
    with app.app_context():
        pk = app.appbuilder.sm.find_user(username=target).id
    url = f"/resetpassword/form?pk={pk}"
    page = client.get(url)
    assert page.status_code == 200
    weak = f"{target}-Abc-1"
    response = client.post(
        url, data={"password": weak, "conf_password": weak, "csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 200 and "不能包含用户名" in flashed(response)
    good = "Admin-Chose-2026!"
    response = client.post(
        url, data={"password": good, "conf_password": good, "csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 302
    assert _password_change_logged(app, target)
    fresh = app.test_client()
    assert "/login" not in login_via_form(fresh, target, good).headers["Location"]


def test_create_user_service_enforces_the_policy(app) -> None:
    import pytest

    from admin.services.accounts import AccountError, create_account

    with app.app_context(), pytest.raises(AccountError, match="至少需要10个字符"):
        create_account(username=unique("cli"), password="Ab1!", role="Admin")
