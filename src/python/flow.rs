//! Trade-flow queries on `tapeflow._core.Engine`: REST backfill, gaps, sliding and aligned volumes, candles.

use numpy::IntoPyArray;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};

use super::engine::PyEngine;
use super::errors;
use crate::flow::{duration_name, parse_duration, FlowConfig, FlowError, Volume, Window};
use crate::num::{self, e16_to_f64, e8_wide_to_f64, format_e16, format_e8_wide};

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

/// Taker buy/sell flow of one symbol over one window.
#[pyclass(frozen, name = "Volume", module = "tapeflow._core")]
pub struct PyVolume {
    #[pyo3(get)]
    symbol: String,
    #[pyo3(get)]
    window: String,
    #[pyo3(get)]
    buy_base: f64,
    #[pyo3(get)]
    sell_base: f64,
    #[pyo3(get)]
    buy_quote: f64,
    #[pyo3(get)]
    sell_quote: f64,
    #[pyo3(get)]
    net_quote: f64,
    #[pyo3(get)]
    buy_count: u64,
    #[pyo3(get)]
    sell_count: u64,
    #[pyo3(get)]
    vwap: f64,
    #[pyo3(get)]
    big_buy_count: u64,
    #[pyo3(get)]
    big_sell_count: u64,
    #[pyo3(get)]
    big_buy_counts: Vec<u64>,
    #[pyo3(get)]
    big_sell_counts: Vec<u64>,
    #[pyo3(get)]
    complete: bool,
    #[pyo3(get)]
    abandoned: bool,
    #[pyo3(get)]
    as_of: i64,
    #[pyo3(get)]
    start_ms: i64,
    #[pyo3(get)]
    end_ms: i64,
    /// Exact sums: base (e8) and quote (e16) per side, notional (e16) for the VWAP.
    exact: [i128; 6],
}

impl PyVolume {
    fn new(symbol: &str, window: &str, v: &Volume, thresholds: usize) -> Self {
        let t = &v.totals;
        let (bq, sq) = v.quote();
        Self {
            symbol: symbol.to_owned(),
            window: window.to_owned(),
            buy_base: e8_wide_to_f64(t.buy_base),
            sell_base: e8_wide_to_f64(t.sell_base),
            buy_quote: e16_to_f64(bq),
            sell_quote: e16_to_f64(sq),
            net_quote: e16_to_f64(bq - sq),
            buy_count: t.buy_count,
            sell_count: t.sell_count,
            vwap: v.vwap(),
            // Counts at the smallest threshold (zero without thresholds: nothing is counted then).
            big_buy_count: t.big[0][0],
            big_sell_count: t.big[0][1],
            big_buy_counts: t.big[..thresholds].iter().map(|b| b[0]).collect(),
            big_sell_counts: t.big[..thresholds].iter().map(|b| b[1]).collect(),
            complete: v.complete,
            abandoned: v.abandoned,
            as_of: v.as_of,
            start_ms: v.start_ms,
            end_ms: v.end_ms,
            exact: [t.buy_base, t.sell_base, bq, sq, t.buy_notional, t.sell_notional],
        }
    }
}

static DECIMAL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn decimal<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let class = DECIMAL.get_or_try_init(py, || {
        py.import("decimal")
            .and_then(|m| m.getattr("Decimal"))
            .map(Bound::unbind)
    })?;
    class.bind(py).call1((text,))
}

