"""Password policy: at least 10 characters, three of four character classes, and not
containing the username (case-insensitive)."""

from __future__ import annotations

from admin.domain.messages import Violation

MIN_LENGTH = 10
MIN_CLASSES = 3


def character_classes(password: str) -> int:
    classes = (
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    )
    return sum(classes)


def check_password_policy(password: str, username: str, field: str = "password") -> list[Violation]:
    problems: list[Violation] = []
    if len(password) < MIN_LENGTH:
        problems.append(Violation("password.too_short", field, {"min": MIN_LENGTH}))
    if character_classes(password) < MIN_CLASSES:
        problems.append(Violation("password.classes", field, {"min": MIN_CLASSES}))
    if username and username.lower() in password.lower():
        problems.append(Violation("password.contains_username", field, {}))
    return problems
