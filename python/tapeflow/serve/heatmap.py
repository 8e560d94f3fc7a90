"""``/liquidations/heatmap/{symbol}``: liquidated notional on a price x time grid, as JSON or as a PNG picture.

The grid is the engine's (``Engine.liq_heatmap``): log-spaced price bins of ``bin_pct`` percent spanning the prices
that hold a liquidation, by time bins of ``interval_minutes`` aligned to the epoch. The picture is drawn with Pillow
from the same grid: black (nothing) through purple and orange to yellow (the densest cell), on a square-root scale
so that single liquidations stay visible beside large ones; prices rise upwards, time runs to the right.
"""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from typing import Annotated, Literal

import numpy as np
import numpy.typing as npt
from fastapi import APIRouter, Query, Response
from PIL import Image, ImageDraw

from tapeflow.serve.models import HeatmapOut
from tapeflow.serve.params import MonitorDep, ParamError, SymbolPath, known_symbol

__all__ = ["MAX_CELLS", "render_png", "router"]

router = APIRouter(prefix="/liquidations", tags=["liquidations"])

#: The largest grid served (price bins x time bins): a bound on the answer's size and the work behind it.
MAX_CELLS = 200_000
_MIN = 60_000

# Colour anchors of the scale, from no liquidation to the densest cell.
_ANCHORS = np.array([[0, 0, 0], [60, 15, 110], [180, 40, 110], [250, 130, 30], [252, 250, 150]], dtype=np.float64)


def _grid(
    m: MonitorDep, sym: str, lookback: int, interval: int, bin_pct: float | None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64], int]:
    if interval > lookback:
        raise ParamError("interval_minutes", "interval_minutes cannot be greater than lookback_minutes", 400)
    if lookback // interval > 2_000:
        raise ParamError("interval_minutes", "at most 2000 time bins (lookback_minutes / interval_minutes)", 400)
    now = m.clock.now_ms()
    grid, edges, starts = m.engine.liq_heatmap(
        sym, lookback_ms=lookback * _MIN, interval_ms=interval * _MIN, bin_pct=bin_pct, now_ms=now
    )
    if grid.shape[1] * grid.shape[2] > MAX_CELLS:
        raise ParamError("bin_pct", f"the grid would exceed {MAX_CELLS} cells: choose a wider bin_pct", 400)
    return grid, edges, starts, now


@router.get(
    "/heatmap/{symbol}",
    response_model=HeatmapOut,
    responses={200: {"content": {"image/png": {}}, "description": "the grid as JSON, or a PNG with format=png"}},
)
async def heatmap(
    m: MonitorDep,
    symbol: SymbolPath,
    lookback_minutes: Annotated[int, Query(ge=1, le=14_400, description="look-back in minutes")] = 240,
    interval_minutes: Annotated[int, Query(ge=1, le=14_400, description="time bin width in minutes")] = 5,
    bin_pct: Annotated[
        float | None, Query(ge=0.01, le=10.0, description="price bin width in percent (default: the clusters')")
    ] = None,
    format: Annotated[Literal["json", "png"], Query(description="json (the grid) or png (a picture)")] = "json",
    width: Annotated[int, Query(ge=200, le=2000, description="png: picture width in pixels")] = 800,
    height: Annotated[int, Query(ge=150, le=1500, description="png: picture height in pixels")] = 450,
) -> HeatmapOut | Response:
    """Liquidated notional of ``symbol`` by price bin and time bin over the last ``lookback_minutes``."""
    sym = known_symbol(m, symbol)
    grid, edges, starts, now = _grid(m, sym, lookback_minutes, interval_minutes, bin_pct)
    if format == "png":
        # Off the event loop: drawing takes milliseconds, and the feeds share the loop (Pillow releases the GIL).
        png = await asyncio.to_thread(
            render_png, grid, edges, starts, title=f"{sym} liquidations", width=width, height=height
        )
        return Response(png, media_type="image/png")
    return HeatmapOut(
        symbol=sym,
        as_of_ms=now,
        lookback_minutes=lookback_minutes,
        interval_minutes=interval_minutes,
        bin_pct=bin_pct if bin_pct is not None else m.engine.liq_config()["bin_pct"],
        price_edges=edges.tolist(),
        time_starts_ms=starts.tolist(),
        long=grid[0].tolist(),
        short=grid[1].tolist(),
        max_cell=float(grid.sum(axis=0).max()) if grid.size else 0.0,
    )


def _colours(total: npt.NDArray[np.float64]) -> npt.NDArray[np.uint8]:
    """RGB per cell: the scale's colour of ``sqrt(cell / max)``."""
    top = float(total.max()) if total.size else 0.0
    level = np.sqrt(total / top) if top > 0 else np.zeros_like(total)
    pos = level * (len(_ANCHORS) - 1)
    lo = np.clip(np.floor(pos).astype(np.int64), 0, len(_ANCHORS) - 2)
    frac = (pos - lo)[..., None]
    rgb = _ANCHORS[lo] * (1 - frac) + _ANCHORS[lo + 1] * frac
    rgb[total <= 0] = (18, 18, 24)
    return rgb.astype(np.uint8)


def render_png(
    grid: npt.NDArray[np.float64],
    edges: npt.NDArray[np.float64],
    starts: npt.NDArray[np.int64],
    *,
    title: str,
    width: int = 800,
    height: int = 450,
) -> bytes:
    """A PNG of a heatmap grid (``(2, n_price, n_time)``: both sides summed), with price and time labels."""
    left, right, top, bottom = 84, 12, 24, 28
    img = Image.new("RGB", (width, height), (18, 18, 24))
    draw = ImageDraw.Draw(img)
    draw.text((left, 6), title, fill=(230, 230, 230))
    plot_w, plot_h = width - left - right, height - top - bottom
    total = grid.sum(axis=0) if grid.size else np.zeros((0, 0))
    if total.size == 0:
        draw.text((left + 10, top + plot_h // 2), "no liquidations in this look-back", fill=(200, 200, 200))
    else:
        cells = Image.fromarray(_colours(total[::-1]), "RGB")  # the highest price on top
        img.paste(cells.resize((plot_w, plot_h), Image.Resampling.NEAREST), (left, top))
        for frac in (0.0, 0.5, 1.0):  # price labels: bottom, middle and top edges
            i = round(frac * (len(edges) - 1))
            y = top + plot_h - round(frac * plot_h)
            draw.text((4, min(max(y - 6, top), top + plot_h - 12)), f"{edges[i]:.6g}", fill=(200, 200, 200))
        for frac in (0.0, 1.0):
            j = round(frac * (len(starts) - 1))
            label = datetime.fromtimestamp(int(starts[j]) / 1000, UTC).strftime("%m-%d %H:%M")
            x = left + round(frac * (plot_w - 70))
            draw.text((x, height - bottom + 8), label, fill=(200, 200, 200))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()
