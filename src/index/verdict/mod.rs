//! A second opinion on every syntax error: the same text parsed by an
//! independent, strict parser tells a grammar gap (valid code tree-sitter
//! cannot parse) from broken source. For gaps, the construct behind the
//! first error site is named so groups read as causes.

pub mod construct;
pub mod reference;
pub mod repro;

use std::ops::Range;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::outcome::Verdict;
pub use reference::{REFERENCE_PARSER, SourceKind};

/// What the reference parser said, as stored in `details.reference`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReferenceReport {
    /// The reference parser and its version.
    pub parser: String,
    /// Its first diagnostic (by position), for `invalid_source`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// 1-based line and character column of that diagnostic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// Why it could not decide, for `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The construct behind the first error site, in plain words, for
    /// `grammar_gap`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub construct: Option<String>,
    /// The reference parser's name for that node, e.g. `TSTypeParameter`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Where that node starts and ends (1-based, columns count characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_span: Option<super::outcome::Span>,
    pub duration_us: u64,
}

/// The verdict on one file's syntax errors and what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictReport {
    pub verdict: Verdict,
    pub reference: ReferenceReport,
}

impl VerdictReport {
    /// Time the verdict took, on the thread that asked for it.
    pub fn duration(&self) -> Duration {
        Duration::from_micros(self.reference.duration_us)
    }

    /// One line for people: "grammar gap: variance annotation on a type
    /// parameter", "invalid source: 1:21 Expected `;` but found
    /// `Identifier`", "unknown: the reference parser crashed: …".
    pub fn describe(&self) -> String {
        let r = &self.reference;
        match self.verdict {
            Verdict::GrammarGap => format!(
                "grammar gap: {} accepts the file{}",
                r.parser,
                r.construct
                    .as_ref()
                    .map(|c| format!("; the construct is a {c}"))
                    .unwrap_or_default()
            ),
            Verdict::InvalidSource => {
                let at = match (r.line, r.column) {
                    (Some(line), Some(column)) => format!("{line}:{column} "),
                    _ => String::new(),
                };
                format!(
                    "invalid source: {} says {at}{}",
                    r.parser,
                    r.message.as_deref().unwrap_or("the file does not parse")
                )
            }
            Verdict::Unknown => format!(
                "unknown: {}",
                r.reason
                    .as_deref()
                    .unwrap_or("the reference parser did not decide")
            ),
        }
    }
}

/// What the verdict needs to know about a file tree-sitter flagged.
#[derive(Debug, Clone)]
pub struct VerdictRequest<'a> {
    pub text: &'a str,
    /// The file's path (its name decides TypeScript, JSX, declaration file).
    pub rel_path: &'a str,
    /// Byte range of tree-sitter's first error site.
    pub first_site: Range<usize>,
    /// How deep tree-sitter's tree nests, a floor for the text's nesting.
    pub tree_depth: usize,
    /// Longest the reference parser may take.
    pub budget: Duration,
}

/// Runs the reference parser on the text and says what it found.
pub fn judge(request: &VerdictRequest<'_>) -> VerdictReport {
    let started = Instant::now();
    let kind = SourceKind::for_path(request.rel_path);
    let judgement = reference::check(
        request.text,
        kind,
        request.first_site.clone(),
        request.tree_depth,
        request.budget,
    );
    let mut reference = ReferenceReport {
        parser: REFERENCE_PARSER.to_owned(),
        ..Default::default()
    };
    let verdict = match judgement {
        reference::Judgement::Accepted(construct) => {
            reference.construct = Some(construct.name);
            reference.node = Some(construct.node);
            reference.node_span = Some(construct.span);
            Verdict::GrammarGap
        }
        reference::Judgement::Rejected(diagnostic) => {
            reference.message = Some(diagnostic.message);
            reference.line = Some(diagnostic.line);
            reference.column = Some(diagnostic.column);
            Verdict::InvalidSource
        }
        reference::Judgement::Undecided(reason) => {
            reference.reason = Some(reason);
            Verdict::Unknown
        }
    };
    reference.duration_us = started.elapsed().as_micros() as u64;
    VerdictReport { verdict, reference }
}

/// 1-based line and character column of a byte offset.
pub(crate) fn line_column(text: &str, byte: usize) -> (u32, u32) {
    crate::index::lines::position(text, byte)
}
