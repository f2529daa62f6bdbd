"""Base classes for every registry screen and REST API: permissions per resource, the row
scope on every path FAB offers (list, show, edit, delete, actions, related views, search,
REST verbs), scope checks on create and move, and optimistic locking."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import ModelRestApi, ModelView
from flask_appbuilder import expose as expose_view
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import FilterRelationOneToManyEqual
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import StringField

from .domain.messages import Violation
from .extensions import db
from .lookups import lookup_field_for
from .security.roles import METHOD_PERMISSIONS
from .security.scope import Scope, criterion_for, school_in_scope, scope_for_user


def current_scope() -> Scope:
    """The signed-in user's scope, computed once per request."""
    cached = getattr(g, "_xueji_scope", None)
    if cached is None:
        cached = scope_for_user(db.session, getattr(g, "user", None))
        g._xueji_scope = cached
    return cached


def business_date() -> date:
    """Today, or XUEJI_TODAY when a demo or a test fixes the business date (deadlines,
    freezes, graduation and promotion dates)."""
    from flask import current_app

    fixed = current_app.config.get("XUEJI_TODAY")
    return date.fromisoformat(fixed) if fixed else date.today()


def current_locale() -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return str(locale) if locale else "zh"


class ScopeFilter(BaseFilter):
    """FAB base filter limiting any model to the current user's scope."""

    name = "Scope"
    arg_name = "scope"

    def apply(self, query: Any, value: Any) -> Any:
        return query.filter(criterion_for(self.model, current_scope()))


def scoped_base_filters() -> list[list[Any]]:
    return [["id", ScopeFilter, lambda: None]]


class OutOfScope(Exception):
    """A create or move would put a record outside the user's scope."""


class StaleRecord(Exception):
    """The record changed after the form or the client read it."""


def stale_message(item: Any) -> str:
    who = getattr(item, "updated_by", None) or _("another user")
    when = getattr(item, "updated_at", None)
    stamp = when.strftime("%Y-%m-%d %H:%M:%S") if when else ""
    return _(
        "This record was changed by %(who)s at %(when)s after you opened it — "
        "reload it and apply your change again.",
        who=who,
        when=stamp,
    )


class ScopedModelView(ModelView):
    """A FAB ModelView whose every path is scoped and whose permissions are per resource.

    Subclasses set `datamodel`, `class_permission_name` and, for records that belong to a
    school, `school_of(item)` so that creating or moving a row is checked too."""

    method_permission_name = METHOD_PERMISSIONS
    versioned = False  # set True on models with a `version` column (optimistic locking)

    def __init__(self, **kwargs: Any) -> None:
        self.base_filters = list(self.base_filters or []) + scoped_base_filters()
        self._install_lookups()
        if self.versioned:
            from wtforms import HiddenField

            self.edit_form_extra_fields = dict(self.edit_form_extra_fields or {})
            self.edit_form_extra_fields["row_version"] = HiddenField("row_version")
            # FAB builds the form from edit_columns/fieldsets only; hidden_tag() renders it.
            if self.edit_fieldsets:
                title, spec = self.edit_fieldsets[0]
                fields = [*spec["fields"], "row_version"]
                self.edit_fieldsets = [
                    (title, {**spec, "fields": fields}),
                    *self.edit_fieldsets[1:],
                ]
            elif self.edit_columns:
                self.edit_columns = [*self.edit_columns, "row_version"]
        super().__init__(**kwargs)

    def _install_lookups(self) -> None:
        """Relations to students, schools and classes are typed lookups, not selects of
        every row (admin/lookups.py), in search, add and edit forms."""
        datamodel = self.datamodel
        labels = self.label_columns or {}

        def columns(plain: list[str] | None, fieldsets: Any) -> list[str]:
            if fieldsets:
                return [f for _, spec in fieldsets for f in spec["fields"]]
            return list(plain or [])

        def lookups(cols: list[str], owner: type | None) -> dict[str, Any]:
            fields: dict[str, Any] = {}
            for col in cols:
                if not datamodel.is_relation_many_to_one(col):
                    continue
                field = lookup_field_for(datamodel.get_related_model(col))
                if field is None:
                    continue
                (fk,) = datamodel.list_properties[col].local_columns
                fields[col] = field(labels.get(col, col), required=not fk.nullable, owner=owner)
            return fields

        self.search_form_extra_fields = {
            **{
                col: StringField(labels.get(col, col))
                for col in lookups(list(self.search_columns or []), None)
            },
            **(self.search_form_extra_fields or {}),
        }
        self.add_form_extra_fields = {
            **lookups(columns(self.add_columns, self.add_fieldsets), None),
            **(self.add_form_extra_fields or {}),
        }
        self.edit_form_extra_fields = {
            **lookups(columns(self.edit_columns, self.edit_fieldsets), datamodel.obj),
            **(self.edit_form_extra_fields or {}),
        }

    # --- create / move -------------------------------------------------------
    def school_of(self, item: Any) -> int | None:
        """The school a new or edited row belongs to; None = not school-bound."""
        return None

    def _check_school(self, item: Any) -> None:
        if not self.school_bound:
            return
        school_id = self.school_of(item)
        if not school_in_scope(db.session, current_scope(), school_id):
            raise OutOfScope(_("You may not place a record in that school."))

    school_bound = False

    def pre_add(self, item: Any) -> None:
        with db.session.no_autoflush:
            self._check_school(item)

    def pre_update(self, item: Any) -> None:
        # FAB has already copied the form onto `item`: nothing here may autoflush it, or
        # the version would move before it is compared.
        with db.session.no_autoflush:
            if self.versioned:
                sent = request.form.get("row_version")
                if sent is None or str(item.version) != sent:
                    raise StaleRecord(stale_message(item))
            self._check_school(item)

    def prefill_form(self, form: Any, pk: Any) -> None:
        if self.versioned and hasattr(form, "row_version"):
            item = self.datamodel.get(pk, self._base_filters)
            if item is not None:
                form.row_version.data = str(item.version)

    def process_form(self, form: Any, is_created: bool) -> None:
        # row_version is a control field (read from request.form in pre_update), not a
        # column to copy onto the model.
        if hasattr(form, "row_version"):
            del form.row_version

    # --- actions: FAB fetches action rows without base filters (STACK_NOTES §1.4) ---
    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name: str, pk: Any) -> Any:
        if self.datamodel.get(self._deserialize_pk_if_composite(pk), self._base_filters) is None:
            abort(404)
        return super().action(name, pk)

    @expose("/action_post", methods=["POST"])
    def action_post(self) -> Any:
        pks = request.form.getlist("rowid")
        for pk in pks:
            if (
                self.datamodel.get(self._deserialize_pk_if_composite(pk), self._base_filters)
                is None
            ):
                flash(
                    _("Some selected records are outside your scope; nothing was changed."),
                    "danger",
                )
                return redirect(self.get_redirect())
        return super().action_post()

    # FileColumn downloads are served through admin/uploads with their own scope check.
    @expose("/download/<string:filename>")
    def download(self, filename: str) -> Any:
        abort(404)


