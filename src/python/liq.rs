//! Liquidation queries on `tapeflow._core.Engine`: totals, series, clusters, heatmap, mark prices.

use numpy::{IntoPyArray, PyArray1, PyArray3, PyArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use super::engine::PyEngine;
use crate::liq::{lookback_range, Cluster, LiqConfig, LiqError, Side};
use crate::num::{self, e16_to_f64, format_e16};

fn value_error(e: &LiqError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn parse_side(side: Option<&str>) -> PyResult<Option<Side>> {
    side.map(|s| {
        Side::parse(s).ok_or_else(|| PyValueError::new_err(format!("side must be 'long' or 'short', got {s:?}")))
    })
    .transpose()
}

/// A decimal given as `str` (exact) or a number, in e8 units.
fn decimal_e8(v: &Bound<'_, PyAny>, what: &str) -> PyResult<i64> {
    if let Ok(s) = v.cast::<PyString>() {
        return num::parse_str(s.to_str()?).map_err(|e| PyValueError::new_err(format!("{what}: {e}")));
    }
    let f: f64 = v.extract()?;
    if !f.is_finite() || f.abs() > 9.2e10 {
        return Err(PyValueError::new_err(format!("{what} out of range: {f}")));
    }
    Ok((f * 1e8).round() as i64)
}

/// Total liquidated notional over a look-back.
#[pyclass(frozen, get_all, name = "LiqTotal", module = "tapeflow._core")]
pub struct PyLiqTotal {
    symbol: Option<String>,
    side: Option<&'static str>,
    /// Quote units as a float.
    notional: f64,
    /// Exact decimal string.
    notional_exact: String,
    count: u64,
    start_ms: i64,
    end_ms: i64,
}

#[pymethods]
impl PyLiqTotal {
    fn __repr__(&self) -> String {
        format!(
            "LiqTotal(symbol={:?}, side={:?}, notional={}, count={}, start_ms={}, end_ms={})",
            self.symbol, self.side, self.notional_exact, self.count, self.start_ms, self.end_ms
        )
    }
}

/// One price cluster of liquidations.
#[pyclass(frozen, get_all, name = "LiqCluster", module = "tapeflow._core")]
pub struct PyLiqCluster {
    symbol: String,
    bin: i64,
    price: f64,
    price_low: f64,
    price_high: f64,
    side: &'static str,
    count: u64,
    count_long: u64,
    count_short: u64,
    notional: f64,
    notional_long: f64,
    notional_short: f64,
    notional_exact: String,
    decayed: f64,
    decayed_long: f64,
    decayed_short: f64,
    strength: f64,
    distance_pct: Option<f64>,
    last_time_ms: i64,
}

impl PyLiqCluster {
    fn new(symbol: &str, c: &Cluster) -> Self {
        Self {
            symbol: symbol.to_owned(),
            bin: c.bin,
            price: c.price,
            price_low: c.price_low,
            price_high: c.price_high,
            side: c.side.name(),
            count: c.count,
            count_long: c.count_long,
            count_short: c.count_short,
            notional: e16_to_f64(c.total_notional()),
            notional_long: e16_to_f64(c.notional[0]),
            notional_short: e16_to_f64(c.notional[1]),
            notional_exact: format_e16(c.total_notional()),
            decayed: c.total_decayed(),
            decayed_long: c.decayed[0],
            decayed_short: c.decayed[1],
            strength: c.strength,
            distance_pct: c.distance_pct,
            last_time_ms: c.last_time,
        }
    }
}

#[pymethods]
impl PyLiqCluster {
    fn __repr__(&self) -> String {
        format!(
            "LiqCluster(symbol={:?}, price={:.8}, side={:?}, count={}, notional={}, decayed={:.2}, strength={:.4})",
            self.symbol, self.price, self.side, self.count, self.notional_exact, self.decayed, self.strength
        )
    }
}

type Series<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<i64>>,
);
type Grid<'py> = (
    Bound<'py, PyArray3<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<i64>>,
);

#[pymethods]
impl PyEngine {
    /// Changes the liquidation settings; arguments left `None` keep their value.
    #[pyo3(signature = (*, retention_ms = None, bin_pct = None, tau_ms = None, half_life_ms = None, min_events = None))]
    fn liq_configure(
        &self,
        retention_ms: Option<i64>,
        bin_pct: Option<f64>,
        tau_ms: Option<f64>,
        half_life_ms: Option<f64>,
        min_events: Option<u64>,
    ) -> PyResult<()> {
        if tau_ms.is_some() && half_life_ms.is_some() {
            return Err(PyValueError::new_err("give tau_ms or half_life_ms, not both"));
        }
        let mut engine = self.write();
        let old = engine.liq.config();
        let config = LiqConfig {
            retention_ms: retention_ms.unwrap_or(old.retention_ms),
            bin_pct: bin_pct.unwrap_or(old.bin_pct),
            tau_ms: half_life_ms.map_or(tau_ms.unwrap_or(old.tau_ms), |h| h / std::f64::consts::LN_2),
            min_events: min_events.unwrap_or(old.min_events),
        };
        engine.liq.configure(config).map_err(|e| value_error(&e))
    }

