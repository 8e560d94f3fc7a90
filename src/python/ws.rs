//! `tapeflow._core.WsReader` and `encode_client_frame`: the native transport's WebSocket framing.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use super::errors;
use crate::ws::{self, Frame, WsDecoder, WsError};

/// The `tapeflow.errors.WebSocketProtocolError` for `e`, carrying the messages decoded before it.
fn protocol_error(py: Python<'_>, e: &WsError, messages: Bound<'_, PyList>) -> PyErr {
    let fields = || -> PyResult<[(&str, Bound<'_, PyAny>); 3]> {
        Ok([
            ("kind", e.kind().into_pyobject(py)?.into_any()),
            ("close_code", e.close_code().into_pyobject(py)?.into_any()),
            ("messages", messages.into_any()),
        ])
    };
    match fields() {
        Ok(fields) => errors::error(py, "WebSocketProtocolError", e.to_string(), &fields),
        Err(err) => err,
    }
}

/// A client-side WebSocket frame decoder (see `crate::ws`).
#[pyclass(name = "WsReader", module = "tapeflow._core")]
pub struct PyWsReader {
    inner: WsDecoder,
}

#[pymethods]
impl PyWsReader {
    #[new]
    // ws::DEFAULT_MAX_MESSAGE_SIZE, spelled out so that Python's signature shows it (and stubtest can check it).
    #[pyo3(signature = (max_message_size = 67_108_864))]
    fn new(max_message_size: usize) -> Self {
        Self {
            inner: WsDecoder::new(max_message_size),
        }
    }

    #[getter]
    fn max_message_size(&self) -> usize {
        self.inner.max_message_size()
    }

    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    #[getter]
    fn buffered(&self) -> usize {
        self.inner.buffered()
    }

    /// Returns `(messages, controls)`: the complete data messages as a list of bytes, and the control frames as a
    /// list of `(opcode, payload)` or `None` when there were none (the common case costs no second list).
    fn feed<'py>(&mut self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyTuple>> {
        let messages = PyList::empty(py);
        let mut controls: Option<Bound<'py, PyList>> = None;
        let mut failure: Option<PyErr> = None;
        let result = self.inner.feed_with(data, |frame| {
            if failure.is_some() {
                return;
            }
            let r = match frame {
                Frame::Message { payload, .. } => messages.append(PyBytes::new(py, payload)),
                Frame::Ping(p) => push_control(py, &mut controls, ws::OP_PING, p),
                Frame::Pong(p) => push_control(py, &mut controls, ws::OP_PONG, p),
                Frame::Close { code, reason } => {
                    let mut payload = Vec::with_capacity(2 + reason.len());
                    if let Some(c) = code {
                        payload.extend_from_slice(&c.to_be_bytes());
                    }
                    payload.extend_from_slice(reason);
                    push_control(py, &mut controls, ws::OP_CLOSE, &payload)
                }
            };
            if let Err(e) = r {
                failure = Some(e);
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        match result {
            Ok(()) => {
                let controls = match controls {
                    Some(c) => c.into_any(),
                    None => py.None().into_bound(py),
                };
                PyTuple::new(py, [messages.into_any(), controls])
            }
            Err(e) => Err(protocol_error(py, &e, messages)),
        }
    }
}

fn push_control<'py>(
    py: Python<'py>,
    controls: &mut Option<Bound<'py, PyList>>,
    opcode: u8,
    payload: &[u8],
) -> PyResult<()> {
    let item = (opcode, PyBytes::new(py, payload));
    controls.get_or_insert_with(|| PyList::empty(py)).append(item)
}

/// One masked, unfragmented client frame. Raises `ValueError` for an unknown opcode or a control payload over 125
/// bytes.
#[pyfunction]
pub fn encode_client_frame<'py>(
    py: Python<'py>,
    opcode: u8,
    payload: &[u8],
    mask: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let mask: [u8; 4] = mask
        .try_into()
        .map_err(|_| PyValueError::new_err(format!("mask must be 4 bytes, not {}", mask.len())))?;
    ws::check_client_frame(opcode, payload.len()).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(PyBytes::new(py, &ws::encode_client_frame(opcode, payload, mask)))
}
