//! Property: `reduceByKeyAndWindow` with an inverse function gives exactly the windows
//! that recomputing from scratch gives, for any batch sequence and window shape.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use proptest::prelude::*;
use tributary::dstream::{Batch, BatchClock, KeyedWindow, WindowShape};

proptest! {
    #[test]
    fn inverse_window_equals_recomputed_window(
        batches in prop::collection::vec(prop::collection::vec((0u8..6, 0i64..100), 0..12), 1..40),
        length in 1u64..6,
        slide in 1u64..6,
    ) {
        prop_assume!(slide <= length);
        let clock = BatchClock::new(500).unwrap_or_else(|| unreachable!());
        let shape = WindowShape::new(clock, length * 500, slide * 500).unwrap_or_else(|_| unreachable!());
        let mut plain = KeyedWindow::new(shape, |a: &i64, b: &i64| a + b);
        let mut incremental = KeyedWindow::new(shape, |a: &i64, b: &i64| a + b).with_inverse(|a, b| a - b, 0);
        for (i, items) in batches.into_iter().enumerate() {
            let batch = Batch::new((i as u64 + 1) * 500, items);
            let expected = plain.push(&batch).map(|mut b| {
                b.items.retain(|(_, v)| *v != 0); // Spark drops keys back at zero via the filter
                b
            });
            let got = incremental.push(&batch).map(|mut b| {
                b.items.retain(|(_, v)| *v != 0);
                b
            });
            prop_assert_eq!(got, expected);
        }
    }
}
