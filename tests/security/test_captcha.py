"""The login captcha: a local image whose answer the client cannot read, checked once."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import CAPTCHA_TEST_ANSWER, csrf_token_from, login_via_form, solve_captcha
from tests.security.conftest import PASSWORD, audit_actions, en_client, flashed, new_user

WRONG_CODE = "The verification code was wrong or has expired"


def _fail_count(app, username: str) -> int:
    from admin.extensions import db

    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        count = user.fail_login_count or 0
        db.session.remove()
    return count


def test_image_is_png_uncached_and_session_holds_no_answer(app) -> None:
    client = en_client(app)
    solve_captcha(client, "Q8WZ")
    response = client.get("/captcha.png")  # a second, unpatched challenge replaces the first
    assert response.headers["Cache-Control"].startswith("no-store")
    assert response.data[:8] == b"\x89PNG\r\n\x1a\n"
    cookie = client.get_cookie("session")
    assert cookie is not None
    data = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    challenge = data["_xueji_captcha"]
    assert set(challenge) == {"n", "h", "e"}  # nonce, HMAC, expiry: no answer
    solve_captcha(client, "Q8WZ")
    data = app.session_interface.get_signing_serializer(app).loads(
        client.get_cookie("session").value
    )
    assert "Q8WZ" not in repr(data).upper()


def test_answers_use_an_unambiguous_alphabet() -> None:
    from admin.security.captcha import ALPHABET, generate_answer

    assert not set("01OIL") & set(ALPHABET)
    answers = {generate_answer() for _ in range(200)}
    assert {len(a) for a in answers} == {4, 5}
    assert all(set(a) <= set(ALPHABET) for a in answers)


def test_right_answer_any_case_and_right_password_signs_in(app) -> None:
    username = new_user(app)
    client = en_client(app)
    response = login_via_form(
        client, username, PASSWORD, captcha=f" {CAPTCHA_TEST_ANSWER.lower()} "
    )
    assert response.status_code == 302
    assert "/login" not in response.headers["Location"]
    assert client.get("/users/userinfo/").status_code == 200
    assert audit_actions(app, username) == ["login"]


def test_wrong_or_missing_answer_refuses_and_writes_nothing(app) -> None:
    username = new_user(app)
    client = en_client(app)
    for typed in ("ZZZZ", ""):
        response = login_via_form(client, username, PASSWORD, captcha=typed)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        assert WRONG_CODE in flashed(client.get(response.headers["Location"]))
    # No image fetched at all: nothing in the session to compare with.
    page = client.get("/login/")
    response = client.post(
        "/login/",
        data={
            "username": username,
            "password": PASSWORD,
            "captcha": CAPTCHA_TEST_ANSWER,
            "csrf_token": csrf_token_from(page),
        },
    )
    assert "/login" in response.headers["Location"]
    assert client.get("/users/userinfo/").status_code != 200
    # The password was never checked: no counter, no audit row, no lockout progress.
    assert _fail_count(app, username) == 0
    assert audit_actions(app, username) == []
    for _ in range(5):
        login_via_form(client, username, "wrong-but-unchecked", captcha="ZZZZ")
    assert login_via_form(client, username, PASSWORD).headers["Location"].endswith("/")


def test_an_answer_works_once(app) -> None:
    username = new_user(app)
    client = en_client(app)
    # A wrong password consumes the challenge; typing the same answer again fails on the code.
    response = login_via_form(client, username, "not-the-password")
    assert "/login" in response.headers["Location"]
    page = client.get("/login/")
    data = {
        "username": username,
        "password": PASSWORD,
        "captcha": CAPTCHA_TEST_ANSWER,
        "csrf_token": csrf_token_from(page),
    }
    response = client.post("/login/", data=data)
    assert WRONG_CODE in flashed(client.get(response.headers["Location"]))


def test_replayed_session_cookie_does_not_reuse_a_challenge(app) -> None:
    """The session is a client-side cookie: an attacker could keep the cookie of a solved
    challenge and send it again. The nonce is claimed in Redis, so the second use fails."""
    username = new_user(app)
    attacker = en_client(app)
    page = attacker.get("/login/")
    token = csrf_token_from(page)
    solve_captcha(attacker)
    saved = attacker.get_cookie("session").value
    data = {
        "username": username,
        "password": "guess-1",
        "captcha": CAPTCHA_TEST_ANSWER,
        "csrf_token": token,
    }
    attacker.post("/login/", data=data)
    attacker.set_cookie("session", saved)
    response = attacker.post("/login/", data={**data, "password": PASSWORD})
    assert WRONG_CODE in flashed(attacker.get(response.headers["Location"]))
    assert audit_actions(app, username) == ["login_failed"]


def test_captcha_can_be_switched_off(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "XUEJI_CAPTCHA_ENABLED", False)
    username = new_user(app)
    client = en_client(app)
    page = client.get("/login/")
    assert "captcha.png" not in page.get_data(as_text=True)
    response = client.post(
        "/login/",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_token_from(page)},
    )
    assert response.status_code == 302 and "/login" not in response.headers["Location"]


def test_login_page_links_the_forgotten_password_page(app) -> None:
    html = app.test_client().get("/login/").get_data(as_text=True)
    assert "/forgot-password/" in html and "/captcha.png" in html


def test_no_user_rows_changed_by_the_captcha_page(app) -> None:
    from admin.extensions import db
    from admin.models import AuditLog

    with app.app_context():
        before = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))
        db.session.remove()
    client = en_client(app)
    for _ in range(3):
        client.get("/captcha.png")
    with app.app_context():
        after = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))
        db.session.remove()
    assert before == after