#[pymethods]
impl PyVolume {
    /// Exact values as `decimal.Decimal`: `buy_base`, `sell_base`, `net_base`, `buy_quote`, `sell_quote`,
    /// `net_quote`, and `vwap` (the quotient at `Decimal`'s context precision; NaN without trades).
    fn exact<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let [bb, sb, bq, sq, bn, sn] = self.exact;
        let d = PyDict::new(py);
        d.set_item("buy_base", decimal(py, &format_e8_wide(bb))?)?;
        d.set_item("sell_base", decimal(py, &format_e8_wide(sb))?)?;
        d.set_item("net_base", decimal(py, &format_e8_wide(bb - sb))?)?;
        d.set_item("buy_quote", decimal(py, &format_e16(bq))?)?;
        d.set_item("sell_quote", decimal(py, &format_e16(sq))?)?;
        d.set_item("net_quote", decimal(py, &format_e16(bq - sq))?)?;
        let vwap = if bb + sb == 0 {
            decimal(py, "NaN")?
        } else {
            decimal(py, &format_e16(bn + sn))?.call_method1("__truediv__", (decimal(py, &format_e8_wide(bb + sb))?,))?
        };
        d.set_item("vwap", vwap)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Volume(symbol={:?}, window={:?}, buy_quote={}, sell_quote={}, buy_count={}, sell_count={}, complete={}, \
             as_of={})",
            self.symbol,
            self.window,
            format_e16(self.exact[2]),
            format_e16(self.exact[3]),
            self.buy_count,
            self.sell_count,
            if self.complete { "True" } else { "False" },
            self.as_of
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

fn f64s(py: Python<'_>, rows: &[Volume], f: impl Fn(&Volume) -> f64) -> Py<PyAny> {
    rows.iter()
        .map(f)
        .collect::<Vec<f64>>()
        .into_pyarray(py)
        .into_any()
        .unbind()
}

fn i64s(py: Python<'_>, rows: &[Volume], f: impl Fn(&Volume) -> i64) -> Py<PyAny> {
    rows.iter()
        .map(f)
        .collect::<Vec<i64>>()
        .into_pyarray(py)
        .into_any()
        .unbind()
}

fn bools(py: Python<'_>, rows: &[Volume], f: impl Fn(&Volume) -> bool) -> Py<PyAny> {
    rows.iter()
        .map(f)
        .collect::<Vec<bool>>()
        .into_pyarray(py)
        .into_any()
        .unbind()
}

/// The columns shared by `volumes` and `candles`.
fn columns<'py>(py: Python<'py>, rows: &[Volume]) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("buy_quote", f64s(py, rows, |v| e16_to_f64(v.quote().0)))?;
    d.set_item("sell_quote", f64s(py, rows, |v| e16_to_f64(v.quote().1)))?;
    d.set_item("net_quote", f64s(py, rows, |v| e16_to_f64(v.quote().0 - v.quote().1)))?;
    d.set_item("buy_base", f64s(py, rows, |v| e8_wide_to_f64(v.totals.buy_base)))?;
    d.set_item("sell_base", f64s(py, rows, |v| e8_wide_to_f64(v.totals.sell_base)))?;
    d.set_item("buy_count", i64s(py, rows, |v| v.totals.buy_count as i64))?;
    d.set_item("sell_count", i64s(py, rows, |v| v.totals.sell_count as i64))?;
    d.set_item("vwap", f64s(py, rows, Volume::vwap))?;
    d.set_item("big_buy_count", i64s(py, rows, |v| v.totals.big[0][0] as i64))?;
    d.set_item("big_sell_count", i64s(py, rows, |v| v.totals.big[0][1] as i64))?;
    d.set_item("complete", bools(py, rows, |v| v.complete))?;
    d.set_item("abandoned", bools(py, rows, |v| v.abandoned))?;
    Ok(d)
}

