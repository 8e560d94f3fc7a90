//! What the criterion benches of the engine share: one group that applies a batch of frames with a fresh engine,
//! decodes it alone, and parses it into `serde_json::Value` (the baseline).

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput};
use tapeflow::book::Market;
use tapeflow::decode::Decoder;
use tapeflow::engine::Engine;

/// The group `name` over `batch` (USD-M frames), its benchmarks named with the batch's size.
pub fn ingest(c: &mut Criterion, name: &str, batch: &[Vec<u8>]) {
    let n = batch.len();
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("engine_apply_frames/{n}"), |b| {
        b.iter_batched(
            || Engine::new(Market::UsdM, 1000),
            |mut eng| {
                let report = eng.apply_frames(batch.iter().map(Vec::as_slice), 0);
                assert!(report.errors.is_empty());
                eng
            },
            BatchSize::LargeInput,
        );
    });
    g.bench_function(format!("decode_only/{n}"), |b| {
        let mut decoder = Decoder::default();
        b.iter(|| {
            for f in batch {
                black_box(decoder.decode(black_box(f)).unwrap());
            }
        });
    });
    g.bench_function(format!("baseline_serde_json_value/{n}"), |b| {
        b.iter(|| {
            for f in batch {
                black_box(serde_json::from_slice::<serde_json::Value>(f).unwrap());
            }
        });
    });
    g.finish();
}
