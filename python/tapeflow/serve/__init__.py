"""``tapeflow serve``: the HTTP query API over a Monitor — liquidations (compatible with the service tapeflow
replaces), flow, books, health, Prometheus metrics, pushed events and a live page.

Use :func:`create_app` to serve a Monitor you started yourself (any ASGI server), or :func:`run` for the whole
command (a Monitor and uvicorn in one event loop)::

    async with Monitor("usdm", flow=["1m", "15m"]) as m:
        app = create_app(m)
"""

from __future__ import annotations

from tapeflow.serve.app import create_app
from tapeflow.serve.runner import ServeOptions, Server, run

__all__ = ["ServeOptions", "Server", "create_app", "run"]
