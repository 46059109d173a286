//! Lines as TypeScript counts them: LF, CRLF, a lone CR, U+2028 and U+2029
//! each end one. tree-sitter's rows count LF only, so every line snag
//! stores or shows is counted here.

use super::outcome::Span;

/// Whether `text` breaks lines anywhere but at LF (and CRLF): only then do
/// tree-sitter's rows differ from TypeScript's lines.
pub fn has_other_breaks(text: &str) -> bool {
    let bytes = text.as_bytes();
    let lone_cr = bytes
        .iter()
        .enumerate()
        .any(|(i, b)| *b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
    lone_cr || text.contains(['\u{2028}', '\u{2029}'])
}

/// The lines of `text` without their breaks, as `str::lines` gives them for
/// LF and CRLF, and for every other break too.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match next_break(current) {
            Some((at, len)) => {
                rest = Some(&current[at + len..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                // Like `str::lines`: no empty line after a final break.
                (!current.is_empty()).then_some(current)
            }
        }
    })
}

/// Where the first break in `text` is, and its length in bytes. Scans
/// bytes (LF, CR, and 0xE2, the first byte of U+2028 and U+2029), so
/// indexing a large file costs little.
fn next_break(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = memchr::memchr3(b'\n', b'\r', 0xE2, &bytes[from..]) {
        let at = from + found;
        match bytes[at] {
            b'\r' if bytes.get(at + 1) == Some(&b'\n') => return Some((at, 2)),
            b'\n' | b'\r' => return Some((at, 1)),
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
            _ if bytes.get(at + 1) == Some(&0x80)
                && matches!(bytes.get(at + 2), Some(0xA8 | 0xA9)) =>
            {
                return Some((at, 3));
            }
            _ => from = at + 1,
        }
    }
    None
}

/// 1-based line and character column of `byte` in `text`, for a single
/// position; [`LineIndex`] answers many.
pub fn position(text: &str, byte: usize) -> (u32, u32) {
    LineIndex::new(text).position(text, byte)
}

/// Where each line of a text starts, to find the line of any byte.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        let mut offset = 0;
        while let Some((at, len)) = next_break(&text[offset..]) {
            offset += at + len;
            starts.push(offset);
        }
        LineIndex { starts }
    }

    /// The 0-based line holding `byte` (a break belongs to the line it ends).
    pub fn line_of(&self, byte: usize) -> usize {
        self.starts.partition_point(|start| *start <= byte) - 1
    }

    /// The byte a 0-based line starts at (the text's end past the last).
    pub fn start_of(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(usize::MAX)
    }

    /// 1-based line and character column of `byte`.
    pub fn position(&self, text: &str, byte: usize) -> (u32, u32) {
        let byte = floor_char_boundary(text, byte);
        let line = self.line_of(byte);
        let column = text[self.starts[line]..byte].chars().count();
        (line as u32 + 1, column as u32 + 1)
    }

    /// The 1-based first and last lines of the bytes `start..end`: a range
    /// that ends right after a break ends on the line the break ends.
    pub fn line_span(&self, start: usize, end: usize) -> (u32, u32) {
        let last = end.saturating_sub(1).max(start);
        (
            self.line_of(start) as u32 + 1,
            self.line_of(last) as u32 + 1,
        )
    }

    /// The line holding `byte`, without its break, and where it starts.
    pub fn line_at<'t>(&self, text: &'t str, byte: usize) -> (usize, &'t str) {
        let line = self.line_of(floor_char_boundary(text, byte));
        let start = self.starts[line];
        let end = self.starts.get(line + 1).copied().unwrap_or(text.len());
        let with_break = &text[start..end];
        let without = next_break(with_break).map_or(with_break, |(at, _)| &with_break[..at]);
        (start, without)
    }
}

