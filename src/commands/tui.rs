//! `snag` and `snag tui`.

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::cli::{TuiArgs, grammar_sources};
use crate::index::discover::Discovery;
use crate::runner::RunRequest;
use crate::store::Store;
use crate::tui::{self, TuiOptions};

pub async fn run(store: Store, theme: Option<String>, args: TuiArgs) -> anyhow::Result<ExitCode> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!("the triage UI needs a terminal; for scripts and CI use `snag index PATH`");
    }
    let start = match args.path {
        Some(path) => {
            let mut request = RunRequest::new(&path);
            if let Some(repository) = args.repository {
                request.repository = repository;
            }
            request.discovery.include_tests = args.include_tests;
            request.discovery.respect_ignore_files = !args.no_ignore;
            if !args.extensions.is_empty() {
                request.discovery.extensions = args.extensions;
            }
            // Bad paths, options and grammars are reported before the
            // screen changes.
            Discovery::new(&request.root, &request.discovery)?;
            let sources = grammar_sources(&args.grammars, &args.grammar_libs);
            request.settings.grammars = super::index::grammars_for(sources).await?;
            Some(request)
        }
        None => None,
    };
    tui::run(store, TuiOptions { theme, start }).await
}
