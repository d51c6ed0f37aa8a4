//! Flume numbers while a run is on: the canvas overlay's [`FlumeStats`] made from the
//! engine's [`FlumeNodeMetrics`], and the inspector's Flume section for a selected
//! source, channel or sink.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use egui::{Grid, RichText, Ui};

use super::canvas::flume_overlay::{ChannelStats, FlumeStats, SinkStats};
use super::canvas::overlay::count_text;
use super::canvas::overlay::rate_text;
use crate::runtime::FlumeNodeMetrics;

/// Milliseconds since the Unix epoch: the clock sink penalties are stamped with.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The overlay's view of a node's Flume metrics; `now_ms` turns a penalty's end into
/// the time left.
pub fn flume_stats(f: &FlumeNodeMetrics, now_ms: u64) -> FlumeStats {
    FlumeStats {
        events_in: f.events_in,
        events_out: f.events_out,
        blocked: f.blocked,
        finished: f.finished,
        channel: f.channel.as_ref().map(|c| ChannelStats {
            size: c.size,
            in_flight: c.in_flight,
            capacity: c.capacity,
            commit_rate: c.commit_rate,
            rollbacks: c.rollbacks,
            rollback_rate: c.rollback_rate,
            full_failures: c.full_failures,
        }),
        sink: f.sink.as_ref().map(|s| SinkStats {
            active: s.active,
            penalized: s.penalized,
            penalty_left: s
                .penalty_until_ms
                .map(|until| Duration::from_millis(until.saturating_sub(now_ms))),
            in_backoff: s.in_backoff,
            failures: s.failures,
        }),
        last_error: f.last_error.clone(),
    }
}

/// The inspector's Flume section: the agent, events, and what the node's kind adds
/// (channel fill and transactions, source back-pressure, sink back-off and fail-over).
pub fn flume_numbers_ui(ui: &mut Ui, f: &FlumeNodeMetrics) {
    ui.label(RichText::new(format!("Flume · agent {}", f.agent)).strong());
    Grid::new("live-flume")
        .num_columns(4)
        .striped(true)
        .show(ui, |ui| {
            ui.label("events in");
            ui.label(count_text(f.events_in));
            ui.label("events out");
            ui.label(count_text(f.events_out));
            ui.end_row();
            if let Some(c) = &f.channel {
                ui.label("fill")
                    .on_hover_text("Queued + taken but not yet committed, of the capacity");
                ui.label(format!("{}/{}", c.size + c.in_flight, c.capacity));
                ui.label("in flight");
                ui.label(c.in_flight.to_string());
                ui.end_row();
                ui.label("commits");
                ui.label(count_text(c.commits));
                ui.label("commit rate");
                ui.label(rate_text(c.commit_rate));
                ui.end_row();
                ui.label("rollbacks");
                ui.label(count_text(c.rollbacks));
                ui.label("rollback rate");
                ui.label(rate_text(c.rollback_rate));
                ui.end_row();
                ui.label("refused puts")
                    .on_hover_text("Put transactions that gave up waiting for room");
                ui.label(count_text(c.full_failures));
                ui.end_row();
            }
            if let Some(s) = &f.sink {
                ui.label("active").on_hover_text(
                    "Failover: the sink in use. Other processors: usable right now.",
                );
                ui.label(yes_no(s.active));
                ui.label("back-off");
                ui.label(yes_no(s.in_backoff));
                ui.end_row();
                ui.label("penalized")
                    .on_hover_text("Failed over (failover) or blacklisted (load balance)");
                ui.label(yes_no(s.penalized));
                ui.label("penalty left");
                let left = s
                    .penalty_until_ms
                    .map(|until| until.saturating_sub(now_ms()))
                    .map_or("–".to_string(), |ms| {
                        format!("{:.1} s", ms as f64 / 1000.0)
                    });
                ui.label(left);
                ui.end_row();
                ui.label("failures");
                ui.label(count_text(s.failures));
                ui.label("in a row");
                ui.label(s.sequential_failures.to_string());
                ui.end_row();
                ui.label("back-offs");
                ui.label(count_text(s.backoffs));
                ui.end_row();
            }
        });
    if f.blocked {
        ui.label(
            RichText::new("Blocked: puts wait for room in a full channel (back-pressure).")
                .color(ui.visuals().warn_fg_color),
        );
    }
    if f.finished {
        ui.label(RichText::new("Finished: the source reached its limit.").weak());
    }
    if let Some(listening) = &f.listening {
        ui.label(format!("listening on {listening}"));
    }
    if let Some(e) = &f.last_error {
        ui.label(RichText::new(format!("last error: {e}")).color(ui.visuals().error_fg_color));
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{FlumeChannelMetrics, FlumeSinkMetrics};

    #[test]
    fn penalties_become_time_left_and_channel_numbers_carry_over() {
        let f = FlumeNodeMetrics {
            blocked: true,
            channel: Some(FlumeChannelMetrics {
                size: 7,
                in_flight: 3,
                capacity: 10,
                commit_rate: 4.0,
                ..FlumeChannelMetrics::default()
            }),
            sink: Some(FlumeSinkMetrics {
                penalized: true,
                penalty_until_ms: Some(12_500),
                ..FlumeSinkMetrics::default()
            }),
            ..FlumeNodeMetrics::default()
        };
        let s = flume_stats(&f, 10_000);
        assert!(s.blocked);
        let c = s.channel.unwrap();
        assert_eq!((c.fill_text(), c.is_full()), ("10/10".to_string(), true));
        assert_eq!(
            s.sink.unwrap().penalty_left,
            Some(Duration::from_millis(2_500))
        );
        // A penalty already over reads as none left, never as a huge wrap-around.
        let late = flume_stats(&f, 20_000);
        assert_eq!(late.sink.unwrap().penalty_left, Some(Duration::ZERO));
    }
}
