"""Search filters, form fields and a capped record count for tables of national size.

FAB renders every many-to-one relation as a ``<select>`` listing the whole related table,
in search forms and in add/edit forms alike: for a province officer that is tens of
thousands of schools and classes and a million students per page view, and FAB counts
every match of a list query exactly.  Here those relations become typed lookups instead —
a school by 学校标识码 or name, a class by name, a student by 学籍号 — resolved inside the
user's scope, and list counts stop at ``COUNT_CAP`` ("10,000+").
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.models.filters import BaseFilter, Filters
from flask_appbuilder.models.sqla.filters import (
    FilterStartsWith,
    SQLAFilterConverter,
    get_field_setup_query,
)
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, select
from wtforms import StringField, ValidationError

COUNT_CAP = 10_000


class CappedCount(int):
    """A record count that stopped at the cap: pagination sees the number, people see
    "10,000+"."""

    def __str__(self) -> str:
        return f"{COUNT_CAP:,}+"


def _like_prefix(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


class FilterPrefix(FilterStartsWith):
    """ "Starts with" as ``LIKE 'v%'`` (FAB uses ILIKE, which no btree index serves); the
    registry's searchable text is Chinese names and digit codes, where case does not
    arise."""

    def apply(self, query: Any, value: Any) -> Any:
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field.like(_like_prefix(str(value)), escape="\\"))


class FilterSchoolLookup(BaseFilter):
    """A school relation matched by 学校标识码 (digits: code prefix) or by name (contains)."""

    name = _l("Code or name")
    arg_name = "school"

    def apply(self, query: Any, value: Any) -> Any:
        from .models import School

        text = str(value or "").strip()
        if not text:
            return query
        if text.isdigit():
            matches = select(School.id).where(School.code.like(_like_prefix(text), escape="\\"))
        else:
            pattern = "%" + _like_prefix(text)
            matches = select(School.id).where(School.name.like(pattern, escape="\\"))
        column = getattr(self.model, self.column_name).property.local_columns
        (local,) = column
        return query.filter(local.in_(matches))


class FilterClassLookup(BaseFilter):
    """A class relation matched by class name (contains), e.g. "三年级(2)班" or "(2)班"."""

    name = _l("Name contains")
    arg_name = "class"

    def apply(self, query: Any, value: Any) -> Any:
        from .models import SchoolClass

        text = str(value or "").strip()
        if not text:
            return query
        pattern = "%" + _like_prefix(text)
        matches = select(SchoolClass.id).where(SchoolClass.name.like(pattern, escape="\\"))
        (local,) = getattr(self.model, self.column_name).property.local_columns
        return query.filter(local.in_(matches))


def lookup_filters() -> dict[type, list[type[BaseFilter]]]:
    from .models import School, SchoolClass

    return {School: [FilterSchoolLookup], SchoolClass: [FilterClassLookup]}


class RegistryFilterConverter(SQLAFilterConverter):
    def convert(self, col_name: str) -> list[BaseFilter]:
        datamodel = self.datamodel
        if datamodel.is_relation_many_to_one(col_name):
            found = lookup_filters().get(datamodel.get_related_model(col_name))
            if found:
                return [flt(col_name, datamodel) for flt in found]
        # Same filters in FAB's order (URLs keep their _flt_<n> indexes), with "starts
        # with" as an indexable LIKE.
        return [
            FilterPrefix(col_name, datamodel) if type(flt) is FilterStartsWith else flt
            for flt in super().convert(col_name) or []
        ]


class RegistryFilters(Filters):
    def rest_add_filters(self, data: list[dict[str, Any]]) -> None:
        # FAB maps a REST `opr` to its own filter class first (so `sw` would be ILIKE);
        # the column's own filters take precedence here.
        rest: list[dict[str, Any]] = []
        for item in data:
            col, opr = item.get("col"), item.get("opr")
            own = next((f for f in self._search_filters.get(col, []) if f.arg_name == opr), None)
            if own is not None and col in self.search_columns and "value" in item:
                flt = own if isinstance(own, BaseFilter) else own(col, self.datamodel)
                self._add_filter(flt, item["value"])
            else:
                rest.append(item)
        if rest:
            super().rest_add_filters(rest)


class RegistryInterface(SQLAInterface):
    """SQLAInterface with the lookups above and a list count capped at ``COUNT_CAP``."""

    filter_converter_class = RegistryFilterConverter

    def get_filters(
        self, search_columns: list[str] | None = None, search_filters: Any = None
    ) -> Filters:
        return RegistryFilters(self.filter_converter_class, self, search_columns, search_filters)

    def query_count(self, query: Any, filters: Any = None, select_columns: Any = None) -> int:
        # Filters only: the list's display columns (select_columns) would add LEFT JOINs,
        # and with those PostgreSQL 15 no longer turns LIKE '王%' into an index range.
        # Count rows without reading any column (an index alone can answer) and stop at
        # the cap.
        del select_columns
        inner = self._apply_inner_all(query, filters, select_columns=None, aliases_mapping={})
        limited = (
            inner.statement.with_only_columns(literal(1))
            .select_from(self.obj)
            .order_by(None)
            .limit(COUNT_CAP + 1)
            .subquery()
        )
        count = int(self.session.query(func.count()).select_from(limited).scalar() or 0)
        return CappedCount(count) if count > COUNT_CAP else count


# --- form fields -----------------------------------------------------------------------


class LookupField(StringField):
    """A many-to-one relation typed as a code and resolved inside the user's scope.

    ``data`` is the related object (or None); FAB may also set it directly when the
    relation comes from a related view's filter."""

    model_name = ""
    code_attr = ""
    not_found = _l("No record with this code in your scope.")

    def __init__(
        self, label: Any = None, *, required: bool = False, owner: type | None = None, **kw: Any
    ) -> None:
        super().__init__(label, **kw)
        self.flags.required = required
        self.owner = owner  # the model being edited, for lookups that depend on it

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw = str(valuelist[0]).strip() if valuelist else ""
        self.data = None

    def process_data(self, value: Any) -> None:
        self.data = value
        self.raw = getattr(value, self.code_attr, "") if value is not None else ""

    def _value(self) -> str:
        if self.data is not None:
            return str(getattr(self.data, self.code_attr, ""))
        return getattr(self, "raw", "")

    def lookup(self, form: Any, code: str) -> Any:
        from .base_views import current_scope
        from .extensions import db
        from .models import School, SchoolClass, Student
        from .security.scope import criterion_for

        model = {"Student": Student, "School": School, "SchoolClass": SchoolClass}[self.model_name]
        column = getattr(model, self.code_attr)
        return db.session.scalars(
            select(model).where(column == code, criterion_for(model, current_scope())).limit(2)
        ).first()

    def pre_validate(self, form: Any) -> None:
        if self.data is not None:
            return
        if not getattr(self, "raw", ""):
            if self.flags.required:
                raise ValidationError(_l("This field is required."))
            return
        found = self.lookup(form, self.raw)
        if found is None:
            raise ValidationError(self.not_found)
        self.data = found


