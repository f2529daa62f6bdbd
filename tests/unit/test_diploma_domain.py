"""Diploma numbers and signatures (admin/domain/diploma.py): the check character, the number's
shape, and that one changed byte anywhere in the payload or the signature is detected."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from admin.domain import diploma as d
from admin.domain.idcard import check_char


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_mod11_2_is_the_id_card_check_for_17_digits(body):
    assert d.mod11_2(body) == check_char(body)


def test_number_shape_and_check():
    number = d.diploma_number("6401040001", 2027, "senior", 7)
    assert number.startswith("64010400012027300007") and len(number) == 21
    assert d.is_valid_number(number)
    assert d.serial_of(number) == 7
    for i in range(20):  # any single wrong digit breaks the check
        digit = str((int(number[i]) + 1) % 10)
        changed = number[:i] + digit + number[i + 1 :]
        assert not d.is_valid_number(changed), i
    assert not d.is_valid_number(number[:-1])
    assert not d.is_valid_number("６" + number[1:])  # full-width digit
    assert not d.is_valid_number(number[:14] + "9" + number[15:])  # no stage 9


@pytest.mark.parametrize(
    "args",
    [
        ("640104000", 2027, "senior", 1),
        ("6401040001", 2027, "college", 1),
        ("6401040001", 2027, "senior", 0),
        ("6401040001", 2027, "senior", 100000),
    ],
)
def test_number_refuses_bad_parts(args):
    with pytest.raises(ValueError):
        d.diploma_number(*args)


def _payload(key) -> d.Payload:
    return d.Payload(
        number=d.diploma_number("6401040001", 2027, "senior", 1),
        student_number="G640104200901011234",
        name="马晓燕",
        sex="2",
        birth_date="2009-01-01",
        school_code="6401040001",
        school_name="银川市第一中学",
        stage="senior",
        outcome="1",
        graduated_on="2027-06-30",
        issued_on="2027-07-02",
        key_id=d.key_id(key.public_key()),
    )


def test_signature_round_trip_and_canonical_bytes():
    key = Ed25519PrivateKey.generate()
    payload = _payload(key)
    raw = payload.canonical()
    assert d.Payload.from_json(raw) == payload
    assert raw == d.Payload.from_json(raw).canonical()  # stable bytes
    assert "马晓燕".encode() in raw  # UTF-8, not \\u escapes
    signature = d.sign(raw, key)
    assert d.verify(raw, signature, key.public_key())
    assert not d.verify(raw, signature, Ed25519PrivateKey.generate().public_key())


def test_every_single_byte_change_is_detected():
    key = Ed25519PrivateKey.generate()
    raw = _payload(key).canonical()
    signature = d.sign(raw, key)
    public = key.public_key()
    for i in range(len(raw)):
        tampered = raw[:i] + bytes([raw[i] ^ 0x01]) + raw[i + 1 :]
        assert not d.verify(tampered, signature, public), i
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for i in range(len(signature)):
        other = alphabet[(alphabet.index(signature[i]) + 1) % 64]
        tampered_sig = signature[:i] + other + signature[i + 1 :]
        assert not d.verify(raw, tampered_sig, public), i
    assert not d.verify(raw, "not base64 !", public)
    assert not d.verify(raw, signature[:-4], public)


def test_payload_refuses_other_shapes():
    key = Ed25519PrivateKey.generate()
    data = _payload(key).canonical().decode()
    with pytest.raises(ValueError):
        d.Payload.from_json(data.replace('"version":1', '"version":1,"extra":1'))
    with pytest.raises(ValueError):
        d.Payload.from_json("[1, 2]")
