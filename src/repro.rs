//! A grammar-gap group's example cut down to the snippet a maintainer
//! pastes into a grammar bug report: found in the store, read from the
//! run's tree, reduced by the verdict's oracle. `snag repro` prints it; the
//! triage UI shows it.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};

use crate::index::component;
use crate::index::decode::{Source, read_source};
use crate::index::grammar::{Grammar, GrammarInfo, Grammars};
use crate::index::language::FileKind;
use crate::index::outcome::ErrorType;
use crate::index::syntax::tree_around_first_error;
use crate::index::verdict::repro::{Reproduction, minimize};
use crate::sanitize;
use crate::store::Store;
use crate::store::groups::GroupRecord;

/// The longest tree shown around an error, in characters.
const TREE_CHARS: usize = 3000;

/// A group's example, reduced.
#[derive(Debug, Clone)]
pub struct Reduced {
    /// The example file, absolute, as it can be shown.
    pub shown_path: String,
    pub run_id: i64,
    /// The grammar that fails on the example, as its run used it.
    pub grammar: GrammarInfo,
    /// The example's extension (`ts`, `tsx`, ...), for code fences.
    pub extension: String,
    /// tree-sitter's tree of the reduced text around its first error, as
    /// an indented S-expression.
    pub tree: String,
    pub reproduction: Reproduction,
}

/// Reduces the stored example of a syntax-error group within `budget`.
pub async fn reduce_group(
    store: &Store,
    group: &GroupRecord,
    budget: Duration,
) -> anyhow::Result<Reduced> {
    if group.error_type != ErrorType::ParsingError {
        bail!(
            "group {} is a {} group: only syntax errors can be reproduced",
            group.group_id,
            group.error_type
        );
    }
    let example = store.group_example(group).await?.ok_or_else(|| {
        anyhow!(
            "group {} has no stored example any more: index {} again",
            group.group_id,
            sanitize::line(&group.repository)
        )
    })?;
    let path = crate::stored_path::to_path(Path::new(&example.root), &example.file_path);
    let shown = sanitize::line(&path.display().to_string()).into_owned();
    let kind =
        FileKind::for_path(&path).ok_or_else(|| anyhow!("{shown} is not a file snag parses"))?;
    let text = match read_source(&path, u64::MAX).1 {
        Source::Text(text) => text,
        Source::Skipped(reason) => bail!("{shown} cannot be read as source: {}", reason.as_str()),
        Source::Failed(error) => bail!("{shown}: {}", sanitize::line(&error.message)),
    };
    // A component is reduced as the engine parsed it: its script blocks,
    // in place, read as a script file.
    let (language, text, rel_path) = match kind {
        FileKind::Script(language) => (language, text, example.file_path.clone()),
        FileKind::Component => {
            let scripts = component::ScriptFinder::default()
                .scripts(&text, budget)
                .map_err(|_| {
                    anyhow!("{shown}: finding its script blocks took longer than {budget:?}")
                })?
                .ok_or_else(|| anyhow!("{shown} has no <script> block snag parses any more"))?;
            let name = component::script_name(&example.file_path, scripts.language);
            (scripts.language, scripts.text, name)
        }
    };
    let grammars = run_grammars(store, example.run_id).await?;
    let grammar = grammars.get(language);
    let (reproduction, tree) = tokio::task::spawn_blocking(move || {
        let reproduction = minimize(&text, &rel_path, grammar, budget)?;
        let tree = tree_of(&reproduction.text, grammar);
        Ok::<_, crate::index::verdict::repro::ReproError>((reproduction, tree))
    })
    .await
    .context("the reduction stopped unexpectedly")?
    .map_err(|e| anyhow!("{shown}: {e}"))?;
    Ok(Reduced {
        shown_path: shown,
        run_id: example.run_id,
        grammar: grammar.info.clone(),
        extension: match kind {
            FileKind::Script(_) => path
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default(),
            FileKind::Component => language.extension().to_owned(),
        },
        tree,
        reproduction,
    })
}

/// tree-sitter's tree of `text` around its first error.
fn tree_of(text: &str, grammar: &Grammar) -> String {
    let mut parser = tree_sitter::Parser::new();
    match parser
        .set_language(&grammar.language)
        .ok()
        .and_then(|()| parser.parse(text, None))
    {
        Some(tree) => tree_around_first_error(&tree, TREE_CHARS),
        None => String::new(),
    }
}

/// The grammars run `run_id` parsed with, loaded again (built again from
/// their sources when they left the cache).
pub async fn run_grammars(store: &Store, run_id: i64) -> anyhow::Result<&'static Grammars> {
    let run = store
        .get_run(run_id)
        .await?
        .ok_or_else(|| anyhow!("run {run_id} is gone"))?;
    crate::runner::recorded_grammars(run.grammar_versions)
        .await
        .map_err(|e| anyhow!("the grammars of run {run_id}: {e}"))
}
