"""The terminal view of a Monitor (used by ``tapeflow demo``): what it shows, how it is sampled, how it is drawn."""

from tapeflow.view.model import BookPanel, ClusterRow, FlowRow, Health, LiqRow, Snapshot, TradeRow, fmt_quote
from tapeflow.view.render import render
from tapeflow.view.sampler import WINDOW, Notices, Sampler
from tapeflow.view.screen import Screen
from tapeflow.view.startup import show_startup

__all__ = [
    "WINDOW",
    "BookPanel",
    "ClusterRow",
    "FlowRow",
    "Health",
    "LiqRow",
    "Notices",
    "Sampler",
    "Screen",
    "Snapshot",
    "TradeRow",
    "fmt_quote",
    "render",
    "show_startup",
]
