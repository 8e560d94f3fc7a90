//! Checkpoints of format 1, the one before this: a committed file written by its writer restores into the state it
//! was written from, and is written again in the current format.

use super::tests::{engine, feed, same_answers, Step, T0};
use super::FORMAT_VERSION;
use crate::flow::Window;

/// A fixed input of every kind of step (a small linear congruential generator picks them): the state of
/// `checkpoint_v1.bin`, written by the format 1 writer.
fn fixture_steps() -> Vec<Step> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: u64| {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) % n
    };
    let mut steps = Vec::new();
    for i in 0..400u64 {
        let sym = next(3) as usize;
        let step = match next(12) {
            0..=6 => Step::Trade {
                sym,
                id: 1 + i + next(3),
                dt: next(4_000) as i64,
                qty: 1 + next(60) as u32,
                buy: next(2) == 0,
            },
            7 => Step::Page {
                sym,
                ids: (0..next(5)).map(|_| 1 + next(400)).collect(),
            },
            8 => Step::Abandon {
                sym,
                from: 1 + next(400),
                len: next(4),
            },
            9 | 10 => Step::Liq {
                sym,
                sell: next(2) == 0,
                dt: next(2_000) as i64,
                price: 90 + next(20) as u32,
                qty: 1 + next(9) as u32,
            },
            _ => Step::Mark {
                sym,
                price: 90 + next(20) as u32,
            },
        };
        steps.push(step);
    }
    steps
}

/// A checkpoint of format 1 (written by the format 1 writer from the state of `fixture_steps`) restores into the same
/// state as those steps fed now, and is written again in the current format.
#[test]
fn a_format_1_checkpoint_restores_the_state_it_was_written_from() {
    let v1 = include_bytes!("checkpoint_v1.bin");
    assert_eq!(u16::from_le_bytes([v1[8], v1[9]]), 1);
    let mut fed = engine();
    let (mut time, mut liqs) = (T0, Vec::new());
    feed(&mut [&mut fed], &fixture_steps(), &mut time, &mut liqs);
    let mut restored = engine();
    assert_eq!(restored.restore(v1).unwrap().len(), 3);
    fed.flow.forget_streams();
    same_answers(&fed, &restored).unwrap();
    let again = restored.checkpoint();
    assert_eq!(u16::from_le_bytes([again[8], again[9]]), FORMAT_VERSION);
    assert!(again == fed.checkpoint());
    // Big-trade counters and both sides are in it, so the test reads every part of format 1.
    let w = fed.flow.volumes(Window::Sliding(2), None).unwrap();
    assert!(
        w.iter().any(|v| v.totals.big[0][0] > 0 && v.totals.big[0][1] > 0),
        "{w:?}"
    );
}
