//! `snag errors` and `snag summary`.

use std::process::ExitCode;

use anyhow::bail;

use super::stdout::print_line;
use crate::cli::{ErrorsArgs, ListFormat, SummaryArgs};
use crate::report::errors::{ErrorListBody, SummaryBody};
use crate::sanitize;
use crate::store::{ErrorQuery, PageRequest, Store};

pub async fn list(store: &Store, args: ErrorsArgs) -> anyhow::Result<ExitCode> {
    let page = PageRequest::new(args.limit, args.offset)?;
    if let Some(run_id) = args.run_id {
        match store.get_run(run_id).await? {
            Some(run) if run.repository == args.repository => {}
            Some(run) => bail!(
                "run {run_id} belongs to repository `{}`, not `{}`",
                sanitize::line(&run.repository),
                sanitize::line(&args.repository)
            ),
            None => bail!("there is no run {run_id}"),
        }
    }
    let query = ErrorQuery {
        repository: args.repository.clone(),
        run_id: args.run_id,
        error_types: args.error_type.into_iter().collect(),
        verdict: args.verdict,
        ..Default::default()
    };
    let found = store.list_errors(&query, page.limit, page.offset).await?;
    // JSON is the API's body, empty for an unknown repository; people are
    // told that the name has no runs (a typo, mostly).
    if args.format == ListFormat::Table
        && found.total == 0
        && unknown(store, &args.repository).await?
    {
        return Err(super::no_runs(store, &args.repository).await);
    }
    let body = ErrorListBody::new(&args.repository, args.error_type, page, found)
        .with_verdict(args.verdict)
        .with_run(args.run_id);
    match args.format {
        ListFormat::Json => print_line(&serde_json::to_string(&body)?)?,
        ListFormat::Table => print_line(&body.to_table(super::table_width()))?,
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn summary(store: &Store, args: SummaryArgs) -> anyhow::Result<ExitCode> {
    let counts = store.get_error_summary(&args.repository).await?;
    if args.format == ListFormat::Table
        && counts.is_empty()
        && unknown(store, &args.repository).await?
    {
        return Err(super::no_runs(store, &args.repository).await);
    }
    let body = SummaryBody::new(&args.repository, counts);
    match args.format {
        ListFormat::Json => print_line(&serde_json::to_string(&body)?)?,
        ListFormat::Table => print_line(&body.to_table(super::table_width()))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// A repository without errors is unknown when it has no runs either.
async fn unknown(store: &Store, repository: &str) -> anyhow::Result<bool> {
    Ok(store.latest_run(repository).await?.is_none())
}
