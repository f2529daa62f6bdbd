"""Dash dashboards mounted on the admin server (built in the warehouse issue)."""
