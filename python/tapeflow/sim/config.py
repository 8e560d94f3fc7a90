"""What a simulated exchange serves: its market, symbols, clock speed, limits and fault-free defaults."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["SimConfig"]


@dataclass
class SimConfig:
    """Configuration of a simulated exchange.

    Attributes:
        market: ``"spot"``, ``"usdm"`` or ``"coinm"``.
        symbols: number of symbols, or a list of names from ``exchange_info``.
        seed: the market's seed.
        speed: virtual seconds per real second; ``0`` means a manual clock driven by ``SimExchange.advance``.
        host: bind address (loopback only).
        port: bind port (``0``: ephemeral).
        exchange_info: an exchangeInfo JSON file to take symbols from (``None``: generated symbols).
        rate: book events per second per symbol (virtual time).
        liq_rate: liquidations per second per symbol (futures).
        start_ms: virtual start time.
        send_queue: frames a connection may have queued before it is dropped as a slow consumer.
        max_streams: streams per connection.
        msg_rate: incoming messages per second per connection (real time) before a disconnect; ``None`` = Binance's.
        ping_interval_ms / pong_timeout_ms: server ping cadence and pong deadline (virtual); ``None`` = Binance's.
        lifetime_ms: connection lifetime before the server cuts it (virtual; Binance: 24 h).
        weight_limit: REST weight per minute; ``None`` = Binance's (spot 6000, futures 2400).
        agg_history_ms: aggTrades REST history window (``None``: all).
        replay: a recording (e.g. one of :func:`tapeflow.recordings.bundled`) to serve instead of the model.
    """

    market: str = "spot"
    symbols: int | list[str] = 5
    seed: int = 1
    speed: float = 1.0
    host: str = "127.0.0.1"
    port: int = 0
    exchange_info: str | Path | None = None
    rate: float = 20.0
    liq_rate: float = 0.2
    start_ms: int = 1_767_225_600_000
    send_queue: int = 100_000
    max_streams: int = 1024
    msg_rate: int | None = None
    ping_interval_ms: int | None = None
    pong_timeout_ms: int | None = None
    lifetime_ms: int = 86_400_000
    weight_limit: int | None = None
    agg_history_ms: int | None = None
    replay: str | Path | None = None
