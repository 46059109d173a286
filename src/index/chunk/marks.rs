//! A pre-scan of the text for the bytes where a call or an import reference
//! may be, so the metadata walk can go straight to them.

use super::imports::Imports;

/// Bytes where something the metadata walk records may start: the walk
/// goes from mark to mark and never visits the code in between. A call has
/// `(` or a backtick opening its arguments, a `new` expression the word
/// `new`, an import reference a word that is an import's name. Marks inside
/// strings or comments only cost a look; a missing mark would lose metadata,
/// hence the conservative words.
pub(super) struct Marks {
    positions: Vec<usize>,
}

impl Marks {
    pub(super) fn new(source: &str, imports: &Imports) -> Marks {
        let bytes = source.as_bytes();
        let mut positions = Vec::new();
        let mut at = 0;
        while let Some(&byte) = bytes.get(at) {
            match BYTE_CLASS[usize::from(byte)] {
                ByteClass::Word | ByteClass::Wide => {}
                ByteClass::Open => {
                    if byte == b'`' || may_open_arguments(bytes, at) {
                        positions.push(at);
                    }
                    at += 1;
                    continue;
                }
                ByteClass::Other => {
                    at += 1;
                    continue;
                }
            }
            let start = at;
            let mut ascii = true;
            while let Some(&byte) = bytes.get(at) {
                match BYTE_CLASS[usize::from(byte)] {
                    ByteClass::Word => {}
                    ByteClass::Wide => ascii = false,
                    ByteClass::Open | ByteClass::Other => break,
                }
                at += 1;
            }
            let word = &bytes[start..at];
            if !ascii {
                mark_unicode_words(source, start, at, imports, &mut positions);
            } else if is_marked_word(word, imports) {
                positions.push(start);
            }
        }
        Marks { positions }
    }

    /// The marks in `start..end`.
    pub(super) fn within(&self, start: usize, end: usize) -> &[usize] {
        let from = self.positions.partition_point(|&p| p < start);
        let to = self.positions.partition_point(|&p| p < end);
        self.positions.get(from..to).unwrap_or_default()
    }
}

/// What a byte is to the mark scan, looked up in a table: the scan reads
/// every byte of every file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ByteClass {
    Other,
    /// ASCII identifier characters and backslashes (escapes).
    Word,
    /// Non-ASCII bytes: part of a word, so a word never splits a character.
    Wide,
    /// `(` and the backtick, which may open a call's arguments.
    Open,
}

const BYTE_CLASS: [ByteClass; 256] = {
    let mut table = [ByteClass::Other; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = if !b.is_ascii() {
            ByteClass::Wide
        } else if b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'\\' {
            ByteClass::Word
        } else if b == b'(' || b == b'`' {
            ByteClass::Open
        } else {
            ByteClass::Other
        };
        byte += 1;
    }
    table
};

/// `new`, or the name of an import.
fn is_marked_word(word: &[u8], imports: &Imports) -> bool {
    word == b"new" || imports.lookup(word).is_some()
}

fn is_word_byte(byte: u8) -> bool {
    matches!(
        BYTE_CLASS[usize::from(byte)],
        ByteClass::Word | ByteClass::Wide
    )
}

/// Marks `new` and the import names in a word with non-ASCII characters.
/// Such a word may hold them next to Unicode whitespace (`\u{a0}name`), so
/// it is split there; identifiers never contain whitespace.
fn mark_unicode_words(
    source: &str,
    start: usize,
    end: usize,
    imports: &Imports,
    positions: &mut Vec<usize>,
) {
    let Some(word) = source.get(start..end) else {
        // Not on character boundaries, which a word always is: look everywhere.
        positions.extend(start..end);
        return;
    };
    let mut piece_start = 0;
    for (offset, c) in word
        .char_indices()
        .chain(std::iter::once((word.len(), ' ')))
    {
        if c.is_whitespace() || c == '\u{feff}' {
            let piece = word.get(piece_start..offset).unwrap_or_default();
            if is_marked_word(piece.as_bytes(), imports) {
                positions.push(start + piece_start);
            }
            piece_start = offset + c.len_utf8();
        }
    }
}

