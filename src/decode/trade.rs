//! Trade events: `aggTrade` (spot, USD-M, COIN-M), `trade`, `kline`, and REST `aggTrades` reply bodies
//! (binance-api.md §3.4, §3.5, §5.1).
//!
//! Layouts: spot `aggTrade` is `e,E,s,a,p,q,f,l,T,m,M`; USD-M `e,E,s,a,p,q,nq,f,l,T,m` (`nq` since 2025-12-31, the
//! quantity without RPI fills); COIN-M `e,E,a,s,p,q,f,l,T,m` with `q` in contracts. A REST `aggTrades` body is an
//! array of `{a,p,q,f,l,T,m[,M][,nq]}` without symbol or event time. Any key order is accepted here; the fast path in
//! `fast.rs` handles Binance's exact layouts.

use super::depth::symbol;
use super::json::{Peek, Reader};
use super::{DecodeError, Symbol};

/// One aggregate trade: the fills of one taker order at one price (spot), or at one price and side within 100 ms
/// (futures). Prices and quantities are e8 units; times are ms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AggTrade {
    pub symbol: Symbol,
    /// `E`, event time; `None` for REST rows.
    pub event_time: Option<i64>,
    /// `a`, aggregate trade id: consecutive per symbol.
    pub id: u64,
    /// `p`.
    pub price: i64,
    /// `q`: base quantity (spot, USD-M; USD-M includes RPI fills) or contracts (COIN-M).
    pub qty: i64,
    /// `nq` (USD-M): the quantity without RPI fills, if sent.
    pub normal_qty: Option<i64>,
    /// `f`, first trade id.
    pub first_trade_id: u64,
    /// `l`, last trade id.
    pub last_trade_id: u64,
    /// `T`, trade time.
    pub time: i64,
    /// `m`: the buyer was the maker, so the taker sold.
    pub buyer_maker: bool,
}

impl AggTrade {
    /// The taker side: `true` for a taker buy (`m == false`).
    #[inline]
    pub fn taker_buy(&self) -> bool {
        !self.buyer_maker
    }
}

/// Futures trade type `X` of a `trade` event. Spot trades carry none and are market trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeType {
    Market,
    InsuranceFund,
    Adl,
    Na,
    /// A value not in Binance's enum; counted, never an error.
    Other,
}

impl TradeType {
    fn parse(raw: &[u8]) -> Self {
        match raw {
            b"MARKET" => Self::Market,
            b"INSURANCE_FUND" => Self::InsuranceFund,
            b"ADL" => Self::Adl,
            b"NA" => Self::Na,
            _ => Self::Other,
        }
    }
}

/// One `trade` event (spot `e,E,s,t,p,q,T,m,M`; USD-M `e,E,T,s,t,p,q,X,m`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    pub symbol: Symbol,
    pub event_time: i64,
    /// `t`, trade id (not an aggregate trade id).
    pub id: u64,
    pub price: i64,
    pub qty: i64,
    pub time: i64,
    pub buyer_maker: bool,
    /// `X`; `Market` when absent (spot).
    pub kind: TradeType,
}

/// One `kline` update. Prices and volumes are e8 units; `first_trade_id`/`last_trade_id` are `-1` for a candle
/// without trades.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Kline {
    pub symbol: Symbol,
    pub event_time: i64,
    /// `k.t`, open time (ms).
    pub open_time: i64,
    /// `k.T`, close time (ms).
    pub close_time: i64,
    /// `k.i`, interval name (`"1m"`).
    pub interval: Symbol,
    /// `k.f`, `k.L`: first and last trade id in the candle.
    pub first_trade_id: i64,
    pub last_trade_id: i64,
    pub open: i64,
    pub close: i64,
    pub high: i64,
    pub low: i64,
    /// `k.v`: base volume (contracts on COIN-M).
    pub volume: i64,
    /// `k.n`: number of trades.
    pub trades: i64,
    /// `k.x`: the candle is closed.
    pub closed: bool,
    /// `k.q`: quote volume (base-asset volume on COIN-M).
    pub quote_volume: i64,
    /// `k.V`: taker-buy base volume.
    pub taker_buy_volume: i64,
    /// `k.Q`: taker-buy quote volume.
    pub taker_buy_quote_volume: i64,
}

const AGG: &str = "aggTrade";

/// The key-by-key decoder of a WebSocket `aggTrade`.
pub(super) fn decode_agg_trade_general(obj: &[u8]) -> Result<AggTrade, DecodeError> {
    let mut r = Reader::new(obj);
    let t = agg_fields(&mut r, true)?;
    r.finish()?;
    Ok(t)
}

