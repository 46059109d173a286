//! `snag diff`.

use std::process::ExitCode;

use crate::cli::{DiffArgs, DiffFormat};
use crate::report::diff;
use crate::store::Store;

pub async fn run(store: &Store, args: DiffArgs) -> anyhow::Result<ExitCode> {
    let (from, to) =
        match diff::resolve(store, args.repository.as_deref(), args.from, args.to).await {
            Err(crate::report::analysis::ReportError::NoRuns(name)) => {
                return Err(super::no_runs(store, &name).await);
            }
            other => other?,
        };
    let changes = diff::load(store, &from, &to).await?;
    let document = match args.format {
        DiffFormat::Text => changes.to_text(),
        DiffFormat::Json => serde_json::to_string_pretty(&changes)? + "\n",
        DiffFormat::Markdown => changes.to_markdown(),
    };
    super::stdout::print(&document)?;
    if args.fail_on_new && changes.new_failures() > 0 {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
