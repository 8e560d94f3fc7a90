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

use super::depth::DepthUpdate;
use super::json::{Levels, POW10};
use super::trade::AggTrade;
use super::Symbol;

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    /// Matches a short literal byte by byte (a slice comparison would call `memcmp` for a few bytes).
    #[inline]
    fn lit(&mut self, word: &[u8]) -> Option<()> {
        let rest = self.s.get(self.i..self.i + word.len())?;
        for (a, b) in rest.iter().zip(word) {
            if a != b {
                return None;
            }
        }
        self.i += word.len();
        Some(())
    }

    #[inline]
    fn opt(&mut self, word: &[u8]) -> bool {
        self.lit(word).is_some()
    }

    /// A non-negative JSON integer of at most 18 digits (no leading zero).
    #[inline]
    fn uint(&mut self) -> Option<u64> {
        let s = &self.s[self.i..];
        let (mut v, mut n) = (0u64, 0usize);
        while let Some(&b) = s.get(n) {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            n += 1;
            if n > 18 {
                return None;
            }
            v = v * 10 + u64::from(d);
        }
        if n == 0 || (n > 1 && s[0] == b'0') || matches!(s.get(n), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.i += n;
        Some(v)
    }

    /// The body of a plain ASCII string (no escape, no control character) up to its closing quote.
    #[inline]
    fn plain_str(&mut self) -> Option<&'a [u8]> {
        let s = &self.s[self.i..];
        let end = s
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || !(0x20..0x80).contains(&b))?;
        (s[end] == b'"').then(|| {
            self.i += end + 1;
            &s[..end]
        })
    }

    /// A decimal string body and its closing quote: up to 10 integer digits and 8 decimals.
    #[inline]
    fn decimal(&mut self) -> Option<i64> {
        let s = &self.s[self.i..];
        let mut v: u64 = 0;
        let mut i = 0;
        while i < s.len() && i <= 10 && s[i].is_ascii_digit() {
            v = v * 10 + u64::from(s[i] - b'0');
            i += 1;
        }
        let int_digits = i;
        if int_digits > 10 {
            return None;
        }
        let mut frac = 0;
        if s.get(i) == Some(&b'.') {
            i += 1;
            while frac < 8 && i < s.len() && s[i].is_ascii_digit() {
                v = v * 10 + u64::from(s[i] - b'0');
                i += 1;
                frac += 1;
            }
        }
        if int_digits + frac == 0 || s.get(i) != Some(&b'"') {
            return None;
        }
        self.i += i + 1;
        Some((v * POW10[frac]) as i64)
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
        self.s[self.i..]
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    }

    /// `[["p","q"],...]`
    #[inline]
    fn levels(&mut self, out: &mut Levels) -> Option<()> {
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
            out.push((price, qty));
            if self.opt(b"]") {
                return Some(());
            }
            self.lit(b",")?;
        }
    }
}

/// Decodes a diff laid out exactly as Binance sends it, or returns `None`.
pub(super) fn depth_update(obj: &[u8]) -> Option<DepthUpdate> {
    let mut c = Cursor { s: obj, i: 0 };
    c.lit(b"{\"e\":\"depthUpdate\",\"E\":")?;
    let event_time = i64::try_from(c.uint()?).ok()?;
    let transact_time = if c.opt(b",\"T\":") {
        Some(i64::try_from(c.uint()?).ok()?)
    } else {
        None
    };
    c.lit(b",\"s\":\"")?;
    let symbol = Symbol::from_utf8(c.plain_str()?).ok()?;
    if c.opt(b",\"ps\":\"") {
        c.plain_str()?;
    }
    c.lit(b",\"U\":")?;
    let first_id = c.uint()?;
    c.lit(b",\"u\":")?;
    let final_id = c.uint()?;
    let prev_final_id = if c.opt(b",\"pu\":") { Some(c.uint()?) } else { None };
    let mut d = DepthUpdate {
        symbol,
        event_time,
        transact_time,
        first_id,
        final_id,
        prev_final_id,
        bids: Levels::new(),
        asks: Levels::new(),
    };
    c.lit(b",\"b\":")?;
    c.levels(&mut d.bids)?;
    c.lit(b",\"a\":")?;
    c.levels(&mut d.asks)?;
    c.lit(b"}")?;
    // Only white space may follow; the general decoder judges everything else.
    if !c.s[c.i..].iter().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')) || first_id > final_id {
        return None;
    }
    Some(d)
}

/// A combined-stream frame `{"stream":"<name>","data":{"e":"aggTrade",...}}` in Binance's layout, or `None`. The
/// general path decodes such a frame to the same event: it also takes the payload up to the frame's last `}`.
pub(super) fn combined_agg_trade(frame: &[u8]) -> Option<AggTrade> {
    let mut c = Cursor { s: frame, i: 0 };
    c.lit(b"{\"stream\":\"")?;
    c.plain_str()?;
    c.lit(b",\"data\":")?;
    let start = c.i;
    // Other payloads (depth diffs, the longest frames) leave before the scan for the closing brace.
    if !frame[start..].starts_with(b"{\"e\":\"aggTrade\",") {
        return None;
    }
    let end = frame.iter().rposition(|&b| b == b'}')?;
    if end <= start || !(Cursor { s: frame, i: end + 1 }).at_end() {
        return None;
    }
    agg_trade(&frame[start..end])
}

/// Decodes an `aggTrade` laid out exactly as Binance sends it, or returns `None`.
pub(super) fn agg_trade(obj: &[u8]) -> Option<AggTrade> {
    let mut c = Cursor { s: obj, i: 0 };
    c.lit(b"{\"e\":\"aggTrade\",\"E\":")?;
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
        symbol: Symbol::from_utf8(symbol).ok()?,
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
    use super::super::trade::decode_agg_trade_general;
    use super::{agg_trade, depth_update};

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
            let fast = super::combined_agg_trade(&bytes);
            let mut general = Vec::new();
            let ok = super::super::decode_frame_general(&bytes, &mut general).is_ok();
            if let Some(fast) = fast {
                prop_assert!(ok);
                prop_assert_eq!(general, vec![super::super::Event::AggTrade(fast)]);
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
