//! The flow part of a checkpoint: per symbol, the sliding windows' buckets, the aligned intervals with their
//! history and trade ids, the id ledger (spans, abandoned ranges), the coverage start and the contract size; and the
//! flow clock and the engine's heard-until clock. Pending checks are not written: they belong to the process that
//! began them; nor are the streams' clocks and which stream carries each symbol's trades (connections of that process):
//! a restored symbol's candles are proven by its trades until its next live trade names its stream.
//!
//! The running totals of the horizons are not written: they are rebuilt from the buckets, exactly. What is read is
//! checked (buckets in order within the longest horizon, intervals aligned, spans apart) before anything changes, so
//! a restored state keeps every invariant the windows rely on.

use super::aligned::{Aligned, Interval};
use super::sums::Sums;
use super::window::Bucket;
use super::{Flow, Ledger, Span, SymbolFlow, Windows};
use crate::codec::{put_i64, put_u64, put_u8, put_wide, Bytes, CodecError, Reader, Record, Writer};
use crate::decode::Symbol;

/// The flow state read from a checkpoint, checked and ready to be put in place.
#[derive(Debug)]
pub struct FlowRestore {
    symbols: Vec<(Symbol, SymbolFlow)>,
    clock: Option<i64>,
    heard: Option<i64>,
}

impl FlowRestore {
    pub fn symbols(&self) -> impl Iterator<Item = &Symbol> {
        self.symbols.iter().map(|(s, _)| s)
    }

    /// The engine's heard-until clock written with the checkpoint.
    pub fn heard(&self) -> Option<i64> {
        self.heard
    }
}

/// Sums, format 2: a byte saying which parts are not zero (bits 0–3: buy base, sell base, buy notional, sell
/// notional; 4–5: buy and sell count; 6: some big-trade counter), then those parts in that order: the four sums as
/// wide values, the counts as varints and, with bit 6, every big-trade counter pair as varints. Returns the end.
#[inline]
fn put_sums(b: &mut Bytes, mut at: usize, s: &Sums, big: usize) -> usize {
    let wides = [s.buy_base, s.sell_base, s.buy_notional, s.sell_notional];
    let counts = [s.buy_count, s.sell_count];
    let any_big = s.big[..big].iter().any(|b| b[0] != 0 || b[1] != 0);
    let mut mask = u8::from(any_big) << 6;
    for (bit, &v) in wides.iter().enumerate() {
        mask |= u8::from(v != 0) << bit;
    }
    for (bit, &c) in counts.iter().enumerate() {
        mask |= u8::from(c != 0) << (4 + bit);
    }
    at = put_u8(b, at, mask);
    for v in wides.into_iter().filter(|&v| v != 0) {
        at = put_wide(b, at, v);
    }
    for c in counts.into_iter().filter(|&c| c != 0) {
        at = put_u64(b, at, u64::from(c));
    }
    if any_big {
        for c in &s.big[..big] {
            at = put_u64(b, at, u64::from(c[0]));
            at = put_u64(b, at, u64::from(c[1]));
        }
    }
    at
}

/// Sums as [`put_sums`] wrote them (format 2), or as format 1 wrote them (every part a varint).
fn read_sums(r: &mut Reader<'_>, form: Form) -> Result<Sums, CodecError> {
    let mut s = Sums::default();
    if form.version == 1 {
        s.buy_base = r.i128()?;
        s.sell_base = r.i128()?;
        s.buy_notional = r.i128()?;
        s.sell_notional = r.i128()?;
        s.buy_count = r.u32()?;
        s.sell_count = r.u32()?;
        for b in &mut s.big[..form.big] {
            *b = [r.u32()?, r.u32()?];
        }
        return Ok(s);
    }
    let mask = r.u8()?;
    if mask & 0x80 != 0 {
        return Err(r.error(format!("bad sums flags {mask:#x}")));
    }
    for (bit, v) in [
        &mut s.buy_base,
        &mut s.sell_base,
        &mut s.buy_notional,
        &mut s.sell_notional,
    ]
    .into_iter()
    .enumerate()
    {
        if mask & (1 << bit) != 0 {
            *v = r.wide()?;
        }
    }
    if mask & 1 << 4 != 0 {
        s.buy_count = r.u32()?;
    }
    if mask & 1 << 5 != 0 {
        s.sell_count = r.u32()?;
    }
    if mask & 1 << 6 != 0 {
        for b in &mut s.big[..form.big] {
            *b = [r.u32()?, r.u32()?];
        }
    }
    Ok(s)
}

