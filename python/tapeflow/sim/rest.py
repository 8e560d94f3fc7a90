"""The simulator's REST API: depth, aggTrades, klines, exchangeInfo, premiumIndex, with Binance's weights and bans.

Paths: spot ``/api/v3/...``, USD-M ``/fapi/v1/...``, COIN-M ``/dapi/v1/...`` (binance-api.md §4.3, §5, §6). Weight is
accounted per minute of *virtual* time (the simulator has one client IP), so a test can exhaust and recover a budget
in seconds; ``Retry-After`` is in virtual seconds too (equal to real seconds at speed 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tapeflow.clock import RATE_HEADER
from tapeflow.sim.book import INTERVAL_MS
from tapeflow.sim.model import Market, klines_from_trades
from tapeflow.sim.symbols import fmt, fmt_e16
from tapeflow.sim.wire import encode

PREFIX = {"spot": "/api/v3/", "usdm": "/fapi/v1/", "coinm": "/dapi/v1/"}
FUTURES_DEPTH_WEIGHT = {5: 2, 10: 2, 20: 2, 50: 2, 100: 5, 500: 10, 1000: 20}
BAN_BASE_MS = 120_000  # first ban: 2 minutes, doubling up to 3 days (binance-api.md §6)
BAN_MAX_MS = 3 * 86_400_000

Reply = tuple[int, list[tuple[str, str]], bytes]


class ApiError(Exception):
    """A Binance error reply ``{"code", "msg"}`` with an HTTP status."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


