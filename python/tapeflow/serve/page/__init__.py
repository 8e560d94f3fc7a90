"""The live page at ``/``: top symbols by net taker flow, big trades, liquidations, a liquidation heatmap and
connection health. Plain HTML, CSS and JavaScript shipped in this package (no CDN, no build step): it works offline.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

__all__ = ["ASSETS", "router"]

router = APIRouter(include_in_schema=False)

#: The page's files and their media types.
ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "page.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}


@cache
def _read(name: str) -> bytes:
    return (resources.files(__package__) / name).read_bytes()


@router.get("/", response_class=HTMLResponse)
async def index() -> Response:
    return Response(_read("index.html"), media_type=ASSETS["index.html"], headers={"Cache-Control": "no-cache"})


@router.get("/page/{name}")
async def asset(name: str) -> Response:
    if name not in ASSETS or name == "index.html":
        raise HTTPException(404, detail=f"name: no page asset {name!r}")
    return Response(_read(name), media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})
