"""Errors of the analytics layer (re-exported by `analytics.engine` and `analytics.scope`)."""

from __future__ import annotations


class UnknownMetric(KeyError):
    """No metric of that name in the catalog."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0]) if self.args else "unknown metric"


class BadParameter(ValueError):
    """A parameter is unknown to the metric or its value is malformed."""


class ScopeViolation(PermissionError):
    """A user-chosen filter would widen the user's scope (another region or school)."""


class CatalogError(RuntimeError):
    """A metric file is malformed (missing header field, undeclared parameter, …)."""
