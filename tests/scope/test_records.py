"""REST details and optimistic locking as a clerk meets them."""

from __future__ import annotations

import re

from admin.extensions import db
from admin.models import Student
from tests.scope.conftest import jwt, login


def test_region_by_code(world):
    """Regression: GET /api/v1/region/<code> compared a varchar to an integer on PostgreSQL
    (FAB routes /<int:pk>) and answered 500."""
    client = world.app.test_client()
    response = client.get("/api/v1/region/640104", headers=jwt(client, "registrar"))
    assert response.status_code == 200
    assert response.json["result"]["name"] == "兴庆区"


def test_openapi_lists_the_resources(world):
    client = world.app.test_client()
    spec = client.get("/api/v1/_openapi", headers=jwt(client, "admin")).json
    resources = ("student", "guardian", "enrollment", "school", "school_class", "region")
    for resource in (*resources, "status_change", "diploma"):
        assert f"/api/v1/{resource}/" in spec["paths"], resource


def test_bad_field_gets_422_naming_it_in_the_users_language(world):
    client = world.app.test_client()
    headers = jwt(client, "registrar")
    version = client.get(f"/api/v1/student/{world.student_a}/version", headers=headers).json[
        "version"
    ]
    zh = client.put(
        f"/api/v1/student/{world.student_a}",
        headers=headers,
        json={"phone": "12345", "version": version},
    )
    assert zh.status_code == 422
    assert zh.json["errors"][0]["field"] == "phone"
    assert "联系电话" in zh.json["message"][0]
    en = client.put(
        f"/api/v1/student/{world.student_a}?_l_=en",
        headers=headers,
        json={"phone": "12345", "version": version},
    )
    assert en.status_code == 422 and "Phone" in en.json["message"][0]
    with world.app.app_context():
        assert db.session.get(Student, world.student_a).phone != "12345"


def test_stale_api_write_is_refused_with_who_and_when(world):
    client = world.app.test_client()
    headers = jwt(client, "registrar")
    url = f"/api/v1/student/{world.student_a}"
    version = client.get(f"{url}/version", headers=headers).json["version"]
    first = client.put(url, headers=headers, json={"email": "first@example.cn", "version": version})
    assert first.status_code == 200, first.get_data(as_text=True)
    stale = client.put(
        url, headers=headers, json={"email": "second@example.cn", "version": version}
    )
    assert stale.status_code == 409
    assert (
        "registrar" in stale.json["message"]
        or "reload" in stale.json["message"]
        or "重新" in stale.json["message"]
    )
    missing = client.put(url, headers=headers, json={"email": "third@example.cn"})
    assert missing.status_code == 428
    with world.app.app_context():
        assert db.session.get(Student, world.student_a).email == "first@example.cn"


def _edit_form(client, student_id: int) -> dict[str, str]:
    html = client.get(f"/studentview/edit/{student_id}").get_data(as_text=True)
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name is None or ('type="checkbox"' in tag and "checked" not in tag):
            continue
        fields[name.group(1)] = value.group(1) if value else ""
    selects = re.findall(r'<select[^>]*name="([^"]+)".*?</select>', html, re.S)
    for name in selects:
        block = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)
        chosen = re.search(
            r'<option selected[^>]*value="([^"]*)"|<option[^>]*value="([^"]*)"'
            r"[^>]*selected",
            block,
        )
        if chosen:
            fields[name] = chosen.group(1) or chosen.group(2)
    return fields


def test_stale_form_save_is_refused_not_overwritten(world):
    alice, bob = world.app.test_client(), world.app.test_client()
    login(alice, world.users["registrar"])
    login(bob, world.users["registrar"])
    form_a = _edit_form(alice, world.student_a)
    form_b = _edit_form(bob, world.student_a)
    assert form_a.get("row_version") and form_a["row_version"] == form_b["row_version"]
    form_a["current_address"] = "宁夏回族自治区银川市兴庆区A路1号"
    saved = alice.post(f"/studentview/edit/{world.student_a}", data=form_a, follow_redirects=True)
    assert saved.status_code == 200
    form_b["current_address"] = "宁夏回族自治区银川市兴庆区B路2号"
    stale = bob.post(f"/studentview/edit/{world.student_a}", data=form_b, follow_redirects=True)
    text = stale.get_data(as_text=True)
    assert "registrar" in text  # "changed by registrar at … — reload"
    with world.app.app_context():
        student = db.session.get(Student, world.student_a)
        assert student.current_address.endswith("A路1号")
        # An unticked 是/否 box saves as 否 (FAB would otherwise demand it ticked).
        assert student.only_child == ("only_child" in form_a)
