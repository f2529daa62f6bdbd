"""The `xueji` command line (public contract in README). Every command reports bad input or an
unusable environment as one clear line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from .config import ConfigError, database_url, ensure_data_dir
from .security.roles import ROLES

F = TypeVar("F", bound=Callable[..., Any])


def _safe_url() -> str:
    try:
        return make_url(database_url()).render_as_string(hide_password=True)
    except ArgumentError:
        return database_url()


def fail(message: str, code: int = 2) -> None:
    click.echo(f"xueji: error: {message}", err=True)
    sys.exit(code)


def friendly_errors(func: F) -> F:
    """Turn configuration and database failures into one line and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            fail(str(exc))
        except (ArgumentError, NoSuchModuleError) as exc:
            fail(f"XUEJI_DATABASE_URL={_safe_url()!s} is not a usable database URL ({exc})")
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            fail(f"cannot use the database {_safe_url()}: {reason}")
        except SQLAlchemyError as exc:
            fail(f"database error on {_safe_url()}: {exc.__class__.__name__}: {exc}")

    return wrapper  # type: ignore[return-value]


def _app() -> Any:
    from . import create_app

    return create_app()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """XueJi (学籍): the national student-status registry."""


@main.command("init")
@friendly_errors
def init_command() -> None:
    """Migrate the database, load code tables and regions, create roles. Idempotent."""
    ensure_data_dir()
    app = _app()
    with app.app_context():
        from .services.setup import initialize

        report = initialize()
    if report.migrated_from == report.migrated_to:
        click.echo(f"schema: up to date at revision {report.migrated_to}")
    else:
        click.echo(f"schema: migrated {report.migrated_from or 'empty'} → {report.migrated_to}")
    click.echo(f"code tables: {report.codes}")
    click.echo(f"regions: {report.regions}")
    click.echo(
        "roles: "
        + (", ".join(report.roles_created) + " created" if report.roles_created else "unchanged")
    )
    click.echo(
        f"diploma signing key: {report.diploma_key} "
        + ("created" if report.diploma_key_created else "unchanged")
    )


@main.command("create-user")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES, case_sensitive=True))
@click.option("--region", default=None, help="GB/T 2260 region prefix (2, 4 or 6 digits)")
@click.option("--school", default=None, help="10-digit 学校标识码")
@click.option("--email", default=None)
@click.option("--first-name", default=None)
@click.option("--last-name", default=None)
@friendly_errors
def create_user_command(
    username: str,
    password: str,
    role: str,
    region: str | None,
    school: str | None,
    email: str | None,
    first_name: str | None,
    last_name: str | None,
) -> None:
    """Create a login account with one role."""
    app = _app()
    with app.app_context():
        from .services.accounts import AccountError, create_account

        try:
            create_account(
                username=username,
                password=password,
                role=role,
                region=region,
                school=school,
                email=email,
                first_name=first_name,
                last_name=last_name,
            )
        except AccountError as exc:
            fail(str(exc))
    click.echo(f"user {username} created with role {role}")


def _progress_bar(total: int) -> tuple[Callable[[int], None], Callable[[], None]]:
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=total, unit="students", desc="seed", file=sys.stderr)
        return bar.update, bar.close
    done = [0]

    def log(n: int) -> None:
        done[0] += n
        click.echo(f"seed progress students={done[0]} total={total}", err=True)

    return log, lambda: None


@main.command("seed")
@click.option("--students", default=30_000, show_default=True, type=int)
@click.option("--years", default=3, show_default=True, type=int)
@click.option("--seed", "seed_value", default=2026, show_default=True, type=int)
@click.option(
    "--provinces",
    default="11,64,46",
    show_default=True,
    help="comma-separated 2-digit province codes",
)
@friendly_errors
def seed_command(students: int, years: int, seed_value: int, provinces: str) -> None:
    """Build a synthetic nation (deterministic under --seed) into an empty registry."""
    from .services.seed import SeedOptions

    options = SeedOptions(
        students=students,
        years=years,
        seed=seed_value,
        provinces=tuple(p.strip() for p in provinces.split(",") if p.strip()),
    )
    problems = options.validate()
    if problems:
        fail("; ".join(problems))
    _run_seed(options)


