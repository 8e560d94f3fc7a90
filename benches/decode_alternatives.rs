//! tapeflow's depth-frame decoder against the best typed JSON alternatives, on every depth frame of the recordings.
//! Run: `cargo bench --bench decode_alternatives`.
//!
//! Every contender does the same job as [`Decoder::decode`]: a combined frame `{"stream":..,"data":{..}}` to the
//! diff's head (symbol borrowed from the frame, times, update ids) and its levels as exact e8 integers in an inline
//! vector (`Levels`, as tapeflow's general decoder fills). The alternatives deserialize into borrowed structs with
//! serde and turn each decimal string into e8 units with `tapeflow::num::parse_e8`, the checked parser a user of
//! these libraries would call (parsing to `f64` would not be the same job). `simd-json` parses in place: each frame
//! is first copied into a reused buffer, as its API requires. Before timing, every contender's output is checked
//! against tapeflow's on every frame.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use tapeflow::decode::{Decoded, Decoder, Level, Levels};
use tapeflow::num::parse_e8;
use tapeflow::num::swar::quoted_e8;

#[path = "../src/recordings.rs"]
mod recordings;

/// A side's levels, converted to e8 units while they are read.
#[derive(Debug, Default, PartialEq)]
struct E8Levels(Levels);

impl<'de> Deserialize<'de> for E8Levels {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = E8Levels;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("[[price, qty], ...]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<E8Levels, A::Error> {
                let mut out = Levels::new();
                while let Some((p, q)) = seq.next_element::<(&'de str, &'de str)>()? {
                    let num = |s: &str| parse_e8(s.as_bytes()).map_err(serde::de::Error::custom);
                    out.push((num(p)?, num(q)?));
                }
                Ok(E8Levels(out))
            }
        }
        d.deserialize_seq(V)
    }
}

/// A diff as the alternatives read it, the strings borrowed from the frame.
#[allow(non_snake_case, dead_code)] // Binance's field names; `e`, `T` and `ps` are read and checked, not used
#[derive(Debug, Deserialize)]
struct Diff<'a> {
    e: &'a str,
    E: i64,
    T: Option<i64>,
    s: &'a str,
    ps: Option<&'a str>,
    U: u64,
    u: u64,
    pu: Option<u64>,
    b: E8Levels,
    a: E8Levels,
}

#[derive(Debug, Deserialize)]
struct Frame<'a> {
    #[serde(borrow)]
    #[allow(dead_code)]
    stream: &'a str,
    #[serde(borrow)]
    data: Diff<'a>,
}

/// What every contender yields for a frame: `(symbol, E, U, u, pu, levels)`; compared before timing.
type Out<'a> = (&'a [u8], i64, u64, u64, Option<u64>, Vec<Level>);

fn of_diff<'a>(d: &Diff<'a>) -> Out<'a> {
    let levels = d.b.0.iter().chain(&d.a.0).copied().collect();
    (d.s.as_bytes(), d.E, d.U, d.u, d.pu, levels)
}

fn depth_frames() -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    for path in recordings::paths() {
        for r in recordings::records(&path) {
            let raw = r["raw"].as_str().unwrap_or_default();
            if r["kind"] == "ws" && raw.contains("\"depthUpdate\"") {
                frames.push(raw.as_bytes().to_vec());
            }
        }
    }
    frames
}

fn check(frames: &[Vec<u8>]) {
    let mut decoder = Decoder::default();
    let mut buf = Vec::new();
    for f in frames {
        let Ok(Decoded::Diff { head, bids, asks }) = decoder.decode(f) else {
            panic!("not a diff")
        };
        let levels = bids.iter().chain(asks).copied().collect();
        let want = (
            head.symbol,
            head.event_time,
            head.first_id,
            head.final_id,
            head.prev_final_id,
            levels,
        );
        let serde: Frame = serde_json::from_slice(f).expect("serde_json");
        assert_eq!(of_diff(&serde.data), want, "serde_json");
        let sonic: Frame = sonic_rs::from_slice(f).expect("sonic-rs");
        assert_eq!(of_diff(&sonic.data), want, "sonic-rs");
        buf.clear();
        buf.extend_from_slice(f);
        let simd: Frame = simd_json::serde::from_slice(&mut buf).expect("simd-json");
        assert_eq!(of_diff(&simd.data), want, "simd-json");
    }
}

