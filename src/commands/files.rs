//! `snag files`.

use std::process::ExitCode;

use anyhow::bail;

use super::stdout::print_line;
use crate::cli::{FilesArgs, ListFormat};
use crate::report::run::{FileFilters, FileListBody};
use crate::sanitize;
use crate::store::Store;

pub async fn list(store: &Store, args: FilesArgs) -> anyhow::Result<ExitCode> {
    let run_id = match args.run_id {
        Some(id) => match store.get_run(id).await? {
            Some(run) if run.repository == args.repository => id,
            Some(run) => bail!(
                "run {id} belongs to repository `{}`, not `{}`",
                sanitize::line(&run.repository),
                sanitize::line(&args.repository)
            ),
            None => bail!("there is no run {id}"),
        },
        None => match store.latest_run(&args.repository).await? {
            Some(run) => run.run_id,
            None => return Err(super::no_runs(store, &args.repository).await),
        },
    };
    let files = store.list_files(run_id, args.outcome).await?;
    let body = FileListBody {
        total: files.len() as i64,
        files,
        repository: args.repository,
        run_id,
        filters: FileFilters {
            outcome: args.outcome,
            limit: None,
            offset: 0,
        },
    };
    match args.format {
        ListFormat::Json => print_line(&serde_json::to_string(&body)?)?,
        ListFormat::Table => print_line(&body.to_table(super::table_width()))?,
    }
    Ok(ExitCode::SUCCESS)
}
