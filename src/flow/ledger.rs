//! Which aggregate trade ids a symbol has counted: sorted, disjoint spans of consecutive ids with the trade times
//! at their ends. The holes between spans are the gaps; ids the exchange can no longer deliver are marked
//! abandoned. Usually one span: live trades extend it in O(1).

/// Consecutive counted ids `first..=last`; `t_first`/`t_last` are the trade times (ms) at the ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub first: u64,
    pub last: u64,
    pub t_first: i64,
    pub t_last: i64,
}

/// A hole between two spans: ids `from..=to` are missing; their trades happened within `[t_lo, t_hi]` ms (ids
/// grow with trade time, so a missing trade lies between its neighbours).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hole {
    pub from: u64,
    pub to: u64,
    pub t_lo: i64,
    pub t_hi: i64,
}

/// What inserting an id did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    /// Counted before: ignore.
    Duplicate,
    New {
        /// A new hole opened (the id is beyond the last counted id + 1, or below the first).
        gap: Option<(u64, u64)>,
        /// The id closed a hole completely.
        filled: bool,
        /// The id is below every counted id.
        below: bool,
        /// The trade time is earlier than that of a lower id counted before (ids follow trade time).
        regressed: bool,
    },
}

#[derive(Debug, Clone, Default)]
pub struct Ledger {
    spans: Vec<Span>,
    /// Sorted, disjoint, merged id ranges marked abandoned.
    abandoned: Vec<(u64, u64)>,
    /// Newest trade time recorded (ms): the latest time of any id below a new last id.
    t_max: Option<i64>,
}

impl Ledger {
    pub fn last_id(&self) -> Option<u64> {
        self.spans.last().map(|s| s.last)
    }

    /// The newest trade time counted (ms); `None` before the first trade.
    pub fn newest_time(&self) -> Option<i64> {
        self.t_max
    }

    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// Abandoned id ranges (sorted, disjoint, merged) and the newest trade time recorded.
    pub(super) fn parts(&self) -> (&[(u64, u64)], Option<i64>) {
        (&self.abandoned, self.t_max)
    }

    /// A ledger from its parts (as [`Ledger::spans`] and [`Ledger::parts`] give them); `None` unless the spans are
    /// sorted, disjoint and apart (a hole between any two) and the abandoned ranges sorted, disjoint and merged.
    pub(super) fn from_parts(spans: Vec<Span>, abandoned: Vec<(u64, u64)>, t_max: Option<i64>) -> Option<Self> {
        let spans_ok = spans.iter().all(|s| s.first <= s.last)
            && spans
                .windows(2)
                .all(|w| w[0].last.checked_add(1).is_some_and(|n| n < w[1].first));
        let abandoned_ok = abandoned.iter().all(|&(a, b)| a <= b)
            && abandoned
                .windows(2)
                .all(|w| w[0].1.checked_add(1).is_some_and(|n| n < w[1].0));
        (spans_ok && abandoned_ok && (t_max.is_some() || spans.is_empty())).then_some(Self {
            spans,
            abandoned,
            t_max,
        })
    }

    /// Records `id` (trade time `t`) unless it was counted before.
    #[inline]
    pub fn insert(&mut self, id: u64, t: i64) -> Insert {
        let span = |id| Span {
            first: id,
            last: id,
            t_first: t,
            t_last: t,
        };
        let Some(last) = self.spans.last_mut() else {
            self.spans.push(span(id));
            self.t_max = Some(t);
            return Insert::New {
                gap: None,
                filled: false,
                below: true,
                regressed: false,
            };
        };
        if id > last.last {
            // Every counted id is lower.
            let regressed = self.t_max.is_some_and(|m| t < m);
            self.t_max = Some(self.t_max.map_or(t, |m| m.max(t)));
            if id == last.last + 1 {
                last.last = id;
                last.t_last = last.t_last.max(t);
                return Insert::New {
                    gap: None,
                    filled: false,
                    below: false,
                    regressed,
                };
            }
            let gap = Some((last.last + 1, id - 1));
            self.spans.push(span(id));
            return Insert::New {
                gap,
                filled: false,
                below: false,
                regressed,
            };
        }
        let inserted = self.insert_slow(id, t);
        if inserted != Insert::Duplicate {
            self.t_max = Some(self.t_max.map_or(t, |m| m.max(t)));
        }
        inserted
    }

