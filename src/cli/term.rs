//! Text for the terminal. Node names, logged values and error messages come from a
//! topology file someone else may have written, so every such string is printed
//! through [`escape`]: a name holding an escape sequence must not move the cursor,
//! retitle the window or hide the text after it. And every line goes through [`out`]
//! or [`err`], which stop quietly once the reader is gone (`tributary run … | head -1`):
//! `run` keeps `SIGPIPE` ignored (a netcat source must see a client hang up as an
//! error, not die of it), so a closed pipe shows up as a write error, never a panic.

use std::borrow::Cow;
use std::fmt::Arguments;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write to stdout failed: the reader is gone, nothing more is printed.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// True for characters a terminal would act on or that reorder what is shown: control
/// characters (C0, DEL, C1 — among them ESC and the CSI that start escape sequences)
/// and the invisible bidirectional and zero-width marks.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        )
}

/// `text` with every character [`needs_escape`] names written as a Rust escape
/// (`\n`, `\t`, `\u{1b}`), so it shows as text and does nothing. Text without such
/// characters is returned as it is.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Escapes each line of a multi-line message (a rendered diagnostic) and keeps the line
/// breaks.
pub fn escape_lines(text: &str) -> String {
    text.split('\n').map(escape).collect::<Vec<_>>().join("\n")
}

/// Prints one line to stdout; false (and nothing more is ever printed there) once
/// stdout is closed.
pub fn out(line: Arguments<'_>) -> bool {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return false;
    }
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_fmt(line)
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush());
    if written.is_err() {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        return false;
    }
    true
}

/// Where a command's human-readable lines go. Normally stdout; when stdout carries
/// data (`run --json -`), every human line goes to stderr instead, so `… --json - | jq .`
/// reads only the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Human {
    Stdout,
    Stderr,
}

impl Human {
    /// Stderr when stdout carries data, stdout otherwise.
    pub fn beside_data(data_on_stdout: bool) -> Self {
        if data_on_stdout {
            Human::Stderr
        } else {
            Human::Stdout
        }
    }

    /// Prints one human line; false once stdout is closed and this prints there.
    pub fn line(self, line: Arguments<'_>) -> bool {
        match self {
            Human::Stdout => out(line),
            Human::Stderr => {
                err(line);
                true
            }
        }
    }
}

/// Writes a whole document (an exported or imported file) to stdout. A pipe or a file
/// gets the exact bytes, because that output is the file; a terminal gets each line
/// [`escape`]d, because there it is only read, and a name in it must not act on the
/// terminal. False (and nothing more is printed there) once stdout is closed.
pub fn out_document(text: &str) -> bool {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return false;
    }
    let mut stdout = std::io::stdout().lock();
    let shown = if stdout.is_terminal() {
        Cow::Owned(escape_lines(text))
    } else {
        Cow::Borrowed(text)
    };
    let written = stdout
        .write_all(shown.as_bytes())
        .and_then(|()| stdout.flush());
    if written.is_err() {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        return false;
    }
    true
}

/// `path` as text for the terminal: a file name may hold control characters too.
pub fn path(path: &std::path::Path) -> String {
    escape(&path.display().to_string()).into_owned()
}

/// True once stdout's reader has gone.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// Prints one line to stderr; a closed stderr is ignored (there is nobody to tell).
pub fn err(line: Arguments<'_>) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr
        .write_fmt(line)
        .and_then(|()| stderr.write_all(b"\n"));
}

/// Prints to stderr without a line break (the live progress line).
pub fn err_part(text: Arguments<'_>) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_fmt(text).and_then(|()| stderr.flush());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_unchanged() {
        assert!(matches!(escape("word-count_2 café"), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_sequences_and_invisible_marks_are_shown_not_obeyed() {
        assert_eq!(escape("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape("x\ny\tz\r"), "x\\ny\\tz\\r");
        assert_eq!(escape("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(escape("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(escape("\u{7}bell"), "\\u{7}bell");
        let escaped = escape("\u{1b}]0;title\u{7}");
        assert!(!escaped.chars().any(char::is_control), "{escaped}");
    }

    #[test]
    fn lines_keep_their_breaks_and_lose_their_escapes() {
        assert_eq!(escape_lines("one\u{1b}\ntwo"), "one\\u{1b}\ntwo");
    }
}
