//! `tapeflow._core.Engine`: the multi-symbol engine behind a lock, fed with raw frame bytes.

use parking_lot::Mutex;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyBytesMethods, PyDict, PyList};

use super::book::{PyBand, PyBookView, PySyncState};
use super::errors;
use crate::book::Market;
use crate::engine::{Action, Engine};
use crate::num::format_e8;

/// `(update_id, bid, bid_qty, ask, ask_qty)`.
type TickerTuple = (u64, f64, f64, f64, f64);

/// Something the I/O shell must act on or may want to know, returned by the apply calls.
#[pyclass(frozen, get_all, name = "Action", module = "tapeflow._core")]
pub struct PyAction {
    /// `"snapshot_needed"`, `"synced"`, `"gap"`, `"control"`, `"server_shutdown"`, `"trade_gap"` or `"big_trade"`.
    kind: &'static str,
    symbol: Option<String>,
    last_update_id: Option<u64>,
    expected: Option<u64>,
    got: Option<u64>,
    request_id: Option<i64>,
    result: Option<String>,
    error_code: Option<i64>,
    error_msg: Option<String>,
    event_time: Option<i64>,
    bids: Option<Vec<(String, String)>>,
    asks: Option<Vec<(String, String)>>,
    levels: Option<(usize, usize)>,
    digest: Option<String>,
    from_id: Option<u64>,
    to_id: Option<u64>,
    trade_id: Option<u64>,
    price: Option<f64>,
    qty: Option<f64>,
    notional: Option<f64>,
    side: Option<&'static str>,
    time_ms: Option<i64>,
}

impl PyAction {
    fn empty(kind: &'static str) -> Self {
        Self {
            kind,
            symbol: None,
            last_update_id: None,
            expected: None,
            got: None,
            request_id: None,
            result: None,
            error_code: None,
            error_msg: None,
            event_time: None,
            bids: None,
            asks: None,
            levels: None,
            digest: None,
            from_id: None,
            to_id: None,
            trade_id: None,
            price: None,
            qty: None,
            notional: None,
            side: None,
            time_ms: None,
        }
    }
}

impl From<Action> for PyAction {
    fn from(a: Action) -> Self {
        match a {
            Action::SnapshotNeeded { symbol } => Self {
                symbol: Some(symbol.into()),
                ..Self::empty("snapshot_needed")
            },
            Action::Synced { symbol, last_update_id } => Self {
                symbol: Some(symbol.into()),
                last_update_id: Some(last_update_id),
                ..Self::empty("synced")
            },
            Action::Gap { symbol, expected, got } => Self {
                symbol: Some(symbol.into()),
                expected: Some(expected),
                got: Some(got),
                ..Self::empty("gap")
            },
            Action::Control(c) => {
                let (error_code, error_msg) = c.error.map_or((None, None), |(code, msg)| (Some(code), Some(msg)));
                Self {
                    request_id: c.id,
                    result: c.result,
                    error_code,
                    error_msg,
                    ..Self::empty("control")
                }
            }
            Action::BookTrace(t) => {
                let exact = |levels: &[crate::decode::Level]| {
                    levels
                        .iter()
                        .map(|&(p, q)| (format_e8(p), format_e8(q)))
                        .collect::<Vec<_>>()
                };
                Self {
                    symbol: Some(t.symbol.to_string()),
                    last_update_id: Some(t.last_update_id),
                    bids: Some(exact(&t.bids)),
                    asks: Some(exact(&t.asks)),
                    levels: Some((t.n_bids, t.n_asks)),
                    digest: Some(t.digest),
                    ..Self::empty("book")
                }
            }
            Action::ServerShutdown { event_time } => Self {
                event_time: Some(event_time),
                ..Self::empty("server_shutdown")
            },
            Action::TradeGap { symbol, from_id, to_id } => Self {
                symbol: Some(symbol.into()),
                from_id: Some(from_id),
                to_id: Some(to_id),
                ..Self::empty("trade_gap")
            },
            Action::BigTrade {
                symbol,
                trade_id,
                price,
                qty,
                quote,
                buy,
                time,
            } => Self {
                symbol: Some(symbol.into()),
                trade_id: Some(trade_id),
                price: Some(crate::num::e8_to_f64(price)),
                qty: Some(crate::num::e8_to_f64(qty)),
                notional: Some(crate::num::e16_to_f64(quote)),
                side: Some(if buy { "buy" } else { "sell" }),
                time_ms: Some(time),
                ..Self::empty("big_trade")
            },
        }
    }
}

