//! Liquidation store: exact totals and series, decayed price clusters and a price × time heatmap.
//!
//! Fed with `forceOrder` events (binance-api.md §3.8, §7) and mark prices. Everything the store knows is what the
//! stream pushed: Binance's public liquidation history was shut down in 2021, so there is no refill.
//!
//! **Lower bound.** Binance pushes at most one liquidation per symbol per 1000 ms — the largest one on USD-M since
//! 2026-04-10, the latest one on COIN-M (§7). Smaller or other liquidations of the same second are never sent, so
//! every total, series, cluster and heatmap here is a lower bound that undercounts in bursts.
//!
//! **Side.** `S: "SELL"` is the liquidation engine selling a **long** position; `S: "BUY"` closes a **short** (§7,
//! the standard reading; Binance does not state it). [`Side`] is that position side; the raw order side is kept.
//!
//! **Notional** = average fill price `ap` × accumulated filled quantity `z`, exact in e16 units. When `ap` is `0`
//! (nothing reported as filled at an average yet) the order price `p` is used instead. An order with `z = 0`
//! liquidated nothing and is counted as `unfilled` and skipped. For COIN-M, `z` is a number of contracts: with a
//! contract size set ([`Liquidations::set_contract_size`], `contractSize` of `/dapi/v1/exchangeInfo`, e.g. 100
//! USD for `BTCUSD_PERP`, 10 USD for the others) the notional is `z × contractSize` in USD; without one it is
//! `ap × z` (price × contracts), which is not a USD amount — set the sizes before reading COIN-M totals.
//!
//! **Markets.** Since 2026-06-30 the all-market streams carry USD-M and COIN-M together (§8). A store keeps one
//! contract kind; the other kind's events are counted as `foreign` and skipped, so totals never mix contracts.
//!
//! **Repeats.** The same `forceOrder` event counts once, however often it is applied (the stream followed on two
//! connections, a journal of events re-applied after a restart). It is recognised by its content — symbol, order
//! side, trade time `T`, status, order price `p`, average price `ap`, original, last and accumulated quantities
//! (`q`, `l`, `z`), not the event time `E` — against the kept events of the same trade time: a repeat is counted as
//! `duplicates` and kept no second time. The keys are the kept events themselves, so repeats are recognised for as
//! long as the event is within the retention; a repeat of an event older than that is `expired` like any other.
//!
//! **Time** is the order's trade time `o.T` (ms). Retention (default 240 h) drops events older than the newest
//! event time seen minus the retention, as event time advances; a late event already older than that is dropped
//! and counted as `expired`.

mod checkpoint;
mod cluster;
mod config;
mod heatmap;
mod liquidation;
mod log;
mod query;

pub use checkpoint::LiqRestore;
pub use cluster::{bin_edge, bin_index};
pub use config::LiqConfig;
pub use heatmap::Heatmap;
pub use liquidation::{Liquidation, OrderKey, Side};
pub use log::Sums;
pub use query::{lookback_range, Cluster, MAX_BUCKETS};

use crate::symbols::SymbolIndex;
use std::collections::VecDeque;

use crate::decode::{ContractKind, ForceOrder, MarkPrice, OrderSide, OrderStatus, Symbol};
use crate::num;
use cluster::Bins;
use log::TotalsLog;

/// The contract kind a store of `market` keeps (`None` for spot: spot has no liquidations).
pub fn contract_kind_of(market: crate::book::Market) -> Option<ContractKind> {
    match market {
        crate::book::Market::Spot => None,
        crate::book::Market::UsdM => Some(ContractKind::UsdM),
        crate::book::Market::CoinM => Some(ContractKind::CoinM),
    }
}

/// Why a query or a setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiqError {
    #[error("{0}")]
    BadArgument(String),
    #[error("notional sum overflow")]
    Overflow,
}

/// Counters of what the store kept and skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiqStats {
    pub kept: u64,
    /// Events of the other contract kind (USD-M vs COIN-M) on a merged stream.
    pub foreign: u64,
    /// Side other than BUY/SELL.
    pub unknown_side: u64,
    /// Status not in Binance's order status enum.
    pub unknown_status: u64,
    /// `z = 0`: nothing was liquidated.
    pub unfilled: u64,
    /// Late events already outside retention.
    pub expired: u64,
    /// Events dropped by retention.
    pub pruned: u64,
    /// Events skipped because a running sum would overflow.
    pub overflow: u64,
    /// Events already kept (the same content, see [`Liquidation::same_event`]): not counted again.
    pub duplicates: u64,
    pub mark_prices: u64,
    pub foreign_mark_prices: u64,
}

