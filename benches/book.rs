//! Decode + apply of the recorded sessions' depth frames, after every book is synced.
//! Run: `cargo bench --bench book`.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tapeflow::book::Market;
use tapeflow::engine::{Engine, DEFAULT_BUFFER_LIMIT};

#[path = "../src/recordings.rs"]
mod recordings;

struct Session {
    name: String,
    market: Market,
    /// Frames and snapshots up to the last snapshot: `(symbol of a snapshot, body)`.
    prefix: Vec<(Option<String>, Vec<u8>)>,
    depth: Vec<Vec<u8>>,
    levels: u64,
}

fn load(path: &Path) -> Session {
    let records = recordings::records(path);
    let url = records[0]["url"].as_str().unwrap_or_default();
    let market = if url.contains("fstream") {
        Market::UsdM
    } else if url.contains("dstream") {
        Market::CoinM
    } else {
        Market::Spot
    };
    let snapshot_symbol = |r: &serde_json::Value| -> Option<String> {
        let url = r["url"].as_str()?;
        if r["kind"] != "http" || !url.contains("/depth") {
            return None;
        }
        url.split("symbol=")
            .nth(1)
            .map(|s| s.split('&').next().unwrap_or(s).to_uppercase())
    };
    let last = records
        .iter()
        .rposition(|r| snapshot_symbol(r).is_some())
        .expect("a snapshot");
    let raw = |r: &serde_json::Value| r["raw"].as_str().unwrap_or_default().as_bytes().to_vec();
    let prefix = records[..=last]
        .iter()
        .filter(|r| r["kind"] != "ws_open")
        .map(|r| (snapshot_symbol(r), raw(r)))
        .collect();
    let mut levels = 0;
    let depth: Vec<Vec<u8>> = records[last + 1..]
        .iter()
        .filter(|r| r["kind"] == "ws" && r["raw"].as_str().unwrap_or_default().contains("\"depthUpdate\""))
        .map(|r| {
            let data: serde_json::Value = serde_json::from_str(r["raw"].as_str().unwrap_or_default()).expect("frame");
            levels += (data["data"]["b"].as_array().map_or(0, Vec::len)
                + data["data"]["a"].as_array().map_or(0, Vec::len)) as u64;
            raw(r)
        })
        .collect();
    let name = recordings::name(path);
    Session {
        name,
        market,
        prefix,
        depth,
        levels,
    }
}

fn synced(s: &Session) -> Engine {
    let mut e = Engine::new(s.market, DEFAULT_BUFFER_LIMIT);
    let mut actions = Vec::new();
    for (symbol, body) in &s.prefix {
        match symbol {
            Some(symbol) => drop(e.apply_snapshot(symbol, body, &mut actions)),
            None => drop(e.apply_frame(body, 0, &mut actions)),
        }
    }
    e
}

fn bench(c: &mut Criterion) {
    for path in recordings::paths() {
        let s = load(&path);
        let mut group = c.benchmark_group("book/decode_apply");
        group.throughput(Throughput::Elements(s.depth.len() as u64));
        group.bench_with_input(BenchmarkId::new("frames", &s.name), &s, |b, s| {
            b.iter_batched(
                || synced(s),
                |mut e| black_box(e.apply_frames(s.depth.iter().map(Vec::as_slice), 0)),
                criterion::BatchSize::LargeInput,
            );
        });
        group.throughput(Throughput::Elements(s.levels));
        group.bench_with_input(BenchmarkId::new("levels", &s.name), &s, |b, s| {
            b.iter_batched(
                || synced(s),
                |mut e| black_box(e.apply_frames(s.depth.iter().map(Vec::as_slice), 0)),
                criterion::BatchSize::LargeInput,
            );
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
