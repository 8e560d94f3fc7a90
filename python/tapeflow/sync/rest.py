"""One REST client per exchange, spending the IP's request weight through a :class:`~tapeflow.sync.budget.WeightBudget`.

Every request waits until the budget admits it; 429, 418, 5xx and network failures are retried after the pause they
impose or a short backoff; a 4xx that is not a rate limit is a bad request and fails at once. Time is the feed's
clock, so the same rules run in the simulator's virtual time.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp
import orjson

from tapeflow.clock import Clock
from tapeflow.errors import RestError
from tapeflow.sync.admission import READ, Admission
from tapeflow.sync.budget import WeightBudget

__all__ = ["RestClient", "RestStatus"]

#: ``tap(kind, url, raw, t)`` — see :class:`tapeflow.Monitor`.
Tap = Callable[[str, str, bytes, float], None]


@dataclass(frozen=True)
class RestStatus:
    """What the REST client has done and where the budget stands.

    Attributes:
        weight_limit: request weight per minute (from ``exchangeInfo``).
        weight_used: weight used in the last 60 s: this client's own, and what the exchange's header shows that
            others on the IP spent (see :mod:`tapeflow.sync.budget`).
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
        self.budget = WeightBudget(weight_limit, safety)
        self.admission = Admission(self.budget, clock)
        self.tap = tap
        self._timeout = timeout
        self._concurrency = concurrency
        self._sem = asyncio.Semaphore(concurrency)
        self._session: aiohttp.ClientSession | None = None
        self.requests = self.weight_spent = self.throttled = self.banned = self.failures = 0

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout), headers={"Accept-Encoding": "gzip"}
            )

    async def close(self) -> None:
        await self.admission.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ budget
    @property
    def weight_limit(self) -> int:
        """Request weight per minute."""
        return self.budget.limit

    @weight_limit.setter
    def weight_limit(self, limit: int) -> None:
        self.budget.limit = limit

    @property
    def concurrency(self) -> int:
        """Requests in flight at once."""
        return self._concurrency

    @concurrency.setter
    def concurrency(self, n: int) -> None:
        """Sets it while no request is in flight (when the Monitor has learnt the weight limit)."""
        self._concurrency = n
        self._sem = asyncio.Semaphore(n)

    @property
    def used_weight(self) -> dict[str, int]:
        """The last ``X-MBX-USED-WEIGHT-*`` values by interval (``"1m"``...)."""
        return self.budget.used_weight

    def used(self) -> int:
        """Weight used in the current minute, as far as this client knows."""
        return self.budget.used(self.clock.now_ms())

    def _note(self, status: int, headers: Mapping[str, str]) -> float | None:
        retry_after = self.budget.note_reply(status, headers, self.clock.now_ms())
        if status == 429:
            self.throttled += 1
        elif status == 418:
            self.banned += 1
        return retry_after

    # ------------------------------------------------------------------ calls
    def url(self, path: str, params: Mapping[str, object] | None = None) -> str:
        return self.base_url + path + ("?" + urlencode(params) if params else "")

    async def get(
        self,
        path: str,
        params: Mapping[str, object] | None,
        weight: int,
        *,
        attempts: int = 5,
        priority: int = READ,
    ) -> bytes:
        """GETs ``path`` once the budget allows; returns the body of a 200 reply (see :meth:`get_reply`)."""
        body, _ = await self.get_reply(path, params, weight, attempts=attempts, priority=priority)
        return body

    async def get_reply(
        self,
        path: str,
        params: Mapping[str, object] | None,
        weight: int,
        *,
        attempts: int = 5,
        priority: int = READ,
    ) -> tuple[bytes, Mapping[str, str]]:
        """GETs ``path`` once the budget allows (waiting behind more urgent requests, see
        :mod:`tapeflow.sync.admission`); returns the body and headers of a 200 reply.

        429, 418, 5xx and network failures are retried (after the pause they impose, or a short backoff) up to
        ``attempts`` times.

        Raises:
            RestError: for a 4xx reply other than 429/418 (a bad request), or once the attempts ran out.
        """
        url = self.url(path, params)
        last: RestError | None = None
        for attempt in range(attempts):
            await self.admission.enter(weight, priority)
            async with self._sem:
                status, headers, body = await self._fetch(url)
            if status == 200:
                self.weight_spent += weight
                if self.tap is not None:
                    self.tap("http", url, body, self.clock.now_ms() / 1000)
                return body, headers
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
            paused_for_s=self.budget.paused_for_s(now),
            waiting=self.admission.waiting,
        )


def _error_code(body: bytes) -> int | None:
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    code = obj.get("code") if isinstance(obj, dict) else None
    return code if isinstance(code, int) else None