/// How the sums being read were written: the checkpoint's format version and the number of big-trade thresholds.
#[derive(Debug, Clone, Copy)]
pub struct Form {
    pub version: u16,
    pub big: usize,
}

fn write_interval(w: &mut Writer, rec: &mut Record, iv: &Interval, big: usize) {
    let at = rec.at();
    let mut at = put_sums(&mut rec.bytes, at, &iv.sums, big);
    if let Some((first, last)) = iv.ids() {
        at = put_u64(&mut rec.bytes, at, first);
        at = put_u64(&mut rec.bytes, at, last - first);
    }
    rec.end(at, w);
}

fn read_interval(r: &mut Reader<'_>, form: Form) -> Result<Interval, CodecError> {
    let sums = read_sums(r, form)?;
    let mut iv = Interval {
        sums,
        ..Interval::default()
    };
    if !sums.is_empty() {
        iv.first_id = r.u64()?;
        iv.last_id = iv
            .first_id
            .checked_add(r.u64()?)
            .ok_or_else(|| r.error("trade id out of range"))?;
    }
    Ok(iv)
}

fn write_aligned(w: &mut Writer, rec: &mut Record, a: &Aligned, big: usize) {
    rec.flush(w);
    w.opt_i64(a.start);
    if a.start.is_some() {
        write_interval(w, rec, &a.current, big);
        rec.flush(w);
        w.usize(a.history.len());
        for iv in &a.history {
            write_interval(w, rec, iv, big);
        }
    }
}

fn read_aligned(r: &mut Reader<'_>, form: Form, interval: i64, keep: usize) -> Result<Aligned, CodecError> {
    let mut a = Aligned {
        start: r.opt_i64()?,
        ..Aligned::default()
    };
    if let Some(start) = a.start {
        if start.rem_euclid(interval) != 0 {
            return Err(r.error(format!("interval start {start} is not aligned to {interval} ms")));
        }
        a.current = read_interval(r, form)?;
        let n = r.count(6)?;
        if n > keep {
            return Err(r.error(format!("{n} kept intervals, more than the history of {keep}")));
        }
        for _ in 0..n {
            a.history.push_back(read_interval(r, form)?);
        }
    }
    Ok(a)
}

fn write_windows(w: &mut Writer, rec: &mut Record, win: &Windows, big: usize) {
    w.opt_i64(win.clock_ms);
    for tier in &win.tiers {
        w.usize(tier.buckets.len());
        let mut prev = 0;
        for b in &tier.buckets {
            let at = rec.at();
            let at = put_i64(&mut rec.bytes, at, b.unit - prev);
            prev = b.unit;
            let at = put_sums(&mut rec.bytes, at, &b.sums, big);
            rec.end(at, w);
        }
        rec.flush(w);
    }
    for a in &win.aligned {
        write_aligned(w, rec, a, big);
    }
    rec.flush(w);
}

fn read_windows(r: &mut Reader<'_>, flow: &Flow, version: u16) -> Result<Windows, CodecError> {
    let form = Form {
        version,
        big: flow.config.big_e16.len(),
    };
    let clock_ms = r.opt_i64()?;
    let mut tiers = Vec::with_capacity(flow.shape.tier_step_ms.len());
    for _ in 0..flow.shape.tier_step_ms.len() {
        let n = r.count(7)?;
        let mut buckets = Vec::with_capacity(n);
        let mut unit = 0i64;
        for _ in 0..n {
            unit = unit
                .checked_add(r.i64()?)
                .ok_or_else(|| r.error("bucket step out of range"))?;
            buckets.push(Bucket {
                unit,
                sums: read_sums(r, form)?,
            });
        }
        tiers.push(buckets);
    }
    let mut aligned = Vec::with_capacity(flow.config.intervals_ms.len());
    for &interval in &flow.config.intervals_ms {
        aligned.push(read_aligned(r, form, interval, flow.config.history)?);
    }
    Windows::from_parts(clock_ms, tiers, aligned, &flow.shape).ok_or_else(|| r.error("buckets out of order"))
}

fn write_ledger(w: &mut Writer, l: &Ledger) {
    let spans = l.spans();
    let (abandoned, t_max) = l.parts();
    w.usize(spans.len());
    for s in spans {
        w.u64(s.first);
        w.u64(s.last - s.first);
        w.i64(s.t_first);
        w.i64(s.t_last - s.t_first);
    }
    w.usize(abandoned.len());
    for &(a, b) in abandoned {
        w.u64(a);
        w.u64(b - a);
    }
    w.opt_i64(t_max);
}

