//! `tapeflow._core.Engine`: the multi-symbol engine behind a lock, fed with raw frame bytes.

use std::ops::{Deref, DerefMut};

use parking_lot::{Mutex, MutexGuard};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyBytesMethods, PyDict, PyList};

use super::actions::actions_list;
use super::book::{PyBand, PyBookView, PySyncState};
use super::errors;
use crate::book::Market;
use crate::decode::Level;
use crate::engine::Engine;

/// `(update_id, bid, bid_qty, ask, ask_qty)`.
type TickerTuple = (u64, f64, f64, f64, f64);

/// `(bid, bid_qty, ask, ask_qty)`.
type BestTuple<T> = (T, T, T, T);

/// What one `apply_frames` call did.
#[pyclass(frozen, name = "BatchResult", module = "tapeflow._core")]
pub struct PyBatchResult {
    #[pyo3(get)]
    frames: usize,
    #[pyo3(get)]
    events: usize,
    actions: Py<PyList>,
    errors: Py<PyList>,
    /// Event time `E` (ms) of the last event in the batch that carries one.
    #[pyo3(get)]
    last_event_time_ms: Option<i64>,
    /// The receive time the batch was applied with (caller's clock, ns).
    #[pyo3(get)]
    recv_ts_ns: i64,
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
            "BatchResult(frames={}, events={}, actions={}, errors={}, last_event_time_ms={})",
            self.frames,
            self.events,
            self.actions.bind(py).len(),
            self.errors.bind(py).len(),
            self.last_event_time_ms
                .map_or_else(|| "None".to_owned(), |t| t.to_string())
        )
    }
}

/// The multi-symbol engine. Thread-safe: calls from several threads wait for each other.
#[pyclass(frozen, name = "Engine", module = "tapeflow._core")]
pub struct PyEngine {
    /// Reached through [`PyEngine::read`] and [`PyEngine::write`] only.
    engine: Mutex<Counted>,
    /// The buffer of the last checkpoint sealed into `bytes` (or of a void draft), kept for the next draft (see
    /// `state.rs`).
    pub(crate) spare: std::sync::Arc<Mutex<Vec<u8>>>,
}

/// The engine and the calls that could change it so far (see [`PyEngine::write`]).
struct Counted {
    engine: Engine,
    writes: u64,
}

/// The engine held to be read: no `&mut` access through it (that takes [`PyEngine::write`]).
pub(crate) struct ReadGuard<'a>(MutexGuard<'a, Counted>);

impl ReadGuard<'_> {
    /// Calls that could change the engine so far.
    pub(crate) fn writes(&self) -> u64 {
        self.0.writes
    }
}

impl Deref for ReadGuard<'_> {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        &self.0.engine
    }
}

/// The engine held to be changed, the call counted.
pub(crate) struct WriteGuard<'a>(MutexGuard<'a, Counted>);

impl Deref for WriteGuard<'_> {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        &self.0.engine
    }
}

impl DerefMut for WriteGuard<'_> {
    fn deref_mut(&mut self) -> &mut Engine {
        &mut self.0.engine
    }
}

