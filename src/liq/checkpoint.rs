//! The liquidation part of a checkpoint: per symbol, the kept events (with the content that identifies them), the
//! cluster bins exactly as they are (floats by their bits, with the bin width and time constant they were built
//! with), the mark price and the contract size; and the store's clock.
//!
//! Running sums are not written: they are rebuilt from the events, exactly. Bins are taken as written when the
//! restoring store has the same bin width and time constant (so clusters answer bit for bit the same), and rebuilt
//! from the events otherwise. The restoring store's retention then applies.

use std::collections::{BTreeMap, VecDeque};

use super::cluster::{Bin, Bins};
use super::log::TotalsLog;
use super::{Liquidation, Liquidations, OrderKey, Side, SymbolLiq};
use crate::codec::{CodecError, Reader, Writer};
use crate::decode::Symbol;

/// One symbol's liquidation state read from a checkpoint.
#[derive(Debug)]
struct SymbolPart {
    symbol: Symbol,
    events: Vec<Liquidation>,
    bins: Bins,
    mark: Option<(i64, i64)>,
    contract_size: Option<i64>,
}

/// The liquidation state read from a checkpoint, checked and ready to be put in place.
#[derive(Debug)]
pub struct LiqRestore {
    symbols: Vec<SymbolPart>,
    clock: Option<i64>,
    /// Bin width (percent) and time constant (ms) the bins were built with, by their bits.
    bin_pct: u64,
    tau_ms: u64,
}

impl LiqRestore {
    pub fn symbols(&self) -> impl Iterator<Item = &Symbol> {
        self.symbols.iter().map(|s| &s.symbol)
    }
}

fn write_event(w: &mut Writer, e: &Liquidation, prev_time: i64) {
    w.i64(e.time - prev_time);
    w.i64(e.event_time - e.time);
    w.u8(e.side as u8);
    w.i64(e.price);
    w.i64(e.qty);
    w.i128(e.notional);
    let k = &e.key;
    w.u8(k.status);
    w.i64(k.order_price);
    w.i64(k.avg_price);
    w.i64(k.orig_qty);
    w.i64(k.last_qty);
}

fn read_event(r: &mut Reader<'_>, symbol: &Symbol, prev_time: i64) -> Result<Liquidation, CodecError> {
    let time = prev_time
        .checked_add(r.i64()?)
        .ok_or_else(|| r.error("event time out of range"))?;
    let event_time = time
        .checked_add(r.i64()?)
        .ok_or_else(|| r.error("event time out of range"))?;
    let side = match r.u8()? {
        0 => Side::Long,
        1 => Side::Short,
        b => return Err(r.error(format!("bad side {b}"))),
    };
    Ok(Liquidation {
        symbol: symbol.clone(),
        time,
        event_time,
        side,
        price: r.i64()?,
        qty: r.i64()?,
        notional: r.i128()?,
        key: OrderKey {
            status: r.u8()?,
            order_price: r.i64()?,
            avg_price: r.i64()?,
            orig_qty: r.i64()?,
            last_qty: r.i64()?,
        },
    })
}

fn write_bins(w: &mut Writer, bins: &Bins) {
    w.opt_i64(bins.anchor);
    w.usize(bins.bins.len());
    for (&k, b) in &bins.bins {
        w.i64(k);
        for s in 0..2 {
            w.u64(b.count[s]);
            w.i128(b.notional[s]);
            w.f64(b.scaled[s]);
        }
        w.f64(b.weighted_price);
        w.f64(b.weight);
        w.i64(b.last_time);
        w.f64(b.low);
        w.f64(b.high);
    }
}

fn read_bins(r: &mut Reader<'_>) -> Result<Bins, CodecError> {
    let anchor = r.opt_i64()?;
    let n = r.count(40)?;
    let mut bins = BTreeMap::new();
    for _ in 0..n {
        let k = r.i64()?;
        let mut b = Bin::default();
        for s in 0..2 {
            b.count[s] = r.u64()?;
            b.notional[s] = r.i128()?;
            b.scaled[s] = r.f64()?;
        }
        b.weighted_price = r.f64()?;
        b.weight = r.f64()?;
        b.last_time = r.i64()?;
        b.low = r.f64()?;
        b.high = r.f64()?;
        if bins.insert(k, b).is_some() {
            return Err(r.error(format!("bin {k} written twice")));
        }
    }
    Ok(Bins { bins, anchor })
}