def _run_seed(options: Any) -> None:
    from .extensions import db
    from .services.seed import SeedRefused, seed_database

    app = _app()
    with app.app_context():
        update, close = _progress_bar(options.students)
        try:
            report = seed_database(db.engine, options, progress=update)
        except SeedRefused as exc:
            close()
            fail(str(exc))
        close()
    counts = report.counts
    click.echo(
        f"seeded {counts['student']:,} students, {counts['guardian']:,} family members, "
        f"{counts['enrollment']:,} enrollments, {counts['school']:,} schools, "
        f"{counts['school_class']:,} classes in {report.counties} counties; "
        f"school years {report.school_years[0]} … {report.school_years[-1]}"
    )


@main.command("seed-teaching")
@click.option("--seed", "seed_value", default=2026, show_default=True, type=int)
@click.option("--years", default=2, show_default=True, type=int, help="school years, current first")
@click.option("--today", default=None, help="YYYY-MM-DD (default: XUEJI_TODAY or today)")
@friendly_errors
def seed_teaching_command(seed_value: int, years: int, today: str | None) -> None:
    """Add demo timetables, attendance, exams, scores and evaluations to a seeded registry."""
    from .services.seed_teaching import TeachingOptions

    try:
        day = date.fromisoformat(today or os.environ.get("XUEJI_TODAY") or date.today().isoformat())
    except ValueError:
        fail(f"--today: write the date as YYYY-MM-DD, got {today}")
    options = TeachingOptions(seed=seed_value, years=years, today=day)
    problems = options.validate()
    if problems:
        fail("; ".join(problems))
    _run_seed_teaching(options)


def _run_seed_teaching(options: Any) -> None:
    from .extensions import db
    from .services.seed_teaching import TeachingSeedRefused, seed_teaching
    from .services.status_changes import settings_from_config

    app = _app()
    with app.app_context():
        # The school calendar of the attendance screens (XUEJI_HOLIDAYS).
        options.calendar = settings_from_config(app.config).workflow.calendar
        try:
            report = seed_teaching(db.engine, options)
        except TeachingSeedRefused as exc:
            fail(str(exc))
    counts = report.counts
    click.echo(
        f"teaching records for {report.students:,} students ({', '.join(report.school_years)}): "
        f"{counts['timetable_slot']:,} timetable slots, {counts['attendance']:,} attendance "
        f"marks, {counts['exam']:,} exams with {counts['score']:,} scores, "
        f"{counts['term_evaluation']:,} term evaluations ({counts['evaluation']:,} grades, "
        f"{counts['evaluation_record']:,} records)"
    )


@main.command("seed-lifecycle")
@click.option("--seed", "seed_value", default=2026, show_default=True, type=int)
@click.option("--today", default=None, help="YYYY-MM-DD (default: XUEJI_TODAY or today)")
@friendly_errors
def seed_lifecycle_command(seed_value: int, today: str | None) -> None:
    """Add demo status changes (学籍异动) and graduations with diplomas to a seeded registry."""
    from .services.seed_lifecycle import LifecycleOptions

    try:
        day = date.fromisoformat(today or os.environ.get("XUEJI_TODAY") or date.today().isoformat())
    except ValueError:
        fail(f"--today: write the date as YYYY-MM-DD, got {today}")
    _run_seed_lifecycle(LifecycleOptions(seed=seed_value, today=day))


def _run_seed_lifecycle(options: Any) -> None:
    from .extensions import db
    from .services.diplomas import KeyRing
    from .services.seed_lifecycle import LifecycleSeedRefused, seed_lifecycle
    from .services.status_changes import settings_from_config

    app = _app()
    with app.app_context():
        # The province's workflow choices and calendar (XUEJI_HOLIDAYS, step days, freezes)
        # and the signing keys `xueji init` made, as the screens use them.
        options.settings = settings_from_config(app.config)
        keyring = KeyRing.from_config(app.config)
        options.keyring = keyring if keyring.active_id() else None
        try:
            report = seed_lifecycle(db.engine, options)
        except LifecycleSeedRefused as exc:
            fail(str(exc))
    counts = report.counts
    years = ", ".join(report.graduated_years) or "none finished"
    changes = (
        f"status changes {report.school_year}: {counts['request']:,} requests "
        f"({counts['effective']:,} effective, {counts['rejected']:,} rejected, "
        f"{counts['cancelled']:,} cancelled, {counts['submitted']:,} pending of which "
        f"{counts['overdue']:,} overdue)"
        if options.status_changes
        else "status changes skipped"
    )
    click.echo(
        f"{changes}; graduations ({years}): {counts['graduation']:,} "
        f"with {counts['diploma']:,} diplomas"
    )


