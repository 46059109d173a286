//! Reading a file and turning its bytes into text, or saying precisely why
//! that is not possible.

use std::path::Path;

use super::details::ErrorDetails;
use super::outcome::{ErrorType, FileError, SkipReason, Span};

/// How far into a file NUL bytes mark it as binary.
const BINARY_SNIFF_BYTES: usize = 8 * 1024;

/// The result of reading one file.
#[derive(Debug, PartialEq)]
pub enum Source {
    Text(String),
    Skipped(SkipReason),
    /// Unreadable (`io_error`) or undecodable (`encoding_error`).
    Failed(Box<FileError>),
}

/// Reads `path` unless it is larger than `max_size`, then decodes it:
/// UTF-8 (BOM stripped), or UTF-16 with a BOM or recognisably without one;
/// anything else is an `encoding_error` that names the offset of the first
/// bad byte. Returns the file's size in bytes with the result.
pub fn read_source(path: &Path, max_size: u64) -> (u64, Source) {
    match read_bounded(path, max_size) {
        Ok(bytes) => (bytes.len() as u64, decode(&bytes)),
        Err(Unread::Skipped { size, reason }) => (size, Source::Skipped(reason)),
        Err(Unread::Failed(error)) => (0, Source::Failed(error)),
    }
}

/// Why a file's bytes were not read.
#[derive(Debug, PartialEq)]
pub enum Unread {
    /// Not a regular file of its own, or too large: never an error.
    Skipped {
        size: u64,
        reason: SkipReason,
    },
    Failed(Box<FileError>),
}

/// The bytes of `path`, at most `max_size` of them, read safely from a file
/// that may have been swapped since it was discovered: a symlink is not
/// followed, a FIFO or device is not waited on, and a file that grows while
/// it is read is cut off at `max_size + 1` bytes and skipped as too large.
pub fn read_bounded(path: &Path, max_size: u64) -> Result<Vec<u8>, Unread> {
    use std::io::Read;
    let file = open_regular(path)?;
    let size = file
        .metadata()
        .map_err(|e| Unread::Failed(Box::new(io_error("stat", &e))))?
        .len();
    let too_large = |size| Unread::Skipped {
        size,
        reason: SkipReason::TooLarge,
    };
    if size > max_size {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(max_size.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Unread::Failed(Box::new(io_error("read", &e))))?;
    if bytes.len() as u64 > max_size {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Opens `path` only if it is a regular file itself: without following a
/// symlink, without blocking (a FIFO with no writer would wait forever),
/// and checked on the opened handle, so a swap after the check cannot
/// matter.
fn open_regular(path: &Path) -> Result<std::fs::File, Unread> {
    let skipped = |reason| Unread::Skipped { size: 0, reason };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = match options.open(path) {
        Ok(file) => file,
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(skipped(SkipReason::Symlink));
        }
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
            return Err(skipped(SkipReason::NotAFile));
        }
        Err(e) => return Err(Unread::Failed(Box::new(io_error("open", &e)))),
    };
    let kind = file
        .metadata()
        .map_err(|e| Unread::Failed(Box::new(io_error("stat", &e))))?
        .file_type();
    if !kind.is_file() {
        return Err(skipped(SkipReason::NotAFile));
    }
    Ok(file)
}

fn io_error(action: &str, e: &std::io::Error) -> FileError {
    FileError::new(
        ErrorType::IoError,
        action,
        format!("cannot {action} the file: {e}"),
    )
}

/// Decodes bytes already in memory.
pub fn decode(bytes: &[u8]) -> Source {
    let decoded = if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        decode_utf16(rest, 2, u16::from_le_bytes, "UTF-16LE")
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        decode_utf16(rest, 2, u16::from_be_bytes, "UTF-16BE")
    } else if let Some(order) = utf16_without_bom(bytes) {
        match order {
            ByteOrder::Little => decode_utf16(bytes, 0, u16::from_le_bytes, "UTF-16LE"),
            ByteOrder::Big => decode_utf16(bytes, 0, u16::from_be_bytes, "UTF-16BE"),
        }
    } else {
        if bytes[..bytes.len().min(BINARY_SNIFF_BYTES)].contains(&0) {
            return Source::Skipped(SkipReason::Binary);
        }
        let (bom_len, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
            Some(body) => (3, body),
            None => (0, bytes),
        };
        std::str::from_utf8(body)
            .map(str::to_owned)
            .map_err(|e| invalid_utf8(body, e, bom_len))
    };
    match decoded {
        Ok(text) if text.trim().is_empty() => Source::Skipped(SkipReason::Empty),
        Ok(text) => Source::Text(text),
        Err(error) => Source::Failed(Box::new(error)),
    }
}

