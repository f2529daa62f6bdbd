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


def ensure_demo_accounts(accounts: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Create the demo accounts that do not exist yet; return all of them for printing."""
    sm = current_app.appbuilder.sm
    for role, username, password in accounts:
        if sm.find_user(username=username) is None:
            create_account(username=username, password=password, role=role)
    return accounts
