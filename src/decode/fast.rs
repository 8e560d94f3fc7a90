//! Template decoding of `depthUpdate` diffs in the exact layout Binance sends.
//!
//! Diffs are most of the traffic, and Binance always writes them with the same keys in the same order and no white
//! space: spot `e,E,s,U,u,b,a`, USD-M `e,E,T,s,U,u,pu,b,a`, COIN-M `e,E,T,s,ps,U,u,pu,b,a`. Matching that layout
//! byte by byte costs far less than reading keys generically. Any deviation — another key order, white space, an
//! escape, a number outside the fast range — returns `None` and the general decoder takes over, so this path only
//! ever accepts input the general decoder accepts, with the same result (checked by property tests).
//!
//! `aggTrade` has the same treatment: spot `e,E,s,a,p,q,f,l,T,m,M`, USD-M `e,E,s,a,p,q,nq,f,l,T,m` (older USD-M and
//! COIN-M put `a` before `s`).

use super::depth::{BookTicker, DepthUpdate};
use super::json::{digits_value, fast_decimal, leading_digits, load8, plain_end, LevelSink, Levels, POW10};
use super::trade::AggTrade;
use super::{Event, Symbol};

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    /// Matches a short literal. Always inlined, so that the literal's length is a constant and the comparison
    /// compiles to a few word compares instead of a call to `memcmp`.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn lit(&mut self, word: &[u8]) -> Option<()> {
        let rest = self.s.get(self.i..self.i + word.len())?;
        if rest != word {
            return None;
        }
        self.i += word.len();
        Some(())
    }

    #[inline]
    fn opt(&mut self, word: &[u8]) -> bool {
        self.lit(word).is_some()
    }

    /// A non-negative JSON integer of at most 18 digits (no leading zero).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn uint(&mut self) -> Option<u64> {
        let s = &self.s[self.i..];
        let (v, n) = if s.len() >= 16 {
            let head = load8(s, 0);
            let n = leading_digits(head);
            if n < 8 {
                (digits_value(head, n), n)
            } else {
                let tail = load8(s, 8);
                let m = leading_digits(tail);
                if m == 8 {
                    return self.uint_scalar();
                }
                (digits_value(head, 8) * POW10[8 - m] + digits_value(tail, m), 8 + m)
            }
        } else {
            return self.uint_scalar();
        };
        if n == 0 || (n > 1 && s[0] == b'0') || matches!(s.get(n), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.i += n;
        Some(v)
    }

    /// The byte-by-byte definition of [`Cursor::uint`].
    fn uint_scalar(&mut self) -> Option<u64> {
        let s = &self.s[self.i..];
        let mut v: u64 = 0;
        let mut n = 0;
        while n < s.len() && n < 19 {
            let d = s[n].wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v * 10 + u64::from(d);
            n += 1;
        }
        if n == 0 || n > 18 || (n > 1 && s[0] == b'0') || matches!(s.get(n), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.i += n;
        Some(v)
    }

    /// The body of a plain ASCII string (no escape, no control character) up to its closing quote.
    #[inline]
    fn plain_str(&mut self) -> Option<&'a [u8]> {
        let s = &self.s[self.i..];
        let end = plain_end(s)?;
        (s[end] == b'"').then(|| {
            self.i += end + 1;
            &s[..end]
        })
    }

    /// A decimal string body and its closing quote: up to 10 integer digits and 8 decimals.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn decimal(&mut self) -> Option<i64> {
        let (v, len) = fast_decimal(&self.s[self.i..])?;
        self.i += len + 1;
        Some(v)
    }

    /// `true` or `false`.
    #[inline]
    fn boolean(&mut self) -> Option<bool> {
        if self.opt(b"true") {
            Some(true)
        } else {
            self.lit(b"false").map(|()| false)
        }
    }

    /// Only white space may follow the object; the general decoder judges everything else.
    #[inline]
    fn at_end(&self) -> bool {
        self.s[self.i..].iter().all(|&b| super::json::is_ws(b))
    }

    /// `[["p","q"],...]`
    #[inline]
    fn levels(&mut self, out: &mut impl LevelSink) -> Option<()> {
        self.lit(b"[")?;
        if self.opt(b"]") {
            return Some(());
        }
        loop {
            self.lit(b"[\"")?;
            let price = self.decimal()?;
            self.lit(b",\"")?;
            let qty = self.decimal()?;
            self.lit(b"]")?;
            out.push_level((price, qty));
            if self.opt(b"]") {
                return Some(());
            }
            self.lit(b",")?;
        }
    }
}

