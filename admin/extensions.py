"""Extension singletons (Superset's shape). The AppBuilder is created per app in
create_app(): a module-global AppBuilder serves only one app per process (STACK_NOTES §1.1)."""

from __future__ import annotations

from flask_appbuilder.utils.legacy import get_sqla_class
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

db = get_sqla_class()()
csrf = CSRFProtect()
migrate = Migrate()