#[pymethods]
impl PyAction {
    fn __repr__(&self) -> String {
        let mut parts = vec![format!("kind={:?}", self.kind)];
        if let Some(s) = &self.symbol {
            parts.push(format!("symbol={s:?}"));
        }
        for (name, v) in [
            ("last_update_id", self.last_update_id),
            ("expected", self.expected),
            ("got", self.got),
            ("from_id", self.from_id),
            ("to_id", self.to_id),
            ("trade_id", self.trade_id),
        ] {
            if let Some(v) = v {
                parts.push(format!("{name}={v}"));
            }
        }
        if let (Some(side), Some(notional)) = (self.side, self.notional) {
            parts.push(format!("side={side:?}, notional={notional}"));
        }
        if let Some(code) = self.error_code {
            parts.push(format!("error=({code}, {:?})", self.error_msg.as_deref().unwrap_or("")));
        }
        format!("Action({})", parts.join(", "))
    }
}

fn actions_list(py: Python<'_>, actions: Vec<Action>) -> PyResult<Bound<'_, PyList>> {
    PyList::new(py, actions.into_iter().map(PyAction::from))
}

/// What one `apply_frames` call did.
#[pyclass(frozen, name = "BatchResult", module = "tapeflow._core")]
pub struct PyBatchResult {
    #[pyo3(get)]
    frames: usize,
    #[pyo3(get)]
    events: usize,
    actions: Py<PyList>,
    errors: Py<PyList>,
}

#[pymethods]
impl PyBatchResult {
    /// Actions to take, in the order the frames produced them.
    #[getter]
    fn actions(&self, py: Python<'_>) -> Py<PyList> {
        self.actions.clone_ref(py)
    }

    /// One `DecodeError` per malformed frame (with `.index` set); those frames changed nothing.
    #[getter]
    fn errors(&self, py: Python<'_>) -> Py<PyList> {
        self.errors.clone_ref(py)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "BatchResult(frames={}, events={}, actions={}, errors={})",
            self.frames,
            self.events,
            self.actions.bind(py).len(),
            self.errors.bind(py).len()
        )
    }
}

/// The multi-symbol engine. Thread-safe: calls from several threads wait for each other.
#[pyclass(frozen, name = "Engine", module = "tapeflow._core")]
pub struct PyEngine {
    pub(crate) inner: Mutex<Engine>,
}

fn parse_market(market: &str) -> PyResult<Market> {
    Market::parse(market)
        .ok_or_else(|| PyValueError::new_err(format!("unknown market {market:?}: expected 'spot', 'usdm' or 'coinm'")))
}

