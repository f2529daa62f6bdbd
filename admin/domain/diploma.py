"""Electronic diplomas (电子毕业证书): the number, the signed payload, and its verification.

The number (DOMAIN §7 design note; no national K-12 standard exists):
    school 标识码 (10) + graduation year (4) + stage (1: 1 primary, 2 junior, 3 senior)
    + serial within school, year and stage (5) + ISO 7064 MOD 11-2 check character (1)
= 21 characters, e.g. ``3101010001 2027 2 00042 X`` without the spaces.

The payload is canonical JSON (sorted keys, no whitespace, UTF-8) so the same diploma always
signs to the same bytes; the signature is Ed25519 over those bytes, and the key id (the first
16 hex digits of SHA-256 of the raw public key) says which key signed it, so keys can rotate.
Nothing here touches files or the database: keys come in as objects."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

STAGE_DIGIT: Final[dict[str, str]] = {"primary": "1", "junior": "2", "senior": "3"}
NUMBER_LENGTH: Final = 21
PAYLOAD_VERSION: Final = 1
CHECK_CHARS: Final = "10X98765432"
# Outcomes that earn a certificate: 1 毕业 → 毕业证书, 2 结业 → 结业证书; 3 肄业 gets none.
CERTIFICATE_OUTCOMES: Final = frozenset({"1", "2"})


def mod11_2(body: str) -> str:
    """ISO 7064 MOD 11-2 check character of a digit string of any length (the GB 11643 check
    character is the 17-digit case)."""
    if not body or not body.isascii() or not body.isdigit():
        raise ValueError(f"need ASCII digits, got {body!r}")
    n = len(body)
    total = sum(int(d) * pow(2, n - i, 11) for i, d in enumerate(body))
    return CHECK_CHARS[total % 11]


def diploma_number(school_code: str, year: int, stage: str, serial: int) -> str:
    """The diploma number of the ``serial``-th certificate of a school, year and stage."""
    if len(school_code) != 10 or not school_code.isdigit():
        raise ValueError(f"school code must be 10 digits, got {school_code!r}")
    if stage not in STAGE_DIGIT:
        raise ValueError(f"unknown stage {stage!r}")
    if not 1000 <= year <= 9999 or not 1 <= serial <= 99999:
        raise ValueError(f"year {year} or serial {serial} out of range")
    body = f"{school_code}{year:04d}{STAGE_DIGIT[stage]}{serial:05d}"
    return body + mod11_2(body)


def is_valid_number(number: str) -> bool:
    """Well formed: 21 characters, digits, a known stage digit and the right check character.
    The public verification page answers "not found" for anything else without a query."""
    if len(number) != NUMBER_LENGTH:
        return False
    body, check = number[:-1], number[-1]
    if not body.isascii() or not body.isdigit() or body[14] not in STAGE_DIGIT.values():
        return False
    return mod11_2(body) == check


def serial_of(number: str) -> int:
    return int(number[15:20])


@dataclass(frozen=True)
class Payload:
    """What the diploma certifies. The full name is inside (the certificate is the student's
    own document); the public page shows it masked."""

    number: str
    student_number: str
    name: str
    sex: str
    birth_date: str  # ISO date
    school_code: str
    school_name: str
    stage: str
    outcome: str
    graduated_on: str  # ISO date
    issued_on: str  # ISO date
    key_id: str
    version: int = PAYLOAD_VERSION

    def canonical(self) -> bytes:
        return canonical_json(asdict(self))

    @classmethod
    def from_json(cls, raw: bytes | str) -> Payload:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("payload is not a JSON object")
        fields = set(cls.__dataclass_fields__)
        if set(data) != fields:
            raise ValueError("payload fields differ from a diploma's")
        return cls(**data)


def canonical_json(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(payload_bytes: bytes, private_key: Ed25519PrivateKey) -> str:
    """The signature as URL-safe base64 without padding (it travels in the QR code's URL)."""
    return base64.urlsafe_b64encode(private_key.sign(payload_bytes)).rstrip(b"=").decode("ascii")


def decode_signature(signature: str) -> bytes | None:
    text = signature.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 64:
        return None
    # Base64 has spare bits in its last character: accept only the canonical spelling, so one
    # signature has exactly one text form (a changed character is always a different text).
    canonical = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    return raw if canonical == text else None


def verify(payload_bytes: bytes, signature: str, public_key: Ed25519PublicKey) -> bool:
    """True only when ``signature`` is this key's Ed25519 signature of exactly these bytes."""
    raw = decode_signature(signature)
    if raw is None:
        return False
    try:
        public_key.verify(raw, payload_bytes)
    except InvalidSignature:
        return False
    return True
