//! Trade-flow benchmarks: batch ingest of combined-stream `aggTrade` frames through the engine (decode, dedupe,
//! five sliding horizons, four aligned intervals), the decode alone, and the all-symbols query of 2,000 symbols ×
//! 4 horizons. Baseline in the same run: parsing the same frames into a `serde_json::Value` tree (the least any
//! JSON consumer does).
//!
//! Run: `cargo bench --bench flow`.

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tapeflow::book::Market;
use tapeflow::engine::Engine;

/// Combined-stream USD-M `aggTrade` frames in Binance's key order over `symbols` symbols, five trades per
/// symbol-second.
fn frames(n: usize, symbols: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let s = format!("SYM{}USDT", i % symbols);
            let id = i / symbols;
            let t = 1_763_000_000_000 + (id as i64) * 200;
            let price = 60_000.0 + (i % 977) as f64 * 0.1;
            let qty = 0.001 * ((i % 50) + 1) as f64;
            format!(
                r#"{{"stream":"{}@aggTrade","data":{{"e":"aggTrade","E":{e},"s":"{s}","a":{id},"p":"{price:.1}","q":"{qty:.3}","nq":"{qty:.3}","f":{f},"l":{f},"T":{t},"m":{m}}}}}"#,
                s.to_lowercase(),
                e = t + 3,
                f = id * 2,
                m = i % 3 == 0,
            )
            .into_bytes()
        })
        .collect()
}

fn ingest(c: &mut Criterion) {
    common::ingest(c, "flow/ingest", &frames(100_000, 50));
}

fn query(c: &mut Criterion) {
    let mut eng = Engine::new(Market::UsdM, 1000);
    // 2,000 symbols, 50 trades each.
    let report = eng.apply_frames(frames(100_000, 2_000).iter().map(Vec::as_slice), 0);
    assert!(report.errors.is_empty());
    let windows: Vec<_> = ["1m", "5m", "15m", "1h"]
        .iter()
        .map(|w| eng.flow.parse_window(w).unwrap())
        .collect();
    let mut g = c.benchmark_group("flow/volumes");
    g.throughput(Throughput::Elements(2_000 * windows.len() as u64));
    g.bench_function("all_symbols/2000x4", |b| {
        b.iter(|| {
            for &w in &windows {
                black_box(eng.flow.volumes(w, None).unwrap());
            }
        });
    });
    g.finish();
}

criterion_group!(benches, ingest, query);
criterion_main!(benches);
