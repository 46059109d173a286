//! SARIF 2.1.0: one result per error site, one rule per error group, paths
//! relative to the indexed root (`SRCROOT`). Columns count characters.

use std::collections::BTreeMap;
use std::io::Write;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode, utf8_percent_encode};
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Tool, ToolComponent,
};

use super::ci::{self, CiError, CiRun};
use crate::sanitize;
use crate::store::ErrorRecord;
use crate::stored_path;

/// Characters kept as they are in a URI path: unreserved ones and `/`.
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

const ROOT_ID: &str = "SRCROOT";

/// A SARIF log written as the run's errors arrive: the results first, then
/// the tool with its rules, which are known once every result is. Only the
/// rules (one per group) are held in memory.
pub struct SarifWriter<'a, W: Write> {
    out: W,
    run: &'a CiRun<'a>,
    rules: Vec<ReportingDescriptor>,
    rule_index: BTreeMap<String, usize>,
    results: u64,
}

/// The log's opening, up to the results array.
const HEAD: &str = "{\n  \"$schema\": \"$SCHEMA\",\n  \"version\": \"2.1.0\",\n  \"runs\": [\n    {\n      \"results\": [";
/// Results sit this deep in the log.
const RESULT_INDENT: &str = "        ";
/// The run's other members sit this deep.
const MEMBER_INDENT: &str = "      ";

impl<'a, W: Write> SarifWriter<'a, W> {
    pub fn begin(mut out: W, run: &'a CiRun<'a>) -> std::io::Result<Self> {
        out.write_all(
            HEAD.replace("$SCHEMA", serde_sarif::sarif::SCHEMA_URL)
                .as_bytes(),
        )?;
        Ok(SarifWriter {
            out,
            run,
            rules: Vec::new(),
            rule_index: BTreeMap::new(),
            results: 0,
        })
    }

    /// One result per problem (or site) of the error, each under the rule
    /// of its own group.
    pub fn push(&mut self, error: &ErrorRecord) -> Result<(), CiError> {
        for site in ci::sites(error) {
            let index = match self.rule_index.get(&site.rule) {
                Some(index) => *index,
                None => {
                    self.rules.push(rule(error, &site));
                    self.rule_index
                        .insert(site.rule.clone(), self.rules.len() - 1);
                    self.rules.len() - 1
                }
            };
            let result = result(self.run, error, index, site);
            let separator = if self.results == 0 { "\n" } else { ",\n" };
            let text = serde_json::to_string_pretty(&result)?;
            write!(
                self.out,
                "{separator}{RESULT_INDENT}{}",
                indented(&text, RESULT_INDENT)
            )?;
            self.results += 1;
        }
        Ok(())
    }

    /// Closes the results and writes the tool, its rules and the run's
    /// other members.
    pub fn finish(mut self) -> Result<W, CiError> {
        let closing = if self.results == 0 { "]" } else { "\n      ]" };
        self.out.write_all(closing.as_bytes())?;
        let driver = ToolComponent::builder()
            .name("snag".to_owned())
            .version(env!("CARGO_PKG_VERSION").to_owned())
            .semantic_version(env!("CARGO_PKG_VERSION").to_owned())
            .rules(std::mem::take(&mut self.rules))
            .build();
        let summary = self.run.summary;
        let root = ArtifactLocation::builder()
            .uri(directory_uri(&summary.root))
            .build();
        let rest = Run::builder()
            .tool(Tool::builder().driver(driver).build())
            .column_kind(serde_json::json!("unicodeCodePoints"))
            .original_uri_base_ids(BTreeMap::from([(ROOT_ID.to_owned(), root)]))
            .properties(
                PropertyBag::builder()
                    .additional_properties(BTreeMap::from([
                        ("runId".to_owned(), serde_json::json!(summary.run_id)),
                        (
                            "repository".to_owned(),
                            serde_json::json!(summary.repository),
                        ),
                    ]))
                    .build(),
            )
            .build();
        if let serde_json::Value::Object(members) = serde_json::to_value(&rest)? {
            for (name, value) in members {
                let text = serde_json::to_string_pretty(&value)?;
                write!(
                    self.out,
                    ",\n{MEMBER_INDENT}{}: {}",
                    serde_json::to_string(&name)?,
                    indented(&text, MEMBER_INDENT)
                )?;
            }
        }
        self.out.write_all(b"\n    }\n  ]\n}\n")?;
        Ok(self.out)
    }
}