/// Per-symbol liquidation state.
#[derive(Debug, Clone, Default)]
pub(crate) struct SymbolLiq {
    totals: TotalsLog,
    /// The kept events, in the order of `totals`.
    events: VecDeque<Liquidation>,
    bins: Bins,
    /// Mark price (e8) and its time (ms), from the stream or set by hand.
    mark: Option<(i64, i64)>,
    /// COIN-M contract size (e8 USD).
    contract_size: Option<i64>,
}

/// The liquidation store of one futures market.
#[derive(Debug, Clone)]
pub struct Liquidations {
    keep: Option<ContractKind>,
    config: LiqConfig,
    symbols: SymbolIndex,
    states: Vec<SymbolLiq>,
    all: TotalsLog,
    /// Newest event time seen (ms): the store's clock.
    clock: Option<i64>,
    pub stats: LiqStats,
}

impl Liquidations {
    /// A store keeping liquidations of `keep` (`None` keeps nothing, e.g. for a spot engine).
    pub fn new(keep: Option<ContractKind>) -> Self {
        Self {
            keep,
            config: LiqConfig::default(),
            symbols: SymbolIndex::default(),
            states: Vec::new(),
            all: TotalsLog::default(),
            clock: None,
            stats: LiqStats::default(),
        }
    }

    pub fn config(&self) -> LiqConfig {
        self.config
    }

    /// Newest event time seen (ms).
    pub fn clock(&self) -> Option<i64> {
        self.clock
    }

    /// Symbols with liquidations, mark prices or settings, in order of first appearance.
    pub fn symbols(&self) -> &[Symbol] {
        self.symbols.names()
    }

    pub(crate) fn state(&self, symbol: &str) -> Option<&SymbolLiq> {
        self.symbols.get(symbol).map(|i| &self.states[i])
    }

    fn slot(&mut self, symbol: &str) -> usize {
        let (i, new) = self.symbols.slot(symbol);
        if new {
            self.states.push(SymbolLiq::default());
        }
        i
    }

    /// Changes the settings. A new bin width or time constant rebuilds the clusters from the kept events; a shorter
    /// retention prunes at once.
    pub fn configure(&mut self, config: LiqConfig) -> Result<(), LiqError> {
        config.validate()?;
        let changed = |a: f64, b: f64| a.to_bits() != b.to_bits();
        let rebuild = changed(config.bin_pct, self.config.bin_pct) || changed(config.tau_ms, self.config.tau_ms);
        self.config = config;
        self.prune();
        if rebuild {
            let (step, tau) = (config.log_step(), config.tau_ms);
            for st in &mut self.states {
                st.bins = Bins::default();
                for e in &st.events {
                    st.bins.add(e, step, tau, 1);
                }
            }
        }
        Ok(())
    }

    /// Sets a COIN-M contract size (e8 USD; `contractSize` of `/dapi/v1/exchangeInfo`). Applies to events kept
    /// from now on.
    pub fn set_contract_size(&mut self, symbol: &str, size_e8: i64) -> Result<(), LiqError> {
        if size_e8 <= 0 {
            return Err(LiqError::BadArgument(format!(
                "contract size must be positive, got {size_e8}"
            )));
        }
        let i = self.slot(symbol);
        self.states[i].contract_size = Some(size_e8);
        Ok(())
    }

    /// Sets the mark price (e8) by hand; the next mark price event replaces it.
    pub fn set_mark_price(&mut self, symbol: &str, price_e8: i64, time: i64) -> Result<(), LiqError> {
        if price_e8 <= 0 {
            return Err(LiqError::BadArgument(format!(
                "mark price must be positive, got {price_e8}"
            )));
        }
        let i = self.slot(symbol);
        self.states[i].mark = Some((price_e8, time));
        Ok(())
    }

    /// Mark price (e8) and its time, if known.
    pub fn mark_price(&self, symbol: &str) -> Option<(i64, i64)> {
        self.state(symbol).and_then(|s| s.mark)
    }

    pub fn apply_mark_price(&mut self, m: &MarkPrice) {
        if Some(m.kind()) != self.keep {
            self.stats.foreign_mark_prices += 1;
            return;
        }
        self.stats.mark_prices += 1;
        if m.mark_price > 0 {
            let i = self.slot(&m.symbol);
            self.states[i].mark = Some((m.mark_price, m.event_time));
        }
    }