/// The fields of a diff other than its levels, the symbol borrowed from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiffHead<'a> {
    /// Plain ASCII (checked).
    pub symbol: &'a [u8],
    pub event_time: i64,
    pub transact_time: Option<i64>,
    pub first_id: u64,
    pub final_id: u64,
    pub prev_final_id: Option<u64>,
}

impl DiffHead<'_> {
    /// The owned diff with these levels.
    pub fn into_update(self, bids: Levels, asks: Levels) -> DepthUpdate {
        DepthUpdate {
            symbol: Symbol::from_utf8_lossy(self.symbol),
            event_time: self.event_time,
            transact_time: self.transact_time,
            first_id: self.first_id,
            final_id: self.final_id,
            prev_final_id: self.prev_final_id,
            bids,
            asks,
        }
    }
}

/// A whole frame holding one diff in Binance's layout — combined `{"stream":"<s>@depth..","data":{..}}` or raw —
/// decoded without the generic frame and shape dispatch, or `None` (the general decoder then takes the frame).
/// Accepts only what [`super::decode_frame`] decodes to a single [`super::Event::Depth`], with the same result.
#[cfg(test)]
pub(crate) fn depth_frame(frame: &[u8]) -> Option<DepthUpdate> {
    let (mut bids, mut asks) = (Levels::new(), Levels::new());
    match frame_parts(frame, &mut bids, &mut asks) {
        Fast::Diff(head) => Some(head.into_update(bids, asks)),
        Fast::Event(_) | Fast::Declined => None,
    }
}

/// What the template paths make of a frame.
pub enum Fast<'a> {
    /// A diff; its levels are in the caller's buffers.
    Diff(DiffHead<'a>),
    /// A combined `aggTrade` or `bookTicker` frame.
    Event(Event),
    /// Anything else: the general decoder's turn (level buffers may hold part of a diff's levels).
    Declined,
}

const DEPTH_PAYLOAD: &[u8] = b"{\"e\":\"depthUpdate\",";
const AGG_TRADE_PAYLOAD: &[u8] = b"{\"e\":\"aggTrade\",";

/// Every template path for one frame, the combined-stream wrapper read once: a diff with its levels appended to
/// `bids` and `asks`, or an aggTrade or bookTicker event, each raw or combined. Whatever it returns, the general
/// decoder returns too (property tests compare them); anything else is [`Fast::Declined`].
pub(crate) fn frame_parts<'a, S: LevelSink>(frame: &'a [u8], bids: &mut S, asks: &mut S) -> Fast<'a> {
    let (stream, payload) = if frame.starts_with(COMBINED) {
        match combined(frame) {
            Some((stream, payload)) => (Some(stream), payload),
            None => return Fast::Declined,
        }
    } else {
        (None, frame)
    };
    let event = if payload.starts_with(DEPTH_PAYLOAD) {
        if stream.is_some_and(super::is_partial_depth_stream) {
            return Fast::Declined;
        }
        return depth_update_parts(payload, bids, asks).map_or(Fast::Declined, Fast::Diff);
    } else if payload.starts_with(AGG_TRADE_PAYLOAD) {
        agg_trade(payload).map(Event::AggTrade)
    } else {
        book_ticker(payload).map(Event::BookTicker)
    };
    event.map_or(Fast::Declined, Fast::Event)
}

const COMBINED: &[u8] = b"{\"stream\":\"";

/// The stream name and payload of a combined-stream frame `{"stream":"<name>","data":{..}}` laid out as Binance
/// sends it, with an object payload: the payload runs to the frame's closing brace (only white space may follow
/// it), as on the general path. `None` for anything else.
fn combined(frame: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut c = Cursor { s: frame, i: 0 };
    c.lit(COMBINED)?;
    let stream = c.plain_str()?;
    c.lit(b",\"data\":")?;
    let start = c.i;
    // Other payloads (arrays) leave before the scan for the closing brace.
    if !frame[start..].starts_with(b"{\"") {
        return None;
    }
    let end = frame.iter().rposition(|&b| !super::json::is_ws(b))?;
    (frame[end] == b'}' && end > start).then(|| (stream, &frame[start..end]))
}

