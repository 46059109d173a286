//! File paths as snag stores them. A file name is bytes; a stored path is
//! text that keeps every byte and never lets two names meet: valid UTF-8 as
//! it is, `%` as `%25`, and every byte that is not UTF-8 as `%XX`. A name
//! with `\xff` in it and a name with the byte 0xFF are two paths.
//!
//! People see the display form, where `%25` is `%` again and other bytes
//! read `\xFF`; the file system gets the bytes back.

use std::borrow::Cow;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The stored form of a path relative to the indexed root, `/`-separated.
pub fn encode(path: &Path) -> String {
    let bytes = path.as_os_str().as_encoded_bytes();
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        if valid.contains('%') {
            out.push_str(&valid.replace('%', "%25"));
        } else {
            out.push_str(valid);
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    if std::path::MAIN_SEPARATOR != '/' {
        out = out.replace(std::path::MAIN_SEPARATOR, "/");
    }
    out
}

/// The bytes of the name a stored path stands for.
pub fn decode(stored: &str) -> Vec<u8> {
    let bytes = stored.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = bytes
                .get(i + 1..i + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// The file a stored path names, under `root`.
pub fn to_path(root: &Path, stored: &str) -> PathBuf {
    root.join(os_string(decode(stored)))
}

#[cfg(unix)]
fn os_string(bytes: Vec<u8>) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(bytes)
}

#[cfg(not(unix))]
fn os_string(bytes: Vec<u8>) -> OsString {
    OsString::from(String::from_utf8_lossy(&bytes).into_owned())
}

/// For people: `%` as itself, bytes that are not UTF-8 as `\xFF`.
pub fn display(stored: &str) -> Cow<'_, str> {
    if !stored.contains('%') {
        return Cow::Borrowed(stored);
    }
    let mut out = String::with_capacity(stored.len());
    let mut rest = stored;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at + 1..at + 3);
        match escape {
            Some("25") => out.push('%'),
            Some(hex) if u8::from_str_radix(hex, 16).is_ok() => {
                out.push_str("\\x");
                out.push_str(hex);
            }
            _ => {
                out.push('%');
                rest = &rest[at + 1..];
                continue;
            }
        }
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn raw(bytes: &[u8]) -> PathBuf {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
    }

    #[cfg(unix)]
    #[test]
    fn a_byte_and_its_spelling_stay_two_paths() {
        let byte = encode(&raw(b"src/n_\xff.ts"));
        let spelled = encode(Path::new("src/n_\\xff.ts"));
        let percent = encode(Path::new("src/n_%FF.ts"));
        assert_eq!(byte, "src/n_%FF.ts");
        assert_eq!(spelled, "src/n_\\xff.ts");
        assert_eq!(percent, "src/n_%25FF.ts");
        assert_eq!(decode(&byte), b"src/n_\xff.ts");
        assert_eq!(decode(&percent), b"src/n_%FF.ts");
        assert_eq!(display(&byte), "src/n_\\xFF.ts");
        assert_eq!(display(&percent), "src/n_%FF.ts");
        let root = Path::new("/repo");
        assert_eq!(to_path(root, &byte), raw(b"/repo/src/n_\xff.ts"));
    }

    #[test]
    fn ordinary_paths_are_unchanged() {
        for path in ["src/a.ts", "a b/ü.tsx", "x/y/z.d.ts"] {
            assert_eq!(encode(Path::new(path)), path);
            assert_eq!(display(path), path);
            assert_eq!(decode(path), path.as_bytes());
        }
    }
}