/// Whether the `(` at `at` may open a call's arguments. It may not where the
/// code before it on the same line cannot end a callee: an operator or an
/// opening bracket (`= (a) =>`, `a && (b)`), a keyword (`if (`, `return (`),
/// or a function's name (`function f(`). Across a line break a comment may
/// come between callee and `(`, so there it always may.
fn may_open_arguments(bytes: &[u8], at: usize) -> bool {
    let before = &bytes[..at];
    let Some(end) = before.iter().rposition(|&b| b != b' ' && b != b'\t') else {
        return true;
    };
    let last = before[end];
    if !is_word_byte(last) {
        return !matches!(
            last,
            b'=' | b','
                | b'('
                | b'['
                | b'{'
                | b';'
                | b':'
                | b'&'
                | b'|'
                | b'+'
                | b'-'
                | b'*'
                | b'%'
                | b'^'
                | b'~'
                | b'<'
                | b'?'
        );
    }
    let start = word_start(before, end);
    if is_property_name(before, start) {
        return true;
    }
    let word = &before[start..=end];
    let keyword = matches!(
        word,
        b"if"
            | b"for"
            | b"while"
            | b"switch"
            | b"catch"
            | b"with"
            | b"return"
            | b"typeof"
            | b"void"
            | b"case"
            | b"else"
            | b"do"
            | b"delete"
            | b"instanceof"
            | b"throw"
            | b"in"
            | b"function"
    );
    !keyword && !names_a_function(before, start)
}

/// Where the word ending at `end` starts.
fn word_start(bytes: &[u8], end: usize) -> usize {
    bytes[..=end]
        .iter()
        .rposition(|&b| !is_word_byte(b))
        .map_or(0, |i| i + 1)
}

/// Whether the word at `start` follows `.` or `#`: a property, which may be
/// named like a keyword (`promise.catch(`).
fn is_property_name(bytes: &[u8], start: usize) -> bool {
    bytes[..start]
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .is_some_and(|i| matches!(bytes[i], b'.' | b'#'))
}

/// Whether the word at `start` is the name in `function name` or
/// `function* name`.
fn names_a_function(bytes: &[u8], start: usize) -> bool {
    let mut end = start;
    let skip_blanks = |end: &mut usize| {
        while *end > 0 && bytes[*end - 1].is_ascii_whitespace() {
            *end -= 1;
        }
    };
    skip_blanks(&mut end);
    if end > 0 && bytes[end - 1] == b'*' {
        end -= 1;
        skip_blanks(&mut end);
    }
    end >= 8 && &bytes[end - 8..end] == b"function" && (end == 8 || !is_word_byte(bytes[end - 9]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parentheses_that_cannot_open_arguments_are_not_marks() {
        let marked = |source: &str| {
            let at = source.rfind('(').unwrap();
            may_open_arguments(source.as_bytes(), at)
        };
        for not_a_call in [
            "if (",
            "} else if(",
            "return (",
            "x = (",
            "f(a, (",
            "a && (",
            "cond ? (",
            "function (",
            "function name(",
            "async function* gen (",
            "for (",
            "typeof (",
        ] {
            assert!(!marked(not_a_call), "{not_a_call}");
        }
        for call in [
            "f(",
            "f (",
            "promise.catch(",
            "obj.\n  if(",
            "this.#for(",
            "of(",
            "await(",
            "x!(",
            "f<T>(",
            "f()(",
            "a[0](",
            "tag`x`(",
            "x = \n(",
            "/* c */ (",
            "functional(",
            "my_function(",
            "(",
        ] {
            assert!(marked(call), "{call}");
        }
    }
}