/// Decodes a diff laid out exactly as Binance sends it, or returns `None`.
#[cfg(test)]
pub(super) fn depth_update(obj: &[u8]) -> Option<DepthUpdate> {
    let (mut bids, mut asks) = (Levels::new(), Levels::new());
    let head = depth_update_parts(obj, &mut bids, &mut asks)?;
    Some(head.into_update(bids, asks))
}

fn depth_update_parts<'a, S: LevelSink>(obj: &'a [u8], bids: &mut S, asks: &mut S) -> Option<DiffHead<'a>> {
    let mut c = Cursor { s: obj, i: 0 };
    c.lit(DEPTH_PAYLOAD)?;
    c.lit(b"\"E\":")?;
    let event_time = i64::try_from(c.uint()?).ok()?;
    let transact_time = if c.opt(b",\"T\":") {
        Some(i64::try_from(c.uint()?).ok()?)
    } else {
        None
    };
    c.lit(b",\"s\":\"")?;
    let symbol = c.plain_str()?;
    if c.opt(b",\"ps\":\"") {
        c.plain_str()?;
    }
    c.lit(b",\"U\":")?;
    let first_id = c.uint()?;
    c.lit(b",\"u\":")?;
    let final_id = c.uint()?;
    let prev_final_id = if c.opt(b",\"pu\":") { Some(c.uint()?) } else { None };
    c.lit(b",\"b\":")?;
    c.levels(bids)?;
    c.lit(b",\"a\":")?;
    c.levels(asks)?;
    c.lit(b"}")?;
    // Only white space may follow; the general decoder judges everything else.
    if !c.at_end() || first_id > final_id {
        return None;
    }
    Some(DiffHead {
        symbol,
        event_time,
        transact_time,
        first_id,
        final_id,
        prev_final_id,
    })
}

/// A `bookTicker` in one of Binance's key orders — spot `u,s,b,B,a,A`, USD-M `e,u,s,b,B,a,A,T,E`, COIN-M
/// `u,e,s,ps,b,B,a,A,T,E` — read in one pass without looking keys up; `None` for any other order (the general
/// decoder then reads it).
fn book_ticker(obj: &[u8]) -> Option<BookTicker> {
    const E: &[u8] = b"\"e\":\"bookTicker\",";
    let mut c = Cursor { s: obj, i: 0 };
    c.lit(b"{")?;
    let e_first = c.opt(E);
    c.lit(b"\"u\":")?;
    let update_id = c.uint()?;
    c.lit(b",")?;
    if !e_first {
        c.opt(E);
    }
    c.lit(b"\"s\":\"")?;
    let symbol = Symbol::new(std::str::from_utf8(c.plain_str()?).ok()?);
    if c.opt(b",\"ps\":\"") {
        c.plain_str()?;
    }
    c.lit(b",\"b\":\"")?;
    let bid_price = c.decimal()?;
    c.lit(b",\"B\":\"")?;
    let bid_qty = c.decimal()?;
    c.lit(b",\"a\":\"")?;
    let ask_price = c.decimal()?;
    c.lit(b",\"A\":\"")?;
    let ask_qty = c.decimal()?;
    if c.opt(b",\"T\":") {
        c.uint()?;
    }
    let event_time = if c.opt(b",\"E\":") {
        Some(i64::try_from(c.uint()?).ok()?)
    } else {
        None
    };
    c.lit(b"}")?;
    c.at_end().then_some(BookTicker {
        symbol,
        update_id,
        event_time,
        bid_price,
        bid_qty,
        ask_price,
        ask_qty,
    })
}