@dataclass
class RateLimiter:
    """The IP's request-weight budget: ``X-MBX-USED-WEIGHT-1M``, 429 past the budget, then escalating 418 bans.

    Attributes:
        limit: weight per minute (spot 6000, futures 2400).
        strikes_before_ban: requests over budget answered with 429 before the next one bans the IP.
    """

    limit: int
    strikes_before_ban: int = 2
    window: int = -1
    used: int = 0
    strikes: int = 0
    bans: int = 0
    banned_until: int = 0
    log: list[tuple[int, int]] = field(default_factory=list)  # (virtual ms, status) of refused requests

    def charge(self, now: int, weight: int) -> tuple[int, int]:
        """Charges a request; returns ``(status, retry_after_s)``: 200, 429 or 418."""
        minute = now // 60_000
        if minute != self.window:
            self.window, self.used, self.strikes = minute, 0, 0
        if now < self.banned_until:
            return 418, -(-(self.banned_until - now) // 1000)
        if self.used + weight <= self.limit:
            self.used += weight
            return 200, 0
        self.strikes += 1
        if self.strikes > self.strikes_before_ban:
            self.bans += 1
            self.banned_until = now + min(BAN_MAX_MS, BAN_BASE_MS << (self.bans - 1))
            self.log.append((now, 418))
            return 418, -(-(self.banned_until - now) // 1000)
        self.log.append((now, 429))
        return 429, -(-((minute + 1) * 60_000 - now) // 1000)


class RestApi:
    """Answers REST paths from the market model.

    Args:
        market: the model.
        limiter: the weight budget.
        now: virtual clock (ms).
        agg_history_ms: how far back aggTrades are served (``None``: everything since the start).
        rate: virtual seconds per real second (``0``: a manual clock), told to clients in the ``/time`` reply.
        server_time: what ``/time`` and ``exchangeInfo`` give as ``serverTime`` (ms); by default ``now``.
    """

    def __init__(
        self,
        market: Market,
        limiter: RateLimiter,
        now: Callable[[], int],
        agg_history_ms: int | None,
        rate: float = 1.0,
        server_time: Callable[[], int] | None = None,
    ) -> None:
        self.rate = rate
        self.server_time = server_time or now
        self.market = market
        self.kind = market.market
        self.limiter = limiter
        self.now = now
        self.agg_history_ms = agg_history_ms
        #: Depth replies can be replaced (replay mode): ``symbol -> body``.
        self.depth_override: Callable[[str], bytes | None] | None = None
        #: Every request answered: ``(virtual ms, path and query)``, in order (what a client asked, for tests).
        self.requests: list[tuple[int, str]] = []

    def handle(self, target: str) -> Reply:
        """Answers one GET ``target`` (path and query)."""
        self.requests.append((self.now(), target))
        url = urlsplit(target)
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        prefix = PREFIX[self.kind]
        if not url.path.startswith(prefix):
            return self._reply(404, {"code": -1, "msg": "Not found."}, 0)
        name = url.path[len(prefix) :]
        route = _ROUTES.get(name)
        if route is None:
            return self._reply(404, {"code": -1, "msg": "Not found."}, 0)
        try:
            weight, body = route(self, q)
        except ApiError as e:
            return self._reply(e.status, {"code": e.code, "msg": e.msg}, 1)
        now = self.now()
        status, retry = self.limiter.charge(now, weight)
        if status == 429:
            msg = f"Too much request weight used; current limit is {self.limiter.limit} request weight per 1 MINUTE."
            return self._reply(429, {"code": -1003, "msg": msg}, 0, retry)
        if status == 418:
            msg = f"Way too much request weight used; IP banned until {self.limiter.banned_until}."
            return self._reply(418, {"code": -1003, "msg": msg}, 0, retry)
        reply = self._headers(200, body if isinstance(body, bytes) else encode(body))
        if name == "time":  # this exchange's time may run faster than real time: say how fast
            reply[1].append((RATE_HEADER, f"{self.rate:g}"))
        return reply

    def _reply(self, status: int, body: Any, weight: int, retry_after: int = 0) -> Reply:
        if weight:
            self.limiter.charge(self.now(), weight)
        reply = self._headers(status, encode(body))
        if retry_after:
            reply[1].append(("Retry-After", str(retry_after)))
        return reply

    def _headers(self, status: int, body: bytes) -> Reply:
        return status, [("X-MBX-USED-WEIGHT-1M", str(self.limiter.used))], body

    # ------------------------------------------------------------------ endpoints
    def _model(self, q: dict[str, str]) -> Any:
        sym = q.get("symbol")
        if not sym:
            raise ApiError(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
        m = self.market.models.get(sym.upper())
        if m is None:
            raise ApiError(400, -1121, "Invalid symbol.")
        return m

    def depth(self, q: dict[str, str]) -> tuple[int, Any]:
        if self.depth_override is not None:
            body = self.depth_override(q.get("symbol", "").upper())
            if body is not None:
                return (5 if self.kind == "spot" else 20), body
        m = self._model(q)
        limit = _int(q, "limit", 100 if self.kind == "spot" else 500)
        if self.kind == "spot":
            limit = max(1, min(limit, 5000))
            weight = 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
        elif limit not in FUTURES_DEPTH_WEIGHT:
            raise ApiError(400, -1100, "Illegal characters found in parameter 'limit'; legal range is "
                                       "'5, 10, 20, 50, 100, 500, 1000'.")  # fmt: skip
        else:
            weight = FUTURES_DEPTH_WEIGHT[limit]
        uid, bids, asks = self.market.depth(m.spec.symbol, limit)
        out: dict[str, Any] = {"lastUpdateId": uid}
        if self.kind == "coinm":
            out.update(symbol=m.spec.symbol, pair=m.spec.pair)
        if self.kind != "spot":
            out.update(E=self.now(), T=self.now())
        out["bids"] = [[m.px(p), m.qty(v)] for p, v in bids]
        out["asks"] = [[m.px(p), m.qty(v)] for p, v in asks]
        return weight, out

    def agg_trades(self, q: dict[str, str]) -> tuple[int, Any]:
        m = self._model(q)
        limit = max(1, min(_int(q, "limit", 500), 1000))
        start, end, from_id = _opt(q, "startTime"), _opt(q, "endTime"), _opt(q, "fromId")
        futures = self.kind != "spot"
        if futures and start is not None and end is not None and end - start >= 3_600_000:
            raise ApiError(400, -1127, "More than 1 hours between startTime and endTime.")
        aggs = m.aggs
        if self.agg_history_ms is not None:
            oldest = self.now() - self.agg_history_ms
            aggs = [a for a in aggs if a.T >= oldest]
        if from_id is not None:
            rows = [a for a in aggs if a.a >= from_id][:limit]
        elif start is not None:
            rows = [a for a in aggs if a.T >= start and (end is None or a.T <= end)][:limit]
        elif end is not None:
            rows = [a for a in aggs if a.T <= end][-limit:]
        else:
            rows = aggs[-limit:]
        out = []
        for a in rows:
            row: dict[str, Any] = {"a": a.a, "p": m.px(a.p), "q": m.qty(a.q), "f": a.f, "l": a.l, "T": a.T, "m": a.m}
            if not futures:
                row["M"] = True
            out.append(row)
        return (20 if futures else 4), out

    def klines(self, q: dict[str, str]) -> tuple[int, Any]:
        m = self._model(q)
        iv = q.get("interval", "")
        if iv not in INTERVAL_MS or (iv == "1s" and self.kind != "spot"):
            raise ApiError(400, -1120, "Invalid interval.")
        limit = _int(q, "limit", 500)
        limit = max(1, min(limit, 1000 if self.kind == "spot" else 1500))
        ks = klines_from_trades(m, iv, _opt(q, "startTime"), _opt(q, "endTime"))
        ks = ks[:limit] if "startTime" in q else ks[-limit:]
        rows = [[k.open, m.px(k.o), m.px(k.h), m.px(k.l), m.px(k.c), m.qty(k.v), k.open + k.dur - 1, fmt_e16(k.q),
                 k.n, m.qty(k.V), fmt_e16(k.Q), "0"] for k in ks]  # fmt: skip
        if self.kind == "spot":
            return 2, rows
        return (1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10), rows

    def exchange_info(self, q: dict[str, str]) -> tuple[int, Any]:
        limits = [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                   "limit": self.limiter.limit}]  # fmt: skip
        symbols = [m.spec.info for m in self.market.models.values()]
        body = {"timezone": "UTC", "serverTime": self.server_time(), "rateLimits": limits, "exchangeFilters": [],
                "symbols": symbols}  # fmt: skip
        return (20 if self.kind == "spot" else 1), body

    def premium_index(self, q: dict[str, str]) -> tuple[int, Any]:
        if self.kind == "spot":
            raise ApiError(404, -1, "Not found.")
        now = self.now()
        models = [self._model(q)] if "symbol" in q else list(self.market.models.values())
        out = []
        for m in models:
            p = fmt(m.mark(), 8)
            row: dict[str, Any] = {"symbol": m.spec.symbol}
            if self.kind == "coinm":
                row["pair"] = m.spec.pair
            row.update(markPrice=p, indexPrice=p, estimatedSettlePrice=p, lastFundingRate="0.00010000",
                       interestRate="0.00010000", nextFundingTime=now - now % 28_800_000 + 28_800_000,
                       time=now)  # fmt: skip
            out.append(row)
        if self.kind == "usdm" and "symbol" in q:
            return 1, out[0]
        return 10, out

    def ping(self, q: dict[str, str]) -> tuple[int, Any]:
        return 1, {}

    def time(self, q: dict[str, str]) -> tuple[int, Any]:
        return 1, {"serverTime": self.server_time()}


_ROUTES: dict[str, Callable[[RestApi, dict[str, str]], tuple[int, Any]]] = {
    "depth": RestApi.depth,
    "aggTrades": RestApi.agg_trades,
    "klines": RestApi.klines,
    "exchangeInfo": RestApi.exchange_info,
    "premiumIndex": RestApi.premium_index,
    "ping": RestApi.ping,
    "time": RestApi.time,
}


def _opt(q: dict[str, str], key: str) -> int | None:
    return _int(q, key, 0) if key in q else None


def _int(q: dict[str, str], key: str, default: int) -> int:
    raw = q.get(key)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(
            400, -1100, f"Illegal characters found in parameter '{key}'; legal range is '^[0-9]{{1,20}}$'."
        ) from None
