"""Storing a student's photo or proof document: validate by content, write the bytes by hash,
add the StudentFile row (and, for a photo, point Student.photo_ref at it). Views call this;
importers will too.

A refused upload writes nothing: validation runs before any byte reaches the disk. A blob
written for a row that then fails to reach the database is removed again, unless another row
uses the same content (see `commit_files` and `discard_new_blobs`)."""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..domain.files import EXTENSIONS, PHOTO
from ..domain.messages import RuleError
from ..models import Student, StudentFile
from ..models.students import utcnow
from .storage import FileStore
from .validation import FileLimits, clean_name, validate_upload

log = logging.getLogger("xueji.uploads")

# session.info key: {sha256: store root} of blobs this session's open transaction wrote.
_NEW_BLOBS = "xueji_new_file_blobs"


def store_student_file(
    session: Session,
    student: Student,
    kind: str,
    filename: str | None,
    data: bytes | None,
    actor: str | None,
    *,
    description: str | None = None,
    store: FileStore | None = None,
    limits: FileLimits | None = None,
) -> StudentFile:
    """Validate, store and record one file of `student`; the caller commits (`commit_files`).

    Raises RuleError (nothing written) when the content is refused. For a photo,
    `student.photo_ref` becomes the new hash; earlier photo rows stay as history. If the
    flush fails, the session is rolled back, a blob no row references is removed, and the
    error propagates."""
    description = (description or "").strip() or None
    clean = validate_upload(kind, data, description=description, limits=limits)
    store = store or FileStore.for_app()
    sha, created = store.put(clean.data)
    if created:
        session.info.setdefault(_NEW_BLOBS, {})[sha] = str(store.root)
    row = StudentFile(
        kind=kind,
        sha256=sha,
        mime_type=clean.mime_type,
        size_bytes=len(clean.data),
        original_name=clean_name(filename),
        description=description,
        uploaded_by=actor,
        uploaded_at=utcnow(),
    )
    row.student = student
    session.add(row)
    if kind == PHOTO:
        student.photo_ref = sha
        student.updated_by = actor
    try:
        session.flush()  # the audit listener records the row and the photo_ref change
    except Exception:
        session.rollback()
        discard_new_blobs(session)
        raise
    return row


def commit_files(session: Session) -> None:
    """Commit; if the commit fails, roll back and remove the blobs it would have used."""
    try:
        session.commit()
    except Exception:
        session.rollback()
        discard_new_blobs(session)
        raise
    session.info.pop(_NEW_BLOBS, None)


def discard_new_blobs(session: Session) -> list[str]:
    """After a rollback: delete the blobs this session wrote that no StudentFile row
    references (rows committed by others with the same content keep theirs)."""
    pending: dict[str, str] = session.info.pop(_NEW_BLOBS, {})
    removed = []
    for sha, root in pending.items():
        try:
            used = session.scalar(select(exists().where(StudentFile.sha256 == sha)))
        except Exception:  # the database is unreachable: keep the file, lose nothing
            log.exception("could not check whether blob %s is referenced", sha)
            continue
        if not used:
            FileStore(Path(root)).remove(sha)
            removed.append(sha)
    return removed


def download_name(row: StudentFile) -> str:
    """The file name offered to the browser: the client's name with the extension of the real
    content (a PNG uploaded as x.jpg downloads as x.png)."""
    extension = EXTENSIONS.get(row.mime_type, "")
    stem = PurePosixPath(row.original_name or "").stem
    if not stem:
        stem = f"{row.kind}-{row.id}"
    return stem + extension


def files_for_display(session: Session, student: Student) -> list[dict[str, Any]]:
    """The student's files, newest first, for the record page (no bytes, no hashes)."""
    rows = session.scalars(
        select(StudentFile)
        .where(StudentFile.student_id == student.id)
        .order_by(StudentFile.uploaded_at.desc(), StudentFile.id.desc())
    ).all()
    current_photo = next(
        (r.id for r in rows if r.kind == PHOTO and r.sha256 == student.photo_ref), None
    )
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "mime_type": r.mime_type,
            "size_bytes": r.size_bytes,
            "original_name": r.original_name or download_name(r),
            "description": r.description or "",
            "uploaded_by": r.uploaded_by or "",
            "uploaded_at": r.uploaded_at,
            "is_image": r.mime_type.startswith("image/"),
            "current_photo": r.id == current_photo,
        }
        for r in rows
    ]


__all__ = [
    "RuleError",
    "commit_files",
    "discard_new_blobs",
    "download_name",
    "files_for_display",
    "store_student_file",
]