/// Decodes an `aggTrade` laid out exactly as Binance sends it, or returns `None`.
pub(super) fn agg_trade(obj: &[u8]) -> Option<AggTrade> {
    let mut c = Cursor { s: obj, i: 0 };
    c.lit(AGG_TRADE_PAYLOAD)?;
    c.lit(b"\"E\":")?;
    let event_time = i64::try_from(c.uint()?).ok()?;
    let (symbol, id);
    if c.opt(b",\"s\":\"") {
        symbol = c.plain_str()?;
        c.lit(b",\"a\":")?;
        id = c.uint()?;
    } else {
        c.lit(b",\"a\":")?;
        id = c.uint()?;
        c.lit(b",\"s\":\"")?;
        symbol = c.plain_str()?;
    }
    if symbol.is_empty() {
        return None;
    }
    c.lit(b",\"p\":\"")?;
    let price = c.decimal()?;
    c.lit(b",\"q\":\"")?;
    let qty = c.decimal()?;
    let normal_qty = if c.opt(b",\"nq\":\"") { Some(c.decimal()?) } else { None };
    c.lit(b",\"f\":")?;
    let first_trade_id = c.uint()?;
    c.lit(b",\"l\":")?;
    let last_trade_id = c.uint()?;
    c.lit(b",\"T\":")?;
    let time = i64::try_from(c.uint()?).ok()?;
    c.lit(b",\"m\":")?;
    let buyer_maker = c.boolean()?;
    if c.opt(b",\"M\":") {
        c.boolean()?;
    }
    c.lit(b"}")?;
    if !c.at_end() || first_trade_id > last_trade_id {
        return None;
    }
    Some(AggTrade {
        symbol: Symbol::new(std::str::from_utf8(symbol).ok()?),
        event_time: Some(event_time),
        id,
        price,
        qty,
        normal_qty,
        first_trade_id,
        last_trade_id,
        time,
        buyer_maker,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::depth::decode_depth_update_general;
    use super::super::json::{fast_decimal, fast_decimal_scalar, plain_end, plain_end_scalar};
    use super::super::trade::decode_agg_trade_general;
    use super::super::{decode_frame, decode_frame_general, DepthUpdate, Event};
    use super::{agg_trade, depth_frame, depth_update, Cursor};

    fn level() -> impl Strategy<Value = String> {
        ("[0-9]{1,6}(\\.[0-9]{1,8})?", "[0-9]{1,9}(\\.[0-9]{1,8})?").prop_map(|(p, q)| format!("[\"{p}\",\"{q}\"]"))
    }

    /// A diff in Binance's layout for one of the three markets.
    fn frame() -> impl Strategy<Value = String> {
        (
            0u8..3,
            0u64..2_000_000_000_000,
            "[A-Z0-9_]{2,14}",
            0u64..1_000_000_000_000,
            0u64..50,
            prop::collection::vec(level(), 0..6),
            prop::collection::vec(level(), 0..6),
        )
            .prop_map(|(market, e, s, first, width, b, a)| {
                let (b, a) = (b.join(","), a.join(","));
                let last = first + width;
                match market {
                    0 => format!(r#"{{"e":"depthUpdate","E":{e},"s":"{s}","U":{first},"u":{last},"b":[{b}],"a":[{a}]}}"#),
                    1 => format!(
                        r#"{{"e":"depthUpdate","E":{e},"T":{e},"s":"{s}","U":{first},"u":{last},"pu":{},"b":[{b}],"a":[{a}]}}"#,
                        first.saturating_sub(3)
                    ),
                    _ => format!(
                        r#"{{"e":"depthUpdate","E":{e},"T":{e},"s":"{s}","ps":"X","U":{first},"u":{last},"pu":{},"b":[{b}],"a":[{a}]}}"#,
                        first.saturating_sub(3)
                    ),
                }
            })
    }

    fn decimal() -> impl Strategy<Value = String> {
        prop_oneof!["[0-9]{1,10}(\\.[0-9]{1,8})?", "0\\.0{0,7}[1-9]", "[1-9][0-9]{0,9}"]
    }

    /// An aggTrade in one of Binance's layouts: spot (`M`), USD-M (`nq`), COIN-M / older USD-M (`a` before `s`).
    fn agg_frame() -> impl Strategy<Value = String> {
        (
            0u8..3,
            0u64..2_000_000_000_000,
            "[A-Z0-9_]{1,14}",
            0u64..1_000_000_000_000,
            decimal(),
            decimal(),
            decimal(),
            0u64..1_000_000_000_000,
            0u64..50,
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(market, e, s, a, p, q, nq, f, width, m, big)| {
                let l = f + width;
                match market {
                    0 => format!(
                        r#"{{"e":"aggTrade","E":{e},"s":"{s}","a":{a},"p":"{p}","q":"{q}","f":{f},"l":{l},"T":{e},"m":{m},"M":{big}}}"#
                    ),
                    1 => format!(
                        r#"{{"e":"aggTrade","E":{e},"s":"{s}","a":{a},"p":"{p}","q":"{q}","nq":"{nq}","f":{f},"l":{l},"T":{e},"m":{m}}}"#
                    ),
                    _ => format!(
                        r#"{{"e":"aggTrade","E":{e},"a":{a},"s":"{s}","p":"{p}","q":"{q}","f":{f},"l":{l},"T":{e},"m":{m}}}"#
                    ),
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Binance-layout aggTrades take the fast path and decode exactly as the general decoder does.
        #[test]
        fn agg_fast_path_equals_general_decoder(f in agg_frame()) {
            let fast = agg_trade(f.as_bytes());
            prop_assert!(fast.is_some(), "{}", f);
            prop_assert_eq!(fast, decode_agg_trade_general(f.as_bytes()).ok());
        }

        /// A corrupted aggTrade is accepted by the fast path only if the general decoder accepts it, identically.
        #[test]
        fn agg_fast_path_never_accepts_more(f in agg_frame(), edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(b"\"\\,:[]{}0.9-e \x01xAtf".to_vec())), 1..4)) {
            let mut bytes = f.into_bytes();
            for (at, b) in edits {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            if let Some(fast) = agg_trade(&bytes) {
                prop_assert_eq!(Some(fast), decode_agg_trade_general(&bytes).ok());
            }
        }

        /// A combined frame around a (possibly corrupted) aggTrade: the fast path agrees with `decode_frame`'s
        /// general path whenever it answers.
        #[test]
        fn combined_agg_fast_path_equals_general_path(f in agg_frame(), edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(b"\"\\,:[]{}0.9 xe".to_vec())), 0..3)) {
            let mut bytes = format!(r#"{{"stream":"x@aggTrade","data":{f}}}"#).into_bytes();
            for (at, b) in edits {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            let fast = fast_event(&bytes);
            let mut general = Vec::new();
            let ok = super::super::decode_frame_general(&bytes, &mut general).is_ok();
            if let Some(fast) = fast {
                prop_assert!(ok);
                prop_assert_eq!(general, vec![fast]);
            }
        }

        /// Binance-layout diffs take the fast path and decode exactly as the general decoder does.
        #[test]
        fn fast_path_equals_general_decoder(f in frame()) {
            let fast = depth_update(f.as_bytes());
            prop_assert!(fast.is_some(), "{}", f);
            prop_assert_eq!(fast, decode_depth_update_general(f.as_bytes()).ok());
        }

        /// Whatever a corrupted frame looks like, the fast path accepts it only if the general decoder does, with
        /// the same result.
        #[test]
        fn fast_path_never_accepts_more(f in frame(), edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(b"\"\\,:[]{}0.9-e \x01xA".to_vec())), 1..4)) {
            let mut bytes = f.into_bytes();
            for (at, b) in edits {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            if let Some(fast) = depth_update(&bytes) {
                prop_assert_eq!(Some(fast), decode_depth_update_general(&bytes).ok());
            }
        }
    }

    /// A diff as a whole frame: raw, or combined under a diff, partial-depth or other stream name.
    fn whole_frame() -> impl Strategy<Value = String> {
        let stream = prop::sample::select(vec![
            "btcusdt@depth",
            "btcusdt@depth@100ms",
            "btcusdt@depth5",
            "btcusdt@depth20@100ms",
            "btcusdt@aggTrade",
            "depth",
            "x@depth@depth5",
        ]);
        (frame(), prop::option::of(stream), "[ \n]{0,2}").prop_map(|(f, s, tail)| match s {
            Some(s) => format!(r#"{{"stream":"{s}","data":{f}}}{tail}"#),
            None => format!("{f}{tail}"),
        })
    }

    fn general(frame: &[u8]) -> Option<DepthUpdate> {
        let mut out = Vec::new();
        decode_frame(frame, &mut out).ok()?;
        match out.as_slice() {
            [Event::Depth(d)] => Some((**d).clone()),
            _ => None,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// The whole-frame fast path takes every diff frame the general decoder reads as one diff, with the same
        /// result, and nothing else (partial depth streams, corrupted frames, trailing garbage).
        #[test]
        fn frame_fast_path_equals_decode_frame(f in whole_frame(), edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(b"\"\\,:[]{}0.9-e \x01xA@".to_vec())), 0..3)) {
            let mut bytes = f.into_bytes();
            let clean = edits.is_empty();
            for (at, b) in edits {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            let fast = depth_frame(&bytes);
            let general = general(&bytes);
            if clean {
                prop_assert_eq!(fast.is_some(), general.is_some());
            }
            if fast.is_some() {
                prop_assert_eq!(fast, general);
            }
        }
    }

    /// Number-ish text: digits, points, quotes and a few other bytes, long enough for the eight-byte reads.
    fn numberish() -> impl Strategy<Value = Vec<u8>> {
        (
            prop::collection::vec(prop::sample::select(b"0123456789000.\"\"x-e,".to_vec()), 0..30),
            0usize..24,
        )
            .prop_map(|(mut v, pad)| {
                v.extend(std::iter::repeat_n(b',', pad));
                v
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

        /// The eight-bytes-at-a-time decimal and integer readers equal their byte-by-byte definitions.
        #[test]
        fn swar_numbers_equal_scalar(s in numberish()) {
            prop_assert_eq!(fast_decimal(&s), fast_decimal_scalar(&s));
            let (mut a, mut b) = (Cursor { s: &s, i: 0 }, Cursor { s: &s, i: 0 });
            prop_assert_eq!(a.uint(), b.uint_scalar());
            prop_assert_eq!(a.i, b.i);
        }

        /// Real decimal spellings (prices, quantities, ids) with something after them.
        #[test]
        fn swar_decimals_of_real_shapes(int in 0u64..100_000_000_000, frac in 0u64..100_000_000, places in 0usize..10, tail in "[\"0-9,.\\]]{0,25}") {
            let text = match places {
                0 => format!("{int}{tail}"),
                p => format!("{int}.{:0>p$}{tail}", frac % 10u64.pow(p.min(9) as u32)),
            };
            prop_assert_eq!(fast_decimal(text.as_bytes()), fast_decimal_scalar(text.as_bytes()));
            let (mut a, mut b) = (Cursor { s: text.as_bytes(), i: 0 }, Cursor { s: text.as_bytes(), i: 0 });
            prop_assert_eq!(a.uint(), b.uint_scalar());
        }

        /// The eight-bytes-at-a-time scan for the end of a plain string equals its byte-by-byte definition, for any
        /// bytes (every special class — quote, backslash, control, non-ASCII — at any position, borrows included).
        #[test]
        fn swar_plain_end_equals_scalar(
            s in prop::collection::vec(prop_oneof![4 => 0x20u8..0x7f, 1 => Just(b'"'), 1 => Just(b'\\'), 1 => 0u8..0x20, 1 => 0x7fu8..=0xff], 0..40),
        ) {
            prop_assert_eq!(plain_end(&s), plain_end_scalar(&s));
        }
    }

    /// A combined bookTicker frame: spot, USD-M or COIN-M keys (with optional `e`, `E`, `T`, `ps`, `st`) in a shuffled
    /// order.
    fn book_ticker_frame() -> impl Strategy<Value = String> {
        (
            any::<u64>().prop_map(|u| u % 1_000_000_000_000),
            "[A-Z0-9_]{2,14}",
            prop::collection::vec("[0-9]{1,6}(\\.[0-9]{1,8})?", 4),
            prop::collection::vec(any::<bool>(), 5),
            any::<prop::sample::Index>(),
            "[ \n]{0,1}",
        )
            .prop_flat_map(|(u, sym, d, opt, _, tail)| {
                let mut kv = vec![
                    format!(r#""u":{u}"#),
                    format!(r#""s":"{sym}""#),
                    format!(r#""b":"{}""#, d[0]),
                    format!(r#""B":"{}""#, d[1]),
                    format!(r#""a":"{}""#, d[2]),
                    format!(r#""A":"{}""#, d[3]),
                ];
                let extra = [
                    r#""e":"bookTicker""#,
                    r#""E":1626916403871"#,
                    r#""T":1626916403864"#,
                    r#""ps":"BCHUSD""#,
                    r#""st":1"#,
                ];
                kv.extend(
                    extra
                        .iter()
                        .zip(&opt)
                        .filter(|(_, &on)| on)
                        .map(|(k, _)| (*k).to_owned()),
                );
                (Just(kv).prop_shuffle(), Just(sym), Just(tail))
            })
            .prop_map(|(kv, sym, tail)| {
                format!(
                    r#"{{"stream":"{}@bookTicker","data":{{{}}}}}{tail}"#,
                    sym.to_lowercase(),
                    kv.join(",")
                )
            })
    }

    /// A combined bookTicker frame in one of Binance's three key orders (spot, USD-M, COIN-M).
    fn book_ticker_layout_frame() -> impl Strategy<Value = String> {
        (
            0usize..3,
            any::<u64>().prop_map(|u| u % 1_000_000_000_000),
            "[A-Z0-9_]{2,14}",
            prop::collection::vec("[0-9]{1,10}(\\.[0-9]{1,8})?", 4),
        )
            .prop_map(|(layout, u, sym, d)| {
                let prices = format!(r#""b":"{}","B":"{}","a":"{}","A":"{}""#, d[0], d[1], d[2], d[3]);
                let times = r#""T":1626916403864,"E":1626916403871"#;
                let data = match layout {
                    0 => format!(r#"{{"u":{u},"s":"{sym}",{prices}}}"#),
                    1 => format!(r#"{{"e":"bookTicker","u":{u},"s":"{sym}",{prices},{times}}}"#),
                    _ => format!(r#"{{"u":{u},"e":"bookTicker","s":"{sym}","ps":"X",{prices},{times}}}"#),
                };
                format!(r#"{{"stream":"{}@bookTicker","data":{data}}}"#, sym.to_lowercase())
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Book tickers in Binance's layouts take the fast path and decode exactly as the general decoder does; in
        /// other key orders, or corrupted, they are taken only with the general decoder's result.
        #[test]
        fn book_ticker_fast_path_equals_general_decoder((f, layout) in prop_oneof![book_ticker_frame().prop_map(|f| (f, false)), book_ticker_layout_frame().prop_map(|f| (f, true))], edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(b"\"\\,:[]{}0.9-e \x01xAuEs".to_vec())), 0..3)) {
            let mut bytes = f.into_bytes();
            let clean = edits.is_empty();
            for (at, b) in edits {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            let fast = fast_event(&bytes);
            let mut out = Vec::new();
            let general = decode_frame_general(&bytes, &mut out).ok().and_then(|()| match out.as_slice() {
                [event] => Some(event.clone()),
                _ => None,
            });
            if clean && layout {
                prop_assert!(fast.is_some(), "{}", String::from_utf8_lossy(&bytes));
            }
            if fast.is_some() {
                prop_assert_eq!(fast, general);
            }
        }
    }

    /// What the engine's entry [`super::frame_parts`] makes of a frame, as events (`None` when it declines).
    fn frame_parts_events(bytes: &[u8]) -> Option<Vec<Event>> {
        let (mut bids, mut asks) = (super::Levels::new(), super::Levels::new());
        match super::frame_parts(bytes, &mut bids, &mut asks) {
            super::Fast::Diff(head) => Some(vec![Event::Depth(Box::new(head.into_update(bids, asks)))]),
            super::Fast::Event(event) => Some(vec![event]),
            super::Fast::Declined => None,
        }
    }

    /// The one event [`super::frame_parts`] makes of a frame, if it takes it.
    fn fast_event(bytes: &[u8]) -> Option<Event> {
        frame_parts_events(bytes).and_then(|events| events.into_iter().next())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// The engine's single entry to the template paths — diffs raw or combined, combined aggTrades and book
        /// tickers, possibly corrupted — answers only with what the general decoder returns.
        #[test]
        fn frame_parts_equal_general_decoder(
            f in prop_oneof![
                frame().prop_map(|f| (f, true)),
                frame().prop_map(|f| (format!(r#"{{"stream":"x@depth@100ms","data":{f}}}"#), true)),
                frame().prop_map(|f| (format!(r#"{{"stream":"x@depth5@100ms","data":{f}}}"#), false)),
                agg_frame().prop_map(|f| (f, true)),
                agg_frame().prop_map(|f| (format!(r#"{{"stream":"x@aggTrade","data":{f}}}"#), true)),
                book_ticker_frame().prop_map(|f| (f, false)),
                book_ticker_layout_frame().prop_map(|f| (f, true)),
            ],
            edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(b"\"\\,:[]{}0.9-e \x01xAuEs@".to_vec())), 0..3),
        ) {
            let (f, layout) = f;
            let partial = f.contains("@depth5");
            let clean = edits.is_empty();
            let mut bytes = f.into_bytes();
            for (at, b) in edits {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            let fast = frame_parts_events(&bytes);
            // Partial-depth frames are never diffs; clean frames in Binance's layout are always taken.
            prop_assert!(!(partial && clean && fast.is_some()));
            prop_assert!(!(clean && layout && fast.is_none()), "{}", String::from_utf8_lossy(&bytes));
            if let Some(fast) = fast {
                let mut general = Vec::new();
                prop_assert!(decode_frame_general(&bytes, &mut general).is_ok(), "{}", String::from_utf8_lossy(&bytes));
                prop_assert_eq!(fast, general);
            }
        }
    }

    /// Every diff, aggTrade and book ticker frame of the recordings is taken by the engine's template entry, with
    /// the general decoder's result.
    #[test]
    fn every_recorded_hot_frame_takes_the_template_entry() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/recordings");
        let (mut n, mut declined) = (0, 0);
        for entry in std::fs::read_dir(dir).expect("recordings") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("recording");
            for line in text.lines() {
                let record: serde_json::Value = serde_json::from_str(line).expect("line");
                let (Some("ws"), Some(raw)) = (record["kind"].as_str(), record["raw"].as_str()) else {
                    continue;
                };
                let hot = ["depthUpdate", "@aggTrade\"", "@bookTicker\""]
                    .iter()
                    .any(|k| raw.contains(k));
                let mut general = Vec::new();
                let ok = decode_frame_general(raw.as_bytes(), &mut general).is_ok();
                if let Some(fast) = frame_parts_events(raw.as_bytes()) {
                    assert!(ok && fast == general, "{raw}");
                    n += 1;
                } else {
                    assert!(!hot, "declined: {raw}");
                    declined += 1;
                }
            }
        }
        assert!(n > 5000 && declined > 0, "{n} taken, {declined} declined");
    }

    #[test]
    fn every_recorded_book_ticker_takes_the_fast_path() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/recordings");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).expect("recordings") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("recording");
            for line in text.lines().filter(|l| l.contains("@bookTicker")) {
                let record: serde_json::Value = serde_json::from_str(line).expect("line");
                let raw = match record["raw"].as_str() {
                    Some(raw) if raw.starts_with(r#"{"stream":""#) && raw.contains("@bookTicker\"") => raw.as_bytes(),
                    _ => continue, // another stream, a snapshot or the opening of a connection
                };
                let mut out = Vec::new();
                decode_frame_general(raw, &mut out).expect("valid frame");
                let fast = fast_event(raw);
                assert!(fast.is_some(), "{}", String::from_utf8_lossy(raw));
                assert_eq!(fast, out.pop());
                n += 1;
            }
        }
        assert!(n > 1000, "{n}");
    }

    #[test]
    fn every_recorded_diff_takes_the_fast_path() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/recordings");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).expect("recordings") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("recording");
            for line in text.lines().filter(|l| l.contains("depthUpdate")) {
                let record: serde_json::Value = serde_json::from_str(line).expect("line");
                // The payload exactly as received (re-serializing would reorder its keys).
                let raw = record["raw"].as_str().expect("raw");
                let start = raw.find("\"data\":").expect("combined frame") + 7;
                let data = raw.as_bytes()[start..raw.len() - 1].to_vec();
                let fast = depth_update(&data);
                assert!(fast.is_some(), "{}", String::from_utf8_lossy(&data));
                assert_eq!(fast, decode_depth_update_general(&data).ok());
                n += 1;
            }
        }
        assert!(n > 2900);
    }

    #[test]
    fn every_recorded_agg_trade_takes_the_fast_path() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/recordings");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).expect("recordings") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("recording");
            for line in text.lines().filter(|l| l.contains("@aggTrade\\\"")) {
                let record: serde_json::Value = serde_json::from_str(line).expect("line");
                let Some(raw) = record["raw"].as_str() else { continue };
                let start = raw.find("\"data\":").expect("combined frame") + 7;
                let data = raw.as_bytes()[start..raw.len() - 1].to_vec();
                let fast = agg_trade(&data);
                assert!(fast.is_some(), "{}", String::from_utf8_lossy(&data));
                assert_eq!(fast, decode_agg_trade_general(&data).ok());
                n += 1;
            }
        }
        assert!(n >= 140, "{n}");
    }
}
