//! A second opinion on every syntax error: the same text parsed by an
//! independent, strict parser tells a grammar gap (valid code tree-sitter
//! cannot parse) from broken source, site by site (see [`sites`]). For
//! gaps, the construct behind each site is named so groups read as causes.

pub mod construct;
pub mod reference;
pub mod repro;
pub mod sites;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::outcome::Verdict;
pub use construct::NamedConstruct;
pub use reference::{REFERENCE_PARSER, SourceKind};
pub use sites::{
    Mistake, SiteJudgement, SitesRequest, SitesVerdict, judge_sites, judge_sites_in, statements,
};

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
    /// The file's verdict from its problems: invalid source if any is a
    /// mistake, a grammar gap if all are gaps, unknown otherwise; the
    /// reference part from the first mistake, else the first problem.
    pub fn of_problems(
        verdict: &SitesVerdict,
        problems: &[crate::index::problems::Problem],
        took: Duration,
    ) -> VerdictReport {
        let mut reference = ReferenceReport {
            parser: REFERENCE_PARSER.to_owned(),
            duration_us: took.as_micros() as u64,
            ..Default::default()
        };
        let file_verdict = if let Some(mistake) = verdict.mistakes.first() {
            // Where the reference parser complained, even when the mistake
            // was located at one of tree-sitter's sites.
            let (line, column) = mistake
                .located_by_site
                .map_or((mistake.line, mistake.column), |(_, line, column)| {
                    (line, column)
                });
            reference.message = Some(mistake.message.clone());
            reference.line = Some(line);
            reference.column = Some(column);
            Verdict::InvalidSource
        } else if !problems.is_empty() && problems.iter().all(|p| p.verdict == Verdict::GrammarGap)
        {
            let first = &problems[0];
            reference.construct = Some(first.construct.clone());
            reference.node_span = Some(first.span);
            reference.node = verdict.sites.iter().find_map(|site| match site {
                SiteJudgement::Valid(named) if named.name == first.construct => {
                    Some(named.node.clone())
                }
                _ => None,
            });
            Verdict::GrammarGap
        } else {
            reference.reason = Some(
                verdict
                    .sites
                    .iter()
                    .find_map(|s| match s {
                        SiteJudgement::Undecided(reason) => Some(reason.clone()),
                        _ => None,
                    })
                    .unwrap_or_else(|| "no site was judged".to_owned()),
            );
            Verdict::Unknown
        };
        VerdictReport {
            verdict: file_verdict,
            reference,
        }
    }

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

/// 1-based line and character column of a byte offset.
pub(crate) fn line_column(text: &str, byte: usize) -> (u32, u32) {
    crate::index::lines::position(text, byte)
}
