//! REST `aggTrades` pages: a page is counted as a whole before it reports anything, so that a hole one row opens
//! and later rows fill is never reported, and a reported hole names only the ids still missing.

use super::{Flow, PageOutcome, PageQuery};
use crate::decode::AggTrade;

impl Flow {
    /// Counts the rows of a REST `aggTrades` page for `symbol` (ids counted before are skipped).
    ///
    /// With [`PageQuery::from_time`] the rows are the exchange's complete list of trades from that time on, so the
    /// symbol's coverage starts there. With [`PageQuery::from_id`] and a first row past it, the ids in between are
    /// no longer served by the exchange: they are marked abandoned (and reported in [`PageOutcome::abandoned`],
    /// never as a gap).
    pub fn apply_rest(&mut self, symbol: &str, trades: &[AggTrade], query: PageQuery) -> PageOutcome {
        let i = self.slot(symbol);
        self.stats.rest_bodies += 1;
        self.stats.rest_trades += trades.len() as u64;
        let mut page = PageOutcome {
            rows: trades.len(),
            first_id: trades.first().map(|t| t.id),
            last_id: trades.last().map(|t| t.id),
            ..PageOutcome::default()
        };
        // Holes opened by the page's rows, judged once the whole page is in. The rows come by no stream: they move
        // no stream's clock (the ledger alone proves what they cover).
        let mut opened = Vec::new();
        let stream = self.streams.pause();
        for t in trades {
            let outcome = self.count(i, t);
            page.counted += usize::from(outcome.counted);
            opened.extend(outcome.gap);
            page.big.extend(outcome.big);
        }
        self.streams.resume(stream);
        let state = &mut self.states[i];
        if let (Some(from_id), Some(first)) = (query.from_id, page.first_id) {
            // Binance answers `fromId` with the first id it still has at or after it: the ones before are gone.
            if first > from_id {
                state.ledger.abandon(from_id, first - 1);
                page.abandoned = Some((from_id, first - 1));
            }
        }
        if let Some(from) = query.from_time {
            // A start-time page that connects to nothing yet still establishes coverage: the trades before the
            // first counted id are then a hole, reported when they are not in the page.
            state.coverage = Some(state.coverage.map_or(from, |c| c.min(from)));
        }
        for (from, to) in opened {
            // Later rows may have filled the hole, or split it: only what is still missing is reported.
            page.gaps.extend(state.ledger.open_within(from, to));
        }
        self.stats.gaps += page.gaps.len() as u64;
        page
    }
}
