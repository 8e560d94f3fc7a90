//! tapeflow's ladder against `std::collections::BTreeMap<i64, i64>` on the recordings' diffs.
//! Run: `cargo bench --bench ladder_alternatives`.
//!
//! Each recording is synced up to its last snapshot through an engine; each symbol's book then starts both
//! contenders, and every later diff's levels (decoded beforehand, so that only the book is timed) are set one by one
//! (`0` removes), with the best bid and ask read after every diff, as the engine reads them for its crossed-book
//! check. Before timing, the final books of both contenders are compared level by level.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use tapeflow::book::Market;
use tapeflow::decode::{Decoded, Decoder, Level};
use tapeflow::engine::{Engine, DEFAULT_BUFFER_LIMIT};
use tapeflow::OrderBook;

#[path = "../src/recordings.rs"]
mod recordings;

/// One recording: each symbol's book at its last snapshot and the diffs after it, by symbol slot.
struct Session {
    name: String,
    books: Vec<OrderBook>,
    diffs: Vec<(usize, Vec<Level>, Vec<Level>)>,
    levels: u64,
}

fn load(path: &std::path::Path) -> Session {
    let records = recordings::records(path);
    let url = records[0]["url"].as_str().unwrap_or_default();
    let market = match () {
        () if url.contains("fstream") => Market::UsdM,
        () if url.contains("dstream") => Market::CoinM,
        () => Market::Spot,
    };
    let snapshot = |r: &serde_json::Value| -> Option<String> {
        let url = r["url"].as_str()?;
        (r["kind"] == "http" && url.contains("/depth")).then(|| {
            url.split("symbol=")
                .nth(1)
                .map(|s| s.split('&').next().unwrap_or(s).to_uppercase())
        })?
    };
    let last = records.iter().rposition(|r| snapshot(r).is_some()).expect("a snapshot");
    let raw = |r: &serde_json::Value| r["raw"].as_str().unwrap_or_default().as_bytes().to_vec();
    let mut engine = Engine::new(market, DEFAULT_BUFFER_LIMIT);
    let mut actions = Vec::new();
    for r in records[..=last].iter().filter(|r| r["kind"] != "ws_open") {
        match snapshot(r) {
            Some(symbol) => drop(engine.apply_snapshot(&symbol, &raw(r), &mut actions)),
            None => drop(engine.apply_frame(&raw(r), 0, &mut actions)),
        }
    }
    let symbols: Vec<String> = engine.symbols().iter().map(ToString::to_string).collect();
    let books = symbols
        .iter()
        .map(|s| engine.state(s).expect("seen").book.book().clone())
        .collect();
    let mut decoder = Decoder::default();
    let mut diffs = Vec::new();
    let mut levels = 0;
    for r in &records[last + 1..] {
        let frame = raw(r);
        if r["kind"] != "ws" {
            continue;
        }
        if let Ok(Decoded::Diff { head, bids, asks }) = decoder.decode(&frame) {
            let symbol = std::str::from_utf8(head.symbol).expect("ASCII");
            let slot = symbols.iter().position(|s| s == symbol).expect("a known symbol");
            levels += (bids.len() + asks.len()) as u64;
            diffs.push((slot, bids.to_vec(), asks.to_vec()));
        };
    }
    Session {
        name: recordings::name(path),
        books,
        diffs,
        levels,
    }
}

/// A book side by side in two `BTreeMap`s.
#[derive(Clone, Default)]
struct MapBook {
    bids: BTreeMap<i64, i64>,
    asks: BTreeMap<i64, i64>,
}

impl MapBook {
    fn of(book: &OrderBook) -> Self {
        Self {
            bids: book.bids.levels().collect(),
            asks: book.asks.levels().collect(),
        }
    }

    fn set(side: &mut BTreeMap<i64, i64>, (p, q): Level) {
        if q == 0 {
            side.remove(&p);
        } else {
            side.insert(p, q);
        }
    }

    fn is_crossed(&self) -> bool {
        matches!((self.bids.last_key_value(), self.asks.first_key_value()), (Some((b, _)), Some((a, _))) if b >= a)
    }
}

fn run_ladder(books: &mut [OrderBook], diffs: &[(usize, Vec<Level>, Vec<Level>)]) -> usize {
    let mut crossed = 0;
    for (i, bids, asks) in diffs {
        let book = &mut books[*i];
        book.apply_levels(bids, asks);
        crossed += usize::from(book.is_crossed());
    }
    crossed
}

fn run_map(books: &mut [MapBook], diffs: &[(usize, Vec<Level>, Vec<Level>)]) -> usize {
    let mut crossed = 0;
    for (i, bids, asks) in diffs {
        let book = &mut books[*i];
        for &l in bids {
            MapBook::set(&mut book.bids, l);
        }
        for &l in asks {
            MapBook::set(&mut book.asks, l);
        }
        crossed += usize::from(book.is_crossed());
    }
    crossed
}

fn check(s: &Session) {
    let mut ladders = s.books.clone();
    let mut maps: Vec<MapBook> = s.books.iter().map(MapBook::of).collect();
    assert_eq!(run_ladder(&mut ladders, &s.diffs), run_map(&mut maps, &s.diffs));
    for (l, m) in ladders.iter().zip(&maps) {
        assert!(
            l.bids.levels().eq(m.bids.iter().rev().map(|(&p, &q)| (p, q))),
            "{}: bids",
            s.name
        );
        assert!(
            l.asks.levels().eq(m.asks.iter().map(|(&p, &q)| (p, q))),
            "{}: asks",
            s.name
        );
    }
}

fn bench(c: &mut Criterion) {
    for path in recordings::paths() {
        let s = load(&path);
        check(&s);
        let maps: Vec<MapBook> = s.books.iter().map(MapBook::of).collect();
        let mut group = c.benchmark_group("ladder/apply_levels");
        group.throughput(Throughput::Elements(s.levels));
        group.bench_with_input(BenchmarkId::new("tapeflow", &s.name), &s, |b, s| {
            b.iter_batched(
                || s.books.clone(),
                |mut books| black_box(run_ladder(&mut books, &s.diffs)),
                BatchSize::LargeInput,
            );
        });
        group.bench_with_input(BenchmarkId::new("btreemap", &s.name), &s, |b, s| {
            b.iter_batched(
                || maps.clone(),
                |mut books| black_box(run_map(&mut books, &s.diffs)),
                BatchSize::LargeInput,
            );
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
