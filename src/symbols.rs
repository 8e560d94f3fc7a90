//! Symbol names ↔ dense slots, shared by the engine's per-symbol stores (books, flow, liquidations).

use std::ops::Index;

use rustc_hash::FxHashMap;

use crate::decode::Symbol;

/// Symbols in order of first appearance, each with a dense slot (its index) for the owner's per-symbol state.
#[derive(Debug, Clone, Default)]
pub struct SymbolIndex {
    slots: FxHashMap<Symbol, usize>,
    names: Vec<Symbol>,
}

impl SymbolIndex {
    /// The slot of a known symbol.
    #[inline]
    pub fn get(&self, symbol: &str) -> Option<usize> {
        self.slots.get(symbol).copied()
    }

    /// The slot of `symbol` and whether it was just added (the owner then pushes its state for that slot).
    #[inline]
    pub fn slot(&mut self, symbol: &str) -> (usize, bool) {
        if let Some(&i) = self.slots.get(symbol) {
            return (i, false);
        }
        let i = self.names.len();
        let symbol = Symbol::new(symbol);
        self.slots.insert(symbol.clone(), i);
        self.names.push(symbol);
        (i, true)
    }

    /// Symbols in slot order.
    pub fn names(&self) -> &[Symbol] {
        &self.names
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn clear(&mut self) {
        self.slots.clear();
        self.names.clear();
    }
}

impl Index<usize> for SymbolIndex {
    type Output = Symbol;

    fn index(&self, slot: usize) -> &Symbol {
        &self.names[slot]
    }
}

#[cfg(test)]
mod tests {
    use super::SymbolIndex;

    #[test]
    fn slots_are_dense_and_stable_in_order_of_first_appearance() {
        let mut s = SymbolIndex::default();
        assert_eq!(s.slot("BTCUSDT"), (0, true));
        assert_eq!(s.slot("ETHUSDT"), (1, true));
        assert_eq!(s.slot("BTCUSDT"), (0, false));
        assert_eq!((s.get("ETHUSDT"), s.get("XRPUSDT")), (Some(1), None));
        assert_eq!(s.names(), ["BTCUSDT", "ETHUSDT"]);
        assert_eq!((s[1].as_str(), s.len()), ("ETHUSDT", 2));
        s.clear();
        assert!(s.is_empty() && s.get("BTCUSDT").is_none());
    }
}
