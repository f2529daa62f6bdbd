"""Masking personal values for roles that may see that a change happened but not the value
(e.g. a SchoolLeader reading the audit trail sees 马**, 6401**********0028)."""

from __future__ import annotations

from typing import Any

# Columns whose values identify or locate a person.
PERSONAL_COLUMNS = frozenset(
    {
        "name",
        "former_name",
        "name_pinyin",
        "id_number",
        "birth_date",
        "current_address",
        "mailing_address",
        "home_address",
        "address",
        "phone",
        "email",
        "homepage",
        "photo_ref",
        "employer",
        "payload",  # a diploma's signed payload carries the full name
        "previous",  # 信息变更: old and new values of name, ID number …
        "changes",
    }
)
# Roles that see full values in audit entries.
UNMASKED_ROLES = frozenset({"Admin", "SchoolRegistrar"})


def mask_value(column: str, value: Any) -> Any:
    if value is None or column not in PERSONAL_COLUMNS:
        return value
    text = str(value)
    if column in ("name", "former_name"):
        return text[:1] + "*" * max(1, len(text) - 1)
    if column == "id_number" and len(text) >= 8:
        return text[:4] + "*" * (len(text) - 8) + text[-4:]
    if column == "phone" and len(text) >= 7:
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    if column == "birth_date":
        return text[:4] + "-**-**"
    return "***"


# Free text about one student, personal only in these tables (a "description" or "reason"
# elsewhere is not): 综合素质评价 records, objections and the class teacher's comment.
PERSONAL_TABLE_COLUMNS: dict[str, frozenset[str]] = {
    "evaluation_record": frozenset({"description"}),
    "evaluation_objection": frozenset({"reason"}),
    "term_evaluation": frozenset({"comment"}),
}


def _mask(table: str | None, column: str, value: Any) -> Any:
    if value is not None and column in PERSONAL_TABLE_COLUMNS.get(table or "", frozenset()):
        return "***"
    return mask_value(column, value)


def mask_changes(table: str | None, changes: dict[str, Any], scope: Any) -> dict[str, Any]:
    if getattr(scope, "role", None) in UNMASKED_ROLES:
        return changes
    masked: dict[str, Any] = {}
    for column, change in changes.items():
        if isinstance(change, dict) and ("old" in change or "new" in change):
            masked[column] = {
                "old": _mask(table, column, change.get("old")),
                "new": _mask(table, column, change.get("new")),
            }
        else:
            masked[column] = _mask(table, column, change)
    return masked
