"""Role × endpoint matrix, generated from the registered screens and REST APIs: every
endpoint, every role, every verb → allowed or denied as the policy below says.

The policy is written here independently of admin/security/roles.py: it is the contract
(ARCHITECTURE.md roles; statistics-only roles never reach a personal record)."""

from __future__ import annotations

import pytest

from admin.base_views import ScopedModelRestApi, ScopedModelView
from tests.scope.conftest import jwt, login

R, W, D = "read", "write", "delete"
EVERYTHING = "all"
POLICY: dict[str, dict[str, set[str]] | str] = {
    "admin": EVERYTHING,
    "officer": {
        "Student": {R},
        "Guardian": {R},
        "Enrollment": {R},
        "School": {R, W},
        "SchoolClass": {R},
        "SchoolYear": {R},
        "Region": {R},
        "AuditLog": {R},
        "StudentFile": {R},
        # bureau steps of 学籍异动, 学籍号核验 and 升级 for the region
        "StatusChange": {R, W},
        "NumberCheck": {R, W},
        "Promotion": {R, W},
        "Graduation": {R, W},
        "Diploma": {R, W},  # revokes
        "InfoChange": {R, W},  # decides key-field corrections
    },
    "analyst": {"School": {R}, "SchoolYear": {R}, "Region": {R}},
    "leader_view": {"School": {R}, "SchoolYear": {R}, "Region": {R}},
    "registrar": {
        "Student": {R, W},
        "Guardian": {R, W, D},
        "Enrollment": {R, W},
        "School": {R},
        "SchoolClass": {R, W},
        "SchoolYear": {R},
        "Region": {R},
        "StudentFile": {R, W},
        "StatusChange": {R, W},  # files requests
        "Graduation": {R, W},
        "Diploma": {R, W},  # issues
        "InfoChange": {R, W},  # files corrections
    },
    "principal": {
        "Student": {R},
        "Guardian": {R},
        "Enrollment": {R},
        "School": {R},
        "SchoolClass": {R},
        "SchoolYear": {R},
        "Region": {R},
        "AuditLog": {R},
        "StudentFile": {R},
        "StatusChange": {R, W},  # the school's review step
        "Diploma": {R},
        "InfoChange": {R, W},  # reviews edits
    },
    "teacher": {
        "Student": {R},
        "Guardian": {R},
        "Enrollment": {R},
        "SchoolClass": {R},
        "SchoolYear": {R},
    },
    "parent": {"Student": {R}, "Guardian": {R}, "Enrollment": {R}, "Diploma": {R}},
}
PERSONAL = {"Student", "Guardian", "Enrollment", "AuditLog", "StudentFile"}
MISSING_PK = 987654321  # permission is checked before the row is looked up


def allowed(username: str, resource: str, action: str) -> bool:
    policy = POLICY[username]
    return policy == EVERYTHING or action in policy.get(resource, set())  # type: ignore[union-attr]


def mvc_requests(view) -> list[tuple[str, str, str]]:
    base = view.route_base
    perms = set(view.base_permissions or [])
    requests = []
    if "can_read" in perms or not perms:
        requests += [("GET", f"{base}/list/", R), ("GET", f"{base}/show/{MISSING_PK}", R)]
    if "can_write" in perms or not perms:
        requests += [("GET", f"{base}/add", W), ("GET", f"{base}/edit/{MISSING_PK}", W)]
    if "can_delete" in perms or not perms:
        requests += [("POST", f"{base}/delete/{MISSING_PK}", D)]
    return requests


def api_requests(api) -> list[tuple[str, str, str]]:
    base = f"/api/v1/{api.resource_name}"
    perms = set(api.base_permissions or [])
    routes = api.include_route_methods  # None = every FAB route
    requests = [
        ("get_list", "GET", f"{base}/", R),
        ("get", "GET", f"{base}/{MISSING_PK}", R),
        ("info", "GET", f"{base}/_info", R),
        # custom write endpoints (学籍异动)
        ("apply", "POST", f"{base}/apply", W),
        ("act", "POST", f"{base}/{MISSING_PK}/act", W),
    ]
    if not perms or "can_write" in perms:
        requests += [("post", "POST", f"{base}/", W), ("put", "PUT", f"{base}/{MISSING_PK}", W)]
    if not perms or "can_delete" in perms:
        requests += [("delete", "DELETE", f"{base}/{MISSING_PK}", D)]
    custom = {"apply", "act"}
    return [
        (method, url, action)
        for name, method, url, action in requests
        if (routes is None and name not in custom) or (routes is not None and name in routes)
    ]


def registered(world):
    views = [v for v in world.app.appbuilder.baseviews if isinstance(v, ScopedModelView)]
    apis = [v for v in world.app.appbuilder.baseviews if isinstance(v, ScopedModelRestApi)]
    return views, apis


def test_policy_never_grants_personal_data_to_statistics_roles():
    for username in ("analyst", "leader_view"):
        assert not PERSONAL & set(POLICY[username])  # type: ignore[arg-type]


def test_every_resource_is_covered(world):
    views, apis = registered(world)
    resources = {v.class_permission_name for v in views + apis}
    assert {
        "Student",
        "Guardian",
        "Enrollment",
        "School",
        "SchoolClass",
        "SchoolYear",
        "Region",
        "CodeTable",
    } <= resources
    api_names = {a.resource_name for a in apis}
    assert {"student", "guardian", "enrollment", "school", "school_class", "region"} <= api_names


@pytest.mark.parametrize("username", list(POLICY))
def test_mvc_matrix(world, username):
    views, _ = registered(world)
    app = world.app
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF is tested on its own; here: permissions
    failures = []
    try:
        client = app.test_client()
        login(client, world.users[username])
        for view in views:
            for method, url, action in mvc_requests(view):
                status = client.open(url, method=method).status_code
                expect = allowed(username, view.class_permission_name, action)
                got = status not in (401, 403)
                if expect != got:
                    failures.append(
                        f"{method} {url} ({view.class_permission_name}/{action}): "
                        f"expected {'allow' if expect else 'deny'}, got {status}"
                    )
        for url in ("/users/list/", "/roles/list/"):
            status = client.get(url).status_code
            if (status not in (401, 403)) != (POLICY[username] == EVERYTHING):
                failures.append(f"GET {url}: got {status}")
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert failures == []


@pytest.mark.parametrize("username", list(POLICY))
def test_api_matrix(world, username):
    _, apis = registered(world)
    client = world.app.test_client()
    headers = jwt(client, username)
    failures = []
    for api in apis:
        for method, url, action in api_requests(api):
            kwargs = {"json": {}} if method in ("POST", "PUT") else {}
            response = client.open(url, method=method, headers=headers, **kwargs)
            expect = allowed(username, api.class_permission_name, action)
            got = response.status_code not in (401, 403)
            if expect != got:
                failures.append(
                    f"{method} {url}: expected {'allow' if expect else 'deny'}, "
                    f"got {response.status_code}"
                )
            assert response.status_code != 500, (method, url, response.get_data(as_text=True))
            if method == "POST":
                assert response.status_code != 201, f"{username} created a row from {{}} at {url}"
    assert failures == []


def test_anonymous_is_sent_to_login_or_refused(world):
    client = world.app.test_client()
    views, apis = registered(world)
    for view in views:
        status = client.get(f"{view.route_base}/list/").status_code
        assert status in (302, 401, 403), (view.route_base, status)
    for api in apis:
        assert client.get(f"/api/v1/{api.resource_name}/").status_code == 401
