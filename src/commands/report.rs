//! `snag report`.

use std::process::ExitCode;

use crate::cli::{ReportArgs, ReportFormat};
use crate::report::analysis;
use crate::store::Store;

pub async fn run(store: &Store, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let report = match analysis::load(store, &args.repository, args.run_id, chrono::Utc::now())
        .await
    {
        Err(analysis::ReportError::NoRuns(name)) => return Err(super::no_runs(store, &name).await),
        other => other?,
    };
    let document = match args.format {
        ReportFormat::Markdown => crate::report::markdown::render(&report),
        ReportFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
    };
    match &args.output {
        Some(path) => std::fs::write(path, &document)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
        None => super::stdout::print(&document)?,
    }
    Ok(ExitCode::SUCCESS)
}
