//! Making caller-supplied text safe to carry in error messages, which end up in logs.

/// Longest piece of caller text copied into an error.
pub(crate) const MAX_IN_ERROR: usize = 200;

/// `s` bounded to [`MAX_IN_ERROR`] characters with control characters escaped, so that a
/// hostile value can neither flood a log nor forge log lines.
pub(crate) fn for_error(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(MAX_IN_ERROR)
        .flat_map(|c| c.escape_debug())
        .collect();
    if s.chars().nth(MAX_IN_ERROR).is_some() {
        out.push('…');
    }
    out
}

/// Like [`for_error`] for bytes that may not be UTF-8.
pub(crate) fn bytes_for_error(b: &[u8]) -> String {
    for_error(&String::from_utf8_lossy(
        &b[..b.len().min(MAX_IN_ERROR * 4)],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_length_bounded() {
        assert_eq!(for_error("a\nb"), "a\\nb");
        let long = "x".repeat(5 * MAX_IN_ERROR);
        assert_eq!(for_error(&long).chars().count(), MAX_IN_ERROR + 1);
        assert_eq!(bytes_for_error(b"\xffok"), "\u{fffd}ok");
    }
}