@main.command(
    "etl",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.pass_context
def etl_command(ctx: click.Context) -> None:
    """Snapshot the registry into the pseudonymized DuckDB warehouse (`xueji etl --help`)."""
    sys.exit(_run_etl(list(ctx.args)))


def _run_etl(args: list[str]) -> int:
    from etl.cli import run_etl

    from .config import pseudonym_key

    os.environ.setdefault("XUEJI_PSEUDONYM_KEY", pseudonym_key())
    return run_etl(args)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@friendly_errors
def serve_command(host: str, port: int, workers: int) -> None:
    """Serve the admin (and dashboards) with gunicorn."""
    from .wsgi_server import serve

    serve(host=host, port=port, workers=workers)


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--students", default=30_000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="prepare the demo data and exit")
@friendly_errors
def demo_command(host: str, port: int, students: int, no_serve: bool) -> None:
    """init + seed (when the registry is empty) + demo accounts + teaching records, status
    changes and graduations (once) + warehouse snapshot + serve."""
    from sqlalchemy import text

    from .extensions import db
    from .services.seed import SeedOptions

    ensure_data_dir()
    click.echo(f"database: {_safe_url()}")
    init_command.callback()  # type: ignore[misc]
    app = _app()
    with app.app_context():
        has_schools = db.session.execute(text("SELECT COUNT(*) FROM school")).scalar_one()
    if not has_schools:
        _run_seed(SeedOptions(students=students, today=date.today()))
    else:
        click.echo(f"registry already seeded ({has_schools} schools): keeping it")
    with app.app_context():
        from .services.accounts import ensure_demo_accounts

        accounts = ensure_demo_accounts()
        # Teaching records once, and only on a registry `xueji seed` built (a real one has
        # no seed entry in its audit log).
        seeded = db.session.execute(
            text("SELECT COUNT(*) FROM audit_log WHERE action = 'seed' AND table_name = 'student'")
        ).scalar_one()
        from .services.seed_teaching import GUARDED_TABLES, TeachingOptions

        has_teaching = any(
            db.session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            for table in GUARDED_TABLES
        )
        from .services.seed_lifecycle import GUARDED_TABLES as LIFECYCLE_TABLES
        from .services.seed_lifecycle import LifecycleOptions

        has_lifecycle = any(
            db.session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            for table in LIFECYCLE_TABLES
        )
    teaching_added = bool(seeded and not has_teaching)
    if teaching_added:
        click.echo("adding demo teaching records (xueji seed-teaching) …")
        _run_seed_teaching(TeachingOptions(today=date.today()))
    # Status changes and graduations once too, before the snapshot so it has their facts.
    lifecycle_added = bool(seeded and not has_lifecycle)
    if lifecycle_added:
        click.echo("adding demo status changes and graduations (xueji seed-lifecycle) …")
        _run_seed_lifecycle(LifecycleOptions(today=date.today()))
    from .config import warehouse_dir

    if teaching_added or lifecycle_added or not (warehouse_dir() / "CURRENT").exists():
        click.echo("building the warehouse snapshot (xueji etl) …")
        if _run_etl([]) != 0:
            fail("the warehouse snapshot could not be built (see above)")
    url = f"http://{host}:{port}/"
    click.echo("")
    click.echo(f"XueJi demo: {url}")
    click.echo("demo accounts (username / password — role, scope):")
    for role, username, password, scope in accounts:
        click.echo(f"  {username} / {password} — {role}, {scope}")
    if not no_serve:
        from .wsgi_server import serve

        serve(host=host, port=port, workers=int(os.environ.get("XUEJI_WORKERS", "2")))


@main.group("audit")
def audit_group() -> None:
    """The audit trail (who changed what, hash-chained)."""


@audit_group.command("verify")
@click.option(
    "--anchor",
    "anchors",
    multiple=True,
    metavar="HASH",
    help="an entry hash recorded earlier (the 'last entry' of a previous run): its absence "
    "means entries were deleted from the end or the log was rewritten",
)
@friendly_errors
def audit_verify_command(anchors: tuple[str, ...]) -> None:
    """Check the audit log's hash chain: exit 0 when intact, 1 naming each broken entry."""
    from .audit import verify_chain
    from .domain.messages import EN
    from .extensions import db

    app = _app()
    with app.app_context(), db.engine.connect() as connection:
        report = verify_chain(connection, anchors)
    if report.intact:
        click.echo(f"audit log intact: {report.count} entries")
        if report.last_id is not None:
            click.echo(f"last entry: #{report.last_id} {report.last_hash}")
        return
    for problem in report.problems:
        click.echo(problem.message(EN))
    click.echo(f"audit log BROKEN: {len(report.problems)} problem(s) in {report.count} entries")
    sys.exit(1)


@main.group("diploma")
def diploma_group() -> None:
    """Electronic diplomas: signing keys and offline verification."""


@diploma_group.command("verify")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--public-key",
    type=click.Path(dir_okay=False),
    default=None,
    help="PEM file of the issuing installation's public key (default: the key of that id in "
    "XUEJI_DIPLOMA_KEY_DIR)",
)
def diploma_verify_command(file: str, public_key: str | None) -> None:
    """Check a certificate (PDF or signed JSON) offline: exit 0 when genuine, 1 when not."""
    from .config import diploma_settings
    from .services.diplomas import KeyRing, load_public_key, verify_document

    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        fail(f"{file}: cannot read the file ({exc.strerror})")
    key = None
    if public_key:
        try:
            key = load_public_key(Path(public_key).read_bytes())
        except (OSError, ValueError) as exc:
            fail(f"--public-key {public_key}: not an Ed25519 public key in PEM ({exc})")
    ring = KeyRing(str(diploma_settings()["XUEJI_DIPLOMA_KEY_DIR"]))
    result = verify_document(data, keyring=ring, public_key=key)
    if not result.ok:
        reasons = {
            "not_a_certificate": "not a XueJi certificate (no signed document inside)",
            "unknown_key": f"signed with key {result.key_id}, which is not in {ring.folder}; "
            "pass the issuer's public key with --public-key",
            "bad_signature": "SIGNATURE INVALID: the certificate was altered or forged",
        }
        click.echo(f"{file}: {reasons[result.reason]}")
        sys.exit(1)
    p = result.payload
    assert p is not None
    click.echo(f"{file}: signature valid (key {result.key_id})")
    click.echo(f"  number {p.number}  student number {p.student_number}")
    click.echo(f"  {p.name}  {p.school_name} ({p.school_code})  stage {p.stage}")
    click.echo(f"  graduated {p.graduated_on}  issued {p.issued_on}")
    click.echo("  (revocation is only known online: /verify/" + p.number + ")")


