"""A SchoolRegistrar logs in, searches a student, edits the address, and sees the audit
entry — in a real browser against a real server."""

from __future__ import annotations

from tests.e2e.conftest import PASSWORD


def test_registrar_edits_an_address_and_sees_the_audit_entry(live_server, page, tmp_path):
    base = live_server["base"]
    student_id, name, number = live_server["student"]
    page.goto(base + "/login/")
    page.fill("input[name=username]", "registrar")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url

    # Search by name through the list's filter widget.
    page.goto(base + "/studentview/list/")
    page.click("a.accordion-toggle:has-text('搜索')")
    page.click("text=添加过滤条件")
    page.click(".dropdown-menu a:has-text('姓名')")
    page.fill("input[name^='_flt_'][name$='_name']", name)
    page.click("button:has-text('搜索')")
    page.wait_for_load_state("networkidle")
    assert number in page.content()
    page.screenshot(path=str(tmp_path / "search.png"))

    # Open the record and edit the current address.
    page.goto(f"{base}/studentview/edit/{student_id}")
    new_address = "宁夏回族自治区银川市兴庆区浏览器测试路88号"
    page.fill("input[name=current_address]", new_address)
    page.click("button:has-text('保存')")
    page.wait_for_load_state("networkidle")
    assert page.locator(".alert-danger").count() == 0

    page.goto(f"{base}/studentview/show/{student_id}")
    assert new_address in page.content()
    page.click("a[href='#AuditTrail']")
    trail = page.inner_text("#AuditTrail")
    assert "registrar" in trail and "current_address" in trail and new_address in trail
    page.screenshot(path=str(tmp_path / "audit.png"), full_page=True)
