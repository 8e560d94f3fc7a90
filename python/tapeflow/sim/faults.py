"""Fault injection: disconnects, stalls, dropped/duplicated/reordered/malformed frames, sequence gaps, REST failures.

Faults are applied now (``ex.faults.disconnect_all()``), scheduled at a virtual time (``schedule``) or drawn at random
from a seed (``random_faults``), so a run with the same seed and schedule is reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from tapeflow.sim.config import SimConfig
from tapeflow.sim.connection import Client
from tapeflow.sim.model import Market


class Exchange(Protocol):
    """What the fault controller acts on."""

    config: SimConfig
    clients: dict[Client, None]
    market: Market

    def now_ms(self) -> int: ...


MALFORMED = b'{"stream":"broken","data":{"e":"depthUpdate","E":'


@dataclass
class FrameFault:
    """Applies to the next ``count`` frames (of ``stream`` if given) of every connection."""

    kind: str  # "drop", "duplicate", "reorder", "malformed"
    count: int
    stream: str | None = None


@dataclass
class RestFault:
    """Answers REST calls with ``status`` (429, 418, 5xx) or delays them, for ``count`` calls or until ``until_ms``."""

    status: int
    count: int | None
    until_ms: int | None
    delay_s: float = 0.0
    retry_after: int = 1


@dataclass
class Faults:
    """The fault controller of a ``SimExchange`` (``ex.faults``).

    Attributes:
        frames: pending frame faults, applied in order.
        rest: pending REST faults.
        scheduled: ``(virtual ms, action)`` pairs run by the clock driver when their time comes.
    """

    ex: Exchange
    frames: list[FrameFault] = field(default_factory=list)
    rest: list[RestFault] = field(default_factory=list)
    scheduled: list[tuple[int, Callable[[], Any]]] = field(default_factory=list)

    # --- connections
    def disconnect_all(self, abrupt: bool = True, notice: bool = False) -> int:
        """Closes every WebSocket connection: abruptly (TCP reset, no close frame) or cleanly (close 1001).

        With ``notice`` (spot only), each connection first gets Binance's ``serverShutdown`` event (raw, or as stream
        ``!serverShutdown`` on combined connections; binance-api.md §1.3) and is closed cleanly after its queue.

        Returns:
            the number of connections closed.
        """
        clients = list(self.ex.clients)
        for c in clients:
            if notice and self.ex.config.market == "spot":
                event = b'{"e":"serverShutdown","E":' + str(self.ex.now_ms()).encode() + b"}"
                c.push(b'{"stream":"!serverShutdown","data":' + event + b"}" if c.combined else event)
                c.close_after = (1001, "server shutdown")
            else:
                c.close(abrupt=abrupt, code=1001, reason="server restart")
        return len(clients)

    def stall(self, duration_ms: int | None = None, index: int | None = None) -> None:
        """Stalls connections: no data, no pong, no reading, for ``duration_ms`` of virtual time (or until
        ``unstall``). ``index`` picks one connection (in connection order), ``None`` all."""
        clients = list(self.ex.clients) if index is None else [list(self.ex.clients)[index]]
        until = None if duration_ms is None else self.ex.now_ms() + duration_ms
        for c in clients:
            c.stall(until)

    def unstall(self) -> None:
        """Ends every stall."""
        for c in self.ex.clients:
            c.unstall()

    # --- frames
    def drop(self, count: int = 1, stream: str | None = None) -> None:
        """Drops the next ``count`` frames (of ``stream``) on every connection."""
        self.frames.append(FrameFault("drop", count, stream))

    def duplicate(self, count: int = 1, stream: str | None = None) -> None:
        """Sends the next ``count`` frames twice."""
        self.frames.append(FrameFault("duplicate", count, stream))

    def reorder(self, count: int = 1, stream: str | None = None) -> None:
        """Swaps each of the next ``count`` frames with the frame after it."""
        self.frames.append(FrameFault("reorder", count, stream))

    def malformed(self, count: int = 1, stream: str | None = None) -> None:
        """Replaces the next ``count`` frames with truncated JSON."""
        self.frames.append(FrameFault("malformed", count, stream))

    def gap(self, symbol: str) -> None:
        """Creates a true sequence gap: the next diff-depth event of ``symbol`` is never sent (on every cadence)."""
        self.ex.market.gap(symbol)

    # --- REST
    def rest_fail(
        self, status: int, count: int | None = 1, duration_ms: int | None = None, retry_after: int = 1
    ) -> None:
        """Answers the next ``count`` REST calls (or all calls for ``duration_ms`` of virtual time) with ``status``
        (429 and 418 carry ``Retry-After: retry_after``)."""
        until = None if duration_ms is None else self.ex.now_ms() + duration_ms
        self.rest.append(RestFault(status, None if duration_ms is not None else count, until, 0.0, retry_after))

    def rest_delay(self, seconds: float, count: int = 1) -> None:
        """Delays the next ``count`` REST calls by ``seconds`` of real time."""
        self.rest.append(RestFault(200, count, None, seconds))

    # --- scheduling
    def schedule(self, at_ms: int, action: Callable[[], Any]) -> None:
        """Runs ``action`` (e.g. ``lambda: ex.faults.disconnect_all()``) when virtual time reaches ``at_ms``."""
        self.scheduled.append((at_ms, action))
        self.scheduled.sort(key=lambda x: x[0])

    def random_faults(self, seed: int, every_ms: int, until_ms: int, kinds: tuple[str, ...] | None = None) -> None:
        """Schedules random faults, on average one per ``every_ms`` of virtual time, until ``until_ms``.

        ``kinds`` from ``disconnect``, ``abrupt``, ``stall``, ``drop``, ``duplicate``, ``reorder``, ``malformed``,
        ``gap``, ``rest429``, ``rest5xx``.
        """
        rng = random.Random(seed)
        kinds = kinds or ("disconnect", "abrupt", "drop", "duplicate", "gap", "rest429", "rest5xx")
        symbols = list(self.ex.market.models)
        t = self.ex.now_ms()
        while True:
            t += int(rng.expovariate(1 / every_ms)) + 1
            if t >= until_ms:
                break
            kind = rng.choice(kinds)
            sym = rng.choice(symbols)
            self.schedule(t, self._action(kind, sym))

    def _action(self, kind: str, sym: str) -> Callable[[], Any]:
        table: dict[str, Callable[[], Any]] = {
            "disconnect": lambda: self.disconnect_all(abrupt=False),
            "abrupt": lambda: self.disconnect_all(abrupt=True),
            "stall": lambda: self.stall(5_000),
            "drop": lambda: self.drop(1),
            "duplicate": lambda: self.duplicate(1),
            "reorder": lambda: self.reorder(1),
            "malformed": lambda: self.malformed(1),
            "gap": lambda: self.gap(sym),
            "rest429": lambda: self.rest_fail(429),
            "rest5xx": lambda: self.rest_fail(503),
        }
        return table[kind]

    # --- hooks used by the server
    def run_due(self, now_ms: int) -> None:
        """Runs scheduled actions whose time has come."""
        while self.scheduled and self.scheduled[0][0] <= now_ms:
            _, action = self.scheduled.pop(0)
            action()

    def take_rest(self, now_ms: int) -> RestFault | None:
        """The REST fault for the next call, if any (consumes one use)."""
        while self.rest:
            f = self.rest[0]
            if f.until_ms is not None:
                if now_ms >= f.until_ms:
                    self.rest.pop(0)
                    continue
                return f
            assert f.count is not None
            f.count -= 1
            if f.count <= 0:
                self.rest.pop(0)
            return f
        return None

    def apply(self, frames: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        """Applies pending frame faults to one step's frames (the same faults for every connection)."""
        if not self.frames:
            return frames
        out: list[tuple[str, bytes]] = []
        i = 0
        while i < len(frames):
            name, data = frames[i]
            fault = next((f for f in self.frames if f.stream in (None, name)), None)
            i += 1
            if fault is None:
                out.append((name, data))
                continue
            fault.count -= 1
            if fault.count <= 0:
                self.frames.remove(fault)
            if fault.kind == "duplicate":
                out += [(name, data), (name, data)]
            elif fault.kind == "malformed":
                out.append((name, MALFORMED))
            elif fault.kind == "reorder" and i < len(frames):
                out += [frames[i], (name, data)]
                i += 1
            elif fault.kind == "reorder":
                out.append((name, data))
        return out
