//! Engine state as a whole on `tapeflow._core.Engine`: checkpoints and their restore, the last trade ids to resume
//! from, and the memory held.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use super::engine::PyEngine;

/// `tapeflow.errors.CheckpointError`, raised with its `reason`.
mod py_errors {
    pyo3::import_exception!(tapeflow.errors, CheckpointError);
}

fn checkpoint_error(e: &crate::engine::CheckpointError) -> PyErr {
    py_errors::CheckpointError::new_err((e.to_string(), e.reason()))
}

#[pymethods]
impl PyEngine {
    /// The flow and liquidation state as a versioned, checksummed checkpoint (bytes), without holding the GIL.
    fn checkpoint<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let data = py.detach(|| self.inner.lock().checkpoint());
        PyBytes::new(py, &data)
    }

    /// Restores a checkpoint: the flow and liquidation state of the symbols it holds replace this engine's. Returns
    /// those symbols. Raises `CheckpointError` (the engine unchanged) if it cannot.
    fn restore(&self, py: Python<'_>, data: &[u8]) -> PyResult<Vec<String>> {
        let result = py.detach(|| self.inner.lock().restore(data));
        let symbols = result.map_err(|e| checkpoint_error(&e))?;
        Ok(symbols.iter().map(ToString::to_string).collect())
    }

    /// The last counted aggregate trade id of every symbol that has one.
    fn last_trade_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let ids = self.inner.lock().flow.last_trade_ids();
        let d = PyDict::new(py);
        for (symbol, id) in ids {
            d.set_item(symbol.as_str(), id)?;
        }
        Ok(d)
    }

    /// Bytes held: `flow`, `liq`, `books` and their `total`.
    fn memory<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let m = self.inner.lock().memory();
        let d = PyDict::new(py);
        d.set_item("flow", m.flow)?;
        d.set_item("liq", m.liq)?;
        d.set_item("books", m.books)?;
        d.set_item("total", m.total())?;
        Ok(d)
    }
}
