//! Grouping failures: the same error type, the same syntactic construct and
//! the same message once numbers, names and paths are normalised give the
//! same fingerprint, whatever file they occur in.

use std::sync::LazyLock;

use regex::Regex;

use super::outcome::{FileError, Verdict};

/// A group's identity and its human title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// 16 hex digits; stable across releases (xxh3 is a fixed algorithm).
    pub id: String,
    /// The normalised message, e.g. "unexpected `{` in formal_parameters".
    pub title: String,
}

/// Grammar gaps group by the construct the reference parser names, so all
/// files hit by the same gap form one group however tree-sitter's messages
/// differ; everything else by type, construct and normalised message.
pub fn fingerprint(error: &FileError) -> Fingerprint {
    // A syntax error with problems is known by its primary problem's group.
    if let Some(primary) = crate::index::problems::primary_problem(&error.details.problems) {
        return Fingerprint {
            id: primary.fingerprint.clone(),
            title: primary.title.clone(),
        };
    }
    let is_gap = error
        .verdict
        .as_ref()
        .is_some_and(|v| v.verdict == Verdict::GrammarGap);
    if is_gap {
        let key = format!("{}\ngrammar_gap\n{}", error.error_type, error.construct);
        return Fingerprint {
            id: format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes())),
            title: format!("grammar gap: {}", error.construct),
        };
    }
    let title = normalise(&error.message);
    let key = format!("{}\n{}\n{}", error.error_type, error.construct, title);
    Fingerprint {
        id: format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes())),
        title,
    }
}

/// Strips positions and the count of further errors, then replaces paths,
/// names inside backticks and numbers by placeholders.
pub fn normalise(message: &str) -> String {
    static POSITION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\d+:\d+\s+").expect("valid regex"));
    static MORE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r";\s*\d+ more (syntax errors?|problems?)$").expect("valid regex")
    });
    static PATH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:[A-Za-z]:)?(?:[\w.\-@]*/)+[\w.\-@]+").expect("valid regex")
    });
    static QUOTED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"`[^`]*`").expect("valid regex"));
    static WORD: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"[A-Za-z_$][\w$]*").expect("valid regex"));
    static STRING: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"'[^'\n]*'|"[^"\n]*""#).expect("valid regex"));
    static NUMBER: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\b0x[0-9A-Fa-f]+\b|\b\d+\b").expect("valid regex"));

    let text = POSITION.replace(message, "");
    let text = MORE.replace(&text, "");
    let text = PATH.replace_all(&text, "<path>");
    let text = STRING.replace_all(&text, "<string>");
    // Inside backticks is code: its identifiers are names, its keywords not.
    let text = QUOTED.replace_all(&text, |quoted: &regex::Captures| {
        WORD.replace_all(&quoted[0], |word: &regex::Captures| {
            let placeholder = word.get(0).is_some_and(|w| {
                let before = &quoted[0][..w.start()];
                before.ends_with('<') && quoted[0][w.end()..].starts_with('>')
            });
            if placeholder || is_keyword(&word[0]) {
                word[0].to_owned()
            } else {
                "<name>".to_owned()
            }
        })
        .into_owned()
    });
    // Numbers that are part of a name ("UTF-8", "es2015") stay.
    NUMBER
        .replace_all(&text, |number: &regex::Captures| {
            let start = number.get(0).map_or(0, |m| m.start());
            let glued = text[..start].ends_with(|c: char| c == '-' || c.is_alphabetic());
            if glued {
                number[0].to_owned()
            } else {
                "N".to_owned()
            }
        })
        .into_owned()
}

/// Keywords stay in titles: "unexpected `class`" and "unexpected `foo`" are
/// different problems.
fn is_keyword(word: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "abstract",
        "as",
        "async",
        "await",
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "declare",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "from",
        "function",
        "get",
        "global",
        "if",
        "implements",
        "import",
        "in",
        "infer",
        "instanceof",
        "interface",
        "is",
        "keyof",
        "let",
        "module",
        "namespace",
        "new",
        "null",
        "of",
        "out",
        "private",
        "protected",
        "public",
        "readonly",
        "return",
        "satisfies",
        "set",
        "static",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "type",
        "typeof",
        "undefined",
        "unique",
        "using",
        "var",
        "void",
        "while",
        "with",
        "yield",
    ];
    KEYWORDS.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::outcome::ErrorType;

    fn error(message: &str, construct: &str) -> FileError {
        FileError::new(ErrorType::ParsingError, construct, message)
    }

    #[test]
    fn positions_counts_names_and_numbers_are_normalised() {
        assert_eq!(
            normalise("3:21 unexpected `{` in formal_parameters; 2 more syntax errors"),
            "unexpected `{` in formal_parameters"
        );
        assert_eq!(
            normalise("1:5 unexpected `fooBar` in class_body"),
            "unexpected `<name>` in class_body"
        );
        assert_eq!(
            normalise("1:5 unexpected `class` in class_body"),
            "unexpected `class` in class_body"
        );
        assert_eq!(
            normalise("3:1 cannot parse `export function bad …` in program"),
            "cannot parse `export function <name> …` in program"
        );
        assert_eq!(
            normalise("1:17 invalid UTF-8 at byte 16 (0xE9); the file is"),
            "invalid UTF-8 at byte N (N); the file is"
        );
        assert_eq!(
            normalise("unexpected `'abc' + x` here"),
            "unexpected `<string> + <name>` here"
        );
        assert_eq!(
            normalise("cannot read src/a/b.ts: denied"),
            "cannot read <path>: denied"
        );
    }

    #[test]
    fn same_problem_in_different_files_shares_a_fingerprint() {
        let a = fingerprint(&error(
            "3:21 unexpected `{` in formal_parameters; 2 more syntax errors",
            "formal_parameters",
        ));
        let b = fingerprint(&error(
            "9:2 unexpected `{` in formal_parameters",
            "formal_parameters",
        ));
        let c = fingerprint(&error(
            "9:2 unexpected `)` in formal_parameters",
            "formal_parameters",
        ));
        let d = fingerprint(&error(
            "9:2 unexpected `{` in formal_parameters",
            "class_body",
        ));
        assert_eq!(a, b);
        assert_ne!(a.id, c.id);
        assert_ne!(a.id, d.id);
        assert_eq!(a.id.len(), 16);
        assert_eq!(a.title, "unexpected `{` in formal_parameters");
    }
}