class StudentNumberField(LookupField):
    model_name = "Student"
    code_attr = "student_number"
    not_found = _l("No student with this student number in your scope.")


class SchoolCodeField(LookupField):
    model_name = "School"
    code_attr = "code"
    not_found = _l("No school with this school code in your scope.")


class ClassNameField(LookupField):
    """A class typed by name, looked up in the school and school year chosen on the same
    form (or those of the record being edited)."""

    model_name = "SchoolClass"
    code_attr = "name"
    not_found = _l("No class with this name in that school and school year.")

    def lookup(self, form: Any, code: str) -> Any:
        from .base_views import current_scope
        from .extensions import db
        from .models import SchoolClass
        from .security.scope import criterion_for

        school = getattr(getattr(form, "school", None), "data", None)
        year = getattr(getattr(form, "school_year", None), "data", None)
        if (school is None or year is None) and self.owner is not None:
            # An edit form carries only the class; FAB sets the edited row's key as _id.
            editing = db.session.get(self.owner, getattr(form, "_id", None))
            school = school or getattr(editing, "school", None)
            year = year or getattr(editing, "school_year", None)
        if school is None or year is None:
            return None
        return db.session.scalars(
            select(SchoolClass).where(
                SchoolClass.name == code,
                SchoolClass.school_id == school.id,
                SchoolClass.school_year_id == year.id,
                criterion_for(SchoolClass, current_scope()),
            )
        ).first()


def lookup_field_for(model: type) -> type[LookupField] | None:
    from .models import School, SchoolClass, Student

    return {Student: StudentNumberField, School: SchoolCodeField, SchoolClass: ClassNameField}.get(
        model
    )
