"""Creating login accounts with a role and a scope (CLI now; user screens later)."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from ..domain.passwords import check_password_policy
from ..extensions import db
from ..models import Region, School, UserScope
from ..security.roles import ROLES

SCHOOL_ROLES = {"SchoolRegistrar", "SchoolLeader", "Teacher"}
REGION_ROLES = {"BureauOfficer", "BureauAnalyst", "Leadership"}


class AccountError(Exception):
    """Refused account request; the message names the field and the rule."""


def create_account(
    *,
    username: str,
    password: str,
    role: str,
    region: str | None = None,
    school: str | None = None,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    locale: str = "zh_CN",
) -> None:
    sm = current_app.appbuilder.sm
    if role not in ROLES:
        raise AccountError(f"--role: must be one of {', '.join(ROLES)}")
    problems = check_password_policy(password, username)
    if problems:
        raise AccountError("; ".join(p.message(locale) for p in problems))
    if region and school:
        raise AccountError("--region and --school: give one scope, not both")
    if role in SCHOOL_ROLES and not school:
        raise AccountError(
            f"--school: a {role} account needs the 10-digit 学校标识码 of its school"
        )
    if role in {"Parent"} and (region or school):
        raise AccountError("--region/--school: a Parent's scope is their linked children")
    school_row = None
    if school:
        school_row = db.session.scalar(select(School).where(School.code == school))
        if school_row is None:
            raise AccountError(f"--school: no school with 学校标识码 {school}")
    if region:
        if not (region.isdigit() and len(region) in (2, 4, 6)):
            raise AccountError("--region: a GB/T 2260 prefix of 2, 4 or 6 digits")
        full = region.ljust(6, "0")
        if db.session.get(Region, full) is None:
            raise AccountError(f"--region: no region {region} in GB/T 2260")
    if sm.find_user(username=username) is not None:
        raise AccountError(f"--username: the user {username} already exists")
    role_row = sm.find_role(role)
    if role_row is None:
        raise AccountError(f"--role: role {role} not found; run `xueji init` first")
    user = sm.add_user(
        username=username,
        first_name=first_name or username,
        last_name=last_name or role,
        email=email or f"{username}@xueji.invalid",
        role=role_row,
        password=password,
    )
    if not user:
        raise AccountError(f"--username: could not create {username} (duplicate e-mail?)")
    db.session.add(
        UserScope(
            user_id=user.id,
            region_prefix=region or None,
            school_id=school_row.id if school_row else None,
        )
    )
    db.session.commit()


DEMO_PASSWORD = "Xueji-Demo-2026"


def ensure_demo_accounts() -> list[tuple[str, str, str, str]]:
    """One account per role on the seeded demo nation (created once); returns
    (role, username, password, scope) rows for printing."""
    from ..models import ParentLink, Student, TeachingAssignment

    sm = current_app.appbuilder.sm
    school = (
        db.session.scalars(
            select(School).where(School.region_code.startswith("64")).order_by(School.id)
        ).first()
        or db.session.scalars(select(School).order_by(School.id)).first()
    )
    rows: list[tuple[str, str, str, str]] = [("Admin", "admin", DEMO_PASSWORD, "national")]
    if school is None:
        _create_missing(sm, rows)
        return rows
    # The officer is the school's county bureau: a handling unit of every status change the
    # demo school files (registrar → principal → officer).
    county = school.region_code
    rows += [
        ("BureauOfficer", "officer", DEMO_PASSWORD, f"region {county} (county bureau)"),
        ("BureauAnalyst", "analyst", DEMO_PASSWORD, "region 64"),
        ("Leadership", "leader", DEMO_PASSWORD, "national"),
        ("SchoolRegistrar", "registrar", DEMO_PASSWORD, f"school {school.code} {school.name}"),
        ("SchoolLeader", "principal", DEMO_PASSWORD, f"school {school.code}"),
        ("Teacher", "teacher", DEMO_PASSWORD, f"school {school.code}, one class"),
        ("Parent", "parent", DEMO_PASSWORD, "one child"),
    ]
    scopes = {
        "officer": {"region": county},
        "analyst": {"region": "64"},
        "registrar": {"school": school.code},
        "principal": {"school": school.code},
        "teacher": {"school": school.code},
    }
    _create_missing(sm, rows, scopes)
    teacher = sm.find_user(username="teacher")
    parent = sm.find_user(username="parent")
    child = db.session.scalars(
        select(Student)
        .where(Student.current_school_id == school.id, Student.current_status == "01")
        .order_by(Student.id)
    ).first()
    if child is not None and teacher is not None and child.current_class_id is not None:
        if not db.session.scalar(
            select(TeachingAssignment.id).where(TeachingAssignment.user_id == teacher.id)
        ):
            db.session.add(TeachingAssignment(user_id=teacher.id, class_id=child.current_class_id))
        if parent is not None and not db.session.scalar(
            select(ParentLink.id).where(ParentLink.user_id == parent.id)
        ):
            db.session.add(ParentLink(user_id=parent.id, student_id=child.id))
        db.session.commit()
    return rows


def _create_missing(
    sm: object,
    rows: list[tuple[str, str, str, str]],
    scopes: dict[str, dict[str, str]] | None = None,
) -> None:
    for role, username, password, _ in rows:
        if sm.find_user(username=username) is None:  # type: ignore[attr-defined]
            create_account(
                username=username, password=password, role=role, **(scopes or {}).get(username, {})
            )
