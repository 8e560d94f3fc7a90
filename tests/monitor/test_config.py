"""Monitor arguments are checked at construction."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("window", ["0m", "15", "m", "-1m", "1w", "1.5h", ""])
def test_monitor_rejects_bad_windows_up_front(window: str) -> None:
    from tapeflow import Monitor

    with pytest.raises(ValueError, match="duration"):
        Monitor(market="usdm", symbols=["BTCUSDT"], flow=["1m", window])
