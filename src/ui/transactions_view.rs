//! What an exactly-once run has committed, in the live inspector: the last txid, the
//! replays, and — for a count — its transactional state, each key with the txid that
//! last changed it, as Trident keeps it.

use egui::{Grid, RichText, Ui};

use crate::runtime::metrics::TransactionMetrics;

/// Keys listed for a count: the most recently changed first.
const KEYS_SHOWN: usize = 12;

/// One line for the whole run.
pub fn transactions_line_ui(ui: &mut Ui, t: &TransactionMetrics) {
    ui.label(format!(
        "Exactly-once: batch {} committed · {} attempts replayed{}",
        t.committed_txid,
        t.attempts_replayed,
        if t.given_up > 0 {
            format!(" · {} batches given up (see the run log)", t.given_up)
        } else {
            String::new()
        }
    ))
    .on_hover_text(
        "Batches commit one at a time, in txid order; a failed batch is emitted again \
         under a new attempt with the same txid",
    );
}

/// A count node's committed state: key, count, and the txid that last changed it.
pub fn count_state_ui(ui: &mut Ui, node: &str, t: &TransactionMetrics) {
    let Some(state) = t.state.get(node) else {
        return;
    };
    ui.label(RichText::new("Committed state").strong())
        .on_hover_text(
            "Trident's transactional state: each key keeps the txid of the batch that last \
         changed it, and a batch whose txid a key already has is not applied again",
        );
    let mut keys: Vec<(&String, &(i64, u64))> = state.iter().collect();
    keys.sort_by(|a, b| b.1.1.cmp(&a.1.1).then_with(|| a.0.cmp(b.0)));
    Grid::new(("count-state", node))
        .striped(true)
        .show(ui, |ui| {
            ui.label(RichText::new("key").weak());
            ui.label(RichText::new("count").weak());
            ui.label(RichText::new("txid").weak());
            ui.end_row();
            for (key, (count, txid)) in keys.iter().take(KEYS_SHOWN) {
                ui.label(key.as_str());
                ui.label(count.to_string());
                let txid = txid.to_string();
                if keys.first().is_some_and(|f| f.1.1.to_string() == txid) {
                    ui.label(RichText::new(txid).strong());
                } else {
                    ui.label(txid);
                }
                ui.end_row();
            }
        });
    if state.len() > KEYS_SHOWN {
        ui.label(RichText::new(format!("and {} more keys", state.len() - KEYS_SHOWN)).weak());
    }
}
