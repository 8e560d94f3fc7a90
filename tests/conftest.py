"""Shared fixtures: the local exchange simulator on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
import pytest_asyncio

from tapeflow.sim import SimConfig, SimExchange
from tests.support import exchange_info


@pytest.fixture(autouse=True)
def _data_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-user data (the default store of ``tapeflow watch``) goes to a temporary directory, never the real home;
    child processes inherit it."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data-home")))


@pytest.fixture
def sim_config() -> Callable[..., SimConfig]:
    """Builds a ``SimConfig`` with a manual clock (``speed=0``) and symbols from tests/data unless overridden."""

    def make(market: str = "spot", **kwargs: Any) -> SimConfig:
        kwargs.setdefault("speed", 0.0)
        kwargs.setdefault("symbols", 3)
        kwargs.setdefault("exchange_info", exchange_info(market))
        return SimConfig(market=market, **kwargs)

    return make


@pytest_asyncio.fixture
async def sim(
    sim_config: Callable[..., SimConfig],
) -> AsyncIterator[Callable[..., AbstractAsyncContextManager[SimExchange]]]:
    """A factory of running exchanges: ``async with sim("usdm", symbols=5) as ex: ...`` (manual clock)."""

    def make(market: str = "spot", **kwargs: Any) -> AbstractAsyncContextManager[SimExchange]:
        return SimExchange(sim_config(market, **kwargs))

    yield make


@pytest_asyncio.fixture
async def sim_usdm(sim_config: Callable[..., SimConfig]) -> AsyncIterator[SimExchange]:
    """A running USD-M exchange with 3 symbols and a manual clock."""
    async with SimExchange(sim_config("usdm")) as ex:
        yield ex


@pytest_asyncio.fixture
async def sim_spot(sim_config: Callable[..., SimConfig]) -> AsyncIterator[SimExchange]:
    """A running spot exchange with 3 symbols and a manual clock."""
    async with SimExchange(sim_config("spot")) as ex:
        yield ex
