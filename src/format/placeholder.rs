//! `${NAME}`-style placeholders, replaced in one left-to-right pass: Flux's `--filter`
//! (`${key}`) and `--env-filter` (`${ENV-NAME}`), and Flume's environment resolver
//! (`${NAME}`). One home, so that every format keeps the same two promises:
//!
//! * The work is linear in the text plus what is inserted. A name is read only while its
//!   characters can belong to a name, and a name can never hold the `$` that starts a
//!   placeholder, so the search for the closing `}` stops at the next `$` at the latest:
//!   a text of nothing but `${` (or `${ENV-`) is read a bounded number of times per byte,
//!   where searching the whole rest of the text for `}` from each one was quadratic.
//! * What was inserted is never read again, so a value that mentions a placeholder
//!   cannot make the text grow exponentially.

/// Replaces `OPEN name }` where every character of `name` passes `is_name_char` and
/// `lookup(name)` knows the name; everything else is copied as it is. `None` as soon as
/// the result passes `limit` bytes.
///
/// `is_name_char` must reject `$` (the first character of every opening) and `}`: that
/// is what keeps the pass linear.
pub(super) fn substitute(
    text: &str,
    open: &str,
    limit: usize,
    is_name_char: impl Fn(char) -> bool,
    lookup: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    debug_assert!(!is_name_char('$') && !is_name_char('}'));
    let mut out = String::with_capacity(text.len().min(limit));
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        out.push_str(&rest[..start]);
        let after = &rest[start + open.len()..];
        let name_len = after
            .find(|c: char| !is_name_char(c))
            .unwrap_or(after.len());
        let value = after[name_len..]
            .starts_with('}')
            .then(|| lookup(&after[..name_len]))
            .flatten();
        match value {
            Some(value) => {
                out.push_str(&value);
                rest = &after[name_len + 1..];
            }
            None => {
                out.push_str(open);
                rest = after;
            }
        }
        if out.len() > limit {
            return None;
        }
    }
    out.push_str(rest);
    (out.len() <= limit).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word_char(c: char) -> bool {
        c.is_ascii_alphanumeric() || c == '_'
    }

    fn known(name: &str) -> Option<String> {
        (name == "a").then(|| "A".to_string())
    }

    #[test]
    fn only_whole_known_names_are_replaced() {
        let text = "${a} ${a.b} ${b} ${a ${ ${a";
        assert_eq!(
            substitute(text, "${", usize::MAX, word_char, known).as_deref(),
            Some("A ${a.b} ${b} ${a ${ ${a")
        );
    }

    #[test]
    fn a_name_ends_at_the_next_placeholder() {
        // `${${a}`: the first opening's name would hold `$`, so only the second is one.
        assert_eq!(
            substitute("${${a}$${a}", "${", usize::MAX, word_char, known).as_deref(),
            Some("${A$A")
        );
    }

    #[test]
    fn openings_without_a_close_are_kept_as_they_are() {
        let text = "${".repeat(10_000) + "a}";
        let expected = "${".repeat(9_999) + "A";
        assert_eq!(
            substitute(&text, "${", usize::MAX, word_char, known),
            Some(expected)
        );
    }
}
