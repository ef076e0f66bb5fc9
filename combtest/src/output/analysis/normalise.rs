//! Message normalisation: the volatile parts of an error or panic message (numbers,
//! addresses, ids) are replaced by placeholders, so that one bug hit with different values
//! gives one message.

/// Writes `message` with its volatile parts replaced into `out` (cleared first).
///
/// Within each run of letters, digits and `_`:
/// - `0x` followed by hex digits becomes `<addr>`;
/// - a run of 8 or more hex digits holding at least one decimal digit becomes `<id>`
///   (hashes, fingerprints, the parts of a UUID);
/// - every other run of decimal digits becomes `<n>` (`walk17` -> `walk<n>`, `3.5` ->
///   `<n>.<n>`).
pub(crate) fn normalise_into(message: &str, out: &mut String) {
    out.clear();
    let bytes = message.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let start = at;
        if is_word(bytes[at]) {
            while at < bytes.len() && is_word(bytes[at]) {
                at += 1;
            }
            normalise_word(&message[start..at], out);
        } else {
            // Copies everything up to the next word byte; word bytes are ASCII, so the cut
            // is on a character boundary.
            while at < bytes.len() && !is_word(bytes[at]) {
                at += 1;
            }
            out.push_str(&message[start..at]);
        }
    }
}

/// [`normalise_into`] into a new string.
#[cfg(test)]
pub(crate) fn normalise(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    normalise_into(message, &mut out);
    out
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

fn normalise_word(word: &str, out: &mut String) {
    let bytes = word.as_bytes();
    if bytes.len() > 2
        && (word.starts_with("0x") || word.starts_with("0X"))
        && bytes[2..].iter().all(u8::is_ascii_hexdigit)
    {
        out.push_str("<addr>");
        return;
    }
    if bytes.len() >= 8
        && bytes.iter().all(u8::is_ascii_hexdigit)
        && bytes.iter().any(u8::is_ascii_digit)
        && !bytes.iter().all(u8::is_ascii_digit)
    {
        out.push_str("<id>");
        return;
    }
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at].is_ascii_digit() {
            while at < bytes.len() && bytes[at].is_ascii_digit() {
                at += 1;
            }
            out.push_str("<n>");
        } else {
            let start = at;
            while at < bytes.len() && !bytes[at].is_ascii_digit() {
                at += 1;
            }
            out.push_str(&word[start..at]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn numbers_addresses_and_ids_become_placeholders() {
        assert_eq!(
            normalise("cannot withdraw 50 from -10.5"),
            "cannot withdraw <n> from -<n>.<n>"
        );
        assert_eq!(normalise("null at 0x7ffd1234"), "null at <addr>");
        assert_eq!(
            normalise("request 9f3a00c1d2 failed for walk17"),
            "request <id> failed for walk<n>"
        );
        assert_eq!(
            normalise("session 550e8400-e29b-41d4"),
            "session <id>-e<n>b-<n>d<n>"
        );
        assert_eq!(normalise("déjà vu: 3 fois"), "déjà vu: <n> fois");
        assert_eq!(normalise("plain words stay"), "plain words stay");
    }
}
