//! Trade-flow queries on `tapeflow._core.Engine`: REST backfill, gaps, sliding and aligned volumes, candles.

use numpy::IntoPyArray;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use super::actions::actions_list;
use super::engine::PyEngine;
use super::errors;
use super::volume::{columns, i64s, PyVolume};
use crate::flow::{duration_name, parse_duration, ClosedInterval, FlowConfig, FlowError, PageQuery, Window};
use crate::num::{self, format_e16, format_e8_wide};

fn flow_error(py: Python<'_>, e: &FlowError) -> PyErr {
    match e {
        FlowError::UnknownSymbol(s) => errors::unknown_symbol(py, s),
        FlowError::BadArgument(m) => PyValueError::new_err(m.clone()),
    }
}

/// Milliseconds in a duration name such as `"15m"` (units `s`, `m`, `h`, `d`; more than zero); `ValueError` if it
/// is not one.
#[pyfunction(name = "parse_duration")]
pub fn py_parse_duration(text: &str) -> PyResult<i64> {
    parse_duration(text).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Builds the flow settings from the `Engine(...)` keyword arguments.
pub fn flow_config(
    horizons: Vec<String>,
    intervals: Vec<String>,
    history: usize,
    big: Vec<f64>,
) -> PyResult<FlowConfig> {
    // Duplicates, ranges and the number of thresholds are checked by `FlowConfig` itself.
    let parse = |names: Vec<String>| {
        names
            .iter()
            .map(|n| py_parse_duration(n))
            .collect::<PyResult<Vec<i64>>>()
    };
    let mut big_e16 = Vec::new();
    for b in big {
        if !(b.is_finite() && b > 0.0 && b < 1e14) {
            return Err(PyValueError::new_err(format!(
                "big_trade thresholds must be positive quote amounts below 1e14, got {b}"
            )));
        }
        // Thresholds are quote amounts with at most 8 decimals (e8), widened to notional units (e16).
        // `b · 1e8` reaches 1e22 (beyond i64 from 9.2e10 on): converted to i128, which holds it exactly.
        big_e16.push(((b * 1e8).round() as i128) * i128::from(num::ONE));
    }
    Ok(FlowConfig {
        horizons_ms: parse(horizons)?,
        intervals_ms: parse(intervals)?,
        history,
        big_e16,
    })
}

/// What one REST `aggTrades` page did.
#[pyclass(frozen, name = "TradesPage", module = "tapeflow._core")]
pub struct PyTradesPage {
    /// Rows in the page.
    #[pyo3(get)]
    rows: usize,
    /// Rows counted for the first time.
    #[pyo3(get)]
    counted: usize,
    #[pyo3(get)]
    first_id: Option<u64>,
    #[pyo3(get)]
    last_id: Option<u64>,
    /// Ids `(from_id, first_id - 1)` the exchange no longer serves, marked abandoned.
    #[pyo3(get)]
    abandoned: Option<(u64, u64)>,
    actions: Py<PyList>,
}

#[pymethods]
impl PyTradesPage {
    /// Big trades among the counted rows, then the trade gaps the page left missing.
    #[getter]
    fn actions(&self, py: Python<'_>) -> Py<PyList> {
        self.actions.clone_ref(py)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let opt = |v: Option<u64>| v.map_or_else(|| "None".to_owned(), |v| v.to_string());
        format!(
            "TradesPage(rows={}, counted={}, first_id={}, last_id={}, abandoned={}, actions={})",
            self.rows,
            self.counted,
            opt(self.first_id),
            opt(self.last_id),
            self.abandoned
                .map_or_else(|| "None".to_owned(), |(a, b)| format!("({a}, {b})")),
            self.actions.bind(py).len()
        )
    }
}

/// The canonical name of a window (`"15m"`, `"1h@aligned"`).
fn window_name(engine: &crate::engine::Engine, w: Window) -> String {
    let c = engine.flow.config();
    match w {
        Window::Sliding(k) => duration_name(c.horizons_ms[k]),
        Window::Aligned(k) => format!("{}@aligned", duration_name(c.intervals_ms[k])),
    }
}

#[pymethods]
impl PyEngine {
    /// Feeds a REST `aggTrades` reply body (raw bytes) for `symbol`; raises `DecodeError` (changing nothing) if it is
    /// malformed. With `from_time_ms`, the body is the exchange's complete list of trades from that time on; with
    /// `from_id`, it answers `fromId=from_id` (ids before its first row are no longer served: they are abandoned).
    #[pyo3(signature = (symbol, body, *, from_time_ms = None, from_id = None))]
    fn apply_agg_trades(
        &self,
        py: Python<'_>,
        symbol: &str,
        body: &[u8],
        from_time_ms: Option<i64>,
        from_id: Option<u64>,
    ) -> PyResult<PyTradesPage> {
        let query = PageQuery {
            from_time: from_time_ms,
            from_id,
        };
        let mut actions = Vec::new();
        let result = py.detach(|| self.write().apply_agg_trades(symbol, body, query, &mut actions));
        let page = result.map_err(|e| errors::decode_error(py, &e))?;
        Ok(PyTradesPage {
            rows: page.rows,
            counted: page.counted,
            first_id: page.first_id,
            last_id: page.last_id,
            abandoned: page.abandoned,
            actions: actions_list(py, actions)?.unbind(),
        })
    }

    /// Starts a check of `symbol`'s trades (e.g. its newest trades fetched after a reconnect): its windows are not
    /// complete until every check begun has ended.
    fn begin_check(&self, symbol: &str) {
        self.write().begin_check(symbol);
    }

    /// Ends a check begun with `begin_check` (a no-op with none pending).
    fn end_check(&self, symbol: &str) {
        self.write().end_check(symbol);
    }

    /// Marks aggregate trade ids `from_id..=to_id` of `symbol` as impossible to fill (older than the exchange's
    /// history): they leave `gaps()`, and the windows they touch say `abandoned`.
    fn abandon_gap(&self, py: Python<'_>, symbol: &str, from_id: u64, to_id: u64) -> PyResult<()> {
        let symbol = symbol.to_ascii_uppercase();
        let result = self.write().flow.abandon_gap(&symbol, from_id, to_id);
        result.map_err(|e| flow_error(py, &e))
    }

    /// Open (not filled, not abandoned) aggregate trade id gaps as `(symbol, from_id, to_id)`, inclusive.
    #[pyo3(signature = (symbol = None))]
    fn gaps(&self, py: Python<'_>, symbol: Option<&str>) -> PyResult<Vec<(String, u64, u64)>> {
        let symbol = symbol.map(str::to_ascii_uppercase);
        let result = self.read().flow.gaps(symbol.as_deref());
        let gaps = result.map_err(|e| flow_error(py, &e))?;
        Ok(gaps.into_iter().map(|(s, a, b)| (s.to_string(), a, b)).collect())
    }

    /// The highest aggregate trade id counted for `symbol`, or `None` if it has no flow state.
    fn last_trade_id(&self, symbol: &str) -> Option<u64> {
        let symbol = symbol.to_ascii_uppercase();
        self.read().flow.last_trade_id(&symbol).ok().flatten()
    }

    /// Taker buy/sell flow of `symbol` over `window` (`"15m"` sliding, `"15m@aligned"` the aligned interval that
    /// contains `now_ms`), evaluated at `now_ms` (default: the newest trade time counted for any symbol).
    #[pyo3(signature = (symbol, window, *, now_ms = None))]
    fn volume(&self, py: Python<'_>, symbol: &str, window: &str, now_ms: Option<i64>) -> PyResult<PyVolume> {
        let symbol = symbol.to_ascii_uppercase();
        let engine = self.read();
        let w = engine.flow.parse_window(window).map_err(|e| flow_error(py, &e))?;
        let v = engine.flow.volume(&symbol, w, now_ms).map_err(|e| flow_error(py, &e))?;
        let thresholds = engine.flow.config().big_e16.len();
        Ok(PyVolume::new(&symbol, &window_name(&engine, w), &v, thresholds))
    }

    /// `window` for every symbol with flow state, as `NumPy` arrays with one row per symbol (see the stubs).
    #[pyo3(signature = (window, *, now_ms = None))]
    fn volumes<'py>(&self, py: Python<'py>, window: &str, now_ms: Option<i64>) -> PyResult<Bound<'py, PyDict>> {
        let (symbols, rows) = {
            let engine = self.read();
            let w = engine.flow.parse_window(window).map_err(|e| flow_error(py, &e))?;
            let rows = engine.flow.volumes(w, now_ms).map_err(|e| flow_error(py, &e))?;
            let symbols: Vec<Py<PyAny>> = engine
                .flow
                .symbols()
                .iter()
                .map(|s| pyo3::types::PyString::new(py, s).into_any().unbind())
                .collect();
            (symbols, rows)
        };
        let d = columns(py, &rows)?;
        d.set_item("symbol", symbols.into_pyarray(py))?;
        Ok(d)
    }

    /// The completed and current intervals of an aligned `interval` of `symbol`, oldest first, as `NumPy` arrays
    /// (the last `count` rows if given).
    #[pyo3(signature = (symbol, interval, *, count = None))]
    fn candles<'py>(
        &self,
        py: Python<'py>,
        symbol: &str,
        interval: &str,
        count: Option<usize>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let symbol = symbol.to_ascii_uppercase();
        let rows = {
            let engine = self.read();
            let name = interval.strip_suffix("@aligned").unwrap_or(interval);
            let w = engine
                .flow
                .parse_window(&format!("{name}@aligned"))
                .map_err(|e| flow_error(py, &e))?;
            let Window::Aligned(k) = w else {
                unreachable!("an @aligned name parses to an aligned window")
            };
            engine.flow.candles(&symbol, k, count).map_err(|e| flow_error(py, &e))?
        };
        let d = columns(py, &rows)?;
        d.set_item("start_ms", i64s(py, &rows, |v| v.start_ms))?;
        Ok(d)
    }

    /// Every symbol's aligned intervals of `interval` that start at or after `since_ms` and have ended by the
    /// engine's heard-until clock, as columns of lists (see the stubs): the values `candles()` gives, with the first
    /// and last trade ids of each interval.
    fn closed_intervals<'py>(&self, py: Python<'py>, interval: &str, since_ms: i64) -> PyResult<Bound<'py, PyDict>> {
        let engine = self.read();
        let name = interval.strip_suffix("@aligned").unwrap_or(interval);
        let Window::Aligned(k) = engine
            .flow
            .parse_window(&format!("{name}@aligned"))
            .map_err(|e| flow_error(py, &e))?
        else {
            unreachable!("an @aligned name parses to an aligned window")
        };
        let rows = engine.flow.closed_intervals(k, since_ms);
        let names = engine.flow.symbols();
        let d = PyDict::new(py);
        let column =
            |f: &dyn Fn(&ClosedInterval) -> Bound<'py, PyAny>| PyList::new(py, rows.iter().map(f)).map(Bound::into_any);
        let int = |v: i64| v.into_pyobject(py).map(Bound::into_any).expect("an int");
        let text = |v: String| pyo3::types::PyString::new(py, &v).into_any();
        let flag = |v: bool| pyo3::types::PyBool::new(py, v).to_owned().into_any();
        let id = |v: Option<u64>| v.into_pyobject(py).map(Bound::into_any).expect("an int or None");
        d.set_item("symbol", column(&|r| text(names[r.slot].to_string()))?)?;
        d.set_item("start_ms", column(&|r| int(r.volume.start_ms))?)?;
        d.set_item("buy_base", column(&|r| text(format_e8_wide(r.volume.totals.buy_base)))?)?;
        d.set_item(
            "sell_base",
            column(&|r| text(format_e8_wide(r.volume.totals.sell_base)))?,
        )?;
        d.set_item("buy_quote", column(&|r| text(format_e16(r.volume.quote().0)))?)?;
        d.set_item("sell_quote", column(&|r| text(format_e16(r.volume.quote().1)))?)?;
        d.set_item("buy_count", column(&|r| int(r.volume.totals.buy_count as i64))?)?;
        d.set_item("sell_count", column(&|r| int(r.volume.totals.sell_count as i64))?)?;
        d.set_item("big_buy_count", column(&|r| int(r.volume.totals.big[0][0] as i64))?)?;
        d.set_item("big_sell_count", column(&|r| int(r.volume.totals.big[0][1] as i64))?)?;
        d.set_item("first_id", column(&|r| id(r.ids.map(|i| i.0)))?)?;
        d.set_item("last_id", column(&|r| id(r.ids.map(|i| i.1)))?)?;
        d.set_item("complete", column(&|r| flag(r.volume.complete))?)?;
        d.set_item("abandoned", column(&|r| flag(r.volume.abandoned))?)?;
        Ok(d)
    }

    /// Bytes held by `symbol`'s flow state (second buckets, aligned intervals, id ledger).
    fn flow_memory(&self, py: Python<'_>, symbol: &str) -> PyResult<usize> {
        let symbol = symbol.to_ascii_uppercase();
        let result = self.read().flow.memory(&symbol);
        result.map_err(|e| flow_error(py, &e))
    }
}
