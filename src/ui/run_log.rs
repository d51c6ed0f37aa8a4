//! The designer's run log: what happened to the run (start and stop, restarts, killed
//! workers, faults switched on, errors, fail-overs) kept apart from what logger
//! components print, so a learner can find the crash among a hundred thousand words.
//!
//! [`LogBook`] holds the lines and the panel's view of them (filter, search, whether
//! it follows the newest line); [`log_ui`] draws it. The book is bounded: when it is
//! full, logger output goes first, so a busy logger never pushes a restart out before
//! anyone could read it.

use std::collections::VecDeque;
use std::time::Duration;

use egui::{RichText, Ui};

use super::canvas::style;
use crate::runtime::{LogKind, LogLine};

/// Lines kept in the designer; only the rows in view are laid out, so many are cheap.
pub const LOG_LINES: usize = 10_000;

/// Which lines the panel shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFilter {
    /// Everything, in the order it happened.
    #[default]
    All,
    /// What happened to the run: events, settings and errors.
    Events,
    /// What logger components printed.
    Output,
}

impl LogFilter {
    fn keeps(self, kind: LogKind) -> bool {
        match self {
            LogFilter::All => true,
            LogFilter::Events => kind != LogKind::Tuple,
            LogFilter::Output => kind == LogKind::Tuple,
        }
    }
}

/// One line as the panel shows it.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    kind: LogKind,
    /// Time since the run started; `None` for the designer's own lines.
    at: Option<Duration>,
    /// The node a run line came from; empty for the designer's own lines.
    node: String,
    text: String,
}

/// A move the user asked for with the page buttons, done on the next frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Jump {
    Start,
    PageUp,
    PageDown,
}

/// How the panel looks at the book; kept with it so it survives tab switches.
#[derive(Debug, Clone)]
struct LogView {
    filter: LogFilter,
    search: String,
    /// Stick to the newest line; off once the user scrolls up, on again at the end.
    follow: bool,
    jump: Option<Jump>,
    /// Scroll offset of the last frame, for paging.
    offset: f32,
    /// Indices of the lines that pass the filter and search, and what they were
    /// computed for (the book's generation, filter, search).
    shown: Vec<usize>,
    shown_for: Option<(u64, LogFilter, String)>,
}

impl Default for LogView {
    fn default() -> Self {
        Self {
            filter: LogFilter::All,
            search: String::new(),
            follow: true,
            jump: None,
            offset: 0.0,
            shown: Vec::new(),
            shown_for: None,
        }
    }
}

/// The run log of the designer: lines and the panel's view of them.
#[derive(Debug, Clone, Default)]
pub struct LogBook {
    lines: VecDeque<Entry>,
    /// Bumped on every change, so the filtered view is recomputed only when needed.
    generation: u64,
    /// How many lines are not logger output, kept as lines come and go so the filter
    /// buttons' counts do not walk the book every frame.
    events: usize,
    view: LogView,
}

impl LogBook {
    /// A line of the designer's own (run started, stopped, finished): an event.
    pub fn push(&mut self, text: impl Into<String>) {
        self.add(Entry {
            kind: LogKind::Event,
            at: None,
            node: String::new(),
            text: text.into(),
        });
    }

    /// A line from the engine. (A fault slider sends its change once, when the drag
    /// ends, so a setting arrives here once per change.)
    pub fn push_run_line(&mut self, line: LogLine) {
        let prefix = match line.kind {
            LogKind::Tuple | LogKind::Setting => "",
            LogKind::Event => "event: ",
            LogKind::Error => "error: ",
        };
        let text = format!(
            "{:>8.3}s {}[{}] {prefix}{}",
            line.at.as_secs_f64(),
            line.node,
            line.task,
            line.text
        );
        self.add(Entry {
            kind: line.kind,
            at: Some(line.at),
            node: line.node,
            text,
        });
    }

    fn add(&mut self, entry: Entry) {
        if LogFilter::Events.keeps(entry.kind) {
            self.events += 1;
        }
        self.lines.push_back(entry);
        // Trimming walks the whole book, so it waits for a slack of an eighth: a busy
        // logger then costs a walk per 1 250 lines, not one per line.
        if self.lines.len() > LOG_LINES + LOG_LINES / 8 {
            self.trim(LOG_LINES);
        }
        self.generation += 1;
    }

