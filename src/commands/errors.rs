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
    let body = SummaryBody::new(&args.repository, counts);
    match args.format {
        ListFormat::Json => print_line(&serde_json::to_string(&body)?)?,
        ListFormat::Table => print_line(&body.to_table(super::table_width()))?,
    }
    Ok(ExitCode::SUCCESS)
}
