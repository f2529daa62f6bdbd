"""Code tables (Admin only): the national and XueJi code sets with validity dates."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..base_views import ScopedModelView
from ..lookups import RegistryInterface
from ..models import CodeItem


class CodeItemView(ScopedModelView):
    datamodel = RegistryInterface(CodeItem)
    class_permission_name = "CodeTable"
    list_title = _l("Code tables")
    list_columns = ["code_set", "code", "name_zh", "name_en", "std_code", "valid_from", "valid_to"]
    add_columns = [
        "code_set",
        "code",
        "name_zh",
        "name_en",
        "parent_code",
        "std_code",
        "valid_from",
        "valid_to",
        "sort_order",
    ]
    edit_columns = ["name_zh", "name_en", "std_code", "valid_to", "sort_order"]
    search_columns = ["code_set", "code", "name_zh", "name_en"]
    label_columns = {
        "code_set": _l("Code set"),
        "code": _l("Code"),
        "name_zh": _l("Chinese name"),
        "name_en": _l("English name"),
        "parent_code": _l("Parent code"),
        "std_code": _l("Standard code"),
        "valid_from": _l("Valid from"),
        "valid_to": _l("Valid to"),
        "sort_order": _l("Order"),
    }
    base_order = ("code_set", "asc")
