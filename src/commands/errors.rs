//! `snag errors` and `snag summary`.

use std::process::ExitCode;

use super::stdout::print_line;
use crate::cli::{ErrorsArgs, ListFormat, SummaryArgs};
use crate::report::errors::{ErrorListBody, SummaryBody};
use crate::store::{PageRequest, Store};

pub async fn list(store: &Store, args: ErrorsArgs) -> anyhow::Result<ExitCode> {
    let page = PageRequest::new(args.limit, args.offset)?;
    let found = store
        .get_errors_by_verdict(&args.repository, args.error_type, args.verdict, page)
        .await?;
    let body = ErrorListBody::new(&args.repository, args.error_type, page, found)
        .with_verdict(args.verdict);
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
