//! Checkpoint cost of a full market: a USD-M engine with its default flow windows is fed `SYMBOLS` symbols that each
//! trade once a second for `SECONDS` seconds (as `benches/flow_memory.py` does), then checkpointed.
//!
//! `target/release/examples/checkpoint time [SYMBOLS] [SECONDS]` prints the fastest of 5 checkpoints and restores;
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect=checkpoint::hot target/profiling/examples/checkpoint
//! write 200` counts the instructions of one checkpoint draft (the part that holds the engine) (`restore`: of one restore, `--toggle-collect=checkpoint::cold`).
use std::time::{Duration, Instant};

use tapeflow::book::Market;
use tapeflow::engine::{Engine, DEFAULT_BUFFER_LIMIT};

const T0: i64 = 1_767_225_600_000;

fn fill(symbols: usize, seconds: i64) -> Engine {
    let mut engine = Engine::new(Market::UsdM, DEFAULT_BUFFER_LIMIT);
    let names: Vec<String> = (0..symbols).map(|i| format!("S{i:04}USDT")).collect();
    let mut frames: Vec<Vec<u8>> = Vec::with_capacity(symbols);
    for sec in 0..seconds {
        let t = T0 + sec * 1000 + 250;
        let id = sec + 1;
        frames.clear();
        frames.extend(names.iter().map(|s| {
            format!(
                r#"{{"e":"aggTrade","E":{},"a":{id},"s":"{s}","p":"70000.1","q":"0.012","f":{id},"l":{id},"T":{t},"m":{}}}"#,
                t + 1,
                sec % 2 == 1
            )
            .into_bytes()
        }));
        let report = engine.apply_frames(frames.iter().map(Vec::as_slice), 0);
        assert!(report.errors.is_empty());
    }
    engine
}

#[inline(never)]
fn hot(engine: &Engine) -> tapeflow::engine::Draft {
    engine.checkpoint_draft()
}

#[inline(never)]
fn cold(engine: &mut Engine, data: &[u8]) -> usize {
    engine.restore(data).unwrap().len()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let symbols: usize = args.next().map_or(2_000, |a| a.parse().unwrap());
    let seconds: i64 = args.next().map_or(4 * 3600 + 5 * 60, |a| a.parse().unwrap());
    let engine = fill(symbols, seconds);
    match mode.as_str() {
        "write" => eprintln!("{} bytes", hot(&engine).seal().len()),
        "loop" => {
            // Many drafts, for a sampling profiler (`perf record`).
            let n: usize = (0..200).map(|_| hot(&engine).len()).sum();
            eprintln!("{n} bytes drafted");
        }
        "sha" => {
            use sha2::Digest;
            let data = engine.checkpoint();
            let mut best = Duration::MAX;
            for _ in 0..5 {
                let t = Instant::now();
                std::hint::black_box(sha2::Sha256::digest(&data));
                best = best.min(t.elapsed());
            }
            eprintln!("sha256 of {} bytes: {best:?}", data.len());
        }
        "restore" => {
            let data = engine.checkpoint();
            let mut fresh = Engine::new(Market::UsdM, DEFAULT_BUFFER_LIMIT);
            eprintln!("{} symbols restored", cold(&mut fresh, &data));
        }
        _ => {
            let (mut draft, mut seal, mut restore) = (Duration::MAX, Duration::MAX, Duration::MAX);
            let mut size = 0;
            for _ in 0..5 {
                let t = Instant::now();
                let d = hot(&engine);
                draft = draft.min(t.elapsed());
                let t = Instant::now();
                let data = d.seal();
                seal = seal.min(t.elapsed());
                size = data.len();
                let mut fresh = Engine::new(Market::UsdM, DEFAULT_BUFFER_LIMIT);
                let t = Instant::now();
                assert_eq!(cold(&mut fresh, &data), symbols);
                restore = restore.min(t.elapsed());
            }
            eprintln!(
                "{symbols} symbols x {seconds} s: checkpoint {size} bytes, fastest of 5: draft (engine held) {draft:?}, \
                 seal {seal:?}, restore {restore:?}"
            );
        }
    }
}
