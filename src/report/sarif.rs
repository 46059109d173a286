//! SARIF 2.1.0: one result per error site, one rule per error group, paths
//! relative to the indexed root (`SRCROOT`). Columns count characters.

use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Tool,
    ToolComponent,
};

use super::ci::{self, CiRun};
use crate::sanitize;
use crate::store::ErrorRecord;

/// Characters kept as they are in a URI path: unreserved ones and `/`.
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

const ROOT_ID: &str = "SRCROOT";

/// The SARIF log of a run, pretty-printed.
pub fn render(run: &CiRun<'_>) -> serde_json::Result<String> {
    Ok(serde_json::to_string_pretty(&log(run))? + "\n")
}

pub fn log(run: &CiRun<'_>) -> Sarif {
    let mut rules: Vec<ReportingDescriptor> = Vec::new();
    let mut rule_index: BTreeMap<String, usize> = BTreeMap::new();
    let mut results = Vec::new();
    for error in run.errors {
        let id = ci::rule_id(error);
        let index = *rule_index.entry(id.clone()).or_insert_with(|| {
            rules.push(rule(&id, error));
            rules.len() - 1
        });
        for site in ci::sites(error) {
            results.push(result(run, error, &id, index, site));
        }
    }
    let driver = ToolComponent::builder()
        .name("snag".to_owned())
        .version(env!("CARGO_PKG_VERSION").to_owned())
        .semantic_version(env!("CARGO_PKG_VERSION").to_owned())
        .rules(rules)
        .build();
    let root = ArtifactLocation::builder()
        .uri(directory_uri(&run.summary.root))
        .build();
    let sarif_run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .column_kind(serde_json::json!("unicodeCodePoints"))
        .original_uri_base_ids(BTreeMap::from([(ROOT_ID.to_owned(), root)]))
        .properties(
            PropertyBag::builder()
                .additional_properties(BTreeMap::from([
                    ("runId".to_owned(), serde_json::json!(run.summary.run_id)),
                    (
                        "repository".to_owned(),
                        serde_json::json!(run.summary.repository),
                    ),
                ]))
                .build(),
        )
        .build();
    Sarif::builder()
        .schema(serde_sarif::sarif::SCHEMA_URL.to_owned())
        .version(serde_json::json!("2.1.0"))
        .runs(vec![sarif_run])
        .build()
}

fn rule(id: &str, error: &ErrorRecord) -> ReportingDescriptor {
    let title = sanitize::line(&ci::title(error)).into_owned();
    ReportingDescriptor::builder()
        .id(id.to_owned())
        .name(error.error_type.as_str().to_owned())
        .short_description(MultiformatMessageString::builder().text(title).build())
        .properties(
            PropertyBag::builder()
                .tags(vec![error.error_type.as_str().to_owned()])
                .additional_properties(BTreeMap::new())
                .build(),
        )
        .build()
}

fn result(
    run: &CiRun<'_>,
    error: &ErrorRecord,
    rule_id: &str,
    rule_index: usize,
    site: ci::ErrorSite,
) -> SarifResult {
    let artifact = ArtifactLocation::builder()
        .uri(utf8_percent_encode(&error.file_path, PATH).to_string())
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
    let base = SarifResult::builder()
        .rule_id(rule_id.to_owned())
        .rule_index(rule_index as i64)
        .level(ResultLevel::Error)
        .message(message)
        .locations(vec![
            Location::builder().physical_location(physical).build(),
        ])
        .partial_fingerprints(BTreeMap::from([(
            "snagGroup/v1".to_owned(),
            rule_id.to_owned(),
        )]));
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
