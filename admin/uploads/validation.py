"""Upload checks with the deployment's limits: the pure content rules live in
``admin.domain.files``; this module reads the XUEJI_* settings and cleans file names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from ..domain.files import CleanFile, FileLimits, clean_file
from ..domain.messages import RuleError, Violation

DESCRIPTION_MAX = 200  # StudentFile.description
ORIGINAL_NAME_MAX = 200  # StudentFile.original_name


def limits_from_config(config: Mapping[str, Any] | None = None) -> FileLimits:
    """FileLimits from a Flask config (default: the current app's, else the defaults)."""
    if config is None:
        from flask import current_app, has_app_context

        if not has_app_context():
            return FileLimits()
        config = current_app.config
    defaults = FileLimits()
    return FileLimits(
        max_bytes=int(config.get("XUEJI_UPLOAD_MAX_BYTES", defaults.max_bytes)),
        max_pixels=int(config.get("XUEJI_UPLOAD_MAX_PIXELS", defaults.max_pixels)),
        photo_max_side=int(config.get("XUEJI_PHOTO_MAX_SIDE", defaults.photo_max_side)),
    )


def validate_upload(
    kind: str,
    data: bytes | None,
    *,
    description: str | None = None,
    limits: FileLimits | None = None,
) -> CleanFile:
    """The bytes to store for an upload, or RuleError with every violation."""
    problems: list[Violation] = []
    if description and len(description) > DESCRIPTION_MAX:
        problems.append(
            Violation("file.description_length", "file_description", {"max": DESCRIPTION_MAX})
        )
    clean, violations = clean_file(kind, data, limits or limits_from_config())
    problems.extend(violations)
    if problems or clean is None:
        raise RuleError(problems)
    return clean


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_name(filename: str | None) -> str | None:
    """The client's file name for display only: no folders, no control characters, at most
    200 characters. Chinese names are kept (werkzeug's secure_filename would drop them)."""
    if not filename:
        return None
    name = unicodedata.normalize("NFC", filename).replace("\\", "/")
    name = PurePosixPath(name).name
    name = _CONTROL.sub("", name).strip().lstrip(".")
    if not name:
        return None
    if len(name) > ORIGINAL_NAME_MAX:
        suffix = PurePosixPath(name).suffix[:10]
        name = name[: ORIGINAL_NAME_MAX - len(suffix)] + suffix
    return name
