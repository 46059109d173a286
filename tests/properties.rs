//! Property tests on what hostile input reaches first: arbitrary bytes and
//! text into the decoder, the line index, the stored-path encoding and the
//! terminal sanitizer. No panic, round trips hold, nothing unsafe comes out.
//! Each property runs a bounded number of cases, so `cargo test` stays fast;
//! `PROPTEST_CASES=100000 cargo test --test properties` searches longer.

use std::path::Path;

use proptest::prelude::*;

use snag::index::decode::{Source, decode};
use snag::index::lines::{self, LineIndex};
use snag::{sanitize, stored_path};

/// Text rich in what matters here: every kind of line break, controls,
/// escapes, bidi controls, `%`, multi-byte characters.
fn tricky_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\n".to_owned()),
        Just("\r".to_owned()),
        Just("\r\n".to_owned()),
        Just("\u{2028}".to_owned()),
        Just("\u{2029}".to_owned()),
        Just("\u{1b}]0;title\u{7}".to_owned()),
        Just("\u{202E}".to_owned()),
        Just("%".to_owned()),
        Just("%25".to_owned()),
        Just("é😀".to_owned()),
        "[a-z ;=(){}]{0,8}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

/// Every character that ends a line in TypeScript.
const BREAKS: [char; 4] = ['\n', '\r', '\u{2028}', '\u{2029}'];

/// Line starts the simple way: after every break, CRLF counted once.
fn naive_line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let next = chars.get(i + 1).map(|(_, c)| *c);
        if c == '\r' && next == Some('\n') {
            starts.push(at + 2);
            i += 2;
            continue;
        }
        if matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}') {
            starts.push(at + c.len_utf8());
        }
        i += 1;
    }
    starts
}

/// Controls, bidi overrides and line separators: what a terminal acts on.
fn drives_a_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{2028}' | '\u{2029}'
        )
}

proptest! {
    #[test]
    fn decoding_any_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = decode(&bytes);
    }

    /// Text that is not blank, has no NUL, and does not start with U+FEFF
    /// (which is a byte order mark, not text).
    #[test]
    fn utf8_and_utf16_text_decodes_to_itself(
        text in tricky_text().prop_map(|t| format!("x{}", t.replace('\0', "")))
    ) {
        prop_assert_eq!(decode(text.as_bytes()), Source::Text(text.clone()));
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        prop_assert_eq!(decode(&le), Source::Text(text.clone()));
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        prop_assert_eq!(decode(&be), Source::Text(text.clone()));
    }

    #[test]
    fn every_line_position_agrees_with_a_plain_count(text in tricky_text()) {
        let index = LineIndex::new(&text);
        let starts = naive_line_starts(&text);
        for (byte, _) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
            let line = starts.partition_point(|s| *s <= byte) - 1;
            let column = text[starts[line]..byte].chars().count();
            let expected = (line as u32 + 1, column as u32 + 1);
            prop_assert_eq!(index.position(&text, byte), expected);
            prop_assert_eq!(lines::position(&text, byte), expected);
        }
        // The lines are the text without its breaks.
        let shown: Vec<&str> = lines::lines(&text).collect();
        let no_breaks = shown.iter().all(|l| !l.contains(BREAKS));
        prop_assert!(no_breaks);
        let kept: usize = shown.iter().map(|l| l.len()).sum();
        let breaks: usize = text.matches(BREAKS).map(str::len).sum();
        prop_assert_eq!(kept + breaks, text.len());
    }

    #[test]
    fn stored_paths_keep_every_byte(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        use std::os::unix::ffi::OsStrExt;
        let path = Path::new(std::ffi::OsStr::from_bytes(&bytes));
        let stored = stored_path::encode(path);
        prop_assert_eq!(stored_path::decode(&stored), bytes.clone());
        // Stored text is valid UTF-8 by construction and every `%` starts an escape.
        let shown = stored_path::display(&stored);
        prop_assert!(!shown.is_empty() || bytes.is_empty());
    }

    #[test]
    fn two_names_never_share_a_stored_path(
        a in prop::collection::vec(any::<u8>(), 0..24),
        b in prop::collection::vec(any::<u8>(), 0..24),
    ) {
        use std::os::unix::ffi::OsStrExt;
        prop_assume!(a != b);
        let encode = |bytes: &[u8]| stored_path::encode(Path::new(std::ffi::OsStr::from_bytes(bytes)));
        prop_assert_ne!(encode(&a), encode(&b));
    }

    #[test]
    fn nothing_that_drives_a_terminal_gets_through(text in tricky_text()) {
        let line = sanitize::line(&text);
        let clean = !line.chars().any(drives_a_terminal);
        prop_assert!(clean, "{:?}", line);
        let block = sanitize::block(&text);
        let clean = !block.chars().any(|c| c != '\n' && drives_a_terminal(c));
        prop_assert!(clean, "{:?}", block);
        let path = sanitize::path(&text);
        let clean = !path.chars().any(drives_a_terminal);
        prop_assert!(clean, "{:?}", path);
    }
}
