//! Reading lines with a length limit enforced *while* reading, for every source that
//! turns lines into events (netcat, spooldir).
//!
//! `BufRead::read_until` buffers a whole line before anyone can look at its length, so one
//! line without a newline (a 700 MB upload, `/dev/zero`) takes all the memory there is.
//! [`LineReader`] keeps at most `limit - 1` bytes of a line: once a line cannot fit, it
//! reports [`Piece::TooLong`] with the part that fit and discards the rest up to the next
//! newline as it streams past. Memory is the limit plus the reader's buffer, whatever
//! the input: the line buffer is allocated once, at exactly `limit - 1` bytes, when the
//! first line starts, and reused for every line (a line is handed out as a copy of its
//! own length). Growing it by doubling instead would leave freed blocks of every size up
//! to the limit behind in each connection thread's allocator heap.
//!
//! The reader keeps its state between calls, so a read that times out (a socket with a
//! read timeout, polled so the source can see its stop signal) resumes mid-line.

use std::io::{self, BufRead};

/// One step of a line stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A complete line, without its `\n` (and without a `\r` before it).
    Line(Vec<u8>),
    /// A line that does not fit: the first `limit - 1` bytes of it (a trailing `\r`
    /// removed). Reported once, as soon as it is known; the rest of the line is skipped.
    TooLong(Vec<u8>),
    /// The input ended. Holds the last line when it had no newline (empty otherwise, and
    /// empty when that line was too long and already reported), `\r` removed as well.
    End(Vec<u8>),
}

/// A line splitter with a limit; see the module docs.
#[derive(Debug)]
pub struct LineReader {
    /// Most bytes a line may take *including* its `\n` (Flume's netcat counts it so).
    limit: usize,
    /// The line read so far; its capacity is 0 or exactly `limit - 1`.
    line: Vec<u8>,
    /// Inside a too-long line that was already reported: drop bytes up to the newline.
    skipping: bool,
}

impl LineReader {
    /// `limit` counts the newline: content of at most `limit - 1` bytes fits. A limit
    /// below 1 is taken as 1 (only empty lines fit).
    pub fn new(limit: usize) -> Self {
        Self {
            limit: limit.max(1),
            line: Vec::new(),
            skipping: false,
        }
    }

    /// The next piece. An I/O error (a read timeout, say) leaves the reader where it was,
    /// so calling again continues the same line.
    pub fn next(&mut self, reader: &mut impl BufRead) -> io::Result<Piece> {
        let room = self.limit - 1;
        loop {
            let available = match reader.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                let tail = self.emit();
                let skipped = std::mem::take(&mut self.skipping);
                return Ok(Piece::End(if skipped { Vec::new() } else { tail }));
            }
            let newline = available.iter().position(|&b| b == b'\n');
            let content = &available[..newline.unwrap_or(available.len())];
            let used = newline.map_or(available.len(), |i| i + 1);
            if self.skipping {
                reader.consume(used);
                if newline.is_some() {
                    self.skipping = false;
                }
                continue;
            }
            if !content.is_empty() && self.line.capacity() == 0 {
                // Once, and at the size a line may reach, so the buffer never regrows.
                self.line.reserve_exact(room);
            }
            if self.line.len() + content.len() > room {
                let fits = room - self.line.len();
                self.line
                    .extend_from_slice(&content[..fits.min(content.len())]);
                reader.consume(used);
                self.skipping = newline.is_none();
                return Ok(Piece::TooLong(self.emit()));
            }
            self.line.extend_from_slice(content);
            reader.consume(used);
            if newline.is_some() {
                return Ok(Piece::Line(self.emit()));
            }
        }
    }
}

impl LineReader {
    /// The line so far (a trailing `\r` removed) as a vector of its own length; the
    /// buffer is emptied but keeps its allocation for the next line.
    fn emit(&mut self) -> Vec<u8> {
        let line = self.line.strip_suffix(b"\r").unwrap_or(&self.line).to_vec();
        self.line.clear();
        line
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufReader, Read};

    use super::*;