    /// Keeps one `forceOrder` event; returns the kept liquidation, or `None` if it was counted and skipped.
    pub fn apply_force_order(&mut self, f: &ForceOrder) -> Option<Liquidation> {
        if Some(f.kind()) != self.keep {
            self.stats.foreign += 1;
            return None;
        }
        let side = match f.side {
            OrderSide::Sell => Side::Long,
            OrderSide::Buy => Side::Short,
            OrderSide::Other => {
                self.stats.unknown_side += 1;
                return None;
            }
        };
        if f.status == OrderStatus::Other {
            self.stats.unknown_status += 1;
            return None;
        }
        if f.filled_qty == 0 {
            self.stats.unfilled += 1;
            return None;
        }
        // §3.8: `ap` is the average fill price; fall back to the order price `p` when it is 0.
        let price = if f.avg_price > 0 { f.avg_price } else { f.price };
        let i = self.slot(&f.symbol);
        let contract = if self.keep == Some(ContractKind::CoinM) {
            self.states[i].contract_size
        } else {
            None
        };
        let notional = match contract {
            Some(usd) => num::notional(f.filled_qty, usd),
            None => num::notional(price, f.filled_qty),
        };
        let liq = Liquidation {
            symbol: self.symbols[i].clone(),
            time: f.trade_time,
            event_time: f.event_time,
            side,
            price,
            qty: f.filled_qty,
            notional,
            key: OrderKey {
                status: f.status as u8,
                order_price: f.price,
                avg_price: f.avg_price,
                orig_qty: f.orig_qty,
                last_qty: f.last_qty,
            },
        };
        self.insert(i, &liq).then_some(liq)
    }

    /// Inserts a liquidation for symbol slot `i`; `false` if it was skipped (expired, a repeat, or overflow).
    fn insert(&mut self, i: usize, liq: &Liquidation) -> bool {
        if let Some(clock) = self.clock {
            if liq.time < clock.saturating_sub(self.config.retention_ms) {
                self.stats.expired += 1;
                return false;
            }
        }
        if liq.price <= 0 {
            self.stats.unfilled += 1;
            return false;
        }
        let st = &mut self.states[i];
        // Kept events are ordered by time: a repeat is among the few of the same trade time, and an event newer than
        // the newest kept one (nearly every event) is no repeat, without a search.
        if st.events.back().is_some_and(|e| e.time >= liq.time) {
            let (lo, hi) = st.totals.range(liq.time, liq.time.saturating_add(1));
            if st.events.range(lo..hi).any(|e| e.same_event(liq)) {
                self.stats.duplicates += 1;
                return false;
            }
        }
        if !(st.totals.fits(liq.side, liq.notional) && self.all.fits(liq.side, liq.notional)) {
            self.stats.overflow += 1;
            return false;
        }
        let pos = st
            .totals
            .insert(liq.time, 0, liq.side, liq.notional)
            .unwrap_or_default();
        let _ = self.all.insert(liq.time, i as u32, liq.side, liq.notional);
        if pos == st.events.len() {
            st.events.push_back(liq.clone());
        } else {
            st.events.insert(pos, liq.clone());
        }
        let (step, tau) = (self.config.log_step(), self.config.tau_ms);
        st.bins.add(liq, step, tau, 1);
        self.stats.kept += 1;
        if self.clock.is_none_or(|c| liq.time > c) {
            self.clock = Some(liq.time);
            self.prune();
        }
        true
    }

    /// Bytes held: per-symbol state, kept events, running-sum logs and cluster bins (a bin counted with its key; the
    /// map's node overhead is not).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let bin = size_of::<i64>() + size_of::<cluster::Bin>();
        self.states.capacity() * size_of::<SymbolLiq>()
            + self.all.heap_bytes()
            + self
                .states
                .iter()
                .map(|s| {
                    s.events.capacity() * size_of::<Liquidation>() + s.totals.heap_bytes() + s.bins.bins.len() * bin
                })
                .sum::<usize>()
    }

    /// Drops everything older than the clock minus the retention.
    fn prune(&mut self) {
        let Some(clock) = self.clock else { return };
        let cutoff = clock.saturating_sub(self.config.retention_ms);
        if self.all.first_time().is_none_or(|t| t >= cutoff) {
            return;
        }
        // The all-symbol log names the symbols that hold expired events: prune only those.
        let mut touched = Vec::new();
        self.all.prune(cutoff, |tag| touched.push(tag as usize));
        touched.sort_unstable();
        touched.dedup();
        let (step, tau) = (self.config.log_step(), self.config.tau_ms);
        for i in touched {
            let st = &mut self.states[i];
            let n = st.totals.prune(cutoff, |_| {});
            for e in st.events.drain(..n) {
                st.bins.add(&e, step, tau, -1);
            }
            self.stats.pruned += n as u64;
        }
    }
}

#[cfg(test)]
mod tests;