impl LineIndex {
    /// The span of the bytes `start..end` of `text`, with UTF-16 columns
    /// where they differ. An empty range still spans one column, so that a
    /// caret can point at it.
    pub fn span(&self, text: &str, start: usize, end: usize) -> Span {
        let (line, column, utf16_column) = self.columns(text, start);
        let (end_line, mut end_column, mut utf16_end) = self.columns(text, end.max(start));
        if (end_line, end_column) == (line, column) {
            end_column += 1;
            utf16_end += 1;
        }
        Span {
            line,
            column,
            end_line,
            end_column,
            utf16_column: (utf16_column != column).then_some(utf16_column),
            utf16_end_column: (utf16_end != end_column).then_some(utf16_end),
        }
    }

    /// The 1-based line of `byte`, and its 1-based column in characters
    /// and in UTF-16 code units.
    fn columns(&self, text: &str, byte: usize) -> (u32, u32, u32) {
        let byte = floor_char_boundary(text, byte);
        let line = self.line_of(byte);
        let before = &text[self.starts[line]..byte];
        let (chars, units) = before.chars().fold((0, 0), |(chars, units), c| {
            (chars + 1, units + c.len_utf16())
        });
        (line as u32 + 1, chars as u32 + 1, units as u32 + 1)
    }
}

fn floor_char_boundary(text: &str, byte: usize) -> usize {
    let mut byte = byte.min(text.len());
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    byte
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIXED: &str = "a=1;\rb=2;\r\nc\u{2028}d\u{2029}e\nf";

    #[test]
    fn every_break_typescript_knows_ends_a_line() {
        let all: Vec<&str> = lines(MIXED).collect();
        assert_eq!(all, ["a=1;", "b=2;", "c", "d", "e", "f"]);
        assert_eq!(lines("x\n").collect::<Vec<_>>(), ["x"]);
        assert_eq!(lines("x\r\n\r\ny").collect::<Vec<_>>(), ["x", "", "y"]);
        assert_eq!(lines("").count(), 0);
        assert!(has_other_breaks(MIXED));
        assert!(!has_other_breaks("a\r\nb\nc"));
    }

    #[test]
    fn positions_agree_with_and_without_the_index() {
        let index = LineIndex::new(MIXED);
        let expected = [
            (0, (1, 1)),
            (5, (2, 1)),
            (9, (2, 5)),  // the CR of CRLF
            (10, (2, 6)), // its LF: still line 2
            (11, (3, 1)),
            (12, (3, 2)),
            (15, (4, 1)),
            (MIXED.len(), (6, 2)),
        ];
        for (byte, position) in expected {
            assert_eq!(index.position(MIXED, byte), position, "byte {byte}");
            assert_eq!(super::position(MIXED, byte), position, "byte {byte}");
        }
        assert_eq!(index.line_at(MIXED, 6), (5, "b=2;"));
        assert_eq!(
            index.line_span(0, 5),
            (1, 1),
            "a range ending after its break"
        );
        assert_eq!(index.line_span(0, 12), (1, 3));
    }

    #[test]
    fn spans_give_utf16_columns_where_they_differ() {
        let text = "const a = 'é';\nconst b = '😀' +;\n";
        let index = LineIndex::new(text);
        let plain = index.span(text, 6, 7);
        assert_eq!((plain.line, plain.column, plain.end_column), (1, 7, 8));
        assert_eq!((plain.utf16_column, plain.utf16_end_column), (None, None));
        let after_emoji = text.find("+;").unwrap();
        let span = index.span(text, after_emoji + 1, after_emoji + 1);
        // `const b = '😀' +` is 15 characters and 16 UTF-16 code units.
        assert_eq!((span.line, span.column, span.end_column), (2, 16, 17));
        assert_eq!(
            (span.utf16_column, span.utf16_end_column),
            (Some(17), Some(18))
        );
        // Before the emoji, nothing differs.
        let before = index.span(
            text,
            text.find("b =").unwrap(),
            text.find("b =").unwrap() + 1,
        );
        assert_eq!((before.utf16_column, before.utf16_end_column), (None, None));
    }

    #[test]
    fn the_issue_example_is_line_two_column_ten() {
        let text = "const a=1;\rconst b=;\r";
        let at = text.find("b=").unwrap() + 2;
        assert_eq!(super::position(text, at), (2, 9));
        assert_eq!(LineIndex::new(text).position(text, at + 1), (2, 10));
    }
}
