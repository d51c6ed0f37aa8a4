//! How numbers and counted nouns read in the designer: one place, so a count looks the
//! same in every panel ("12,345", "1 warning", "2 warnings").

/// A whole number with thousands separators: `1,980`, `330,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n` and the noun, plural unless `n` is one: `1 warning`, `0 errors`, `2,000 nodes`.
/// For nouns whose plural adds an `s`, which are the only ones the designer counts.
pub fn plural(n: usize, noun: &str) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{} {noun}{s}", thousands(n as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_980), "1,980");
        assert_eq!(thousands(330_000), "330,000");
        assert_eq!(thousands(12_345_678), "12,345,678");
    }

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(plural(1, "warning"), "1 warning");
        assert_eq!(plural(0, "error"), "0 errors");
        assert_eq!(plural(2, "warning"), "2 warnings");
        assert_eq!(plural(1_000, "node"), "1,000 nodes");
    }
}
