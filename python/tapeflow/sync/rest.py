"""One REST client per exchange, spending the IP's request weight carefully.

Binance counts request weight per IP per minute and reports it in ``X-MBX-USED-WEIGHT-1M`` on every reply. Over the
limit it answers 429 (with ``Retry-After``); an IP that keeps going gets 418 and a ban of 2 minutes up to 3 days.
This client keeps its own estimate of the minute's weight (the larger of the header and what it sent), holds every
request back while it would take the minute past ``safety`` x the limit, and after a 429 or 418 sends nothing at all
until ``Retry-After`` has passed (or the next minute, when the header is absent). Time is the feed's clock, so the
same rules run in the simulator's virtual time.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp
import orjson

from tapeflow.errors import RestError
from tapeflow.feeds.clock import Clock

__all__ = ["RestClient", "RestStatus"]

#: ``tap(kind, url, raw, t)`` — see :class:`tapeflow.Monitor`.
Tap = Callable[[str, str, bytes, float], None]


@dataclass(frozen=True)
class RestStatus:
    """What the REST client has done and where the budget stands.

    Attributes:
        weight_limit: request weight per minute (from ``exchangeInfo``).
        weight_used: weight used in the current minute (the exchange's header or our own count, the larger).
        requests: replies received (any status).
        weight_spent: weight of the successful requests sent so far.
        throttled: 429 replies.
        banned: 418 replies.
        failures: other failed calls (5xx, timeouts, refused connections).
        paused_for_s: seconds left before the next request may go out (after a 429/418), 0 if none.
        waiting: requests waiting for budget right now.
    """

    weight_limit: int
    weight_used: int
    requests: int
    weight_spent: int
    throttled: int
    banned: int
    failures: int
    paused_for_s: float
    waiting: int


class RestClient:
    """GETs on one exchange's REST API with a shared weight budget.

    Args:
        base_url: ``https://fapi.binance.com`` or the simulator's ``http://127.0.0.1:port``.
        clock: the feed's clock (weight minutes and ``Retry-After`` are measured on it).
        weight_limit: request weight per minute (updated from ``exchangeInfo`` by the monitor).
        safety: fraction of the limit this client allows itself (the rest is left for other programs on the IP).
        concurrency: requests in flight at once.
        tap: called with every successful reply body.
    """

    def __init__(
        self,
        base_url: str,
        *,
        clock: Clock,
        weight_limit: int,
        safety: float = 0.8,
        concurrency: int = 8,
        timeout: float = 10.0,
        tap: Tap | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.weight_limit = weight_limit
        self.safety = safety
        self.tap = tap
        self._timeout = timeout
        self._sem = asyncio.Semaphore(concurrency)
        self._session: aiohttp.ClientSession | None = None
        self._minute = -1
        self._used = 0
        self._paused_until_ms = 0
        self._waiting = 0
        self.requests = self.weight_spent = self.throttled = self.banned = self.failures = 0
        #: The last ``X-MBX-USED-WEIGHT-*`` values by interval (``"1m"``...).
        self.used_weight: dict[str, int] = {}

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout), headers={"Accept-Encoding": "gzip"}
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ budget
    def _roll(self, now_ms: int) -> None:
        minute = now_ms // 60_000
        if minute != self._minute:
            self._minute, self._used = minute, 0

    def used(self) -> int:
        """Weight used in the current minute, as far as this client knows."""
        self._roll(self.clock.now_ms())
        return self._used

    async def _admit(self, weight: int) -> None:
        self._waiting += 1
        try:
            while True:
                now = self.clock.now_ms()
                self._roll(now)
                if now < self._paused_until_ms:
                    await self.clock.sleep((self._paused_until_ms - now) / 1000)
                    continue
                if self._used + weight <= self.weight_limit * self.safety or self._used == 0:
                    self._used += weight
                    return
                # Wait for the next minute, spread a little so a queue of requests does not go out in one burst.
                wait_ms = 60_000 - now % 60_000 + random.uniform(0, 500)
                await self.clock.sleep(wait_ms / 1000)
        finally:
            self._waiting -= 1

    def _note(self, status: int, headers: Mapping[str, str]) -> float | None:
        now = self.clock.now_ms()
        self._roll(now)
        # X-MBX-USED-WEIGHT-<n><unit>: the budget is per minute; every interval is kept in `used_weight`.
        for name, value in headers.items():
            low = name.lower()
            if low.startswith("x-mbx-used-weight-") and value.isdigit():
                interval = low[len("x-mbx-used-weight-") :]
                self.used_weight[interval] = int(value)
                if interval == "1m":
                    self._used = max(self._used, int(value))
        retry_after: float | None = None
        raw = headers.get("Retry-After")
        if raw is not None:
            try:
                retry_after = float(raw)
            except ValueError:
                retry_after = None
        if status in (418, 429):
            # Without Retry-After, wait for the next weight minute (futures do not document the header).
            wait_ms = retry_after * 1000 if retry_after is not None else 60_000 - now % 60_000
            self._paused_until_ms = max(self._paused_until_ms, now + int(wait_ms) + 50)
            if status == 429:
                self.throttled += 1
            else:
                self.banned += 1
        return retry_after

    # ------------------------------------------------------------------ calls
    def url(self, path: str, params: Mapping[str, object] | None = None) -> str:
        return self.base_url + path + ("?" + urlencode(params) if params else "")

    async def get(self, path: str, params: Mapping[str, object] | None, weight: int, *, attempts: int = 5) -> bytes:
        """GETs ``path`` once the budget allows; returns the body of a 200 reply.

        429, 418, 5xx and network failures are retried (after the pause they impose, or a short backoff) up to
        ``attempts`` times.

        Raises:
            RestError: for a 4xx reply other than 429/418 (a bad request), or once the attempts ran out.
        """
        url = self.url(path, params)
        last: RestError | None = None
        for attempt in range(attempts):
            await self._admit(weight)
            async with self._sem:
                status, headers, body = await self._fetch(url)
            if status == 200:
                self.weight_spent += weight
                if self.tap is not None:
                    self.tap("http", url, body, self.clock.now_ms() / 1000)
                return body
            retry_after = self._note(status, headers) if status else None
            code = _error_code(body)
            last = RestError(
                f"GET {url}: HTTP {status or 'failure'} {body[:200]!r}",
                status=status,
                code=code,
                url=url,
                retry_after=retry_after,
            )
            if last.permanent:
                raise last
            if status not in (418, 429):
                self.failures += 1
                await self.clock.sleep(min(30.0, 0.5 * 2**attempt) * random.uniform(0.5, 1.0))
        assert last is not None
        raise last

    async def _fetch(self, url: str) -> tuple[int, Mapping[str, str], bytes]:
        if self._session is None:
            await self.start()
        assert self._session is not None
        try:
            async with self._session.get(url) as r:
                body = await r.read()
                self.requests += 1
                if r.status == 200:
                    self._note(200, r.headers)
                return r.status, r.headers, body
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            return 0, {}, str(e).encode()

    def status(self) -> RestStatus:
        now = self.clock.now_ms()
        return RestStatus(
            weight_limit=self.weight_limit,
            weight_used=self.used(),
            requests=self.requests,
            weight_spent=self.weight_spent,
            throttled=self.throttled,
            banned=self.banned,
            failures=self.failures,
            paused_for_s=max(0.0, (self._paused_until_ms - now) / 1000),
            waiting=self._waiting,
        )


def _error_code(body: bytes) -> int | None:
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    code = obj.get("code") if isinstance(obj, dict) else None
    return code if isinstance(code, int) else None