    fn pieces(input: &[u8], limit: usize, buffer: usize) -> Vec<Piece> {
        let mut reader = BufReader::with_capacity(buffer, input);
        let mut lines = LineReader::new(limit);
        let mut out = Vec::new();
        loop {
            let piece = lines.next(&mut reader).unwrap();
            let end = matches!(piece, Piece::End(_));
            out.push(piece);
            if end {
                return out;
            }
        }
    }

    fn line(s: &str) -> Piece {
        Piece::Line(s.as_bytes().to_vec())
    }

    #[test]
    fn lines_fit_when_content_plus_newline_is_within_the_limit() {
        // Whatever the read buffer's size, the same pieces come out.
        for buffer in [1, 2, 3, 7, 64] {
            let got = pieces(b"1234567\n12345678\nok\r\nlast", 8, buffer);
            assert_eq!(
                got,
                [
                    line("1234567"),
                    Piece::TooLong(b"1234567".to_vec()),
                    line("ok"),
                    Piece::End(b"last".to_vec())
                ],
                "buffer {buffer}"
            );
        }
    }

    #[test]
    fn a_line_without_end_is_reported_once_and_skipped_to_its_newline() {
        let mut input = vec![b'x'; 100_000];
        input.extend_from_slice(b"\nnxt\n");
        for buffer in [1, 10, 8192] {
            let got = pieces(&input, 4, buffer);
            assert_eq!(
                got,
                [
                    Piece::TooLong(b"xxx".to_vec()),
                    line("nxt"),
                    Piece::End(Vec::new())
                ],
                "buffer {buffer}"
            );
        }
        let got = pieces(&[b'y'; 50], 4, 8);
        assert_eq!(
            got,
            [Piece::TooLong(b"yyy".to_vec()), Piece::End(Vec::new())]
        );
    }

    /// Megabytes of one line, then a short one, served in pieces as a socket would, so
    /// the input is never in memory as a whole.
    struct Flood {
        left: usize,
        tail: &'static [u8],
    }

    impl Read for Flood {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.left > 0 {
                let n = buf.len().min(self.left);
                buf[..n].fill(b'z');
                self.left -= n;
                return Ok(n);
            }
            let n = buf.len().min(self.tail.len());
            buf[..n].copy_from_slice(&self.tail[..n]);
            self.tail = &self.tail[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_huge_line_streams_past_and_the_next_line_still_arrives() {
        let flood = Flood {
            left: 64 << 20,
            tail: b"\nok\n",
        };
        let mut reader = BufReader::with_capacity(4096, flood);
        let mut lines = LineReader::new(16);
        assert_eq!(
            lines.next(&mut reader).unwrap(),
            Piece::TooLong(vec![b'z'; 15])
        );
        assert_eq!(lines.next(&mut reader).unwrap(), line("ok"));
        assert_eq!(reader.get_ref().left, 0, "the whole flood was read");
    }

    #[test]
    fn the_line_buffer_is_allocated_once_at_the_limit_and_never_regrows() {
        let limit = 1000;
        let mut input = Vec::new();
        for n in [1usize, 10, 998, 999, 5000, 3] {
            input.extend(std::iter::repeat_n(b'a', n));
            input.push(b'\n');
        }
        let mut reader = BufReader::with_capacity(7, &input[..]);
        let mut lines = LineReader::new(limit);
        assert_eq!(
            lines.line.capacity(),
            0,
            "nothing allocated before a line starts"
        );
        let mut seen = 0;
        loop {
            let piece = lines.next(&mut reader).unwrap();
            assert_eq!(lines.line.capacity(), limit - 1, "after piece {seen}");
            match piece {
                Piece::Line(l) | Piece::TooLong(l) => {
                    assert!(l.capacity() < limit, "a line is handed out at its size");
                    seen += 1;
                }
                Piece::End(_) => break,
            }
        }
        assert_eq!(seen, 6);
    }

    #[test]
    fn a_limit_of_one_admits_only_empty_lines() {
        assert_eq!(
            pieces(b"\na\n", 1, 4),
            [line(""), Piece::TooLong(Vec::new()), Piece::End(Vec::new())]
        );
    }
}
