//! The `PyO3` bindings: `tapeflow._core`. Compiled only with the `python` feature.

mod actions;
mod book;
mod engine;
mod errors;
mod flow;
mod liq;
mod record;
mod state;
mod stats;
mod volume;
mod ws;

use pyo3::prelude::*;

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<engine::PyEngine>()?;
    m.add_class::<state::PyCheckpointDraft>()?;
    m.add_class::<state::PyCheckpointDrafter>()?;
    m.add_class::<engine::PyBatchResult>()?;
    actions::register(m)?;
    stats::register(m)?;
    m.add_class::<book::PyBookView>()?;
    m.add_class::<book::PyBand>()?;
    m.add_class::<book::PySyncState>()?;
    m.add_class::<volume::PyVolume>()?;
    m.add_class::<flow::PyTradesPage>()?;
    m.add_class::<liq::PyLiqTotal>()?;
    m.add_class::<liq::PyLiqCluster>()?;
    m.add_function(wrap_pyfunction!(flow::py_parse_duration, m)?)?;
    m.add_class::<ws::PyWsReader>()?;
    m.add_function(wrap_pyfunction!(ws::encode_client_frame, m)?)?;
    Ok(())
}