    fn insert_slow(&mut self, id: u64, t: i64) -> Insert {
        // First span whose last id is >= id.
        let p = self.spans.partition_point(|s| s.last < id);
        if self.spans[p].first <= id {
            return Insert::Duplicate;
        }
        // Each span's `t_last` is the latest time recorded in it, so the spans below hold the latest lower time.
        let regressed = self.spans[..p].iter().any(|s| t < s.t_last);
        let join_prev = p > 0 && self.spans[p - 1].last + 1 == id;
        let join_next = self.spans[p].first == id + 1;
        match (join_prev, join_next) {
            (true, true) => {
                let next = self.spans.remove(p);
                let prev = &mut self.spans[p - 1];
                prev.last = next.last;
                prev.t_last = prev.t_last.max(next.t_last).max(t);
                Insert::New {
                    gap: None,
                    filled: true,
                    below: false,
                    regressed,
                }
            }
            (true, false) => {
                let prev = &mut self.spans[p - 1];
                prev.last = id;
                prev.t_last = prev.t_last.max(t);
                Insert::New {
                    gap: None,
                    filled: false,
                    below: false,
                    regressed,
                }
            }
            (false, true) => {
                let next = &mut self.spans[p];
                next.first = id;
                next.t_first = next.t_first.min(t);
                next.t_last = next.t_last.max(t);
                Insert::New {
                    gap: None,
                    filled: false,
                    below: p == 0,
                    regressed,
                }
            }
            (false, false) => {
                let next_first = self.spans[p].first;
                self.spans.insert(
                    p,
                    Span {
                        first: id,
                        last: id,
                        t_first: t,
                        t_last: t,
                    },
                );
                // Below every span: a new hole up to the old first id. Inside a hole: the hole only splits.
                let gap = (p == 0).then_some((id + 1, next_first - 1));
                Insert::New {
                    gap,
                    filled: false,
                    below: p == 0,
                    regressed,
                }
            }
        }
    }

    /// The holes between spans, oldest first.
    pub fn holes(&self) -> impl Iterator<Item = Hole> + '_ {
        self.spans.windows(2).map(|w| Hole {
            from: w[0].last + 1,
            to: w[1].first - 1,
            t_lo: w[0].t_last.min(w[1].t_first),
            t_hi: w[0].t_last.max(w[1].t_first),
        })
    }

    /// Whether every id of `from..=to` is marked abandoned.
    fn all_abandoned(&self, from: u64, to: u64) -> bool {
        let p = self.abandoned.partition_point(|&(_, hi)| hi < from);
        self.abandoned.get(p).is_some_and(|&(lo, hi)| lo <= from && hi >= to)
    }

    /// Whether a hole overlaps the time range `[a, b)` ms: `(open, abandoned)` — an open (not fully abandoned)
    /// hole, an abandoned one.
    pub fn overlap(&self, a: i64, b: i64) -> (bool, bool) {
        let (mut open, mut abandoned) = (false, false);
        for h in self.holes() {
            if h.t_lo < b && h.t_hi >= a {
                if self.all_abandoned(h.from, h.to) {
                    abandoned = true;
                } else {
                    open = true;
                }
            }
        }
        (open, abandoned)
    }

    /// The missing id ranges that are not abandoned, oldest first.
    pub fn open_gaps(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        for h in self.holes() {
            let mut from = h.from;
            for &(lo, hi) in &self.abandoned {
                if hi < from || lo > h.to {
                    continue;
                }
                if lo > from {
                    out.push((from, lo - 1));
                }
                from = hi.saturating_add(1);
                if from > h.to {
                    break;
                }
            }
            if from <= h.to && from >= h.from {
                out.push((from, h.to));
            }
        }
        out
    }

    /// The missing, not abandoned ids within `from..=to`, oldest first (see [`Ledger::open_gaps`]).
    pub fn open_within(&self, from: u64, to: u64) -> Vec<(u64, u64)> {
        self.open_gaps()
            .into_iter()
            .filter(|&(a, b)| a <= to && b >= from)
            .map(|(a, b)| (a.max(from), b.min(to)))
            .collect()
    }

    /// Marks `from..=to` abandoned: the exchange can no longer deliver those ids.
    pub fn abandon(&mut self, from: u64, to: u64) {
        let (mut lo, mut hi) = (from, to);
        self.abandoned.retain(|&(a, b)| {
            // Overlapping or adjacent ranges merge into the new one.
            if b.saturating_add(1) >= lo && a <= hi.saturating_add(1) {
                lo = lo.min(a);
                hi = hi.max(b);
                false
            } else {
                true
            }
        });
        let p = self.abandoned.partition_point(|&(a, _)| a < lo);
        self.abandoned.insert(p, (lo, hi));
    }

    /// Forgets spans whose trades are all older than `t_min` (keeping the newest span). Returns the earliest time
    /// from which coverage is still known, if a span was dropped: the hole after a dropped span reaches up to the
    /// next span's first trade.
    pub fn prune(&mut self, t_min: i64) -> Option<i64> {
        if self.spans.len() < 2 {
            return None;
        }
        let mut floor = None;
        let n = self
            .spans
            .iter()
            .take_while(|s| s.t_last < t_min)
            .count()
            .min(self.spans.len() - 1);
        if n > 0 {
            floor = Some(self.spans[n].t_first + 1);
            self.spans.drain(..n);
            let first = self.spans[0].first;
            self.abandoned.retain(|&(_, hi)| hi >= first);
        }
        floor
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.spans.capacity() * std::mem::size_of::<Span>() + self.abandoned.capacity() * 16
    }
}