/// The SARIF log of a run with these errors, as one string.
pub fn render(run: &CiRun<'_>, errors: &[ErrorRecord]) -> Result<String, CiError> {
    let mut document = SarifWriter::begin(Vec::new(), run)?;
    for error in errors {
        document.push(error)?;
    }
    let bytes = document.finish()?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Pretty-printed JSON placed `indent` deep: every line after the first
/// indented.
fn indented(text: &str, indent: &str) -> String {
    text.replace('\n', &format!("\n{indent}"))
}

fn rule(error: &ErrorRecord, site: &ci::ErrorSite) -> ReportingDescriptor {
    let title = sanitize::line(&site.title).into_owned();
    let mut tags = vec![error.error_type.as_str().to_owned()];
    tags.extend(site.verdict.map(|v| v.as_str().to_owned()));
    ReportingDescriptor::builder()
        .id(site.rule.clone())
        .name(error.error_type.as_str().to_owned())
        .short_description(MultiformatMessageString::builder().text(title).build())
        .properties(
            PropertyBag::builder()
                .tags(tags)
                .additional_properties(BTreeMap::new())
                .build(),
        )
        .build()
}

fn result(
    run: &CiRun<'_>,
    error: &ErrorRecord,
    rule_index: usize,
    site: ci::ErrorSite,
) -> SarifResult {
    let artifact = ArtifactLocation::builder()
        .uri(percent_encode(&stored_path::decode(&error.file_path), PATH).to_string())
        .uri_base_id(ROOT_ID.to_owned())
        .build();
    let physical = match region(&site) {
        Some(region) => PhysicalLocation::builder()
            .artifact_location(artifact)
            .region(region)
            .build(),
        None => PhysicalLocation::builder()
            .artifact_location(artifact)
            .build(),
    };
    let message = Message::builder()
        .text(sanitize::line(&site.message).into_owned())
        .build();
    // What the reference parser said about this problem.
    let mut judged = BTreeMap::new();
    if let Some(verdict) = site.verdict {
        judged.insert("verdict".to_owned(), serde_json::json!(verdict.as_str()));
    }
    if let Some(construct) = &site.construct {
        judged.insert(
            "construct".to_owned(),
            serde_json::json!(sanitize::line(construct)),
        );
    }
    let base = SarifResult::builder()
        .rule_id(site.rule.clone())
        .rule_index(rule_index as i64)
        .level(ResultLevel::Error)
        .message(message)
        .locations(vec![
            Location::builder().physical_location(physical).build(),
        ])
        .partial_fingerprints(BTreeMap::from([(
            "snagGroup/v1".to_owned(),
            site.rule.clone(),
        )]))
        .properties(PropertyBag::builder().additional_properties(judged).build());
    match run.baseline {
        Some(verdict) => {
            let state = if verdict.is_new(error.error_id) {
                "new"
            } else {
                "unchanged"
            };
            base.baseline_state(serde_json::json!(state)).build()
        }
        None => base.build(),
    }
}

/// A region needs a start line of at least 1; columns are optional.
fn region(site: &ci::ErrorSite) -> Option<Region> {
    let line = site.line.filter(|l| *l >= 1)?;
    let column = site.column.filter(|c| *c >= 1);
    let end_line = site.end_line.filter(|l| *l >= line);
    let end_column = site.end_column.filter(|c| *c >= 1);
    Some(match (column, end_line, end_column) {
        (Some(c), Some(el), Some(ec)) => Region::builder()
            .start_line(line)
            .start_column(c)
            .end_line(el)
            .end_column(ec)
            .build(),
        (Some(c), _, _) => Region::builder().start_line(line).start_column(c).build(),
        _ => Region::builder().start_line(line).build(),
    })
}

/// `file:///abs/root/`: a base URI must end with a slash.
fn directory_uri(root: &str) -> String {
    let path = utf8_percent_encode(root.trim_end_matches('/'), PATH).to_string();
    let path = if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    };
    format!("file://{path}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(directory_uri("/srv/my repo"), "file:///srv/my%20repo/");
        assert_eq!(
            utf8_percent_encode("src/a b#?.ts", PATH).to_string(),
            "src/a%20b%23%3F.ts"
        );
    }
}
