//! One kept liquidation and the side of the position it closed.

use crate::decode::{OrderSide, Symbol};

/// The liquidated position's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// A long position, closed by a SELL order.
    Long = 0,
    /// A short position, closed by a BUY order.
    Short = 1,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Self::Long => "long",
            Self::Short => "short",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "long" | "sell" => Some(Self::Long),
            "short" | "buy" => Some(Self::Short),
            _ => None,
        }
    }

    /// The raw order side that closes this position side.
    pub fn order_side(self) -> OrderSide {
        match self {
            Self::Long => OrderSide::Sell,
            Self::Short => OrderSide::Buy,
        }
    }
}

/// One kept liquidation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Liquidation {
    pub symbol: Symbol,
    /// Trade time `o.T` (ms).
    pub time: i64,
    /// Event time `E` (ms).
    pub event_time: i64,
    pub side: Side,
    /// Price used for the notional: `ap`, or `p` when `ap` is 0 (e8).
    pub price: i64,
    /// Filled quantity `z` (e8; contracts on COIN-M).
    pub qty: i64,
    /// Notional, e16 units (see the module docs).
    pub notional: i128,
    /// The rest of the event's content, which identifies it with the fields above.
    pub key: OrderKey,
}

/// The content of a `forceOrder` event not kept otherwise. With the symbol, side, trade time and filled quantity it
/// identifies the event: the same event delivered twice (two connections, or a journal re-applied after a restart)
/// has the same content, and two different liquidations differ in at least one of these fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct OrderKey {
    /// Order status (`X`), as [`crate::decode::OrderStatus`]'s discriminant.
    pub status: u8,
    /// Order price `p` (e8).
    pub order_price: i64,
    /// Average price `ap` (e8).
    pub avg_price: i64,
    /// Original quantity `q` (e8).
    pub orig_qty: i64,
    /// Last filled quantity `l` (e8).
    pub last_qty: i64,
}

impl Liquidation {
    /// Whether `other` is the same `forceOrder` event (same content; the event time `E` may differ).
    pub fn same_event(&self, other: &Self) -> bool {
        self.time == other.time
            && self.side == other.side
            && self.qty == other.qty
            && self.key == other.key
            && self.symbol == other.symbol
    }
}
