//! Checkpoints drafted in steps: whatever the step sizes, the steps write the bytes of a draft taken in one go, which
//! restores into an engine that answers as the original.

use proptest::prelude::*;

use super::tests::{engine, feed, same_answers, steps, T0};

proptest! {
    #![proptest_config(ProptestConfig { cases: 60, ..ProptestConfig::default() })]

    #[test]
    fn steps_of_any_size_write_the_whole_draft(input in steps(), sizes in prop::collection::vec(0..4usize, 1..6)) {
        let mut original = engine();
        let (mut time, mut liqs) = (T0, Vec::new());
        feed(&mut [&mut original], &input, &mut time, &mut liqs);
        let mut drafter = original.checkpoint_drafter(vec![1, 2, 3]);
        let symbols = original.flow.symbols().len() + original.liq.symbols().len();
        let mut taken = 0;
        while !drafter.step(&original, sizes[taken % sizes.len()]) {
            taken += 1;
            prop_assert!(!drafter.is_complete());
        }
        // Each step writes at least one symbol (a size of 0 is taken as 1).
        prop_assert!(taken < symbols.max(1));
        prop_assert!(drafter.step(&original, 5), "a complete draft stays complete");
        let data = drafter.finish().seal();
        prop_assert!(data == original.checkpoint(), "the steps wrote other bytes than a draft in one go");
        let mut restored = engine();
        restored.restore(&data).unwrap();
        original.flow.forget_streams();
        same_answers(&original, &restored)?;
    }
}

#[test]
#[should_panic(expected = "the engine changed during a checkpoint draft")]
fn a_step_after_a_new_symbol_panics() {
    let mut e = engine();
    e.track("AAAUSDT");
    e.track("BBBUSDT");
    let mut drafter = e.checkpoint_drafter(Vec::new());
    assert!(!drafter.step(&e, 1));
    e.track("CCCUSDT");
    drafter.step(&e, 1);
}

#[test]
#[should_panic(expected = "finished before its last step")]
fn an_incomplete_draft_cannot_be_finished() {
    let mut e = engine();
    e.track("AAAUSDT");
    e.checkpoint_drafter(Vec::new()).finish();
}
