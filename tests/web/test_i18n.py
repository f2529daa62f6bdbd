"""UI text through Babel: Chinese by default, English on request, and catalogs that keep up
with the code (every `_l` string translated, committed .mo files compiled from their .po)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
ADMIN = ROOT / "admin"
TRANSLATIONS = ADMIN / "translations"
LOCALES = ("zh", "en")
PASSWORD = "Xueji-Test-2026!"
REFRESH = "see admin/translations/README.md (extract -> update -> compile)"


# --- helpers -----------------------------------------------------------------------------------


def _po(locale: str) -> Catalog:
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


def _mo(path: Path) -> Catalog:
    with open(path, "rb") as f:
        return read_mo(f)


def _messages(catalog: Catalog) -> dict[object, object]:
    """msgid -> msgstr of the translated, non-header entries (what a .mo carries)."""
    return {(m.context, m.id): m.string for m in catalog if m.id and m.string and not m.fuzzy}


def _extracted_msgids() -> set[str]:
    """The strings `pybabel extract -F babel.cfg -k lazy_gettext -k _l ... admin` would find."""
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f, filename=str(ROOT / "babel.cfg"))
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ADMIN), method_map, options_map, keywords=keywords
    ):
        # Plural keywords yield a tuple; its first element is the msgid.
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _text(response) -> str:
    """The visible text of a page (scripts dropped, tags replaced by spaces)."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<script\b.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def i18n_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """An initialised app on SQLite, with the stock default locale and an Admin account."""
    from tests.conftest import make_app

    folder = tmp_path_factory.mktemp("i18n")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("XUEJI_DEFAULT_LOCALE", raising=False)
        application = make_app(f"sqlite:///{folder / 'x.db'}", folder)
    from admin.extensions import db
    from admin.services.accounts import create_account
    from admin.services.setup import initialize

    with application.app_context():
        initialize()
        create_account(username="admin", password=PASSWORD, role="Admin")
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _csrf_token(response) -> str:
    html = response.get_data(as_text=True)
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html)
    assert match, "no csrf_token field on the login form"
    value = re.search(r'value="([^"]+)"', match.group(0))
    assert value, "csrf_token field has no value"
    return value.group(1)


@pytest.fixture
def client(i18n_app):
    """A test client logged in as admin through the real login form."""
    test_client = i18n_app.test_client()
    page = test_client.get("/login/")
    assert page.status_code == 200
    response = test_client.post(
        "/login/",
        data={"username": "admin", "password": PASSWORD, "csrf_token": _csrf_token(page)},
    )
    assert response.status_code == 302, "login failed"
    assert "/login" not in response.headers["Location"]
    return test_client


# --- rendered pages ----------------------------------------------------------------------------


def test_login_page_is_chinese_by_default(i18n_app) -> None:
    assert i18n_app.config["BABEL_DEFAULT_LOCALE"] == "zh"
    page = i18n_app.test_client().get("/login/")
    assert page.status_code == 200
    assert "登录" in _text(page)


def test_student_list_is_chinese_by_default(client) -> None:
    page = client.get("/studentview/list/")
    assert page.status_code == 200
    text = _text(page)
    for word in ("学生", "学籍号", "性别", "身份证件号", "学生当前状态"):
        assert word in text, word
    # Menu categories and items.
    for word in ("学籍管理", "学校管理", "系统管理", "家庭成员/监护人", "行政区划", "代码表"):
        assert word in text, word
    for english in ("Student number", "Student registry", "School management", "Code tables"):
        assert english not in text, english


def test_lang_en_switches_to_english_and_back(client) -> None:
    assert client.get("/lang/en").status_code == 302
    text = _text(client.get("/studentview/list/"))
    for word in ("Students", "Student number", "Student registry", "School management", "System"):
        assert word in text, word
    for chinese in ("学籍号", "学籍管理", "学校管理", "系统管理"):
        assert chinese not in text, chinese

    assert client.get("/lang/zh").status_code == 302
    text = _text(client.get("/studentview/list/"))
    assert "学籍号" in text and "Student number" not in text


def test_every_screen_renders_in_chinese(client) -> None:
    expected = {
        "/studentview/list/": "学籍号",
        "/guardianview/list/": "家庭成员/监护人",
        "/enrollmentview/list/": "就读记录",
        "/schoolview/list/": "学校标识码",
        "/schoolclassview/list/": "班级",
        "/schoolyearview/list/": "学年",
        "/regionview/list/": "行政区划代码",
        "/codeitemview/list/": "中文名称",
        "/regionview/show/110000": "上级行政区划",
    }
    for url, word in expected.items():
        page = client.get(url)
        assert page.status_code == 200, url
        assert word in _text(page), (url, word)


def test_every_view_label_is_translatable(i18n_app) -> None:
    """Titles and every column a list, show page or search form displays go through Babel;
    FAB's fallback (a prettified column name) would stay English in every locale."""
    from flask_appbuilder import ModelView
    from flask_babel.speaklater import LazyString

    views = [
        v
        for v in i18n_app.appbuilder.baseviews
        if isinstance(v, ModelView) and type(v).__module__.startswith("admin.")
    ]
    assert views
    problems = []
    for view in views:
        name = type(view).__name__
        for attr in ("list_title", "show_title"):
            if not isinstance(getattr(view, attr), LazyString):
                problems.append(f"{name}.{attr}")
        columns = [*view.list_columns, *view.show_columns, *view.search_columns]
        for column in dict.fromkeys(columns):
            if not isinstance(view.label_columns.get(column), LazyString):
                problems.append(f"{name}.label_columns[{column!r}]")
    assert not problems, "add an _l(...) label for: " + ", ".join(problems)


