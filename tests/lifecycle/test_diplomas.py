"""Electronic diplomas end to end: issuing signed certificates for approved graduations, the
public verification page (masked, rate-limited, "not found" for unknown numbers), revocation by
the bureau, the PDF with its QR code and attached signed document, offline verification with
`xueji diploma verify`, and tampering (database, PDF, JSON) detected."""

from __future__ import annotations

import io
import json
import re
from datetime import date

import pytest
from click.testing import CliRunner
from pypdf import PdfReader, PdfWriter
from sqlalchemy import func, select, text

from admin.domain import diploma as rules
from admin.domain.messages import RuleError
from admin.extensions import db
from admin.models import AuditLog, Diploma, Graduation, School
from admin.security.scope import scope_for_user
from admin.services import diplomas as service
from admin.services.accounts import create_account
from admin.services.graduation import Decision, candidates, decide, file_graduations
from tests.lifecycle.conftest import PASSWORD
from tests.scope.conftest import jwt, login

ON = date(2027, 6, 30)
YEAR = "2026-2027"
ISSUED_ON = date(2027, 7, 2)


def _scope(username):
    from flask import current_app

    user = current_app.appbuilder.sm.find_user(username=username)
    return scope_for_user(db.session, user)


def _graduates(lc, count: int = 3) -> tuple[School, list[Graduation]]:
    """A senior high in 64 with ``count`` approved graduations (the bureau approved them), and
    accounts dip_reg (its registrar) and dip_county (its county bureau)."""
    school = db.session.scalars(
        select(School)
        .where(School.kind == "senior", School.region_code.startswith("64"))
        .order_by(School.id)
    ).first()
    create_account(
        username="dip_reg", password=PASSWORD, role="SchoolRegistrar", school=school.code
    )
    create_account(
        username="dip_county", password=PASSWORD, role="BureauOfficer", region=school.region_code
    )
    rows = [r for r in candidates(db.session, _scope("dip_reg"), school, YEAR, on=ON) if r.eligible]
    made = file_graduations(
        db.session,
        _scope("dip_reg"),
        school,
        YEAR,
        [Decision(r.student.id, "1") for r in rows[:count]],
        on=ON,
        username="dip_reg",
    )
    decide(db.session, _scope("dip_county"), made, approve=True, username="dip_county")
    db.session.commit()
    return school, made


def _ring(lc) -> service.KeyRing:
    ring = service.KeyRing.from_config(lc.app.config)
    ring.ensure()
    return ring


