"""The HTTP application over one started :class:`~tapeflow.Monitor`: FastAPI routes, error bodies, limits, CORS.

Read-only: every route is a GET (and the ``/events`` WebSocket); a request with a body or an overlong URL is refused
before routing. Every error names the parameter at fault: ``{"detail": ..., "message": "<param>: ...",
"param": "<param>"}`` (``detail`` keeps FastAPI's list for validation errors, and the old service's text for its
400).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from tapeflow import __version__
from tapeflow.errors import UnknownSymbolError
from tapeflow.monitor import Monitor
from tapeflow.serve import books, docs, flow, health, heatmap, liquidations, metrics, page, push, ranking
from tapeflow.serve.loopwatch import LoopWatch
from tapeflow.serve.models import ErrorOut
from tapeflow.serve.params import ParamError

__all__ = ["MAX_URL", "create_app"]

#: The longest request target (path and query) accepted, in bytes.
MAX_URL = 4096

_DESCRIPTION = (
    "Exact taker buy/sell flow, local order books and liquidation statistics of a Binance market, served from a "
    "tapeflow Monitor. `/liquidations/total` and `/liquidations/series` answer the requests of the liquidation "
    "service tapeflow replaces. Money is served as floats and as exact decimal strings (`*_exact`)."
)


class _Limits:
    """Refuses request bodies (413) and request targets longer than :data:`MAX_URL` (414) before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            target = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            headers = dict(scope.get("headers") or ())
            length = headers.get(b"content-length", b"0")
            if target > MAX_URL:
                await _refuse(send, 414, "url", f"url: the request target exceeds {MAX_URL} bytes")
                return
            if length not in (b"0", b"") or b"transfer-encoding" in headers:
                await _refuse(send, 413, "body", "body: this API is read-only and takes no request body")
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, status: int, param: str, message: str) -> None:
    body = JSONResponse({"detail": message, "message": message, "param": param}, status_code=status).body
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _param_of(loc: Sequence[Any]) -> str:
    names = [str(p) for p in loc if p not in ("query", "path", "header", "body")]
    return ".".join(names) or "request"


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = jsonable_encoder(exc.errors())
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    param = _param_of(first.get("loc", ()))
    return JSONResponse({"detail": errors, "message": f"{param}: {first.get('msg')}", "param": param}, 422)


async def _param_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ParamError)
    if exc.status == 422:  # the shape FastAPI documents for 422
        detail: Any = [{"loc": ["query", exc.param], "msg": exc.message, "type": "value_error"}]
    else:  # the old service's 400 carries its message as the detail
        detail = exc.message.split(": ", 1)[1]
    return JSONResponse({"detail": detail, "message": exc.message, "param": exc.param}, exc.status)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = str(exc.detail)
    param = detail.split(": ", 1)[0] if ": " in detail else None
    return JSONResponse(
        {"detail": detail, "message": detail, "param": param}, exc.status_code, headers=dict(exc.headers or {})
    )


async def _unknown_symbol(_: Request, exc: Exception) -> JSONResponse:
    message = f"symbol: {exc}"
    return JSONResponse({"detail": message, "message": message, "param": "symbol"}, 404)


def create_app(
    monitor: Monitor,
    *,
    cors_origins: Sequence[str] = (),
    max_push_clients: int = 64,
    ranking_ttl_ms: int = ranking.TTL_MS,
) -> FastAPI:
    """The HTTP application of a started Monitor.

    Args:
        monitor: the Monitor to serve (started by the caller, which also closes it).
        cors_origins: origins allowed to call the API from a browser (none by default; ``"*"`` for any).
        max_push_clients: ``/events`` clients at once.
        ranking_ttl_ms: how long a ``/flow`` ranking is reused (ms of the Monitor's clock; 0: never).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.loop_watch.start()
        reader = asyncio.get_running_loop().create_task(broadcaster.run(), name="tapeflow-serve-events")
        try:
            yield
        finally:
            broadcaster.close()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            await app.state.loop_watch.stop()

    app = FastAPI(
        title="tapeflow",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by serve/docs.py, without a CDN
        redoc_url=None,
        responses={404: {"model": ErrorOut, "description": "unknown symbol, or not kept by this server"}},
    )
    app.state.monitor = monitor
    app.state.loop_watch = LoopWatch()
    app.state.rankings = ranking.RankingCache(ranking_ttl_ms)
    app.state.big_trades = big_trades = flow.BigTrades()
    app.state.broadcaster = broadcaster = push.Broadcaster(monitor, max_push_clients)
    broadcaster.listeners.append(big_trades.on_event)
    app.state.registry = metrics.registry_for(monitor, app.state.loop_watch)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ParamError, _param_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(UnknownSymbolError, _unknown_symbol)
    for module in (liquidations, heatmap, flow, books, health, metrics, push, page, docs):
        app.include_router(module.router)
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET"], allow_headers=["*"])
    app.add_middleware(_Limits)
    return app
