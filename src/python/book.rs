//! Python views of books: owned snapshots, never views into state the next frame mutates.

use numpy::{IntoPyArray, PyArray2, PyArrayMethods};
use pyo3::prelude::*;

use crate::book::{BandDepth, OrderBook, SyncState};
use crate::decode::Level;
use crate::num::{e16_to_f64, e8_to_f64, e8_wide_to_f64, format_e16, format_e8};

/// Sync state of a book.
#[pyclass(frozen, eq, eq_int, hash, name = "SyncState", module = "tapeflow._core")]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum PySyncState {
    #[pyo3(name = "SYNCING")]
    Syncing,
    #[pyo3(name = "SYNCED")]
    Synced,
    #[pyo3(name = "GAP")]
    Gap,
}

// PyO3 methods receive `&self`, even for a one-byte enum.
#[allow(clippy::trivially_copy_pass_by_ref)]
#[pymethods]
impl PySyncState {
    fn __str__(&self) -> &'static str {
        (*self).as_str()
    }

    /// `"SYNCED"`, `"SYNCING"` or `"GAP"`.
    #[getter]
    fn name(&self) -> &'static str {
        (*self).as_str()
    }
}

impl PySyncState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Syncing => "SYNCING",
            Self::Synced => "SYNCED",
            Self::Gap => "GAP",
        }
    }
}

impl From<SyncState> for PySyncState {
    fn from(s: SyncState) -> Self {
        match s {
            SyncState::Syncing => Self::Syncing,
            SyncState::Synced => Self::Synced,
            SyncState::Gap => Self::Gap,
        }
    }
}

/// Levels as an `(n, 2)` float64 array of `[price, qty]`.
pub fn levels_array<'py>(py: Python<'py>, levels: &[Level]) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let flat: Vec<f64> = levels.iter().flat_map(|&(p, q)| [e8_to_f64(p), e8_to_f64(q)]).collect();
    flat.into_pyarray(py).reshape([levels.len(), 2])
}

fn exact(levels: &[Level]) -> Vec<(String, String)> {
    levels.iter().map(|&(p, q)| (format_e8(p), format_e8(q))).collect()
}

/// A snapshot of the top of one book, with its id, times and sync state.
#[pyclass(frozen, name = "BookView", module = "tapeflow._core")]
pub struct PyBookView {
    #[pyo3(get)]
    symbol: String,
    #[pyo3(get)]
    state: PySyncState,
    #[pyo3(get)]
    last_update_id: u64,
    #[pyo3(get)]
    event_time: Option<i64>,
    #[pyo3(get)]
    recv_ts_ns: i64,
    #[pyo3(get)]
    n_bids: usize,
    #[pyo3(get)]
    n_asks: usize,
    #[pyo3(get)]
    complete: bool,
    bid_levels: Vec<Level>,
    ask_levels: Vec<Level>,
}

impl PyBookView {
    pub fn new(symbol: &str, state: SyncState, book: &OrderBook, depth: usize, recv_ts_ns: i64) -> Self {
        let (bid_levels, ask_levels) = (book.known_bids(depth), book.known_asks(depth));
        let complete = (bid_levels.len() == depth || book.bid_edge.is_none())
            && (ask_levels.len() == depth || book.ask_edge.is_none());
        Self {
            symbol: symbol.to_owned(),
            state: state.into(),
            last_update_id: book.last_update_id,
            event_time: book.event_time,
            recv_ts_ns,
            n_bids: book.bids.len(),
            n_asks: book.asks.len(),
            complete,
            bid_levels,
            ask_levels,
        }
    }
}

#[pymethods]
impl PyBookView {
    /// `True` when the book was synced at the time of the read.
    #[getter]
    fn synced(&self) -> bool {
        self.state == PySyncState::Synced
    }

