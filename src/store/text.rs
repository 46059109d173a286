//! Making text storable. PostgreSQL rejects NUL in `text` and `jsonb`, and
//! the original service cut long messages; both are done here, visibly, so
//! that no row is ever dropped for what it says.

use std::borrow::Cow;

/// The original service's limits, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;
pub const MAX_TRACEBACK_CHARS: usize = 10_000;

/// Stands in for a NUL byte: the "symbol for null" control picture.
const NUL_STAND_IN: &str = "\u{2400}";

/// Decodes bytes of unknown encoding; invalid sequences become U+FFFD.
pub fn from_bytes(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Replaces NUL characters so PostgreSQL accepts the text.
pub fn storable(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', NUL_STAND_IN))
    } else {
        Cow::Borrowed(text)
    }
}

/// Storable and at most `max_chars` characters, the marker included.
pub fn storable_truncated(text: &str, max_chars: usize) -> String {
    let text = storable(text);
    let total = text.chars().count();
    if total <= max_chars {
        return text.into_owned();
    }
    let mut marker = format!("… [truncated {total} chars]");
    let marker_len = marker.chars().count();
    if marker_len >= max_chars {
        marker = "…".to_owned();
    }
    let keep = max_chars - marker.chars().count();
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(&marker);
    out
}

/// Replaces NUL in every string of a JSON document, keys included.
pub fn storable_json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(storable(s).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(storable_json).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (storable(k).into_owned(), storable_json(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_replaced_visibly() {
        assert_eq!(storable("a\0b"), "a\u{2400}b");
        assert!(matches!(storable("ab"), Cow::Borrowed(_)));
    }

    #[test]
    fn long_text_is_cut_with_a_marker_within_the_limit() {
        let long = "é".repeat(600);
        let cut = storable_truncated(&long, MAX_MESSAGE_CHARS);
        assert_eq!(cut.chars().count(), MAX_MESSAGE_CHARS);
        assert!(cut.ends_with("… [truncated 600 chars]"), "{cut}");
        assert_eq!(storable_truncated("short", 500), "short");
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily() {
        assert_eq!(from_bytes(b"caf\xe9"), "caf\u{FFFD}");
    }

    #[test]
    fn json_strings_lose_their_nul() {
        let v = serde_json::json!({"k\u{0}": ["x\u{0}", 1, {"y": "z\u{0}"}]});
        let clean = storable_json(&v);
        assert!(!clean.to_string().contains("\\u0000"), "{clean}");
    }
}
