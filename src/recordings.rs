//! The recorded Binance sessions shipped with the Python package (`python/tapeflow/data/recordings/*.jsonl.gz`, one
//! JSON record a line: `kind`, `url`, `raw`, `t`), for unit tests, benchmarks and the profiling example.
//!
//! Not part of the engine (which reads no files): compiled into the library's tests only, and included by path from
//! `benches/` and `examples/`.
#![allow(dead_code)] // each includer uses part of it

use std::io::Read;
use std::path::{Path, PathBuf};

/// The folder of the recordings.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python/tapeflow/data/recordings")
}

/// Every recording, by file name.
pub fn paths() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("python/tapeflow/data/recordings")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".jsonl.gz"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no recordings in {}", dir().display());
    paths
}

/// The recording's name: its file name without `.jsonl.gz`.
pub fn name(path: &Path) -> String {
    let file = path.file_name().unwrap_or_default().to_string_lossy();
    file.trim_end_matches(".gz").trim_end_matches(".jsonl").to_owned()
}

/// The text of a recording (gunzipped when the name ends in `.gz`).
pub fn text(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if !path.to_string_lossy().ends_with(".gz") {
        return String::from_utf8(bytes).expect("UTF-8 recording");
    }
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text
}

/// The records of a recording, in order.
pub fn records(path: &Path) -> Vec<serde_json::Value> {
    text(path)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON record a line"))
        .collect()
}

/// `(name, records)` of every recording.
pub fn all() -> Vec<(String, Vec<serde_json::Value>)> {
    paths().iter().map(|p| (name(p), records(p))).collect()
}
