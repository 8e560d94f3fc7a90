//! Instruction-count profile: `valgrind --tool=callgrind target/release/examples/prof [decode|engine] [FILE]` (FILE:
//! a recording, `.jsonl` or `.jsonl.gz`; by default the COIN-M one of `python/tapeflow/data/recordings`);
//! `kind=TEXT` applies the frames containing TEXT (repeated to 20,000) in `hot`. `time` prints the fastest of 200 passes of the `depth` mode per diff (a quick A/B on a shared machine).
//! `decode` decodes every depth frame; `engine` replays the whole recording (snapshots included) through an
//! engine; with no mode only the input is loaded (subtract it). `depth` syncs an engine on the recording up to its
//! last snapshot and then applies the remaining diffs in `hot`: profile it with `--toggle-collect=prof::hot`.
use tapeflow::book::Market;
use tapeflow::decode::Decoder;
use tapeflow::engine::{Engine, DEFAULT_BUFFER_LIMIT};

#[path = "../src/recordings.rs"]
mod recordings;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let file = std::env::args().nth(2).unwrap_or_else(|| {
        let path = recordings::dir().join("coinm_perp_2021-07-21.jsonl.gz");
        path.to_string_lossy().into_owned()
    });
    let text = recordings::text(std::path::Path::new(&file));
    let market = if file.contains("coinm") {
        Market::CoinM
    } else if file.contains("usdm") {
        Market::UsdM
    } else {
        Market::Spot
    };
    let records: Vec<(Option<String>, Vec<u8>)> = text
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let raw = v["raw"].as_str()?.as_bytes().to_vec();
            let url = v["url"].as_str().unwrap_or_default();
            let symbol = (v["kind"] == "http").then(|| {
                url.split("symbol=")
                    .nth(1)
                    .unwrap()
                    .split('&')
                    .next()
                    .unwrap()
                    .to_uppercase()
            });
            Some((symbol, raw))
        })
        .collect();
    let depth = records
        .iter()
        .filter(|(s, r)| s.is_none() && r.windows(13).any(|w| w == b"\"depthUpdate\""))
        .count();
    if mode == "depth" || mode == "time" {
        let last_snapshot = records.iter().rposition(|(s, _)| s.is_some()).unwrap_or(0);
        let rest: Vec<&[u8]> = records[last_snapshot + 1..]
            .iter()
            .filter(|(_, r)| r.windows(13).any(|w| w == b"\"depthUpdate\""))
            .map(|(_, r)| r.as_slice())
            .collect();
        let passes = if mode == "time" { 200 } else { 10 };
        let mut best = std::time::Duration::MAX;
        for _ in 0..passes {
            let mut engine = Engine::new(market, DEFAULT_BUFFER_LIMIT);
            let mut actions = Vec::new();
            for (symbol, raw) in &records[..=last_snapshot] {
                match symbol {
                    Some(symbol) => drop(engine.apply_snapshot(symbol, raw, &mut actions)),
                    None => drop(engine.apply_frame(raw, 0, &mut actions)),
                }
            }
            let t = std::time::Instant::now();
            hot(&mut engine, &rest);
            best = best.min(t.elapsed());
        }
        if mode == "time" {
            let per = best.as_nanos() as f64 / rest.len() as f64;
            eprintln!(
                "{} diffs: fastest of {passes} passes {per:.0} ns/diff ({:.2}M/s)",
                rest.len(),
                1e3 / per
            );
        } else {
            eprintln!("{} diffs after the last snapshot, {passes} passes", rest.len());
        }
        return;
    }
    if let Some(kind) = mode.strip_prefix("kind=") {
        // Frames whose text contains `kind` (e.g. `@bookTicker`), repeated to 20,000, through a fresh engine.
        let frames: Vec<&[u8]> = records
            .iter()
            .filter(|(s, r)| s.is_none() && r.windows(kind.len()).any(|w| w == kind.as_bytes()))
            .map(|(_, r)| r.as_slice())
            .cycle()
            .take(20_000)
            .collect();
        let mut engine = Engine::new(market, DEFAULT_BUFFER_LIMIT);
        hot(&mut engine, &frames);
        eprintln!("{} frames with {kind}", frames.len());
        return;
    }
    let mut decoder = Decoder::default();
    let mut actions = Vec::new();
    for _ in 0..10 {
        let mut engine = Engine::new(market, DEFAULT_BUFFER_LIMIT);
        for (symbol, raw) in &records {
            match (mode.as_str(), symbol) {
                ("decode", None) => drop(decoder.decode(raw)),
                ("engine", None) => drop(engine.apply_frame(raw, 0, &mut actions)),
                ("engine", Some(symbol)) => drop(engine.apply_snapshot(symbol, raw, &mut actions)),
                _ => {}
            }
        }
    }
    eprintln!("{depth} depth frames per pass, 10 passes");
}

#[inline(never)]
fn hot(engine: &mut Engine, frames: &[&[u8]]) {
    let report = engine.apply_frames(frames.iter().copied(), 0);
    assert!(report.errors.is_empty());
}
