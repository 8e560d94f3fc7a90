//! What counting trades found, for the caller to report: new holes in the id sequence and big trades.

/// What counting one aggregate trade found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TradeOutcome {
    /// The trade was counted: the first arrival of its id, within retention, with a plausible notional.
    pub counted: bool,
    /// Ids `(from_id, to_id)` a counted trade's id showed missing (a new hole): fetch them back by id.
    pub gap: Option<(u64, u64)>,
    /// The counted trade's quote value reached the smallest big-trade threshold.
    pub big: Option<BigTrade>,
}

/// A trade counted for the first time whose quote value reached the smallest big-trade threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BigTrade {
    pub trade_id: u64,
    /// e8 units.
    pub price: i64,
    /// e8 units (contracts on COIN-M).
    pub qty: i64,
    /// Quote value, e16 units: the notional, or contracts × contract size on COIN-M.
    pub quote: i128,
    /// Taker buy.
    pub buy: bool,
    /// Trade time (ms).
    pub time: i64,
}

/// Which query a REST `aggTrades` page answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PageQuery {
    /// `startTime`: the rows are the exchange's complete list of trades from this time (ms) on.
    pub from_time: Option<i64>,
    /// `fromId`: the rows start at the first id the exchange still has at or after this one.
    pub from_id: Option<u64>,
}

/// What one REST `aggTrades` page did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageOutcome {
    /// Rows in the page.
    pub rows: usize,
    /// Rows counted for the first time.
    pub counted: usize,
    /// Ids of the first and the last row (`None` for an empty page).
    pub first_id: Option<u64>,
    pub last_id: Option<u64>,
    /// With [`PageQuery::from_id`] below the first row's id: ids `from_id..=first_id - 1`, which the exchange no
    /// longer serves, now marked abandoned.
    pub abandoned: Option<(u64, u64)>,
    /// Holes the page's rows showed, as far as the whole page left them missing, oldest first.
    pub gaps: Vec<(u64, u64)>,
    /// Big trades among the counted rows, in page order.
    pub big: Vec<BigTrade>,
}