fn read_ledger(r: &mut Reader<'_>) -> Result<Ledger, CodecError> {
    let n = r.count(4)?;
    let mut spans = Vec::with_capacity(n);
    for _ in 0..n {
        let first = r.u64()?;
        let last = first.checked_add(r.u64()?);
        let t_first = r.i64()?;
        let t_last = t_first.checked_add(r.i64()?);
        let (Some(last), Some(t_last)) = (last, t_last) else {
            return Err(r.error("span out of range"));
        };
        spans.push(Span {
            first,
            last,
            t_first,
            t_last,
        });
    }
    let n = r.count(2)?;
    let mut abandoned = Vec::with_capacity(n);
    for _ in 0..n {
        let a = r.u64()?;
        let b = a
            .checked_add(r.u64()?)
            .ok_or_else(|| r.error("id range out of range"))?;
        abandoned.push((a, b));
    }
    let t_max = r.opt_i64()?;
    Ledger::from_parts(spans, abandoned, t_max).ok_or_else(|| r.error("id spans out of order"))
}

impl Flow {
    /// Buckets and intervals held: what the bulk of a checkpoint's flow part is made of.
    pub fn checkpoint_items(&self) -> usize {
        self.states
            .iter()
            .map(|s| {
                let w = &s.windows;
                w.tiers.iter().map(|t| t.buckets.len()).sum::<usize>()
                    + w.aligned.iter().map(|a| a.history.len() + 1).sum::<usize>()
            })
            .sum()
    }

    /// Writes the flow part of a checkpoint in one go (engines write it in steps: `engine/checkpoint.rs`).
    #[cfg(test)]
    pub fn write_checkpoint(&self, w: &mut Writer) {
        let symbols = self.write_checkpoint_head(w);
        self.write_checkpoint_symbols(w, 0..symbols);
    }

    /// Writes the head of the flow part (the clocks and the number of symbols) and returns that number: the part
    /// is complete once [`Flow::write_checkpoint_symbols`] has written every symbol in order, the flow unchanged.
    pub fn write_checkpoint_head(&self, w: &mut Writer) -> usize {
        w.opt_i64(self.clock);
        w.opt_i64(self.heard);
        w.usize(self.states.len());
        self.states.len()
    }

    /// Writes the state of the symbols numbered `range` (in order of first appearance).
    pub fn write_checkpoint_symbols(&self, w: &mut Writer, range: std::ops::Range<usize>) {
        let big = self.config.big_e16.len();
        let mut rec = Record::default();
        for i in range {
            let s = &self.states[i];
            w.str(&self.symbols[i]);
            write_windows(w, &mut rec, &s.windows, big);
            write_ledger(w, &s.ledger);
            w.opt_i64(s.coverage);
            w.i64(s.contract_size);
        }
    }

    /// Reads the flow part of a checkpoint of format `version` written with this engine's flow settings, without
    /// changing the engine.
    pub fn read_checkpoint(&self, r: &mut Reader<'_>, version: u16) -> Result<FlowRestore, CodecError> {
        let clock = r.opt_i64()?;
        let heard = r.opt_i64()?;
        let n = r.count(8)?;
        let mut symbols = Vec::with_capacity(n);
        for _ in 0..n {
            let symbol = Symbol::new(r.str()?);
            let windows = read_windows(r, self, version)?;
            let ledger = read_ledger(r)?;
            let coverage = r.opt_i64()?;
            let contract_size = r.i64()?;
            if contract_size <= 0 {
                return Err(r.error(format!("contract size {contract_size} of {symbol}")));
            }
            symbols.push((
                symbol,
                SymbolFlow {
                    windows,
                    ledger,
                    coverage,
                    contract_size,
                    checks: 0,
                    stream: None,
                },
            ));
        }
        Ok(FlowRestore { symbols, clock, heard })
    }

    /// Puts the state read by [`Flow::read_checkpoint`] in place of the symbols it holds (other symbols are kept;
    /// checks pending on a replaced symbol stay pending). Returns the symbols restored.
    pub fn restore(&mut self, parts: FlowRestore) -> Vec<Symbol> {
        let mut restored = Vec::with_capacity(parts.symbols.len());
        for (symbol, mut state) in parts.symbols {
            let i = self.slot(&symbol);
            state.checks = self.states[i].checks;
            self.states[i] = state;
            restored.push(symbol);
        }
        // The restored times were heard by another process: they move no stream's clock.
        let stream = self.streams.pause();
        for t in [parts.clock, parts.heard].into_iter().flatten() {
            self.hear(t);
        }
        self.streams.resume(stream);
        if let Some(c) = parts.clock {
            self.clock = Some(self.clock.map_or(c, |own| own.max(c)));
        }
        restored
    }
}