@diploma_group.command("new-key")
@friendly_errors
def diploma_new_key_command() -> None:
    """Rotate the signing key: new certificates use a new key; old ones still verify."""
    from .config import diploma_settings
    from .services.diplomas import KeyRing

    ring = KeyRing(str(diploma_settings()["XUEJI_DIPLOMA_KEY_DIR"]))
    try:
        kid = ring.create()
    except OSError as exc:
        fail(f"XUEJI_DIPLOMA_KEY_DIR={ring.folder}: cannot write the key ({exc.strerror})")
    click.echo(f"diploma signing key {kid} created and active in {ring.folder}")
    click.echo(f"keys kept for verification: {', '.join(ring.key_ids())}")


@main.group("numbers")
def numbers_group() -> None:
    """学籍号: the bureau check that turns temporary L numbers into G or J."""


@numbers_group.command("confirm")
@click.option(
    "--region",
    default="",
    help="2/4/6-digit GB/T 2260 prefix to check (default: the whole registry)",
)
@click.option("--dry-run", is_flag=True, help="report what would be issued; write nothing")
@click.option("--today", default=None, help="business date YYYY-MM-DD (default: today)")
@friendly_errors
def numbers_confirm_command(region: str, dry_run: bool, today: str | None) -> None:
    """Issue G (valid, unique ID) or J (no usable ID) to L-numbered students; report the rest
    as problem records. All or nothing: a failure leaves every number as it was."""
    from .audit.context import audit_actor
    from .extensions import db
    from .security.scope import Scope
    from .services.number_check import check_numbers, report_lines

    region = region.strip()
    if region and (len(region) not in (2, 4, 6) or not region.isdigit()):
        fail(f"--region {region}: must be a 2, 4 or 6-digit GB/T 2260 prefix")
    try:
        on = date.fromisoformat(today) if today else date.today()
    except ValueError:
        fail(f"--today {today}: write the date as YYYY-MM-DD")
    scope = (
        Scope(role="Admin", kind="region", region_prefix=region)
        if region
        else Scope(role="Admin", kind="national")
    )
    app = _app()
    with app.app_context(), audit_actor("xueji numbers confirm", reason="学籍号核验"):
        report = check_numbers(db.session, scope, today=on, dry_run=dry_run)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    for line in report_lines(report):
        click.echo(line)
    if dry_run:
        click.echo("dry run: nothing written")


