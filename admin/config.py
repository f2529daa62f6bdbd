"""Default configuration. Every deployment setting comes from XUEJI_* environment variables
(the public contract in README); nothing here needs editing to deploy."""

from __future__ import annotations

import os
import secrets
from datetime import date, timedelta
from pathlib import Path

from flask_appbuilder.const import AUTH_DB


class ConfigError(Exception):
    """A setting is unusable; the message names the variable and the rule."""


def data_dir() -> Path:
    return Path(os.environ.get("XUEJI_DATA_DIR", "./var")).expanduser().resolve()


def database_url() -> str:
    url = os.environ.get("XUEJI_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{data_dir() / 'xueji.db'}"


def warehouse_dir() -> Path:
    default = data_dir() / "warehouse"
    return Path(os.environ.get("XUEJI_WAREHOUSE_DIR", str(default))).expanduser().resolve()


def ensure_data_dir() -> Path:
    """Create the data folder and prove it is writable, or raise ConfigError."""
    path = data_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"XUEJI_DATA_DIR={path}: the data folder must be writable ({exc.strerror})"
        ) from exc
    return path


def secret_key() -> str:
    """XUEJI_SECRET_KEY, or a random key kept in the data folder so sessions survive restarts."""
    key = os.environ.get("XUEJI_SECRET_KEY")
    if key:
        if len(key) < 32:
            raise ConfigError("XUEJI_SECRET_KEY must be at least 32 characters long")
        return key
    path = data_dir() / "secret_key"
    try:
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        path.chmod(0o600)
        return key
    except OSError:
        # An unwritable data dir is reported by ensure_data_dir(); a process-local key is
        # enough for read-only commands.
        return secrets.token_hex(32)


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _int(name: str, default: int, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ConfigError(f"{name}={value}: must be a whole number") from exc
    if number < minimum:
        raise ConfigError(f"{name}={value}: must be at least {minimum}")
    return number


def login_hardening() -> dict[str, object]:
    """Captcha, lockout, password age, password reset by e-mail, cookies (admin/security)."""
    https = os.environ.get("XUEJI_HTTPS", "0") == "1"
    return {
        "XUEJI_CAPTCHA_ENABLED": _flag("XUEJI_CAPTCHA_ENABLED", True),
        "XUEJI_LOCKOUT_ATTEMPTS": _int("XUEJI_LOCKOUT_ATTEMPTS", 5, minimum=1),
        "XUEJI_LOCKOUT_MINUTES": _int("XUEJI_LOCKOUT_MINUTES", 15, minimum=1),
        # Failures per client address before it is locked; 0 = XUEJI_LOCKOUT_ATTEMPTS. Raise it
        # when many users share one address (a school behind NAT).
        "XUEJI_LOCKOUT_ADDRESS_ATTEMPTS": _int("XUEJI_LOCKOUT_ADDRESS_ATTEMPTS", 0),
        # Key prefix in Redis (one Redis can serve several XueJi installations).
        "XUEJI_LOCKOUT_PREFIX": os.environ.get("XUEJI_LOCKOUT_PREFIX", "xueji:lockout:"),
        # Number of trusted proxies in front of the app (werkzeug ProxyFix); 0 = none.
        "XUEJI_PROXY_FIX": _int("XUEJI_PROXY_FIX", 0),
        "XUEJI_PASSWORD_MAX_AGE_DAYS": _int("XUEJI_PASSWORD_MAX_AGE_DAYS", 90),
        "XUEJI_RESET_TOKEN_MINUTES": _int("XUEJI_RESET_TOKEN_MINUTES", 30, minimum=1),
        "XUEJI_SMTP_HOST": os.environ.get("XUEJI_SMTP_HOST", ""),
        "XUEJI_SMTP_PORT": _int("XUEJI_SMTP_PORT", 587, minimum=1),
        "XUEJI_SMTP_USER": os.environ.get("XUEJI_SMTP_USER", ""),
        "XUEJI_SMTP_PASSWORD": os.environ.get("XUEJI_SMTP_PASSWORD", ""),
        "XUEJI_SMTP_STARTTLS": _flag("XUEJI_SMTP_STARTTLS", True),
        "XUEJI_SMTP_FROM": os.environ.get("XUEJI_SMTP_FROM", ""),
        # Public address (scheme://host[:port]) used in e-mailed links instead of the Host header.
        "XUEJI_BASE_URL": os.environ.get("XUEJI_BASE_URL", ""),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_DURATION": timedelta(hours=8),
        # Flask refuses a session cookie signed longer ago than this (it is re-signed whenever
        # the session changes).
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
    }


def pseudonym_key() -> str:
    """XUEJI_PSEUDONYM_KEY, or a random key kept in the data folder (outside the warehouse
    folder) so that pseudonyms stay stable across snapshots of one installation."""
    key = os.environ.get("XUEJI_PSEUDONYM_KEY")
    if key:
        return key
    path = data_dir() / "pseudonym_key"
    if path.exists():
        return path.read_text().strip()
    ensure_data_dir()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def build_config() -> dict[str, object]:
    """The Flask/FAB configuration for this process."""
    return {
        "SECRET_KEY": secret_key(),
        "SQLALCHEMY_DATABASE_URI": database_url(),
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Alembic owns the DDL and `xueji init` owns roles/permissions (STACK_NOTES §6).
        "FAB_CREATE_DB": False,
        "FAB_UPDATE_PERMS": False,
        "AUTH_TYPE": AUTH_DB,
        "APP_NAME": "学籍 XueJi",
        "APP_THEME": "",
        "FAB_API_SWAGGER_UI": True,
        "FAB_SECURITY_MANAGER_CLASS": "admin.security.manager.RegistrySecurityManager",
        "FAB_ADD_SECURITY_PERMISSION_VIEW": False,
        "FAB_ADD_SECURITY_VIEW_MENU_VIEW": False,
        "FAB_ADD_SECURITY_PERMISSION_VIEWS_VIEW": False,
        "FAB_API_MAX_PAGE_SIZE": 100,
        "BABEL_DEFAULT_LOCALE": os.environ.get("XUEJI_DEFAULT_LOCALE", "zh"),
        "BABEL_DEFAULT_FOLDER": "translations",
        "LANGUAGES": {
            "zh": {"flag": "cn", "name": "中文"},
            "en": {"flag": "gb", "name": "English"},
        },
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("XUEJI_HTTPS", "0") == "1",
        "WTF_CSRF_ENABLED": True,
        "XUEJI_DATA_DIR": str(data_dir()),
        "XUEJI_WAREHOUSE_DIR": str(warehouse_dir()),
        "XUEJI_REDIS_URL": os.environ.get("XUEJI_REDIS_URL", ""),
        "XUEJI_AGE_TOLERANCE_YEARS": int(os.environ.get("XUEJI_AGE_TOLERANCE_YEARS", "2")),
        # Student photos and proof documents (admin/uploads): size limit of one upload, pixel
        # limit against decompression bombs, longest side of a stored photo.
        "XUEJI_UPLOAD_MAX_BYTES": int(
            os.environ.get("XUEJI_UPLOAD_MAX_BYTES", str(2 * 1024 * 1024))
        ),
        "XUEJI_UPLOAD_MAX_PIXELS": int(os.environ.get("XUEJI_UPLOAD_MAX_PIXELS", "25000000")),
        "XUEJI_PHOTO_MAX_SIDE": int(os.environ.get("XUEJI_PHOTO_MAX_SIDE", "1024")),
        # Contact details not confirmed with the family for this many months are listed in the
        # staleness report (学籍管理 › 联系方式核对).
        "XUEJI_CONTACT_STALE_MONTHS": _int("XUEJI_CONTACT_STALE_MONTHS", 12, minimum=1),
        # 课程表 (admin/services/timetable.py): lessons per day, Saturday lessons, and rooms
        # several classes may use at once (comma-separated, e.g. 操场,体育馆).
        "XUEJI_TIMETABLE_PERIODS": _int("XUEJI_TIMETABLE_PERIODS", 8, minimum=1),
        "XUEJI_TIMETABLE_SATURDAY": _flag("XUEJI_TIMETABLE_SATURDAY", False),
        "XUEJI_TIMETABLE_SHARED_ROOMS": os.environ.get(
            "XUEJI_TIMETABLE_SHARED_ROOMS", "操场,体育馆"
        ),
        **login_hardening(),
        **workflow_settings(),
        **diploma_settings(),
        **exam_settings(),
    }


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    value = value.strip().lower()
    if value not in choices:
        raise ConfigError(f"{name}={value}: must be one of {', '.join(choices)}")
    return value


def _strict_flag(name: str, default: bool) -> bool:
    """A yes/no setting where a typo must not silently mean "no"."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={value}: write true or false")


def exam_settings() -> dict[str, object]:
    """考试与成绩 (admin/services/exams.py): tie ranks "competition" (1, 2, 2, 4) or "dense"
    (1, 2, 2, 3); 缺考 left out of statistics ("exclude") or counted as 0 ("zero"); what
    parents see (the 2021 rules: scores yes, ranks no in 义务教育; ranks in 高中)."""
    return {
        "XUEJI_RANK_TIES": _choice("XUEJI_RANK_TIES", "competition", ("competition", "dense")),
        "XUEJI_SCORE_ABSENT": _choice("XUEJI_SCORE_ABSENT", "exclude", ("exclude", "zero")),
        # Above this many score rows an exam's totals, ranks and statistics are computed in
        # SQL (GROUP BY, RANK()/DENSE_RANK()); below it in Python. Both give the same results.
        "XUEJI_SQL_RANK_ROWS": _int("XUEJI_SQL_RANK_ROWS", 20_000),
        "XUEJI_PARENT_SCORES_COMPULSORY": _strict_flag("XUEJI_PARENT_SCORES_COMPULSORY", True),
        "XUEJI_PARENT_RANKS_COMPULSORY": _strict_flag("XUEJI_PARENT_RANKS_COMPULSORY", False),
        "XUEJI_PARENT_RANKS_SENIOR": _strict_flag("XUEJI_PARENT_RANKS_SENIOR", True),
    }


def diploma_settings() -> dict[str, object]:
    """Electronic diplomas (admin/services/diplomas.py): where the signing keys live (outside
    the database; back this folder up and keep it private), and how many public verification
    requests one client address may make per minute."""
    default = data_dir() / "keys"
    return {
        "XUEJI_DIPLOMA_KEY_DIR": str(
            Path(os.environ.get("XUEJI_DIPLOMA_KEY_DIR", str(default))).expanduser().resolve()
        ),
        "XUEJI_VERIFY_PER_MINUTE": _int("XUEJI_VERIFY_PER_MINUTE", 30, minimum=1),
    }


def workflow_settings() -> dict[str, object]:
    """学籍异动 settings that differ by province (admin/services/status_changes.py)."""
    holidays_file = os.environ.get("XUEJI_HOLIDAYS_FILE", "")
    holidays = ""
    if holidays_file:
        try:
            holidays = Path(holidays_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"XUEJI_HOLIDAYS_FILE={holidays_file}: cannot read the holiday list ({exc.strerror})"
            ) from None
        from .domain.calendar import parse_holiday_config

        _, problems = parse_holiday_config(holidays)
        if problems:
            raise ConfigError(
                f"XUEJI_HOLIDAYS_FILE={holidays_file}: "
                + "; ".join(f"{v.message('zh_CN')} / {v.message('en')}" for v in problems)
            )
    today = os.environ.get("XUEJI_TODAY", "")
    if today:
        try:
            date.fromisoformat(today)
        except ValueError:
            raise ConfigError(f"XUEJI_TODAY={today}: write the date as YYYY-MM-DD") from None
    return {
        # One date, date range or +working day per line (admin/domain/calendar.py).
        "XUEJI_HOLIDAYS": holidays,
        "XUEJI_STEP_WORKING_DAYS": _int("XUEJI_STEP_WORKING_DAYS", 10, minimum=1),
        # "off" lifts the summer freezes of 教基司厅函〔2017〕23号 (on by default).
        "XUEJI_FREEZES": os.environ.get("XUEJI_FREEZES", "on"),
        "XUEJI_PROVINCE_STEP_WITHIN_PROVINCE": _flag("XUEJI_PROVINCE_STEP_WITHIN_PROVINCE", False),
        "XUEJI_TRANSFER_SAME_GRADE_ONLY": _flag("XUEJI_TRANSFER_SAME_GRADE_ONLY", False),
        "XUEJI_TRANSFER_IN_GRADUATING_GRADE": _flag("XUEJI_TRANSFER_IN_GRADUATING_GRADE", True),
        # The business date (deadlines, freezes); empty = the calendar date. For demos/tests.
        "XUEJI_TODAY": today,
        # 综合素质评价 公示期 in working days (admin/services/evaluations.py).
        "XUEJI_EVALUATION_PUBLICITY_DAYS": _int("XUEJI_EVALUATION_PUBLICITY_DAYS", 5, minimum=1),
    }