    /// Cuts the book to `keep` lines, dropping the oldest logger output first; events go
    /// too, oldest first, only if there are more of them than `keep`.
    fn trim(&mut self, keep: usize) {
        let Some(mut excess) = self.lines.len().checked_sub(keep).filter(|&e| e > 0) else {
            return;
        };
        self.lines.retain(|e| {
            if excess > 0 && e.kind == LogKind::Tuple {
                excess -= 1;
                false
            } else {
                true
            }
        });
        if self.lines.len() > keep {
            let more = self.lines.len() - keep;
            self.lines.drain(..more);
        }
        self.events = self
            .lines
            .iter()
            .filter(|e| LogFilter::Events.keeps(e.kind))
            .count();
    }

    /// Empties the book (a new run, a new document); the filter and search stay.
    pub fn clear(&mut self) {
        self.lines.clear();
        self.events = 0;
        self.view.follow = true;
        self.generation += 1;
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Every line as shown, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &String> {
        self.lines.iter().map(|e| &e.text)
    }

    /// The newest line.
    pub fn last(&self) -> Option<&String> {
        self.lines.back().map(|e| &e.text)
    }

    /// The lines that tell what happened to the run (not logger output), oldest first.
    pub fn events(&self) -> impl Iterator<Item = &String> {
        self.lines
            .iter()
            .filter(|e| e.kind != LogKind::Tuple)
            .map(|e| &e.text)
    }

    /// Shows only some lines (what the filter buttons do).
    pub fn set_filter(&mut self, filter: LogFilter) {
        self.view.filter = filter;
    }

    /// Shows only lines containing `text`, ignoring case (what the search box does).
    pub fn set_search(&mut self, text: impl Into<String>) {
        self.view.search = text.into();
    }

    /// Whether the panel sticks to the newest line.
    pub fn follows(&self) -> bool {
        self.view.follow
    }

    /// Recomputes which lines pass the filter and search, if anything changed.
    fn refresh_shown(&mut self) {
        let key = (self.generation, self.view.filter, self.view.search.clone());
        if self.view.shown_for.as_ref() == Some(&key) {
            return;
        }
        let needle = self.view.search.trim().to_lowercase();
        let filter = self.view.filter;
        self.view.shown = self
            .lines
            .iter()
            .enumerate()
            .filter(|(_, e)| filter.keeps(e.kind))
            .filter(|(_, e)| needle.is_empty() || e.text.to_lowercase().contains(&needle))
            .map(|(i, _)| i)
            .collect();
        self.view.shown_for = Some(key);
    }
}

/// The run log tab: filter, search and paging on top, then the lines. It follows the
/// newest line until the user scrolls or pages up, and follows again at the end or with
/// "Jump to end". Only the rows in view are laid out.
pub fn log_ui(ui: &mut Ui, book: &mut LogBook) {
    controls_ui(ui, book);
    if book.is_empty() {
        ui.label(RichText::new("Press ▶ Run to run the topology; its log appears here.").weak());
        return;
    }
    book.refresh_shown();
    let rows = book.view.shown.len();
    if rows == 0 {
        ui.label(RichText::new("No line matches the filter and search.").weak());
        return;
    }
    let row_height = ui.text_style_height(&egui::TextStyle::Monospace);
    let row_pitch = row_height + ui.spacing().item_spacing.y;
    let viewport = ui.available_height();
    let page = (viewport - row_pitch).max(row_pitch);
    // Following sets the offset to this frame's end every frame. The log grows by
    // thousands of lines a frame and shrinks when trimmed, so the end moves both ways;
    // egui's stick-to-bottom lags a frame (and shows nothing after a trim), and its
    // overscroll spring pulls an offset past the last frame's end back, so the spring
    // is off here.
    let end = (rows as f32 * row_pitch - ui.spacing().item_spacing.y - viewport).max(0.0);
    ui.spacing_mut().scroll.kinetic.rubber_band = false;
    let view = &mut book.view;
    let mut area = egui::ScrollArea::vertical()
        .id_salt("run log")
        .auto_shrink([false, false])
        .animated(false);
    match view.jump.take() {
        Some(Jump::Start) => {
            view.follow = false;
            area = area.vertical_scroll_offset(0.0);
        }
        Some(Jump::PageUp) => {
            view.follow = false;
            area = area.vertical_scroll_offset((view.offset - page).max(0.0));
        }
        Some(Jump::PageDown) => {
            area = area.vertical_scroll_offset((view.offset + page).min(end));
        }
        None if view.follow => area = area.vertical_scroll_offset(end),
        None => {}
    }
    let lines = &book.lines;
    let shown = &book.view.shown;
    let visuals = ui.visuals().clone();
    let output = area.show_rows(ui, row_height, rows, |ui, range| {
        for &i in &shown[range] {
            let Some(e) = lines.get(i) else { continue };
            let text = RichText::new(&e.text).monospace();
            let text = match e.kind {
                LogKind::Tuple => text,
                LogKind::Event | LogKind::Setting => text.strong(),
                LogKind::Error => text.color(style::problem_color(&visuals)),
            };
            // One row per line (long lines are cut, full text on hover), so every row
            // has the height `show_rows` counts on.
            ui.add(egui::Label::new(text).truncate());
        }
    });
    let view = &mut book.view;
    let end = (output.content_size.y - output.inner_rect.height()).max(0.0);
    view.offset = output.state.clamped_offset().y;
    view.follow = view.offset >= end - row_pitch;
}

/// Filter buttons (with counts), the search box, and paging.
fn controls_ui(ui: &mut Ui, book: &mut LogBook) {
    let (all, events) = (book.len(), book.events);
    let output = all - events;
    ui.horizontal(|ui| {
        let view = &mut book.view;
        for (filter, label, hint) in [
            (
                LogFilter::All,
                format!("All ({all})"),
                "Every line, in order",
            ),
            (
                LogFilter::Events,
                format!("Events ({events})"),
                "What happened to the run: start and stop, restarts, killed workers, \
                 faults, errors, fail-overs",
            ),
            (
                LogFilter::Output,
                format!("Output ({output})"),
                "What logger components printed",
            ),
        ] {
            ui.selectable_value(&mut view.filter, filter, label)
                .on_hover_text(hint);
        }
        ui.separator();
        let search = ui.add(
            egui::TextEdit::singleline(&mut view.search)
                .hint_text("search")
                .desired_width(160.0),
        );
        if search.changed() {
            view.follow = true;
        }
        if !view.search.is_empty()
            && ui
                .small_button("✖")
                .on_hover_text("Clear the search")
                .clicked()
        {
            view.search.clear();
        }
        ui.separator();
        // Words, not arrow glyphs: the bundled fonts lack most of them.
        if ui.button("First").on_hover_text("First line").clicked() {
            view.jump = Some(Jump::Start);
        }
        if ui.button("Page up").clicked() {
            view.jump = Some(Jump::PageUp);
        }
        if ui.button("Page down").clicked() {
            view.jump = Some(Jump::PageDown);
        }
        let jump_end = ui
            .add_enabled(!view.follow, egui::Button::new("Jump to end"))
            .on_hover_text("Follow the newest line again")
            .on_disabled_hover_text("Following the newest line");
        if jump_end.clicked() {
            view.jump = None;
            view.follow = true;
        }
    });
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn line(node: &str, kind: LogKind, text: &str) -> LogLine {
        line_at(100, node, kind, text)
    }

    fn line_at(ms: u64, node: &str, kind: LogKind, text: &str) -> LogLine {
        LogLine {
            at: Duration::from_millis(ms),
            node: node.into(),
            task: 0,
            kind,
            text: text.into(),
        }
    }

    #[test]
    fn trimming_drops_logger_lines_before_events() {
        let mut book = LogBook::default();
        book.push_run_line(line("engine", LogKind::Event, "worker 0 killed"));
        for i in 0..10 {
            book.push_run_line(line("log", LogKind::Tuple, &format!("line {i}")));
        }
        book.trim(4);
        assert_eq!(book.len(), 4);
        let lines: Vec<&String> = book.iter().collect();
        assert!(lines[0].contains("worker 0 killed"));
        assert!(lines[1].ends_with("line 7"));
        assert!(lines[3].ends_with("line 9"));
        assert_eq!(book.events, 1, "the kept count follows the trim");

        let mut errors = LogBook::default();
        for i in 0..5 {
            errors.push_run_line(line("n", LogKind::Error, &format!("problem {i}")));
        }
        errors.trim(3);
        assert_eq!(errors.len(), 3);
        assert!(errors.iter().next().unwrap().ends_with("problem 2"));
    }

    #[test]
    fn filter_and_search_pick_lines() {
        let mut book = LogBook::default();
        book.push("run started: t");
        book.push_run_line(line("log", LogKind::Tuple, "apple"));
        book.push_run_line(line("log", LogKind::Tuple, "Banana"));
        book.push_run_line(line("count", LogKind::Error, "task crashed"));
        let shown = |b: &mut LogBook| {
            b.refresh_shown();
            b.view.shown.len()
        };
        assert_eq!(shown(&mut book), 4);
        book.set_filter(LogFilter::Events);
        assert_eq!(shown(&mut book), 2);
        book.set_filter(LogFilter::Output);
        assert_eq!(shown(&mut book), 2);
        book.set_search("banana");
        assert_eq!(shown(&mut book), 1);
        book.set_filter(LogFilter::All);
        book.set_search("CRASH");
        assert_eq!(shown(&mut book), 1);
    }
}
