//! The engine's vocabulary for what happened to a file: outcomes, skip
//! reasons and error types. Every other layer speaks these words.

use serde::{Deserialize, Serialize};

use super::details::ErrorDetails;
use super::fingerprint::{Fingerprint, fingerprint};
pub use super::problems::{Problem, primary_problem};
pub use super::verdict::VerdictReport;
use crate::vocabulary::vocabulary;

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

vocabulary!(ErrorType, "error type", {
    ParsingError => "parsing_error",
    EncodingError => "encoding_error",
    ChunkingError => "chunking_error",
    EmbeddingError => "embedding_error",
    PersistenceError => "persistence_error",
    IoError => "io_error",
    TimeoutError => "timeout_error",
    UnexpectedError => "unexpected_error",
});

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
    /// Failed or partial: the file has errors.
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Failed | Outcome::Partial)
    }
}

vocabulary!(Outcome, "outcome", {
    Indexed => "indexed",
    Partial => "partial",
    Failed => "failed",
    Skipped => "skipped",
});

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
    /// Replaced by a symlink since it was discovered: not followed.
    Symlink,
    /// Not a regular file (a FIFO, a device, a socket, a directory): it was
    /// replaced since it was discovered.
    NotAFile,
    /// A `.vue`/`.svelte` component without a `<script>` block snag parses
    /// (a template-only component, or scripts in another language).
    NoScript,
}

vocabulary!(SkipReason, "skip reason", {
    Empty => "empty",
    Binary => "binary",
    TooLarge => "too_large",
    Symlink => "symlink",
    NotAFile => "not_a_file",
    NoScript => "no_script",
});

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

vocabulary!(Verdict, "verdict", {
    GrammarGap => "grammar_gap",
    InvalidSource => "invalid_source",
    Unknown => "unknown",
});

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

vocabulary!(FailureKind, "failure kind", {
    GrammarGap => "grammar_gap",
    InvalidSource => "invalid_source",
    Other => "other",
});

impl FailureKind {
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
    pub details: ErrorDetails,
    /// For syntax errors: what the reference parser says about the file.
    pub verdict: Option<Box<VerdictReport>>,
    /// The group the failure belongs to, set by [`FileError::seal`] on the
    /// engine's thread once the file is done, so the writer only copies it.
    #[serde(skip)]
    pub group: Option<Fingerprint>,
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
            details: ErrorDetails::default(),
            verdict: None,
            group: None,
        }
    }

    /// Final form for storing: the fingerprint computed, and the group's
    /// title, the construct and the verdict copied into `details`, where
    /// every surface reads them.
    pub fn seal(&mut self) {
        let group = fingerprint(self);
        self.details.title = group.title.clone();
        self.details.construct = self.construct.clone();
        if let Some(verdict) = &self.verdict {
            self.details.verdict = Some(verdict.verdict);
            self.details.reference = Some(verdict.reference.clone());
        }
        self.group = Some(group);
    }

    /// The file's problems (syntax errors): the error is then located at
    /// its primary problem (the first mistake, else the first problem), and
    /// says so first, with how many more there are.
    pub fn set_problems(&mut self, problems: Vec<Problem>) {
        let Some(primary) = primary_problem(&problems) else {
            return;
        };
        let words = match primary.verdict {
            Verdict::GrammarGap => format!("grammar gap: {}", primary.construct),
            Verdict::InvalidSource | Verdict::Unknown => primary.message.clone(),
        };
        let more = match problems.len() - 1 {
            0 => String::new(),
            1 => "; 1 more problem".to_owned(),
            n => format!("; {n} more problems"),
        };
        self.message = format!(
            "{}:{} {words}{more}",
            primary.span.line, primary.span.column
        );
        self.span = Some(primary.span);
        self.construct = primary.construct.clone();
        self.details.problems = problems;
    }

    /// The group, computed now if the error was not sealed.
    pub fn group(&self) -> Fingerprint {
        self.group.clone().unwrap_or_else(|| fingerprint(self))
    }
}

/// A 1-based line/column range; columns count characters (Unicode scalar
/// values), end is exclusive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    /// `column` counted in UTF-16 code units, as editors and the Language
    /// Server Protocol count, when that differs: a character outside the
    /// Basic Multilingual Plane (an emoji, say) comes before it on its line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utf16_column: Option<u32>,
    /// `end_column` in UTF-16 code units, when that differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utf16_end_column: Option<u32>,
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
