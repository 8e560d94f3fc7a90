//! Counters of what the flow engine counted and skipped.

/// Counters of what the flow engine counted and skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Aggregate trades counted (first arrival of each id).
    pub aggtrades: u64,
    /// Arrivals of an id counted before.
    pub duplicates: u64,
    /// Counted trades older than their symbol's newest trade.
    pub late: u64,
    /// Trades older than the retention: not counted.
    pub expired: u64,
    /// Trades with an implausible notional (see [`super::MAX_TRADE_E16`]): not counted.
    pub overflow: u64,
    /// Holes reported (each once, as a trade gap).
    pub gaps: u64,
    /// Holes closed completely by later trades.
    pub gaps_filled: u64,
    /// Trades counted whose quote value reached the smallest big-trade threshold.
    pub big_trades: u64,
    /// Counted trades whose trade time is earlier than that of a lower id counted before (Binance's ids follow
    /// trade time, so this should stay 0; windows are not changed by it).
    pub time_regressions: u64,
    /// `trade` events of type MARKET (or spot trades).
    pub trades_market: u64,
    /// `trade` events of another type (`INSURANCE_FUND`, `ADL`, `NA`, unknown): not market flow.
    pub trades_other: u64,
    pub klines: u64,
    pub rest_bodies: u64,
    pub rest_trades: u64,
}
