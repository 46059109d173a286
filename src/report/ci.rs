//! What the CI formats (SARIF, JUnit, GitHub) are made from: a finished
//! run, its stored errors and files, and optionally a baseline verdict.

use std::collections::BTreeMap;

use super::baseline::BaselineVerdict;
use crate::index::syntax::SyntaxErrorSite;
use crate::runner::RunSummary;
use crate::store::ErrorRecord;
use crate::store::files::FileRecord;

pub struct CiRun<'a> {
    pub summary: &'a RunSummary,
    pub errors: &'a [ErrorRecord],
    pub files: &'a [FileRecord],
    pub baseline: Option<&'a BaselineVerdict>,
}

impl CiRun<'_> {
    /// Whether an error gates CI: all do without a baseline.
    pub fn counts(&self, error: &ErrorRecord) -> bool {
        self.baseline.is_none_or(|b| b.is_new(error.error_id))
    }

    /// The run's errors by file path.
    pub fn errors_by_file(&self) -> BTreeMap<&str, Vec<&ErrorRecord>> {
        let mut by_file: BTreeMap<&str, Vec<&ErrorRecord>> = BTreeMap::new();
        for e in self.errors {
            by_file.entry(&e.file_path).or_default().push(e);
        }
        by_file
    }
}

/// One place an error points at, with what to say about it.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorSite {
    pub line: Option<i64>,
    pub column: Option<i64>,
    pub end_line: Option<i64>,
    pub end_column: Option<i64>,
    pub message: String,
}

/// Every site of an error: each syntax error site of a parsing error, or
/// the error's own location (possibly none) for the others.
pub fn sites(error: &ErrorRecord) -> Vec<ErrorSite> {
    let syntax: Vec<SyntaxErrorSite> = error
        .details
        .get("sites")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .unwrap_or_default();
    if syntax.is_empty() {
        return vec![ErrorSite {
            line: error.line.map(i64::from),
            column: error.column.map(i64::from),
            end_line: error.end_line.map(i64::from),
            end_column: error.end_column.map(i64::from),
            message: error.error_message.clone(),
        }];
    }
    syntax
        .iter()
        .map(|site| ErrorSite {
            line: Some(i64::from(site.span.line)),
            column: Some(i64::from(site.span.column)),
            end_line: Some(i64::from(site.span.end_line)),
            end_column: Some(i64::from(site.span.end_column)),
            message: site.describe(),
        })
        .collect()
}

/// The group's title (stored in `details`), else the message.
pub fn title(error: &ErrorRecord) -> String {
    error
        .details
        .get("title")
        .and_then(|t| t.as_str())
        .map_or_else(|| error.error_message.clone(), str::to_owned)
}

/// The group an error belongs to: its fingerprint, else its type.
pub fn rule_id(error: &ErrorRecord) -> String {
    error
        .fingerprint
        .clone()
        .unwrap_or_else(|| error.error_type.as_str().to_owned())
}
