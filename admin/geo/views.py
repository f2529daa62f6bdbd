"""GB/T 2260 regions (reference data)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..base_views import ScopedModelRestApi, ScopedModelView
from ..lookups import RegistryInterface
from ..models import Region


class RegionView(ScopedModelView):
    datamodel = RegistryInterface(Region)
    class_permission_name = "Region"
    list_title = _l("Regions")
    list_columns = ["code", "name", "level", "parent"]
    show_columns = ["code", "name", "level", "parent", "valid_from", "valid_to"]
    search_columns = ["code", "name", "level"]
    label_columns = {
        "code": _l("Region code"),
        "name": _l("Name"),
        "level": _l("Level"),
        "parent": _l("Parent region"),
        "valid_from": _l("Valid from"),
        "valid_to": _l("Valid to"),
    }
    base_order = ("code", "asc")
    base_permissions = ["can_read"]


class RegionApi(ScopedModelRestApi):
    resource_name = "region"
    class_permission_name = "Region"
    datamodel = RegistryInterface(Region)
    list_columns = ["code", "name", "level", "parent.code"]
    show_columns = list_columns
    search_columns = ["code", "name", "level", "parent"]
    base_permissions = ["can_read"]