def test_issue_verify_revoke_reissue(lc):
    with lc.app.app_context():
        school, grads = _graduates(lc)
        scope = _scope("dip_reg")
        ring = service.KeyRing.from_config(lc.app.config)
        # No key yet: refused, nothing written.
        with pytest.raises(RuleError) as refused:
            service.issue(db.session, scope, grads, keyring=ring, username="r", today=ISSUED_ON)
        db.session.rollback()
        assert [v.code for v in refused.value.violations] == ["diploma.no_key"]
        assert db.session.scalar(select(func.count()).select_from(Diploma)) == 0
        kid, created = ring.ensure()
        assert created and (ring.folder / f"{kid}.key").stat().st_mode & 0o777 == 0o600
        assert {g.id for g in service.issuable(db.session, scope, school, YEAR)} >= {
            g.id for g in grads
        }
        made = service.issue(
            db.session, scope, grads, keyring=ring, username="dip_reg", today=ISSUED_ON
        )
        db.session.commit()
        numbers = [d.number for d in made]
        assert all(rules.is_valid_number(n) for n in numbers)
        assert [rules.serial_of(n) for n in numbers] == [1, 2, 3]
        assert all(n.startswith(f"{school.code}20273") for n in numbers)
        assert not {g.id for g in grads} & {
            g.id for g in service.issuable(db.session, scope, school, YEAR)
        }
        # Issuing twice is refused for each student, naming the existing certificate.
        with pytest.raises(RuleError) as refused:
            service.issue(db.session, scope, grads, keyring=ring, username="r", today=ISSUED_ON)
        db.session.rollback()
        assert {v.code for v in refused.value.violations} == {"diploma.already_issued"}

        first = made[0]
        check = service.check(db.session, first.number, ring)
        assert check.status == "valid" and check.year == 2027 and check.stage == "senior"
        assert (
            check.masked_name != first.student.name
            and check.masked_name[0] == first.student.name[0]
        )
        assert service.check(db.session, first.number, ring, first.signature).status == "valid"
        assert service.check(db.session, first.number, ring, "x" * 86).status == "invalid"
        wrong = rules.diploma_number(school.code, 2027, "senior", 999)
        assert service.check(db.session, wrong, ring).status == "not_found"
        assert service.check(db.session, "garbage'; --", ring).status == "not_found"

        # The school cannot revoke; the county can, with a reason; the audit log says why.
        with pytest.raises(RuleError):
            service.revoke(db.session, scope, first, reason="错", username="dip_reg")
        with pytest.raises(RuleError):
            service.revoke(db.session, _scope("dip_county"), first, reason=" ", username="c")
        service.revoke(
            db.session, _scope("dip_county"), first, reason="姓名有误，更正后重发", username="c"
        )
        db.session.commit()
        assert service.check(db.session, first.number, ring).status == "revoked"
        entry = db.session.scalars(
            select(AuditLog).where(AuditLog.table_name == "diploma").order_by(AuditLog.id.desc())
        ).first()
        assert entry.reason == "姓名有误，更正后重发"
        # A corrected certificate is a new number; the revoked one stays revoked.
        again = service.issue(
            db.session, scope, [first.graduation], keyring=ring, username="r", today=ISSUED_ON
        )
        db.session.commit()
        assert rules.serial_of(again[0].number) == 4
        assert service.check(db.session, first.number, ring).status == "revoked"

        # A forged row in the database (payload edited behind the system's back) fails.
        forged = made[1].payload.replace(made[1].student.name, "张伪造")
        db.session.execute(
            text("UPDATE diploma SET payload = :p WHERE id = :i"), {"p": forged, "i": made[1].id}
        )
        db.session.commit()
        assert service.check(db.session, made[1].number, ring).status == "invalid"

        # Key rotation: new certificates use the new key, old ones still verify.
        old_kid = made[2].key_id
        new_kid = ring.create()
        assert new_kid != old_kid and ring.active_id() == new_kid
        assert service.check(db.session, made[2].number, ring).status == "valid"


