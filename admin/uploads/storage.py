"""Content-addressed store for student files: ``<XUEJI_DATA_DIR>/files/<sha[:2]>/<sha>``.

The bytes live under the data folder, never under a static folder, so the web server cannot
hand them out; the only way in is the scoped, audited view in ``admin/uploads/views.py``.
Writes are atomic (a temporary file in the same folder, fsync, ``os.replace``) and equal
content is stored once."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

_SHA256 = re.compile(r"[0-9a-f]{64}")


class StorageError(Exception):
    """The file store is misconfigured (e.g. under a static folder) or a hash is malformed."""


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileStore:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()

    @classmethod
    def for_app(cls, app: Any = None) -> FileStore:
        """The store of a Flask app (default: the current one), refusing any static folder."""
        if app is None:
            from flask import current_app

            app = current_app
        store = cls(Path(app.config["XUEJI_DATA_DIR"]) / "files")
        static = [app.static_folder, *(bp.static_folder for bp in app.blueprints.values())]
        for folder in filter(None, static):
            folder_path = Path(folder).resolve()
            if store.root == folder_path or folder_path in store.root.parents:
                raise StorageError(
                    f"XUEJI_DATA_DIR: student files would be stored under the static folder "
                    f"{folder_path}, where anyone could download them; choose another data folder"
                )
        return store

    def path_for(self, sha: str) -> Path:
        if not _SHA256.fullmatch(sha or ""):
            raise StorageError(f"not a SHA-256 hex digest: {sha!r}")
        return self.root / sha[:2] / sha

    def exists(self, sha: str) -> bool:
        return self.path_for(sha).is_file()

    def put(self, data: bytes) -> tuple[str, bool]:
        """Store `data` under its hash; returns (sha256, created). `created` is False when the
        same content was already there (nothing is written then)."""
        sha = sha256_of(data)
        path = self.path_for(sha)
        try:
            if path.stat().st_size == len(data):
                return sha, False
        except FileNotFoundError:
            pass
        path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o640)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._sync_dir(path.parent)
        return sha, True

    def remove(self, sha: str) -> None:
        self.path_for(sha).unlink(missing_ok=True)

    def all_hashes(self) -> set[str]:
        """Every stored hash (for checks, tests and a future clean-up command)."""
        if not self.root.is_dir():
            return set()
        return {p.name for p in self.root.glob("??/*") if _SHA256.fullmatch(p.name)}

    @staticmethod
    def _sync_dir(folder: Path) -> None:
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)
