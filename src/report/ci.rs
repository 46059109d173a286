//! What the CI formats (SARIF, JUnit, GitHub) are made from: a finished
//! run and optionally a baseline verdict; and writing one of them while the
//! run's errors are read from the store, one at a time, so that memory does
//! not grow with how many there are.

use std::io::Write;

use futures_util::{Stream, StreamExt};

use super::baseline::BaselineVerdict;
use super::{github, junit, sarif};
use crate::index::outcome::{Problem, Verdict};
use crate::index::syntax::SyntaxErrorSite;
use crate::runner::RunSummary;
use crate::store::{ErrorRecord, Store, StoreError};

pub struct CiRun<'a> {
    pub summary: &'a RunSummary,
    pub baseline: Option<&'a BaselineVerdict>,
}

impl CiRun<'_> {
    /// Whether an error gates CI: all do without a baseline.
    pub fn counts(&self, error: &ErrorRecord) -> bool {
        self.baseline.is_none_or(|b| b.is_new(error.error_id))
    }

    /// How many errors the run recorded.
    pub fn errors_total(&self) -> u64 {
        self.summary.errors_by_type.values().sum()
    }
}

/// The CI documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CiFormat {
    Sarif,
    Junit,
    /// Workflow commands; `path_prefix` makes paths relative to the checkout.
    Github {
        path_prefix: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum CiError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the document: {0}")]
    Write(#[from] std::io::Error),
    #[error("cannot serialise the document: {0}")]
    Json(#[from] serde_json::Error),
}

/// Writes the run's document in `format` to `out`, reading the run's
/// errors (and, for JUnit, its files) as it goes.
pub async fn write_document(
    store: &Store,
    run: &CiRun<'_>,
    format: &CiFormat,
    out: &mut dyn Write,
) -> Result<(), CiError> {
    let run_id = run.summary.run_id;
    let mut errors = store.run_errors_by_file(run_id);
    match format {
        CiFormat::Sarif => {
            let mut document = sarif::SarifWriter::begin(&mut *out, run)?;
            while let Some(error) = errors.next().await {
                document.push(&error?)?;
            }
            document.finish()?;
        }
        CiFormat::Junit => {
            let mut document = junit::JunitWriter::begin(&mut *out, run)?;
            let mut files = store.run_files_by_path(run_id);
            let mut by_file = ErrorsByFile::new(errors);
            while let Some(file) = files.next().await {
                let file = file?;
                let file_errors = by_file.of(&file.file_path).await?;
                document.file(&file, &file_errors)?;
            }
            document.finish()?;
        }
        CiFormat::Github { path_prefix } => {
            let mut chosen = github::FirstAnnotations::new(run);
            while let Some(error) = errors.next().await {
                chosen.offer(error?);
            }
            let text = github::annotations(run, &chosen.into_errors(), path_prefix);
            out.write_all(text.as_bytes())?;
        }
    }
    out.flush()?;
    Ok(())
}

/// A run's errors, ordered by path, handed out file by file to a walk over
/// the run's files in the same order.
struct ErrorsByFile<S> {
    stream: S,
    /// The first error of a later file, read ahead.
    pending: Option<ErrorRecord>,
}

impl<S: Stream<Item = Result<ErrorRecord, StoreError>> + Unpin> ErrorsByFile<S> {
    fn new(stream: S) -> Self {
        ErrorsByFile {
            stream,
            pending: None,
        }
    }

    /// The errors of the file at `path`; errors of earlier paths (which
    /// have no file row) are passed over.
    async fn of(&mut self, path: &str) -> Result<Vec<ErrorRecord>, StoreError> {
        let mut found = Vec::new();
        loop {
            let error = match self.pending.take() {
                Some(error) => error,
                None => match self.stream.next().await {
                    Some(error) => error?,
                    None => return Ok(found),
                },
            };
            match error.file_path.as_bytes().cmp(path.as_bytes()) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => found.push(error),
                std::cmp::Ordering::Greater => {
                    self.pending = Some(error);
                    return Ok(found);
                }
            }
        }
    }
}

/// One place an error points at, with what to say about it: a problem of
/// a syntax error, a site of tree-sitter's, or the error's own location.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorSite {
    pub line: Option<i64>,
    pub column: Option<i64>,
    pub end_line: Option<i64>,
    pub end_column: Option<i64>,
    pub message: String,
    /// The group it belongs to (a problem's own group) and its title.
    pub rule: String,
    pub title: String,
    /// The reference parser's verdict on it, for syntax errors.
    pub verdict: Option<Verdict>,
    /// The construct it is about, for syntax errors.
    pub construct: Option<String>,
}