def test_pdf_and_offline_verification(lc, tmp_path):
    with lc.app.app_context():
        school, grads = _graduates(lc, count=1)
        ring = _ring(lc)
        (made,) = service.issue(
            db.session, _scope("dip_reg"), grads, keyring=ring, username="r", today=ISSUED_ON
        )
        db.session.commit()
        url = service.verify_url("https://xueji.example.cn", made)
        pdf = service.render_pdf(made, url)
        document = service.document_json(made)
        name = made.student.name
    reader = PdfReader(io.BytesIO(pdf))
    page_text = reader.pages[0].extract_text()
    assert "毕业证书" in page_text and name in page_text and made.number in page_text
    fonts = [f.get_object() for f in reader.pages[0]["/Resources"]["/Font"].values()]
    embedded = [f for f in fonts if "/FontFile2" in f.get("/FontDescriptor", {})]
    assert embedded, "the CJK font must be embedded"
    assert service.verify_document(pdf, keyring=ring).ok
    assert service.verify_document(document, keyring=ring).payload.name == name

    # One byte changed in the signed payload or the signature is detected.
    doc = json.loads(document)
    payload = doc["payload"]
    for i in range(0, len(payload), 7):
        altered = payload[:i] + chr(ord(payload[i]) ^ 1) + payload[i + 1 :]
        bad = json.dumps({**doc, "payload": altered}).encode()
        assert service.verify_document(bad, keyring=ring).reason == "bad_signature", i
    sig = doc["signature"]
    bad_sig = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    bad = json.dumps({**doc, "signature": bad_sig}).encode()
    assert service.verify_document(bad, keyring=ring).reason == "bad_signature"
    assert service.verify_document(b"%PDF-1.4 nothing", keyring=ring).reason == (
        "not_a_certificate"
    )
    assert service.verify_document(b"\x00\xff", keyring=ring).reason == "not_a_certificate"

    # A PDF whose attached document was swapped for an edited one is detected too.
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer._root_object.pop("/Names", None)  # drop the original attachment
    writer.add_attachment(
        service.ATTACHMENT_NAME,
        json.dumps({**doc, "payload": payload.replace(name, "李四")}).encode(),
    )
    forged_pdf = io.BytesIO()
    writer.write(forged_pdf)
    assert service.verify_document(forged_pdf.getvalue(), keyring=ring).reason == "bad_signature"

    # The command line: exit 0 for a genuine file, 1 for a forged one, with the public key only.
    from admin.cli import main

    (tmp_path / "d.pdf").write_bytes(pdf)
    (tmp_path / "forged.pdf").write_bytes(forged_pdf.getvalue())
    pub = ring.folder / f"{made.key_id}.pub"
    runner = CliRunner()
    env = {"XUEJI_DIPLOMA_KEY_DIR": str(tmp_path / "nokeys")}
    ok = runner.invoke(
        main, ["diploma", "verify", str(tmp_path / "d.pdf"), "--public-key", str(pub)], env=env
    )
    assert ok.exit_code == 0 and "signature valid" in ok.output and made.number in ok.output
    no_key = runner.invoke(main, ["diploma", "verify", str(tmp_path / "d.pdf")], env=env)
    assert no_key.exit_code == 1 and "--public-key" in no_key.output
    forged = runner.invoke(
        main, ["diploma", "verify", str(tmp_path / "forged.pdf"), "--public-key", str(pub)], env=env
    )
    assert forged.exit_code == 1 and "SIGNATURE INVALID" in forged.output
    missing = runner.invoke(main, ["diploma", "verify", str(tmp_path / "none.pdf")], env=env)
    assert missing.exit_code == 2 and "cannot read" in missing.output
    with_ring = runner.invoke(
        main,
        ["diploma", "verify", str(tmp_path / "d.pdf")],
        env={"XUEJI_DIPLOMA_KEY_DIR": str(ring.folder)},
    )
    assert with_ring.exit_code == 0


def _client(lc, username: str | None = None):
    lc.app.config["WTF_CSRF_ENABLED"] = False
    client = lc.app.test_client()
    if username:
        with lc.app.app_context():
            user = lc.app.appbuilder.sm.find_user(username=username)
            login(client, user.id)
    return client


