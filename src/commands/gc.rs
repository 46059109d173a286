//! `snag gc`.

use std::process::ExitCode;

use super::stdout::print;
use crate::cli::GcArgs;
use crate::sanitize;
use crate::store::Store;
use crate::store::retention::{Removed, Retention};
use crate::words::count;

pub async fn run(store: &Store, args: GcArgs) -> anyhow::Result<ExitCode> {
    let retention = Retention {
        repository: args.repository,
        keep_runs: args.keep_runs,
        older_than: args.older_than.map(|age| chrono::Utc::now() - age),
    };
    let doomed = store.runs_to_delete(&retention).await?;
    let mut text = String::new();
    if args.dry_run {
        text.push_str(&format!(
            "would delete {}\n",
            count(doomed.len() as u64, "run")
        ));
        for run in &doomed {
            text.push_str(&format!(
                "  run {} of {}, started {}, {}\n",
                run.run_id,
                sanitize::line(&run.repository),
                run.started_at.format("%Y-%m-%d %H:%M UTC"),
                count(run.files.max(0) as u64, "file result")
            ));
        }
        print(&text)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut total = Removed::default();
    let mut left = 0u64;
    for run in &doomed {
        match store.delete_run(run.run_id).await? {
            Some(removed) => {
                total.runs += removed.runs;
                total.file_rows += removed.file_rows;
                total.error_rows += removed.error_rows;
                total.group_rows += removed.group_rows;
            }
            // It is going again, or is gone already.
            None => left += 1,
        }
    }
    text.push_str(&format!(
        "deleted {} ({}, {} and {} only they held)\n",
        count(total.runs, "run"),
        count(total.file_rows, "file result"),
        count(total.error_rows, "replaced error"),
        count(total.group_rows, "group row")
    ));
    if left > 0 {
        text.push_str(&format!(
            "left {} that started again or went while gc ran\n",
            count(left, "run")
        ));
    }
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}
