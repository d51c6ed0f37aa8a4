//! The lesson text's Markdown subset drawn with egui: paragraphs (blank lines), `**bold**`,
//! `` `code` `` and `- ` lists. Anything else shows as written, so a teacher's typo is
//! visible rather than lost.

use egui::text::LayoutJob;
use egui::{FontId, RichText, TextFormat, Ui};

/// Draws `text` as paragraphs and list items, wrapped to the panel.
pub fn markdown_ui(ui: &mut Ui, text: &str) {
    for block in text.split("\n\n") {
        let block = block.trim();
        if block.is_empty() {
            continue;
        }
        for line in block.lines() {
            let line = line.trim_end();
            if let Some(item) = line.trim_start().strip_prefix("- ") {
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new("  ·"));
                    ui.label(inline(ui, item));
                });
            } else {
                ui.label(inline(ui, line));
            }
        }
        ui.add_space(6.0);
    }
}

/// One line's spans: plain, bold (`**…**`) and code (`` `…` ``).
pub fn spans(line: &str) -> Vec<(String, Style)> {
    let mut out: Vec<(String, Style)> = Vec::new();
    let mut rest = line;
    while !rest.is_empty() {
        let bold = rest.find("**");
        let code = rest.find('`');
        let (at, marker, style) = match (bold, code) {
            (Some(b), Some(c)) if c < b => (c, "`", Style::Code),
            (Some(b), _) => (b, "**", Style::Bold),
            (None, Some(c)) => (c, "`", Style::Code),
            (None, None) => break,
        };
        let after = &rest[at + marker.len()..];
        let Some(end) = after.find(marker) else {
            break;
        };
        if at > 0 {
            out.push((rest[..at].to_string(), Style::Plain));
        }
        out.push((after[..end].to_string(), style));
        rest = &after[end + marker.len()..];
    }
    if !rest.is_empty() {
        out.push((rest.to_string(), Style::Plain));
    }
    out
}

/// How a span is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Bold,
    Code,
}

fn inline(ui: &Ui, line: &str) -> LayoutJob {
    let style = ui.style();
    let body = FontId::proportional(style.text_styles[&egui::TextStyle::Body].size);
    let mono = FontId::monospace(body.size * 0.95);
    let plain = ui.visuals().text_color();
    let strong = ui.visuals().strong_text_color();
    let mut job = LayoutJob::default();
    for (text, kind) in spans(line) {
        let format = match kind {
            Style::Plain => TextFormat::simple(body.clone(), plain),
            Style::Bold => TextFormat::simple(body.clone(), strong),
            Style::Code => TextFormat {
                background: ui.visuals().code_bg_color,
                ..TextFormat::simple(mono.clone(), plain)
            },
        };
        job.append(&text, 0.0, format);
    }
    job.wrap.max_width = ui.available_width();
    job
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bold_and_code_split_and_an_unclosed_marker_stays_as_written() {
        assert_eq!(
            spans("A **spout** calls `next_tuple` now"),
            vec![
                ("A ".into(), Style::Plain),
                ("spout".into(), Style::Bold),
                (" calls ".into(), Style::Plain),
                ("next_tuple".into(), Style::Code),
                (" now".into(), Style::Plain),
            ]
        );
        assert_eq!(spans("2 ** 3"), vec![("2 ** 3".into(), Style::Plain)]);
    }
}
