//! Raising the exceptions of `tapeflow.errors` (written once, in Python) with structured fields.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use crate::decode::DecodeError;

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    let module = ERRORS.get_or_try_init(py, || py.import("tapeflow.errors").map(Bound::unbind))?;
    module.bind(py).getattr(name)
}

/// Builds an instance of `tapeflow.errors.<name>(message, **fields)`.
pub fn error_value<'py>(
    py: Python<'py>,
    name: &str,
    message: String,
    fields: &[(&str, Bound<'py, PyAny>)],
) -> PyResult<Bound<'py, PyAny>> {
    let kwargs = PyDict::new(py);
    for (k, v) in fields {
        kwargs.set_item(k, v)?;
    }
    class(py, name)?.call((message,), Some(&kwargs))
}

/// `tapeflow.errors.<name>(message, **fields)` as a `PyErr` (falls back to the import error if that fails).
pub fn error<'py>(py: Python<'py>, name: &str, message: String, fields: &[(&str, Bound<'py, PyAny>)]) -> PyErr {
    match error_value(py, name, message, fields) {
        Ok(value) => PyErr::from_value(value),
        Err(e) => e,
    }
}

fn decode_kind(e: &DecodeError) -> &'static str {
    match e {
        DecodeError::InvalidJson { .. } => "invalid_json",
        DecodeError::NotAnObject { .. } => "not_an_object",
        DecodeError::MissingField { .. } => "missing_field",
        DecodeError::WrongType { .. } => "wrong_type",
        DecodeError::BadNumber { .. } => "bad_number",
    }
}

/// A `tapeflow.errors.DecodeError` instance for `e`, with `kind`, `field` and the batch `index`.
pub fn decode_error_value<'py>(py: Python<'py>, e: &DecodeError, index: Option<usize>) -> PyResult<Bound<'py, PyAny>> {
    let fields = [
        ("kind", decode_kind(e).into_pyobject(py)?.into_any()),
        ("field", e.field().into_pyobject(py)?.into_any()),
        ("index", index.into_pyobject(py)?.into_any()),
    ];
    error_value(py, "DecodeError", e.to_string(), &fields)
}

pub fn decode_error(py: Python<'_>, e: &DecodeError) -> PyErr {
    match decode_error_value(py, e, None) {
        Ok(value) => PyErr::from_value(value),
        Err(err) => err,
    }
}

pub fn unknown_symbol(py: Python<'_>, symbol: &str) -> PyErr {
    let value = pyo3::types::PyString::new(py, symbol).into_any();
    error(py, "UnknownSymbolError", format!("unknown symbol {symbol:?}"), &[("symbol", value)])
}