@main.command("promote")
@click.option(
    "--from", "from_year", required=True, help="school year to move up from, e.g. 2026-2027"
)
@click.option("--to", "to_year", required=True, help="school year to move into, e.g. 2027-2028")
@click.option("--region", default="", help="2/4/6-digit GB/T 2260 prefix (default: everywhere)")
@click.option("--dry-run", is_flag=True, help="print the counts per school; write nothing")
@friendly_errors
def promote_command(from_year: str, to_year: str, region: str, dry_run: bool) -> None:
    """Annual promotion (升级): everyone 在校 in a non-graduating grade moves up one grade into
    the next school year. Idempotent: run it again and nothing more changes."""
    from .audit.context import audit_actor
    from .domain.messages import EN, RuleError
    from .extensions import db
    from .security.scope import Scope
    from .services.promotion import preview, promote

    region = region.strip()
    if region and (len(region) not in (2, 4, 6) or not region.isdigit()):
        fail(f"--region {region}: must be a 2, 4 or 6-digit GB/T 2260 prefix")
    scope = (
        Scope(role="Admin", kind="region", region_prefix=region)
        if region
        else Scope(role="Admin", kind="national")
    )
    app = _app()
    with app.app_context(), audit_actor("xueji promote", reason="升级"):
        try:
            if dry_run:
                report = preview(db.session, scope, from_year, to_year)
            else:
                report = promote(db.session, scope, from_year, to_year, username="xueji promote")
                db.session.commit()
        except RuleError as exc:
            db.session.rollback()
            fail("; ".join(v.message(EN) for v in exc.violations))
    if dry_run:
        totals = report.totals
        click.echo(
            f"{report.from_year} → {report.to_year}: {len(report.schools)} schools, "
            f"{totals['promote']} to move up, {totals['graduating']} in graduating grades, "
            f"{totals['held']} not 在校 (kept in their grade), {totals['done']} already moved"
        )
        for school in report.schools:
            click.echo(
                f"  {school.code} {school.name}: {school.promote} up, "
                f"{school.graduating} graduating, {school.held} held, {school.done} done"
            )
        click.echo("dry run: nothing written")
    else:
        click.echo(f"moved up {report.promoted} students; {report.classes_created} classes created")


@main.group("import")
def import_group() -> None:
    """新生批量导入: register a school's new students from an Excel (.xlsx) or CSV file."""


