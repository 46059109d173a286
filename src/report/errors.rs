//! The error list and summary, as JSON bodies (the original service's HTTP
//! bodies, field for field) and as tables for an 80-column terminal.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::index::outcome::{ErrorType, Verdict};
use crate::sanitize;
use crate::store::{ErrorPage, ErrorRecord, PageRequest};
use crate::words::count;

/// Body of `GET /api/v1/indexing/batch/errors/{repository}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorListBody {
    pub errors: Vec<ErrorRecord>,
    pub total: i64,
    pub repository: String,
    pub filters: ErrorFilters,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorFilters {
    /// The type asked for, as given (the API echoes an unknown or empty one,
    /// as the original service does).
    pub error_type: Option<String>,
    pub limit: i64,
    pub offset: i64,
    /// Present only when the page is filtered by verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// Present only when the page holds one run's errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<i64>,
}

impl ErrorListBody {
    pub fn new(
        repository: &str,
        error_type: Option<ErrorType>,
        page: PageRequest,
        found: ErrorPage,
    ) -> Self {
        ErrorListBody {
            errors: found.errors,
            total: found.total,
            repository: repository.to_owned(),
            filters: ErrorFilters {
                error_type: error_type.map(|t| t.as_str().to_owned()),
                limit: page.limit,
                offset: page.offset,
                verdict: None,
                run_id: None,
            },
        }
    }

    /// The body with the type filter echoed as it was asked for.
    pub fn with_error_type_as_given(mut self, error_type: Option<&str>) -> Self {
        self.filters.error_type = error_type.map(str::to_owned);
        self
    }

    /// The body of a page of one run's errors.
    pub fn with_run(mut self, run_id: Option<i64>) -> Self {
        self.filters.run_id = run_id;
        self
    }

    /// The body of a page filtered by verdict too.
    pub fn with_verdict(mut self, verdict: Option<Verdict>) -> Self {
        self.filters.verdict = verdict;
        self
    }

    /// A table of the page with a line saying which rows of how many it shows.
    pub fn to_table(&self, width: Option<u16>) -> String {
        let mut table = super::table(width, ["ID", "TYPE", "VERDICT", "FILE:LINE", "MESSAGE"]);
        for e in &self.errors {
            let location = match e.line {
                Some(line) => format!("{}:{line}", crate::stored_path::display(&e.file_path)),
                None => crate::stored_path::display(&e.file_path).into_owned(),
            };
            table.add_row([
                e.error_id.to_string(),
                e.error_type.to_string(),
                e.verdict.map(|v| v.to_string()).unwrap_or_default(),
                sanitize::line(&location).into_owned(),
                sanitize::line(&e.error_message).into_owned(),
            ]);
        }
        let first = self.filters.offset + 1;
        let last = self.filters.offset + self.errors.len() as i64;
        let mut filter = self
            .filters
            .error_type
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(|t| format!(" of type {}", sanitize::line(t)))
            .unwrap_or_default();
        if let Some(verdict) = self.filters.verdict {
            filter.push_str(&format!(" with verdict {verdict}"));
        }
        if let Some(run_id) = self.filters.run_id {
            filter.push_str(&format!(" held by run {run_id}"));
        }
        let repository = sanitize::line(&self.repository);
        let footer = if self.errors.is_empty() {
            format!("no errors{filter} in {repository} (total {})", self.total)
        } else {
            format!(
                "errors {first}-{last} of {}{filter} in {repository}",
                self.total
            )
        };
        if self.errors.is_empty() {
            footer
        } else {
            format!("{table}\n{footer}")
        }
    }
}

/// Counts by error type, the most first (ties in the types' order): a JSON
/// object whose keys come in that order, as the original service's `ORDER
/// BY count DESC` gives them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MostFirst(pub Vec<(ErrorType, i64)>);

impl MostFirst {
    pub fn new(counts: BTreeMap<ErrorType, i64>) -> Self {
        let mut counts: Vec<(ErrorType, i64)> = counts.into_iter().collect();
        // Stable: equal counts keep the types' order.
        counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        MostFirst(counts)
    }

    pub fn get(&self, error_type: ErrorType) -> Option<i64> {
        self.0
            .iter()
            .find(|(t, _)| *t == error_type)
            .map(|(_, n)| *n)
    }
}

impl Serialize for MostFirst {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (error_type, n) in &self.0 {
            map.serialize_entry(error_type, n)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for MostFirst {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::<ErrorType, i64>::deserialize(deserializer).map(MostFirst::new)
    }
}

/// Body of `GET /api/v1/indexing/batch/errors/{repository}/summary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SummaryBody {
    pub repository: String,
    /// Error type to count, the most first.
    #[schema(value_type = Object)]
    pub summary: MostFirst,
    pub total_errors: i64,
}

impl SummaryBody {
    pub fn new(repository: &str, summary: BTreeMap<ErrorType, i64>) -> Self {
        SummaryBody {
            repository: repository.to_owned(),
            total_errors: summary.values().sum(),
            summary: MostFirst::new(summary),
        }
    }

    pub fn to_table(&self, width: Option<u16>) -> String {
        let mut table = super::table(width, ["ERROR TYPE", "FILES", "SHARE"]);
        for (error_type, count) in &self.summary.0 {
            let share = 100.0 * *count as f64 / self.total_errors.max(1) as f64;
            table.add_row([
                error_type.to_string(),
                count.to_string(),
                format!("{share:.1}%"),
            ]);
        }
        let repository = sanitize::line(&self.repository);
        if self.summary.0.is_empty() {
            format!("no errors recorded for {repository}")
        } else {
            format!(
                "{table}\n{} in {repository}",
                count(self.total_errors, "error")
            )
        }
    }
}

#[cfg(test)]
mod summary_tests {
    use super::*;

    #[test]
    fn the_summary_lists_the_most_common_type_first() {
        let body = SummaryBody::new(
            "web",
            BTreeMap::from([
                (ErrorType::ParsingError, 2),
                (ErrorType::EncodingError, 7),
                (ErrorType::IoError, 2),
            ]),
        );
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(
            json,
            r#"{"repository":"web","summary":{"encoding_error":7,"parsing_error":2,"io_error":2},"total_errors":11}"#
        );
        let back: SummaryBody = serde_json::from_str(&json).unwrap();
        assert_eq!(back, body);
    }
}
