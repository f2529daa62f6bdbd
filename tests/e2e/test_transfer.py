"""A cross-province transfer from application to completion through the screens, in a real
browser against a real server: the receiving registrar files it, six more units approve it
from their 待办 lists, and the student is at the new school."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import serve_lifecycle_copy, sign_in
from tests.lifecycle.conftest import PASSWORD, TODAY, lifecycle_templates  # noqa: F401


@pytest.fixture
def transfer_server(lifecycle_templates, tmp_path) -> Iterator[dict[str, object]]:  # noqa: F811
    yield from serve_lifecycle_copy(lifecycle_templates, tmp_path, "e2e-transfer")


def _sign_in(browser, base: str, username: str, **context_options):
    return sign_in(browser, base, username, PASSWORD, **context_options)


def test_cross_province_transfer_through_the_screens(transfer_server, browser, tmp_path):
    import sqlite3

    base, cast = transfer_server["base"], transfer_server["cast"]
    con = sqlite3.connect(transfer_server["db"])
    number, name = con.execute(
        "SELECT student_number, name FROM student WHERE id = ?", (cast.student,)
    ).fetchone()
    target = con.execute(
        "SELECT name FROM school_class WHERE id = ?", (cast.target_class,)
    ).fetchone()[0]
    con.close()

    # The receiving registrar finds the student (masked) and files the transfer.
    context, page = _sign_in(browser, base, "reg_r")
    page.click("a.dropdown-toggle:has-text('学籍异动')")
    page.click("a:has-text('异动申请')")
    page.select_option("#change_type", "35")
    page.fill("#q", number)
    page.click("#apply-find button[type=submit]")
    summary = page.inner_text("#apply-student")
    assert number in summary and name not in summary
    page.select_option("#to_class_id", label=target)
    page.fill("#remarks", "随父母工作调动转学")
    page.click("#apply-submit")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#request-state") == "审核中"
    request_url = page.url
    page.screenshot(path=str(tmp_path / "filed.png"), full_page=True)
    context.close()

    for unit in ("lead_r", "county_r", "prov_r", "lead_s", "county_s", "prov_s"):
        context, page = _sign_in(browser, base, unit)
        page.goto(base + "/statuschange/todo/list/")
        page.click("a[href*='/statuschange/todo/show/']")
        page.wait_for_load_state("networkidle")
        assert number in page.inner_text("#request-summary")
        page.fill("#comment", f"{unit} 同意")
        page.click("#request-actions button[value=approve]")
        page.wait_for_load_state("networkidle")
        assert "已审核通过" in page.content(), unit
        context.close()

    context, page = _sign_in(browser, base, "reg_r")
    page.goto(request_url)
    assert page.inner_text("#request-state") == "已生效"
    steps = page.inner_text("#request-steps")
    for unit in ("reg_r", "lead_r", "county_r", "prov_r", "lead_s", "county_s", "prov_s"):
        assert unit in steps
    # The student is now the receiving school's, in the chosen class.
    print((transfer_server["log"]).read_text()[-5000:])
    page.goto(f"{base}/studentview/show/{cast.student}", timeout=15000)
    assert target in page.content()
    page.screenshot(path=str(tmp_path / "done.png"), full_page=True)
    context.close()
