//! Message normalisation: the volatile parts of an error or panic message (numbers,
//! addresses, ids) are replaced by placeholders, so that one bug hit with different values
//! gives one message.

use crate::model::outcome::FailureKind;

/// Writes `message` with its volatile parts replaced into `out` (cleared first).
///
/// Within each run of letters, digits and `_`:
/// - `0x` followed by hex digits becomes `<addr>`;
/// - a run of 8 or more hex digits holding at least one decimal digit becomes `<id>`
///   (hashes, fingerprints, the parts of a UUID);
/// - every other run of decimal digits becomes `<n>` (`walk17` -> `walk<n>`, `3.5` ->
///   `<n>.<n>`).
///
/// Each rule needs a decimal digit in the run, so a run without one is kept as it is: the
/// text between runs that hold a digit is copied in one piece, not run by run (a run with
/// many failures normalises one message per failure).
pub(crate) fn normalise_into(message: &str, out: &mut String) {
    out.clear();
    let bytes = message.as_bytes();
    // Everything before `kept` is in `out`.
    let mut kept = 0;
    let mut at = 0;
    while at < bytes.len() {
        if CLASS[usize::from(bytes[at])] & WORD == 0 {
            at += 1;
            continue;
        }
        // The classes every byte of the word has, and those some byte has.
        let start = at;
        let (mut all, mut any) = (WORD | DIGIT | HEX, 0);
        while at < bytes.len() {
            let class = CLASS[usize::from(bytes[at])];
            if class & WORD == 0 {
                break;
            }
            all &= class;
            any |= class;
            at += 1;
        }
        if any & DIGIT != 0 {
            // Word bytes are ASCII, so both cuts are on character boundaries.
            out.push_str(&message[kept..start]);
            normalise_word(&message[start..at], all, out);
            kept = at;
        }
    }
    out.push_str(&message[kept..]);
}

/// A byte of a word (a letter, a digit or `_`).
const WORD: u8 = 1;
/// A decimal digit.
const DIGIT: u8 = 2;
/// A hex digit.
const HEX: u8 = 4;

/// The classes of each byte, looked up rather than tested: a message is read byte by byte.
const CLASS: [u8; 256] = {
    let mut class = [0u8; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        if b.is_ascii_alphanumeric() || b == b'_' {
            class[byte] |= WORD;
        }
        if b.is_ascii_digit() {
            class[byte] |= DIGIT;
        }
        if b.is_ascii_hexdigit() {
            class[byte] |= HEX;
        }
        byte += 1;
    }
    class
};

/// `message` normalised as [`normalise_into`] writes it: `message` itself when it holds no
/// decimal digit (no rule applies), else the normalised text written into `scratch`.
pub(crate) fn normalised<'a>(message: &'a str, scratch: &'a mut String) -> &'a str {
    if message.bytes().any(|byte| byte.is_ascii_digit()) {
        normalise_into(message, scratch);
        scratch
    } else {
        message
    }
}

/// The message a failure of `kind` is grouped by: its message normalised ([`normalised`]),
/// except for a timeout, which is grouped by the timeout alone (`past the timeout of 250ms`:
/// the report reads `slow timed out: past the timeout of 250ms`). How long a timed-out walk
/// ran varies from walk to walk, and its unit with it (`ms`, `s`), and the message names the
/// failing action's param: grouped by their messages, the timeouts of one action would split
/// by those.
pub(crate) fn group_message<'a>(
    kind: FailureKind,
    message: &'a str,
    scratch: &'a mut String,
) -> &'a str {
    match timeout_past(kind, message) {
        Some(limit) => {
            timed_out_past(limit, scratch);
            scratch
        }
        None => normalised(message, scratch),
    }
}

/// [`group_message`], written into `out` (cleared first).
pub(crate) fn group_message_into(kind: FailureKind, message: &str, out: &mut String) {
    match timeout_past(kind, message) {
        Some(limit) => timed_out_past(limit, out),
        None => normalise_into(message, out),
    }
}

/// The timeout a timed-out walk's message says it was past, as the message writes it:
/// `... past the timeout of 250ms, by the end of a(1)` (a sync walk back late), `... past
/// the timeout of 250ms; ...` (a stuck one), `timed out after 250ms in a(1)` (an async walk
/// dropped).
fn timeout_past(kind: FailureKind, message: &str) -> Option<&str> {
    if kind != FailureKind::Timeout {
        return None;
    }
    match message.split_once("timeout of ") {
        Some((_, rest)) => rest.split([',', ';']).next(),
        None => message
            .strip_prefix("timed out after ")
            .and_then(|rest| rest.split(" in ").next()),
    }
}