/// Reads one aggTrade object at the reader's position. `stream` objects need `s` and `E`; REST rows have neither.
fn agg_fields(r: &mut Reader<'_>, stream: bool) -> Result<AggTrade, DecodeError> {
    const FIELDS: [&str; 9] = ["s", "E", "a", "p", "q", "f", "l", "T", "m"];
    let mut key = r.open_object()?;
    let mut t = AggTrade::default();
    // Required fields, one bit each: s, E, a, p, q, f, l, T, m.
    let mut seen = 0u16;
    while let Some(k) = key {
        match k {
            b"s" => (t.symbol, seen) = (symbol(r, "s")?, seen | 1),
            b"E" => (t.event_time, seen) = (Some(r.int("E")?), seen | 2),
            b"a" => (t.id, seen) = (r.uint("a")?, seen | 4),
            b"p" => (t.price, seen) = (r.decimal("p")?, seen | 8),
            b"q" => (t.qty, seen) = (r.decimal("q")?, seen | 16),
            b"f" => (t.first_trade_id, seen) = (r.uint("f")?, seen | 32),
            b"l" => (t.last_trade_id, seen) = (r.uint("l")?, seen | 64),
            b"T" => (t.time, seen) = (r.int("T")?, seen | 128),
            b"m" => (t.buyer_maker, seen) = (r.bool("m")?, seen | 256),
            b"nq" => t.normal_qty = Some(r.decimal("nq")?),
            _ => r.skip()?,
        }
        key = r.next_key()?;
    }
    for (bit, field) in FIELDS.into_iter().enumerate() {
        let needed = stream || bit >= 2;
        if needed && seen & (1 << bit) == 0 {
            return Err(DecodeError::MissingField { event: AGG, field });
        }
    }
    if !stream {
        // REST rows carry no symbol (the caller sets it) or event time; a stray `E` is ignored.
        t.event_time = None;
    }
    check_agg(&t, stream)?;
    Ok(t)
}

fn check_agg(t: &AggTrade, stream: bool) -> Result<(), DecodeError> {
    if stream && t.symbol.is_empty() {
        return Err(DecodeError::wrong_type("s", "empty symbol".into()));
    }
    for (field, v) in [("p", t.price), ("q", t.qty), ("nq", t.normal_qty.unwrap_or(0))] {
        if v < 0 {
            return Err(DecodeError::wrong_type(field, format!("negative value {v}")));
        }
    }
    if t.time < 0 {
        return Err(DecodeError::wrong_type("T", format!("negative time {}", t.time)));
    }
    if t.first_trade_id > t.last_trade_id {
        return Err(DecodeError::wrong_type(
            "l",
            format!("last trade id {} before first {}", t.last_trade_id, t.first_trade_id),
        ));
    }
    Ok(())
}

/// Decodes a REST `aggTrades` reply body (a JSON array of rows), stamping each row with `symbol`. All or nothing:
/// a malformed row fails the whole body.
pub fn decode_agg_trades_body(body: &[u8], symbol: &str) -> Result<Vec<AggTrade>, DecodeError> {
    let mut r = Reader::new(body);
    if r.peek()? != Peek::Array {
        return Err(DecodeError::wrong_type(
            "aggTrades",
            "expected a JSON array of trades".into(),
        ));
    }
    let mut out = Vec::new();
    let symbol = Symbol::new(symbol);
    if r.open_array()? {
        loop {
            let mut t = agg_fields(&mut r, false)?;
            t.symbol.clone_from(&symbol);
            out.push(t);
            if !r.array_step()? {
                break;
            }
        }
    }
    r.finish()?;
    Ok(out)
}

const TRADE: &str = "trade";

