//! What is known about a failure beyond its message, as one type: built by
//! the engine, stored as `indexing_errors.details` (JSON), and read by every
//! surface, so each describes a site, a verdict or a construct in the same
//! words. Every field is optional when read back: rows written by older
//! versions, or by other tools through the original service's API, read as
//! what they hold.

use serde::{Deserialize, Serialize};

use super::outcome::Verdict;
use super::problems::Problem;
use super::syntax::SyntaxErrorSite;
use super::verdict::ReferenceReport;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorDetails {
    /// The title of the error's group: its normalised message, or for a
    /// grammar gap "grammar gap: <construct>".
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// The syntactic construct (or stage) the failure is about.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub construct: String,
    /// Syntax errors: the grammar's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Syntax errors: how many sites tree-sitter flagged; `sites` holds the
    /// first of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_sites: Option<u64>,
    /// Syntax errors: where the grammar gave up, in source order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<SyntaxErrorSite>,
    /// Syntax errors: the reference parser's verdict on the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// Syntax errors: what the reference parser said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<ReferenceReport>,
    /// Encoding and timeout errors: the byte the problem is at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byte_offset: Option<u64>,
    /// Encoding errors: the bad bytes, as `0xFF`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bytes: Vec<String>,
    /// Timeouts: the budget that ran out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_ms: Option<u64>,
    /// Syntax errors: the file's problems, in source order, each with its
    /// verdict, construct, location and group.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

impl ErrorDetails {
    /// Details read back from storage: whatever does not fit this type
    /// (a field of another shape) reads as absent rather than failing the
    /// whole list it is in.
    pub fn from_stored(value: serde_json::Value) -> Self {
        if let Ok(details) = serde_json::from_value::<ErrorDetails>(value.clone()) {
            return details;
        }
        let serde_json::Value::Object(fields) = value else {
            return ErrorDetails::default();
        };
        // Field by field: keep each one that reads.
        let mut details = serde_json::Map::new();
        for (name, field) in fields {
            let one =
                serde_json::Value::Object([(name.clone(), field.clone())].into_iter().collect());
            if serde_json::from_value::<ErrorDetails>(one).is_ok() {
                details.insert(name, field);
            }
        }
        serde_json::from_value(serde_json::Value::Object(details)).unwrap_or_default()
    }
}

impl From<sqlx::types::Json<serde_json::Value>> for ErrorDetails {
    fn from(stored: sqlx::types::Json<serde_json::Value>) -> Self {
        ErrorDetails::from_stored(stored.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_does_not_fit_reads_as_absent() {
        let details = ErrorDetails::from_stored(serde_json::json!({
            "title": "unexpected `<name>`",
            "sites": "not a list",
            "total_sites": 3,
            "something_else": true,
        }));
        assert_eq!(details.title, "unexpected `<name>`");
        assert_eq!(details.total_sites, Some(3));
        assert!(details.sites.is_empty());
        assert_eq!(
            ErrorDetails::from_stored(serde_json::json!("x")),
            ErrorDetails::default()
        );
    }

    #[test]
    fn empty_fields_are_left_out_of_the_json() {
        let details = ErrorDetails {
            byte_offset: Some(7),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&details).unwrap(),
            serde_json::json!({"byte_offset": 7})
        );
    }
}
