//! `tapeflow._core.Volume` (one symbol's window) and the `NumPy` columns of many windows (`volumes`, `candles`).

use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use crate::flow::Volume;
use crate::num::{e16_to_f64, e8_wide_to_f64, format_e16, format_e8_wide};

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
    checking: bool,
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
    pub fn new(symbol: &str, window: &str, v: &Volume, thresholds: usize) -> Self {
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
            checking: v.checking,
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
             checking={}, as_of={})",
            self.symbol,
            self.window,
            format_e16(self.exact[2]),
            format_e16(self.exact[3]),
            self.buy_count,
            self.sell_count,
            if self.complete { "True" } else { "False" },
            if self.checking { "True" } else { "False" },
            self.as_of
        )
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

pub fn i64s(py: Python<'_>, rows: &[Volume], f: impl Fn(&Volume) -> i64) -> Py<PyAny> {
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
pub fn columns<'py>(py: Python<'py>, rows: &[Volume]) -> PyResult<Bound<'py, PyDict>> {
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
    d.set_item("checking", bools(py, rows, |v| v.checking))?;
    Ok(d)
}
