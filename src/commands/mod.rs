//! What each command does, between the parsed command line and the library.

mod db;
mod diff;
mod errors;
mod files;
mod gc;
mod index;
mod report;
mod repro;
mod serve;
pub mod stdout;
mod tui;

use std::process::ExitCode;

use crate::cli::{Cli, Command, TuiArgs};
use crate::store::{DatabaseTarget, Store};

/// What to say of a repository without runs (a mistyped name, usually):
/// how to index it, and the repositories with runs whose names are close.
async fn no_runs(store: &Store, repository: &str) -> anyhow::Error {
    let shown = crate::sanitize::line(repository);
    let mut said =
        format!("repository `{shown}` has no runs: index it with `snag index PATH --repo {shown}`");
    let known = store.repositories().await.unwrap_or_default();
    let close: Vec<String> = known
        .iter()
        .filter(|name| crate::words::close_to(name, repository))
        .map(|name| format!("`{}`", crate::sanitize::line(name)))
        .collect();
    if !close.is_empty() {
        said.push_str(&format!("; did you mean {}?", crate::words::either(&close)));
    }
    anyhow::anyhow!(said)
}

/// Runs one command to its end: logging, the async runtime, the command,
/// and its exit code (2, with one line on standard error, for usage,
/// configuration or database trouble). It is here rather than in `main.rs`
/// so that the async program is compiled with the library, in its parallel
/// codegen units: instantiated from the binary, its futures cost a release
/// build 20 s more on one core.
pub fn main(cli: Cli) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("SNAG_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("snag: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        // Whoever read the output has what they wanted (`| head -1`).
        Err(_) if stdout::closed() => ExitCode::SUCCESS,
        Err(e) => {
            // Every error of the library already says its cause in its
            // message, which may repeat what was typed or stored: it goes
            // through the sanitizer like any untrusted text.
            eprintln!("snag: {}", crate::sanitize::lines(&e.to_string()));
            ExitCode::from(2)
        }
    }
}

/// Runs one command. An `Err` is usage, configuration or database trouble
/// (exit code 2); thresholds and the like come back as an exit code.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let target = DatabaseTarget::from_url_or_default(
        cli.global.database_url.as_deref(),
        &crate::config::data_dir(),
    );
    let Some(command) = cli.command else {
        return tui::run(open(&target).await?, cli.theme, TuiArgs::default()).await;
    };
    match command {
        Command::Tui(args) => {
            let theme = args.theme.clone().or(cli.theme);
            tui::run(open(&target).await?, theme, args).await
        }
        Command::Index(args) => index::run(&open(&target).await?, args).await,
        Command::Files(args) => files::list(&open(&target).await?, args).await,
        Command::Errors(args) => errors::list(&open(&target).await?, args).await,
        Command::Summary(args) => errors::summary(&open(&target).await?, args).await,
        Command::Db(args) => db::run(&target, args.command).await,
        Command::Serve(args) => serve::run(&target, args).await,
        Command::Report(args) => report::run(&open(&target).await?, args).await,
        Command::Repro(args) => repro::run(&open(&target).await?, args).await,
        Command::Diff(args) => diff::run(&open(&target).await?, args).await,
        Command::Gc(args) => gc::run(&open(&target).await?, args).await,
    }
}

async fn open(target: &DatabaseTarget) -> anyhow::Result<Store> {
    Ok(Store::open(target).await?)
}

/// The width tables are laid out for: the terminal's; none when piped
/// (rows are not wrapped).
fn table_width() -> Option<u16> {
    comfy_table::Table::new().width()
}
