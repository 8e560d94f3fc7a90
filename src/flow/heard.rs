//! What the engine has heard, and on which stream: the newest event time delivered by each stream (a connection,
//! numbered by the caller), so that an interval is called complete only on the word of the stream that carries the
//! symbol's trades, never on that of another connection that runs ahead of it.
//!
//! Events of one connection arrive in order, but an aggregate trade is not an event of its trade time: Binance
//! futures aggregate the fills of the same price and taker side within 100 ms and push the aggregate when it closes
//! (binance-api.md §3.4), so a trade of time `T` can follow other events of its own connection timed after `T`
//! (a mark price, a depth diff, another symbol's trade). A stream vouches for the trades before `end` once it has
//! delivered an event timed at least [`PUSH_MS`] after `end`.

/// How long after its trade time an aggregate trade may still reach its stream, behind other events of the same
/// connection timed after it (ms): the 100 ms aggregation of futures trades, with room for the exchange's own
/// delays between its streams.
pub const PUSH_MS: i64 = 1_000;

/// The newest event time delivered by each stream, and the stream whose frames are being applied.
#[derive(Debug, Clone)]
pub struct Streams {
    /// `(stream number, newest event time heard on it in ms)`; the unnamed stream (`None`) is the first.
    clocks: Vec<(Option<u32>, i64)>,
    /// Slot of the stream whose frames are being applied; `None` while something else is (a REST page).
    current: Option<usize>,
}

impl Default for Streams {
    fn default() -> Self {
        Self {
            clocks: vec![(None, i64::MIN)],
            current: Some(0),
        }
    }
}

impl Streams {
    /// Makes `stream` (`None`: the unnamed stream of callers that name none) the one whose events are heard next.
    pub fn select(&mut self, stream: Option<u32>) {
        let slot = self.clocks.iter().position(|&(s, _)| s == stream).unwrap_or_else(|| {
            self.clocks.push((stream, i64::MIN));
            self.clocks.len() - 1
        });
        self.current = Some(slot);
    }

    /// Stops hearing for any stream until [`Streams::resume`] (for data that comes by no stream: REST pages); returns
    /// what to resume.
    pub fn pause(&mut self) -> Option<usize> {
        self.current.take()
    }

    pub fn resume(&mut self, current: Option<usize>) {
        self.current = current;
    }

    /// Slot of the stream whose frames are being applied, if any.
    #[inline]
    pub fn current(&self) -> Option<usize> {
        self.current
    }

    /// Records an event of time `t` (ms) on the current stream.
    #[inline]
    pub fn hear(&mut self, t: i64) {
        if let Some(k) = self.current {
            let clock = &mut self.clocks[k].1;
            *clock = (*clock).max(t);
        }
    }

    /// Newest event time (ms) delivered by the stream in `slot`; `None` before its first event.
    pub fn heard(&self, slot: usize) -> Option<i64> {
        self.clocks.get(slot).map(|&(_, t)| t).filter(|&t| t > i64::MIN)
    }

    /// Whether the stream in `slot` vouches for every trade it carries with a time before `end` (ms): it delivered an
    /// event timed at least [`PUSH_MS`] after `end`.
    pub fn vouches(&self, slot: usize, end: i64) -> bool {
        self.heard(slot).is_some_and(|h| h >= end.saturating_add(PUSH_MS))
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.clocks.capacity() * std::mem::size_of::<(Option<u32>, i64)>()
    }
}