/// `bytes` is the text after any BOM of `bom_len` bytes; offsets reported
/// are the file's.
fn invalid_utf8(bytes: &[u8], e: std::str::Utf8Error, bom_len: usize) -> FileError {
    let valid = e.valid_up_to();
    let offset = bom_len + valid;
    let bad = &bytes[valid..bytes.len().min(valid + e.error_len().unwrap_or(1))];
    let shown: Vec<String> = bad.iter().map(|b| format!("0x{b:02X}")).collect();
    // The text before the bad byte is valid, so its lines and columns count.
    let before = String::from_utf8_lossy(&bytes[..valid]);
    let (line, column) = super::lines::position(&before, before.len());
    let mut error = FileError::new(
        ErrorType::EncodingError,
        "utf8",
        format!(
            "{line}:{column} invalid UTF-8 at byte {offset} ({}); the file is neither UTF-8 nor UTF-16 with a BOM",
            shown.join(" ")
        ),
    );
    error.span = Some(Span {
        line,
        column,
        end_line: line,
        end_column: column + 1,
        ..Span::default()
    });
    error.details = ErrorDetails {
        byte_offset: Some(offset as u64),
        bytes: shown,
        ..Default::default()
    };
    error
}

enum ByteOrder {
    Little,
    Big,
}

/// UTF-16 without a byte order mark, told by its NULs: text that is mostly
/// ASCII has a zero in every other byte, on the same side of each pair,
/// which neither UTF-8 nor a binary file has.
fn utf16_without_bom(bytes: &[u8]) -> Option<ByteOrder> {
    let sample = &bytes[..bytes.len().min(BINARY_SNIFF_BYTES) & !1];
    let pairs = sample.len() / 2;
    if pairs < 2 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let zeros = |side: usize| {
        sample
            .iter()
            .skip(side)
            .step_by(2)
            .filter(|b| **b == 0)
            .count()
    };
    let (even, odd) = (zeros(0), zeros(1));
    // Most pairs hold an ASCII character, and almost never a zero on the
    // other side.
    let one_sided = |zeros: usize, other: usize| zeros * 2 >= pairs && other * 16 <= zeros;
    if one_sided(odd, even) {
        Some(ByteOrder::Little)
    } else if one_sided(even, odd) {
        Some(ByteOrder::Big)
    } else {
        None
    }
}

