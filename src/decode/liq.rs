//! Futures liquidation and mark price events: `forceOrder` (binance-api.md §3.8, §7) and `markPriceUpdate` (§3.7).
//!
//! Both arrive per symbol and on the all-market streams (`!forceOrder@arr` sends single objects, `!markPrice@arr`
//! arrays; arrays are split by `decode_payload`). Since the 2026-06-30 UM/CM integration (§8) the all-market
//! streams carry USD-M and COIN-M together; the `st` field (1 = UM, 2 = CM), when present, says which, otherwise
//! [`contract_kind`] tells them apart by the symbol's form.

use super::depth::symbol;
use super::json::Reader;
use super::{DecodeError, Symbol};

/// Side of the liquidation (closing) order `o.S`, as sent. Unknown values are kept as [`OrderSide::Other`] so that
/// the engine counts and skips them instead of failing the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderSide {
    Buy,
    Sell,
    Other,
}

impl OrderSide {
    fn parse(raw: &[u8]) -> Self {
        match raw {
            b"BUY" => Self::Buy,
            b"SELL" => Self::Sell,
            _ => Self::Other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Buy => "BUY",
            Self::Sell => "SELL",
            Self::Other => "?",
        }
    }
}

/// Order status `o.X`. Liquidation orders are IOC, so they end `FILLED`, `PARTIALLY_FILLED` or `EXPIRED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Expired,
    ExpiredInMatch,
    Other,
}

impl OrderStatus {
    fn parse(raw: &[u8]) -> Self {
        match raw {
            b"NEW" => Self::New,
            b"PARTIALLY_FILLED" => Self::PartiallyFilled,
            b"FILLED" => Self::Filled,
            b"CANCELED" => Self::Canceled,
            b"EXPIRED" => Self::Expired,
            b"EXPIRED_IN_MATCH" => Self::ExpiredInMatch,
            _ => Self::Other,
        }
    }
}

/// Which futures market a contract belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractKind {
    /// USD-M (`st: 1`): quantities in the base asset, prices in the quote asset.
    UsdM,
    /// COIN-M (`st: 2`): quantities in contracts of a fixed USD size.
    CoinM,
}

/// Classifies a contract by `st` when given (§8: 1 = UM, 2 = CM), else by its symbol: COIN-M symbols are
/// `<BASE>USD_<PERP|yymmdd>` (`BTCUSD_PERP`, `ETHUSD_211231`), while USD-M ones are `BTCUSDT`, `BTCUSDC`,
/// `BTCUSDT_260327`. An unknown `st` value falls back to the symbol.
pub fn contract_kind(symbol: &str, st: Option<i64>) -> ContractKind {
    match st {
        Some(1) => ContractKind::UsdM,
        Some(2) => ContractKind::CoinM,
        _ => match symbol.split_once('_') {
            Some((pair, _)) if pair.ends_with("USD") => ContractKind::CoinM,
            _ => ContractKind::UsdM,
        },
    }
}

/// One `forceOrder` event. Prices and quantities are e8 units; times are ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForceOrder {
    pub symbol: Symbol,
    /// `E`, event time.
    pub event_time: i64,
    /// `o.T`, trade time of the order.
    pub trade_time: i64,
    pub side: OrderSide,
    pub status: OrderStatus,
    /// `o.q`, original quantity (contracts on COIN-M).
    pub orig_qty: i64,
    /// `o.p`, order price (bankruptcy side).
    pub price: i64,
    /// `o.ap`, average fill price (`0` when nothing filled).
    pub avg_price: i64,
    /// `o.l`, last filled quantity.
    pub last_qty: i64,
    /// `o.z`, accumulated filled quantity.
    pub filled_qty: i64,
    /// `o.ps` (COIN-M) position side, if sent.
    pub position_side: Option<Symbol>,
    /// `st` (top level or inside `o`), if sent.
    pub symbol_type: Option<i64>,
}

impl ForceOrder {
    /// USD-M or COIN-M, see [`contract_kind`].
    pub fn kind(&self) -> ContractKind {
        contract_kind(&self.symbol, self.symbol_type)
    }
}

/// One `markPriceUpdate` event. Prices are e8 units; times are ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkPrice {
    pub symbol: Symbol,
    /// `E`, event time.
    pub event_time: i64,
    /// `p`, mark price.
    pub mark_price: i64,
    /// `i`, index price.
    pub index_price: Option<i64>,
    /// `P`, estimated settle price.
    pub settle_price: Option<i64>,
    /// `ap`, mark price moving average (USD-M since 2026-03-16).
    pub mark_price_avg: Option<i64>,
    /// `r`, funding rate; `None` for COIN-M delivery contracts (`r: ""`).
    pub funding_rate: Option<i64>,
    /// `T`, next funding time; `0` for COIN-M delivery contracts.
    pub next_funding_time: Option<i64>,
    pub symbol_type: Option<i64>,
}

impl MarkPrice {
    pub fn kind(&self) -> ContractKind {
        contract_kind(&self.symbol, self.symbol_type)
    }
}

const FORCE: &str = "forceOrder";
/// Required fields of the order object `o`, in the order of their bits in `decode_order`.
const REQUIRED: [&str; 8] = ["o.s", "o.S", "o.X", "o.q", "o.p", "o.ap", "o.z", "o.T"];
const MARK: &str = "markPriceUpdate";

