"""Code-table lookups for display: code → localized name, cached per process (code tables
change only through `xueji init`)."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import select

from ..extensions import db
from ..models import CodeItem


@lru_cache(maxsize=64)
def _names(code_set: str) -> dict[str, tuple[str, str]]:
    rows = db.session.execute(
        select(CodeItem.code, CodeItem.name_zh, CodeItem.name_en).where(
            CodeItem.code_set == code_set, CodeItem.valid_to.is_(None)
        )
    )
    return {code: (zh, en) for code, zh, en in rows}


def code_name(code_set: str, code: str | None, locale: str = "zh") -> str:
    if code is None:
        return ""
    names = _names(code_set).get(str(code))
    if names is None:
        return str(code)
    return names[0] if locale.startswith("zh") else names[1]


def code_choices(code_set: str, locale: str = "zh") -> list[tuple[str, str]]:
    return [
        (code, f"{code} {zh if locale.startswith('zh') else en}")
        for code, (zh, en) in sorted(_names(code_set).items())
    ]


def clear_cache() -> None:
    _names.cache_clear()