@import_group.command("students")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option(
    "--school", "school_code", required=True, help="the importing school's 10-digit 学校标识码"
)
@click.option("--dry-run", is_flag=True, help="check every row and report; write nothing")
@click.option(
    "--errors",
    "errors_path",
    default=None,
    type=click.Path(dir_okay=False, writable=True),
    help="write the rows with their bad cells marked red to this .xlsx",
)
@click.option("--today", default=None, help="business date YYYY-MM-DD (default: today)")
@click.option("--show", default=20, show_default=True, type=int, help="errors to print")
@click.option("--max-rows", default=None, type=int, help="row limit (default: 20000)")
@click.option("--locale", default="zh_CN", show_default=True, help="zh_CN or en")
@friendly_errors
def import_students_command(
    file: str,
    school_code: str,
    dry_run: bool,
    errors_path: str | None,
    today: str | None,
    show: int,
    max_rows: int | None,
    locale: str,
) -> None:
    """Check FILE row by row (the registration rules and 查重) and register every student in
    it, or none. Exit 0 when registered (or clean with --dry-run), 1 when rows have errors,
    2 when the file or the options are unusable."""
    from pathlib import Path

    from sqlalchemy import select

    from .audit.context import audit_actor
    from .extensions import db
    from .models import School
    from .security.scope import Scope
    from .services.importing import (
        DEFAULT_LIMITS,
        ImportLimits,
        ImportRejected,
        commit,
        error_workbook,
    )
    from .services.importing import dry_run as check_file

    try:
        on = date.fromisoformat(today) if today else date.today()
    except ValueError:
        fail(f"--today {today}: write the date as YYYY-MM-DD")
    if max_rows is not None and max_rows < 1:
        fail(f"--max-rows {max_rows}: must be at least 1")
    limits = ImportLimits(
        max_rows=max_rows or DEFAULT_LIMITS.max_rows, max_bytes=DEFAULT_LIMITS.max_bytes
    )
    path = Path(file)
    data = path.read_bytes()
    app = _app()
    with app.app_context(), audit_actor("xueji import", reason="新生批量导入"):
        school = db.session.scalars(select(School).where(School.code == school_code)).first()
        if school is None:
            fail(f"--school {school_code}: no school has this 学校标识码")
        scope = Scope(role="Admin", kind="national")
        registered = 0
        try:
            if dry_run:
                report = check_file(
                    db.session,
                    scope,
                    school,
                    data,
                    path.name,
                    today=on,
                    locale=locale,
                    limits=limits,
                )
            else:
                registered = commit(
                    db.session,
                    scope,
                    school,
                    data,
                    path.name,
                    today=on,
                    username="xueji import",
                    locale=locale,
                    limits=limits,
                )
                db.session.commit()
        except ImportRejected as exc:
            db.session.rollback()
            report = exc.report
        else:
            if not dry_run:
                click.echo(
                    f"{path.name}: registered {registered} students at {school.code} {school.name}"
                )
                return
        db.session.rollback()
    if not report.readable:
        fail("; ".join(line for line in report.lines()))
    click.echo(
        f"{path.name}: {report.rows} rows, {report.valid_rows} valid, "
        f"{report.rows_with_errors} with errors"
    )
    if report.ok:
        click.echo("dry run: nothing written")
        return
    lines = report.lines()
    for line in lines[: max(show, 0)]:
        click.echo(line)
    if len(lines) > show:
        click.echo(f"… and {len(lines) - show} more")
    if errors_path:
        try:
            Path(errors_path).write_bytes(error_workbook(report, data))
        except OSError as exc:
            fail(f"--errors {errors_path}: cannot write it ({exc.strerror})")
        click.echo(f"errors marked in {errors_path}")
    click.echo("nothing written")
    sys.exit(1)


@import_group.command("template")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
@click.option("--locale", default="zh_CN", show_default=True, help="language of the 说明 sheet")
@friendly_errors
def import_template_command(out: str, locale: str) -> None:
    """Write the import template (.xlsx): the national form's headers, 说明, drop-downs."""
    from pathlib import Path

    from .services.importing import template_workbook

    app = _app()
    with app.app_context():
        data = template_workbook(locale)
    try:
        Path(out).write_bytes(data)
    except OSError as exc:
        fail(f"{out}: cannot write it ({exc.strerror})")
    click.echo(f"template written to {out}")


if __name__ == "__main__":
    main()