    /// Top bid levels, best first, as an `(n, 2)` float64 array of `[price, qty]`.
    #[getter]
    fn bids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        levels_array(py, &self.bid_levels)
    }

    /// Top ask levels, best first, as an `(n, 2)` float64 array of `[price, qty]`.
    #[getter]
    fn asks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        levels_array(py, &self.ask_levels)
    }

    /// Top bid levels as exact normalized decimal strings `(price, qty)`.
    fn bids_exact(&self) -> Vec<(String, String)> {
        exact(&self.bid_levels)
    }

    /// Top ask levels as exact normalized decimal strings `(price, qty)`.
    fn asks_exact(&self) -> Vec<(String, String)> {
        exact(&self.ask_levels)
    }

    #[getter]
    fn best_bid(&self) -> Option<(f64, f64)> {
        self.bid_levels.first().map(|&(p, q)| (e8_to_f64(p), e8_to_f64(q)))
    }

    #[getter]
    fn best_ask(&self) -> Option<(f64, f64)> {
        self.ask_levels.first().map(|&(p, q)| (e8_to_f64(p), e8_to_f64(q)))
    }

    #[getter]
    fn spread(&self) -> Option<f64> {
        Some(e8_to_f64(self.ask_levels.first()?.0 - self.bid_levels.first()?.0))
    }

    #[getter]
    fn mid(&self) -> Option<f64> {
        let (b, a) = (self.bid_levels.first()?.0, self.ask_levels.first()?.0);
        Some((i128::from(b) + i128::from(a)) as f64 / 2.0 / crate::num::ONE as f64)
    }

    fn __repr__(&self) -> String {
        let fmt = |l: Option<&Level>| {
            l.map_or_else(
                || "-".to_owned(),
                |&(p, q)| format!("{}@{}", format_e8(q), format_e8(p)),
            )
        };
        format!(
            "BookView({} {} u={} bid={} ask={} levels={}/{})",
            self.symbol,
            self.state.as_str(),
            self.last_update_id,
            fmt(self.bid_levels.first()),
            fmt(self.ask_levels.first()),
            self.n_bids,
            self.n_asks
        )
    }
}

/// Quantities and notionals within a band around the mid price.
#[pyclass(frozen, name = "Band", module = "tapeflow._core")]
pub struct PyBand {
    #[pyo3(get)]
    pct: f64,
    inner: BandDepth,
}

impl PyBand {
    pub fn new(pct: f64, inner: BandDepth) -> Self {
        Self { pct, inner }
    }
}

#[pymethods]
impl PyBand {
    #[getter]
    fn bid_qty(&self) -> f64 {
        e8_wide_to_f64(self.inner.bid_qty)
    }
    #[getter]
    fn ask_qty(&self) -> f64 {
        e8_wide_to_f64(self.inner.ask_qty)
    }
    #[getter]
    fn bid_notional(&self) -> f64 {
        e16_to_f64(self.inner.bid_notional)
    }
    #[getter]
    fn ask_notional(&self) -> f64 {
        e16_to_f64(self.inner.ask_notional)
    }
    /// The book knows every level of the band (`False`: the band reaches past a snapshot that was cut).
    #[getter]
    fn complete(&self) -> bool {
        self.inner.complete
    }
    /// `(bid_qty − ask_qty) / (bid_qty + ask_qty)` in [−1, 1]; 0 for an empty band.
    #[getter]
    fn imbalance(&self) -> f64 {
        let (b, a) = (self.inner.bid_qty, self.inner.ask_qty);
        if a + b == 0 {
            0.0
        } else {
            (b - a) as f64 / (a + b) as f64
        }
    }
    /// Exact values as decimal strings: `{"bid_qty", "ask_qty", "bid_notional", "ask_notional"}`.
    fn exact(&self) -> Vec<(&'static str, String)> {
        vec![
            ("bid_qty", format_e16(self.inner.bid_qty * i128::from(crate::num::ONE))),
            ("ask_qty", format_e16(self.inner.ask_qty * i128::from(crate::num::ONE))),
            ("bid_notional", format_e16(self.inner.bid_notional)),
            ("ask_notional", format_e16(self.inner.ask_notional)),
        ]
    }
    fn __repr__(&self) -> String {
        format!(
            "Band(±{}%, bid_qty={}, ask_qty={}, imbalance={:.4})",
            self.pct,
            self.bid_qty(),
            self.ask_qty(),
            self.imbalance()
        )
    }
}