#[pymethods]
impl PyEngine {
    /// Feeds a REST `aggTrades` reply body (raw bytes) for `symbol`; raises `DecodeError` (changing nothing) if it is
    /// malformed. With `from_time_ms`, the body is the exchange's complete list of trades from that time on.
    #[pyo3(signature = (symbol, body, *, from_time_ms = None))]
    fn apply_agg_trades<'py>(
        &self,
        py: Python<'py>,
        symbol: &str,
        body: &[u8],
        from_time_ms: Option<i64>,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut actions = Vec::new();
        let result = py.detach(|| {
            self.inner
                .lock()
                .apply_agg_trades(symbol, body, from_time_ms, &mut actions)
        });
        result.map_err(|e| errors::decode_error(py, &e))?;
        PyList::new(py, actions.into_iter().map(super::engine::PyAction::from))
    }

    /// Marks aggregate trade ids `from_id..=to_id` of `symbol` as impossible to fill (older than the exchange's
    /// history): they leave `gaps()`, and the windows they touch say `abandoned`.
    fn abandon_gap(&self, py: Python<'_>, symbol: &str, from_id: u64, to_id: u64) -> PyResult<()> {
        let symbol = symbol.to_ascii_uppercase();
        let result = self.inner.lock().flow.abandon_gap(&symbol, from_id, to_id);
        result.map_err(|e| flow_error(py, &e))
    }

    /// Open (not filled, not abandoned) aggregate trade id gaps as `(symbol, from_id, to_id)`, inclusive.
    #[pyo3(signature = (symbol = None))]
    fn gaps(&self, py: Python<'_>, symbol: Option<&str>) -> PyResult<Vec<(String, u64, u64)>> {
        let symbol = symbol.map(str::to_ascii_uppercase);
        let result = self.inner.lock().flow.gaps(symbol.as_deref());
        let gaps = result.map_err(|e| flow_error(py, &e))?;
        Ok(gaps.into_iter().map(|(s, a, b)| (s.to_string(), a, b)).collect())
    }

    /// The highest aggregate trade id counted for `symbol`, or `None` if it has no flow state.
    fn last_trade_id(&self, symbol: &str) -> Option<u64> {
        let symbol = symbol.to_ascii_uppercase();
        self.inner.lock().flow.last_trade_id(&symbol).ok().flatten()
    }

    /// Taker buy/sell flow of `symbol` over `window` (`"15m"` sliding, `"15m@aligned"` the aligned interval that
    /// contains `now_ms`), evaluated at `now_ms` (default: the newest trade time counted for any symbol).
    #[pyo3(signature = (symbol, window, *, now_ms = None))]
    fn volume(&self, py: Python<'_>, symbol: &str, window: &str, now_ms: Option<i64>) -> PyResult<PyVolume> {
        let symbol = symbol.to_ascii_uppercase();
        let engine = self.inner.lock();
        let w = engine.flow.parse_window(window).map_err(|e| flow_error(py, &e))?;
        let v = engine.flow.volume(&symbol, w, now_ms).map_err(|e| flow_error(py, &e))?;
        let thresholds = engine.flow.config().big_e16.len();
        Ok(PyVolume::new(&symbol, &window_name(&engine, w), &v, thresholds))
    }

    /// `window` for every symbol with flow state, as `NumPy` arrays with one row per symbol (see the stubs).
    #[pyo3(signature = (window, *, now_ms = None))]
    fn volumes<'py>(&self, py: Python<'py>, window: &str, now_ms: Option<i64>) -> PyResult<Bound<'py, PyDict>> {
        let (symbols, rows) = {
            let engine = self.inner.lock();
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
            let engine = self.inner.lock();
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

    /// Flow counters: `aggtrades`, `duplicates`, `late`, `expired`, `overflow`, `gaps`, `gaps_filled`,
    /// `big_trades`, `trades_market`, `trades_other`, `klines`, `rest_bodies`, `rest_trades`, `symbols`,
    /// `memory_bytes`.
    fn flow_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let engine = self.inner.lock();
        let s = &engine.flow.stats;
        let memory: usize = engine
            .flow
            .symbols()
            .iter()
            .map(|sym| engine.flow.memory(sym).unwrap_or(0))
            .sum();
        let d = PyDict::new(py);
        for (k, v) in [
            ("aggtrades", s.aggtrades),
            ("duplicates", s.duplicates),
            ("late", s.late),
            ("expired", s.expired),
            ("overflow", s.overflow),
            ("gaps", s.gaps),
            ("gaps_filled", s.gaps_filled),
            ("big_trades", s.big_trades),
            ("trades_market", s.trades_market),
            ("trades_other", s.trades_other),
            ("klines", s.klines),
            ("rest_bodies", s.rest_bodies),
            ("rest_trades", s.rest_trades),
            ("symbols", engine.flow.symbols().len() as u64),
            ("memory_bytes", memory as u64),
        ] {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// Bytes held by `symbol`'s flow state (second buckets, aligned intervals, id ledger).
    fn flow_memory(&self, py: Python<'_>, symbol: &str) -> PyResult<usize> {
        let symbol = symbol.to_ascii_uppercase();
        let result = self.inner.lock().flow.memory(&symbol);
        result.map_err(|e| flow_error(py, &e))
    }
}