/// Every place an error points at: each problem of a syntax error judged
/// by the reference parser ("invalid source: … in formal_parameters",
/// "grammar gap: variance annotation on a type parameter"), else each of
/// tree-sitter's sites, else the error's own location (possibly none).
pub fn sites(error: &ErrorRecord) -> Vec<ErrorSite> {
    let at = |line: u32, column: u32, end_line: u32, end_column: u32| {
        (
            Some(i64::from(line)),
            Some(i64::from(column)),
            Some(i64::from(end_line)),
            Some(i64::from(end_column)),
        )
    };
    let site = |(line, column, end_line, end_column), message: String| ErrorSite {
        line,
        column,
        end_line,
        end_column,
        message,
        rule: rule_id(error),
        title: title(error),
        verdict: error.verdict,
        construct: Some(error.details.construct.clone()).filter(|c| !c.is_empty()),
    };
    let problems: &[Problem] = &error.details.problems;
    if !problems.is_empty() {
        return problems
            .iter()
            .map(|p| ErrorSite {
                rule: p.fingerprint.clone(),
                title: p.title.clone(),
                verdict: Some(p.verdict),
                construct: Some(p.construct.clone()),
                ..site(
                    at(
                        p.span.line,
                        p.span.column,
                        p.span.end_line,
                        p.span.end_column,
                    ),
                    problem_words(p),
                )
            })
            .collect();
    }
    let syntax: &[SyntaxErrorSite] = &error.details.sites;
    if syntax.is_empty() {
        let own = (
            error.line.map(i64::from),
            error.column.map(i64::from),
            error.end_line.map(i64::from),
            error.end_column.map(i64::from),
        );
        return vec![site(own, error.error_message.clone())];
    }
    syntax
        .iter()
        .map(|s| {
            let span = s.span;
            site(
                at(span.line, span.column, span.end_line, span.end_column),
                s.describe(),
            )
        })
        .collect()
}

/// A problem in one line: its verdict, what it says and where tree-sitter
/// was ("invalid source: Expected `,` or `)` but found `{` (in
/// formal_parameters)"); a gap's message is its construct.
pub fn problem_words(problem: &Problem) -> String {
    match problem.verdict {
        Verdict::GrammarGap => format!("grammar gap: {}", problem.construct),
        Verdict::InvalidSource
            if problem
                .message
                .contains(&format!(" in {}", problem.construct)) =>
        {
            format!("invalid source: {}", problem.message)
        }
        Verdict::InvalidSource => format!(
            "invalid source: {} (in {})",
            problem.message, problem.construct
        ),
        Verdict::Unknown => format!("undecided: {}", problem.message),
    }
}

/// The group's title (stored in `details`), else the message.
pub fn title(error: &ErrorRecord) -> String {
    Some(&error.details.title)
        .filter(|t| !t.is_empty())
        .map_or_else(|| error.error_message.clone(), String::clone)
}

/// The group an error belongs to: its fingerprint, else its type.
pub fn rule_id(error: &ErrorRecord) -> String {
    error
        .fingerprint
        .clone()
        .unwrap_or_else(|| error.error_type.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(id: i64, path: &str) -> ErrorRecord {
        ErrorRecord::example(id, path)
    }

    #[tokio::test]
    async fn errors_are_handed_out_file_by_file_in_byte_order() {
        // "B" sorts before "a" in byte order; "b0.ts" has no file row.
        let stream = futures_util::stream::iter(
            [
                error(1, "B.ts"),
                error(2, "a.ts"),
                error(3, "a.ts"),
                error(4, "b0.ts"),
                error(5, "c.ts"),
            ]
            .map(Ok),
        );
        let mut by_file = ErrorsByFile::new(stream);
        let ids = |errors: Vec<ErrorRecord>| errors.iter().map(|e| e.error_id).collect::<Vec<_>>();
        assert_eq!(ids(by_file.of("B.ts").await.unwrap()), [1]);
        assert_eq!(ids(by_file.of("a.ts").await.unwrap()), [2, 3]);
        assert!(by_file.of("a0.ts").await.unwrap().is_empty());
        assert_eq!(ids(by_file.of("c.ts").await.unwrap()), [5]);
        assert!(by_file.of("d.ts").await.unwrap().is_empty());
    }
}
