//! Liquidation benchmarks: batch ingest of `forceOrder` frames through the engine, and a cluster query on a
//! symbol with 1,000 bins. Baselines in the same run: parsing the same frames into a `serde_json::Value` tree
//! (the least any JSON consumer does), and sorting the 1,000 bins' values (a floor for any per-query pass).
//!
//! Run: `cargo bench --bench liq`.

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use tapeflow::book::Market;
use tapeflow::engine::Engine;
use tapeflow::liq::LiqConfig;

const SYMBOLS: [&str; 8] = [
    "BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "BNBUSDT", "ADAUSDT", "LTCUSDT",
];

/// Realistic USD-M `forceOrder` frames (binance-api.md §3.8), one per symbol per second as Binance pushes them.
fn frames(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let s = SYMBOLS[i % SYMBOLS.len()];
            let t = 1_763_000_000_000 + (i / SYMBOLS.len()) as i64 * 1000;
            let side = if i % 3 == 0 { "BUY" } else { "SELL" };
            let price = 60_000.0 + (i % 977) as f64 * 1.37;
            let qty = 0.001 * ((i % 50) + 1) as f64;
            format!(
                r#"{{"e":"forceOrder","E":{e},"o":{{"s":"{s}","S":"{side}","o":"LIMIT","f":"IOC","q":"{qty:.3}","p":"{p:.2}","ap":"{price:.2}","X":"FILLED","l":"{qty:.3}","z":"{qty:.3}","T":{t}}}}}"#,
                e = t + 5,
                p = price * 0.995,
            )
            .into_bytes()
        })
        .collect()
}

fn ingest(c: &mut Criterion) {
    common::ingest(c, "liq/ingest", &frames(10_000));
}

fn clusters(c: &mut Criterion) {
    let mut eng = Engine::new(Market::UsdM, 1000);
    eng.liq
        .configure(LiqConfig {
            bin_pct: 0.1,
            min_events: 1,
            ..LiqConfig::default()
        })
        .unwrap();
    // 1,000 bins: prices 0.1 % apart, two events each.
    let mut batch = Vec::new();
    for k in 0..2000_i64 {
        let price = 100.0 * 1.001_f64.powf((k % 1000) as f64 + 0.5);
        let side = if k % 2 == 0 { "BUY" } else { "SELL" };
        batch.push(format!(
            r#"{{"e":"forceOrder","E":{t},"o":{{"s":"BTCUSDT","S":"{side}","o":"LIMIT","f":"IOC","q":"1","p":"{price:.4}","ap":"{price:.4}","X":"FILLED","l":"1","z":"1","T":{t}}}}}"#,
            t = 1_763_000_000_000 + k * 1000,
        ));
    }
    let report = eng.apply_frames(batch.iter().map(String::as_bytes), 0);
    assert!(report.errors.is_empty());
    assert_eq!(eng.liq.clusters("BTCUSDT", None).len(), 1000);
    let mut g = c.benchmark_group("liq/clusters");
    g.bench_function("clusters/1000", |b| {
        b.iter(|| black_box(eng.liq.clusters(black_box("BTCUSDT"), None)));
    });
    g.bench_function("best_cluster/1000", |b| {
        b.iter(|| black_box(eng.liq.best_cluster(black_box("BTCUSDT"), 0.0005, None, None)));
    });
    let values: Vec<f64> = eng
        .liq
        .clusters("BTCUSDT", None)
        .iter()
        .map(tapeflow::liq::Cluster::total_decayed)
        .collect();
    g.bench_function("baseline_sort_1000_f64", |b| {
        b.iter_batched(
            || values.clone(),
            |mut v| v.sort_by(f64::total_cmp),
            BatchSize::SmallInput,
        );
    });
    g.finish();
}

criterion_group!(benches, ingest, clusters);
criterion_main!(benches);
