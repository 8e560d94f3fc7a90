"""The Monitor: one Binance market watched end to end (see :class:`Monitor`)."""

from tapeflow.monitor.config import MonitorConfig
from tapeflow.monitor.events import EventStream, MonitorEvent
from tapeflow.monitor.facade import Monitor
from tapeflow.monitor.liquidations import Liquidations
from tapeflow.monitor.memory import MemoryReport
from tapeflow.monitor.progress import Progress
from tapeflow.monitor.runtime import Tap
from tapeflow.monitor.status import MonitorStatus

__all__ = [
    "EventStream",
    "Liquidations",
    "MemoryReport",
    "Monitor",
    "MonitorConfig",
    "MonitorEvent",
    "MonitorStatus",
    "Progress",
    "Tap",
]