def test_screens_public_page_and_api(lc):
    with lc.app.app_context():
        school, grads = _graduates(lc, count=2)
        _ring(lc)
        grad_ids = [g.id for g in grads]
        name = grads[0].student.name
        school_code = school.code
    lc.app.config["XUEJI_TODAY"] = ISSUED_ON.isoformat()
    registrar = _client(lc, "dip_reg")
    page = registrar.get(f"/diploma/issue?school={school_code}&year={YEAR}&_l_=en")
    assert page.status_code == 200 and "diploma-candidates" in page.get_data(as_text=True)
    issued = registrar.post(
        "/diploma/issue",
        data={"school": school_code, "year": YEAR, "graduation": [str(grad_ids[0])]},
    )
    assert issued.status_code == 302
    with lc.app.app_context():
        diploma = db.session.scalars(select(Diploma)).one()
        number, pk, signature = diploma.number, diploma.id, diploma.signature
    shown = registrar.get(f"/diploma/show/{pk}?_l_=en")
    assert shown.status_code == 200 and 'data-status="valid"' in shown.get_data(as_text=True)
    assert "diploma-revoke" not in shown.get_data(as_text=True)  # schools cannot revoke
    pdf = registrar.get(f"/diploma/pdf/{pk}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"].endswith(f"diploma-{number}.pdf")
    # Another school's registrar does not see it; a teacher has no diploma screens at all.
    other = _client(lc, "reg_r")
    assert other.get(f"/diploma/show/{pk}").status_code == 404
    assert other.get(f"/diploma/pdf/{pk}").status_code == 404
    assert _client(lc, "teacher_s").get(f"/diploma/pdf/{pk}").status_code in (302, 403)

    # The public page: no login, masked name, the signature from the QR code is checked.
    public = _client(lc)
    answer = public.get(f"/verify/{number}?s={signature}&_l_=en")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'data-status="valid"' in body
    assert name not in body and name[0] + "*" in body
    assert answer.headers["Cache-Control"] == "no-store"
    forged = signature[:10] + ("B" if signature[10] != "B" else "C") + signature[11:]
    tampered = public.get(f"/verify/{number}?s={forged}")
    assert 'data-status="invalid"' in tampered.get_data(as_text=True)
    unknown = public.get(f"/verify/{rules.diploma_number(school_code, 2027, 'senior', 77)}")
    assert unknown.status_code == 404 and 'data-status="not_found"' in unknown.get_data(
        as_text=True
    )
    assert public.get("/verify/abc").status_code == 404
    assert public.get(f"/verify/?number={number}").status_code == 302

    # The bureau revokes on the certificate page; the public page then says so.
    county = _client(lc, "dip_county")
    shown = county.get(f"/diploma/show/{pk}")
    assert "diploma-revoke" in shown.get_data(as_text=True)
    assert county.post(f"/diploma/revoke/{pk}", data={"reason": ""}).status_code == 302
    with lc.app.app_context():
        assert db.session.get(Diploma, pk).revoked_at is None  # no reason, no revocation
    county.post(f"/diploma/revoke/{pk}", data={"reason": "学籍信息有误"})
    answer = public.get(f"/verify/{number}")
    assert 'data-status="revoked"' in answer.get_data(as_text=True)

    # REST: list in scope, issue the second certificate, refusals name the rule.
    headers = jwt(lc.app.test_client(), "dip_reg", PASSWORD)
    api = lc.app.test_client()
    listed = api.get("/api/v1/diploma/", headers=headers)
    assert listed.status_code == 200 and [r["number"] for r in listed.json["result"]] == [number]
    made = api.post(
        "/api/v1/diploma/issue", json={"graduation_ids": [grad_ids[1]]}, headers=headers
    )
    assert made.status_code == 201 and rules.is_valid_number(made.json["numbers"][0])
    again = api.post(
        "/api/v1/diploma/issue", json={"graduation_ids": [grad_ids[1]]}, headers=headers
    )
    assert again.status_code == 422
    assert again.json["errors"][0]["code"] == "diploma.already_issued"
    assert api.post("/api/v1/diploma/issue", json={"x": 1}, headers=headers).status_code == 422
    revoke = api.post(f"/api/v1/diploma/{pk}/revoke", json={"reason": "x"}, headers=headers)
    assert revoke.status_code in (404, 422)  # already revoked, and not the school's to revoke
    other_headers = jwt(lc.app.test_client(), "reg_r", PASSWORD)
    assert api.get("/api/v1/diploma/", headers=other_headers).json["count"] == 0


def test_public_page_is_rate_limited(lc):
    lc.app.config["XUEJI_VERIFY_PER_MINUTE"] = 3
    public = _client(lc)
    codes = [public.get("/verify/31010100012027200042X").status_code for _ in range(5)]
    assert codes[:3] == [404, 404, 404]
    assert codes[3:] == [429, 429]
    limited = public.get("/verify/31010100012027200042X?_l_=en")
    assert limited.headers["Retry-After"] == "60"
    assert re.search(r'data-status="limited"', limited.get_data(as_text=True))