fn timed_out_past(limit: &str, out: &mut String) {
    out.clear();
    out.push_str("past the timeout of ");
    out.push_str(limit);
}

/// [`normalise_into`] into a new string.
#[cfg(test)]
pub(crate) fn normalise(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    normalise_into(message, &mut out);
    out
}

/// Normalises a word holding a decimal digit, `all` the classes all its bytes have.
fn normalise_word(word: &str, all: u8, out: &mut String) {
    let bytes = word.as_bytes();
    if bytes.len() > 2
        && (word.starts_with("0x") || word.starts_with("0X"))
        && bytes[2..].iter().all(u8::is_ascii_hexdigit)
    {
        out.push_str("<addr>");
        return;
    }
    if all & DIGIT != 0 {
        out.push_str("<n>");
        return;
    }
    if bytes.len() >= 8 && all & HEX != 0 {
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
    use super::{group_message, group_message_into, normalise, normalised};
    use crate::model::outcome::FailureKind;

    #[test]
    fn timeouts_are_grouped_by_their_timeout_alone() {
        let messages = [
            "timed out: ran 300.2ms, past the timeout of 250ms, by the end of slow(300)",
            "timed out: ran 1.1s, past the timeout of 250ms, by the end of slow(\"x, y\")",
            "timed out: still running after 2.3s, past the timeout of 250ms; a thread cannot be \
             stopped, so the run ended here",
            "timed out after 250ms in fetch(\"/a\")",
        ];
        for message in messages {
            let mut scratch = String::new();
            let key = group_message(FailureKind::Timeout, message, &mut scratch).to_string();
            assert_eq!(key, "past the timeout of 250ms", "{message}");
            let mut out = String::from("left over");
            group_message_into(FailureKind::Timeout, message, &mut out);
            assert_eq!(out, key);
        }
        // Another kind keeps its message, normalised.
        let mut scratch = String::new();
        let message = messages[0];
        assert_eq!(
            group_message(FailureKind::Error, message, &mut scratch),
            normalise(message)
        );
    }
    use crate::model::test_support::Xorshift;

    /// A word normalised as it was before its bytes were read in one pass.
    fn normalise_word_rule_by_rule(word: &str, out: &mut String) {
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
            let start = at;
            let digits = bytes[at].is_ascii_digit();
            while at < bytes.len() && bytes[at].is_ascii_digit() == digits {
                at += 1;
            }
            out.push_str(if digits { "<n>" } else { &word[start..at] });
        }
    }

    fn is_word(byte: u8) -> bool {
        byte.is_ascii_alphanumeric() || byte == b'_'
    }

    /// The normaliser as it was before runs without a digit were copied through: every run
    /// of word bytes is normalised rule by rule, every other run is copied on its own.
    fn normalise_run_by_run(message: &str) -> String {
        let mut out = String::new();
        let bytes = message.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            let start = at;
            let word = is_word(bytes[at]);
            while at < bytes.len() && is_word(bytes[at]) == word {
                at += 1;
            }
            if word {
                normalise_word_rule_by_rule(&message[start..at], &mut out);
            } else {
                out.push_str(&message[start..at]);
            }
        }
        out
    }

    #[test]
    fn copying_runs_without_digits_through_changes_no_text() {
        let pieces = [
            "a",
            " = ",
            "1234",
            "0x",
            "0x1f",
            "0XAB",
            "deadbeef",
            "dead",
            "beef",
            "12ab34cd",
            "_",
            "walk",
            "é",
            "-",
            ".",
            "x9",
            "9x",
            "ffffffff",
            "0",
            " ",
            "\n",
            "ü7",
            "a1b2c3d4",
            "18446744073709551207",
            "g0",
            "x0x12",
        ];
        let mut random = Xorshift(0x9e37_79b9_7f4a_7c15);
        let mut scratch = String::new();
        for _ in 0..5000 {
            let mut message = String::new();
            for _ in 0..random.0 % 7 {
                message.push_str(pieces[random.below(pieces.len() as u64) as usize]);
            }
            let expected = normalise_run_by_run(&message);
            assert_eq!(normalise(&message), expected, "{message:?}");
            assert_eq!(normalised(&message, &mut scratch), expected, "{message:?}");
        }
    }

    #[test]
    fn a_message_without_digits_is_borrowed_as_it_is() {
        let mut scratch = String::from("left over");
        let message = "card refused: no funds";
        let text = normalised(message, &mut scratch);
        assert!(std::ptr::eq(text, message));
        assert_eq!(normalised("cannot pay 30", &mut scratch), "cannot pay <n>");
    }

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