fn bench(c: &mut Criterion) {
    let frames = depth_frames();
    check(&frames);
    let mut group = c.benchmark_group("decode/depth_frames");
    group.throughput(Throughput::Elements(frames.len() as u64));
    group.bench_function("tapeflow", |b| {
        let mut decoder = Decoder::default();
        b.iter(|| {
            for f in &frames {
                if let Ok(Decoded::Diff { head, bids, asks }) = decoder.decode(black_box(f)) {
                    black_box((head, bids.len(), asks.len()));
                }
            }
        });
    });
    group.bench_function("serde_json", |b| {
        b.iter(|| {
            for f in &frames {
                let frame: Frame = serde_json::from_slice(black_box(f)).expect("serde_json");
                black_box(frame);
            }
        });
    });
    group.bench_function("sonic-rs", |b| {
        b.iter(|| {
            for f in &frames {
                let frame: Frame = sonic_rs::from_slice(black_box(f)).expect("sonic-rs");
                black_box(frame);
            }
        });
    });
    group.bench_function("simd-json", |b| {
        let mut buf = Vec::with_capacity(4096);
        b.iter(|| {
            for f in &frames {
                buf.clear();
                buf.extend_from_slice(black_box(f));
                let frame: Frame = simd_json::serde::from_slice(&mut buf).expect("simd-json");
                black_box(frame);
            }
        });
    });
    group.finish();
    numbers(c, &frames);
}

/// The number readers alone, on every price and quantity of the frames: tapeflow's eight-bytes-at-a-time reader
/// (`num::swar::quoted_e8`, given the text from the number to the end of the frame, as the decoder reads it) and the
/// checked byte loop `parse_e8` the alternatives above call (given the number's text).
fn numbers(c: &mut Criterion, frames: &[Vec<u8>]) {
    // `(frame, start, end)` of each number: after `"b":`, every string that starts with a digit.
    let mut spans: Vec<(&[u8], usize, usize)> = Vec::new();
    for f in frames {
        let from = f.windows(4).position(|w| w == b"\"b\":").expect("bids");
        let mut j = from;
        while j + 1 < f.len() {
            if f[j] == b'"' && f[j + 1].is_ascii_digit() {
                let end = j + 1 + f[j + 1..].iter().position(|&b| b == b'"').expect("closing quote");
                spans.push((f.as_slice(), j + 1, end));
                j = end;
            }
            j += 1;
        }
    }
    let want: Vec<i64> = spans
        .iter()
        .map(|&(f, s, e)| parse_e8(&f[s..e]).expect("a decimal"))
        .collect();
    let got: Vec<i64> = spans
        .iter()
        .map(|&(f, s, e)| {
            let (v, len) = quoted_e8(&f[s..]).expect("a decimal");
            assert_eq!(len, e - s);
            v
        })
        .collect();
    assert_eq!(got, want, "the readers agree");
    let mut group = c.benchmark_group("decode/numbers");
    group.throughput(Throughput::Elements(spans.len() as u64));
    group.bench_function("tapeflow_swar", |b| {
        b.iter(|| {
            spans
                .iter()
                .map(|&(f, s, _)| quoted_e8(black_box(&f[s..])).map_or(0, |(v, _)| v))
                .sum::<i64>()
        });
    });
    group.bench_function("parse_e8", |b| {
        b.iter(|| {
            spans
                .iter()
                .map(|&(f, s, e)| parse_e8(black_box(&f[s..e])).unwrap_or(0))
                .sum::<i64>()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