    /// The liquidation settings: `retention_ms`, `bin_pct`, `tau_ms`, `half_life_ms`, `min_events`.
    fn liq_config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = self.read().liq.config();
        let d = PyDict::new(py);
        d.set_item("retention_ms", c.retention_ms)?;
        d.set_item("bin_pct", c.bin_pct)?;
        d.set_item("tau_ms", c.tau_ms)?;
        d.set_item("half_life_ms", c.tau_ms * std::f64::consts::LN_2)?;
        d.set_item("min_events", c.min_events)?;
        Ok(d)
    }

    /// Total liquidated notional of `symbol` (all symbols when `None`) over `lookback_ms` ending at `now_ms`
    /// (default: the newest liquidation time seen), optionally of one side.
    #[pyo3(signature = (symbol = None, *, lookback_ms, side = None, now_ms = None))]
    fn liq_total(
        &self,
        symbol: Option<&str>,
        lookback_ms: i64,
        side: Option<&str>,
        now_ms: Option<i64>,
    ) -> PyResult<PyLiqTotal> {
        let side = parse_side(side)?;
        let symbol = symbol.map(str::to_ascii_uppercase);
        let engine = self.read();
        let now = now_ms.or(engine.liq.clock()).unwrap_or(0);
        let (start, end) = lookback_range(now, lookback_ms).map_err(|e| value_error(&e))?;
        let s = engine.liq.sums(symbol.as_deref(), start, end);
        Ok(PyLiqTotal {
            symbol,
            side: side.map(Side::name),
            notional: e16_to_f64(s.notional(side)),
            notional_exact: format_e16(s.notional(side)),
            count: s.count(side),
            start_ms: start,
            end_ms: end,
        })
    }

    /// `(bucket_starts_ms, notional, count)` `NumPy` arrays over `lookback_ms` ending at `now_ms`, buckets of
    /// `interval_ms` aligned to UTC; the first and last buckets count only their part of the look-back.
    #[pyo3(signature = (symbol = None, *, lookback_ms, interval_ms, side = None, now_ms = None))]
    fn liq_series<'py>(
        &self,
        py: Python<'py>,
        symbol: Option<&str>,
        lookback_ms: i64,
        interval_ms: i64,
        side: Option<&str>,
        now_ms: Option<i64>,
    ) -> PyResult<Series<'py>> {
        let side = parse_side(side)?;
        let symbol = symbol.map(str::to_ascii_uppercase);
        let result = py.detach(|| {
            let engine = self.read();
            let now = now_ms.or(engine.liq.clock()).unwrap_or(0);
            let (start, end) = lookback_range(now, lookback_ms)?;
            engine.liq.series(symbol.as_deref(), start, end, interval_ms)
        });
        let (starts, sums) = result.map_err(|e| value_error(&e))?;
        let notional: Vec<f64> = sums.iter().map(|s| e16_to_f64(s.notional(side))).collect();
        let count: Vec<i64> = sums.iter().map(|s| s.count(side) as i64).collect();
        Ok((
            starts.into_pyarray(py),
            notional.into_pyarray(py),
            count.into_pyarray(py),
        ))
    }

    /// Clusters of `symbol` (bins with at least `min_events` events), by price, decayed to `now_ms`.
    #[pyo3(signature = (symbol, *, now_ms = None))]
    fn liq_clusters(&self, symbol: &str, now_ms: Option<i64>) -> Vec<PyLiqCluster> {
        let symbol = symbol.to_ascii_uppercase();
        let clusters = self.read().liq.clusters(&symbol, now_ms);
        clusters.iter().map(|c| PyLiqCluster::new(&symbol, c)).collect()
    }

    /// The clusters of `symbol` as a dict of `NumPy` arrays (one entry per cluster, by price); `side` is 0 for long,
    /// 1 for short; `distance_pct` is NaN without a mark price.
    #[pyo3(signature = (symbol, *, now_ms = None))]
    fn liq_cluster_arrays<'py>(
        &self,
        py: Python<'py>,
        symbol: &str,
        now_ms: Option<i64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let clusters = self.read().liq.clusters(&symbol.to_ascii_uppercase(), now_ms);
        let d = PyDict::new(py);
        let f = |g: &dyn Fn(&Cluster) -> f64| clusters.iter().map(g).collect::<Vec<f64>>().into_pyarray(py);
        let i = |g: &dyn Fn(&Cluster) -> i64| clusters.iter().map(g).collect::<Vec<i64>>().into_pyarray(py);
        d.set_item("bin", i(&|c| c.bin))?;
        d.set_item("price", f(&|c| c.price))?;
        d.set_item("price_low", f(&|c| c.price_low))?;
        d.set_item("price_high", f(&|c| c.price_high))?;
        d.set_item("side", i(&|c| c.side as i64))?;
        d.set_item("count", i(&|c| c.count as i64))?;
        d.set_item("count_long", i(&|c| c.count_long as i64))?;
        d.set_item("count_short", i(&|c| c.count_short as i64))?;
        d.set_item("notional", f(&|c| e16_to_f64(c.total_notional())))?;
        d.set_item("notional_long", f(&|c| e16_to_f64(c.notional[0])))?;
        d.set_item("notional_short", f(&|c| e16_to_f64(c.notional[1])))?;
        d.set_item("decayed", f(&|c| c.total_decayed()))?;
        d.set_item("decayed_long", f(&|c| c.decayed[0]))?;
        d.set_item("decayed_short", f(&|c| c.decayed[1]))?;
        d.set_item("strength", f(&|c| c.strength))?;
        d.set_item("distance_pct", f(&|c| c.distance_pct.unwrap_or(f64::NAN)))?;
        d.set_item("last_time_ms", i(&|c| c.last_time))?;
        Ok(d)
    }

    /// The strongest cluster with `strength >= min_strength` (and dominant `side`, if given), or `None`.
    #[pyo3(signature = (symbol, min_strength = 0.0, side = None, *, now_ms = None))]
    fn best_cluster(
        &self,
        symbol: &str,
        min_strength: f64,
        side: Option<&str>,
        now_ms: Option<i64>,
    ) -> PyResult<Option<PyLiqCluster>> {
        let side = parse_side(side)?;
        let symbol = symbol.to_ascii_uppercase();
        let best = self.read().liq.best_cluster(&symbol, min_strength, side, now_ms);
        Ok(best.map(|c| PyLiqCluster::new(&symbol, &c)))
    }

    /// `(grid, price_edges, time_starts_ms)`: liquidated notional of `symbol` per side × price bin × time bin
    /// (shape `(2, n_price, n_time)`, side 0 = long, 1 = short) over `lookback_ms` ending at `now_ms`.
    #[pyo3(signature = (symbol, *, lookback_ms, interval_ms, bin_pct = None, now_ms = None))]
    fn liq_heatmap<'py>(
        &self,
        py: Python<'py>,
        symbol: &str,
        lookback_ms: i64,
        interval_ms: i64,
        bin_pct: Option<f64>,
        now_ms: Option<i64>,
    ) -> PyResult<Grid<'py>> {
        let symbol = symbol.to_ascii_uppercase();
        let result = py.detach(|| {
            let engine = self.read();
            let now = now_ms.or(engine.liq.clock()).unwrap_or(0);
            let (start, end) = lookback_range(now, lookback_ms)?;
            engine.liq.heatmap(&symbol, start, end, interval_ms, bin_pct)
        });
        let h = result.map_err(|e| value_error(&e))?;
        let grid = h.grid.into_pyarray(py).reshape([2, h.n_price, h.n_time])?;
        Ok((grid, h.price_edges.into_pyarray(py), h.time_starts.into_pyarray(py)))
    }

    /// Sets `symbol`'s mark price by hand (`str` for an exact decimal); the next mark price event replaces it.
    #[pyo3(signature = (symbol, price, *, time_ms = 0))]
    fn set_mark_price(&self, symbol: &str, price: &Bound<'_, PyAny>, time_ms: i64) -> PyResult<()> {
        let p = decimal_e8(price, "price")?;
        let symbol = symbol.to_ascii_uppercase();
        self.write()
            .liq
            .set_mark_price(&symbol, p, time_ms)
            .map_err(|e| value_error(&e))
    }

    /// `(mark_price, time_ms)` of `symbol`, or `None`.
    fn mark_price(&self, symbol: &str) -> Option<(f64, i64)> {
        let m = self.read().liq.mark_price(&symbol.to_ascii_uppercase());
        m.map(|(p, t)| (num::e8_to_f64(p), t))
    }

    /// Sets a COIN-M contract size in USD (`contractSize` of `/dapi/v1/exchangeInfo`) for later liquidations and for
    /// the flow windows' quote volume.
    fn set_contract_size(&self, symbol: &str, size: &Bound<'_, PyAny>) -> PyResult<()> {
        let s = decimal_e8(size, "size")?;
        let symbol = symbol.to_ascii_uppercase();
        let mut engine = self.write();
        engine.liq.set_contract_size(&symbol, s).map_err(|e| value_error(&e))?;
        // Flow windows value COIN-M trades with the same size (quote volume = contracts × size).
        engine
            .flow
            .set_contract_size(&symbol, s)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }
}
