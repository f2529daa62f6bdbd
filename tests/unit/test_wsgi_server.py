"""Serving options that matter to users but are easy to lose."""

from __future__ import annotations

import gc

from admin import wsgi_server


def test_workers_freeze_the_startup_heap(monkeypatch):
    seen: dict = {}

    class Recorder(wsgi_server._XuejiGunicorn):
        def run(self) -> None:
            seen.update(self.options)

    monkeypatch.setattr(wsgi_server, "_XuejiGunicorn", Recorder)
    wsgi_server.serve(port=18080)
    assert seen["post_worker_init"] is wsgi_server.freeze_startup_heap
    assert seen["bind"] == "127.0.0.1:18080"
    # Query strings may hold names or ID numbers: the access log shows the path only (%U).
    assert "%(U)s" in seen["access_log_format"] and "%(q)s" not in seen["access_log_format"]
    before = gc.get_freeze_count()
    try:
        wsgi_server.freeze_startup_heap()
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
