//! Exact sums of taker buy/sell flow: base quantity (e8), notional price × quantity (e16), counts and big-trade
//! counters. [`Sums`] is the compact form kept per second bucket and per aligned interval (32-bit counts);
//! [`Totals`] the form of a whole window (64-bit counts).

/// Most big-trade thresholds an engine keeps.
pub const MAX_BIG: usize = 4;

/// One counted trade's contribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    /// Quantity, e8 units (contracts on COIN-M).
    pub base: i64,
    /// Price × quantity, e16 units.
    pub notional: i128,
    /// Taker buy (`m == false`).
    pub buy: bool,
    /// How many of the (ascending) big-trade thresholds the trade's quote value reaches.
    pub big: usize,
    /// Aggregate trade id.
    pub id: u64,
}

macro_rules! sums_type {
    ($name:ident, $count:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name {
            /// Taker-buy base quantity, e8 units.
            pub buy_base: i128,
            /// Taker-sell base quantity, e8 units.
            pub sell_base: i128,
            /// Taker-buy Σ price × quantity, e16 units.
            pub buy_notional: i128,
            /// Taker-sell Σ price × quantity, e16 units.
            pub sell_notional: i128,
            pub buy_count: $count,
            pub sell_count: $count,
            /// `big[j] = [buy, sell]` counts of trades at or above threshold `j`.
            pub big: [[$count; 2]; MAX_BIG],
        }

        impl $name {
            #[inline]
            pub fn add_fill(&mut self, f: &Fill) {
                let side = usize::from(!f.buy);
                if f.buy {
                    self.buy_base += i128::from(f.base);
                    self.buy_notional += f.notional;
                    self.buy_count += 1;
                } else {
                    self.sell_base += i128::from(f.base);
                    self.sell_notional += f.notional;
                    self.sell_count += 1;
                }
                for b in &mut self.big[..f.big] {
                    b[side] += 1;
                }
            }

            pub fn is_empty(&self) -> bool {
                self.buy_count == 0 && self.sell_count == 0
            }
        }
    };
}

sums_type!(Sums, u32, "Sums of one second bucket or one aligned interval.");
sums_type!(Totals, u64, "Sums of a whole window.");

impl Totals {
    #[inline]
    pub fn add(&mut self, s: &Sums) {
        self.buy_base += s.buy_base;
        self.sell_base += s.sell_base;
        self.buy_notional += s.buy_notional;
        self.sell_notional += s.sell_notional;
        self.buy_count += u64::from(s.buy_count);
        self.sell_count += u64::from(s.sell_count);
        for (t, b) in self.big.iter_mut().zip(&s.big) {
            t[0] += u64::from(b[0]);
            t[1] += u64::from(b[1]);
        }
    }

    /// Removes a bucket that was added before (exact: integer sums never drift).
    #[inline]
    pub fn sub(&mut self, s: &Sums) {
        self.buy_base -= s.buy_base;
        self.sell_base -= s.sell_base;
        self.buy_notional -= s.buy_notional;
        self.sell_notional -= s.sell_notional;
        self.buy_count -= u64::from(s.buy_count);
        self.sell_count -= u64::from(s.sell_count);
        for (t, b) in self.big.iter_mut().zip(&s.big) {
            t[0] -= u64::from(b[0]);
            t[1] -= u64::from(b[1]);
        }
    }

    pub fn of(s: &Sums) -> Self {
        let mut t = Self::default();
        t.add(s);
        t
    }
}
