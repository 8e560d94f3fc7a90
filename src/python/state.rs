//! Engine state as a whole on `tapeflow._core.Engine`: checkpoints and their restore, the last trade ids to resume
//! from, and the memory held.

use std::sync::Arc;

use parking_lot::Mutex;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use super::engine::PyEngine;
use crate::engine::Draft;

/// `tapeflow.errors.CheckpointError`, raised with its `reason`.
mod py_errors {
    pyo3::import_exception!(tapeflow.errors, CheckpointError);
}

fn checkpoint_error(e: &crate::engine::CheckpointError) -> PyErr {
    py_errors::CheckpointError::new_err((e.to_string(), e.reason()))
}

/// Checksums a draft and copies it into a new `bytes`, all without the GIL (the object is nobody else's until it is
/// returned, so other threads run meanwhile); the draft's buffer then goes back to `spare` for the next checkpoint.
fn seal<'py>(py: Python<'py>, draft: Draft, spare: &Mutex<Vec<u8>>) -> PyResult<Bound<'py, PyBytes>> {
    let data = py.detach(|| draft.seal());
    let bytes = PyBytes::new_with(py, data.len(), |buf| {
        py.detach(|| buf.copy_from_slice(&data));
        Ok(())
    });
    *spare.lock() = data;
    bytes
}

impl PyEngine {
    /// A draft of the engine's state, written into the spare buffer: its pages are already mapped, so the engine is
    /// held only for the encoding (a fresh buffer of a full market's 80 MB costs tens of ms of page faults).
    fn draft(&self, py: Python<'_>) -> Draft {
        let buf = std::mem::take(&mut *self.spare.lock());
        py.detach(|| self.inner.lock().checkpoint_draft_in(buf))
    }
}

/// `tapeflow._core.CheckpointDraft`: a checkpoint taken from the engine but not sealed yet (see
/// `Engine.checkpoint_draft`).
#[pyclass(name = "CheckpointDraft", module = "tapeflow._core", frozen)]
pub struct PyCheckpointDraft {
    inner: Mutex<Option<Draft>>,
    len: usize,
    spare: Arc<Mutex<Vec<u8>>>,
}

#[pymethods]
impl PyCheckpointDraft {
    /// The checkpoint's bytes: the checksum computed, without the GIL. Once only.
    fn seal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let draft = self.inner.lock().take();
        let draft = draft.ok_or_else(|| PyValueError::new_err("this checkpoint draft was sealed already"))?;
        seal(py, draft, &self.spare)
    }

    fn __len__(&self) -> usize {
        self.len
    }
}

#[pymethods]
impl PyEngine {
    /// The flow and liquidation state as a versioned, checksummed checkpoint (bytes), without holding the GIL. The
    /// engine is held only while its state is copied out (the checksum is computed after).
    fn checkpoint<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let draft = self.draft(py);
        seal(py, draft, &self.spare)
    }

    /// The state copied out of the engine, to be sealed later (`CheckpointDraft.seal`), e.g. on another thread.
    fn checkpoint_draft(&self, py: Python<'_>) -> PyCheckpointDraft {
        let draft = self.draft(py);
        PyCheckpointDraft {
            len: draft.len(),
            inner: Mutex::new(Some(draft)),
            spare: Arc::clone(&self.spare),
        }
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