class ActionOnlyModelView(ScopedModelView):
    """Rows created by their own screen and changed only by service actions (requests,
    certificates): FAB's add goes to ``add_endpoint``; edit and delete do not exist."""

    add_endpoint = ""

    @expose_view("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> Any:
        return redirect(url_for(self.add_endpoint))

    @expose_view("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk: Any) -> Any:
        abort(404)

    @expose_view("/delete/<pk>", methods=["GET", "POST"])
    @has_access
    def delete(self, pk: Any) -> Any:
        abort(404)

    def item_or_404(self, pk: Any) -> Any:
        """The row, if it is in the user's scope."""
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        return item


def school_from_request() -> Any:
    """The school a batch screen works on: ``?school=<code>`` or the user's own school, and
    only if it is in the user's scope (else None)."""
    from .models import School

    scope = current_scope()
    code = (request.values.get("school") or "").strip()
    if code:
        school = db.session.scalars(select(School).where(School.code == code)).first()
    elif scope.school_id is not None:
        school = db.session.get(School, scope.school_id)
    else:
        school = None
    if school is not None and not school_in_scope(db.session, scope, school.id):
        return None
    return school


class ScopedModelRestApi(ModelRestApi):
    """A ModelRestApi with the same scope, create/move checks and optimistic locking, and
    JSON errors that name the field and the rule (never a 500 for bad input)."""

    method_permission_name = METHOD_PERMISSIONS
    allow_browser_login = False  # JWT only: cookie-authenticated writes would skip CSRF
    school_bound = False
    versioned = False

    def __init__(self) -> None:
        self.base_filters = list(self.base_filters or []) + scoped_base_filters()
        super().__init__()

    def _init_properties(self) -> None:
        super()._init_properties()
        # Programs also filter by the related row's id (opr rel_o_m), beside the typed
        # lookup that replaced FAB's relation filters (admin/lookups.py).
        own = self._filters.get_search_filters()
        for col in self.search_columns:
            filters = own.get(col, [])
            if self.datamodel.is_relation_many_to_one(col) and not any(
                isinstance(f, FilterRelationOneToManyEqual) for f in filters
            ):
                own[col] = [*filters, FilterRelationOneToManyEqual(col, self.datamodel)]

    def school_of(self, item: Any) -> int | None:
        return None

    def _coerce_pk(self, pk: Any) -> Any:
        # FAB routes GET /<int:pk>; a string primary key (region codes) must be compared
        # as a string, or PostgreSQL refuses "varchar = integer".
        column = self.datamodel.obj.__mapper__.primary_key[0]
        if column.type.python_type is str:
            return str(pk)
        return pk

    def get_headless(self, pk: Any, **kwargs: Any) -> Any:
        return super().get_headless(self._coerce_pk(pk), **kwargs)

    def delete_headless(self, pk: Any) -> Any:
        return super().delete_headless(self._coerce_pk(pk))

    def _refuse(self, status: int, violations: list[Violation]) -> Any:
        locale = request.args.get("_l_") or current_locale()
        return self.response(
            status,
            message=[v.message(locale) for v in violations],
            errors=[v.to_dict(locale) for v in violations],
        )

    def _check_school(self, item: Any) -> Any:
        if self.school_bound and not school_in_scope(
            db.session, current_scope(), self.school_of(item)
        ):
            return self._refuse(403, [Violation("scope.school", "school", {})])
        return None

    def validate_item(self, item: Any, is_new: bool) -> list[Violation]:
        """Domain validation hook: subclasses return violations for the loaded item."""
        return []

    def post_headless(self) -> Any:
        if not request.is_json:
            return self.response_400(message="Request is not JSON")
        from marshmallow import ValidationError

        try:
            item = self.add_model_schema.load(request.json)
        except ValidationError as err:
            return self.response_422(message=err.messages)
        refused = self._check_school(item)
        if refused is not None:
            db.session.rollback()
            return refused
        problems = self.validate_item(item, True)
        if problems:
            db.session.rollback()
            return self._refuse(422, problems)
        return self._save(item, 201)

    def put_headless(self, pk: Any) -> Any:
        pk = self._coerce_pk(pk)
        item = self.datamodel.get(pk, self._base_filters)
        if not request.is_json:
            return self.response_400(message="Request is not JSON")
        if not item:
            return self.response_404()
        from marshmallow import ValidationError

        payload = dict(request.json or {})
        if self.versioned:
            sent = request.headers.get("If-Match", payload.pop("version", None))
            if sent is None:
                return self._refuse(428, [Violation("version.required", "version", {})])
            if str(sent).strip('"') != str(item.version):
                return self.response(409, message=stale_message(item), current_version=item.version)
        # No autoflush until saved: the checks' queries must not write a half-checked edit
        # (and validate_item may still divert it, e.g. to a reviewer).
        with db.session.no_autoflush:
            try:
                data = self._merge_update_item(item, payload)
                item = self.edit_model_schema.load(data, instance=item)
            except ValidationError as err:
                db.session.rollback()
                return self.response_422(message=err.messages)
            refused = self._check_school(item)
            if refused is not None:
                db.session.rollback()
                return refused
            problems = self.validate_item(item, False)
        if problems:
            db.session.rollback()
            return self._refuse(422, problems)
        return self._save(item, 200)

    def _save(self, item: Any, status: int) -> Any:
        from sqlalchemy.exc import IntegrityError
        from sqlalchemy.orm.exc import StaleDataError

        try:
            db.session.add(item)
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            return self.response(409, message=stale_message(item))
        except IntegrityError as exc:
            db.session.rollback()
            return self._refuse(422, [integrity_violation(exc)])
        schema = self.add_model_schema if status == 201 else self.edit_model_schema
        body: dict[str, Any] = {"result": schema.dump(item, many=False)}
        if status == 201:
            body["id"] = self.datamodel.get_pk_value(item)
        return self.response(status, **body)

    @expose("/<pk>/version", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def get_version(self, pk: Any) -> Any:
        """Current optimistic-lock version of a row (send it back as If-Match)."""
        item = self.datamodel.get(pk, self._base_filters)
        if item is None or not self.versioned:
            return self.response_404()
        return self.response(200, version=item.version)


def integrity_violation(exc: Exception) -> Violation:
    text = str(getattr(exc, "orig", exc))
    if "id_number" in text or "uq_student_id_document" in text:
        return Violation("id_number.duplicate", "id_number", {})
    if "student_number" in text:
        return Violation("student_number.duplicate", "student_number", {})
    if "uq_enrollment_active" in text or "enrollment" in text:
        return Violation("enrollment.duplicate", "school_year", {})
    return Violation("database.constraint", "record", {})


__all__ = [
    "OutOfScope",
    "ScopedModelRestApi",
    "ScopedModelView",
    "StaleRecord",
    "ActionOnlyModelView",
    "school_from_request",
    "_l",
    "current_scope",
]