# --- catalogs ----------------------------------------------------------------------------------


def test_zh_catalog_is_complete() -> None:
    catalog = _po("zh")
    assert len(catalog) > 0
    empty = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not empty, f"untranslated zh msgids: {empty}"
    assert not fuzzy, f"fuzzy zh entries (review, then drop the flag): {fuzzy}"


def test_en_catalog_falls_back_to_the_msgid() -> None:
    odd = {m.id: m.string for m in _po("en") if m.id and m.string and m.string != m.id}
    assert not odd, f"en msgstrs must be empty or equal to the msgid: {odd}"


@pytest.mark.parametrize("locale", LOCALES)
def test_committed_mo_matches_po(locale: str, tmp_path: Path) -> None:
    folder = TRANSLATIONS / locale / "LC_MESSAGES"
    committed = folder / "messages.mo"
    assert committed.is_file(), f"{committed} missing: run pybabel compile ({REFRESH})"
    fresh = tmp_path / "messages.mo"
    with open(fresh, "wb") as f:
        write_mo(f, _po(locale))
    assert _messages(_mo(committed)) == _messages(_mo(fresh)), (
        f"{committed} is stale: run pybabel compile ({REFRESH})"
    )


def test_mo_round_trip_is_lossless() -> None:
    """Guards the comparison above: a compiled .mo reads back as the .po's messages."""
    buffer = BytesIO()
    write_mo(buffer, _po("zh"))
    buffer.seek(0)
    assert _messages(read_mo(buffer)) == _messages(_po("zh"))


@pytest.mark.parametrize("locale", LOCALES)
def test_every_code_string_is_in_the_catalog(locale: str) -> None:
    extracted = _extracted_msgids()
    assert {"Students", "Student number", "Student registry"} <= extracted
    missing = sorted(extracted - {m.id for m in _po(locale) if m.id})
    assert not missing, f"not in the {locale} catalog: {missing}; {REFRESH}"


def test_template_is_up_to_date() -> None:
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        template = {m.id for m in read_po(f) if m.id}
    assert template == _extracted_msgids(), f"messages.pot is stale; {REFRESH}"


def test_shared_msgids_keep_fabs_translation() -> None:
    """Our catalog is merged over FAB's and wins; a msgid FAB also uses must keep FAB's zh
    wording, or FAB's own screens (users, roles, …) would change."""
    import flask_appbuilder

    fab_po = Path(flask_appbuilder.__file__).parent / "translations/zh/LC_MESSAGES/messages.po"
    with open(fab_po, "rb") as f:
        fab = {m.id: m.string for m in read_po(f) if m.id and m.string}
    ours = {m.id: m.string for m in _po("zh") if m.id}
    clashes = {k: (ours[k], fab[k]) for k in ours.keys() & fab.keys() if ours[k] != fab[k]}
    assert not clashes, f"(ours, FAB's) differ: {clashes}; use a distinct msgid"