/// `bytes` after a BOM of `bom_len` bytes; offsets reported are the file's.
#[allow(clippy::result_large_err)] // a private step; `decode` flattens it
fn decode_utf16(
    bytes: &[u8],
    bom_len: usize,
    unit: fn([u8; 2]) -> u16,
    name: &str,
) -> Result<String, FileError> {
    if !bytes.len().is_multiple_of(2) {
        let offset = bytes.len() + bom_len - 1;
        let mut error = FileError::new(
            ErrorType::EncodingError,
            "utf16",
            format!("{name} text ends in half a character at byte {offset}"),
        );
        error.details = ErrorDetails {
            byte_offset: Some(offset as u64),
            ..Default::default()
        };
        return Err(error);
    }
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    let mut text = String::with_capacity(bytes.len());
    for (index, decoded) in char::decode_utf16(units).enumerate() {
        match decoded {
            Ok(c) => text.push(c),
            Err(e) => {
                let offset = bom_len + index * 2;
                let mut error = FileError::new(
                    ErrorType::EncodingError,
                    "utf16",
                    format!(
                        "invalid {name} at byte {offset}: unpaired surrogate 0x{:04X}",
                        e.unpaired_surrogate()
                    ),
                );
                error.details = ErrorDetails {
                    byte_offset: Some(offset as u64),
                    ..Default::default()
                };
                return Err(error);
            }
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> String {
        match decode(bytes) {
            Source::Text(t) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(text(b"export const a = 1;\n"), "export const a = 1;\n");
        assert_eq!(
            text(b"\xEF\xBB\xBFexport const bom = 1;\n"),
            "export const bom = 1;\n"
        );
        assert_eq!(
            text("const s = 'こんにちは';".as_bytes()),
            "const s = 'こんにちは';"
        );
    }

    #[test]
    fn utf16_with_bom() {
        let le: Vec<u8> = "\u{feff}export const wide = 'w';\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(text(&le), "export const wide = 'w';\n");
        let be: Vec<u8> = "\u{feff}const b = '😀';"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(text(&be), "const b = '😀';");
    }

    fn failure(bytes: &[u8]) -> FileError {
        match decode(bytes) {
            Source::Failed(error) => *error,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn latin1_is_an_encoding_error_with_the_offset() {
        let err = failure(b"export const caf\xe9 = 'caf\xe9';\n");
        assert_eq!(err.error_type, ErrorType::EncodingError);
        assert!(err.message.contains("at byte 16 (0xE9)"), "{}", err.message);
        assert!(err.message.starts_with("1:17 "), "{}", err.message);
        assert_eq!(err.details.byte_offset, Some(16));
        assert_eq!(err.span.unwrap().line, 1);
    }

    #[test]
    fn offsets_on_later_lines() {
        let err = failure(b"a\nbc\xff");
        assert!(
            err.message.starts_with("2:3 invalid UTF-8 at byte 4"),
            "{}",
            err.message
        );
    }

    #[test]
    fn bad_utf16_is_an_encoding_error() {
        let err = failure(b"\xFF\xFE\x00\xD8\x41\x00");
        assert!(
            err.message.contains("unpaired surrogate"),
            "{}",
            err.message
        );
        assert!(matches!(decode(b"\xFF\xFEa"), Source::Failed(_)));
        let after_bom = failure(b"\xEF\xBB\xBFab\xff");
        assert_eq!(after_bom.details.byte_offset, Some(5));
    }

    #[test]
    fn binary_and_empty_are_skipped() {
        let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        assert_eq!(decode(&binary), Source::Skipped(SkipReason::Binary));
        assert_eq!(decode(b""), Source::Skipped(SkipReason::Empty));
        assert_eq!(
            decode(b"\xEF\xBB\xBF  \n"),
            Source::Skipped(SkipReason::Empty)
        );
        // A NUL after the first 8 KiB does not make a file binary.
        let mut late = vec![b' '; BINARY_SNIFF_BYTES + 10];
        late.extend_from_slice(b"let a = 1;\0");
        assert!(matches!(decode(&late), Source::Text(_)));
    }

    #[test]
    fn too_large_is_skipped_without_reading_and_missing_is_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.ts");
        std::fs::write(&path, "x".repeat(100)).unwrap();
        assert_eq!(
            read_source(&path, 99),
            (100, Source::Skipped(SkipReason::TooLarge))
        );
        let (_, missing) = read_source(&dir.path().join("gone.ts"), 1000);
        assert!(matches!(missing, Source::Failed(e) if e.error_type == ErrorType::IoError));
    }

    #[test]
    fn utf16_without_a_bom_is_told_by_its_nuls() {
        let source = "export const wide = 'w';\nconst café = 1;\n";
        let le: Vec<u8> = source.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = source.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(text(&le), source);
        assert_eq!(text(&be), source);
        // A lone surrogate: it looked like UTF-16, but is not.
        let mut broken = le.clone();
        broken.extend(0xD800u16.to_le_bytes());
        broken.extend(b"a\0");
        assert!(
            matches!(decode(&broken), Source::Failed(e) if e.error_type == ErrorType::EncodingError)
        );
        // Binary data and text with a few NULs stay binary.
        let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        assert_eq!(decode(&binary), Source::Skipped(SkipReason::Binary));
        assert_eq!(
            decode(b"export const a = 1;\nconst b = '\0\0' +;\n"),
            Source::Skipped(SkipReason::Binary)
        );
    }
}
