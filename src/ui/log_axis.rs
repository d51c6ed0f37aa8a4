//! A logarithmic milliseconds axis for the panels' charts. Latencies and batch times
//! span decades (0.3 ms record-at-a-time next to 250 ms micro-batch, 1 ms bars under a
//! 500 ms interval): on a linear axis the small ones sit on zero. Values are plotted as
//! `log10(ms)`; the grid has a line at every decade with 2 and 5 between, labelled in
//! ms or s.

use egui_plot::{GridInput, GridMark, HoverPosition, Plot};

/// The smallest time a chart shows; shorter times (and zero) sit on this floor.
pub const FLOOR_MS: f64 = 0.01;

/// Where `ms` goes on the axis.
pub fn to_axis(ms: f64) -> f64 {
    ms.max(FLOOR_MS).log10()
}

/// The milliseconds at axis value `v`.
pub fn from_axis(v: f64) -> f64 {
    10f64.powf(v)
}

/// `0.05 ms`, `2 ms`, `500 ms`, `1.5 s`.
pub fn ms_label(ms: f64) -> String {
    if ms >= 1000.0 {
        let s = ms / 1000.0;
        if s.fract().abs() < 1e-6 {
            format!("{s:.0} s")
        } else {
            format!("{s:.1} s")
        }
    } else if ms >= 1.0 {
        format!("{ms:.0} ms")
    } else if ms > 0.0 && ms.is_finite() {
        // One significant digit below a millisecond: 0.2, 0.05, 0.01 (at most six
        // decimals: below a nanosecond nothing is measured).
        let digits = (-ms.log10().floor()).clamp(1.0, 6.0) as usize;
        format!("{ms:.digits$} ms")
    } else {
        // Zero (a lab run's batches take no time unless a fault spends some), or not
        // a number at all.
        "0 ms".to_string()
    }
}

/// The axis range `(low, high)` that shows every value of `ms` and each of `always`
/// (the interval line): a little room around them, at least one decade tall.
pub fn range(ms: impl IntoIterator<Item = f64>, always: &[f64]) -> (f64, f64) {
    let (lo, hi) = ms
        .into_iter()
        .chain(always.iter().copied())
        .filter(|v| v.is_finite())
        .map(to_axis)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 3.0);
    }
    let (lo, hi) = (lo - 0.15, hi + 0.15);
    if hi - lo < 1.0 {
        let mid = (lo + hi) / 2.0;
        (mid - 0.5, mid + 0.5)
    } else {
        (lo, hi)
    }
}

/// Grid lines at 1, 2 and 5 of every decade in view (the decade's line the thickest).
fn decades(input: GridInput) -> Vec<GridMark> {
    let (lo, hi) = input.bounds;
    let mut marks = Vec::new();
    if !(lo.is_finite() && hi.is_finite()) || hi - lo > 30.0 {
        return marks;
    }
    let mut decade = lo.floor();
    while decade <= hi {
        for (m, step) in [(1.0_f64, 1.0), (2.0, 0.3), (5.0, 0.3)] {
            let value = decade + m.log10();
            if (lo..=hi).contains(&value) {
                marks.push(GridMark {
                    value,
                    step_size: step,
                });
            }
        }
        decade += 1.0;
    }
    marks
}

/// `plot` with a log milliseconds y axis showing `(low, high)` (from [`range`]).
pub fn log_ms_plot<'a>(plot: Plot<'a>, (low, high): (f64, f64)) -> Plot<'a> {
    plot.include_y(low)
        .include_y(high)
        .y_grid_spacer(decades)
        .y_axis_formatter(|mark, _| ms_label(from_axis(mark.value)))
        .label_formatter(|hover| {
            let (name, p) = match hover {
                HoverPosition::NearDataPoint {
                    plot_name,
                    position,
                    ..
                } => (*plot_name, position),
                HoverPosition::Elsewhere { position } => ("", position),
            };
            let at = format!("{:.1} s: {}", p.x, ms_label(from_axis(p.y)));
            Some(if name.is_empty() {
                at
            } else {
                format!("{name}\n{at}")
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_of_zero_and_tiny_times_do_not_panic() {
        assert_eq!(ms_label(0.0), "0 ms");
        assert_eq!(ms_label(f64::NAN), "0 ms");
        assert_eq!(ms_label(1e-12), "0.000000 ms");
        assert_eq!(ms_label(0.05), "0.05 ms");
    }

    #[test]
    fn decades_are_evenly_spaced_and_zero_sits_on_the_floor() {
        assert_eq!(to_axis(1.0), 0.0);
        assert!((to_axis(100.0) - 2.0).abs() < 1e-12);
        assert_eq!(to_axis(0.0), to_axis(FLOOR_MS));
        assert!((from_axis(to_axis(250.0)) - 250.0).abs() < 1e-9);
    }

    #[test]
    fn labels_read_as_times() {
        assert_eq!(ms_label(0.05), "0.05 ms");
        assert_eq!(ms_label(0.2), "0.2 ms");
        assert_eq!(ms_label(2.0), "2 ms");
        assert_eq!(ms_label(500.0), "500 ms");
        assert_eq!(ms_label(1000.0), "1 s");
        assert_eq!(ms_label(1500.0), "1.5 s");
    }

    #[test]
    fn a_one_ms_bar_and_a_500_ms_interval_are_both_in_range_and_apart() {
        let (lo, hi) = range([1.0, 1.2, 0.8], &[500.0]);
        assert!(lo < to_axis(0.8) && to_axis(500.0) < hi);
        // On a linear axis 0 to 575 ms a 1 ms bar is 0.2 % of the height; here it is
        // tens of times taller.
        assert!((to_axis(1.0) - lo) / (hi - lo) > 0.05);
        let (lo, hi) = range([], &[]);
        assert!(hi > lo);
    }
}
