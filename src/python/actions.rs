//! One Python class per kind of [`Action`]: `SnapshotNeeded`, `BookSynced`, `BookGap`, `BookTrace`, `ControlReply`,
//! `ServerShutdown`, `TradeGap`, `BigTrade` and `Liquidation`, each with only its own fields (see `_core.pyi`).

use pyo3::prelude::*;
use pyo3::types::PyList;

use super::record::record_class;
use crate::decode::Level;
use crate::engine::Action;
use crate::flow::BigTrade;
use crate::liq::Liquidation;
use crate::num::{e16_to_f64, e8_to_f64, format_e16, format_e8};

record_class! {
    /// Fetch a REST depth snapshot for this symbol.
    PySnapshotNeeded as "SnapshotNeeded" { symbol: String }
}

record_class! {
    /// The book is synced at this update id.
    PyBookSynced as "BookSynced" { symbol: String, last_update_id: u64 }
}

record_class! {
    /// The diff stream broke (or a diff crossed the book): the book was discarded; a snapshot is needed.
    PyBookGap as "BookGap" { symbol: String, expected: u64, got: u64 }
}

record_class! {
    /// With tracing on: the book right after one applied diff.
    PyBookTrace as "BookTrace" {
        symbol: String,
        last_update_id: u64,
        bids: Vec<(String, String)>,
        asks: Vec<(String, String)>,
        levels: (usize, usize),
        digest: String,
    }
}

record_class! {
    /// A reply to a control request (`SUBSCRIBE`...), or a control error.
    PyControlReply as "ControlReply" {
        request_id: Option<i64>,
        result: Option<String>,
        error_code: Option<i64>,
        error_msg: Option<String>,
    }
}

record_class! {
    /// The server announced it is going away.
    PyServerShutdown as "ServerShutdown" { event_time: i64 }
}

record_class! {
    /// Aggregate trade ids `from_id..=to_id` of `symbol` are missing.
    PyTradeGap as "TradeGap" { symbol: String, from_id: u64, to_id: u64 }
}

record_class! {
    /// A trade counted for the first time whose quote value reached the smallest big-trade threshold.
    PyBigTrade as "BigTrade" {
        symbol: String,
        trade_id: u64,
        price: f64,
        qty: f64,
        notional: f64,
        side: &'static str,
        time_ms: i64,
        price_exact: String,
        qty_exact: String,
        notional_exact: String,
    }
}

record_class! {
    /// One kept liquidation.
    PyLiquidation as "Liquidation" {
        symbol: String,
        time_ms: i64,
        event_time_ms: i64,
        side: &'static str,
        order_side: &'static str,
        price: f64,
        qty: f64,
        notional: f64,
        price_exact: String,
        qty_exact: String,
        notional_exact: String,
    }
}

impl From<Liquidation> for PyLiquidation {
    fn from(l: Liquidation) -> Self {
        Self {
            symbol: l.symbol.into(),
            time_ms: l.time,
            event_time_ms: l.event_time,
            side: l.side.name(),
            order_side: l.side.order_side().name(),
            price: e8_to_f64(l.price),
            qty: e8_to_f64(l.qty),
            notional: e16_to_f64(l.notional),
            price_exact: format_e8(l.price),
            qty_exact: format_e8(l.qty),
            notional_exact: format_e16(l.notional),
        }
    }
}

fn big_trade(symbol: String, t: BigTrade) -> PyBigTrade {
    PyBigTrade {
        symbol,
        trade_id: t.trade_id,
        price: e8_to_f64(t.price),
        qty: e8_to_f64(t.qty),
        notional: e16_to_f64(t.quote),
        side: if t.buy { "buy" } else { "sell" },
        time_ms: t.time,
        price_exact: format_e8(t.price),
        qty_exact: format_e8(t.qty),
        notional_exact: format_e16(t.quote),
    }
}

fn exact(levels: &[Level]) -> Vec<(String, String)> {
    levels.iter().map(|&(p, q)| (format_e8(p), format_e8(q))).collect()
}

/// The Python object of one action.
fn action_object(py: Python<'_>, action: Action) -> PyResult<Bound<'_, PyAny>> {
    Ok(match action {
        Action::SnapshotNeeded { symbol } => Bound::new(py, PySnapshotNeeded { symbol: symbol.into() })?.into_any(),
        Action::Synced { symbol, last_update_id } => Bound::new(
            py,
            PyBookSynced {
                symbol: symbol.into(),
                last_update_id,
            },
        )?
        .into_any(),
        Action::Gap { symbol, expected, got } => Bound::new(
            py,
            PyBookGap {
                symbol: symbol.into(),
                expected,
                got,
            },
        )?
        .into_any(),
        Action::BookTrace(t) => Bound::new(
            py,
            PyBookTrace {
                symbol: t.symbol.to_string(),
                last_update_id: t.last_update_id,
                bids: exact(&t.bids),
                asks: exact(&t.asks),
                levels: (t.n_bids, t.n_asks),
                digest: t.digest,
            },
        )?
        .into_any(),
        Action::Control(c) => {
            let (error_code, error_msg) = c.error.map_or((None, None), |(code, msg)| (Some(code), Some(msg)));
            Bound::new(
                py,
                PyControlReply {
                    request_id: c.id,
                    result: c.result,
                    error_code,
                    error_msg,
                },
            )?
            .into_any()
        }
        Action::ServerShutdown { event_time } => Bound::new(py, PyServerShutdown { event_time })?.into_any(),
        Action::TradeGap { symbol, from_id, to_id } => Bound::new(
            py,
            PyTradeGap {
                symbol: symbol.into(),
                from_id,
                to_id,
            },
        )?
        .into_any(),
        Action::BigTrade { symbol, trade } => Bound::new(py, big_trade(symbol.into(), trade))?.into_any(),
        Action::Liquidation(l) => Bound::new(py, PyLiquidation::from(l))?.into_any(),
    })
}

/// The Python list of `actions`, in order.
pub fn actions_list(py: Python<'_>, actions: Vec<Action>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for action in actions {
        list.append(action_object(py, action)?)?;
    }
    Ok(list)
}

/// Registers the action classes, and `Action`: their union (`SnapshotNeeded | BookSynced | ...`), for `isinstance`
/// and annotations.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let classes = [
        py.get_type::<PySnapshotNeeded>(),
        py.get_type::<PyBookSynced>(),
        py.get_type::<PyBookGap>(),
        py.get_type::<PyBookTrace>(),
        py.get_type::<PyControlReply>(),
        py.get_type::<PyServerShutdown>(),
        py.get_type::<PyTradeGap>(),
        py.get_type::<PyBigTrade>(),
        py.get_type::<PyLiquidation>(),
    ];
    let mut union = classes[0].clone().into_any();
    for class in &classes {
        m.add(class.name()?, class)?;
        union = union.bitor(class)?;
    }
    m.add("Action", union)
}
