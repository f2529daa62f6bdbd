"""Flask-AppBuilder's own UI strings that its bundled `zh` catalog leaves untranslated.

Never imported: it only marks the msgids for `pybabel extract`, so that our catalog (which
Flask-Babel merges over FAB's) supplies their Chinese. tests/web/test_i18n.py lists any FAB
string that neither catalog translates, e.g. after a FAB upgrade; add it here and refresh.
"""

from flask_babel import lazy_gettext as _l

FAB_STRINGS = (
    # List and show pages (templates/appbuilder/general/lib.html)
    _l("Add"),
    _l("Show"),
    _l("Edit"),
    _l("Delete"),
    _l("Are you sure you want to delete this item?"),
    # Search filters
    _l("Contains (insensitive)"),
    _l("In"),
    _l("Not In"),
    # Errors
    _l("Database Error"),
    # Security screens: users, groups, roles
    _l("Groups"),
    _l("List Groups"),
    _l("Add Group"),
    _l("Edit Group"),
    _l("Show Group"),
    _l("Edit User Information"),
    _l("User information changed"),
    _l("Either select a role or a group"),
    _l("The user's password for authentication"),
    _l("User(s) exists in the group, cannot delete"),
    _l("User(s) exists in the role, cannot delete"),
    _l(
        "Must have at least two capital letters, one special character, two digits, "
        "three lower case letters and a minimal length of 10."
    ),
    _l("Sign In with "),
)