pub(super) fn decode_force_order(obj: &[u8]) -> Result<ForceOrder, DecodeError> {
    let mut r = Reader::new(obj);
    let mut key = r.open_object()?;
    let (mut event_time, mut order, mut st) = (None, None, None);
    while let Some(k) = key {
        match k {
            b"E" => event_time = Some(r.int("E")?),
            // Decoded in place with the same reader: one pass over the frame.
            b"o" => order = Some(decode_order(&mut r)?),
            b"st" => st = Some(r.int("st")?),
            _ => r.skip()?,
        }
        key = r.next_key()?;
    }
    let event_time = event_time.ok_or(DecodeError::MissingField {
        event: FORCE,
        field: "E",
    })?;
    let mut f = order.ok_or(DecodeError::MissingField {
        event: FORCE,
        field: "o",
    })?;
    f.event_time = event_time;
    f.symbol_type = st.or(f.symbol_type);
    Ok(f)
}

/// Decodes the order object `o` at the reader's position.
fn decode_order(r: &mut Reader<'_>) -> Result<ForceOrder, DecodeError> {
    if r.peek()? != super::json::Peek::Object {
        return Err(DecodeError::wrong_type("o", "expected the order object".into()));
    }
    let mut key = r.open_object()?;
    let mut f = ForceOrder {
        symbol: Symbol::default(),
        event_time: 0,
        trade_time: 0,
        side: OrderSide::Other,
        status: OrderStatus::Other,
        orig_qty: 0,
        price: 0,
        avg_price: 0,
        last_qty: 0,
        filled_qty: 0,
        position_side: None,
        symbol_type: None,
    };
    // Required fields, one bit each, in the order of `REQUIRED`.
    let mut seen = 0u16;
    while let Some(k) = key {
        match k {
            b"s" => (f.symbol, seen) = (symbol(r, "o.s")?, seen | 1),
            b"S" => (f.side, seen) = (OrderSide::parse(r.raw_str("o.S")?), seen | 2),
            b"X" => (f.status, seen) = (OrderStatus::parse(r.raw_str("o.X")?), seen | 4),
            b"q" => (f.orig_qty, seen) = (r.decimal("o.q")?, seen | 8),
            b"p" => (f.price, seen) = (r.decimal("o.p")?, seen | 16),
            b"ap" => (f.avg_price, seen) = (r.decimal("o.ap")?, seen | 32),
            b"z" => (f.filled_qty, seen) = (r.decimal("o.z")?, seen | 64),
            b"T" => (f.trade_time, seen) = (r.int("o.T")?, seen | 128),
            b"l" => f.last_qty = r.decimal("o.l")?,
            b"ps" => f.position_side = Some(symbol(r, "o.ps")?),
            b"st" => f.symbol_type = Some(r.int("o.st")?),
            _ => r.skip()?,
        }
        key = r.next_key()?;
    }
    for (bit, field) in REQUIRED.into_iter().enumerate() {
        if seen & (1 << bit) == 0 {
            return Err(DecodeError::MissingField { event: FORCE, field });
        }
    }
    for (field, v) in [
        ("o.q", f.orig_qty),
        ("o.p", f.price),
        ("o.ap", f.avg_price),
        ("o.z", f.filled_qty),
    ] {
        if v < 0 {
            return Err(DecodeError::wrong_type(field, format!("negative value {v}")));
        }
    }
    if f.symbol.is_empty() {
        return Err(DecodeError::wrong_type("o.s", "empty symbol".into()));
    }
    Ok(f)
}

pub(super) fn decode_mark_price(obj: &[u8]) -> Result<MarkPrice, DecodeError> {
    let mut r = Reader::new(obj);
    let mut key = r.open_object()?;
    let mut m = MarkPrice {
        symbol: Symbol::default(),
        event_time: 0,
        mark_price: 0,
        index_price: None,
        settle_price: None,
        mark_price_avg: None,
        funding_rate: None,
        next_funding_time: None,
        symbol_type: None,
    };
    let mut seen = 0u8;
    while let Some(k) = key {
        match k {
            b"s" => (m.symbol, seen) = (symbol(&mut r, "s")?, seen | 1),
            b"E" => (m.event_time, seen) = (r.int("E")?, seen | 2),
            b"p" => (m.mark_price, seen) = (r.decimal("p")?, seen | 4),
            b"i" => m.index_price = r.opt_decimal("i")?,
            b"P" => m.settle_price = r.opt_decimal("P")?,
            b"ap" => m.mark_price_avg = r.opt_decimal("ap")?,
            // COIN-M delivery contracts send `r: ""` and `T: 0` (§3.7).
            b"r" => m.funding_rate = r.opt_decimal("r")?,
            b"T" => m.next_funding_time = Some(r.int("T")?),
            b"st" => m.symbol_type = Some(r.int("st")?),
            _ => r.skip()?,
        }
        key = r.next_key()?;
    }
    for (bit, field) in ["s", "E", "p"].into_iter().enumerate() {
        if seen & (1 << bit) == 0 {
            return Err(DecodeError::MissingField { event: MARK, field });
        }
    }
    if m.mark_price < 0 {
        return Err(DecodeError::wrong_type(
            "p",
            format!("negative mark price {}", m.mark_price),
        ));
    }
    Ok(m)
}