impl Liquidations {
    /// Writes the head of a checkpoint's liquidation part (the clock, the settings and the number of symbols) and
    /// returns that number: the part is complete once [`Liquidations::write_checkpoint_symbols`] has written every
    /// symbol in order.
    pub fn write_checkpoint_head(&self, w: &mut Writer) -> usize {
        w.opt_i64(self.clock);
        w.u64(self.config.bin_pct.to_bits());
        w.u64(self.config.tau_ms.to_bits());
        w.usize(self.states.len());
        self.states.len()
    }

    /// Writes the state of the symbols numbered `range` (in order of first appearance).
    pub fn write_checkpoint_symbols(&self, w: &mut Writer, range: std::ops::Range<usize>) {
        for i in range {
            let st = &self.states[i];
            w.str(&self.symbols[i]);
            w.usize(st.events.len());
            let mut prev = 0;
            for e in &st.events {
                write_event(w, e, prev);
                prev = e.time;
            }
            write_bins(w, &st.bins);
            w.bool(st.mark.is_some());
            if let Some((price, time)) = st.mark {
                w.i64(price);
                w.i64(time);
            }
            w.opt_i64(st.contract_size);
        }
    }

    /// Reads the liquidation part of a checkpoint without changing the store.
    pub fn read_checkpoint(r: &mut Reader<'_>) -> Result<LiqRestore, CodecError> {
        let clock = r.opt_i64()?;
        let bin_pct = r.u64()?;
        let tau_ms = r.u64()?;
        let n = r.count(4)?;
        let mut symbols = Vec::with_capacity(n);
        for _ in 0..n {
            let symbol = Symbol::new(r.str()?);
            let count = r.count(12)?;
            let mut events = Vec::with_capacity(count);
            let mut prev = 0;
            for _ in 0..count {
                let e = read_event(r, &symbol, prev)?;
                if events.last().is_some_and(|last: &Liquidation| e.time < last.time) {
                    return Err(r.error("events out of time order"));
                }
                prev = e.time;
                events.push(e);
            }
            let bins = read_bins(r)?;
            let mark = if r.bool()? { Some((r.i64()?, r.i64()?)) } else { None };
            let contract_size = r.opt_i64()?;
            symbols.push(SymbolPart {
                symbol,
                events,
                bins,
                mark,
                contract_size,
            });
        }
        Ok(LiqRestore {
            symbols,
            clock,
            bin_pct,
            tau_ms,
        })
    }

    /// Puts the state read by [`Liquidations::read_checkpoint`] in place of the symbols it holds (other symbols are
    /// kept), then applies this store's retention. Returns the symbols restored.
    pub fn restore(&mut self, parts: LiqRestore) -> Vec<Symbol> {
        let same_bins = parts.bin_pct == self.config.bin_pct.to_bits() && parts.tau_ms == self.config.tau_ms.to_bits();
        let (step, tau) = (self.config.log_step(), self.config.tau_ms);
        let mut restored = Vec::with_capacity(parts.symbols.len());
        for part in parts.symbols {
            let i = self.slot(&part.symbol);
            let mut st = SymbolLiq {
                totals: TotalsLog::default(),
                events: VecDeque::from(part.events),
                bins: if same_bins { part.bins } else { Bins::default() },
                mark: part.mark,
                contract_size: part.contract_size,
            };
            for e in &st.events {
                // Events are in time order: each one is appended, and sums of the written events cannot overflow
                // (they did not when they were kept).
                let _ = st.totals.insert(e.time, 0, e.side, e.notional);
                if !same_bins {
                    st.bins.add(e, step, tau, 1);
                }
            }
            self.states[i] = st;
            restored.push(part.symbol);
        }
        self.rebuild_all();
        if let Some(c) = parts.clock {
            self.clock = Some(self.clock.map_or(c, |own| own.max(c)));
        }
        self.prune();
        restored
    }

    /// Rebuilds the all-symbol log from every symbol's events, in time order.
    fn rebuild_all(&mut self) {
        let mut all: Vec<(i64, u32, Side, i128)> = self
            .states
            .iter()
            .enumerate()
            .flat_map(|(i, st)| st.events.iter().map(move |e| (e.time, i as u32, e.side, e.notional)))
            .collect();
        all.sort_by_key(|e| e.0);
        self.all = TotalsLog::default();
        for (time, tag, side, notional) in all {
            let _ = self.all.insert(time, tag, side, notional);
        }
    }
}