pub(super) fn decode_trade(obj: &[u8]) -> Result<Trade, DecodeError> {
    let mut r = Reader::new(obj);
    let mut key = r.open_object()?;
    let mut t = Trade {
        symbol: Symbol::default(),
        event_time: 0,
        id: 0,
        price: 0,
        qty: 0,
        time: 0,
        buyer_maker: false,
        kind: TradeType::Market,
    };
    // s, E, t, p, q, T, m
    let mut seen = 0u8;
    while let Some(k) = key {
        match k {
            b"s" => (t.symbol, seen) = (symbol(&mut r, "s")?, seen | 1),
            b"E" => (t.event_time, seen) = (r.int("E")?, seen | 2),
            b"t" => (t.id, seen) = (r.uint("t")?, seen | 4),
            b"p" => (t.price, seen) = (r.decimal("p")?, seen | 8),
            b"q" => (t.qty, seen) = (r.decimal("q")?, seen | 16),
            b"T" => (t.time, seen) = (r.int("T")?, seen | 32),
            b"m" => (t.buyer_maker, seen) = (r.bool("m")?, seen | 64),
            b"X" => t.kind = TradeType::parse(r.raw_str("X")?),
            _ => r.skip()?,
        }
        key = r.next_key()?;
    }
    r.finish()?;
    for (bit, field) in ["s", "E", "t", "p", "q", "T", "m"].into_iter().enumerate() {
        if seen & (1 << bit) == 0 {
            return Err(DecodeError::MissingField { event: TRADE, field });
        }
    }
    for (field, v) in [("p", t.price), ("q", t.qty)] {
        if v < 0 {
            return Err(DecodeError::wrong_type(field, format!("negative value {v}")));
        }
    }
    Ok(t)
}

const KLINE: &str = "kline";

pub(super) fn decode_kline(obj: &[u8]) -> Result<Kline, DecodeError> {
    let mut r = Reader::new(obj);
    let mut key = r.open_object()?;
    let (mut event_time, mut kline) = (None, None);
    let mut top_symbol = None;
    while let Some(k) = key {
        match k {
            b"E" => event_time = Some(r.int("E")?),
            b"s" => top_symbol = Some(symbol(&mut r, "s")?),
            b"k" => kline = Some(kline_body(&mut r)?),
            _ => r.skip()?,
        }
        key = r.next_key()?;
    }
    r.finish()?;
    let mut k = kline.ok_or(DecodeError::MissingField {
        event: KLINE,
        field: "k",
    })?;
    k.event_time = event_time.ok_or(DecodeError::MissingField {
        event: KLINE,
        field: "E",
    })?;
    if let Some(s) = top_symbol {
        k.symbol = s;
    }
    if k.symbol.is_empty() {
        return Err(DecodeError::MissingField {
            event: KLINE,
            field: "s",
        });
    }
    Ok(k)
}

fn kline_body(r: &mut Reader<'_>) -> Result<Kline, DecodeError> {
    const FIELDS: [&str; 15] = [
        "k.t", "k.T", "k.i", "k.f", "k.L", "k.v", "k.n", "k.x", "k.q", "k.V", "k.Q", "k.o", "k.c", "k.h", "k.l",
    ];
    if r.peek()? != Peek::Object {
        return Err(DecodeError::wrong_type("k", "expected the kline object".into()));
    }
    let mut key = r.open_object()?;
    let mut k = Kline::default();
    // t, T, i, f, L, v, n, x, q, V, Q, o, c, h, l
    let mut seen = 0u16;
    while let Some(name) = key {
        match name {
            b"t" => (k.open_time, seen) = (r.int("k.t")?, seen | 1),
            b"T" => (k.close_time, seen) = (r.int("k.T")?, seen | 2),
            b"i" => (k.interval, seen) = (symbol(r, "k.i")?, seen | 4),
            b"f" => (k.first_trade_id, seen) = (r.int("k.f")?, seen | 8),
            b"L" => (k.last_trade_id, seen) = (r.int("k.L")?, seen | 16),
            b"v" => (k.volume, seen) = (r.decimal("k.v")?, seen | 32),
            b"n" => (k.trades, seen) = (r.int("k.n")?, seen | 64),
            b"x" => (k.closed, seen) = (r.bool("k.x")?, seen | 128),
            b"q" => (k.quote_volume, seen) = (r.decimal("k.q")?, seen | 256),
            b"V" => (k.taker_buy_volume, seen) = (r.decimal("k.V")?, seen | 512),
            b"Q" => (k.taker_buy_quote_volume, seen) = (r.decimal("k.Q")?, seen | 1024),
            b"s" => k.symbol = symbol(r, "k.s")?,
            b"o" => (k.open, seen) = (r.decimal("k.o")?, seen | 2048),
            b"c" => (k.close, seen) = (r.decimal("k.c")?, seen | 4096),
            b"h" => (k.high, seen) = (r.decimal("k.h")?, seen | 8192),
            b"l" => (k.low, seen) = (r.decimal("k.l")?, seen | 16384),
            _ => r.skip()?,
        }
        key = r.next_key()?;
    }
    for (bit, field) in FIELDS.into_iter().enumerate() {
        if seen & (1 << bit) == 0 {
            return Err(DecodeError::MissingField { event: KLINE, field });
        }
    }
    Ok(k)
}
