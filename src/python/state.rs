//! Engine state as a whole on `tapeflow._core.Engine`: checkpoints and their restore, the last trade ids to resume
//! from, and the memory held.

use std::sync::Arc;

use numpy::{IntoPyArray, PyArray1};
use parking_lot::Mutex;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use super::engine::PyEngine;
use crate::engine::{Draft, Drafter};

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
    keep_spare(spare, data);
    bytes
}

/// Keeps `buf` for the next draft, unless the buffer kept already is the larger.
fn keep_spare(spare: &Mutex<Vec<u8>>, buf: Vec<u8>) {
    let mut kept = spare.lock();
    if kept.capacity() < buf.capacity() {
        *kept = buf;
    }
}

impl PyEngine {
    /// A draft of the engine's state, written into the spare buffer: its pages are already mapped, so the engine is
    /// held only for the encoding (a fresh buffer of a full market's 80 MB costs tens of ms of page faults).
    fn draft(&self, py: Python<'_>) -> Draft {
        let buf = std::mem::take(&mut *self.spare.lock());
        py.detach(|| self.read().checkpoint_draft_in(buf))
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

impl PyCheckpointDraft {
    fn new(draft: Draft, spare: &Arc<Mutex<Vec<u8>>>) -> Self {
        Self {
            len: draft.len(),
            inner: Mutex::new(Some(draft)),
            spare: Arc::clone(spare),
        }
    }

    /// The draft, to be sealed (once only).
    fn take(&self) -> PyResult<Draft> {
        let draft = self.inner.lock().take();
        draft.ok_or_else(|| PyValueError::new_err("this checkpoint draft was sealed already"))
    }
}

#[pymethods]
impl PyCheckpointDraft {
    /// The checkpoint's bytes: the checksum computed, without the GIL. Once only.
    fn seal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        seal(py, self.take()?, &self.spare)
    }

    /// The checkpoint's bytes as a `NumPy` `uint8` array that owns them: the checksum computed without the GIL, and
    /// no copy (a `bytes` object is filled while the GIL is held, tens of ms for a full market). Once only; the
    /// buffer is not kept for the next draft.
    fn seal_buffer<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<u8>>> {
        let draft = self.take()?;
        Ok(py.detach(|| draft.seal()).into_pyarray(py))
    }

    fn __len__(&self) -> usize {
        self.len
    }
}

/// `tapeflow._core.CheckpointDrafter`: a checkpoint drafted a few symbols at a time (see
/// `Engine.checkpoint_drafter`), so that the engine is let go between steps.
#[pyclass(name = "CheckpointDrafter", module = "tapeflow._core", frozen)]
pub struct PyCheckpointDrafter {
    engine: Py<PyEngine>,
    /// The engine's count of changing calls when the draft was begun.
    writes: u64,
    /// `None` once finished or void.
    inner: Mutex<Option<Drafter>>,
}

impl PyCheckpointDrafter {
    /// The drafter, not waited for: a step holds it while it lets the GIL go, so a thread waiting for it with the GIL
    /// would never let that step end.
    fn slot(&self) -> PyResult<parking_lot::MutexGuard<'_, Option<Drafter>>> {
        self.inner
            .try_lock()
            .ok_or_else(|| PyRuntimeError::new_err("another thread is stepping this checkpoint drafter"))
    }
}

#[pymethods]
impl PyCheckpointDrafter {
    /// Writes the state of up to `symbols` more symbols (at least one), without the GIL; `True` once the draft is
    /// complete. Raises `CheckpointError` (reason `"changed"`) if anything changed the engine since the draft was
    /// begun: the draft is then void.
    #[pyo3(signature = (symbols = 100))]
    fn step(&self, py: Python<'_>, symbols: usize) -> PyResult<bool> {
        let mut slot = self.slot()?;
        let drafter = slot
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("this checkpoint drafter is finished or void"))?;
        let engine = self.engine.get();
        let done = py.detach(|| {
            let held = engine.read();
            (held.writes() == self.writes).then(|| drafter.step(&held, symbols))
        });
        if let Some(done) = done {
            return Ok(done);
        }
        // Void: its buffer serves the next draft.
        if let Some(drafter) = slot.take() {
            keep_spare(&engine.spare, drafter.into_buffer());
        }
        Err(py_errors::CheckpointError::new_err((
            "the engine changed during this checkpoint draft; it is void (begin a new one)",
            "changed",
        )))
    }

    /// The complete draft, to be sealed (`CheckpointDraft.seal`). Once only.
    fn finish(&self) -> PyResult<PyCheckpointDraft> {
        let mut slot = self.slot()?;
        match slot.take() {
            Some(d) if d.is_complete() => Ok(PyCheckpointDraft::new(d.finish(), &self.engine.get().spare)),
            Some(d) => {
                *slot = Some(d);
                Err(PyValueError::new_err(
                    "this checkpoint draft is not complete: step() has not returned True",
                ))
            }
            None => Err(PyValueError::new_err("this checkpoint drafter is finished or void")),
        }
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
        PyCheckpointDraft::new(self.draft(py), &self.spare)
    }

    /// The same checkpoint drafted a few symbols at a time (`CheckpointDrafter.step`), the engine let go between
    /// steps; anything that changes the engine before the last step voids the draft.
    fn checkpoint_drafter(slf: &Bound<'_, Self>) -> PyCheckpointDrafter {
        let this = slf.get();
        let buf = std::mem::take(&mut *this.spare.lock());
        let held = this.read();
        PyCheckpointDrafter {
            writes: held.writes(),
            inner: Mutex::new(Some(held.checkpoint_drafter(buf))),
            engine: slf.clone().unbind(),
        }
    }

    /// Makes ready the buffer the next checkpoint draft is written into: sized for the state now (a short read of
    /// the engine) and every page of it touched, without the GIL and without holding the engine, so that the draft
    /// does not fault its pages in while it holds the engine. Kept until that draft.
    fn prepare_checkpoint_buffer(&self, py: Python<'_>) {
        let want = self.read().checkpoint_capacity();
        let mut buf = std::mem::take(&mut *self.spare.lock());
        py.detach(|| {
            buf.clear();
            // Writing every byte maps every page (the zeros are not read: a draft writes over them).
            buf.resize(want, 0);
            buf.clear();
        });
        keep_spare(&self.spare, buf);
    }

    /// Restores a checkpoint: the flow and liquidation state of the symbols it holds replace this engine's. Returns
    /// those symbols. Raises `CheckpointError` (the engine unchanged) if it cannot.
    fn restore(&self, py: Python<'_>, data: &[u8]) -> PyResult<Vec<String>> {
        let result = py.detach(|| self.write().restore(data));
        let symbols = result.map_err(|e| checkpoint_error(&e))?;
        Ok(symbols.iter().map(ToString::to_string).collect())
    }

    /// The last counted aggregate trade id of every symbol that has one.
    fn last_trade_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let ids = self.read().flow.last_trade_ids();
        let d = PyDict::new(py);
        for (symbol, id) in ids {
            d.set_item(symbol.as_str(), id)?;
        }
        Ok(d)
    }

    /// Bytes held: `flow`, `liq`, `books` and their `total`.
    fn memory<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let m = self.read().memory();
        let d = PyDict::new(py);
        d.set_item("flow", m.flow)?;
        d.set_item("liq", m.liq)?;
        d.set_item("books", m.books)?;
        d.set_item("total", m.total())?;
        Ok(d)
    }
}
