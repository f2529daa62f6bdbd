"""Violations and localized messages: admin.domain.messages."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

import admin.domain
from admin.domain.messages import (
    FIELD_LABELS,
    LOCALES,
    MESSAGES,
    RuleError,
    Violation,
    field_label,
    resolve_locale,
)

DOMAIN_DIR = Path(admin.domain.__file__).parent
DOTTED_CODE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)+")

# Codes the brief promises; guards against the source walk below silently finding nothing.
PROMISED_CODES = {
    "id_number.length",
    "id_number.legacy_15",
    "id_number.charset",
    "id_number.province",
    "id_number.birth_date_invalid",
    "id_number.birth_date_future",
    "id_number.check_digit",
    "date.format",
    "date.future",
    "region.format",
    "code.unknown",
    "required",
    "phone.format",
    "postal_code.format",
    "email.format",
    "student_number.format",
    "student_number.check_digit",
    "student_number.immutable",
    "consistency.sex_mismatch",
    "consistency.birth_date_mismatch",
    "consistency.guardian_id_required",
    "consistency.age_for_grade",
    "j_sequence.exhausted",
}


def _domain_trees() -> list[ast.Module]:
    return [
        ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(DOMAIN_DIR.glob("*.py"))
        if path.name != "messages.py"
    ]


def _module_constants(tree: ast.Module) -> dict[str, str]:
    constants: dict[str, str] = {}
    for node in tree.body:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        if (
            isinstance(target, ast.Name)
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            constants[target.id] = value.value
    return constants


def _literal(node: ast.expr | None, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _codes_and_fields_in_source() -> tuple[set[str], set[str]]:
    """Codes and fields of every ``Violation(...)`` call, any dotted-code string literal, and
    the defaults of ``field`` parameters."""
    codes: set[str] = set()
    fields: set[str] = set()
    for tree in _domain_trees():
        constants = _module_constants(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Violation":
                args: list[ast.expr | None] = [*node.args, None, None]
                keywords = {k.arg: k.value for k in node.keywords}
                code = _literal(keywords.get("code", args[0]), constants)
                field = _literal(keywords.get("field", args[1]), constants)
                if code:
                    codes.add(code)
                if field:
                    fields.add(field)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if DOTTED_CODE.fullmatch(node.value) and not node.value.startswith("admin."):
                    codes.add(node.value)
            elif isinstance(node, ast.FunctionDef):
                arguments = node.args
                positional = [*arguments.posonlyargs, *arguments.args]
                defaults = dict(
                    zip(
                        positional[len(positional) - len(arguments.defaults) :],
                        arguments.defaults,
                        strict=True,
                    )
                )
                defaults.update(
                    (a, d)
                    for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
                    if d
                )
                for argument, default in defaults.items():
                    value = _literal(default, constants)
                    if argument.arg == "field" and value:
                        fields.add(value)
    return codes, fields


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


# --- tables are complete ---------------------------------------------------------------------


def test_source_walk_finds_the_promised_codes() -> None:
    codes, fields = _codes_and_fields_in_source()
    assert codes >= PROMISED_CODES
    assert {"id_number", "student_number", "sex", "birth_date", "grade"} <= fields


def test_every_code_used_in_the_domain_has_templates() -> None:
    codes, _ = _codes_and_fields_in_source()
    assert codes - MESSAGES.keys() == set()


def test_every_field_used_in_the_domain_has_labels() -> None:
    _, fields = _codes_and_fields_in_source()
    assert fields - FIELD_LABELS.keys() == set()


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_message_has_both_locales(code: str) -> None:
    assert set(MESSAGES[code]) == set(LOCALES) == {"zh_CN", "en"}
    for locale in LOCALES:
        template = MESSAGES[code][locale]
        assert template.strip()
        # Rule messages name the field; message subjects (notice.*) are titles, not rules.
        assert "{field}" in template or code.startswith("notice.")
        assert "code" not in _placeholders(template)


@pytest.mark.parametrize("name", sorted(FIELD_LABELS))
def test_every_field_label_has_both_locales(name: str) -> None:
    assert set(FIELD_LABELS[name]) == {"zh_CN", "en"}
    assert all(label.strip() for label in FIELD_LABELS[name].values())


def test_chinese_labels_use_the_national_form_wording() -> None:
    expected = {
        "name": "姓名",
        "sex": "性别",
        "birth_date": "出生日期",
        "birthplace": "出生地",
        "native_place": "籍贯",
        "ethnicity": "民族",
        "nationality": "国籍/地区",
        "id_doc_type": "身份证件类型",
        "id_number": "身份证件号",
        "hukou_region": "户口所在地",
        "grade": "年级",
        "phone": "联系电话",
        "postal_code": "邮政编码",
        "email": "电子信箱",
        "student_number": "学籍号",
    }
    assert {name: FIELD_LABELS[name]["zh_CN"] for name in expected} == expected
    for name in ("guardian_id_number", "school_year", "region_code"):
        assert name in FIELD_LABELS


# --- rendering -------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_message_renders_with_every_field_in_every_locale(code: str) -> None:
    names = set().union(*(_placeholders(t) for t in MESSAGES[code].values())) - {"field"}
    params = {name: f"<{name}>" for name in names}
    for field, labels in FIELD_LABELS.items():
        for locale, label in labels.items():
            text = Violation(code, field, params).message(locale)
            assert label in text or code.startswith("notice.")  # titles name no field
            assert "{" not in text and "}" not in text
            for name in _placeholders(MESSAGES[code][locale]) - {"field"}:
                assert f"<{name}>" in text


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_rendering_without_params_never_raises(code: str) -> None:
    for locale in ("zh_CN", "en", "zh", "fr"):
        assert Violation(code, "id_number").message(locale)


def test_examples_from_the_brief() -> None:
    violation = Violation("id_number.check_digit", "id_number", {"expected": "X", "actual": "1"})
    assert violation.message() == "身份证件号：校验码错误，应为 X"
    assert violation.message("zh_CN") == "身份证件号：校验码错误，应为 X"
    assert violation.message("en") == "ID number: wrong check digit, expected X"


@pytest.mark.parametrize(
    ("locale", "resolved"),
    [
        ("zh_CN", "zh_CN"),
        ("zh", "zh_CN"),
        ("zh-Hans", "zh_CN"),
        ("zh_TW", "zh_CN"),
        ("ZH-cn", "zh_CN"),
        ("en", "en"),
        ("en_US", "en"),
        ("fr", "en"),
        ("", "en"),
    ],
)
def test_locale_resolution(locale: str, resolved: str) -> None:
    assert resolve_locale(locale) == resolved


def test_unknown_code_and_field_still_render() -> None:
    text = Violation("no.such.code", "mystery_field").message("en")
    assert "mystery_field" in text and "no.such.code" in text
    assert "身份证件号" in Violation("no.such.code", "id_number").message()


def test_field_label_falls_back_to_the_name() -> None:
    assert field_label("id_number", "en") == "ID number"
    assert field_label("id_number") == "身份证件号"
    assert field_label("unknown_thing", "zh") == "unknown_thing"


def test_to_dict() -> None:
    violation = Violation("required", "name")
    assert violation.to_dict() == {"code": "required", "field": "name", "message": "姓名：必须填写"}
    assert violation.to_dict("en")["message"] == "Name: this field is required"


# --- Violation and RuleError -----------------------------------------------------------------


def test_violation_is_immutable_and_hashable() -> None:
    source = {"expected": "X"}
    violation = Violation("id_number.check_digit", "id_number", source)
    source["expected"] = "1"
    assert violation.params["expected"] == "X"
    with pytest.raises(TypeError):
        violation.params["expected"] = "2"  # type: ignore[index]
    assert hash(violation) == hash(
        Violation("id_number.check_digit", "id_number", {"expected": "1"})
    )
    assert violation == Violation("id_number.check_digit", "id_number", {"expected": "X"})
    assert violation != Violation("id_number.check_digit", "id_number", {"expected": "1"})
    assert Violation("required", "name").params == {}


def test_rule_error_carries_violations() -> None:
    violations = [Violation("required", "name"), Violation("phone.format", "phone")]
    error = RuleError(violations)
    assert isinstance(error, ValueError)
    assert error.violations == violations
    assert "[required]" in str(error) and "[phone.format]" in str(error)
    with pytest.raises(ValueError, match="phone.format"):
        raise error
