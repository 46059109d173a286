//! The engine's vocabulary for what happened to a file: outcomes, skip
//! reasons and error types. Every other layer speaks these words.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use super::verdict::VerdictReport;

/// Why a file failed. The database's CHECK constraint admits exactly these.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    ParsingError,
    EncodingError,
    ChunkingError,
    EmbeddingError,
    PersistenceError,
    IoError,
    TimeoutError,
    UnexpectedError,
}

impl ErrorType {
    pub const ALL: [ErrorType; 8] = [
        ErrorType::ParsingError,
        ErrorType::EncodingError,
        ErrorType::ChunkingError,
        ErrorType::EmbeddingError,
        ErrorType::PersistenceError,
        ErrorType::IoError,
        ErrorType::TimeoutError,
        ErrorType::UnexpectedError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::ParsingError => "parsing_error",
            ErrorType::EncodingError => "encoding_error",
            ErrorType::ChunkingError => "chunking_error",
            ErrorType::EmbeddingError => "embedding_error",
            ErrorType::PersistenceError => "persistence_error",
            ErrorType::IoError => "io_error",
            ErrorType::TimeoutError => "timeout_error",
            ErrorType::UnexpectedError => "unexpected_error",
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error type name that is not one of [`ErrorType::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error type `{name}`; expected one of: {}", ErrorType::ALL.map(ErrorType::as_str).join(", "))]
pub struct UnknownErrorType {
    pub name: String,
}

impl FromStr for ErrorType {
    type Err = UnknownErrorType;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ErrorType::ALL
            .into_iter()
            .find(|t| t.as_str() == name)
            .ok_or_else(|| UnknownErrorType {
                name: name.to_owned(),
            })
    }
}

impl TryFrom<String> for ErrorType {
    type Error = UnknownErrorType;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        name.parse()
    }
}

/// What became of a discovered file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Parsed cleanly and chunked.
    Indexed,
    /// Syntax errors, but the chunks whose code is intact were kept.
    Partial,
    /// Nothing usable came out of it.
    Failed,
    /// Deliberately not indexed (see [`SkipReason`]); never an error.
    Skipped,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Indexed,
        Outcome::Partial,
        Outcome::Failed,
        Outcome::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Indexed => "indexed",
            Outcome::Partial => "partial",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == name)
            .ok_or_else(|| {
                format!(
                    "unknown outcome `{name}`; expected one of: {}",
                    Outcome::ALL.map(Outcome::as_str).join(", ")
                )
            })
    }
}

impl TryFrom<String> for Outcome {
    type Error = String;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        name.parse()
    }
}

/// Why a file was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// No bytes, or only whitespace.
    Empty,
    /// NUL bytes near the start: not text.
    Binary,
    /// Larger than `--max-file-size`.
    TooLarge,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Empty => "empty",
            SkipReason::Binary => "binary",
            SkipReason::TooLarge => "too_large",
        }
    }
}

/// What a second, independent parser says about a file tree-sitter could
/// not parse. The database's CHECK constraint admits exactly these.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The reference parser accepts the file: the grammar is wrong, not the code.
    GrammarGap,
    /// The reference parser rejects it too: the source is broken.
    InvalidSource,
    /// The reference parser could not decide (it crashed, ran out of time,
    /// or was not run); the report says why.
    Unknown,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [
        Verdict::GrammarGap,
        Verdict::InvalidSource,
        Verdict::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::GrammarGap => "grammar_gap",
            Verdict::InvalidSource => "invalid_source",
            Verdict::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Verdict {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Verdict::ALL
            .into_iter()
            .find(|v| v.as_str() == name)
            .ok_or_else(|| {
                format!(
                    "unknown verdict `{name}`; expected one of: {}",
                    Verdict::ALL.map(Verdict::as_str).join(", ")
                )
            })
    }
}

impl TryFrom<String> for Verdict {
    type Error = String;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        name.parse()
    }
}

/// Why a failing file failed, in the three kinds that must never be
/// confused: a grammar gap (valid code), broken source, anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Every error of the file is a syntax error the reference parser accepts.
    GrammarGap,
    /// A syntax error the reference parser confirms.
    InvalidSource,
    /// Anything else: other error types, undecided verdicts.
    Other,
}

impl FailureKind {
    pub const ALL: [FailureKind; 3] = [
        FailureKind::GrammarGap,
        FailureKind::InvalidSource,
        FailureKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::GrammarGap => "grammar_gap",
            FailureKind::InvalidSource => "invalid_source",
            FailureKind::Other => "other",
        }
    }

    /// The kind of a file with these errors, `None` without errors.
    pub fn of(errors: &[FileError]) -> Option<FailureKind> {
        if errors.is_empty() {
            return None;
        }
        let verdict_of = |e: &FileError| {
            (e.error_type == ErrorType::ParsingError)
                .then(|| e.verdict.as_ref().map(|v| v.verdict))
                .flatten()
        };
        if errors
            .iter()
            .all(|e| verdict_of(e) == Some(Verdict::GrammarGap))
        {
            Some(FailureKind::GrammarGap)
        } else if errors
            .iter()
            .any(|e| verdict_of(e) == Some(Verdict::InvalidSource))
        {
            Some(FailureKind::InvalidSource)
        } else {
            Some(FailureKind::Other)
        }
    }
}

impl FromStr for FailureKind {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        FailureKind::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
            .ok_or_else(|| format!("unknown failure kind `{name}`"))
    }
}

impl TryFrom<String> for FailureKind {
    type Error = String;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        name.parse()
    }
}

/// One failure of one file, with where it happened when that is known.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileError {
    pub error_type: ErrorType,
    /// One line, like a compiler's.
    pub message: String,
    pub traceback: Option<String>,
    /// 1-based; columns count characters.
    pub span: Option<Span>,
    /// The syntactic construct the failure is about (a node kind, or the
    /// stage that failed), for grouping.
    pub construct: String,
    /// The chunk kind being built when it failed, if any.
    pub chunk_type: Option<String>,
    pub details: serde_json::Value,
    /// For syntax errors: what the reference parser says about the file.
    pub verdict: Option<Box<VerdictReport>>,
}

impl FileError {
    pub fn new(
        error_type: ErrorType,
        construct: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FileError {
            error_type,
            message: message.into(),
            traceback: None,
            span: None,
            construct: construct.into(),
            chunk_type: None,
            details: serde_json::Value::Object(Default::default()),
            verdict: None,
        }
    }
}

/// A 1-based line/column range; columns count characters, end is exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in ErrorType::ALL {
            assert_eq!(t.as_str().parse::<ErrorType>(), Ok(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
    }

    #[test]
    fn unknown_name_lists_the_valid_ones() {
        let err = "syntax_error".parse::<ErrorType>().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`syntax_error`"), "{text}");
        assert!(
            text.contains("parsing_error") && text.contains("unexpected_error"),
            "{text}"
        );
    }
}
