"""Electronic diplomas on the database and on disk: the signing keys (a folder outside the
database, XUEJI_DIPLOMA_KEY_DIR), issuing certificates for approved graduations, revoking
them, the public verification, the PDF certificate with its QR code, and the offline check of
a downloaded certificate.  Number and signature rules: admin/domain/diploma.py.

Keys: ``<key id>.key`` (PKCS#8 PEM, mode 0600) and ``<key id>.pub`` per key, and ``ACTIVE``
naming the key that signs new certificates. Rotating writes a new pair and moves ``ACTIVE``;
old public keys stay so every certificate ever issued still verifies.

The caller commits."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..audit import set_audit_reason
from ..domain import diploma as rules
from ..domain.messages import RuleError, Violation
from ..models import Diploma, Graduation, School, SchoolYear
from ..models.students import utcnow
from ..security.masking import mask_value
from ..security.scope import Scope, school_in_scope
from .pdf import cjk_font

FIELD = "diploma"
DOCUMENT_FORMAT = "xueji-diploma/1"
ATTACHMENT_NAME = "xueji-diploma.json"
REVOKING_ROLES = frozenset({"BureauOfficer", "Admin"})


# --- keys ---------------------------------------------------------------------------------


class KeyRing:
    """The signing keys in one folder."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> KeyRing:
        return cls(str(config["XUEJI_DIPLOMA_KEY_DIR"]))

    def key_ids(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.pub"))

    def active_id(self) -> str | None:
        try:
            kid = (self.folder / "ACTIVE").read_text().strip()
        except OSError:
            return None
        return kid if (self.folder / f"{kid}.key").is_file() else None

    def create(self) -> str:
        """A new key pair, made the active one."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        private = Ed25519PrivateKey.generate()
        kid = rules.key_id(private.public_key())
        key_path = self.folder / f"{kid}.key"
        # Created 0600 from the start: the private key is never readable by others.
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        (self.folder / f"{kid}.pub").write_bytes(
            private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        )
        tmp = self.folder / "ACTIVE.tmp"
        tmp.write_text(kid + "\n")
        tmp.replace(self.folder / "ACTIVE")
        return kid

    def ensure(self) -> tuple[str, bool]:
        """The active key id, creating the first key when there is none (``xueji init``)."""
        kid = self.active_id()
        if kid is not None:
            return kid, False
        return self.create(), True

    def signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        kid = self.active_id()
        if kid is None:
            raise RuleError([Violation("diploma.no_key", FIELD, {"folder": str(self.folder)})])
        key = load_pem_private_key((self.folder / f"{kid}.key").read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise RuleError([Violation("diploma.no_key", FIELD, {"folder": str(self.folder)})])
        return kid, key

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        if not kid.isalnum():
            return None
        try:
            key = load_pem_public_key((self.folder / f"{kid}.pub").read_bytes())
        except (OSError, ValueError):
            return None
        return key if isinstance(key, Ed25519PublicKey) else None


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    key = load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


# --- issuing and revoking -----------------------------------------------------------------


def live_diploma(graduation: Graduation) -> Diploma | None:
    return next((d for d in graduation.diplomas if d.revoked_at is None), None)


def issuable(session: Session, scope: Scope, school: School, year_code: str) -> list[Graduation]:
    """Approved graduations of the school and year that earn a certificate and have none."""
    if not school_in_scope(session, scope, school.id):
        raise RuleError([Violation("graduation.school_scope", "school", {})])
    rows = session.scalars(
        select(Graduation)
        .join(SchoolYear, SchoolYear.id == Graduation.school_year_id)
        .where(
            Graduation.school_id == school.id,
            SchoolYear.code == year_code,
            Graduation.state == "approved",
            Graduation.outcome.in_(tuple(rules.CERTIFICATE_OUTCOMES)),
        )
        .order_by(Graduation.grade_code, Graduation.id)
    ).all()
    return [g for g in rows if live_diploma(g) is None]


def issue(
    session: Session,
    scope: Scope,
    graduations: Sequence[Graduation],
    *,
    keyring: KeyRing,
    username: str,
    today: date,
    now: datetime | None = None,
) -> list[Diploma]:
    """Sign and record one certificate per graduation: all, or none with every reason."""
    problems: list[Violation] = []
    for grad in graduations:
        number = grad.student.student_number
        if not school_in_scope(session, scope, grad.school_id):
            problems.append(Violation("graduation.school_scope", "school", {}))
        elif grad.state != "approved":
            problems.append(Violation("diploma.not_approved", FIELD, {"student_number": number}))
        elif grad.outcome not in rules.CERTIFICATE_OUTCOMES:
            problems.append(Violation("diploma.no_certificate", FIELD, {"student_number": number}))
        elif live_diploma(grad) is not None:
            problems.append(
                Violation(
                    "diploma.already_issued",
                    FIELD,
                    {"student_number": number, "number": live_diploma(grad).number},  # type: ignore[union-attr]
                )
            )
    if problems or not graduations:
        raise RuleError(problems or [Violation("required", "student_number", {})])
    kid, private = keyring.signing_key()
    made: list[Diploma] = []
    next_serial: dict[tuple[int, int, str], int] = {}
    for grad in graduations:
        year = grad.graduated_on.year
        slot = (grad.school_id, year, grad.stage)
        if slot not in next_serial:
            top = session.scalar(
                select(func.max(Diploma.serial)).where(
                    Diploma.school_id == grad.school_id,
                    Diploma.year == year,
                    Diploma.stage == grad.stage,
                )
            )
            next_serial[slot] = (top or 0) + 1
        serial = next_serial[slot]
        next_serial[slot] = serial + 1
        if serial > 99999:
            raise RuleError([Violation("diploma.serial_exhausted", FIELD, {"year": year})])
        school: School = grad.school
        student = grad.student
        number = rules.diploma_number(school.code, year, grad.stage, serial)
        payload = rules.Payload(
            number=number,
            student_number=student.student_number,
            name=student.name,
            sex=student.sex,
            birth_date=student.birth_date.isoformat(),
            school_code=school.code,
            school_name=school.name,
            stage=grad.stage,
            outcome=grad.outcome,
            graduated_on=grad.graduated_on.isoformat(),
            issued_on=today.isoformat(),
            key_id=kid,
        )
        raw = payload.canonical()
        row = Diploma(
            number=number,
            graduation=grad,
            student_id=student.id,
            school_id=school.id,
            year=year,
            stage=grad.stage,
            serial=serial,
            payload=raw.decode("utf-8"),
            signature=rules.sign(raw, private),
            key_id=kid,
            issued_by=username,
            issued_at=now or utcnow(),
        )
        session.add(row)
        made.append(row)
    session.flush()
    return made


def revoke(session: Session, scope: Scope, diploma: Diploma, *, reason: str, username: str) -> None:
    """A bureau (or the administrator) withdraws a certificate, with the reason; the public
    page then answers "revoked". A corrected certificate is a new issue."""
    if scope.role not in REVOKING_ROLES or not school_in_scope(session, scope, diploma.school_id):
        raise RuleError([Violation("diploma.revoke_bureau_only", FIELD, {})])
    if diploma.revoked_at is not None:
        raise RuleError([Violation("diploma.already_revoked", FIELD, {"number": diploma.number})])
    if not reason.strip():
        raise RuleError([Violation("required", "revoke_reason", {})])
    set_audit_reason(session, reason.strip())
    diploma.revoked_at = utcnow()
    diploma.revoked_by = username
    diploma.revoke_reason = reason.strip()
    session.flush()


# --- verification -------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """What anyone may learn about a certificate number: nothing unless it exists and its
    signature holds; then the masked name, school, stage, year and whether it stands."""

    status: str  # valid | revoked | invalid | not_found
    number: str
    masked_name: str = ""
    school_name: str = ""
    stage: str = ""
    outcome: str = ""
    year: int | None = None
    revoked_on: date | None = None


NOT_FOUND = "not_found"


def check(
    session: Session, number: str, keyring: KeyRing, signature: str | None = None
) -> Verification:
    """The public check of ``number`` (and, from a QR code, the signature printed with it)."""
    number = number.strip().upper()
    if not rules.is_valid_number(number):
        return Verification(NOT_FOUND, number)
    row = session.scalars(select(Diploma).where(Diploma.number == number)).first()
    if row is None:
        return Verification(NOT_FOUND, number)
    public = keyring.public_key(row.key_id)
    raw = row.payload.encode("utf-8")
    try:
        payload = rules.Payload.from_json(raw)
    except (ValueError, TypeError):
        return Verification("invalid", number)
    genuine = (
        public is not None
        and rules.verify(raw, row.signature, public)
        and payload.number == number
        and payload.key_id == row.key_id
        and (signature is None or signature.strip() == row.signature)
    )
    if not genuine:
        return Verification("invalid", number)
    return Verification(
        "revoked" if row.revoked_at is not None else "valid",
        number,
        masked_name=str(mask_value("name", payload.name)),
        school_name=payload.school_name,
        stage=payload.stage,
        outcome=payload.outcome,
        year=row.year,
        revoked_on=row.revoked_at.date() if row.revoked_at else None,
    )


def verify_url(base_url: str, diploma: Diploma) -> str:
    return f"{base_url.rstrip('/')}/verify/{diploma.number}?s={diploma.signature}"


# --- the certificate document -------------------------------------------------------------


def document_json(diploma: Diploma) -> bytes:
    """The signed certificate as a small JSON file (also attached inside the PDF)."""
    return json.dumps(
        {
            "format": DOCUMENT_FORMAT,
            "payload": diploma.payload,
            "signature": diploma.signature,
            "key_id": diploma.key_id,
        },
        ensure_ascii=False,
        indent=1,
    ).encode("utf-8")


@dataclass(frozen=True)
class OfflineResult:
    ok: bool
    reason: str  # valid | not_a_certificate | unknown_key | bad_signature
    payload: rules.Payload | None = None
    key_id: str = ""


def _document_from(data: bytes) -> Mapping[str, object] | None:
    if data.startswith(b"%PDF"):
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            attachments = PdfReader(io.BytesIO(data)).attachments
        except (PdfReadError, ValueError, KeyError, OSError):
            return None
        blobs = attachments.get(ATTACHMENT_NAME) or []
        if not blobs:
            return None
        data = blobs[0]
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("format") != DOCUMENT_FORMAT:
        return None
    return document


def verify_document(
    data: bytes,
    *,
    keyring: KeyRing | None = None,
    public_key: Ed25519PublicKey | None = None,
) -> OfflineResult:
    """Check a downloaded certificate (PDF or JSON) without the database: the signature over
    the exact payload bytes, with the given public key or the key ring's key of that id."""
    document = _document_from(data)
    if document is None:
        return OfflineResult(False, "not_a_certificate")
    payload_text, signature, kid = (
        document.get("payload"),
        document.get("signature"),
        document.get("key_id"),
    )
    if not all(isinstance(v, str) for v in (payload_text, signature, kid)):
        return OfflineResult(False, "not_a_certificate")
    assert isinstance(payload_text, str) and isinstance(signature, str) and isinstance(kid, str)
    key = public_key
    if key is None and keyring is not None:
        key = keyring.public_key(kid)
    if key is None:
        return OfflineResult(False, "unknown_key", key_id=kid)
    raw = payload_text.encode("utf-8")
    if not rules.verify(raw, signature, key):
        return OfflineResult(False, "bad_signature", key_id=kid)
    try:
        payload = rules.Payload.from_json(raw)
    except (ValueError, TypeError):
        return OfflineResult(False, "not_a_certificate", key_id=kid)
    if payload.key_id != kid:
        return OfflineResult(False, "bad_signature", key_id=kid)
    return OfflineResult(True, "valid", payload, kid)


# --- PDF ----------------------------------------------------------------------------------

STAGE_ZH = {"primary": "小学", "junior": "初级中学", "senior": "高级中学"}
TITLE_ZH = {"1": "毕业证书", "2": "结业证书"}
VERDICT_ZH = {"1": "准予毕业", "2": "准予结业"}
SEX_ZH = {"1": "男", "2": "女"}


def _zh_date(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


def render_pdf(diploma: Diploma, verification_url: str) -> bytes:
    """The certificate: A4 landscape, Chinese text, a QR code carrying the verification URL
    and the signature, and the signed document attached (for ``xueji diploma verify``)."""
    import qrcode
    from pypdf import PdfReader, PdfWriter
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    font = cjk_font(FIELD)
    p = rules.Payload.from_json(diploma.payload)
    width, height = landscape(A4)
    out = io.BytesIO()
    pdf = Canvas(out, pagesize=(width, height))
    pdf.setTitle(f"{TITLE_ZH.get(p.outcome, '证书')} {p.number}")
    pdf.setAuthor(p.school_name)
    pdf.setCreator("XueJi 学籍")
    red = colors.HexColor("#9b1b1b")
    pdf.setStrokeColor(red)
    pdf.setLineWidth(3)
    pdf.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    pdf.setLineWidth(0.8)
    pdf.rect(16 * mm, 16 * mm, width - 32 * mm, height - 32 * mm)
    pdf.setFillColor(red)
    pdf.setFont(font, 40)
    pdf.drawCentredString(width / 2, height - 52 * mm, TITLE_ZH.get(p.outcome, "证书"))
    pdf.setFillColor(colors.black)
    pdf.setFont(font, 17)
    sentence = (
        f"学生 {p.name}，性别 {SEX_ZH.get(p.sex, '')}，{_zh_date(p.birth_date)}出生，"
        f"在本校{STAGE_ZH.get(p.stage, '')}学习期满，"
    )
    pdf.drawString(36 * mm, height - 82 * mm, sentence)
    closing = "修完规定课程，成绩合格，" if p.outcome == "1" else "学习期满，"
    pdf.drawString(36 * mm, height - 94 * mm, f"{closing}{VERDICT_ZH.get(p.outcome, '')}。")
    pdf.setFont(font, 12)
    pdf.drawString(36 * mm, height - 116 * mm, f"学籍号：{p.student_number}")
    pdf.drawString(36 * mm, height - 124 * mm, f"证书编号：{p.number}")
    pdf.drawString(36 * mm, height - 132 * mm, f"毕业日期：{_zh_date(p.graduated_on)}")
    pdf.setFont(font, 16)
    pdf.drawRightString(width - 80 * mm, 52 * mm, p.school_name)
    pdf.setFont(font, 12)
    pdf.drawRightString(width - 80 * mm, 44 * mm, f"发证日期：{_zh_date(p.issued_on)}")
    pdf.setFont(font, 8)
    pdf.setFillColor(colors.HexColor("#555555"))
    pdf.drawString(
        22 * mm,
        22 * mm,
        f"电子签名 Ed25519 · 密钥 {p.key_id} · 扫描右下角二维码或访问验证页面核验真伪",
    )
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=4, border=1)
    qr.add_data(verification_url)
    qr.make(fit=True)
    image = qr.make_image(fill_color="black", back_color="white").get_image()
    side = 42 * mm
    pdf.drawImage(ImageReader(image), width - 22 * mm - side, 22 * mm, side, side)
    pdf.setFont(font, 9)
    pdf.drawCentredString(width - 22 * mm - side / 2, 18 * mm, "扫码验证")
    pdf.showPage()
    pdf.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(out.getvalue())))
    writer.add_attachment(ATTACHMENT_NAME, document_json(diploma))
    final = io.BytesIO()
    writer.write(final)
    return final.getvalue()


def download_name(diploma: Diploma) -> str:
    return f"diploma-{diploma.number}.pdf"
