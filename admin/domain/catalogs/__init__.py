"""Per-area message catalogs. Each module here defines `MESSAGES` (code → {locale: template})
and optionally `FIELD_LABELS` (field → {locale: label}); admin.domain.messages merges them at
import, so an area adds its rules' messages without editing a shared file."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def area_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
    ]
