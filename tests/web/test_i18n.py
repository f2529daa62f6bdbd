"""UI text through Babel: Chinese by default, English on request, and catalogs that keep up
with the code (every `_l` string translated, committed .mo files compiled from their .po)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
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


@cache
def _extracted_msgids() -> frozenset[str]:
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
    return frozenset(found)


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


@pytest.fixture
def client(i18n_app):
    """A test client logged in as admin through the real login form (CSRF token + captcha)."""
    from tests.conftest import login_via_form

    test_client = i18n_app.test_client()
    response = login_via_form(test_client, "admin", PASSWORD)
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
    # Title and search fields (the empty list renders no column headers).
    for word in ("学生", "学籍号", "身份证件号", "年级", "学生当前状态"):
        assert word in text, word
    # Menu categories and items.
    for word in ("学籍管理", "学校管理", "系统管理", "家庭成员/监护人", "行政区划", "代码表"):
        assert word in text, word
    for english in ("Student number", "Student registry", "System administration", "Security"):
        assert english not in text, english


def test_lang_en_switches_to_english_and_back(client) -> None:
    assert client.get("/lang/en").status_code == 302
    text = _text(client.get("/studentview/list/"))
    for word in (
        "Students",
        "Student number",
        "Student registry",
        "School management",
        "System administration",
    ):
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


# Untranslated titles and labels in view modules owned elsewhere, as (view, attribute) pairs.
# Each one shows English in every locale (FAB's fallback: "Add School", a prettified column
# name). Remove an entry once its view sets the _l(...) text; do not add new ones.
KNOWN_GAPS = frozenset(
    {
        ("EnrollmentView", "add_title"),
        ("EnrollmentView", "edit_title"),
        ("SchoolView", "add_title"),
        ("SchoolView", "edit_title"),
        ("SchoolClassView", "add_title"),
        ("SchoolClassView", "edit_title"),
        ("SchoolYearView", "show_title"),
        ("SchoolYearView", "add_title"),
        ("SchoolYearView", "edit_title"),
        ("SchoolYearView", "label_columns['terms']"),
        ("RegionView", "show_title"),
        ("CodeItemView", "show_title"),
        ("CodeItemView", "add_title"),
        ("CodeItemView", "edit_title"),
    }
)


def test_every_view_label_is_translatable(i18n_app) -> None:
    """Titles and every column a list, show page, search form or (for writable views) an
    add/edit form displays go through Babel; FAB's fallback stays English in every locale."""
    from flask_appbuilder import ModelView
    from flask_babel.speaklater import LazyString
    from wtforms import HiddenField

    views = [
        v
        for v in i18n_app.appbuilder.baseviews
        if isinstance(v, ModelView) and type(v).__module__.startswith("admin.")
    ]
    assert views
    problems = set()
    for view in views:
        name = type(view).__name__
        writable = bool({"can_write", "can_add", "can_edit"} & set(view.base_permissions))
        titles = ["list_title", "show_title"] + (["add_title", "edit_title"] if writable else [])
        columns = [*view.list_columns, *view.show_columns, *view.search_columns]
        if writable:
            columns += [*view.add_columns, *view.edit_columns]
        for attr in titles:
            if not isinstance(getattr(view, attr), LazyString):
                problems.add((name, attr))
        extra = {**(view.add_form_extra_fields or {}), **(view.edit_form_extra_fields or {})}
        hidden = {k for k, f in extra.items() if getattr(f, "field_class", None) is HiddenField}
        for column in dict.fromkeys(columns):
            if column in hidden:  # control fields such as row_version show no label
                continue
            if not isinstance(view.label_columns.get(column), LazyString):
                problems.add((name, f"label_columns[{column!r}]"))
    new = sorted(problems - KNOWN_GAPS)
    assert not new, f"set an _l(...) text for: {new}"


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


def test_fab_builtin_strings_are_all_translated() -> None:
    """FAB's bundled zh catalog misses some of its own strings ("Add", "List Groups", …);
    admin/translations/fab_gaps.py marks them for our catalog. Any FAB string neither catalog
    translates (say, after a FAB upgrade) fails here: add it to fab_gaps.py and refresh."""
    import flask_appbuilder

    fab_dir = Path(flask_appbuilder.__file__).parent
    with open(fab_dir / "translations/zh/LC_MESSAGES/messages.po", "rb") as f:
        translated = {m.id for m in read_po(f) if m.id and m.string}
    translated |= {m.id for m in _po("zh") if m.id and m.string}
    method_map = [
        ("**/tests/**", "ignore"),
        ("**.py", "python"),
        ("**/templates/**.html", "jinja2"),
    ]
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
    used = {
        message[0] if isinstance(message, tuple) else message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(fab_dir), method_map, keywords=keywords
        )
    }
    assert "List Users" in used
    missing = sorted(used - translated)
    assert not missing, f"FAB strings without zh: {missing}; add them to fab_gaps.py, {REFRESH}"
