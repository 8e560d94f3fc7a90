//! Symbol names ↔ dense slots, shared by the engine's per-symbol stores (books, flow, liquidations).

use std::ops::Index;

use rustc_hash::FxHashMap;

use crate::decode::Symbol;

/// Symbols in order of first appearance, each with a dense slot (its index) for the owner's per-symbol state.
#[derive(Debug, Clone, Default)]
pub struct SymbolIndex {
    /// Keyed by the name's bytes, so that a name borrowed from a frame is looked up without validating it again.
    slots: FxHashMap<Box<[u8]>, usize>,
    names: Vec<Symbol>,
}

impl SymbolIndex {
    /// The slot of a known symbol.
    #[inline]
    pub fn get(&self, symbol: &str) -> Option<usize> {
        self.slots.get(symbol.as_bytes()).copied()
    }

    /// The slot of `symbol` and whether it was just added (the owner then pushes its state for that slot).
    #[inline]
    pub fn slot(&mut self, symbol: &str) -> (usize, bool) {
        self.slot_with(symbol.as_bytes(), || Symbol::new(symbol))
    }

    /// As [`SymbolIndex::slot`] for a name given as ASCII bytes (a non-ASCII byte would read as U+FFFD).
    #[inline]
    pub fn slot_ascii(&mut self, symbol: &[u8]) -> (usize, bool) {
        self.slot_with(symbol, || Symbol::from_utf8_lossy(symbol))
    }

    #[inline]
    fn slot_with(&mut self, key: &[u8], name: impl FnOnce() -> Symbol) -> (usize, bool) {
        if let Some(&i) = self.slots.get(key) {
            return (i, false);
        }
        let i = self.names.len();
        self.slots.insert(key.into(), i);
        self.names.push(name());
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
mod tests;