#[pymethods]
impl PyEngine {
    #[new]
    #[pyo3(signature = (
        market,
        *,
        buffer_limit = 1000,
        trace_depth = None,
        flow_horizons = vec!["1m".to_owned(), "5m".to_owned(), "15m".to_owned(), "1h".to_owned(), "4h".to_owned()],
        flow_intervals = vec!["1m".to_owned(), "5m".to_owned(), "15m".to_owned(), "1h".to_owned()],
        flow_history = 60,
        big_trade = Vec::new(),
    ), text_signature = "(market, *, buffer_limit=1000, trace_depth=None, flow_horizons=('1m', '5m', '15m', '1h', '4h'), \
                          flow_intervals=('1m', '5m', '15m', '1h'), flow_history=60, big_trade=())")]
    fn new(
        market: &str,
        buffer_limit: usize,
        trace_depth: Option<usize>,
        flow_horizons: Vec<String>,
        flow_intervals: Vec<String>,
        flow_history: usize,
        big_trade: Vec<f64>,
    ) -> PyResult<Self> {
        if buffer_limit == 0 {
            return Err(PyValueError::new_err("buffer_limit must be at least 1"));
        }
        let mut engine = Engine::new(parse_market(market)?, buffer_limit);
        engine.set_trace_depth(trace_depth);
        let config = super::flow::flow_config(flow_horizons, flow_intervals, flow_history, big_trade)?;
        engine
            .flow
            .configure(config)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Self {
            inner: Mutex::new(engine),
        })
    }

    #[getter]
    fn market(&self) -> &'static str {
        self.inner.lock().market().name()
    }

    /// Decodes and applies a batch of raw frames received at `recv_ts_ns`, without holding the GIL.
    fn apply_frames(&self, py: Python<'_>, frames: &Bound<'_, PyAny>, recv_ts_ns: i64) -> PyResult<PyBatchResult> {
        let mut owned: Vec<Bound<'_, PyBytes>> = Vec::new();
        if let Ok(list) = frames.cast::<PyList>() {
            owned.reserve(list.len());
            for item in list.iter() {
                owned.push(item.cast_into::<PyBytes>().map_err(PyErr::from)?);
            }
        } else {
            for item in frames.try_iter()? {
                owned.push(item?.cast_into::<PyBytes>().map_err(PyErr::from)?);
            }
        }
        let slices: Vec<&[u8]> = owned.iter().map(PyBytesMethods::as_bytes).collect();
        let report = py.detach(|| self.inner.lock().apply_frames(slices.iter().copied(), recv_ts_ns));
        let errors = PyList::empty(py);
        for (i, e) in &report.errors {
            errors.append(errors::decode_error_value(py, e, Some(*i))?)?;
        }
        Ok(PyBatchResult {
            frames: report.frames,
            events: report.events,
            actions: actions_list(py, report.actions)?.unbind(),
            errors: errors.unbind(),
        })
    }

    /// Decodes and applies one frame; raises `DecodeError` (changing nothing) if it is malformed.
    fn apply_frame<'py>(&self, py: Python<'py>, frame: &[u8], recv_ts_ns: i64) -> PyResult<Bound<'py, PyList>> {
        let mut actions = Vec::new();
        let result = self.inner.lock().apply_frame(frame, recv_ts_ns, &mut actions);
        result.map_err(|e| errors::decode_error(py, &e))?;
        actions_list(py, actions)
    }

    /// Feeds a REST depth snapshot body (raw bytes) for `symbol`; raises `DecodeError` if it is malformed.
    fn apply_snapshot<'py>(&self, py: Python<'py>, symbol: &str, body: &[u8]) -> PyResult<Bound<'py, PyList>> {
        let mut actions = Vec::new();
        let result = py.detach(|| self.inner.lock().apply_snapshot(symbol, body, &mut actions));
        result.map_err(|e| errors::decode_error(py, &e))?;
        actions_list(py, actions)
    }

    /// Starts tracking a symbol before its first frame (its book and its flow windows).
    fn track(&self, symbol: &str) {
        self.inner.lock().track(symbol);
    }

    /// Symbols seen so far, in order of first appearance.
    fn symbols(&self) -> Vec<String> {
        self.inner.lock().symbols().iter().map(ToString::to_string).collect()
    }

    fn sync_state(&self, py: Python<'_>, symbol: &str) -> PyResult<PySyncState> {
        let engine = self.inner.lock();
        engine
            .sync_state(symbol)
            .map(Into::into)
            .ok_or_else(|| errors::unknown_symbol(py, symbol))
    }

    /// The top `depth` levels of a book. Raises `BookNotSyncedError` unless the book is synced or
    /// `allow_unsynced` is true (the view's `state` then says what it is).
    #[pyo3(signature = (symbol, depth = 10, *, allow_unsynced = false))]
    fn book(&self, py: Python<'_>, symbol: &str, depth: usize, allow_unsynced: bool) -> PyResult<PyBookView> {
        let engine = self.inner.lock();
        let state = engine.state(symbol).ok_or_else(|| errors::unknown_symbol(py, symbol))?;
        check_synced(py, symbol, state.book.state(), allow_unsynced)?;
        Ok(PyBookView::new(
            symbol,
            state.book.state(),
            state.book.book(),
            depth,
            state.recv_ts_ns,
        ))
    }

    /// Hex SHA-256 of the whole book in canonical text form (see the README).
    #[pyo3(signature = (symbol, *, allow_unsynced = false))]
    fn digest(&self, py: Python<'_>, symbol: &str, allow_unsynced: bool) -> PyResult<String> {
        let engine = self.inner.lock();
        let state = engine.state(symbol).ok_or_else(|| errors::unknown_symbol(py, symbol))?;
        check_synced(py, symbol, state.book.state(), allow_unsynced)?;
        Ok(state.book.book().digest())
    }

    /// Quantity, notional and imbalance of the levels within ±`pct` percent of the mid price.
    fn band(&self, py: Python<'_>, symbol: &str, pct: f64) -> PyResult<Option<PyBand>> {
        if !(0.0..=100.0).contains(&pct) {
            return Err(PyValueError::new_err(format!("pct must be within [0, 100], got {pct}")));
        }
        let engine = self.inner.lock();
        let state = engine.state(symbol).ok_or_else(|| errors::unknown_symbol(py, symbol))?;
        check_synced(py, symbol, state.book.state(), false)?;
        let ppb = (pct * 10_000_000.0).round() as u32;
        Ok(state.book.book().band(ppb).map(|b| PyBand::new(pct, b)))
    }

    /// Latest exchange best bid/ask: `(update_id, bid, bid_qty, ask, ask_qty)` as floats, or `None`.
    fn ticker(&self, py: Python<'_>, symbol: &str) -> PyResult<Option<TickerTuple>> {
        use crate::num::e8_to_f64 as f;
        let engine = self.inner.lock();
        let state = engine.state(symbol).ok_or_else(|| errors::unknown_symbol(py, symbol))?;
        Ok(state
            .ticker
            .as_ref()
            .map(|t| (t.update_id, f(t.bid_price), f(t.bid_qty), f(t.ask_price), f(t.ask_qty))))
    }

    /// The fetch of a requested snapshot failed: the next diff for `symbol` asks again.
    fn snapshot_failed(&self, symbol: &str) {
        self.inner.lock().snapshot_failed(symbol);
    }

    /// Discards every book (after a reconnect of the depth connection).
    fn reset_books(&self) {
        self.inner.lock().reset_books();
    }

    /// Discards one symbol's book.
    fn reset_book(&self, symbol: &str) {
        self.inner.lock().reset_book(symbol);
    }

    /// Engine counters: frames, events, malformed, depth and level updates, book tickers, unknown events by type.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let engine = self.inner.lock();
        let s = &engine.stats;
        let d = PyDict::new(py);
        d.set_item("frames", s.frames)?;
        d.set_item("events", s.events)?;
        d.set_item("malformed", s.malformed)?;
        d.set_item("depth_updates", s.depth_updates)?;
        d.set_item("level_updates", s.level_updates)?;
        d.set_item("book_tickers", s.book_tickers)?;
        d.set_item("partial_depth", s.partial_depth)?;
        let unknown = PyDict::new(py);
        for (k, v) in &s.unknown {
            unknown.set_item(k, v)?;
        }
        d.set_item("unknown", unknown)?;
        Ok(d)
    }
}

fn check_synced(py: Python<'_>, symbol: &str, state: crate::book::SyncState, allow_unsynced: bool) -> PyResult<()> {
    if allow_unsynced || state == crate::book::SyncState::Synced {
        return Ok(());
    }
    let name = PySyncState::from(state).name();
    let fields = [
        ("symbol", pyo3::types::PyString::new(py, symbol).into_any()),
        ("state", pyo3::types::PyString::new(py, name).into_any()),
    ];
    Err(errors::error(
        py,
        "BookNotSyncedError",
        format!("book {symbol} is {name}, not SYNCED"),
        &fields,
    ))
}
