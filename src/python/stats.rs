//! Typed counters: `EngineStats`, `FlowStats` and `LiqStats` (see `_core.pyi`), returned by `Engine.stats()`,
//! `Engine.flow_stats()` and `Engine.liq_stats()`.

use std::collections::BTreeMap;

use pyo3::prelude::*;

use super::engine::PyEngine;
use super::record::record_class;

record_class! {
    /// Engine-wide counters.
    PyEngineStats as "EngineStats" {
        frames: u64,
        events: u64,
        malformed: u64,
        depth_updates: u64,
        level_updates: u64,
        book_tickers: u64,
        partial_depth: u64,
        unknown: BTreeMap<String, u64>,
    }
}

record_class! {
    /// Counters of the flow windows.
    PyFlowStats as "FlowStats" {
        aggtrades: u64,
        duplicates: u64,
        late: u64,
        expired: u64,
        overflow: u64,
        gaps: u64,
        gaps_filled: u64,
        big_trades: u64,
        time_regressions: u64,
        trades_market: u64,
        trades_other: u64,
        klines: u64,
        rest_bodies: u64,
        rest_trades: u64,
        symbols: u64,
        memory_bytes: u64,
    }
}

record_class! {
    /// Counters of the liquidation store.
    PyLiqStats as "LiqStats" {
        kept: u64,
        foreign: u64,
        unknown_side: u64,
        unknown_status: u64,
        unfilled: u64,
        expired: u64,
        pruned: u64,
        overflow: u64,
        duplicates: u64,
        mark_prices: u64,
        foreign_mark_prices: u64,
    }
}

#[pymethods]
impl PyEngine {
    /// Engine counters (see `EngineStats`).
    fn stats(&self) -> PyEngineStats {
        let engine = self.read();
        let s = &engine.stats;
        PyEngineStats {
            frames: s.frames,
            events: s.events,
            malformed: s.malformed,
            depth_updates: s.depth_updates,
            level_updates: s.level_updates,
            book_tickers: s.book_tickers,
            partial_depth: s.partial_depth,
            unknown: s.unknown.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        }
    }

    /// Flow counters (see `FlowStats`).
    fn flow_stats(&self) -> PyFlowStats {
        let engine = self.read();
        let flow = &engine.flow;
        let s = &flow.stats;
        let memory: usize = flow.symbols().iter().map(|sym| flow.memory(sym).unwrap_or(0)).sum();
        PyFlowStats {
            aggtrades: s.aggtrades,
            duplicates: s.duplicates,
            late: s.late,
            expired: s.expired,
            overflow: s.overflow,
            gaps: s.gaps,
            gaps_filled: s.gaps_filled,
            big_trades: s.big_trades,
            time_regressions: s.time_regressions,
            trades_market: s.trades_market,
            trades_other: s.trades_other,
            klines: s.klines,
            rest_bodies: s.rest_bodies,
            rest_trades: s.rest_trades,
            symbols: flow.symbols().len() as u64,
            memory_bytes: memory as u64,
        }
    }

    /// Liquidation counters (see `LiqStats`).
    fn liq_stats(&self) -> PyLiqStats {
        let s = self.read().liq.stats.clone();
        PyLiqStats {
            kept: s.kept,
            foreign: s.foreign,
            unknown_side: s.unknown_side,
            unknown_status: s.unknown_status,
            unfilled: s.unfilled,
            expired: s.expired,
            pruned: s.pruned,
            overflow: s.overflow,
            duplicates: s.duplicates,
            mark_prices: s.mark_prices,
            foreign_mark_prices: s.foreign_mark_prices,
        }
    }
}

/// Registers the counter classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEngineStats>()?;
    m.add_class::<PyFlowStats>()?;
    m.add_class::<PyLiqStats>()?;
    Ok(())
}