impl PyEngine {
    /// The engine, held to be read.
    pub(crate) fn read(&self) -> ReadGuard<'_> {
        ReadGuard(self.engine.lock())
    }

    /// The engine, held to be changed. Every such call is counted while the engine is held, so that a checkpoint
    /// drafted in steps can tell whether anything changed the engine between two of them (`state.rs`).
    pub(crate) fn write(&self) -> WriteGuard<'_> {
        let mut held = self.engine.lock();
        held.writes += 1;
        WriteGuard(held)
    }
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
            spare: std::sync::Arc::default(),
            engine: Mutex::new(Counted { engine, writes: 0 }),
        })
    }

    #[getter]
    fn market(&self) -> &'static str {
        self.read().market().name()
    }

    /// Decodes and applies a batch of raw frames received at `recv_ts_ns` (from connection `stream`, if named),
    /// without holding the GIL.
    #[pyo3(signature = (frames, recv_ts_ns, *, stream = None))]
    fn apply_frames(
        &self,
        py: Python<'_>,
        frames: &Bound<'_, PyAny>,
        recv_ts_ns: i64,
        stream: Option<u32>,
    ) -> PyResult<PyBatchResult> {
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
        let report = py.detach(|| {
            self.write()
                .apply_frames_from(stream, slices.iter().copied(), recv_ts_ns)
        });
        let errors = PyList::empty(py);
        for (i, e) in &report.errors {
            errors.append(errors::decode_error_value(py, e, Some(*i))?)?;
        }
        Ok(PyBatchResult {
            frames: report.frames,
            events: report.events,
            actions: actions_list(py, report.actions)?.unbind(),
            errors: errors.unbind(),
            last_event_time_ms: report.last_event_time,
            recv_ts_ns,
        })
    }

    /// Decodes and applies one frame; raises `DecodeError` (changing nothing) if it is malformed.
    fn apply_frame<'py>(&self, py: Python<'py>, frame: &[u8], recv_ts_ns: i64) -> PyResult<Bound<'py, PyList>> {
        let mut actions = Vec::new();
        let result = self.write().apply_frame(frame, recv_ts_ns, &mut actions);
        result.map_err(|e| errors::decode_error(py, &e))?;
        actions_list(py, actions)
    }

    /// Feeds a REST depth snapshot body (raw bytes) for `symbol`, asked for with `limit` levels a side (`None`:
    /// whole sides); raises `DecodeError` if it is malformed.
    #[pyo3(signature = (symbol, body, limit=None))]
    fn apply_snapshot<'py>(
        &self,
        py: Python<'py>,
        symbol: &str,
        body: &[u8],
        limit: Option<usize>,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut actions = Vec::new();
        let result = py.detach(|| self.write().apply_snapshot_of(symbol, body, limit, &mut actions));
        result.map_err(|e| errors::decode_error(py, &e))?;
        actions_list(py, actions)
    }

    /// Starts tracking a symbol before its first frame (its book and its flow windows).
    fn track(&self, symbol: &str) {
        self.write().track(symbol);
    }

    /// Symbols seen so far, in order of first appearance.
    fn symbols(&self) -> Vec<String> {
        self.read().symbols().iter().map(ToString::to_string).collect()
    }

    /// How many of `symbols` have a book in each state: `{"SYNCED": n, "SYNCING": n, "GAP": n}` (symbols never
    /// seen are not counted).
    fn sync_counts<'py>(&self, py: Python<'py>, symbols: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
        let names = symbols
            .try_iter()?
            .map(|s| s?.extract::<String>())
            .collect::<PyResult<Vec<String>>>()?;
        let counts = self.read().sync_counts(names.iter().map(String::as_str));
        let d = PyDict::new(py);
        d.set_item("SYNCED", counts.synced)?;
        d.set_item("SYNCING", counts.syncing)?;
        d.set_item("GAP", counts.gap)?;
        Ok(d)
    }

    fn sync_state(&self, py: Python<'_>, symbol: &str) -> PyResult<PySyncState> {
        let engine = self.read();
        engine
            .sync_state(symbol)
            .map(Into::into)
            .ok_or_else(|| errors::unknown_symbol(py, symbol))
    }

    /// The top `depth` levels of a book. Raises `BookNotSyncedError` unless the book is synced or
    /// `allow_unsynced` is true (the view's `state` then says what it is).
    #[pyo3(signature = (symbol, depth = 10, *, allow_unsynced = false))]
    fn book(&self, py: Python<'_>, symbol: &str, depth: usize, allow_unsynced: bool) -> PyResult<PyBookView> {
        let engine = self.read();
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

    /// Best bid and ask of a synced book as floats, `(bid, bid_qty, ask, ask_qty)`, or `None` while a side is
    /// empty: one call and one tuple, for reading the top after every frame. Raises `BookNotSyncedError` unless
    /// the book is synced.
    fn best(&self, py: Python<'_>, symbol: &str) -> PyResult<Option<BestTuple<f64>>> {
        use crate::num::e8_to_f64 as f;
        let top = self.synced_top(py, symbol)?;
        Ok(top.map(|((b, bq), (a, aq))| (f(b), f(bq), f(a), f(aq))))
    }

    /// [`Self::best`] as exact normalized decimal strings.
    fn best_exact(&self, py: Python<'_>, symbol: &str) -> PyResult<Option<BestTuple<String>>> {
        use crate::num::format_e8 as f;
        let top = self.synced_top(py, symbol)?;
        Ok(top.map(|((b, bq), (a, aq))| (f(b), f(bq), f(a), f(aq))))
    }

    /// Hex SHA-256 of the whole book in canonical text form (see the README).
    #[pyo3(signature = (symbol, *, allow_unsynced = false))]
    fn digest(&self, py: Python<'_>, symbol: &str, allow_unsynced: bool) -> PyResult<String> {
        let engine = self.read();
        let state = engine.state(symbol).ok_or_else(|| errors::unknown_symbol(py, symbol))?;
        check_synced(py, symbol, state.book.state(), allow_unsynced)?;
        Ok(state.book.book().digest())
    }

    /// Quantity, notional and imbalance of the levels within ±`pct` percent of the mid price.
    fn band(&self, py: Python<'_>, symbol: &str, pct: f64) -> PyResult<Option<PyBand>> {
        if !(0.0..=100.0).contains(&pct) {
            return Err(PyValueError::new_err(format!("pct must be within [0, 100], got {pct}")));
        }
        let engine = self.read();
        let state = engine.state(symbol).ok_or_else(|| errors::unknown_symbol(py, symbol))?;
        check_synced(py, symbol, state.book.state(), false)?;
        let ppb = (pct * 10_000_000.0).round() as u32;
        Ok(state.book.book().band(ppb).map(|b| PyBand::new(pct, b)))
    }

    /// Latest exchange best bid/ask: `(update_id, bid, bid_qty, ask, ask_qty)` as floats, or `None`.
    fn ticker(&self, py: Python<'_>, symbol: &str) -> PyResult<Option<TickerTuple>> {
        use crate::num::e8_to_f64 as f;
        let engine = self.read();
        let state = engine.state(symbol).ok_or_else(|| errors::unknown_symbol(py, symbol))?;
        Ok(state
            .ticker
            .as_ref()
            .map(|t| (t.update_id, f(t.bid_price), f(t.bid_qty), f(t.ask_price), f(t.ask_qty))))
    }

    /// The fetch of a requested snapshot failed: the next diff for `symbol` asks again.
    fn snapshot_failed(&self, symbol: &str) {
        self.write().snapshot_failed(symbol);
    }

    /// Discards every book (after a reconnect of the depth connection).
    fn reset_books(&self) {
        self.write().reset_books();
    }

    /// Discards one symbol's book.
    fn reset_book(&self, symbol: &str) {
        self.write().reset_book(symbol);
    }
}

impl PyEngine {
    /// The best bid and ask levels of a synced book (`None` while a side is empty).
    fn synced_top(&self, py: Python<'_>, symbol: &str) -> PyResult<Option<(Level, Level)>> {
        let engine = self.read();
        let state = engine.state(symbol).ok_or_else(|| errors::unknown_symbol(py, symbol))?;
        check_synced(py, symbol, state.book.state(), false)?;
        let book = state.book.book();
        Ok(book.known_best_bid().zip(book.known_best_ask()))
    }
}

fn check_synced(py: Python<'_>, symbol: &str, state: crate::book::SyncState, allow_unsynced: bool) -> PyResult<()> {
    if allow_unsynced || state == crate::book::SyncState::Synced {
        return Ok(());
    }
    let name = PySyncState::from(state).as_str();
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
