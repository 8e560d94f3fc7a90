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
use super::sums::{Sums, MAX_BIG};
use super::window::Bucket;
use super::{Flow, Ledger, Span, SymbolFlow, Windows};
use crate::codec::{CodecError, Reader, Writer};
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

fn write_sums(w: &mut Writer, s: &Sums, big: usize) {
    w.i128(s.buy_base);
    w.i128(s.sell_base);
    w.i128(s.buy_notional);
    w.i128(s.sell_notional);
    w.u64(u64::from(s.buy_count));
    w.u64(u64::from(s.sell_count));
    for b in &s.big[..big] {
        w.u64(u64::from(b[0]));
        w.u64(u64::from(b[1]));
    }
}

fn read_sums(r: &mut Reader<'_>, big: usize) -> Result<Sums, CodecError> {
    let mut s = Sums {
        buy_base: r.i128()?,
        sell_base: r.i128()?,
        buy_notional: r.i128()?,
        sell_notional: r.i128()?,
        buy_count: r.u32()?,
        sell_count: r.u32()?,
        big: [[0; 2]; MAX_BIG],
    };
    for b in &mut s.big[..big] {
        *b = [r.u32()?, r.u32()?];
    }
    Ok(s)
}

fn write_interval(w: &mut Writer, iv: &Interval, big: usize) {
    write_sums(w, &iv.sums, big);
    if let Some((first, last)) = iv.ids() {
        w.u64(first);
        w.u64(last - first);
    }
}

fn read_interval(r: &mut Reader<'_>, big: usize) -> Result<Interval, CodecError> {
    let sums = read_sums(r, big)?;
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

fn write_aligned(w: &mut Writer, a: &Aligned, big: usize) {
    w.opt_i64(a.start);
    if a.start.is_some() {
        write_interval(w, &a.current, big);
        w.usize(a.history.len());
        for iv in &a.history {
            write_interval(w, iv, big);
        }
    }
}

fn read_aligned(r: &mut Reader<'_>, big: usize, interval: i64, keep: usize) -> Result<Aligned, CodecError> {
    let mut a = Aligned {
        start: r.opt_i64()?,
        ..Aligned::default()
    };
    if let Some(start) = a.start {
        if start.rem_euclid(interval) != 0 {
            return Err(r.error(format!("interval start {start} is not aligned to {interval} ms")));
        }
        a.current = read_interval(r, big)?;
        let n = r.count(6)?;
        if n > keep {
            return Err(r.error(format!("{n} kept intervals, more than the history of {keep}")));
        }
        for _ in 0..n {
            a.history.push_back(read_interval(r, big)?);
        }
    }
    Ok(a)
}

fn write_windows(w: &mut Writer, win: &Windows, big: usize) {
    w.opt_i64(win.clock_ms);
    for tier in &win.tiers {
        w.usize(tier.buckets.len());
        let mut prev = 0;
        for b in &tier.buckets {
            w.i64(b.unit - prev);
            prev = b.unit;
            write_sums(w, &b.sums, big);
        }
    }
    for a in &win.aligned {
        write_aligned(w, a, big);
    }
}

fn read_windows(r: &mut Reader<'_>, flow: &Flow) -> Result<Windows, CodecError> {
    let big = flow.config.big_e16.len();
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
                sums: read_sums(r, big)?,
            });
        }
        tiers.push(buckets);
    }
    let mut aligned = Vec::with_capacity(flow.config.intervals_ms.len());
    for &interval in &flow.config.intervals_ms {
        aligned.push(read_aligned(r, big, interval, flow.config.history)?);
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
    /// Writes the flow part of a checkpoint.
    pub fn write_checkpoint(&self, w: &mut Writer) {
        let big = self.config.big_e16.len();
        w.opt_i64(self.clock);
        w.opt_i64(self.heard);
        w.usize(self.states.len());
        for (i, s) in self.states.iter().enumerate() {
            w.str(&self.symbols[i]);
            write_windows(w, &s.windows, big);
            write_ledger(w, &s.ledger);
            w.opt_i64(s.coverage);
            w.i64(s.contract_size);
        }
    }

    /// Reads the flow part of a checkpoint written with this engine's flow settings, without changing the engine.
    pub fn read_checkpoint(&self, r: &mut Reader<'_>) -> Result<FlowRestore, CodecError> {
        let clock = r.opt_i64()?;
        let heard = r.opt_i64()?;
        let n = r.count(8)?;
        let mut symbols = Vec::with_capacity(n);
        for _ in 0..n {
            let symbol = Symbol::new(r.str()?);
            let windows = read_windows(r, self)?;
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
