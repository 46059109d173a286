//! The one gate between untrusted text (file contents, paths, error
//! messages) and a terminal. A repository can hold escape sequences that set
//! the window title or clear the screen; none of them may reach the tty.

use std::borrow::Cow;

/// Text for one terminal line: every control character, including newlines
/// and tabs, becomes a visible stand-in.
pub fn line(text: &str) -> Cow<'_, str> {
    clean(text, false)
}

/// A stored file path for one terminal line, in its display form (see
/// [`crate::stored_path::display`]).
pub fn path(stored: &str) -> Cow<'_, str> {
    match crate::stored_path::display(stored) {
        Cow::Borrowed(shown) => line(shown),
        Cow::Owned(shown) => Cow::Owned(line(&shown).into_owned()),
    }
}

/// Multi-line text: newlines are kept, tabs become spaces, every other
/// control character becomes a visible stand-in.
pub fn block(text: &str) -> Cow<'_, str> {
    clean(text, true)
}

/// A message of one or more lines (an error, say, that repeats what was
/// typed): its line breaks are kept, and every other control character,
/// a carriage return or a tab too, becomes a visible stand-in.
pub fn lines(text: &str) -> Cow<'_, str> {
    if !text.split('\n').any(|l| matches!(line(l), Cow::Owned(_))) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.split('\n').map(line).collect::<Vec<_>>().join("\n"))
}

fn clean(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| needs_replacing(c, keep_newlines)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\t' if keep_newlines => out.push_str("    "),
            '\r' if keep_newlines => {}
            '\u{2028}' | '\u{2029}' if keep_newlines => out.push('\n'),
            c if needs_replacing(c, keep_newlines) => out.push(stand_in(c)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_replacing(c: char, keep_newlines: bool) -> bool {
    if keep_newlines && matches!(c, '\n' | '\t' | '\r') {
        return true; // tabs and carriage returns are rewritten, newlines kept
    }
    c.is_control() || is_bidi_control(c) || is_line_separator(c)
}

/// Bidirectional overrides reorder what the reader sees ("trojan source").
/// U+2028 and U+2029 end a line in TypeScript, and some terminals break
/// lines there too.
fn is_line_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// C0 controls map to the Unicode "control pictures" (ESC shows as ␛), DEL to
/// ␡, anything else to the replacement character.
fn stand_in(c: char) -> char {
    match c as u32 {
        n @ 0x00..=0x1F => char::from_u32(0x2400 + n).unwrap_or('\u{FFFD}'),
        0x7F => '\u{2421}',
        // The "symbol for newline".
        0x2028 | 0x2029 => '\u{2424}',
        _ => '\u{FFFD}',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible_and_inert() {
        let hostile = "// \x1b]0;pwned\x07\x1b[2J\x1b[31m red";
        let shown = line(hostile);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
        assert_eq!(shown, "// ␛]0;pwned␇␛[2J␛[31m red");
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(line("plain ünïcode"), Cow::Borrowed(_)));
    }

    #[test]
    fn lines_keep_newlines_and_show_everything_else() {
        assert_eq!(
            lines("error: 'x\x1b]0;t\x07'\r over\n\tnext"),
            "error: 'x␛]0;t␇'␍ over\n␉next"
        );
        assert!(matches!(lines("a\nb"), Cow::Borrowed(_)));
    }

    #[test]
    fn block_keeps_newlines_and_expands_tabs() {
        assert_eq!(
            block("a\tb\r\nc\u{9b}d\u{202E}"),
            "a    b\nc\u{FFFD}d\u{FFFD}"
        );
        assert_eq!(line("a\nb"), "a␊b");
    }
}
