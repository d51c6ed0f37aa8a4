//! What each built-in can do under exactly-once: the one answer validation, the
//! runtime and the docs share.

/// Spouts that can be transactional: they regenerate message `k` from `k` alone, so a
/// batch is a range of message numbers and replays with the same tuples.
pub fn spout_can_replay(component: &str) -> bool {
    matches!(
        component,
        "sentence_generator" | "word_generator" | "sequence" | "file_lines"
    )
}

/// Committers: components whose effects must happen once per record (`count_by_key`'s
/// counts, `file_sink`'s lines, what `collector` keeps, `logger`'s lines in the run
/// log). Under exactly-once they keep a batch's inputs apart and apply them when the
/// batch commits.
pub fn is_committer(component: &str) -> bool {
    matches!(
        component,
        "count_by_key" | "file_sink" | "collector" | "logger"
    )
}

/// Bolts that keep no state and write nothing that counts: running them twice for a
/// replayed batch changes nothing a committer keeps.
pub fn bolt_is_stateless(component: &str) -> bool {
    matches!(component, "split" | "map" | "filter" | "null" | "stand_in")
}
