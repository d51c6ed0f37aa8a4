//! A bound on how deeply `[` and `{` nest in Flux YAML, checked before the file is parsed.
//!
//! The YAML scanner (libyaml, under `serde_norway`) walks its stack of possible simple
//! keys, one entry per open `[` or `{`, for every token it reads, so parse time grows
//! with the square of the nesting: 200 KB of `[` took 40 s. Real Flux files nest a few
//! levels. This check runs the same scanner, token by token, and stops at the first
//! bracket past [`MAX_FLOW_NESTING`], so it costs a bounded amount per token and the
//! refusal points at the exact bracket libyaml would have opened. Using libyaml's own
//! tokens (rather than a hand-written approximation) means no quoting or indentation
//! trick can hide a bracket from the check yet show it to the parser.
//!
//! Nesting by indentation alone does not slow the scanner; `serde_norway` refuses it
//! beyond its own recursion limit (128) with a position.

use std::mem::MaybeUninit;

use unsafe_libyaml_norway as unsafe_yaml;

use super::super::TextPos;

/// Deepest nesting of flow collections (`[…]`, `{…}`) accepted in a Flux file. Real
/// files need fewer than five levels.
pub const MAX_FLOW_NESTING: usize = 64;

/// Refuses text whose `[`/`{` nesting passes [`MAX_FLOW_NESTING`], with the position of
/// the first bracket too deep. Text the scanner cannot read is let through: the parser
/// that follows reports the syntax error with its own message.
pub fn check(text: &str) -> Result<(), (TextPos, String)> {
    let Some(mut scanner) = Scanner::new(text) else {
        return Ok(());
    };
    let mut depth = 0usize;
    while let Some(token) = scanner.next() {
        match token.kind {
            unsafe_yaml::YAML_FLOW_SEQUENCE_START_TOKEN
            | unsafe_yaml::YAML_FLOW_MAPPING_START_TOKEN => {
                depth += 1;
                if depth > MAX_FLOW_NESTING {
                    return Err((
                        token.at,
                        format!(
                            "`[` and `{{` nest deeper than {MAX_FLOW_NESTING} levels here; Flux files need only a few"
                        ),
                    ));
                }
            }
            unsafe_yaml::YAML_FLOW_SEQUENCE_END_TOKEN
            | unsafe_yaml::YAML_FLOW_MAPPING_END_TOKEN => {
                depth = depth.saturating_sub(1);
            }
            unsafe_yaml::YAML_STREAM_END_TOKEN => break,
            _ => {}
        }
    }
    Ok(())
}

/// A token's kind and where it starts (1-based).
struct Token {
    kind: unsafe_yaml::yaml_token_type_t,
    at: TextPos,
}

/// libyaml's scanner over a borrowed string, freed on drop.
struct Scanner<'a> {
    parser: Box<MaybeUninit<unsafe_yaml::yaml_parser_t>>,
    _text: &'a str,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Option<Self> {
        let mut parser = Box::new(MaybeUninit::<unsafe_yaml::yaml_parser_t>::uninit());
        // SAFETY: `yaml_parser_initialize` fully initialises the struct it is given (it
        // zeroes it first) and reports allocation failure; the box keeps the address
        // stable for the input callback, which points back at the parser.
        let initialised = unsafe { unsafe_yaml::yaml_parser_initialize(parser.as_mut_ptr()) };
        if initialised.fail {
            return None;
        }
        // SAFETY: the parser is initialised; `text` outlives the scanner (`'a`), and
        // libyaml only reads `len` bytes from it.
        unsafe {
            unsafe_yaml::yaml_parser_set_input_string(
                parser.as_mut_ptr(),
                text.as_ptr(),
                text.len() as u64,
            );
        }
        Some(Self {
            parser,
            _text: text,
        })
    }

    /// The next token, or `None` at the end or on a scanner error.
    fn next(&mut self) -> Option<Token> {
        let mut raw = MaybeUninit::<unsafe_yaml::yaml_token_t>::uninit();
        // SAFETY: the parser is initialised and only ever used for scanning; `raw` is
        // written (zeroed, then filled) by `yaml_parser_scan` before it returns.
        let scanned =
            unsafe { unsafe_yaml::yaml_parser_scan(self.parser.as_mut_ptr(), raw.as_mut_ptr()) };
        if scanned.fail {
            return None;
        }
        // SAFETY: a successful scan initialised the token.
        let token = unsafe { raw.assume_init_mut() };
        let result = Token {
            kind: token.type_,
            at: TextPos {
                line: usize::try_from(token.start_mark.line)
                    .unwrap_or(usize::MAX)
                    .saturating_add(1),
                col: usize::try_from(token.start_mark.column)
                    .unwrap_or(usize::MAX)
                    .saturating_add(1),
            },
        };
        // SAFETY: the token came from `yaml_parser_scan` and is deleted exactly once.
        unsafe { unsafe_yaml::yaml_token_delete(token) };
        (result.kind != unsafe_yaml::YAML_NO_TOKEN).then_some(result)
    }
}

impl Drop for Scanner<'_> {
    fn drop(&mut self) {
        // SAFETY: the parser was initialised in `new` and is deleted exactly once.
        unsafe { unsafe_yaml::yaml_parser_delete(self.parser.as_mut_ptr()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_files_pass() {
        let text = "name: x\nspouts:\n  - id: a\n    args: [1, [2, {k: [3]}]]\n# [[[[ in a comment\nq: '[[[['\n";
        assert!(check(text).is_ok());
    }

    #[test]
    fn deep_brackets_are_refused_at_the_first_one_too_deep() {
        let text = format!("name: x\nargs: {}", "[".repeat(200_000));
        let (at, message) = check(&text).unwrap_err();
        assert_eq!(at.line, 2);
        assert_eq!(at.col, 7 + MAX_FLOW_NESTING);
        assert!(message.contains(&MAX_FLOW_NESTING.to_string()), "{message}");
    }

    #[test]
    fn brackets_inside_quotes_and_block_scalars_do_not_count() {
        let many = "[".repeat(MAX_FLOW_NESTING * 2);
        let text = format!("a: \"{many}\"\nb: |\n  {many}\nc: ok\n");
        assert!(check(&text).is_ok());
    }

    #[test]
    fn broken_yaml_is_left_to_the_parser() {
        assert!(check("a: \"unterminated\n").is_ok());
    }
}
