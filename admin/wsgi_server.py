"""Production serving through gunicorn (not Flask's development server)."""

from __future__ import annotations

import gc
from typing import Any

from gunicorn.app.base import BaseApplication


def freeze_startup_heap(_worker: Any = None) -> None:
    """gunicorn's post_worker_init: move the objects of the loaded app (Flask, FAB, Dash,
    plotly: a few hundred thousand) out of the cyclic collector's reach. Otherwise a full
    collection walks them all, a pause of about 150–200 ms that lands on whichever request
    triggers it (seen in `python -m bench dashboards` as single slow requests)."""
    gc.collect()
    gc.freeze()


class _XuejiGunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from . import create_app

        return create_app()


def serve(host: str = "127.0.0.1", port: int = 8080, workers: int = 2) -> None:
    _XuejiGunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            # Browsers open idle "preconnect" sockets; each holds a thread for up to 5 s before
            # gunicorn parks it, so a few threads per worker were seen to stall page loads.
            "threads": 8,
            "worker_class": "gthread",
            "timeout": 120,
            "post_worker_init": freeze_startup_heap,
            "accesslog": "-",
            # Query strings can carry search terms (names, ID numbers): log the path only.
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
        }
    ).run()
